"""How the other partners rate each partner on its commitments, for the commitments register.

The ratings are cells of the published round snapshot (``rating_matrix``: one cell per rater
and ratee, hidden below k). Nothing is recomputed or pooled here: each shown cell is printed
as the results pages print it, so a partner's own record of its pledges sits beside what the
others said of it in the latest round that has results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.models import Partnership, Round
from app.results.rounds import result_rounds
from app.results.snapshots import round_snapshot
from app.results.words import text

__all__ = ["RatingsBeside", "commitment_ratings"]


@dataclass(frozen=True)
class RatingsBeside:
    """The latest round's partner ratings: per item, per ratee, the raters' cells."""

    round: Round
    k: int
    items: list[dict[str, Any]]  # {"item_id", "label", "received": {ratee id: [cells]}}
    names: dict[int, str]


def commitment_ratings(session: Session, partnership: Partnership,
                       language: str) -> RatingsBeside | None:
    """The partner ratings of the latest round with results (None: no such round)."""
    for round_ in reversed(result_rounds(partnership)):
        snap = round_snapshot(session, round_)
        if snap is None or not snap["rating_matrix"]:
            continue
        names = {row["partner_id"]: row["name"] for row in snap["response_counts"]["partners"]}
        items = []
        for entry in snap["rating_matrix"]:
            received: dict[int, list[dict[str, Any]]] = {}
            for cell in entry["cells"]:
                received.setdefault(cell["ratee_partner_id"], []).append(cell)
            items.append({"item_id": entry["item_id"], "label": text(entry["label"], language),
                          "received": received})
        return RatingsBeside(round_, int(snap["meta"]["k"]), items, names)
    return None
