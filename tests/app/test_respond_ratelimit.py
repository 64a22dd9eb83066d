"""Code entry is rate limited on failures only, so a room sharing one address is not blocked."""

from __future__ import annotations

import pytest

from app.extensions import limiter
from tests.app.respond_helpers import Reader, arrange, complete_flow, english_client


@pytest.fixture
def app_config(app_config):
    # Flask-Limiter keeps one state per Limiter object, so these tests enable it in the only
    # app they create (the shared ``app`` fixture) rather than in a second one.
    return {**app_config, "RATELIMIT_ENABLED": True, "CODE_ENTRY_RATE_LIMIT": "30 per minute"}


def test_fifty_valid_codes_from_one_address_are_never_limited(app):
    fieldwork = arrange(app, codes=50)
    statuses = []
    for code in fieldwork.codes:
        client = app.test_client()  # fifty phones behind one NAT address (127.0.0.1)
        statuses.append(client.post("/r", data={"code": code}).status_code)
        statuses.append(client.get(f"/r/{code}").status_code)
    assert statuses == [303] * 100


def test_guessing_codes_is_stopped_after_the_limit(app):
    arrange(app)
    client = english_client(app)
    statuses = [client.post("/r", data={"code": f"AAAA{n:04d}"}).status_code for n in range(40)]
    assert statuses[:30] == [422] * 30
    assert statuses[30:] == [429] * 10
    assert "Please wait a minute" in client.post("/r", data={"code": "AAAAAAAA"}) \
        .get_data(as_text=True)


def test_every_way_in_shares_one_budget(app):
    fieldwork = arrange(app, link_uses=5)
    client = app.test_client()
    for n in range(10):
        client.post("/r", data={"code": f"CCCC{n:04d}"})
        client.get(f"/r/DDDD{n:04d}")
        client.get(f"/l/not-a-link-{n}")
    assert client.get("/r/EEEEEEEE").status_code == 429
    assert client.post("/r", data={"code": fieldwork.codes[0]}).status_code == 429, \
        "while the limit holds, even a valid code waits: the client was guessing"


def test_a_guessing_client_does_not_block_others_on_another_address(app):
    fieldwork = arrange(app)
    guesser = app.test_client()
    for n in range(31):
        guesser.get(f"/r/BBBB{n:04d}")
    assert guesser.get("/r/BBBBBBBB").status_code == 429
    other = app.test_client()
    response = other.post("/r", data={"code": fieldwork.codes[0]},
                          environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 303


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


def test_limiter_storage_never_holds_the_address(app):
    arrange(app)
    client = app.test_client()
    for n in range(3):
        client.get(f"/r/ZZZZ{n:04d}")
    keys = list(limiter.storage.storage.keys())
    assert keys, "the failures were counted"
    assert not any("127.0.0.1" in key for key in keys)
