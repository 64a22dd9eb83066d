"""Background jobs: off the request, idempotent, never half-written, retried, owner-only, expiring.

Most tests use the embedded mode (threads of the app process, no Redis) and a results
download, the quickest job that writes a file; one test runs the same job through RQ with a
real Redis and an in-process burst worker.
"""

from __future__ import annotations

import csv
import io
import os
import random
import time
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import new_session
from app.jobs import files, queue, runner, tasks
from app.models import (
    AuditEvent,
    Job,
    JobState,
    Partnership,
    ResultSnapshot,
    Role,
    Round,
    RoundStatus,
)
from app.models._types import utcnow
from app.services import exports
from tests.app.export_helpers import build_results_world, reading
from tests.app.job_helpers import (  # job_files_in_tmp: autouse
    finished_page,
    job_file,
    job_files_in_tmp,  # noqa: F401
    job_path,
)
from tests.app.staff_helpers import app_with, db, rows, signed_in_client
from tests.factories import add_member, make_user

REDIS_URL = "redis://127.0.0.1:6379/15"


def _download_url(rw, dataset: str = "results", fmt: str = "csv") -> str:
    return (f"/exports/partnerships/{rw.world.partnership}/rounds/{rw.closed_round}/"
            f"{dataset}.{fmt}")


def _job(app: Flask, public_id: str) -> Job:
    with db(app) as session:
        return session.scalar(select(Job).where(Job.public_id == public_id))


def _public_id(response) -> str:
    return job_path(response).rsplit("/", 1)[1]


def _expected_answers_csv(app: Flask, round_id: int, public_id: str) -> bytes:
    """The answers file as the job must make it, whatever attempt makes it."""
    with reading(app) as session, app.test_request_context():
        export = exports.build_export(
            session, session.get(Round, round_id), "answers", "csv", "en",
            rng=random.Random(tasks.shuffle_seed(app, public_id)))
    return export.body


# --------------------------------------------------------------------------- embedded mode


def test_a_download_link_starts_a_job_and_its_page_offers_the_file(app):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    started = time.monotonic()
    response = client.get(_download_url(rw))
    assert time.monotonic() - started < 5  # the file is not made inside the request
    public_id = _public_id(response)
    page = finished_page(app, client, response)
    html = page.get_data(as_text=True)
    assert "Ready." in html and f"mitra-sehat-round-{rw.closed_round}-results.csv" in html
    assert 'http-equiv="refresh"' not in html  # finished: nothing left to watch
    job = _job(app, public_id)
    assert job.state is JobState.DONE and job.progress == 100 and job.attempts == 1
    assert job.expires_at > utcnow() + timedelta(hours=23)
    body = job_file(app, client, client.get(_download_url(rw)))
    assert body.status_code == 200 and body.mimetype == "text/csv"
    assert body.headers["Content-Disposition"] == (
        f'attachment; filename="mitra-sehat-round-{rw.closed_round}-results.csv"')
    parsed = list(csv.reader(io.StringIO(body.data.decode("utf-8-sig"))))
    assert parsed and parsed[0]
    # Each download of the file is audited, as downloads were before jobs.
    events = rows(app, select(AuditEvent).where(AuditEvent.action == "export.results"))
    assert len(events) == 1 and events[0].details["format"] == "csv"


def test_the_page_shows_progress_and_polls_while_the_job_is_under_way(app, monkeypatch):
    rw = build_results_world(app)
    monkeypatch.setattr(queue, "dispatch", lambda *args: None)  # nobody picks it up yet
    client = signed_in_client(app, "coordinator")
    response = client.get(_download_url(rw))
    public_id = _public_id(response)
    page = client.get(job_path(response)).get_data(as_text=True)
    assert "Waiting for its turn" in page and "<progress" in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "jobs.js" in page
    status = client.get(job_path(response) + "/status")
    assert status.get_json() == {"state": "queued", "progress": 0, "finished": False}
    assert status.headers["Cache-Control"] == "no-store"
    early = client.get(job_path(response) + "/file")
    assert early.status_code == 302 and early.headers["Location"].endswith(job_path(response))
    monkeypatch.undo()
    queue.dispatch(app, _job(app, public_id).id)
    assert queue.drain(app, 120)
    assert client.get(job_path(response) + "/status").get_json() == {
        "state": "done", "progress": 100, "finished": True}


