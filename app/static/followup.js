/* Quick action entry during a workshop: add an action without reloading the page.
 *
 * Progressive enhancement only. Without JavaScript the form is a plain POST and the page
 * reloads with the new action. With it, the same POST (with the form's CSRF token) is sent
 * by fetch asking for JSON; the server answers with the rendered row, which is inserted, and
 * the text field is cleared and focused again so the facilitator keeps typing.
 * Ctrl+Enter (or Cmd+Enter) in the text adds the action.
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-followup-quick]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var list = document.getElementById("fu-actions");
  var empty = document.getElementById("fu-empty");
  var status = document.getElementById("fu-quick-status");
  var text = form.querySelector("textarea[name=description]");
  var busy = false;

  function say(message, isError) {
    status.textContent = message;
    status.className = "fu-form-status" + (isError ? " fu-error" : "");
  }

  function send() {
    if (busy) {
      return;
    }
    busy = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": form.elements.csrf_token.value}
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (result) {
      if (result.ok && result.data.ok) {
        list.insertAdjacentHTML("beforeend", result.data.row);
        if (empty) {
          empty.hidden = true;
        }
        text.value = "";
        say(result.data.message, false);
        text.focus();
      } else {
        say((result.data.errors || []).join(" "), true);
      }
    }).catch(function () {
      form.submit();  // the plain form still works
    }).then(function () {
      busy = false;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send();
    }
  });
}());
