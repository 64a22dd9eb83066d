"""Whether a code or partner link lets someone answer now, and for which round and partner.

Looking a code up never changes it: a GET of a printed QR link or a link pre-fetched by a
mail scanner must not use it up. Only :func:`app.services.submissions.submit_response`
counts a use.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.models import AccessCode, CodeKind, Partner, Round, RoundStatus
from app.services.access_codes import find_code, find_link


class Refusal(enum.StrEnum):
    UNKNOWN = "unknown"  # no such code or link
    USED = "used"  # single code already used, or link used as often as allowed
    NOT_OPEN = "not_open"  # round still a draft, or before its opening date
    CLOSED = "closed"  # round closed, or after its closing date
    PARTNER_LEFT = "partner_left"  # the code's partner no longer takes part in the round


class AccessRefused(Exception):
    """A code or link cannot be used now; ``reason`` says why, ``round`` when known."""

    def __init__(self, reason: Refusal, round_: Round | None = None,
                 kind: CodeKind | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.round = round_
        self.kind = kind


@dataclass(frozen=True)
class RespondentAccess:
    code: AccessCode
    round: Round
    partner: Partner

    @property
    def is_link(self) -> bool:
        return self.code.kind is CodeKind.LINK


def local_today(timezone: str) -> date:
    """Today's date where the partnership works: rounds open and close on local dates."""
    return datetime.now(ZoneInfo(timezone)).date()


def access_by_code(session: Session, raw_code: str, today: date) -> RespondentAccess:
    """Check a typed or scanned single-use code; raises AccessRefused."""
    return _checked(session, find_code(session, raw_code), today)


def access_by_link(session: Session, token: str, today: date) -> RespondentAccess:
    """Check a partner-link token; raises AccessRefused."""
    return _checked(session, find_link(session, token), today)


def access_by_id(session: Session, code_id: int, today: date) -> RespondentAccess:
    """Re-check the code held in a respondent's session, on every step of the flow."""
    return _checked(session, session.get(AccessCode, code_id), today)


def _checked(session: Session, code: AccessCode | None, today: date) -> RespondentAccess:
    if code is None:
        raise AccessRefused(Refusal.UNKNOWN)
    round_ = session.get(Round, code.round_id)
    if round_ is None:
        raise AccessRefused(Refusal.UNKNOWN)
    check_round_open(round_, code.partner_id, today, kind=code.kind)
    if code.uses >= code.max_uses:
        raise AccessRefused(Refusal.USED, round_, code.kind)
    partner = session.get(Partner, code.partner_id)
    if partner is None:
        raise AccessRefused(Refusal.UNKNOWN)
    return RespondentAccess(code, round_, partner)


def check_round_open(round_: Round, partner_id: int, today: date,
                     kind: CodeKind | None = None) -> None:
    """Refuse unless the round is open today and still includes the partner."""
    if round_.status is RoundStatus.DRAFT or (round_.opens_on and today < round_.opens_on):
        raise AccessRefused(Refusal.NOT_OPEN, round_, kind)
    if round_.status is RoundStatus.CLOSED or (round_.closes_on and today > round_.closes_on):
        raise AccessRefused(Refusal.CLOSED, round_, kind)
    if all(partner.id != partner_id for partner in round_.partners):
        raise AccessRefused(Refusal.PARTNER_LEFT, round_, kind)
