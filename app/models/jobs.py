"""Background jobs: PDF reports, large downloads, paper imports and snapshots, done off-request.

A row is the job's whole state, so any app server can show its progress and serve its file and
any worker can pick it up again after a crash. ``idempotency_key`` is unique while the job
may still be reused (queued, running, or done with a fresh file) and cleared once it may not
(failed, expired), so asking twice for the same thing gives the same job and a race between
two servers ends in one row. Staff jobs only: nothing here is about respondents.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._types import enum_column, random_id, utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The id in URLs: random, so job pages cannot be enumerated or counted.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=random_id)
    kind: Mapped[str] = mapped_column(String(32))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the job makes, whoever asked (kind + parameters): a finished file may be copied.
    content_key: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # None for jobs the system starts (a snapshot after a round closes).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None, index=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    state: Mapped[JobState] = mapped_column(enum_column(JobState, "job_state"),
                                            default=JobState.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # File name inside the job-files folder (never a path from outside), its type and the
    # name the browser saves it under.
    result_file: Mapped[str | None] = mapped_column(String(80), default=None)
    result_type: Mapped[str | None] = mapped_column(String(100), default=None)
    result_name: Mapped[str | None] = mapped_column(String(200), default=None)
    # What a job without a file has to say (rows stored, ...), for its page.
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # A sentence for the person, in their language; never a stack trace.
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Last sign of life from the worker running it; a running job silent for too long is
    # taken to have died with its worker and is queued again.
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None, index=True)

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)
