"""The order of a partnership's rounds, and which of them have (or will have) results.

One order everywhere: by opening date (the creation date while none is set), then by id.
The results service uses it to find earlier rounds, the pages and the API to list them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from app.models import Partnership, Round, RoundStatus

__all__ = ["closed_rounds", "order_key", "ordered", "result_rounds"]


def order_key(round_: Round) -> tuple[date, Any]:
    """Sort key of a round: when it opens (or was created), then its id."""
    return (round_.opens_on or round_.created_at.date(), round_.id)


def ordered(rounds: Iterable[Round]) -> list[Round]:
    """Rounds oldest first."""
    return sorted(rounds, key=order_key)


def result_rounds(partnership: Partnership) -> list[Round]:
    """Rounds that have (or will have) results, oldest first: every round but drafts."""
    return ordered(r for r in partnership.rounds if r.status is not RoundStatus.DRAFT)


def closed_rounds(partnership: Partnership) -> list[Round]:
    """Closed rounds, oldest first: the only ones compared over time."""
    return ordered(r for r in partnership.rounds if r.status is RoundStatus.CLOSED)
