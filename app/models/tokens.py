"""Personal access tokens for the read-only JSON API, stored as SHA-256 hashes only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import utcnow


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # 256-bit random tokens need no slow hash: SHA-256 of the token is enough (ASVS 6.5.2).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, shown in the profile so users can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_on: Mapped[date | None] = mapped_column(Date, default=None)
    last_used_on: Mapped[date | None] = mapped_column(Date, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