def test_the_same_request_gets_the_same_job_until_its_file_expires(app):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    first = _public_id(client.get(_download_url(rw)))
    assert _public_id(client.get(_download_url(rw))) == first  # queued or running
    assert queue.drain(app, 120)
    assert _public_id(client.get(_download_url(rw))) == first  # done and fresh
    other_format = _public_id(client.get(_download_url(rw, fmt="xlsx")))
    assert other_format != first
    admin = signed_in_client(app, "admin")
    assert _public_id(admin.get(_download_url(rw))) != first  # jobs are per person
    assert queue.drain(app, 120)
    # Expiry: the sweeper deletes the file; the page says so; asking again makes a new job.
    job = _job(app, first)
    stored = files.path_of(job.result_file, app)
    assert stored.is_file()
    report = queue.sweep(app, now=utcnow() + timedelta(hours=25))
    assert report.expired >= 1 and not stored.exists()
    page = client.get(f"/jobs/partnerships/{rw.world.partnership}/{first}")
    assert "This file has expired" in page.get_data(as_text=True)
    gone = client.get(f"/jobs/partnerships/{rw.world.partnership}/{first}/file")
    assert gone.status_code == 302
    again = _public_id(client.get(_download_url(rw)))
    assert again != first
    assert queue.drain(app, 120)
    assert _job(app, again).state is JobState.DONE


def test_two_servers_asking_at_once_end_with_one_job(app):
    """The unique key makes the second insert fail; enqueue then returns the first row."""
    rw = build_results_world(app)
    parameters = {"round_id": rw.closed_round, "dataset": "results", "fmt": "csv"}
    with app.app_context():
        first, second = new_session(write=False), new_session(write=False)
    try:
        a = queue.enqueue(first, kind=tasks.EXPORT, parameters=parameters,
                          partnership_id=rw.world.partnership)
        first.commit()
        # The second server looked before the first committed: it finds no row, inserts,
        # hits the unique key, and returns the first job.
        original = second.scalar
        calls = []

        def blind_first_look(statement, *args, **kwargs):
            calls.append(1)
            return None if len(calls) == 1 else original(statement, *args, **kwargs)

        second.scalar = blind_first_look  # type: ignore[method-assign]
        b = queue.enqueue(second, kind=tasks.EXPORT, parameters=parameters,
                          partnership_id=rw.world.partnership)
        assert b.id == a.id
        second.commit()
    finally:
        first.close()
        second.close()
    assert queue.drain(app, 120)
    assert len(rows(app, select(Job))) == 1


# --------------------------------------------------------------------------- crashes and retries


class Killed(BaseException):
    """Stands for SIGKILL: no ``except Exception`` handler sees it."""


def test_a_job_killed_mid_write_leaves_no_file_and_the_retry_makes_the_same_file(app,
                                                                             monkeypatch):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    real = tasks.TASKS[tasks.EXPORT]

    def dies_half_way(context):
        with context.output("csv", "text/csv", "half.csv") as handle:
            handle.write(b"row,partner\n1,")
            raise Killed

    monkeypatch.setattr(queue, "dispatch", lambda *args: None)
    public_id = _public_id(client.get(_download_url(rw, "answers")))
    job_id = _job(app, public_id).id
    monkeypatch.setitem(tasks.TASKS, tasks.EXPORT, dies_half_way)
    with pytest.raises(Killed):
        runner.run(app, job_id)
    job = _job(app, public_id)
    assert job.state is JobState.RUNNING and job.result_file is None
    folder = files.folder(app)
    assert not list(folder.glob(f"{public_id}*")), "a half-written file is visible"
    assert not list(folder.glob(f"{files.TEMP_PREFIX}*")), "the partial file was not removed"
    # Until the worker is given up for dead, nobody runs it again.
    assert queue.sweep(app).requeued == 0
    monkeypatch.setitem(tasks.TASKS, tasks.EXPORT, real)
    monkeypatch.undo()
    report = queue.sweep(app, now=utcnow() + timedelta(seconds=app.config["JOB_STALE_SECONDS"]
                                                       + 1))
    assert report.requeued == 1
    assert queue.drain(app, 120)
    job = _job(app, public_id)
    assert job.state is JobState.DONE and job.attempts == 2
    made = files.path_of(job.result_file, app).read_bytes()
    assert made == _expected_answers_csv(app, rw.closed_round, public_id)


