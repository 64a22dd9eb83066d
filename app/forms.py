"""The base of every form: text with control characters is refused at the field it came in.

Every form of the app inherits :class:`Form` instead of ``FlaskForm``, so the rule of
:mod:`app.text_hygiene` holds for any field added later without each form repeating it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, FloatField, IntegerField

from app.text_hygiene import find_forbidden

FORBIDDEN_MESSAGE = _l(
    "This text contains an invisible control character (%(char)s at position %(position)s) "
    "that cannot be stored. Please remove it and send again."
)
TOO_LARGE_MESSAGE = _l("This number is too large.")
# The largest whole number any column of ours holds (INTEGER); larger posted numbers are
# refused before WTForms' range check, which turns a 1,000-digit integer into a float and fails.
LARGEST_NUMBER = 2**31 - 1


class Form(FlaskForm):
    """A FlaskForm whose text fields refuse NUL and other control characters."""

    def validate(self, extra_validators: dict[str, Sequence[Any]] | None = None) -> bool:
        too_large = [field for field in self
                     if isinstance(field, IntegerField | DecimalField | FloatField)
                     and isinstance(field.data, int | float) and abs(field.data) > LARGEST_NUMBER]
        for field in too_large:
            field.data = None  # validators then see no number, never the huge one
        valid = super().validate(extra_validators=extra_validators) and not too_large
        for field in too_large:
            field.errors = [*field.errors, TOO_LARGE_MESSAGE]
        for field in self:
            # The raw post too: a NUL in "12\x00" fails the number conversion with a message
            # that would not say what is wrong, and data is None then.
            for value in _texts(field.data) + _texts(field.raw_data):
                bad = find_forbidden(value)
                if bad is not None:
                    field.errors = [*field.errors, FORBIDDEN_MESSAGE % {
                        "char": bad.name, "position": bad.position}]
                    valid = False
                    break
        return valid


def _texts(data: Any) -> list[str]:
    """The strings in a field's data or raw data (a list for multiple choices)."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, list | tuple):
        return [item for item in data if isinstance(item, str)]
    return []
