"""Reflection workshops, the follow-up actions they agree and partners' commitments.

The follow-up loop: a round's results are discussed in one or more workshops; each agrees
actions (tindak lanjut) aimed at a dimension or an item of the questionnaire, owned by
partners; the next round measures that dimension again. Partners' commitments (what each
pledged in the partnership agreement) are reviewed in every round of their period.

Nothing here names a respondent: attendance is a count per partner.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models._types import enum_column, utcnow
from app.models.partnerships import Partner, Round


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def is_open(self) -> bool:
        """Still to be done: such an action may be carried over into the next round."""
        return self in (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)


class OwnerRole(enum.StrEnum):
    """An owning partner answers for the action; a co-owner contributes to it."""

    OWNER = "owner"
    CO_OWNER = "co_owner"


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
    """A reflection workshop on one round's results (held after, or while, the round runs)."""

    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    facilitator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship()
    actions: Mapped[list[Action]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan", order_by="Action.id"
    )
    attendance: Mapped[list[WorkshopAttendance]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan"
    )

    @property
    def attendees(self) -> int:
        return sum(row.count for row in self.attendance)


class WorkshopAttendance(Base):
    """How many people of a partner took part in a workshop (a count, never names)."""

    __tablename__ = "workshop_attendance"
    __table_args__ = (CheckConstraint("count >= 0", name="count_not_negative"),)

    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer)

    workshop: Mapped[Workshop] = relationship(back_populates="attendance")
    partner: Mapped[Partner] = relationship()


class ActionOwner(Base):
    """A partner answering for an action (``owner``) or contributing to it (``co_owner``)."""

    __tablename__ = "action_owners"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[OwnerRole] = mapped_column(
        enum_column(OwnerRole, "owner_role"), default=OwnerRole.OWNER,
        server_default=OwnerRole.OWNER.value,
    )

    action: Mapped[Action] = relationship(back_populates="owner_links")
    partner: Mapped[Partner] = relationship()


#: The association table, under the name the first schema gave it.
action_owners = ActionOwner.__table__


class Action(Base):
    """A follow-up action (tindak lanjut), reviewed when the next round's results come in.

    It addresses a dimension or one item of the questionnaire version of its workshop's round
    (``questionnaire_version_id``): that is what the next round measures. An open action
    carried into a later round's workshop becomes a new action there, pointing back through
    ``carried_over_from_id``, so each round's record stays as it was agreed.
    """

    __tablename__ = "actions"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("dimension_id IS NOT NULL OR item_id IS NOT NULL",
                        name="addresses_dimension_or_item"),
        CheckConstraint("status != 'dropped' OR drop_reason IS NOT NULL",
                        name="dropped_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    questionnaire_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_versions.id", ondelete="RESTRICT"), default=None
    )
    dimension_id: Mapped[str | None] = mapped_column(String(64), default=None)
    item_id: Mapped[str | None] = mapped_column(String(64), default=None)
    due_on: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[ActionStatus] = mapped_column(
        enum_column(ActionStatus, "action_status"), default=ActionStatus.PLANNED
    )
    progress: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    drop_reason: Mapped[str | None] = mapped_column(Text, default=None)
    review_note: Mapped[str] = mapped_column(Text, default="")
    carried_over_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("actions.id", ondelete="SET NULL"), default=None, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    workshop: Mapped[Workshop] = relationship(back_populates="actions")
    owner_links: Mapped[list[ActionOwner]] = relationship(
        back_populates="action", cascade="all, delete-orphan"
    )
    checklist: Mapped[list[ActionChecklistItem]] = relationship(
        back_populates="action", cascade="all, delete-orphan",
        order_by="ActionChecklistItem.position",
    )
    carried_over_from: Mapped[Action | None] = relationship(remote_side=[id])

    @property
    def owners(self) -> list[Partner]:
        """The partners answering for the action, by name."""
        return sorted((link.partner for link in self.owner_links
                       if link.role is OwnerRole.OWNER), key=lambda p: p.name)

    @property
    def co_owners(self) -> list[Partner]:
        return sorted((link.partner for link in self.owner_links
                       if link.role is OwnerRole.CO_OWNER), key=lambda p: p.name)

    def is_overdue(self, today: date) -> bool:
        """Past its due date and still open."""
        return self.status.is_open and self.due_on is not None and self.due_on < today


class ActionChecklistItem(Base):
    """One step of an action's optional checklist."""

    __tablename__ = "action_checklist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    action: Mapped[Action] = relationship(back_populates="checklist")


class Commitment(Base):
    """What a partner pledged to contribute for a period, reviewed in each round of it.

    ``round_id`` is the round from which the pledge counts (the one whose workshop or
    agreement recorded it); ``starts_on``/``ends_on`` bound the period when the agreement
    names dates. Every round in the period gets a :class:`CommitmentReview`. ``status`` and
    ``note`` (from the first schema) hold the latest review's verdict for quick listing.
    """

    __tablename__ = "commitments"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                        name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    kind: Mapped[CommitmentKind] = mapped_column(enum_column(CommitmentKind, "commitment_kind"))
    description: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date | None] = mapped_column(Date, default=None)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    partner: Mapped[Partner] = relationship()
    round: Mapped[Round] = relationship()
    reviews: Mapped[list[CommitmentReview]] = relationship(
        back_populates="commitment", cascade="all, delete-orphan"
    )


class CommitmentReview(Base):
    """Whether a commitment was delivered, as assessed in one round of its period."""

    __tablename__ = "commitment_reviews"
    __table_args__ = (UniqueConstraint("commitment_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "review_status")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    commitment: Mapped[Commitment] = relationship(back_populates="reviews")
    round: Mapped[Round] = relationship()