def test_a_partial_file_left_by_a_real_kill_is_swept_away(app):
    folder = files.folder(app)
    leftover = folder / f"{files.TEMP_PREFIX}0123456789abcdef-{'a' * 32}.pdf"
    leftover.write_bytes(b"%PDF-1.7 half")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    fresh_one = folder / f"{files.TEMP_PREFIX}fedcba9876543210-{'b' * 32}.pdf"
    fresh_one.write_bytes(b"being written now")
    assert files.remove_leftovers(600, app) == 1
    assert not leftover.exists() and fresh_one.exists()


def test_the_atomic_writer_never_leaves_a_half_file():
    application = Flask(__name__)
    application.config["JOB_FILES_DIR"] = None
    with application.app_context():
        name = files.file_name(uuid.uuid4().hex, "csv")
        with pytest.raises(RuntimeError), files.atomic_writer(name) as handle:
            handle.write(b"half")
            raise RuntimeError("disk full")
        assert not files.path_of(name).exists()
        with files.atomic_writer(name) as handle:
            handle.write(b"whole")
        assert files.path_of(name).read_bytes() == b"whole"
        files.remove(name)
        with pytest.raises(ValueError):
            files.path_of("../../etc/passwd")


def test_an_unexpected_error_is_retried_then_reported_without_a_traceback(app, monkeypatch):
    rw = build_results_world(app)
    calls = []

    def broken(context):
        calls.append(context.attempt)
        raise ZeroDivisionError("secret internals /srv/app.py line 3")

    monkeypatch.setitem(tasks.TASKS, tasks.EXPORT, broken)
    client = signed_in_client(app, "coordinator")
    response = client.get(_download_url(rw))
    page = finished_page(app, client, response).get_data(as_text=True)
    assert calls == [1, 2, 3]  # JOB_MAX_ATTEMPTS
    assert "Something went wrong while this was being prepared" in page
    assert "ZeroDivisionError" not in page and "secret internals" not in page
    assert "Try again" in page
    job = _job(app, _public_id(response))
    assert job.state is JobState.FAILED and job.idempotency_key is None
    # Asking again starts afresh.
    monkeypatch.setitem(tasks.TASKS, tasks.EXPORT, lambda context: context.save(
        b"ok", "csv", "text/csv", "ok.csv"))
    assert _public_id(client.get(_download_url(rw))) != job.public_id


def test_a_refusal_is_a_clear_message_in_the_readers_language(app, monkeypatch):
    """The task runs in the language the job was asked in, and says why it cannot."""
    rw = build_results_world(app)
    from flask_babel import gettext

    monkeypatch.setitem(tasks.TASKS, tasks.EXPORT, lambda context: (_ for _ in ()).throw(
        runner.JobFailed(gettext("This round has no responses yet."))))
    client = signed_in_client(app, "coordinator")
    response = client.get(_download_url(rw))
    page = finished_page(app, client, response).get_data(as_text=True)
    assert "This round has no responses yet." in page
    with client.session_transaction() as session:
        session["lang"] = "id"
    response = client.get(_download_url(rw))  # the failed job is not reused
    page = finished_page(app, client, response).get_data(as_text=True)
    assert "This round has no responses yet." not in page
    assert _job(app, _public_id(response)).error != "This round has no responses yet."


