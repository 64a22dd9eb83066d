"""Code-entry limits: a valid code is checked first; wrong guesses are counted and capped.

The defect these guard against: a per-address limit checked *before* the code made one
person's wrong guesses block every valid code behind the same proxy or NAT address.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re

import pytest

from tests.app.respond_helpers import (
    Reader,
    arrange,
    complete_flow,
    english_client,
    page_answers,
)

REDIS_URL = os.environ.get("MITRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "CODE_ENTRY_RATE_LIMIT": "30 per minute",
            "CODE_ENTRY_CLIENT_CAP": "200 per hour", "CODE_ENTRY_SITE_CAP": "600 per hour"}


def _caps(app, *, client: str | None = None, site: str | None = None):
    if client:
        app.config["CODE_ENTRY_CLIENT_CAP"] = client
    if site:
        app.config["CODE_ENTRY_SITE_CAP"] = site


def _resume_code(client) -> str:
    about = client.get("/r/about").get_data(as_text=True)
    found = re.search(r'<strong class="code">([A-Z0-9]{4})-([A-Z0-9]{4})</strong>', about)
    assert found is not None
    return found.group(1) + found.group(2)


def test_fifty_valid_codes_from_one_address_are_never_limited(app):
    fieldwork = arrange(app, codes=50)
    statuses = []
    for code in fieldwork.codes:
        client = app.test_client()  # fifty phones behind one NAT address (127.0.0.1)
        statuses.append(client.post("/r", data={"code": code}).status_code)
        statuses.append(client.get(f"/r/{code}").status_code)
    assert statuses == [303] * 100


def test_guessing_is_told_to_wait_after_the_limit(app):
    arrange(app)
    client = english_client(app)
    statuses = [client.post("/r", data={"code": f"AAAA{n:04d}"}).status_code for n in range(40)]
    assert statuses[:30] == [422] * 30
    assert statuses[30:] == [429] * 10
    response = client.post("/r", data={"code": "AAAAAAAA"})
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Too many attempts" in page and "wait 1 minute" in page
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert 'name="code"' in page, "codes are still checked: the page offers the form"


def test_a_valid_code_from_a_guessing_network_is_accepted_on_every_way_in(app):
    """The issue's defect: 30 wrong guesses behind one address refused everyone's valid code."""
    fieldwork = arrange(app, codes=3, link_uses=5)
    guesser = app.test_client()
    for n in range(31):
        guesser.get(f"/r/BBBB{n:04d}")
    assert guesser.get("/r/BBBBBBBB").status_code == 429

    neighbour = app.test_client()  # same address (127.0.0.1), valid code
    assert neighbour.post("/r", data={"code": fieldwork.codes[0]}).status_code == 303
    assert app.test_client().get(f"/r/{fieldwork.codes[1]}").status_code == 303
    assert guesser.post("/r", data={"code": fieldwork.codes[2]}).status_code == 303, \
        "even the guessing browser gets in with a valid code: checking it costs no guess"
    via_link = app.test_client()
    assert via_link.get(f"/l/{fieldwork.link}").status_code == 303
    resume_code = _resume_code(via_link)
    via_link.post("/r/page/1", data={**page_answers(fieldwork, 1), "action": "next"})
    other_device = app.test_client()
    other_device.get(f"/l/{fieldwork.link}")
    assert other_device.post("/r/resume", data={"resume_code": "AAAA-AAAA"}).status_code == 429
    assert other_device.post("/r/resume", data={"resume_code": resume_code}).status_code == 303


def test_every_way_in_counts_towards_one_budget(app):
    fieldwork = arrange(app, codes=0, link_uses=5)
    _caps(app, client="12 per hour")
    client = app.test_client()
    client.get(f"/l/{fieldwork.link}")
    for n in range(3):
        assert client.post("/r", data={"code": f"CCCC{n:04d}"}).status_code == 422
        assert client.get(f"/r/DDDD{n:04d}").status_code == 404
        assert client.get(f"/l/not-a-link-{n}").status_code == 404
        assert client.post("/r/resume", data={"resume_code": f"EEEE{n:04d}"}).status_code == 422
    assert client.get("/r/EEEEEEEE").status_code == 429


def test_past_the_client_cap_no_code_is_checked_from_that_network(app):
    fieldwork = arrange(app, codes=2)
    _caps(app, client="5 per hour")
    guesser = english_client(app)
    assert [guesser.get(f"/r/FFFF{n:04d}").status_code for n in range(5)] == [404] * 5
    paused = guesser.post("/r", data={"code": fieldwork.codes[0]})
    page = paused.get_data(as_text=True)
    assert paused.status_code == 429, "the cap bounds the tries: past it nothing is checked"
    assert "Code entry is paused" in page and 'name="code"' not in page
    assert 3000 < int(paused.headers["Retry-After"]) <= 3600
    elsewhere = app.test_client().post("/r", data={"code": fieldwork.codes[0]},
                                       environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert elsewhere.status_code == 303, "another network keeps its own budget"
    assert Reader(app).code_uses(fieldwork.round_id) == [0, 0]


class Captured(logging.Handler):
    """Records of the app's logger, including those rerouted on respondent routes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, containing: str) -> list[str]:
        return [r.getMessage() for r in self.records if containing in r.getMessage()]


