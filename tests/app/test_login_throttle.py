"""Failed staff sign-ins are throttled without letting anyone lock the real user out."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from app.auth import throttle
from app.models import SignInThrottle
from tests.app.staff_helpers import app_with, db
from tests.factories import DEFAULT_PASSWORD, make_user

WRONG = "not the right password at all"
VICTIM = "korban@example.org"
REAL_USER_ADDRESS = "192.0.2.7"
REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def make_app(app_config):
    """An app with the throttle on (created after any other app the test uses)."""
    return lambda **overrides: app_with(app_config, **{"RATELIMIT_ENABLED": True, **overrides})


def _add_user(application, email: str = VICTIM) -> None:
    with db(application) as session:
        make_user(session, email, language="en")
        session.commit()


def _post(client, email: str, password: str, address: str):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The throttle's clock, moved by hand: waits are checked without sleeping or races."""
    now = [datetime(2026, 12, 3, 8, 0, 0)]
    monkeypatch.setattr(throttle, "utcnow", lambda: now[0])
    return now


def test_a_flood_from_other_addresses_does_not_stop_the_right_password(make_app):
    # The old limits, still in a deployed config, locked the account at the 20th failure
    # (and at the 5th per address); they must no longer matter.
    application = make_app(LOGIN_RATE_LIMIT="5 per minute",
                           LOGIN_ACCOUNT_RATE_LIMIT="20 per hour")
    _add_user(application)
    attacker = application.test_client()
    for n in range(30):
        response = _post(attacker, VICTIM, WRONG, f"10.0.0.{n % 6 + 1}")
        assert response.status_code in {200, 429}
    # The attacking addresses are now held back, even with the right password ...
    held = _post(application.test_client(), VICTIM, DEFAULT_PASSWORD, "10.0.0.1")
    assert held.status_code == 429
    # ... but the real user's address, which never failed, signs in at once.
    real = _post(application.test_client(), VICTIM, DEFAULT_PASSWORD, REAL_USER_ADDRESS)
    assert real.status_code == 302


def test_the_wait_grows_and_early_tries_are_refused_with_the_time_to_wait(make_app, clock):
    application = make_app()
    _add_user(application)
    client = application.test_client()
    client.post("/language", data={"lang": "en", "next": "/"})
    address = "198.51.100.20"
    for _ in range(throttle.FREE_FAILURES - 1):  # free failures: no wait at all
        assert _post(client, VICTIM, WRONG, address).status_code == 200
    waits = []
    for _ in range(5):
        assert _post(client, VICTIM, WRONG, address).status_code == 200
        early = _post(client, VICTIM, DEFAULT_PASSWORD, address)  # even the right password
        assert early.status_code == 429
        waits.append(int(early.headers["Retry-After"]))
        clock[0] += timedelta(seconds=waits[-1])
    assert waits == [1, 2, 4, 8, 16]
    html = early.get_data(as_text=True)
    assert "Too many failed attempts. Please wait 16 seconds and try again." in html
    # Once the wait is over the right password works and the client's count starts again.
    assert _post(client, VICTIM, DEFAULT_PASSWORD, address).status_code == 302
    assert _post(application.test_client(), VICTIM, WRONG, address).status_code == 200


def test_the_wait_is_capped_at_fifteen_minutes():
    assert throttle.delay_after(2, 3) == timedelta(0)
    assert throttle.delay_after(3, 3) == timedelta(seconds=1)
    assert throttle.delay_after(6, 3) == timedelta(seconds=8)
    assert throttle.delay_after(13, 3) == timedelta(minutes=15)
    assert throttle.delay_after(10**6, 3) == timedelta(minutes=15)


def test_a_long_wait_is_given_in_minutes(app):
    with app.test_request_context():
        assert "Please wait 15 minutes" in throttle_message(900)
        assert "Please wait 2 minutes" in throttle_message(61)
        assert "Please wait 1 second " in throttle_message(1)


def throttle_message(seconds: int) -> str:
    from flask import session

    from app.auth.views import wait_message

    session["lang"] = "en"
    return wait_message(seconds)


def test_counters_are_forgotten_a_day_after_the_last_failure(make_app, clock):
    application = make_app()
    _add_user(application)
    client = application.test_client()
    for _ in range(6):
        _post(client, VICTIM, WRONG, "198.51.100.30")
    assert _post(client, VICTIM, DEFAULT_PASSWORD, "198.51.100.30").status_code == 429
    clock[0] += timedelta(hours=25)
    assert _post(client, VICTIM, DEFAULT_PASSWORD, "198.51.100.30").status_code == 302
    # The next failure anywhere deletes the expired rows and starts fresh counts.
    _post(application.test_client(), VICTIM, WRONG, "198.51.100.31")
    with db(application) as session:
        counts = sorted(session.scalars(select(SignInThrottle.failures)))
    assert counts == [1, 1, 1]


