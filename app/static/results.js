/* Results pages: apply filters without reloading the whole page.
 *
 * Progressive enhancement only. Without JavaScript the filter form is a plain GET form and
 * every filter works. With it, changing a filter fetches the same URL with ?partial=1 and
 * swaps only the results panels; the address bar follows, so links and Back still work.
 * Changing the round reloads the page (its header changes too).
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-results-filters]");
  if (!form || !window.fetch || !window.URLSearchParams || !window.history.pushState) {
    return;
  }
  var panels = document.getElementById(form.getAttribute("data-panels"));
  var status = document.getElementById("results-status");
  if (!panels) {
    return;
  }
  var base = form.getAttribute("action");
  var pending = null;

  function query() {
    var params = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value && !field.disabled && !field.hasAttribute("data-full-reload")) {
        params.append(field.name, field.value);
      }
    });
    return params;
  }

  function roundChanged() {
    var select = form.querySelector("[data-full-reload]");
    return select && select.value !== select.getAttribute("data-current");
  }

  function announce(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function load(params, push) {
    var address = base + (params.toString() ? "?" + params.toString() : "");
    var partial = new URLSearchParams(params);
    partial.set("partial", "1");
    if (pending) {
      pending.abort();
    }
    pending = window.AbortController ? new AbortController() : null;
    panels.setAttribute("aria-busy", "true");
    fetch(base + "?" + partial.toString(), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
      signal: pending ? pending.signal : undefined
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.text();
    }).then(function (html) {
      panels.innerHTML = html;
      panels.removeAttribute("aria-busy");
      if (push) {
        window.history.pushState({ results: params.toString() }, "", address);
      }
      announce(form.getAttribute("data-updated") || "");
    }).catch(function (error) {
      if (error && error.name === "AbortError") {
        return;
      }
      window.location.assign(address);  // the page works without us: just go there
    });
  }

  function syncForm(params) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && !field.hasAttribute("data-full-reload")) {
        field.value = params.get(field.name) || "";
      }
    });
  }

  form.addEventListener("submit", function (event) {
    if (roundChanged()) {
      return;  // another round: a normal navigation
    }
    event.preventDefault();
    load(query(), true);
  });

  form.addEventListener("change", function (event) {
    if (event.target.hasAttribute("data-full-reload")) {
      form.submit();
      return;
    }
    load(query(), true);
  });

  window.addEventListener("popstate", function () {
    var params = new URLSearchParams(window.location.search);
    syncForm(params);
    load(params, false);
  });
}());
