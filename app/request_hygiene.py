"""One boundary for control characters in everything a request carries besides its forms.

PostgreSQL cannot store NUL, and a NUL in a query parameter or the address of ``/r/<code>``
reaches the database as a query argument and fails there with a server error. The rule of
:mod:`app.text_hygiene` is therefore applied once, before any view runs, to the path, the
query string (names and values), the names and values of posted fields, the names of
uploaded files and the strings of a JSON body. A request that breaks it is answered 400 with
a message naming the parameter (JSON under ``/api/``), and no view ever sees it.

Values of *visible* fields of :class:`app.forms.Form` classes are left to the form: it shows
the problem on the field, next to everything else the person typed, which is kinder than a
bare error page (a respondent keeps the other answers of the page). Hidden fields, fields no
form declares and every field of a form that is not an :class:`~app.forms.Form` are checked
here, because nobody would see a field error on them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from flask_babel import gettext
from werkzeug.exceptions import BadRequest
from wtforms import HiddenField
from wtforms.fields.core import UnboundField
from wtforms.widgets import HiddenInput

from app.forms import Form
from app.respond.forms import ANSWER_FIELD, AnswerForm
from app.text_hygiene import ForbiddenCharacter, find_forbidden, visible

# Where the refused character was; each has its own message.
PATH = "path"
QUERY = "query"
FORM = "form"
FILE_NAME = "file_name"
JSON = "json"


class ControlCharacterRefused(BadRequest):
    """A request carried a NUL or other control character in one of its parameters."""

    def __init__(self, where: str, name: str, found: ForbiddenCharacter) -> None:
        self.where = where
        self.parameter = visible(name)
        self.found = found
        # English for the JSON API (its messages are English); pages use message().
        super().__init__(self._english())

    def _english(self) -> str:
        where = {
            PATH: "The address",
            QUERY: f"The query parameter '{self.parameter}'",
            FORM: f"The form field '{self.parameter}'",
            FILE_NAME: f"The name of the file uploaded as '{self.parameter}'",
            JSON: f"The JSON value at '{self.parameter}'",
        }[self.where]
        return (f"{where} contains a control character ({self.found.name} at position "
                f"{self.found.position}) that is not accepted. Remove it and try again.")

    def message(self) -> str:
        """The explanation for a person, in the page's language."""
        args = {"name": self.parameter, "char": self.found.name,
                "position": self.found.position}
        if self.where == PATH:
            return gettext("The address of this page contains an invisible control character "
                           "(%(char)s at position %(position)s). Please check the link.",
                           **args)
        if self.where == QUERY:
            return gettext("The address parameter “%(name)s” contains an invisible control "
                           "character (%(char)s at position %(position)s) that cannot be "
                           "accepted.", **args)
        if self.where == FILE_NAME:
            return gettext("The name of the file sent as “%(name)s” contains an invisible "
                           "control character (%(char)s at position %(position)s). Please "
                           "rename the file and upload it again.", **args)
        if self.where == JSON:
            return gettext("The value “%(name)s” contains an invisible control character "
                           "(%(char)s at position %(position)s) that cannot be accepted.",
                           **args)
        return gettext("The form field “%(name)s” contains an invisible control character "
                       "(%(char)s at position %(position)s) that cannot be stored. Please go "
                       "back, remove it and send the form again.", **args)


def init_app(app: Flask) -> None:
    """Check every request before its view runs."""
    app.before_request(refuse_control_characters)


class MalformedQueryRefused(BadRequest):
    """The query string is not UTF-8: werkzeug could not even read its parameters."""

    def __init__(self) -> None:
        super().__init__("The query string of the address is not valid UTF-8 text. Check the "
                         "link and try again.")

    def message(self) -> str:
        """The explanation for a person, in the page's language."""
        return gettext("The address of this page holds characters that are not valid text. "
                       "Please check the link.")


def refuse_control_characters() -> None:
    """Raise :class:`ControlCharacterRefused` for the first control character of the request."""
    _check(PATH, request.path, request.path)
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedQueryRefused() from None
    for name, value in request.args.items(multi=True):
        _check(QUERY, name, name)
        _check(QUERY, name, value)
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    left_to_forms = _form_checked_fields()
    in_respondent_flow = request.blueprint == "respond"
    for name, value in request.form.items(multi=True):
        _check(FORM, name, name)
        if name is not None and (name in left_to_forms
                                 or (in_respondent_flow and ANSWER_FIELD.match(name))):
            continue
        _check(FORM, name, value)
    for name, upload in request.files.items(multi=True):
        _check(FILE_NAME, name, name)
        _check(FILE_NAME, name, upload.filename or "")
    if request.is_json:
        body = request.get_json(silent=True)
        for path, text in _json_strings(body, "$"):
            _check(JSON, path, text)


def _check(where: str, name: str | None, text: str | None) -> None:
    # A multipart part whose name header is only a line break arrives with the name None.
    found = find_forbidden(text or "")
    if found is not None:
        raise ControlCharacterRefused(where, name or "", found)


def _json_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every key and string of a JSON document, with a JSONPath-like location."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in item.items():
                key_path = f"{where}.{key}"
                yield key_path, str(key)
                stack.append((child, key_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


_lock = threading.Lock()
_cache: dict[str, frozenset[str]] = {}


def _form_checked_fields() -> frozenset[str]:
    """Names of visible fields declared by any Form class, computed once per process.

    Every form class is defined when its module is imported, which happens while the app is
    built; the page forms of the respondent flow are built per request and are covered by
    their name pattern instead.
    """
    with _lock:
        if "names" not in _cache:
            _cache["names"] = frozenset(_visible_fields(Form))
        return _cache["names"]


def _visible_fields(root: type[Form]) -> set[str]:
    names: set[str] = set()
    stack = list(root.__subclasses__())
    seen: set[type] = set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if issubclass(cls, AnswerForm):
            continue  # runtime page forms: their answer fields follow ANSWER_FIELD
        stack.extend(cls.__subclasses__())
        for attribute in dir(cls):
            value = getattr(cls, attribute, None)
            if isinstance(value, UnboundField) and not _is_hidden(value):
                names.add(attribute)
    return names


def _is_hidden(field: UnboundField) -> bool:
    """A HiddenField, or any field drawn as a hidden input (an id behind a button)."""
    widget = field.kwargs.get("widget")
    return issubclass(field.field_class, HiddenField) or isinstance(widget, HiddenInput)
