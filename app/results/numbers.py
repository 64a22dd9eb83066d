"""The one number formatter of everything people read: pages, report, PDF, slides.

Numbers are rounded by the project's one rule, half away from zero on the number's shortest
decimal form (:func:`analysis.language.round_half_up`): that is how a reader rounds a printed
number by hand, and it is the rule of the plain-language sentences computed in
:mod:`analysis.language` and of the chart labels of :mod:`analysis.charts`. Half to even
(Babel's default) would print a mean of 3.25 as 3,2 in a table beside a sentence saying 3,3.
The rounded value is then written by Babel in the reader's locale (``3,8`` and ``1.234`` in
Indonesian, ``3.8`` and ``1,234`` in English); Babel never rounds again, since the value
already has exactly the places asked for.

A missing figure (None or NaN) prints as :data:`MISSING`, never as "None" or "nan".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal, format_percent, get_decimal_symbol

from analysis.language import p_value_parts, round_half_up

__all__ = ["MISSING", "Numbers", "is_missing"]

MISSING = "\u2013"  # an en dash: "no figure here"
DASH = "\u2013"  # between the ends of an interval


def is_missing(value: Any) -> bool:
    """None, NaN and infinities have no figure to print."""
    if value is None:
        return True
    return isinstance(value, float) and not math.isfinite(value)


def _pattern(places: int) -> str:
    return "#,##0" + ("." + "0" * places if places else "")


@dataclass(frozen=True)
class Numbers:
    """Numbers as a reader of ``language`` writes them, each rounded half up."""

    language: str

    @property
    def decimal_mark(self) -> str:
        """The locale's decimal separator ("," in Indonesian): charts print numbers with it."""
        return get_decimal_symbol(self.language)

    def rounded(self, value: float, places: int = 1) -> Decimal:
        """The value as it is shown (the API's raw numbers round to the texts by this)."""
        return round_half_up(value, places)

    def num(self, value: Any, places: int = 1) -> str:
        """A mean, a gap, an index: ``3,8`` (``places`` decimals, trailing zeros kept)."""
        if is_missing(value):
            return MISSING
        return format_decimal(round_half_up(value, places), format=_pattern(places),
                              locale=self.language)

    def count(self, value: Any) -> str:
        """A count of responses: ``1.234`` in Indonesian."""
        return self.num(value, 0)

    def pct(self, share: Any) -> str:
        """A share (0.9) as a whole per cent: ``90%``."""
        if is_missing(share):
            return MISSING
        percent = round_half_up(Decimal(repr(float(share))) * 100, 0)
        return format_percent(percent / 100, format="#,##0%", locale=self.language)

    def p(self, value: Any) -> str:
        """A p-value: ``< 0,001``; three decimals below 0.01, else two (as in sentences)."""
        if is_missing(value):
            return MISSING
        relation, shown = p_value_parts(value)
        places = -int(shown.as_tuple().exponent)
        text = format_decimal(shown, format=_pattern(places), locale=self.language)
        return f"< {text}" if relation == "<" else text

    def ci(self, low: Any, high: Any, places: int = 1) -> str:
        """An interval: ``3,1–3,9``; a dash when either end is missing."""
        if is_missing(low) or is_missing(high):
            return MISSING
        return f"{self.num(low, places)}{DASH}{self.num(high, places)}"

    def signed(self, value: Any, places: int = 1) -> str:
        """A change: ``+0,3`` for a rise (a fall carries its minus sign already)."""
        if is_missing(value):
            return MISSING
        text = self.num(value, places)
        return f"+{text}" if round_half_up(value, places) > 0 else text
