"""Second-factor recovery codes and the counters that throttle failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import utcnow


class RecoveryCode(Base):
    """A one-time code that replaces a TOTP code when the phone is lost.

    Only an HMAC of the code is stored (the codes carry 50 random bits, so a keyed hash is
    enough and lookup by hash stays a single indexed query); ``used_at`` marks it spent.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class SignInThrottle(Base):
    """Failed sign-in counter for one key (client, account or address; see app.auth.throttle).

    Keys are HMACs: neither an address nor an email address is stored. Rows are kept in the
    database, not Redis, so every app server sees the same counters and a Redis outage never
    switches the throttle off or turns sign-in into an error.
    """

    __tablename__ = "sign_in_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    next_allowed_at: Mapped[datetime] = mapped_column(default=utcnow)
