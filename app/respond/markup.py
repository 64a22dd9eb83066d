"""The answer options of a radio question as HTML, escaped once per question and language.

A questionnaire page is mostly radio buttons: six statements of five to seven options, and a
row per partner on the rating page. Written as a Jinja loop, each option escaped its id, name,
value and label on every request, about a third of the page's rendering. Questions are
immutable and shared by the cached page plans (:func:`app.respond.pages.plan_of`), so the
escaped pieces of each option are kept per question, language and label class, and a request
only adds ``checked`` to the chosen one. The markup is the one the respondent pages have
always had: a label around each input, ids that the error summary links to.
"""

from __future__ import annotations

from threading import Lock
from typing import Any

from markupsafe import Markup, escape

from app.respond.items import Question

# (id(question), language, label class) -> (question, ((value, before, after), ...))
_Parts = tuple[tuple[str, str, str], ...]
_cache: dict[tuple[int, str, str], tuple[Question, _Parts]] = {}
_lock = Lock()
_CACHE_SIZE = 4096


def _parts(question: Any, lang: str, labels_class: str) -> _Parts:
    name = escape(question.name)
    span_class = escape(f"option-label {labels_class}")
    parts = []
    for index, (value, label) in enumerate(question.choices(lang)):
        option_class = "option option-dk" if value == "dk" else "option"
        before = (f'<label class="{option_class}" for="{name}-{index}">'
                  f'<input type="radio" id="{name}-{index}" name="{name}"'
                  f' value="{escape(value)}"')
        after = f'> <span class="{span_class}">{escape(label)}</span></label>\n'
        parts.append((value, before, after))
    return tuple(parts)


def radio_options(question: Any, field: Any, lang: str, labels_class: str = "") -> Markup:
    """The ``<div class="scale">`` of one radio question, its saved or posted answer checked."""
    key = (id(question), lang, labels_class)
    entry = _cache.get(key)
    if entry is None or entry[0] is not question:
        entry = (question, _parts(question, lang, labels_class))
        with _lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()
            _cache[key] = entry
    chosen = field.data
    out = ['<div class="scale">\n']
    for value, before, after in entry[1]:
        out.append(before)
        if chosen == value:
            out.append(" checked")
        out.append(after)
    out.append("</div>\n")
    return Markup("".join(out))
