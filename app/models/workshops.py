"""Reflection workshops, the follow-up actions they agree and partners' commitments."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models._types import enum_column, utcnow
from app.models.partnerships import Partner


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


class CommitmentKind(enum.StrEnum):
    MONEY = "money"
    STAFF = "staff"
    KNOWLEDGE = "knowledge"
    NETWORKS = "networks"
    LOCAL_WISDOM = "local_wisdom"
    FACILITIES = "facilities"
    OTHER = "other"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    PARTIAL = "partial"
    NOT_DELIVERED = "not_delivered"


class Workshop(Base):
    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actions: Mapped[list[Action]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan"
    )


action_owners = Table(
    "action_owners",
    Base.metadata,
    Column("action_id", ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
)


class Action(Base):
    """A follow-up action (tindak lanjut), reviewed when the next round's results come in."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    dimension_id: Mapped[str | None] = mapped_column(String(64), default=None)
    item_id: Mapped[str | None] = mapped_column(String(64), default=None)
    due_on: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[ActionStatus] = mapped_column(
        enum_column(ActionStatus, "action_status"), default=ActionStatus.PLANNED
    )
    review_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workshop: Mapped[Workshop] = relationship(back_populates="actions")
    owners: Mapped[list[Partner]] = relationship(secondary=action_owners)


class Commitment(Base):
    """What a partner pledged to contribute in a round, and whether it was delivered."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    kind: Mapped[CommitmentKind] = mapped_column(enum_column(CommitmentKind, "commitment_kind"))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    note: Mapped[str] = mapped_column(Text, default="")

    partner: Mapped[Partner] = relationship()
