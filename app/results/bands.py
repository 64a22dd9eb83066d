"""Score bands of a dimension (as the questionnaire declares them) and where each one sits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from analysis.results import TOTAL
from app.questionnaires import Questionnaire

__all__ = ["band_tone", "dimension_bands", "shared_bands"]


def dimension_bands(questionnaire: Questionnaire, dimension: str, language: str
                    ) -> list[dict[str, Any]] | None:
    """A dimension's (or the health index's) bands in ``language``; None without any.

    A dimension only an earlier questionnaire version has gives None too.
    """
    if dimension == TOTAL:
        bands = questionnaire.total.bands if questionnaire.total is not None else ()
    else:
        try:
            bands = questionnaire.dimension(dimension).bands
        except (KeyError, ValueError):
            return None
    return [{"label": b.label.get(language), "min": b.min, "max": b.max} for b in bands] or None


def shared_bands(questionnaire: Questionnaire, dimensions: Iterable[str], language: str
                 ) -> list[dict[str, Any]] | None:
    """The bands every one of ``dimensions`` uses, when they all use the same ones."""
    found = [dimension_bands(questionnaire, d, language) for d in dimensions]
    return found[0] if found and all(b == found[0] for b in found) else None


def band_tone(band: Mapping[str, Any] | None, low: Any = None, high: Any = None) -> str:
    """"low", "mid" or "high": where a band sits on its scale, for its colour (text says it)."""
    if not band or low is None or high is None or high <= low:
        return "neutral"
    if band["min"] <= low:
        return "low"
    return "high" if band["max"] >= high else "mid"
