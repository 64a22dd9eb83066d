"""Sharing a round's one-page summary back with the people who answered.

The coordinator turns sharing on (``Round.results_shared_on``, the day it was turned on:
a day, never a time) and may make a public link. The link's token is shown once and only
its SHA-256 is stored (``Round.summary_link_hash``); making a new one replaces the hash, so
the old link stops working, and revoking clears it. Respondents reach the same page through
their code or partner link (``app.views.respond``), which names only the round: nothing ties
the visit to an answer. Every change is audited in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Round, RoundStatus, User
from app.services import audit

__all__ = ["RESPONDENT_SESSION_KEY", "is_shared", "make_link", "revoke_link", "set_sharing",
           "shared_round", "shared_round_by_token", "token_hash"]

#: The respondent's session key naming the round whose shared summary they may see.
RESPONDENT_SESSION_KEY = "shared_round"
#: Bytes of randomness in a public link's token (43 URL-safe characters).
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_shared(round_: Round) -> bool:
    """Shared with respondents: switched on by a coordinator, and the round has been opened."""
    return round_.results_shared_on is not None and round_.status is not RoundStatus.DRAFT


def set_sharing(db: Session, round_: Round, user: User, on: bool, today: date) -> bool:
    """Turn sharing on or off; returns whether anything changed (a repeat click changes nothing)."""
    if on == (round_.results_shared_on is not None):
        return False
    round_.results_shared_on = today if on else None
    audit.record(db, user.id, "summary.share" if on else "summary.unshare", round_,
                 partnership_id=round_.partnership_id)
    db.flush()
    return True


def make_link(db: Session, round_: Round, user: User) -> str:
    """A new public link's token (shown once); any earlier link stops working."""
    replaced = round_.summary_link_hash is not None
    token = secrets.token_urlsafe(TOKEN_BYTES)
    round_.summary_link_hash = token_hash(token)
    audit.record(db, user.id, "summary.link_replace" if replaced else "summary.link_create",
                 round_, partnership_id=round_.partnership_id)
    db.flush()
    return token


def revoke_link(db: Session, round_: Round, user: User) -> bool:
    """Stop the public link; returns False when there was none."""
    if round_.summary_link_hash is None:
        return False
    round_.summary_link_hash = None
    audit.record(db, user.id, "summary.link_revoke", round_,
                 partnership_id=round_.partnership_id)
    db.flush()
    return True


def shared_round_by_token(db: Session, token: str | None) -> Round | None:
    """The shared round a public link's token names; None when unknown, revoked or not shared."""
    if not token or len(token) > 200:
        return None
    round_ = db.scalar(select(Round).where(Round.summary_link_hash == token_hash(token)))
    return round_ if round_ is not None and is_shared(round_) else None


def shared_round(db: Session, round_id: object) -> Round | None:
    """The round a respondent's session names, if its summary is shared; else None."""
    if not isinstance(round_id, int) or isinstance(round_id, bool):
        return None
    round_ = db.get(Round, round_id)
    return round_ if round_ is not None and is_shared(round_) else None
