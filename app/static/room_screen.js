/* Mitra Sehat live room: keep a projector view (or a slide) up to date, and the facilitator's
   answer counts.

   Interface, for any page that shows a live room:

     <div data-room-screen="URL of .../screen.json" data-poll-seconds="2">
       {% include "room/_screen_panel.html" %}   (with room = screen_context(session, room_id))
     </div>
     <script src="/static/room_screen.js" defer></script>

   Every element with data-room-screen is mounted when the page loads. To mount one later
   (a slide shown after load), call window.MitraRoomScreen.mount(element, {url, seconds}); it
   returns {stop: function}, which ends the polling (call it when the slide is left).

   Each poll is one GET with If-None-Match; the server answers 304 while nothing visible
   changed, otherwise {version, html} and the element's content is replaced with that HTML
   (rendered on the server by the same partial, so the page and the poll never disagree).
   No request is held open; hidden tabs do not poll. */
(function () {
  "use strict";

  function mount(element, options) {
    var url = (options && options.url) || element.getAttribute("data-room-screen");
    var seconds = Math.max(1, (options && options.seconds) ||
      parseInt(element.getAttribute("data-poll-seconds"), 10) || 2);
    var first = element.querySelector("[data-version]");
    var version = first ? first.getAttribute("data-version") : "";
    var timer = null;
    var stopped = false;

    function tick() {
      if (stopped) { return; }
      if (document.hidden) { return schedule(); }
      var headers = {};
      if (version) { headers["If-None-Match"] = '"' + version + '"'; }
      fetch(url, { headers: headers, credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 200) { return response.json(); }
          return null;
        })
        .then(function (data) {
          if (data && typeof data.html === "string" && !stopped) {
            element.innerHTML = data.html;
            version = data.version;
          }
          schedule();
        })
        .catch(schedule);
    }

    function schedule() {
      if (!stopped) { timer = window.setTimeout(tick, seconds * 1000); }
    }

    schedule();
    return { stop: function () { stopped = true; if (timer) { window.clearTimeout(timer); } } };
  }

  function mountCounts(list) {
    /* The facilitator's page: answers so far per question (counts only, never values). */
    var url = list.getAttribute("data-counts-url");
    var seconds = Math.max(1, parseInt(list.getAttribute("data-poll-seconds"), 10) || 2);
    function tick() {
      if (document.hidden) { return window.setTimeout(tick, seconds * 1000); }
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && data.counts) {
            Object.keys(data.counts).forEach(function (id) {
              var cell = list.querySelector('[data-count-for="' + id + '"]');
              if (cell) { cell.textContent = String(data.counts[id]); }
            });
          }
          window.setTimeout(tick, seconds * 1000);
        })
        .catch(function () { window.setTimeout(tick, seconds * 1000); });
    }
    window.setTimeout(tick, seconds * 1000);
  }

  window.MitraRoomScreen = { mount: mount };
  function start() {
    if (!window.fetch) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-room-screen]"), function (el) {
      mount(el);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-counts-url]"), mountCounts);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
