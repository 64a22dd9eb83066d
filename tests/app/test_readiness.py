"""Redis away degrades, never fails: code entry and sign-in work, /readyz says "degraded".

Before the fix an unreachable Redis turned every code entry and staff sign-in into a 500
while /healthz said OK.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.respond.redact import RESPONDENT_ERROR_LOGGER
from tests.app.respond_helpers import arrange
from tests.app.staff_helpers import app_with, build_world, sign_in

UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def count(self, containing: str, level: int = logging.WARNING) -> int:
        return sum(1 for r in self.records
                   if containing in r.getMessage() and r.levelno == level)


def _capture(app: Flask) -> Captured:
    handler = Captured()
    for logger in (app.logger, logging.getLogger(RESPONDENT_ERROR_LOGGER),
                   logging.getLogger("flask-limiter")):
        logger.addHandler(handler)
    return handler


def _release(app: Flask, handler: Captured) -> None:
    for logger in (app.logger, logging.getLogger(RESPONDENT_ERROR_LOGGER),
                   logging.getLogger("flask-limiter")):
        logger.removeHandler(handler)


@pytest.fixture
def redis_away(app_config) -> Iterator[Flask]:
    app = app_with(app_config, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=None,
                   REDIS_URL=UNREACHABLE, CODE_ENTRY_RATE_LIMIT="3 per minute")
    yield app
    app.extensions["mitra.engine"].dispose()


def test_readyz_is_ready_without_redis_configured(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready",
                                   "checks": {"database": "ok", "redis": "not configured"}}
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_code_entry_works_and_is_still_limited_without_redis(redis_away):
    app = redis_away
    log = _capture(app)
    try:
        fieldwork = arrange(app, codes=2)
        client = app.test_client()
        assert client.post("/r", data={"code": fieldwork.codes[0]}).status_code == 303
        statuses = [client.get(f"/r/KKKK{n:04d}").status_code for n in range(5)]
        assert statuses == [404, 404, 404, 429, 429], "counted in this worker's memory"
        assert client.get(f"/r/{fieldwork.codes[1]}").status_code == 303
        for n in range(10):
            client.get(f"/r/MMMM{n:04d}")
        assert log.count("Rate-limit storage unreachable") == 1, "one warning, not one a request"
        assert not app.extensions["mitra.counters"].is_shared
    finally:
        _release(app, log)


def test_staff_sign_in_works_without_redis(redis_away):
    app = redis_away
    build_world(app)
    log = _capture(app)
    try:
        statuses = [sign_in(app.test_client(), "coordinator").status_code for _ in range(4)]
        assert statuses == [302] * 4
        assert sign_in(app.test_client(), "coordinator", "wrong-password").status_code == 200
        assert sum(log.count(text) for text in ("unreachable",)) <= 2, \
            "at most one warning from each counter, however many requests"
    finally:
        _release(app, log)


def test_readyz_reports_degraded_with_redis_away_and_healthz_stays_up(redis_away):
    client = redis_away.test_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "degraded",
                                   "checks": {"database": "ok", "redis": "unreachable"}}
    assert client.get("/healthz").status_code == 200


def test_readyz_is_503_without_the_database(app_config, tmp_path):
    from app import create_app

    missing = tmp_path / "no-such-directory" / "mitra.db"
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{missing}"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] == "unreachable"
    assert response.get_json()["status"] == "unavailable"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_redis(port: int, workdir: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    pytest.skip("redis-server did not start")


def test_counting_moves_to_memory_and_back_when_redis_returns(app_config, tmp_path):
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    server = _start_redis(port, tmp_path)
    app = app_with(app_config, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=None,
                   REDIS_URL=f"redis://127.0.0.1:{port}/0")
    counters = app.extensions["mitra.counters"]
    counters.recheck_seconds = 0.0
    log = _capture(app)
    try:
        arrange(app)
        client = app.test_client()
        assert client.get("/r/NNNNNNNN").status_code == 404
        assert counters.is_shared
        server.kill()
        server.wait()
        assert client.get("/r/NNNNNNNN").status_code == 404
        assert not counters.is_shared
        assert client.get("/readyz").get_json()["status"] == "degraded"
        server = _start_redis(port, tmp_path)
        assert client.get("/r/NNNNNNNN").status_code == 404
        assert counters.is_shared, "back to the shared counts once Redis answers"
        assert client.get("/readyz").get_json()["status"] == "ready"
        assert log.count("Rate-limit storage unreachable") == 1
        assert log.count("shared counting resumed") == 1
    finally:
        _release(app, log)
        server.kill()
        server.wait()
        app.extensions["mitra.engine"].dispose()
