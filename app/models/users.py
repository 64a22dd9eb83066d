"""Staff accounts and their roles in partnerships (respondents never have accounts)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models._types import enum_column, utcnow

if TYPE_CHECKING:
    from app.models.partnerships import Partner, Partnership


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"
    FACILITATOR = "facilitator"
    OBSERVER = "observer"


class User(UserMixin, Base):
    """A staff account; UserMixin gives Flask-Login its interface (get_id, is_authenticated)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="id")
    # Bumped on sign-out and password change so old session cookies stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Two-factor sign-in (TOTP, RFC 6238): the shared secret encrypted with Fernet under a key
    # derived from TWO_FACTOR_KEY / SECRET_KEY (app.auth.two_factor), never in clear; the
    # time step of the last accepted code, so a code cannot be replayed within its window.
    totp_secret: Mapped[str | None] = mapped_column(String(255), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to sign in an inactive account."""
        return self.is_active_account

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Membership(Base):
    """A user's role in one partnership; observers may be tied to the partner they liaise for."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "partnership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), default=None
    )

    user: Mapped[User] = relationship(back_populates="memberships")
    partnership: Mapped[Partnership] = relationship(back_populates="memberships")
    partner: Mapped[Partner | None] = relationship()
