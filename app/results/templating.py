"""What the result templates print with, the same for the pages, the report and the slides.

Every template of ``templates/results/`` and ``templates/reports/`` imports its tables and
panels from the one macro library ``templates/results/_macros.html`` *with context*; the
macros format through ``fmt`` (:class:`~app.results.numbers.Numbers`), translate snapshot
texts through ``tr`` and say "fewer than k responses" through ``suppressed_text``.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from flask_babel import format_date

from app.results.bands import band_tone
from app.results.numbers import Numbers
from app.results.words import effect_symbol, suppressed, test_name, text

__all__ = ["display_context"]


def display_context(language: str) -> dict[str, Any]:
    """Template variables of every result view in ``language``."""
    return {"fmt": Numbers(language), "lang": language, "tr": partial(text, language=language),
            "suppressed_text": suppressed, "band_tone": band_tone, "test_name": test_name,
            "effect_symbol": effect_symbol, "day": day, "period": period}


def day(value: date | str | None) -> str:
    """A date in the reader's locale, long form (``1 Maret 2025``); "" when not set."""
    if not value:
        return ""
    return format_date(date.fromisoformat(value) if isinstance(value, str) else value,
                       format="long")


def period(start: date | str | None, end: date | str | None) -> str:
    """``1 Maret 2025 – 31 Maret 2025``; one end alone when the other is not set."""
    return " \u2013 ".join(text for text in (day(start), day(end)) if text)
