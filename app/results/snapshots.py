"""Whether a round has results, and the published snapshots every consumer reads.

A round has results once it is no longer a draft and has at least one response: then
:func:`app.services.results.round_results_for` publishes a snapshot. Results over time need
two closed rounds. Pages, the report, the API and the downloads ask here, so they agree on
when there is something to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.models import Partnership, Round, RoundStatus
from app.results.rounds import closed_rounds
from app.services import results as results_service

__all__ = ["has_results", "over_time_snapshot", "round_snapshot", "shows_figures"]


def has_results(session: Session, round_: Round) -> bool:
    """Whether the round has a published snapshot: not a draft, at least one response."""
    if round_.status is RoundStatus.DRAFT:
        return False
    return results_service.response_count(session, round_) > 0


def round_snapshot(session: Session, round_: Round) -> dict[str, Any] | None:
    """The round's published results, or None while it has none (:func:`has_results`)."""
    if not has_results(session, round_):
        return None
    return results_service.round_results_for(session, round_)


def over_time_snapshot(session: Session, partnership: Partnership) -> dict[str, Any] | None:
    """Results across the closed rounds, or None while fewer than two of them have responses."""
    answered = [r for r in closed_rounds(partnership) if has_results(session, r)]
    if len(answered) < 2:
        return None
    return results_service.over_time_for(session, partnership)


def shows_figures(snapshot: Mapping[str, Any] | None) -> bool:
    """Whether a snapshot has any figure to print: there is one and its total is not hidden.

    A round snapshot whose total is hidden (fewer than k responses in all) has nothing but
    "fewer than k responses" to show; an over-time snapshot has no total of its own.
    """
    if snapshot is None:
        return False
    meta = snapshot["meta"]
    return "n_responses" not in meta or bool(meta["n_responses"])