def test_a_job_given_up_for_dead_cannot_overwrite_its_retry(app, monkeypatch):
    rw = build_results_world(app)
    monkeypatch.setattr(queue, "dispatch", lambda *args: None)
    client = signed_in_client(app, "coordinator")
    public_id = _public_id(client.get(_download_url(rw)))
    job_id = _job(app, public_id).id
    slow_contexts = []

    def slow(context):
        slow_contexts.append(context)
        # Meanwhile the sweeper gave this worker up and another attempt took the job.
        with db(app) as session:
            job = session.get(Job, job_id)
            job.attempts += 1
            session.commit()
        context.save(b"stale", "csv", "text/csv", "stale.csv")

    monkeypatch.setitem(tasks.TASKS, tasks.EXPORT, slow)
    runner.run(app, job_id)
    job = _job(app, public_id)
    assert job.state is JobState.RUNNING and job.result_file is None


# --------------------------------------------------------------------------- who may see a job


def test_only_the_owner_and_admins_see_a_job(app):
    rw = build_results_world(app)
    with db(app) as session:
        colleague = make_user(session, "rekan@example.org", language="en")
        add_member(session, colleague, session.get(Partnership, rw.world.partnership),
                   Role.COORDINATOR)
        session.commit()
    owner = signed_in_client(app, "coordinator")
    response = owner.get(_download_url(rw))
    path = job_path(response)
    assert queue.drain(app, 120)
    for suffix in ("", "/status", "/file"):
        assert owner.get(path + suffix).status_code in {200, 302}
        assert signed_in_client(app, "admin").get(path + suffix).status_code in {200, 302}
        for who in ("rekan@example.org", "facilitator", "outsider", "plain"):
            assert signed_in_client(app, who).get(path + suffix).status_code == 404, who
        assert app.test_client().get(path + suffix).status_code == 302  # to sign-in
    assert owner.get(path + "/file").status_code == 200
    # Another tenant's id under this partnership, or a malformed id, is not found.
    assert owner.get(f"/jobs/partnerships/{rw.world.partnership}/{'0' * 32}").status_code == 404
    assert owner.get(f"/jobs/partnerships/{rw.world.partnership}/nope").status_code == 404


# --------------------------------------------------------------------------- snapshots


def test_closing_a_round_prepares_its_results_in_the_background(app, monkeypatch):
    rw = build_results_world(app, status=RoundStatus.OPEN)
    held = []
    monkeypatch.setattr(queue, "dispatch", lambda app_, job_id: held.append(job_id))
    client = signed_in_client(app, "coordinator")
    base = f"/admin/partnerships/{rw.world.partnership}/rounds/{rw.closed_round}"
    assert client.post(f"{base}/status/closed", data={"reason": ""}).status_code == 302
    assert len(held) == 1
    (job,) = rows(app, select(Job).where(Job.kind == tasks.SNAPSHOT))
    assert job.user_id is None and job.state is JobState.QUEUED
    # Readers see that the results are being prepared, not a page computing them.
    facilitator = signed_in_client(app, "facilitator")
    report = facilitator.get(f"/reports/partnerships/{rw.world.partnership}/rounds/"
                             f"{rw.closed_round}").get_data(as_text=True)
    assert "The results are being prepared" in report and "jobs.js" in report
    job_page = facilitator.get(f"/jobs/partnerships/{rw.world.partnership}/{job.public_id}")
    assert job_page.status_code == 200  # a system job: every reader may watch it
    monkeypatch.undo()
    queue.dispatch(app, held[0])
    assert queue.drain(app, 120)
    assert rows(app, select(ResultSnapshot).where(ResultSnapshot.round_id == rw.closed_round))
    report = facilitator.get(f"/reports/partnerships/{rw.world.partnership}/rounds/"
                             f"{rw.closed_round}").get_data(as_text=True)
    assert "The results are being prepared" not in report
    assert "report-section" in report


