"""Partners' commitments (perjanjian kemitraan): pledges for a period, reviewed per round.

A commitment counts from the round that recorded it (``round_id``) and, when the agreement
names dates, within ``starts_on``..``ends_on``. Every round in that period gets its own
review (delivered, partly delivered, not delivered, with a note), so a pledge for two years
is judged again in each round. The commitments register puts a partner's own record beside
how the other partners rate it on "delivers on its commitments" in the round's results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    Commitment,
    CommitmentKind,
    CommitmentReview,
    DeliveryStatus,
    Partner,
    Partnership,
    Round,
    RoundStatus,
    User,
)
from app.results.rounds import order_key
from app.services.audit import record
from app.services.followup import (
    MAX_TEXT,
    REVIEW_STATUSES,
    FollowupError,
    clean_text,
    in_period,
    partners_of,
    round_order,
)

__all__ = ["CommitmentInput", "CommitmentRow", "commitment_in", "commitments_register",
           "create_commitment", "review_commitment", "rounds_of", "update_commitment"]


@dataclass
class CommitmentInput:
    partner_id: int | None
    kind: CommitmentKind | str
    description: str
    round_id: int | None
    starts_on: date | None = None
    ends_on: date | None = None
    note: str = ""


def commitment_in(session: Session, partnership: Partnership,
                  commitment_id: int) -> Commitment | None:
    """A commitment only if it belongs to ``partnership`` (the caller answers 404 otherwise)."""
    return session.scalar(select(Commitment).join(Round, Round.id == Commitment.round_id).where(
        Commitment.id == commitment_id, Round.partnership_id == partnership.id))


def _check(session: Session, partnership: Partnership, data: CommitmentInput
           ) -> tuple[Partner, CommitmentKind, str, Round, date | None, date | None, str]:
    if data.partner_id is None:
        raise FollowupError(_l("Choose the partner that made the pledge."))
    partner = partners_of(session, partnership, [data.partner_id])[0]
    try:
        kind = CommitmentKind(data.kind)
    except ValueError:
        raise FollowupError(_l("Choose what kind of contribution was pledged.")) from None
    description = clean_text(data.description, MAX_TEXT,
                             required=_l("Say what the partner pledged."))
    round_ = session.get(Round, data.round_id) if data.round_id is not None else None
    if round_ is None or round_.partnership_id != partnership.id \
            or round_.status is RoundStatus.DRAFT:
        raise FollowupError(_l("Choose the round from which the pledge counts."))
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise FollowupError(_l("The end of the period cannot be before its start."))
    return (partner, kind, description, round_, data.starts_on, data.ends_on,
            clean_text(data.note, MAX_TEXT))


def create_commitment(session: Session, actor: User, partnership: Partnership,
                      data: CommitmentInput) -> Commitment:
    """Record what a partner pledged, counting from a round."""
    partner, kind, description, round_, starts_on, ends_on, note = _check(
        session, partnership, data)
    commitment = Commitment(round_id=round_.id, partner_id=partner.id, kind=kind,
                            description=description, starts_on=starts_on, ends_on=ends_on,
                            note=note, status=DeliveryStatus.PENDING)
    session.add(commitment)
    session.flush()
    record(session, actor.id, "commitment.create", commitment, partnership_id=partnership.id,
           partner_id=partner.id, kind=kind.value, round_id=round_.id, starts_on=starts_on,
           ends_on=ends_on)
    session.flush()
    return commitment


def update_commitment(session: Session, actor: User, commitment: Commitment,
                      data: CommitmentInput) -> None:
    """Change a pledge; reviews of rounds now outside its period are kept, not deleted."""
    partnership = commitment.partner.partnership
    partner, kind, description, round_, starts_on, ends_on, note = _check(
        session, partnership, data)
    values: dict[str, Any] = {"partner_id": partner.id, "kind": kind, "description": description,
                              "round_id": round_.id, "starts_on": starts_on, "ends_on": ends_on,
                              "note": note}
    changed = [key for key, value in values.items() if getattr(commitment, key) != value]
    if not changed:
        return
    for key in changed:
        setattr(commitment, key, values[key])
    record(session, actor.id, "commitment.update", commitment, partnership_id=partnership.id,
           fields=sorted(changed))
    session.flush()


def rounds_of(commitment: Commitment) -> list[Round]:
    """The rounds in the commitment's period, oldest first (each reviewed on its own)."""
    first = commitment.round
    return [r for r in round_order(first.partnership)
            if in_period(commitment.starts_on, commitment.ends_on, first, r)]


def review_commitment(session: Session, actor: User, commitment: Commitment, round_: Round,
                      status: DeliveryStatus | str, note: str = "") -> CommitmentReview:
    """Record (or change) whether the commitment was delivered, as seen in ``round_``."""
    try:
        verdict = DeliveryStatus(status)
    except ValueError:
        verdict = None
    if verdict not in REVIEW_STATUSES:
        raise FollowupError(_l("Choose delivered, partly delivered or not delivered."))
    if round_.id not in {r.id for r in rounds_of(commitment)}:
        raise FollowupError(_l("This round is outside the period of the pledge."))
    note = clean_text(note, MAX_TEXT)
    review = session.scalar(select(CommitmentReview).where(
        CommitmentReview.commitment_id == commitment.id, CommitmentReview.round_id == round_.id))
    previous = review.status.value if review is not None else None
    if review is None:
        review = CommitmentReview(commitment_id=commitment.id, round_id=round_.id,
                                  status=verdict, note=note)
        session.add(review)
    elif review.status is verdict and review.note == note:
        return review
    else:
        review.status, review.note = verdict, note
    session.flush()
    _sync_latest(session, commitment)
    details: dict[str, Any] = {"round_id": round_.id, "to": verdict.value}
    if previous is not None:
        details["from"] = previous
    record(session, actor.id, "commitment.review", commitment,
           partnership_id=round_.partnership_id, **details)
    session.flush()
    return review


def _sync_latest(session: Session, commitment: Commitment) -> None:
    """Keep ``status`` on the commitment as the verdict of its latest reviewed round."""
    session.refresh(commitment, ["reviews"])
    if not commitment.reviews:
        commitment.status = DeliveryStatus.PENDING
        return
    latest = max(commitment.reviews, key=lambda r: order_key(r.round))
    commitment.status = latest.status


# --------------------------------------------------------------------------- register


@dataclass(frozen=True)
class CommitmentRow:
    """A commitment with its review in each round of its period (None: not reviewed yet)."""

    commitment: Commitment
    reviews: list[tuple[Round, CommitmentReview | None]]


def commitments_register(session: Session, partnership: Partnership,
                         partner_id: int | None = None) -> dict[int, list[CommitmentRow]]:
    """Partner id -> its commitments (newest period first) with per-round reviews."""
    query = (select(Commitment).join(Round, Round.id == Commitment.round_id)
             .where(Round.partnership_id == partnership.id)
             .options(selectinload(Commitment.reviews), selectinload(Commitment.round)))
    if partner_id is not None:
        query = query.where(Commitment.partner_id == partner_id)
    out: dict[int, list[CommitmentRow]] = {p.id: [] for p in partnership.partners}
    for commitment in session.scalars(query):
        by_round: Mapping[int, CommitmentReview] = {r.round_id: r for r in commitment.reviews}
        out.setdefault(commitment.partner_id, []).append(CommitmentRow(
            commitment, [(r, by_round.get(r.id)) for r in rounds_of(commitment)]))
    for rows in out.values():
        rows.sort(key=lambda row: (order_key(row.commitment.round), row.commitment.id),
                  reverse=True)
    return out
