"""Personal access tokens for the read-only JSON API.

A token is 256 random bits behind a recognisable prefix (``mspat_``, so secret scanners and
people can tell what leaked). Only its SHA-256 is stored: a fast hash is enough for a secret
with that much entropy (ASVS 6.5.2), and it lets a request find its token with one indexed
lookup. The plain token exists only in the response that created it. A token acts with its
owner's memberships, so revoking a membership takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.models import ApiToken, User
from app.models._types import utcnow
from app.services.audit import record

TOKEN_PREFIX = "mspat_"
TOKEN_BYTES = 32
# Characters of the token kept in the clear, so its owner can tell tokens apart.
SHOWN_PREFIX_LENGTH = 12
MAX_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS = 20
# The longest a token may live; an optional expiry is encouraged, an endless token allowed.
MAX_LIFETIME_DAYS = 366


class TokenError(ValueError):
    """A token change was refused; ``str(error)`` is a message for the person who asked."""


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def new_plain_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones included)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def is_active(token: ApiToken, today: date) -> bool:
    """Not revoked and not expired: a token stops working on its expiry date."""
    return token.revoked_at is None and (token.expires_on is None or today < token.expires_on)


def create_token(session: Session, user: User, name: str, expires_on: date | None,
                 today: date) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return it with the plain token, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise TokenError(_l("Give the token a name, so you know later what uses it."))
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(_l("Use a name of at most %(n)d characters.", n=MAX_NAME_LENGTH))
    if expires_on is not None and not 0 < (expires_on - today).days <= MAX_LIFETIME_DAYS:
        raise TokenError(_l("Choose an expiry date within the next %(n)d days.",
                            n=MAX_LIFETIME_DAYS))
    active = session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_on.is_(None), ApiToken.expires_on > today)))
    if (active or 0) >= MAX_ACTIVE_TOKENS:
        raise TokenError(_l("You have %(n)d active tokens, the most allowed. Revoke one you "
                            "no longer use first.", n=MAX_ACTIVE_TOKENS))
    plain = new_plain_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(plain),
                     prefix=plain[:SHOWN_PREFIX_LENGTH], expires_on=expires_on)
    session.add(token)
    session.flush()
    record(session, user.id, "token.create", token, name=name, prefix=token.prefix,
           expires_on=expires_on.isoformat() if expires_on else None)
    return token, plain


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken | None:
    """Revoke one of ``user``'s own tokens; None when there is no such active token."""
    token = session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                  ApiToken.user_id == user.id))
    if token is None or token.revoked_at is not None:
        return None
    token.revoked_at = utcnow()
    session.flush()
    record(session, user.id, "token.revoke", token, name=token.name, prefix=token.prefix)
    return token


def authenticate(session: Session, plain: str, today: date) -> tuple[ApiToken, User] | None:
    """Find the active token ``plain`` and its active owner, or None."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == hash_token(plain))).first()
    if row is None:
        return None
    token, user = row
    if not is_active(token, today) or not user.is_active_account:
        return None
    return token, user


def note_use(session: Session, token_id: int, today: date) -> bool:
    """Set ``last_used_on`` to today unless it already is: at most one write a day per token."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id,
               or_(ApiToken.last_used_on.is_(None), ApiToken.last_used_on < today))
        .values(last_used_on=today)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1
