"""Access codes and drafts: everything that knows who may answer, kept apart from answers.

Nothing here references a response and nothing in ``responses`` references these tables, so
the database itself cannot tie an answer to the code that unlocked it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import enum_column, utcnow


class CodeKind(enum.StrEnum):
    SINGLE = "single"  # one printed code, one response
    LINK = "link"  # one shared link for a partner, up to max_uses responses


class AccessCode(Base):
    __tablename__ = "access_codes"
    __table_args__ = (
        CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses_within_limit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    # HMAC-SHA256 of the normalised code under ACCESS_CODE_KEY; the code itself is never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[CodeKind] = mapped_column(enum_column(CodeKind, "code_kind"))
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    # The batch a code was issued in (staff-side bookkeeping, says nothing about answers).
    batch: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Draft(Base):
    """Answers saved part-way, keyed by a hash of the code (or of a link's resume key)."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="id")
    page: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A day, not a time: enough to expire stale drafts, too coarse to match against logs.
    saved_on: Mapped[date] = mapped_column(Date, default=date.today)
