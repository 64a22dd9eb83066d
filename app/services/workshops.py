"""Workshop records: when and where a round's results were discussed, by whom, how many came.

Attendance is a count per participating partner, never a list of names. A workshop can be
recorded during the session (presentation mode, the workshop room) or afterwards by a
coordinator from the round's page; both call :func:`create_workshop`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Membership,
    Partnership,
    Round,
    RoundStatus,
    User,
    Workshop,
    WorkshopAttendance,
)
from app.services.audit import record
from app.services.followup import (
    MAX_ATTENDANCE,
    MAX_NOTES,
    MAX_SHORT,
    FollowupError,
    clean_text,
)

__all__ = ["create_workshop", "delete_workshop", "update_workshop", "workshop_in",
           "workshops_of"]


def workshop_in(session: Session, partnership: Partnership, workshop_id: int) -> Workshop | None:
    """A workshop only if it belongs to ``partnership`` (the caller answers 404 otherwise)."""
    return session.scalar(select(Workshop).join(Round, Round.id == Workshop.round_id).where(
        Workshop.id == workshop_id, Round.partnership_id == partnership.id))


def workshops_of(session: Session, round_: Round) -> list[Workshop]:
    """A round's workshops, the earliest first."""
    return list(session.scalars(select(Workshop).where(Workshop.round_id == round_.id)
                                .order_by(Workshop.held_on, Workshop.id)))


def _facilitator(session: Session, partnership: Partnership, user_id: int | None) -> int | None:
    """A staff member of the partnership (or a site admin), or nobody."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    member = session.scalar(select(Membership.id).where(
        Membership.user_id == user_id, Membership.partnership_id == partnership.id))
    if user is None or (member is None and not user.is_admin):
        raise FollowupError(_l("Choose a facilitator among the partnership's staff."))
    return user.id


def _attendance(round_: Round, counts: Mapping[int, int | None] | None) -> dict[int, int]:
    """Counts per partner of the round; empty or zero counts are left out."""
    allowed = {p.id for p in round_.partners}
    out: dict[int, int] = {}
    for partner_id, count in (counts or {}).items():
        if count in (None, 0):
            continue
        if int(partner_id) not in allowed:
            raise FollowupError(_l("Attendance can be recorded only for the round's partners."))
        if not 0 <= int(count) <= MAX_ATTENDANCE:
            raise FollowupError(_l("Enter attendance as a number of people from 0 to %(n)d.",
                                   n=MAX_ATTENDANCE))
        out[int(partner_id)] = int(count)
    return out


def _check_round(round_: Round) -> None:
    if round_.status is RoundStatus.DRAFT:
        raise FollowupError(_l("A workshop discusses results: open the round first."))


def create_workshop(session: Session, actor: User, round_: Round, *, held_on: date | None,
                    title: str = "", place: str = "", facilitator_id: int | None = None,
                    notes: str = "", attendance: Mapping[int, int | None] | None = None
                    ) -> Workshop:
    """Record a workshop on ``round_``'s results (the round has opened or closed)."""
    _check_round(round_)
    if held_on is None:
        raise FollowupError(_l("Enter the date of the workshop."))
    partnership = round_.partnership
    title = clean_text(title, MAX_SHORT)
    place = clean_text(place, MAX_SHORT)
    notes = clean_text(notes, MAX_NOTES)
    facilitator = _facilitator(session, partnership, facilitator_id)
    counts = _attendance(round_, attendance)
    workshop = Workshop(round_id=round_.id, held_on=held_on, title=title, place=place,
                        facilitator_id=facilitator, notes=notes)
    workshop.attendance = [WorkshopAttendance(partner_id=pid, count=n)
                           for pid, n in sorted(counts.items())]
    session.add(workshop)
    session.flush()
    record(session, actor.id, "workshop.create", workshop, partnership_id=partnership.id,
           round_id=round_.id, held_on=held_on, attendance=sum(counts.values()))
    session.flush()
    return workshop


def update_workshop(session: Session, actor: User, workshop: Workshop, *, held_on: date | None,
                    title: str, place: str, facilitator_id: int | None, notes: str,
                    attendance: Mapping[int, int | None] | None) -> None:
    """Change a workshop's record; the audit log keeps which fields changed."""
    round_ = workshop.round
    if held_on is None:
        raise FollowupError(_l("Enter the date of the workshop."))
    values = {"held_on": held_on, "title": clean_text(title, MAX_SHORT),
              "place": clean_text(place, MAX_SHORT), "notes": clean_text(notes, MAX_NOTES),
              "facilitator_id": _facilitator(session, round_.partnership, facilitator_id)}
    counts = _attendance(round_, attendance)
    changed = [key for key, value in values.items() if getattr(workshop, key) != value]
    for key in changed:
        setattr(workshop, key, values[key])
    before = {row.partner_id: row.count for row in workshop.attendance}
    if before != counts:
        changed.append("attendance")
        by_partner = {row.partner_id: row for row in workshop.attendance}
        for pid in set(by_partner) - set(counts):
            workshop.attendance.remove(by_partner[pid])
        for pid, n in counts.items():
            if pid in by_partner:
                by_partner[pid].count = n
            else:
                workshop.attendance.append(WorkshopAttendance(partner_id=pid, count=n))
    if not changed:
        return
    record(session, actor.id, "workshop.update", workshop,
           partnership_id=round_.partnership_id, fields=sorted(changed))
    session.flush()


def delete_workshop(session: Session, actor: User, workshop: Workshop) -> None:
    """Remove a workshop recorded by mistake; refused once it has actions."""
    if workshop.actions:
        raise FollowupError(_l("This workshop has agreed actions: drop them with a reason "
                               "instead of deleting the workshop."))
    record(session, actor.id, "workshop.delete", workshop,
           partnership_id=workshop.round.partnership_id,
           held_on=workshop.held_on)
    session.delete(workshop)
    session.flush()
