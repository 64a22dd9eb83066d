"""The header's language switch keeps the answers typed on a questionnaire page (issue 11).

The test client has no browser, so :class:`Browser` below does what a browser without
JavaScript does with a page: it reads every form control, follows HTML's ``form`` attribute to
find which form a control belongs to, lets the test tick options and pick a language, and on a
button's click posts exactly the controls of that button's form. Before the fix the switch was
a form of its own that posted only the language, and the ticked answers were lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.models import Draft
from tests.app.respond_helpers import (
    QUESTIONNAIRE,
    Reader,
    arrange,
    enter_code,
    page_answers,
)


@dataclass
class Control:
    tag: str
    attrs: dict[str, str]
    form: str | None  # id of the form owning the control
    text: str = ""
    options: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.attrs.get("name", "")


class Browser(HTMLParser):
    """The forms of one HTML page, as a browser without JavaScript would submit them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self.controls: list[Control] = []
        self._open_form: str | None = None
        self._select: Control | None = None
        self._textarea: Control | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {key: value or "" for key, value in attrs_list}
        if tag == "form":
            form_id = attrs.get("id") or f"form-{len(self.forms)}"
            self.forms[form_id] = attrs
            self._open_form = form_id
        elif tag in {"input", "button", "select", "textarea"}:
            control = Control(tag, attrs, attrs.get("form") or self._open_form)
            self.controls.append(control)
            if tag == "select":
                self._select = control
            if tag == "textarea":
                self._textarea = control
        elif tag == "option" and self._select is not None:
            self._select.options.append((attrs.get("value", ""), "selected" in attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open_form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.text += data

    # ------------------------------------------------------------------ what a person does

    def tick(self, name: str, value: str) -> None:
        radios = [c for c in self.controls if c.name == name and c.attrs.get("type") == "radio"]
        assert radios, f"no option {name!r} on the page"
        for radio in radios:
            radio.attrs.pop("checked", None)
            if radio.attrs.get("value") == value:
                radio.attrs["checked"] = ""

    def pick(self, select_id: str, value: str) -> None:
        select = next(c for c in self.controls if c.attrs.get("id") == select_id)
        select.options = [(v, v == value) for v, _ in select.options]

    def click(self, client: FlaskClient, button: Control):
        """Submit the button's form with the button's own name and value, as browsers do."""
        form = self.forms[button.form or ""]
        data: list[tuple[str, str]] = []
        for control in self.controls:
            if control.form != button.form or not control.name or "disabled" in control.attrs:
                continue
            kind = control.attrs.get("type", "submit" if control.tag == "button" else "text")
            if control.tag == "button" or kind == "submit":
                if control is button:
                    data.append((control.name, control.attrs.get("value", "")))
            elif kind in {"radio", "checkbox"}:
                if "checked" in control.attrs:
                    data.append((control.name, control.attrs.get("value", "on")))
            elif control.tag == "select":
                chosen = [v for v, selected in control.options if selected] or \
                    [control.options[0][0]]
                data.append((control.name, chosen[0]))
            elif control.tag == "textarea":
                data.append((control.name, control.text))
            else:
                data.append((control.name, control.attrs.get("value", "")))
        return client.post(form.get("action", ""), data=MultiDict(data))

    def language_button(self) -> Control:
        """The submit button that belongs to the same form as the language choice."""
        select = next(c for c in self.controls if c.attrs.get("id") == "lang-select")
        buttons = [c for c in self.controls
                   if c.tag == "button" and c.form == select.form
                   and "visually-hidden" not in c.attrs.get("class", "")
                   and c.attrs.get("tabindex") != "-1"
                   and c.attrs.get("value") in {"language", None, ""}]
        assert buttons, "the language choice has no button"
        return buttons[0]


def _started(app):
    fieldwork = arrange(app)
    client = app.test_client()
    assert enter_code(client, fieldwork.codes[0]).status_code == 303
    assert client.post("/r/language", data={"language": "id"}).status_code == 303
    return fieldwork, client


def test_switching_language_keeps_the_unsaved_answers_of_the_page(app):
    _fieldwork, client = _started(app)
    page = client.get("/r/page/1")
    assert page.status_code == 200
    assert 'lang="id"' in page.get_data(as_text=True)
    browser = Browser(page.get_data(as_text=True))
    first_items = QUESTIONNAIRE.dimensions[0].items
    half = {f"q_{item.id}": "2" for item in first_items[: len(first_items) // 2]}
    for name, value in half.items():
        browser.tick(name, value)
    browser.pick("lang-select", "en")

    switched = browser.click(client, browser.language_button())
    assert switched.status_code in {302, 303}  # half a page is saved, not refused

    again = client.get("/r/page/1").get_data(as_text=True)
    assert 'lang="en"' in again
    assert first_items[0].text["en"] in again
    reread = Browser(again)
    for name, value in half.items():
        checked = [c.attrs.get("value") for c in reread.controls
                   if c.name == name and "checked" in c.attrs]
        assert checked == [value], name
    unanswered = f"q_{first_items[-1].id}"
    assert not [c for c in reread.controls if c.name == unanswered and "checked" in c.attrs]
    assert "error-summary" not in again
    drafts = Reader(app).scalars(select(Draft))
    assert [(d.language, d.page) for d in drafts] == [("en", 1)]


def test_switching_back_keeps_earlier_answers_and_returns_to_review(app):
    fieldwork, client = _started(app)
    answers = page_answers(fieldwork, 2, value=3)
    response = client.post("/r/page/2", data={**answers, "action": "language", "lang": "en",
                                              "review": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/r/page/2?review=1")
    browser = Browser(client.get("/r/page/2?review=1").get_data(as_text=True))
    browser.pick("lang-select", "id")
    response = browser.click(client, browser.language_button())
    assert response.headers["Location"].endswith("/r/page/2?review=1")
    page = client.get("/r/page/2?review=1").get_data(as_text=True)
    assert 'lang="id"' in page
    for name, value in answers.items():
        assert f'name="{name}" value="{value}" checked' in page, name


def test_a_value_that_cannot_be_stored_keeps_the_page_with_its_error_in_the_new_language(app):
    _fieldwork, client = _started(app)
    last = len(QUESTIONNAIRE.dimensions) + 1
    text_field = f"t_{QUESTIONNAIRE.open_questions[0].id}"
    response = client.post(f"/r/page/{last}", data={
        "action": "language", "lang": "en", text_field: "x" * 5000})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'lang="en"' in html
    assert "error-summary" in html
    # only the bad answer is flagged; unanswered questions are not errors here
    assert html.count('class="field-error"') == 1


def test_an_unknown_language_saves_the_answers_and_keeps_the_language(app):
    _fieldwork, client = _started(app)
    item = QUESTIONNAIRE.dimensions[0].items[0]
    response = client.post("/r/page/1", data={"action": "language", "lang": "xx",
                                              f"q_{item.id}": "5"})
    assert response.status_code == 303
    page = client.get("/r/page/1").get_data(as_text=True)
    assert 'lang="id"' in page
    assert f'name="q_{item.id}" value="5" checked' in page


def test_enter_still_means_next_the_first_button_of_the_page_form(app):
    """Browsers submit a form on Enter with its first submit button in document order; the
    header's language button belongs to the page form, so a hidden Next must come first."""
    _fieldwork, client = _started(app)
    browser = Browser(client.get("/r/page/1").get_data(as_text=True))
    page_buttons = [c for c in browser.controls
                    if c.form == "page-answers" and c.tag == "button"]
    assert page_buttons[0].attrs.get("value") == "next"
    assert page_buttons[1].attrs.get("value") == "language"


def test_other_pages_keep_the_plain_language_switch(app):
    _fieldwork, client = _started(app)
    html = client.get("/r/about").get_data(as_text=True)
    browser = Browser(html)
    button = browser.language_button()
    assert browser.forms[button.form or ""]["action"] == "/language"