@pytest.fixture
def app_log(app):
    from app.respond.redact import RESPONDENT_ERROR_LOGGER

    handler = Captured()
    loggers = [app.logger, logging.getLogger(RESPONDENT_ERROR_LOGGER)]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def test_the_site_cap_bounds_an_attacker_with_many_addresses(app, app_log):
    fieldwork = arrange(app, codes=1)
    _caps(app, site="6 per hour")
    for n in range(6):
        response = app.test_client().get(f"/r/GGGG{n:04d}",
                                         environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"})
        assert response.status_code == 404
    fresh = app.test_client().get(f"/r/{fieldwork.codes[0]}",
                                  environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert fresh.status_code == 429
    paused_lines = app_log.messages("paused site-wide")
    assert len(paused_lines) == 1
    assert not any(re.search(r"\d+\.\d+\.\d+\.\d+", line) for line in paused_lines)


def test_ipv6_clients_are_counted_per_64(app):
    arrange(app)
    _caps(app, client="3 per hour")
    for n in range(3):
        app.test_client().get(f"/r/HHHH{n:04d}", environ_base={"REMOTE_ADDR": f"2001:db8::{n}"})
    same_64 = app.test_client().get("/r/HHHHHHHH",
                                    environ_base={"REMOTE_ADDR": "2001:db8::ffff:1"})
    other_64 = app.test_client().get("/r/HHHHHHHH",
                                     environ_base={"REMOTE_ADDR": "2001:db8:0:1::1"})
    assert (same_64.status_code, other_64.status_code) == (429, 404)


def test_valid_entries_and_submissions_do_not_count(app):
    fieldwork = arrange(app, codes=3)
    client = app.test_client()
    for _ in range(29):
        client.get("/r/QQQQQQQQ")
    for code in fieldwork.codes:
        assert complete_flow(app.test_client(), fieldwork, code).status_code == 303
    assert client.get("/r/QQQQQQQQ").status_code == 404, "the 30th failure is still allowed"
    assert client.get("/r/QQQQQQQQ").status_code == 429
    assert Reader(app).code_uses(fieldwork.round_id) == [1, 1, 1]


def test_memory_counters_never_hold_the_address(app):
    fieldwork = arrange(app)
    client = app.test_client()
    client.get(f"/r/{fieldwork.codes[0]}")
    assert list(shared_counters_of(app).shared_storage.storage.keys()) == [], \
        "a valid code leaves no trace in the counters"
    for n in range(3):
        client.get(f"/r/ZZZZ{n:04d}")
    keys = list(shared_counters_of(app).shared_storage.storage.keys())
    assert keys, "the failures were counted"
    assert not any("127.0.0.1" in key for key in keys)


@pytest.fixture
def redis_db():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {error}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_redis_keys_hold_no_address(app_config, redis_db):
    from app import create_app
    from app.db import Base

    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": None, "REDIS_URL": REDIS_URL})
    Base.metadata.create_all(app.extensions["mitra.engine"])
    try:
        fieldwork = arrange(app)
        addresses = ["203.0.113.45", "2001:db8:1234:5678::9"]
        for address in addresses:
            client = app.test_client()
            assert client.get(f"/r/{fieldwork.codes[0]}",
                              environ_base={"REMOTE_ADDR": address}).status_code == 303
            assert redis_db.keys("*") == [], "a valid code leaves no key in Redis"
        for address in addresses:
            for n in range(2):
                app.test_client().get(f"/r/JJJJ{n:04d}", environ_base={"REMOTE_ADDR": address})
        assert shared_counters_of(app).is_shared, "counted in Redis, not in memory"
        keys = [key.decode() for key in redis_db.keys("*")]
        assert len(keys) >= 3, keys  # per-minute and per-hour per client, and the site
        plain_hashes = [hashlib.sha256(a.encode()).hexdigest()[:32] for a in addresses]
        for key in keys:
            for address in [*addresses, "2001:db8:1234:5678", "203.0.113"]:
                assert address not in key
            assert not any(h in key for h in plain_hashes), "a keyless hash could be reversed"
    finally:
        app.extensions["mitra.engine"].dispose()


def shared_counters_of(app):
    return app.extensions["mitra.counters"]
