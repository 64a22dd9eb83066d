/* Presentation mode: one slide at a time, revealed step by step.

   Progressive enhancement only: without JavaScript every slide and every step is shown, in
   order, as one readable page. With it, one slide fills the screen; → ↓ Space Page Down or a
   swipe to the left go on (the next step first, then the next slide), ← ↑ Page Up or a swipe
   to the right go back, Home/End jump, O opens the list of slides, F asks for full screen.
   The address follows the slide (#slide-7), so a reload or a shared link keeps the place.
   A card of open answers can be hidden from the screen for this session: the list of hidden
   cards lives in sessionStorage and never leaves the browser. */
(function () {
  "use strict";

  var deck = document.querySelector("[data-deck]");
  if (!deck) {
    return;
  }
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  var slides = Array.prototype.slice.call(deck.querySelectorAll(".slide"));
  var position = document.querySelector("[data-deck-position]");
  var overview = document.getElementById("overview");
  var overviewButton = document.querySelector("[data-deck-overview]");
  var index = 0;
  var step = 0;

  function steps(slide) {
    return parseInt(slide.getAttribute("data-steps"), 10) || 0;
  }

  function each(nodes, fn) {
    Array.prototype.forEach.call(nodes, fn);
  }

  function render(focus) {
    slides.forEach(function (slide, i) {
      var current = i === index;
      slide.classList.toggle("is-current", current);
      slide.setAttribute("aria-hidden", current ? "false" : "true");
      if (current) {
        slide.setAttribute("data-step-now", String(step));
      }
    });
    var slide = slides[index];
    each(slide.querySelectorAll("[data-step]"), function (node) {
      node.classList.toggle("step-hidden", step < (parseInt(node.getAttribute("data-step"), 10) || 0));
    });
    each(slide.querySelectorAll("[data-until]"), function (node) {
      node.classList.toggle("step-hidden", step >= (parseInt(node.getAttribute("data-until"), 10) || 0));
    });
    if (position) {
      var title = slide.getAttribute("data-title") || "";
      position.textContent = (index + 1) + " / " + slides.length + (title ? " · " + title : "");
    }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#" + slide.id);
    }
    if (focus) {
      slide.setAttribute("tabindex", "-1");
      slide.focus({ preventScroll: true });
    }
  }

  function go(i, s, focus) {
    index = Math.max(0, Math.min(slides.length - 1, i));
    step = Math.max(0, Math.min(steps(slides[index]), s || 0));
    render(focus);
  }

  function next() {
    if (step < steps(slides[index])) {
      step += 1;
      render(false);
    } else if (index < slides.length - 1) {
      go(index + 1, 0, false);
    }
  }

  function previous() {
    if (step > 0) {
      step -= 1;
      render(false);
    } else if (index > 0) {
      go(index - 1, steps(slides[index - 1]), false);
    }
  }

  function fromHash() {
    var found = /^#slide-(\d+)$/.exec(window.location.hash || "");
    return found ? parseInt(found[1], 10) - 1 : 0;
  }

  function setOverview(open) {
    if (!overview) {
      return;
    }
    overview.classList.toggle("is-open", open);
    if (overviewButton) {
      overviewButton.setAttribute("aria-expanded", open ? "true" : "false");
    }
    if (open) {
      var current = overview.querySelectorAll("a")[index];
      if (current) {
        current.focus();
      }
    } else if (overviewButton) {
      overviewButton.focus();
    }
  }

  function fullscreen() {
    if (document.fullscreenElement) {
      document.exitFullscreen();
    } else if (root.requestFullscreen) {
      root.requestFullscreen().catch(function () {});
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var tag = (event.target && event.target.tagName) || "";
    var onControl = tag === "BUTTON" || tag === "A" || tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA";
    var open = overview && overview.classList.contains("is-open");
    if (event.key === "Escape" && open) {
      setOverview(false);
      event.preventDefault();
      return;
    }
    if (open) {
      return;  // the list of slides is a list of links: Tab and Enter work there
    }
    switch (event.key) {
    case "ArrowRight": case "ArrowDown": case "PageDown":
      next(); break;
    case " ": case "Spacebar":
      if (onControl) { return; }
      next(); break;
    case "ArrowLeft": case "ArrowUp": case "PageUp":
      previous(); break;
    case "Backspace":
      if (onControl && tag !== "BUTTON" && tag !== "A") { return; }
      previous(); break;
    case "Home":
      go(0, 0, false); break;
    case "End":
      go(slides.length - 1, 0, false); break;
    case "o": case "O":
      setOverview(true); break;
    case "f": case "F":
      fullscreen(); break;
    default:
      return;
    }
    event.preventDefault();
  });

  var touch = null;
  deck.addEventListener("touchstart", function (event) {
    if (event.touches.length === 1) {
      touch = { x: event.touches[0].clientX, y: event.touches[0].clientY };
    }
  }, { passive: true });
  deck.addEventListener("touchend", function (event) {
    if (!touch || !event.changedTouches.length) {
      return;
    }
    var dx = event.changedTouches[0].clientX - touch.x;
    var dy = event.changedTouches[0].clientY - touch.y;
    touch = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) {
      if (dx < 0) { next(); } else { previous(); }
    }
  }, { passive: true });

  function wire(selector, fn) {
    var button = document.querySelector(selector);
    if (button) {
      button.hidden = false;
      button.addEventListener("click", fn);
    }
  }
  wire("[data-deck-next]", next);
  wire("[data-deck-prev]", previous);
  wire("[data-deck-overview]", function () {
    setOverview(!(overview && overview.classList.contains("is-open")));
  });
  if (root.requestFullscreen) {
    wire("[data-deck-fullscreen]", fullscreen);
  }
  if (overview) {
    each(overview.querySelectorAll("a"), function (link, i) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        overview.classList.remove("is-open");
        if (overviewButton) { overviewButton.setAttribute("aria-expanded", "false"); }
        go(i, 0, true);
      });
    });
  }
  window.addEventListener("hashchange", function () {
    var i = fromHash();
    if (i !== index) {
      go(i, 0, false);
    }
  });

  // Cards hidden from the screen for this browser session only.
  var key = deck.getAttribute("data-storage-key") || "mitra-present";
  var hidden = [];
  try {
    hidden = JSON.parse(window.sessionStorage.getItem(key) || "[]") || [];
  } catch (error) {
    hidden = [];
  }
  function save() {
    try {
      window.sessionStorage.setItem(key, JSON.stringify(hidden));
    } catch (error) { /* private mode: hiding still works until the page is left */ }
  }
  each(deck.querySelectorAll("[data-card]"), function (card) {
    var id = card.getAttribute("data-card");
    var button = card.querySelector("[data-card-hide]");
    if (hidden.indexOf(id) >= 0) {
      card.classList.add("is-hidden");
    }
    if (!button) {
      return;
    }
    button.hidden = false;
    button.setAttribute("aria-label", deck.getAttribute("data-label-hide") || "Hide");
    button.addEventListener("click", function () {
      if (hidden.indexOf(id) < 0) {
        hidden.push(id);
        save();
      }
      card.classList.add("is-hidden");
      if (position) {
        position.textContent = deck.getAttribute("data-label-shown") || "";
      }
    });
  });

  go(fromHash(), 0, false);
}());
