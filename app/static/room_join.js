/* Mitra Sehat live room, participant's phone: ask every few seconds whether the facilitator
   opened or closed a question, and show it. One small GET; the server answers 304 while
   nothing changed. The page works without this script (a link reloads it by hand). */
(function () {
  "use strict";
  var root = document.getElementById("room-phone");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-state-url");
  var version = root.getAttribute("data-version");
  var seconds = Math.max(1, parseInt(root.getAttribute("data-poll-seconds"), 10) || 2);
  var note = document.getElementById("note");
  var typed = note ? note.value : null;

  function busy() {
    /* Never throw away a note being written: offer the new question instead. */
    return note && note.value.trim() !== "" && note.value !== typed;
  }

  function tick() {
    if (document.hidden) { return schedule(); }
    fetch(url, { headers: { "If-None-Match": '"' + version + '"' }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304) { return null; }
        if (response.status === 404) { window.location.reload(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.version !== version) {
          if (busy()) {
            document.getElementById("room-news").hidden = false;
          } else {
            window.location.reload();
            return;
          }
        }
        schedule();
      })
      .catch(schedule);
  }

  function schedule() { window.setTimeout(tick, seconds * 1000); }
  schedule();
}());
