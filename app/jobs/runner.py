"""Run one job from its database row, whichever process picked it up.

:func:`run` first *claims* the job (queued -> running, one more attempt) in a transaction of
its own, so a job handed out twice runs once; then it calls the job's task
(:data:`app.jobs.tasks.TASKS`) with a :class:`JobContext`, and marks the job done or failed.
Marking done checks the attempt number: a worker that was given up for dead and comes back
cannot overwrite the retry's result. Heartbeats (progress) are short transactions of their
own, so a long task never holds the database's write lock.

Failures a person can act on are :class:`JobFailed`, whose message is shown on the job page.
Anything else is logged with its traceback and retried, up to ``JOB_MAX_ATTEMPTS`` attempts;
the page then says only that it failed, never the traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO, Any

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import new_session
from app.jobs import files, queue
from app.models import Job, JobState
from app.models._types import utcnow

log = logging.getLogger(__name__)

FAILED = _l("Something went wrong while this was being prepared. Try again; if it fails "
            "again, tell the site administrator.")


class JobFailed(Exception):
    """The job cannot be done as asked; ``str(error)`` is a sentence for the person."""


class JobContext:
    """What a task gets: its parameters, a reading session and ways to report and save."""

    def __init__(self, app: Flask, job: Job, session: Session) -> None:
        self.app = app
        self.job_id = job.id
        self.public_id = job.public_id
        self.kind = job.kind
        self.parameters: dict[str, Any] = dict(job.parameters or {})
        self.user_id = job.user_id
        self.partnership_id = job.partnership_id
        self.attempt = job.attempts
        self.session = session
        self.result: dict[str, Any] = {}
        self.outcome: dict[str, Any] | None = None
        self.marked_done = False

    @property
    def language(self) -> str:
        return str(self.parameters.get("language") or self.app.config["BABEL_DEFAULT_LOCALE"])

    def progress(self, percent: int) -> None:
        """Report progress (0-100); also the job's heartbeat."""
        percent = max(0, min(99, int(percent)))
        with new_session(write=True) as writer:
            writer.execute(update(Job).where(
                Job.id == self.job_id, Job.attempts == self.attempt,
                Job.state == JobState.RUNNING).values(progress=percent, heartbeat_at=utcnow()))
            writer.commit()

    @contextmanager
    def output(self, extension: str, content_type: str, download_name: str
               ) -> Iterator[IO[bytes]]:
        """Write the job's file in one piece (see :func:`app.jobs.files.atomic_writer`)."""
        name = files.file_name(self.public_id, extension)
        with files.atomic_writer(name, self.app) as handle:
            yield handle
        self.result = {"result_file": name, "result_type": content_type,
                       "result_name": download_name}

    def save(self, data: bytes, extension: str, content_type: str, download_name: str) -> None:
        with self.output(extension, content_type, download_name) as handle:
            handle.write(data)

    def mark_done(self, session: Session) -> None:
        """Mark the job done inside ``session``'s transaction, with whatever it stores.

        For tasks whose writes and completion must commit together (paper answers): if the
        worker crashes before the commit, neither happened and the retry does both.
        """
        _mark_done(session, self)
        self.marked_done = True


def execute(job_id: int) -> None:
    """The entry point RQ calls: run the job in this app (or a new one, outside Flask)."""
    if has_app_context():
        run(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
        return
    from app import create_app

    run(create_app(), job_id)


def run(app: Flask, job_id: int) -> None:
    """Claim the job, run its task, record how it ended. Never raises for the task's errors."""
    with app.app_context():
        if os.getpid() != app.extensions.setdefault("mitra.jobs_pid", os.getpid()):
            # A forked RQ work horse: never share the parent's database connections.
            app.extensions["mitra.engine"].dispose(close=False)
            app.extensions["mitra.jobs_pid"] = os.getpid()
        job = _claim(app, job_id)
        if job is None:
            return
        from app.jobs.tasks import TASKS

        task = TASKS.get(job.kind)
        session = new_session(write=False)
        context = JobContext(app, job, session)
        try:
            with force_locale(context.language):
                if task is None:
                    raise JobFailed(str(FAILED))
                if not _copy_finished_twin(app, session, context):
                    task(context)
                session.commit()  # end the reading transaction before the write below
                if not context.marked_done:
                    with new_session(write=True) as writer:
                        _mark_done(writer, context)
                        writer.commit()
        except JobFailed as error:
            session.rollback()
            _finish_failed(app, context, str(error), retry=False)
        except Exception:
            session.rollback()
            log.exception("job %s (%s) failed on attempt %s", job_id, job.kind, job.attempts)
            with force_locale(context.language):  # the message is read in the asker's language
                message = str(FAILED)
            _finish_failed(app, context, message, retry=True)
        finally:
            session.close()


def _claim(app: Flask, job_id: int) -> Job | None:
    """Take a queued job (one attempt more); None if it is not there to take."""
    with new_session(write=True) as session:
        job = session.scalar(select(Job).where(Job.id == job_id))
        if job is None or job.state is not JobState.QUEUED:
            return None
        job.state, job.attempts = JobState.RUNNING, job.attempts + 1
        job.progress, job.heartbeat_at, job.error = 0, utcnow(), None
        session.commit()
        session.expunge(job)
        return job


class LostClaim(RuntimeError):
    """The job was handed to another worker meanwhile (this one was given up for dead)."""


def _mark_done(session: Session, context: JobContext) -> None:
    now = utcnow()
    ttl = timedelta(hours=context.app.config["JOB_FILE_TTL_HOURS"])
    done = session.execute(update(Job).where(
        Job.id == context.job_id, Job.attempts == context.attempt,
        Job.state == JobState.RUNNING).values(
            state=JobState.DONE, progress=100, finished_at=now, heartbeat_at=now,
            expires_at=now + ttl, outcome=context.outcome, **context.result))
    if not done.rowcount:
        raise LostClaim(f"job {context.job_id} was taken over by another worker")


def _finish_failed(app: Flask, context: JobContext, message: str, *, retry: bool) -> None:
    with new_session(write=True) as session:
        job = session.get(Job, context.job_id)
        if job is None or job.state is not JobState.RUNNING or job.attempts != context.attempt:
            return
        if retry and job.attempts < app.config["JOB_MAX_ATTEMPTS"]:
            job.state, job.progress = JobState.QUEUED, 0
            session.commit()
            queue.dispatch(app, job.id)
            return
        queue.fail(job, message)
        session.commit()
    files.remove(context.result.get("result_file"), app)


def _copy_finished_twin(app: Flask, session: Session, context: JobContext) -> bool:
    """Reuse the fresh file of a finished job that made exactly the same thing for someone
    else (a report two coordinators download), instead of making it again."""
    twin = session.scalar(select(Job).where(
        Job.content_key == session.get(Job, context.job_id).content_key,
        Job.id != context.job_id, Job.state == JobState.DONE,
        Job.result_file.is_not(None), Job.expires_at > utcnow()).order_by(Job.id.desc()))
    if twin is None or not queue.reusable(twin):
        return False
    try:
        data = files.path_of(twin.result_file, app).read_bytes()  # type: ignore[arg-type]
    except OSError:
        return False
    extension = twin.result_file.rsplit(".", 1)[1]  # type: ignore[union-attr]
    context.save(data, extension, twin.result_type or "application/octet-stream",
                 twin.result_name or twin.result_file)  # type: ignore[arg-type]
    context.outcome = twin.outcome
    return True
