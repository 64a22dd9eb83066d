"""The audit log of staff changes (never of respondents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import utcnow

# How an event was made: through the site by the signed-in user, or from the command line
# (``flask ...``), where nobody is signed in. "unknown" marks rows older than this column, whose
# missing user may be either a command or an account deleted since.
VIA_WEB = "web"
VIA_CLI = "cli"
VIA_UNKNOWN = "unknown"


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="SET NULL"), default=None, index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    via: Mapped[str] = mapped_column(String(16), default=VIA_WEB, server_default=VIA_WEB)
