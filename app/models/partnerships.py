"""Partnerships, their partners and their assessment rounds."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models._types import enum_column, utcnow

if TYPE_CHECKING:
    from app.models.questionnaires import QuestionnaireVersion
    from app.models.users import Membership


class Sector(enum.StrEnum):
    GOVERNMENT = "government"
    PRIVATE = "private"
    NGO = "ngo"
    COMMUNITY = "community"
    ACADEMIA = "academia"
    DONOR = "donor"
    OTHER = "other"


class RoundStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Partnership(Base):
    __tablename__ = "partnerships"
    __table_args__ = (CheckConstraint("min_group_size >= 3", name="min_group_size_floor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    default_language: Mapped[str] = mapped_column(String(8), default="id")
    min_group_size: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partners: Mapped[list[Partner]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan", order_by="Partner.name"
    )
    rounds: Mapped[list[Round]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan", order_by="Round.opens_on"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="partnership", cascade="all, delete-orphan"
    )


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("partnership_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[Sector] = mapped_column(enum_column(Sector, "sector"))

    partnership: Mapped[Partnership] = relationship(back_populates="partners")


round_partners = Table(
    "round_partners",
    Base.metadata,
    Column("round_id", ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
)


class Round(Base):
    """One assessment wave (putaran) of a partnership on one questionnaire version."""

    __tablename__ = "rounds"
    __table_args__ = (
        UniqueConstraint("partnership_id", "name"),
        CheckConstraint("closes_on IS NULL OR opens_on IS NULL OR closes_on >= opens_on",
                        name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    questionnaire_version_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_versions.id", ondelete="RESTRICT"), index=True
    )
    opens_on: Mapped[date | None] = mapped_column(Date, default=None)
    closes_on: Mapped[date | None] = mapped_column(Date, default=None)
    status: Mapped[RoundStatus] = mapped_column(
        enum_column(RoundStatus, "round_status"), default=RoundStatus.DRAFT
    )
    # Bumped whenever responses change so cached results know they are stale.
    results_version: Mapped[int] = mapped_column(Integer, default=0)
    # Set when answers were added after the round closed, so its published results changed:
    # the day (staff data, not respondent data) and what the coordinator wrote about why.
    results_revised_on: Mapped[date | None] = mapped_column(Date, default=None)
    revision_note: Mapped[str | None] = mapped_column(Text, default=None)
    # Sharing the results back with the people who answered: the day the coordinator turned it
    # on (a day, not a time), and the SHA-256 of the public summary link's token, if any (a new
    # link replaces the hash, which revokes the old one).
    results_shared_on: Mapped[date | None] = mapped_column(Date, default=None)
    summary_link_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partnership: Mapped[Partnership] = relationship(back_populates="rounds")
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    partners: Mapped[list[Partner]] = relationship(
        secondary=round_partners, order_by="Partner.name"
    )
