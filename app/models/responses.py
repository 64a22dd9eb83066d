"""Submitted responses. No column here can lead back to a person, a code or a moment."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models._types import random_id

# SQLite keeps rows of rowid tables in insertion order; WITHOUT ROWID tables are ordered by
# their random primary key instead, so physical order says nothing about arrival order.
_NO_ROWID = {"sqlite_with_rowid": False}

WEB_SOURCE = "web"
PAPER_SOURCE = "paper"  # typed in from paper forms: no access code was used


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = _NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(8))
    submitted_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default=WEB_SOURCE)

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan")
    ratings: Mapped[list[PartnerRating]] = relationship(cascade="all, delete-orphan")


class Answer(Base):
    """One closed answer; ``value`` is NULL for "don't know" (never a number)."""

    __tablename__ = "answers"
    __table_args__ = _NO_ROWID

    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int | None] = mapped_column(Integer, default=None)


class PartnerRating(Base):
    """A respondent's rating of another participating partner (rater = the response's partner)."""

    __tablename__ = "partner_ratings"
    __table_args__ = _NO_ROWID

    response_id: Mapped[str] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ratee_partner_id: Mapped[int] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int | None] = mapped_column(Integer, default=None)


class OpenAnswer(Base):
    """Free text, deliberately not linked to its response so it cannot be joined to scores."""

    __tablename__ = "open_answers"
    __table_args__ = _NO_ROWID

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)