def test_a_silent_snapshot_job_does_not_hold_the_page_back(app, monkeypatch):
    """If the job's worker died, the page computes the results itself, as before jobs."""
    rw = build_results_world(app)
    monkeypatch.setattr(queue, "dispatch", lambda *args: None)
    with db(app) as session, app.app_context():
        job = tasks.enqueue_snapshot(session, session.get(Round, rw.closed_round))
        job.created_at = utcnow() - timedelta(hours=1)
        session.commit()
    page = signed_in_client(app, "coordinator").get(
        f"/reports/partnerships/{rw.world.partnership}/rounds/{rw.closed_round}")
    assert "The results are being prepared" not in page.get_data(as_text=True)
    assert "report-section" in page.get_data(as_text=True)


# --------------------------------------------------------------------------- RQ on Redis


@pytest.fixture
def redis_app(app_config):
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not running at {REDIS_URL}: {error}")
        pytest.skip(f"Redis is not running at {REDIS_URL}: {error}")
    application = app_with(app_config, REDIS_URL=REDIS_URL,
                           JOB_QUEUE=f"test-{uuid.uuid4().hex[:12]}")
    yield application
    queue_ = queue.rq_queue(application)
    queue_.empty()
    queue_.delete(delete_jobs=True)
    application.extensions["mitra.engine"].dispose()


def test_with_redis_a_worker_process_does_the_job(redis_app):
    from rq import SimpleWorker

    app = redis_app
    assert queue.mode(app) == "rq"
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    response = client.get(_download_url(rw, "answers"))
    public_id = _public_id(response)
    rq_queue = queue.rq_queue(app)
    assert rq_queue.count == 1  # handed to Redis, not run by the app
    assert _job(app, public_id).state is JobState.QUEUED
    with app.app_context():
        SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)
    job = _job(app, public_id)
    assert job.state is JobState.DONE
    body = job_file(app, client, response)
    assert body.data == _expected_answers_csv(app, rw.closed_round, public_id)
    # A job handed out twice (a retry racing the sweeper) runs once.
    queue.dispatch(app, job.id)
    with app.app_context():
        SimpleWorker([rq_queue], connection=rq_queue.connection).work(burst=True)
    assert _job(app, public_id).attempts == 1


def test_with_redis_away_the_job_still_runs_in_the_app(app_config):
    app = app_with(app_config, REDIS_URL="redis://127.0.0.1:1/0")
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    body = job_file(app, client, client.get(_download_url(rw)))
    assert body.status_code == 200
    app.extensions["mitra.engine"].dispose()


# --------------------------------------------------------------------------- settings and CLI


@pytest.mark.parametrize(("setting", "value"), [
    ("JOB_MODE", "celery"), ("JOB_FILE_TTL_HOURS", 0), ("JOB_STALE_SECONDS", "5"),
    ("JOB_MAX_ATTEMPTS", 0), ("JOB_QUEUE", "a b"),
])
def test_bad_job_settings_are_refused_at_start(app_config, setting, value):
    from app import create_app

    with pytest.raises(ValueError, match=f"MITRA_{setting}"):
        create_app({**app_config, setting: value})


def test_rq_mode_needs_redis(app_config):
    from app import create_app

    with pytest.raises(ValueError, match="MITRA_REDIS_URL"):
        create_app({**app_config, "JOB_MODE": "rq"})


def test_cli_sweep_and_list(app, runner):
    rw = build_results_world(app)
    job_file(app, signed_in_client(app, "coordinator"),
             signed_in_client(app, "coordinator").get(_download_url(rw)))
    listed = runner.invoke(args=["jobs", "list"])
    assert listed.exit_code == 0 and "export" in listed.output and "done" in listed.output
    swept = runner.invoke(args=["jobs", "sweep"])
    assert swept.exit_code == 0 and swept.output.startswith("requeued 0, failed 0")
    worker = runner.invoke(args=["jobs", "worker", "--burst"])
    assert worker.exit_code != 0 and "MITRA_REDIS_URL" in worker.output