def test_one_address_spraying_many_accounts_is_capped(make_app):
    application = make_app(LOGIN_ADDRESS_FREE_FAILURES=8)
    _add_user(application)
    sprayer = application.test_client()
    for n in range(8):  # one wrong password on each of eight accounts: no per-account wait
        assert _post(sprayer, f"staf{n}@example.org", WRONG, "203.0.113.5").status_code == 200
    refused = _post(sprayer, "staf-lain@example.org", WRONG, "203.0.113.5")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    # The cap is per address: the real user elsewhere is not affected.
    assert _post(application.test_client(), VICTIM, DEFAULT_PASSWORD,
                 REAL_USER_ADDRESS).status_code == 302


def test_a_browser_that_signed_in_before_is_not_held_back_by_its_failing_address(make_app):
    """Behind one office NAT, a colleague's failures must not keep the real user out."""
    application = make_app(LOGIN_ADDRESS_FREE_FAILURES=5)
    _add_user(application)
    office = "203.0.113.77"
    real_browser = application.test_client()
    assert _post(real_browser, VICTIM, DEFAULT_PASSWORD, office).status_code == 302
    cookie = real_browser.get_cookie(throttle.DEVICE_COOKIE, path=throttle.DEVICE_COOKIE_PATH)
    assert cookie is not None and cookie.http_only
    assert office not in cookie.value
    real_browser.post("/logout", environ_base={"REMOTE_ADDR": office})

    neighbour = application.test_client()
    for _ in range(12):
        _post(neighbour, VICTIM, WRONG, office)
        _post(neighbour, "lain@example.org", WRONG, office)
    assert _post(neighbour, VICTIM, DEFAULT_PASSWORD, office).status_code == 429
    assert _post(application.test_client(), VICTIM, DEFAULT_PASSWORD, office).status_code == 429
    assert _post(real_browser, VICTIM, DEFAULT_PASSWORD, office).status_code == 302


def test_a_device_cookie_of_another_account_or_forged_does_not_help(make_app):
    application = make_app()
    _add_user(application)
    _add_user(application, "teman@example.org")
    address = "203.0.113.88"
    browser = application.test_client()
    assert _post(browser, "teman@example.org", DEFAULT_PASSWORD, address).status_code == 302
    for _ in range(5):
        _post(browser, VICTIM, WRONG, address)
    assert _post(browser, VICTIM, DEFAULT_PASSWORD, address).status_code == 429
    forged = application.test_client()
    forged.set_cookie(throttle.DEVICE_COOKIE, "eyJhIjoieCJ9.forged.sig",
                      path=throttle.DEVICE_COOKIE_PATH)
    assert _post(forged, VICTIM, DEFAULT_PASSWORD, address).status_code == 429


def test_storage_keys_hold_no_address_or_email(make_app):
    store = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        store.flushdb()
    except redis.ConnectionError:
        pytest.skip("Redis is not running")
    application = make_app(RATELIMIT_STORAGE_URI=REDIS_TEST_URL)
    _add_user(application)
    address = "198.51.100.123"
    client = application.test_client()
    for _ in range(6):
        _post(client, VICTIM, WRONG, address)
    _post(client, VICTIM, DEFAULT_PASSWORD, REAL_USER_ADDRESS)
    try:
        redis_keys = [key.decode() for key in store.keys("*")]
    finally:
        store.flushdb()
    with db(application) as session:
        keys = list(session.scalars(select(SignInThrottle.key)))
    assert len(keys) >= 3  # client, account and address counters
    for key in redis_keys + keys:
        for secret in (address, REAL_USER_ADDRESS, VICTIM, "korban"):
            assert secret not in key, key


@pytest.mark.parametrize("storage", ["redis://127.0.0.1:1/0"])
def test_sign_in_gives_no_server_error_when_redis_is_away(make_app, storage):
    application = make_app(RATELIMIT_STORAGE_URI=storage, REDIS_URL=storage)
    _add_user(application)
    client = application.test_client()
    statuses = [_post(client, VICTIM, WRONG, "198.51.100.9").status_code for _ in range(5)]
    statuses.append(_post(client, VICTIM, DEFAULT_PASSWORD, "198.51.100.9").status_code)
    assert statuses == [200, 200, 200, 429, 429, 429]
    assert _post(client, VICTIM, DEFAULT_PASSWORD, REAL_USER_ADDRESS).status_code == 302
    assert client.get("/profile").status_code == 200


def test_the_throttle_is_off_when_rate_limits_are_off(app, client):
    with db(app) as session:
        make_user(session, VICTIM)
        session.commit()
    for _ in range(8):
        assert _post(client, VICTIM, WRONG, "198.51.100.1").status_code == 200
    assert _post(client, VICTIM, DEFAULT_PASSWORD, "198.51.100.1").status_code == 302
    with db(app) as session:
        assert list(session.scalars(select(SignInThrottle))) == []
