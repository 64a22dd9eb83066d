"""Invitations: an email address asked to take a role in a partnership through a one-time link.

The link's random token is never stored, only its SHA-256 (a 256-bit secret needs no slow
hash, as for API tokens), so a copy of the database opens no invitation. A row is never
deleted when it is used, revoked or expired: the members page lists what happened to it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models._types import enum_column, utcnow
from app.models.users import Role

if TYPE_CHECKING:
    from app.models.partnerships import Partner, Partnership
    from app.models.users import User


class InvitationStatus(enum.StrEnum):
    """What became of an invitation; derived from its times, never stored."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)  # normalised (lower case)
    role: Mapped[Role] = mapped_column(enum_column(Role, "invitation_role"))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), default=None)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Naive UTC, like every timestamp here. A new link replaces the token and the expiry.
    expires_at: Mapped[datetime] = mapped_column()
    # When the link last went out by mail; None when it was shown for copying instead.
    mailed_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    partnership: Mapped[Partnership] = relationship()
    partner: Mapped[Partner | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def status(self, now: datetime) -> InvitationStatus:
        """Accepted and revoked are final; otherwise pending until ``expires_at``."""
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING
