"""Whether a code or partner link lets someone answer now, and for which round and partner.

Looking a code up never changes it: a GET of a printed QR link or a link pre-fetched by a
mail scanner must not use it up. Only :func:`app.services.submissions.submit_response`
counts a use.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from app.models import AccessCode, CodeKind, Partner, QuestionnaireVersion, Round, RoundStatus
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
    """Re-check the code held in a respondent's session, on every step of the flow.

    The code and its round come in one statement (see :func:`_round_statement`).
    """
    row = session.execute(
        _round_statement().add_columns(AccessCode)
        .join(AccessCode, AccessCode.round_id == Round.id).where(AccessCode.id == code_id)
    ).unique().one_or_none()
    if row is None:
        raise AccessRefused(Refusal.UNKNOWN)
    round_, code = row
    return _checked(session, code, today, round_)


def _checked(session: Session, code: AccessCode | None, today: date,
             round_: Round | None = None) -> RespondentAccess:
    if code is None:
        raise AccessRefused(Refusal.UNKNOWN)
    if round_ is None:
        round_ = session.scalars(
            _round_statement().where(Round.id == code.round_id)).unique().one_or_none()
    if round_ is None:
        raise AccessRefused(Refusal.UNKNOWN)
    check_round_open(round_, code.partner_id, today, kind=code.kind)
    if code.uses >= code.max_uses:
        raise AccessRefused(Refusal.USED, round_, code.kind)
    partner = session.get(Partner, code.partner_id)
    if partner is None:
        raise AccessRefused(Refusal.UNKNOWN)
    return RespondentAccess(code, round_, partner)


def _round_statement() -> Select[tuple[Round]]:
    """The round with what every respondent step reads of it, in one statement.

    Every step of the flow re-checks the code, so this runs on every respondent request: the
    partners (checked and laid out) and the questionnaire version's id and hash (the parsed
    questionnaire is cached under them) come in the same query. The version's definition, a
    large JSON document, stays unloaded unless that cache misses.
    """
    return select(Round).options(
        joinedload(Round.partners),
        joinedload(Round.questionnaire_version).defer(QuestionnaireVersion.definition),
    )


def check_round_open(round_: Round, partner_id: int, today: date,
                     kind: CodeKind | None = None) -> None:
    """Refuse unless the round is open today and still includes the partner."""
    if round_.status is RoundStatus.DRAFT or (round_.opens_on and today < round_.opens_on):
        raise AccessRefused(Refusal.NOT_OPEN, round_, kind)
    if round_.status is RoundStatus.CLOSED or (round_.closes_on and today > round_.closes_on):
        raise AccessRefused(Refusal.CLOSED, round_, kind)
    if all(partner.id != partner_id for partner in round_.partners):
        raise AccessRefused(Refusal.PARTNER_LEFT, round_, kind)


# --------------------------------------------------------------------------- the browser's copy

_STATE_PURPOSE = b"mitra-sehat respondent state v1"
_NONCE_BYTES = 12


@dataclass(frozen=True)
class RespondentState:
    """What a respondent's browser carries between steps: which code, which draft, resume code."""

    code_id: int
    draft_key: str
    resume_code: str | None = None


@lru_cache(maxsize=8)
def _state_cipher(secret_key: str) -> AESGCM:
    # A key of its own, derived for this one purpose: the session signature key is not reused.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=_STATE_PURPOSE).derive(secret_key.encode("utf-8"))
    return AESGCM(key)


def seal_state(secret_key: str, state: RespondentState) -> str:
    """Encrypt and authenticate the state, so the cookie shows neither code id nor resume code.

    The signed Flask session is readable by anyone holding the cookie (a shared phone, a
    proxy log); AES-GCM makes this part opaque. A random nonce and no timestamp: the blob
    says nothing about when it was made.
    """
    payload = json.dumps([state.code_id, state.draft_key, state.resume_code],
                         separators=(",", ":")).encode("utf-8")
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _state_cipher(secret_key).encrypt(nonce, payload, _STATE_PURPOSE)
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_state(secret_key: str, blob: object) -> RespondentState | None:
    """Decrypt a sealed state; None for anything missing, tampered with or malformed."""
    if not isinstance(blob, str) or len(blob) > 1024:
        return None
    try:
        raw = base64.urlsafe_b64decode(blob.encode("ascii"))
        payload = _state_cipher(secret_key).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _STATE_PURPOSE)
        code_id, draft_key, resume_code = json.loads(payload)
    except (InvalidTag, ValueError, TypeError, UnicodeError, binascii.Error):
        return None
    if not isinstance(code_id, int) or isinstance(code_id, bool) \
            or not isinstance(draft_key, str) \
            or not (resume_code is None or isinstance(resume_code, str)):
        return None
    return RespondentState(code_id, draft_key, resume_code)
