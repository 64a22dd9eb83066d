"""Published result snapshots: what the results pages, exports and API show.

A round's results are computed once per change and kept here, so every worker serves the same
figures without recomputing. While a round is open a new snapshot is only published once at
least ``k`` new responses have arrived, so nobody can watch the figures move response by
response and work out what the last person answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import utcnow


class ResultSnapshot(Base):
    __tablename__ = "result_snapshots"
    __table_args__ = (UniqueConstraint("kind", "cache_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # "round" or "over_time"
    # Everything the figures depend on: round ids, their results versions, partners, k.
    cache_key: Mapped[str] = mapped_column(String(64))
    n_responses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
