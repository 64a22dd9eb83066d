"""Start, find and sweep background jobs; hand them to RQ on Redis or to threads of this process.

The database row (:class:`app.models.Job`) is the job: the queue only carries its id. So the
same job code runs whichever way it is dispatched, a lost queue entry is found again by the
sweeper, and a job handed out twice runs once (:func:`app.jobs.runner.run` claims it first).

* **Idempotent.** :func:`enqueue` returns the existing job for the same kind, parameters and
  person while it is queued, running, or done with a file that has not expired; the unique
  ``idempotency_key`` makes two servers asking at once end up with one row.
* **Dispatched after commit.** A job is handed to the queue only once the transaction that
  created it has committed, so a worker never looks for a row that is not there yet.
* **Modes.** ``JOB_MODE`` "auto" means RQ when ``REDIS_URL`` is set, else a small thread
  pool in the app process (the embedded default: no extra program to run). If Redis cannot be
  reached, a job runs in a thread instead of waiting for it.
* **Sweeper.** :func:`sweep` queues again jobs whose worker went silent (killed mid-run) and
  jobs that never left the queue, fails those out of attempts, deletes expired files and
  leftovers of interrupted writes. The worker runs it every minute; app servers run it at
  most once a minute when someone starts or watches a job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.jobs import files
from app.models import Job, JobState, User
from app.models._types import utcnow

log = logging.getLogger(__name__)

ACTIVE = (JobState.QUEUED, JobState.RUNNING)
# Finished rows are kept this long after their file expired, then deleted.
HISTORY = timedelta(days=30)
SWEEP_EVERY_SECONDS = 60.0
RUNNER = "app.jobs.runner.execute"
STOPPED = _l("The work stopped several times before it was finished. Try again; if it stops "
             "again, tell the site administrator.")

_PENDING = "mitra.jobs_to_dispatch"
_THREADS = "mitra.job_threads"
_LAST_SWEEP = "mitra.jobs_last_sweep"
_lock = threading.Lock()


# --------------------------------------------------------------------------- keys


def content_key(kind: str, parameters: Mapping[str, Any]) -> str:
    """What a job makes, whoever asks: its kind and parameters, canonically hashed."""
    blob = json.dumps({"kind": kind, "parameters": parameters}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def idempotency_key(content: str, user_id: int | None) -> str:
    """Same thing asked by the same person: one job (jobs are shown to their owner only)."""
    return hashlib.sha256(f"{content}:{user_id if user_id is not None else '-'}".encode()
                          ).hexdigest()


# --------------------------------------------------------------------------- starting


def enqueue(session: Session, *, kind: str, parameters: Mapping[str, Any], partnership_id: int,
            user: User | None = None, now: datetime | None = None) -> Job:
    """Return the job doing this: the same one while it may be reused, else a new one.

    Flushes only; a new job is handed to the queue when ``session`` commits.
    """
    now = now or utcnow()
    params = dict(parameters)
    content = content_key(kind, params)
    user_id = user.id if user is not None else None
    key = idempotency_key(content, user_id)
    existing = session.scalar(select(Job).where(Job.idempotency_key == key))
    if existing is not None:
        if reusable(existing, now):
            return existing
        existing.idempotency_key = None  # failed or expired: the next request starts afresh
        session.flush()
    job = Job(kind=kind, parameters=params, content_key=content, idempotency_key=key,
              user_id=user_id, partnership_id=partnership_id, state=JobState.QUEUED,
              progress=0, attempts=0, created_at=now)
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # Another server created the same job between our look and our insert.
        found = session.scalar(select(Job).where(Job.idempotency_key == key))
        if found is None:
            raise
        return found
    _dispatch_after_commit(session, job.id)
    return job


def start(*, kind: str, parameters: Mapping[str, Any], partnership_id: int,
          user: User | None) -> str:
    """Start (or reuse) a job in a short transaction of its own; return its public id.

    For GET views, whose own session only reads: on SQLite a read transaction cannot always
    become a write, so the job is written through a session that takes the write lock first.
    """
    from app.db import new_session

    with new_session(write=True) as session:
        job = enqueue(session, kind=kind, parameters=parameters, partnership_id=partnership_id,
                      user=session.get(User, user.id) if user is not None else None)
        public_id = job.public_id
        session.commit()
    maybe_sweep()
    return public_id


def reusable(job: Job, now: datetime | None = None) -> bool:
    """Whether asking again should get this job: still working, or done and fresh."""
    if job.state in ACTIVE:
        return True
    if job.state is not JobState.DONE:
        return False
    if job.expires_at is not None and job.expires_at <= (now or utcnow()):
        return False
    return job.result_file is None or _file_exists(job.result_file)


def _file_exists(name: str) -> bool:
    try:
        return files.path_of(name).is_file()
    except (ValueError, RuntimeError):
        return False


# --------------------------------------------------------------------------- finding


def job_in(session: Session, partnership_id: int, public_id: str) -> Job | None:
    """A job of this partnership by its public id (None for another tenant's or a bad id)."""
    if not isinstance(public_id, str) or len(public_id) != 32:
        return None
    return session.scalar(select(Job).where(Job.public_id == public_id,
                                            Job.partnership_id == partnership_id))


def may_see(job: Job, user: User) -> bool:
    """A job is its owner's (and site admins'); one the system started is the partnership's."""
    return job.user_id is None or job.user_id == user.id or bool(user.is_admin)


def active_job(session: Session, partnership_id: int, kind: str,
               parameters: Mapping[str, Any]) -> Job | None:
    """The queued or running job (anyone's) making exactly this, if one is under way."""
    return session.scalar(select(Job).where(
        Job.partnership_id == partnership_id, Job.content_key == content_key(kind, parameters),
        Job.state.in_(ACTIVE)).order_by(Job.id.desc()).limit(1))


def is_stale(job: Job, now: datetime | None = None, app: Flask | None = None) -> bool:
    """Whether a job that should be moving has shown no sign of life for too long."""
    if job.state not in ACTIVE:
        return False
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cutoff = (now or utcnow()) - timedelta(seconds=app.config["JOB_STALE_SECONDS"])
    return (job.heartbeat_at or job.created_at) < cutoff


# --------------------------------------------------------------------------- dispatching


def mode(app: Flask) -> str:
    """"rq" or "thread", as ``JOB_MODE`` and ``REDIS_URL`` say."""
    chosen = app.config.get("JOB_MODE", "auto")
    if chosen == "auto":
        return "rq" if app.config.get("REDIS_URL") else "thread"
    return chosen


def _dispatch_after_commit(session: Session, job_id: int) -> None:
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    session.info.setdefault(_PENDING, []).append((app, job_id))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for app, job_id in session.info.pop(_PENDING, []):
        if app is None:
            continue  # no app to run it with: the sweeper hands it out later
        try:
            dispatch(app, job_id)
        except Exception:  # never fail the commit that already happened
            log.exception("could not hand job %s to the queue; the sweeper will retry", job_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def dispatch(app: Flask, job_id: int) -> None:
    """Hand a committed job to the queue (RQ) or to this process's job threads."""
    if mode(app) == "rq":
        try:
            rq_queue(app).enqueue(
                RUNNER, job_id, job_timeout=app.config["JOB_TIMEOUT_SECONDS"],
                result_ttl=0, failure_ttl=24 * 3600, description=f"mitra job {job_id}")
            return
        except Exception as error:  # Redis away: do the work here rather than not at all
            log.warning("Redis unavailable (%s); running job %s in the app process",
                        type(error).__name__, job_id)
    _thread_pool(app).submit(app, job_id)


def rq_queue(app: Flask):
    """The RQ queue on ``REDIS_URL`` (short socket timeouts: a dead Redis fails fast)."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                                socket_timeout=5)
    return Queue(app.config["JOB_QUEUE"], connection=connection)


class ThreadPool:
    """Jobs run by threads of the app process, the embedded default without Redis."""

    def __init__(self, size: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="mitra-job")
        self._futures: set[Future] = set()
        self._lock = threading.Lock()

    def submit(self, app: Flask, job_id: int) -> None:
        from app.jobs import runner

        future = self._executor.submit(runner.run, app, job_id)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def drain(self, timeout: float = 60.0) -> bool:
        """Wait until no job is running or waiting here (tests, shutdown); True if so."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = set(self._futures)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait_futures(pending, timeout=remaining)


def _thread_pool(app: Flask) -> ThreadPool:
    pool = app.extensions.get(_THREADS)
    if pool is None:
        with _lock:
            pool = app.extensions.get(_THREADS)
            if pool is None:
                pool = ThreadPool(app.config["JOB_THREADS"])
                app.extensions[_THREADS] = pool
    return pool


def drain(app: Flask, timeout: float = 60.0) -> bool:
    """Wait for this process's job threads to finish what they were given."""
    pool = app.extensions.get(_THREADS)
    return True if pool is None else pool.drain(timeout)


# --------------------------------------------------------------------------- sweeping


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    failed: int
    expired: int
    deleted: int
    leftovers: int


def sweep(app: Flask, now: datetime | None = None) -> SweepReport:
    """Queue again the silent, fail the hopeless, expire old files; in one short transaction."""
    from app.db import new_session

    now = now or utcnow()
    stale_cutoff = now - timedelta(seconds=app.config["JOB_STALE_SECONDS"])
    with app.app_context(), new_session(write=True) as session:
        silent = list(session.scalars(select(Job).where(
            Job.state.in_(ACTIVE),
            or_(Job.heartbeat_at < stale_cutoff,
                (Job.heartbeat_at.is_(None)) & (Job.created_at < stale_cutoff)))))
        again, failed = [], 0
        for job in silent:
            if job.state is JobState.RUNNING and job.attempts >= app.config["JOB_MAX_ATTEMPTS"]:
                fail(job, str(STOPPED), now)
                failed += 1
                continue
            # Back in the queue; the new heartbeat gives the next worker a full period.
            job.state, job.progress, job.heartbeat_at = JobState.QUEUED, 0, now
            again.append(job.id)
        expired_jobs = list(session.scalars(select(Job).where(
            Job.expires_at.is_not(None), Job.expires_at <= now,
            or_(Job.result_file.is_not(None), Job.idempotency_key.is_not(None)))))
        for job in expired_jobs:
            files.remove(job.result_file, app)
            job.result_file, job.idempotency_key = None, None
        deleted = session.execute(delete(Job).where(
            Job.finished_at.is_not(None), Job.finished_at < now - HISTORY,
            Job.result_file.is_(None))).rowcount or 0
        session.commit()
    for job_id in again:
        dispatch(app, job_id)
    leftovers = files.remove_leftovers(app.config["JOB_STALE_SECONDS"], app)
    return SweepReport(len(again), failed, len(expired_jobs), deleted, leftovers)


def maybe_sweep(app: Flask | None = None) -> None:
    """Sweep at most once a minute per process; a failed sweep only waits for the next."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    now = time.monotonic()
    with _lock:
        last = app.extensions.get(_LAST_SWEEP)
        if last is not None and now - last < SWEEP_EVERY_SECONDS:
            return
        app.extensions[_LAST_SWEEP] = now
    try:
        sweep(app)
    except (SQLAlchemyError, OSError):
        log.exception("job sweep failed; trying again in a minute")


def fail(job: Job, message: str, now: datetime | None = None) -> None:
    """Mark a job failed with a sentence for its owner; the same request may start anew."""
    job.state = JobState.FAILED
    job.error = message
    job.finished_at = now or utcnow()
    job.idempotency_key = None


def clear_heartbeats(session: Session, job_ids: list[int]) -> None:
    """Make jobs look silent at once (used by the CLI's ``--now`` sweep and tests)."""
    session.execute(update(Job).where(Job.id.in_(job_ids)).values(heartbeat_at=None))
