"""``flask jobs worker|sweep|list``: the background-job worker and its housekeeping."""

from __future__ import annotations

import threading

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.db import new_session
from app.jobs import queue
from app.models import Job


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: PDF reports, large downloads, paper imports, snapshots."""


@jobs_group.command("worker")
@click.option("--burst", is_flag=True, help="Do the queued jobs, then stop.")
@click.option("--sweep-every", type=click.IntRange(min=5), default=60, show_default=True,
              help="Seconds between sweeps (silent jobs queued again, old files deleted).")
@with_appcontext
def worker_command(burst: bool, sweep_every: int) -> None:
    """Run an RQ worker on REDIS_URL with this app (one job at a time; run several)."""
    from rq import Worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if queue.mode(app) != "rq":
        raise click.ClickException(
            "set MITRA_REDIS_URL (and leave MITRA_JOB_MODE at auto or rq) to run a worker; "
            "without Redis the app runs jobs in its own threads")
    rq_queue = queue.rq_queue(app)
    stop = threading.Event()

    def sweeping() -> None:
        while not stop.wait(sweep_every):
            queue.maybe_sweep(app)

    queue.sweep(app)
    sweeper = threading.Thread(target=sweeping, name="mitra-job-sweeper", daemon=True)
    sweeper.start()
    click.echo(f"worker on queue {rq_queue.name!r}")
    try:
        Worker([rq_queue], connection=rq_queue.connection).work(burst=burst,
                                                                with_scheduler=False)
    finally:
        stop.set()


@jobs_group.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Queue again jobs whose worker died, fail hopeless ones, delete expired files."""
    report = queue.sweep(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"requeued {report.requeued}, failed {report.failed}, expired "
               f"{report.expired}, deleted {report.deleted}, leftovers {report.leftovers}")


@jobs_group.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@with_appcontext
def list_command(limit: int) -> None:
    """The most recent jobs: id, kind, state, progress, attempts, created."""
    with new_session(write=False) as session:
        for job in session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)):
            click.echo(f"{job.public_id}  {job.kind:<18} {job.state.value:<8} "
                       f"{job.progress:>3}%  attempts {job.attempts}  "
                       f"{job.created_at:%Y-%m-%d %H:%M}")
