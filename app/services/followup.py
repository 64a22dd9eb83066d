"""The follow-up loop: what every part of it shares (errors, labels, targets, round order).

The loop is split by what each module owns; other areas (presentation mode, the workshop
room, the one-page summary) call these functions and nothing below them:

- :mod:`app.services.workshops`: record a workshop of a round (date, facilitator, attendance
  as counts per partner, notes), list a round's workshops.
- :mod:`app.services.actions`: agree, edit, drop and carry over actions (tindak lanjut); the
  review of the previous round's actions; the action register and follow-through per partner.
- :mod:`app.services.commitments`: partners' pledges for a period and their review per round.
- :mod:`app.results.impact`: what happened to an action's dimension by the next closed round.

Every service takes a session, validates everything before changing anything, records an
audit event and flushes; the request commits once. Refusals raise :class:`FollowupError`,
whose text is a message for the person who asked.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    ActionStatus,
    CommitmentKind,
    DeliveryStatus,
    OwnerRole,
    Partner,
    Partnership,
    Round,
    RoundStatus,
)
from app.questionnaires import Questionnaire
from app.results.rounds import order_key, ordered

MAX_TEXT = 2000
MAX_NOTES = 20000
MAX_SHORT = 200
MAX_CHECKLIST_TEXT = 500
MAX_ATTENDANCE = 100000

ACTION_STATUS_LABELS: dict[str, Any] = {
    ActionStatus.PLANNED.value: _l("Planned"),
    ActionStatus.IN_PROGRESS.value: _l("In progress"),
    ActionStatus.DONE.value: _l("Done"),
    ActionStatus.DROPPED.value: _l("Dropped"),
}

OWNER_ROLE_LABELS: dict[str, Any] = {
    OwnerRole.OWNER.value: _l("Owner"),
    OwnerRole.CO_OWNER.value: _l("Co-owner"),
}

COMMITMENT_KIND_LABELS: dict[str, Any] = {
    CommitmentKind.MONEY.value: _l("Money"),
    CommitmentKind.STAFF.value: _l("Staff"),
    CommitmentKind.KNOWLEDGE.value: _l("Knowledge"),
    CommitmentKind.NETWORKS.value: _l("Networks"),
    CommitmentKind.LOCAL_WISDOM.value: _l("Local wisdom"),
    CommitmentKind.FACILITIES.value: _l("Facilities"),
    CommitmentKind.OTHER.value: _l("Other"),
}

DELIVERY_STATUS_LABELS: dict[str, Any] = {
    DeliveryStatus.PENDING.value: _l("Not yet reviewed"),
    DeliveryStatus.DELIVERED.value: _l("Delivered"),
    DeliveryStatus.PARTIAL.value: _l("Partly delivered"),
    DeliveryStatus.NOT_DELIVERED.value: _l("Not delivered"),
}

#: The verdicts a round's review may give (``pending`` is the absence of a review).
REVIEW_STATUSES = (DeliveryStatus.DELIVERED, DeliveryStatus.PARTIAL,
                   DeliveryStatus.NOT_DELIVERED)


class FollowupError(ValueError):
    """A follow-up change was refused; ``str(error)`` is a message for the person who asked."""


def clean_text(value: str | None, limit: int, *, required: Any = None) -> str:
    """Strip ``value``; refuse it when empty (``required`` is the message) or too long."""
    text = (value or "").strip()
    if required is not None and not text:
        raise FollowupError(required)
    if len(text) > limit:
        raise FollowupError(_l("Keep this text under %(n)d characters.", n=limit))
    return text


def questionnaire_of(round_: Round) -> Questionnaire:
    return Questionnaire.from_dict(round_.questionnaire_version.definition)


@dataclass(frozen=True)
class Target:
    """A dimension or an item an action may address, as a choice list shows it."""

    dimension_id: str
    item_id: str | None
    label: str


def targets(questionnaire: Questionnaire, language: str) -> list[Target]:
    """Every dimension, each followed by its items, in questionnaire order."""
    out = []
    for dimension in questionnaire.dimensions:
        out.append(Target(dimension.id, None, dimension.title.get(language)))
        for item in dimension.items:
            out.append(Target(dimension.id, item.id, item.text.get(language)))
    return out


def resolve_target(questionnaire: Questionnaire, dimension_id: str | None,
                   item_id: str | None) -> tuple[str, str | None]:
    """Check an action's target exists in ``questionnaire``; return (dimension, item).

    An item implies its dimension, so the register's dimension filter and the impact (which
    the over-time results give per dimension) find item-level actions too.
    """
    dimension_id = (dimension_id or "").strip() or None
    item_id = (item_id or "").strip() or None
    if item_id is not None:
        try:
            item = questionnaire.item(item_id)
        except (KeyError, ValueError):
            raise FollowupError(_l("This question is not in the round's questionnaire.")) \
                from None
        if dimension_id is not None and dimension_id != item.dimension:
            raise FollowupError(_l("This question belongs to another dimension."))
        return item.dimension, item.id
    if dimension_id is None:
        raise FollowupError(_l("Choose the dimension or the question the action addresses: "
                               "it is what the next round measures."))
    try:
        questionnaire.dimension(dimension_id)
    except (KeyError, ValueError):
        raise FollowupError(_l("This dimension is not in the round's questionnaire.")) from None
    return dimension_id, None


def target_label(questionnaire: Questionnaire | None, dimension_id: str | None,
                 item_id: str | None, language: str) -> str:
    """The dimension's title (and the item's text) in ``language``; the ids when unknown."""
    dimension = dimension_id or ""
    if questionnaire is not None and dimension_id:
        with contextlib.suppress(KeyError, ValueError):
            dimension = questionnaire.dimension(dimension_id).title.get(language)
    if not item_id:
        return dimension
    item = item_id
    if questionnaire is not None:
        with contextlib.suppress(KeyError, ValueError):
            item = questionnaire.item(item_id).text.get(language)
    return f"{dimension}: “{item}”"


def partners_of(session: Session, partnership: Partnership, ids: list[int]) -> list[Partner]:
    """The partnership's partners with these ids; refuse any id of another partnership."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return []
    found = list(session.scalars(select(Partner).where(
        Partner.partnership_id == partnership.id, Partner.id.in_(wanted))))
    if len(found) != len(wanted):
        raise FollowupError(_l("Choose partners of this partnership."))
    return sorted(found, key=lambda p: p.name)


