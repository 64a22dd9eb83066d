"""What figures are called: chart words, the suppression notice, texts of a snapshot.

One wording per thing, in the reader's language (the catalogue of ``flask translate``): the
pages, the report and the slides print the same "fewer than 5 responses" and the same
"95% confidence interval" on a chart, its text alternative and beside a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext

from app.results.numbers import Numbers

__all__ = ["chart_words", "effect_symbol", "suppressed", "test_name", "text"]


def text(value: Any, language: str) -> str:
    """A ``{"id": ..., "en": ...}`` text of a snapshot in ``language`` (a str stays itself).

    A missing language falls back to Indonesian, then to any language there is.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return value.get(language) or value.get("id") or next(iter(value.values()), "")
    return str(value)


def suppressed(k: int) -> str:
    """The notice that stands in for every figure of a group below ``k``."""
    return gettext("fewer than %(k)d responses", k=k)


def test_name(test: str | None) -> str:
    """A statistical test as people name it."""
    names = {"kruskal_wallis": gettext("Kruskal–Wallis test"),
             "mann_whitney": gettext("Mann–Whitney test")}
    return names.get(test or "", test or "")


def effect_symbol(name: str | None) -> str:
    """The symbol of an effect size: ε² (epsilon squared) or r (rank-biserial)."""
    return {"epsilon_squared": "ε²", "rank_biserial": "r"}.get(name or "", "")


def chart_words(k: int, language: str) -> dict[str, str]:
    """The words a chart prints, in the reader's language (keys of analysis.charts labels)."""
    return {
        "score": gettext("Mean score"),
        "mean": gettext("Mean"),
        "ci": gettext("%(level)s confidence interval", level="95%"),
        "overall": gettext("Partnership as a whole"),
        "suppressed": suppressed(k),
        "no_data": gettext("no responses"),
        "percent_valid": gettext("Share of valid answers"),
        "percent_all": gettext("Share of all answers"),
        "round": gettext("Round"),
        "rater": gettext("Rated by"),
        "ratee": gettext("Partner rated"),
        "gap_note": gettext("A gap in a line: that round's figure is hidden to protect "
                            "anonymity."),
        "decimal": Numbers(language).decimal_mark,
        "alt_scores": gettext("Mean scores on a {min} to {max} scale with confidence "
                              "intervals: {items}."),
        "alt_heatmap": gettext("Mean scores on a {min} to {max} scale. {items}."),
        "alt_rating": gettext("How each partner rated the others, on a {min} to {max} scale. "
                              "{items}."),
        "alt_likert": gettext("Answers as a share of valid answers. {items}."),
        "alt_over_time": gettext("Mean score per round on a {min} to {max} scale. {items}."),
    }
