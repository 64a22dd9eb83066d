"""Assessment rounds: set-up while draft, then draft -> open -> closed (and re-open).

Once a round has opened, its questionnaire version and its partners are fixed: answers already
given refer to those items and partners. Name and dates may still change (e.g. to extend the
closing date).
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    Partner,
    Partnership,
    QuestionnaireVersion,
    Round,
    RoundStatus,
    User,
)
from app.services.anonymity import reshuffle_round
from app.services.audit import record

MIN_PARTNERS = 2
MAX_REASON_LENGTH = 1000

# (from, to) -> audit action. Re-opening needs a reason, kept in the audit log.
TRANSITIONS: dict[tuple[RoundStatus, RoundStatus], str] = {
    (RoundStatus.DRAFT, RoundStatus.OPEN): "round.open",
    (RoundStatus.OPEN, RoundStatus.CLOSED): "round.close",
    (RoundStatus.CLOSED, RoundStatus.OPEN): "round.reopen",
}


class RoundError(ValueError):
    """A round change was refused; ``str(error)`` is a message for the person who asked."""


def round_in(session: Session, partnership: Partnership, round_id: int) -> Round | None:
    """Load a round only if it belongs to ``partnership`` (the caller answers 404 otherwise)."""
    return session.scalar(select(Round).where(Round.id == round_id,
                                              Round.partnership_id == partnership.id))


def questionnaire_versions(session: Session) -> list[QuestionnaireVersion]:
    return list(session.scalars(select(QuestionnaireVersion).order_by(
        QuestionnaireVersion.slug, QuestionnaireVersion.version.desc())))


def _partners(session: Session, partnership: Partnership, partner_ids: list[int]) -> list[Partner]:
    wanted = set(partner_ids)
    partners = list(session.scalars(select(Partner).where(
        Partner.partnership_id == partnership.id, Partner.id.in_(wanted)).order_by(Partner.name)))
    if len(partners) != len(wanted):
        raise RoundError(_l("Choose partners of this partnership."))
    if len(partners) < MIN_PARTNERS:
        raise RoundError(_l("Choose at least two participating partners."))
    return partners


def _check_dates(opens_on: date | None, closes_on: date | None) -> None:
    if opens_on is None or closes_on is None:
        raise RoundError(_l("Enter an opening and a closing date."))
    if closes_on < opens_on:
        raise RoundError(_l("The closing date cannot be before the opening date."))


def _check_name(session: Session, partnership: Partnership, name: str,
                except_id: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise RoundError(_l("Enter a name for the round."))
    query = select(Round.id).where(Round.partnership_id == partnership.id,
                                   func.lower(Round.name) == name.lower())
    if except_id is not None:
        query = query.where(Round.id != except_id)
    if session.scalar(query) is not None:
        raise RoundError(_l("This partnership already has a round with this name."))
    return name


def _version(session: Session, version_id: int) -> QuestionnaireVersion:
    version = session.get(QuestionnaireVersion, version_id)
    if version is None:
        raise RoundError(_l("Choose an imported questionnaire version."))
    return version


def create_round(session: Session, actor: User, partnership: Partnership, *, name: str,
                 questionnaire_version_id: int, opens_on: date | None, closes_on: date | None,
                 partner_ids: list[int]) -> Round:
    """Create a draft round for at least two of the partnership's partners."""
    name = _check_name(session, partnership, name)
    _check_dates(opens_on, closes_on)
    version = _version(session, questionnaire_version_id)
    partners = _partners(session, partnership, partner_ids)
    round_ = Round(partnership_id=partnership.id, name=name, questionnaire_version=version,
                   opens_on=opens_on, closes_on=closes_on, status=RoundStatus.DRAFT,
                   partners=partners)
    session.add(round_)
    session.flush()
    record(session, actor.id, "round.create", round_, partnership_id=partnership.id, name=name,
           questionnaire=f"{version.slug} v{version.version}",
           partner_ids=[p.id for p in partners])
    session.flush()
    return round_


def update_round(session: Session, actor: User, round_: Round, *, name: str,
                 opens_on: date | None, closes_on: date | None,
                 questionnaire_version_id: int | None = None,
                 partner_ids: list[int] | None = None) -> None:
    """Change a round; questionnaire and partners only while it is a draft."""
    partnership = round_.partnership
    name = _check_name(session, partnership, name, except_id=round_.id)
    _check_dates(opens_on, closes_on)
    changed: dict[str, object] = {}
    new_version = (questionnaire_version_id
                   if questionnaire_version_id not in (None, round_.questionnaire_version_id)
                   else None)
    new_partners = (partner_ids
                    if partner_ids is not None
                    and set(partner_ids) != {p.id for p in round_.partners}
                    else None)
    if (new_version is not None or new_partners is not None) \
            and round_.status is not RoundStatus.DRAFT:
        raise RoundError(_l("The questionnaire and the partners of a round cannot change once "
                            "it has opened."))
    # Validate everything before changing anything.
    version = _version(session, new_version) if new_version is not None else None
    partners = _partners(session, partnership, new_partners) if new_partners is not None else None
    if version is not None:
        round_.questionnaire_version = version
        changed["questionnaire"] = f"{version.slug} v{version.version}"
    if partners is not None:
        round_.partners = partners
        changed["partner_ids"] = [p.id for p in partners]
    for key, value in (("name", name), ("opens_on", opens_on), ("closes_on", closes_on)):
        if getattr(round_, key) != value:
            setattr(round_, key, value)
            changed[key] = value
    if not changed:
        return
    record(session, actor.id, "round.update", round_, partnership_id=partnership.id,
           fields=sorted(changed), **{k: v for k, v in changed.items() if k != "name"})
    session.flush()


def allowed_targets(round_: Round) -> list[RoundStatus]:
    """Statuses the round may move to from where it is."""
    return [to for (frm, to) in TRANSITIONS if frm is round_.status]


def change_status(session: Session, actor: User, round_: Round, target: RoundStatus,
                  reason: str = "") -> None:
    """Move the round along one allowed transition; re-opening needs a reason."""
    target = RoundStatus(target)
    action = TRANSITIONS.get((round_.status, target))
    if action is None:
        raise RoundError(_l("A round cannot move from this status to that one."))
    reason = reason.strip()
    if action == "round.reopen" and not reason:
        raise RoundError(_l("Say why the round is being re-opened."))
    if len(reason) > MAX_REASON_LENGTH:
        raise RoundError(_l("Keep the reason under %(n)d characters.", n=MAX_REASON_LENGTH))
    if target is RoundStatus.OPEN and len(round_.partners) < MIN_PARTNERS:
        raise RoundError(_l("Choose at least two participating partners."))
    previous = round_.status
    round_.status = target
    if target is RoundStatus.CLOSED:
        reshuffle_round(session, round_.id)
    details: dict[str, object] = {"from": previous.value, "to": target.value}
    if reason:
        details["reason"] = reason
    record(session, actor.id, action, round_, partnership_id=round_.partnership_id, **details)
    session.flush()
    if target is RoundStatus.CLOSED:
        # Publish the closed round's results in the background, so no reader waits for them.
        from app.jobs.tasks import enqueue_snapshot  # the job modules import the services

        enqueue_snapshot(session, round_)
