"""Forms of the respondent flow; a page's form is built at runtime from its questions.

Only fields of the page's own questions are read from a post, so unknown or extra fields are
ignored (no mass assignment), and a radio value outside the item's options is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from app.forms import Form
from app.respond.items import MISSING, AnswerSheet, Value
from app.respond.pages import Page

# The names Question.name gives answer fields (q_<item>, t_<question>, r_<item>__<partner>).
ANSWER_FIELD = re.compile(r"^(?:q|t|r)_[a-z][a-z0-9_]*$")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CodeEntryForm(Form):
    """The access code a respondent types, on the front page or at /r."""

    code = StringField(
        _l("Access code"),
        validators=[DataRequired(_l("Please enter the code from your card.")), Length(max=40)],
        filters=[_strip],
    )
    # Set when the form follows an expired session: the page whose answers it carries.
    carry_page = HiddenField()


class ResumeForm(Form):
    """The resume code a partner-link respondent wrote down to continue their answers."""

    resume_code = StringField(
        _l("Resume code"),
        validators=[DataRequired(_l("Please enter your resume code.")), Length(max=40)],
        filters=[_strip],
    )


class LanguageForm(Form):
    language = RadioField(
        _l("Language of the questionnaire"),
        validators=[InputRequired(_l("Please choose a language."))],
    )


class ConfirmForm(Form):
    """A form with nothing but its CSRF token (submit on the review page)."""


@dataclass
class PageInput:
    """What a posted page held: values that passed validation, and what did not."""

    values: dict[str, Value] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.invalid


class AnswerForm(Form):
    """The base of every page form: answers with control characters fail on their field.

    Being a :class:`~app.forms.Form` is what keeps a NUL typed into an open answer out of the
    draft: :func:`read_page` counts the field as invalid, so it is never applied to the sheet.
    """

    review = HiddenField()


_form_classes: dict[tuple[int, str, str], tuple[Page, type[FlaskForm]]] = {}
_FORM_CLASSES_SIZE = 1024


def page_form_class(page: Page, lang: str) -> type[FlaskForm]:
    """The form class of one page: one field per question, labels in ``lang``.

    Built once per page and language: plans are cached (:func:`app.respond.pages.plan_of`),
    so the same page object comes back on every request and making a WTForms class (a
    metaclass at work on every field) each time was a tenth of a page view. The entry keeps
    the page itself, so its ``id`` cannot be reused by another page while it is cached. The
    messages (required, invalid choice) are in the interface's language, part of the key too.
    """
    key = (id(page), lang, str(get_locale()))
    entry = _form_classes.get(key)
    if entry is not None and entry[0] is page:
        return entry[1]

    class PageForm(AnswerForm):
        pass

    for question in page.questions:
        setattr(PageForm, question.name, question.unbound_field(lang))
    if len(_form_classes) >= _FORM_CLASSES_SIZE:
        _form_classes.clear()
    _form_classes[key] = (page, PageForm)
    return PageForm


def make_page_form(page: Page, lang: str, *, sheet: AnswerSheet | None = None,
                   formdata: Any = None) -> FlaskForm:
    """Instantiate a page form from posted data, or prefilled from a draft when there is none.

    ``formdata=None`` means "use the request's form when it was posted" (Flask-WTF default).
    """
    form_class = page_form_class(page, lang)
    data = {}
    if sheet is not None:
        data = {q.name: q.form_value(q.read(sheet)) for q in page.questions}
    if formdata is None:
        return form_class(data=data)
    return form_class(formdata=formdata, data=data)


def sheet_formdata(page: Page, sheet: AnswerSheet) -> MultiDict:
    """The post a respondent would send for what the draft holds (to show its errors)."""
    pairs = []
    for question in page.questions:
        value = question.form_value(question.read(sheet))
        pairs.append((question.name, value if value is not None else ""))
    return MultiDict(pairs)


def read_page(page: Page, form: FlaskForm) -> PageInput:
    """Validate a posted page form and sort its questions into values, missing and invalid.

    Values that pass are kept even when other questions fail, so Back, Save and a failed Next
    never lose an answer that was given.
    """
    form.validate()
    result = PageInput()
    for question in page.questions:
        bound = form[question.name]
        raw = bound.raw_data[0] if bound.raw_data else ""
        if bound.errors:
            has_input = isinstance(raw, str) and raw.strip() != ""
            (result.invalid if has_input else result.missing).append(question.name)
            continue
        result.values[question.name] = question.value_from(bound.data)
    return result


def apply_input(page: Page, sheet: AnswerSheet, page_input: PageInput) -> None:
    """Write the values of a posted page into the sheet; cleared answers are removed."""
    for question in page.questions:
        if question.name in page_input.values:
            question.write(sheet, page_input.values[question.name])
        elif question.name in page_input.missing:
            question.write(sheet, MISSING)

