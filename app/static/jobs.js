/* Job progress: ask the server once a second and reload the page when the job has finished.
   Without JavaScript the job page refreshes itself (a <noscript> meta refresh). */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box || box.getAttribute("data-job-finished") === "yes") { return; }
  var url = box.getAttribute("data-job-status");
  var bar = box.querySelector("[data-job-progress]");
  var text = box.querySelector("[data-job-text]");
  var template = box.getAttribute("data-job-running") || "";
  function tick() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status && status.finished) { window.location.reload(); return; }
        if (status && bar) { bar.value = status.progress; bar.textContent = status.progress + "%"; }
        if (status && text && status.state === "running" && template.indexOf("{p}") >= 0) {
          text.textContent = template.replace("{p}", String(status.progress));
        }
        window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 1000);
})();
