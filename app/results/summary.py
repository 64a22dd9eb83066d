"""What the one-page summary of a round shows, selected from the published snapshot.

The summary is a digest of the results page, not a second analysis: the health index and the
dimension scores with their bands are the snapshot's score tables, the largest perception gap
is the first tested row of :func:`app.results.panels.dimension_gaps`, and the strengths and
concerns are statements ranked by the published share of disagreeing answers
(:func:`analysis.prompts.disagreement_share`, the rule the discussion prompts use). A group the
snapshot suppressed (fewer than k responses) has no row here, so nothing on the page, in its
PDF or on the respondents' copy can show a figure the results page hides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.prompts import disagreement_share
from app.results import panels
from app.results.context import TOTAL, RoundView

__all__ = ["STATEMENTS_SHOWN", "ScoreLine", "Statement", "largest_gap", "score_lines",
           "strengths_and_concerns"]

#: How many strengths, and how many concerns, the summary lists.
STATEMENTS_SHOWN = 3


@dataclass(frozen=True)
class ScoreLine:
    """A score table's partnership row (the health index or a dimension); ``block`` is None
    when the snapshot hides it (fewer than k responses)."""

    dimension: str
    label: str
    block: Mapping[str, Any] | None
    scale_min: float | None
    scale_max: float | None

    @property
    def is_index(self) -> bool:
        return self.dimension == TOTAL


@dataclass(frozen=True)
class Statement:
    """A questionnaire statement with the share of valid answers disagreeing with it."""

    item_id: str
    dimension: str
    label: str
    share: float
    n: int


def score_lines(view: RoundView) -> list[ScoreLine]:
    """The health index, then each dimension, as the partnership scored them."""
    out = []
    for table in panels.ordered_scores(view.snap["scores"]):
        whole = table["partnership"]
        block = None if whole.get("suppressed") else whole.get("partner_weighted")
        out.append(ScoreLine(table["dimension"], view.text(table["label"]), block,
                             table.get("scale_min"), table.get("scale_max")))
    return out


def _statements(view: RoundView) -> list[Statement]:
    """Shown statements ranked from the least to the most disagreed with.

    Reverse-worded statements are left out: agreeing with them is the unfavourable side, so
    their share of disagreement would read backwards (as for the discussion prompts).
    """
    found = []
    for entry in view.snap["distributions"]:
        block = entry.get("partnership")
        if entry.get("reverse") or not block or block.get("suppressed") \
                or not block.get("counts"):
            continue
        share = disagreement_share(block["counts"])
        if share is None:
            continue
        found.append(Statement(entry["item_id"], entry["dimension"], view.text(entry["label"]),
                               share, int(sum(block["counts"]))))
    # Ties keep the questionnaire's order, so the page is the same on every reading.
    return sorted(found, key=lambda s: s.share)


def strengths_and_concerns(view: RoundView, shown: int = STATEMENTS_SHOWN
                           ) -> tuple[list[Statement], list[Statement]]:
    """The statements fewest and most disagreed with; never the same statement in both.

    With fewer than ``2 * shown`` statements, the better half are strengths and the rest
    concerns.
    """
    ranked = _statements(view)
    take = min(shown, len(ranked) // 2 + len(ranked) % 2)
    strengths = ranked[:take]
    concerns = list(reversed(ranked[take:]))[:shown]
    return strengths, concerns


def largest_gap(view: RoundView) -> dict[str, Any] | None:
    """The dimension with the widest tested perception gap, named by its shown partners."""
    for row in panels.dimension_gaps(view):
        if row["reason"] is not None or row["gap"] is None:
            continue
        high, low = view.names.get(row["high_group"]), view.names.get(row["low_group"])
        if high is None or low is None:
            continue
        return {**row, "high_name": high, "low_name": low}
    return None
