"""The live room: anonymous questions put to the people at a workshop, and what they answered.

A room belongs to a workshop. Its questions are answered from phones that carry a random
participant token in a cookie; the database keeps only a keyed hash of that token *per
question* (so one phone's answers to two questions cannot be joined), never a person, an
address, a time or an access code. Ballot and note ids are random and no row stores when it
arrived, so nothing records arrival order. When a question closes its ballots are folded into
:class:`RoomTally` rows (counts per partner group) and deleted; notes lose their voter hash.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models._types import enum_column, random_id, utcnow

# SQLite keeps rowid tables in insertion order; WITHOUT ROWID tables follow their random key.
_NO_ROWID = {"sqlite_with_rowid": False}


class RoomStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class QuestionKind(enum.StrEnum):
    AGREEMENT = "agreement"
    DOT_VOTE = "dot_vote"
    STICKY_NOTE = "sticky_note"


class QuestionState(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    REVEALED = "revealed"


class NoteStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    HIDDEN = "hidden"  # approved, then taken off the screen by the facilitator


class Room(Base):
    """One live session of a workshop; ``code`` is set only while it is open."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id", ondelete="CASCADE"), index=True)
    # Unique among open rooms: a closed room gives its code back (NULLs never collide).
    code: Mapped[str | None] = mapped_column(String(8), unique=True, default=None)
    status: Mapped[RoomStatus] = mapped_column(
        enum_column(RoomStatus, "room_status"), default=RoomStatus.OPEN)
    # The question on the projector (no foreign key: questions point at the room already).
    screen_question_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # Bumped by every facilitator change, so screens can answer "nothing new" with a 304.
    version: Mapped[int] = mapped_column(Integer, default=0)
    opened_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    questions: Mapped[list[RoomQuestion]] = relationship(
        back_populates="room", cascade="all, delete-orphan", order_by="RoomQuestion.position")


class RoomQuestion(Base):
    __tablename__ = "room_questions"
    __table_args__ = (
        UniqueConstraint("room_id", "position"),
        CheckConstraint("budget >= 1 AND option_cap >= 1 AND option_cap <= budget",
                        name="budget_and_cap"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind, "room_question_kind"))
    prompt: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    budget: Mapped[int] = mapped_column(Integer, default=1)  # dots per phone
    option_cap: Mapped[int] = mapped_column(Integer, default=1)  # dots per phone on one option
    max_chars: Mapped[int] = mapped_column(Integer, default=140)  # sticky note length
    state: Mapped[QuestionState] = mapped_column(
        enum_column(QuestionState, "room_question_state"), default=QuestionState.DRAFT)
    # Set when the question closes: how many phones answered (the ballots are gone then).
    answer_count: Mapped[int | None] = mapped_column(Integer, default=None)

    room: Mapped[Room] = relationship(back_populates="questions")


class RoomBallot(Base):
    """One phone's answer to one open question; deleted when the question closes."""

    __tablename__ = "room_ballots"
    __table_args__ = (UniqueConstraint("question_id", "voter_hash"), _NO_ROWID)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("room_questions.id", ondelete="CASCADE"), index=True)
    voter_hash: Mapped[str] = mapped_column(String(64))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), default=None)
    value: Mapped[int | None] = mapped_column(Integer, default=None)  # agreement point
    allocation: Mapped[list[int] | None] = mapped_column(JSON, default=None)  # dots per option


class RoomNote(Base):
    """A sticky note; its voter hash (one note per phone) is dropped when the question closes."""

    __tablename__ = "room_notes"
    __table_args__ = (UniqueConstraint("question_id", "voter_hash"), _NO_ROWID)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("room_questions.id", ondelete="CASCADE"), index=True)
    voter_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[NoteStatus] = mapped_column(
        enum_column(NoteStatus, "room_note_status"), default=NoteStatus.PENDING)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)  # matched the blocklist


class RoomTally(Base):
    """What a closed question keeps: per partner group, the answers and counts per option.

    ``partner_id`` NULL holds the phones that named no partner. ``counts[i]`` is the number of
    answers at agreement point ``i + 1``, or the dots given to option ``i``.
    """

    __tablename__ = "room_tallies"
    __table_args__ = (_NO_ROWID,)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("room_questions.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL"), default=None)
    answers: Mapped[int] = mapped_column(Integer)
    counts: Mapped[list[Any]] = mapped_column(JSON, default=list)


class RoomBlocklist(Base):
    """Words that flag a sticky note for a second look, one per line, per partnership."""

    __tablename__ = "room_blocklists"

    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), primary_key=True)
    words: Mapped[str] = mapped_column(Text, default="")