def round_order(partnership: Partnership) -> list[Round]:
    """The partnership's rounds that ran (not drafts), oldest first."""
    return ordered(r for r in partnership.rounds if r.status is not RoundStatus.DRAFT)


def previous_round(round_: Round) -> Round | None:
    """The round that ran just before ``round_`` (whose actions its workshop reviews)."""
    rounds = ordered(r for r in round_.partnership.rounds
                     if r.status is not RoundStatus.DRAFT or r.id == round_.id)
    index = next(i for i, r in enumerate(rounds) if r.id == round_.id)
    return rounds[index - 1] if index > 0 else None


def next_closed_round(round_: Round) -> Round | None:
    """The first closed round after ``round_``: the one that measures its actions' effect."""
    later = [r for r in ordered(round_.partnership.rounds)
             if r.status is RoundStatus.CLOSED and order_key(r) > order_key(round_)]
    return later[0] if later else None


def in_period(starts_on: date | None, ends_on: date | None, first: Round, round_: Round) -> bool:
    """Whether ``round_`` falls in a commitment's period (from ``first`` on, within dates)."""
    if order_key(round_) < order_key(first):
        return False
    if ends_on is not None and round_.opens_on is not None and round_.opens_on > ends_on:
        return False
    return not (starts_on is not None and round_.closes_on is not None
                and round_.closes_on < starts_on)
