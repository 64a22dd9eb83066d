"""Throttling of failed staff sign-ins that an attacker cannot turn into a lock-out.

A fixed "N failures then blocked" limit lets anyone lock any account: send N wrong passwords
and the owner is refused too. Here nothing ever blocks; failures only make the *failing*
client wait, and the waits are arranged so the real user is not the one waiting:

* **Per client and account** (``client``): after ``FREE_FAILURES`` (3) failures the client must
  wait 1 s, then 2 s, 4 s, ... up to 15 minutes before its next try ("next attempt allowed
  at"; the request is refused at once with the time to wait, never put to sleep). The client
  is the browser's *device cookie* when it carries one (below), else the network address. A
  success resets this counter.
* **Per account** (``account``): failures from every client count. Past ``ACCOUNT_FREE_FAILURES``
  (10) the same growing wait applies, but only to clients that have themselves failed on this
  account. An address that has not been failing (the real user at the office) is never held
  back by a flood from elsewhere; each attacking address, on the other hand, gets one guess and
  then waits for the whole account's cool-down.
* **Per address, across accounts** (``address``): past ``ADDRESS_FREE_FAILURES`` (30) failures
  on any accounts, the address waits before any further try, which stops one address spraying
  passwords over many accounts.
* **Device cookie**: a successful sign-in leaves a signed, HttpOnly cookie (path ``/login``)
  naming the account and a random device id. An attempt on that account carrying it is
  throttled only by its own device counter, never by the account or address counters, so a
  colleague behind the same NAT, or a botnet working on the account, cannot keep the real
  user out of a browser they have used before. The cookie proves nothing by itself: the
  password (and second factor) are still checked.

What an attacker gets: per address and account about 13 guesses in the first 17 minutes and
4 an hour after that; once the account is past its free failures, one guess per fresh
address, then one per account cool-down shared by every failing address. Against
10-character passwords outside the common-password list that is far from enough; a second
factor makes a guessed password alone useless.

Counters live in the database (``sign_in_throttles``), not in the limiter's Redis: every app
server sees the same counts, a Redis outage neither disables the throttle nor turns sign-in
into an error, and the write is one small upsert per failed attempt. Keys are HMACs under the
secret key of a scope and the identifiers, so neither an address nor an email address is
stored; counters are forgotten 24 hours after their last failure.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Request, Response, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import SignInThrottle
from app.models._types import utcnow

FREE_FAILURES = 3
ACCOUNT_FREE_FAILURES = 10
ADDRESS_FREE_FAILURES = 30
BASE_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)

DEVICE_COOKIE = "mitra_device"
DEVICE_COOKIE_PATH = "/login"
DEVICE_COOKIE_AGE = timedelta(days=180)
_DEVICE_SALT = "mitra.sign-in-device"


@dataclass(frozen=True)
class Attempt:
    """Who is trying: the scope (``login``, ``totp``), the account and the client."""

    scope: str
    account: str  # a pseudonym of the email address, or ``user:<id>``
    address: str
    device: str | None  # the device id from a valid device cookie for this account


def enabled() -> bool:
    """The throttle follows the rate-limit switch unless set on its own."""
    config = current_app.config
    return bool(config.get("LOGIN_THROTTLE_ENABLED", config.get("RATELIMIT_ENABLED", True)))


def _hmac(*parts: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    message = "\x1f".join(parts).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]


def _client_key(attempt: Attempt) -> str:
    if attempt.device is not None:
        return f"{attempt.scope}:d:" + _hmac("device", attempt.account, attempt.device)
    return f"{attempt.scope}:c:" + _hmac("client", attempt.account, attempt.address)


def _account_key(attempt: Attempt) -> str:
    return f"{attempt.scope}:a:" + _hmac("account", attempt.account)


def _address_key(attempt: Attempt) -> str:
    # Shared by every scope: a sprayer is slowed on the second step as on the first.
    return "n:" + _hmac("address", attempt.address)


def _free(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def delay_after(failures: int, free: int) -> timedelta:
    """Return the wait after ``failures`` failures: none while free, then doubling to a cap."""
    if failures < free:
        return timedelta(0)
    exponent = min(failures - free, 30)  # 2**30 s is far past the cap; avoids huge numbers
    return min(BASE_DELAY * (2**exponent), MAX_DELAY)


def _rows(session: Session, keys: list[str]) -> dict[str, SignInThrottle]:
    found = session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(keys)))
    return {row.key: row for row in found}


def seconds_to_wait(session: Session, attempt: Attempt) -> int:
    """Return how many seconds this client must wait before trying (0: go ahead)."""
    if not enabled():
        return 0
    now = utcnow()
    client, account, address = _client_key(attempt), _account_key(attempt), _address_key(attempt)
    rows = _rows(session, [client, account, address])
    applicable = [rows.get(client)]
    if attempt.device is None:
        applicable.append(rows.get(address))
        # The account's cool-down only holds back clients that have failed on it themselves.
        own = rows.get(client)
        if own is not None and own.failures > 0 and _fresh(own, now):
            applicable.append(rows.get(account))
    waits = [(row.next_allowed_at - now).total_seconds() for row in applicable
             if row is not None and _fresh(row, now)]
    longest = max([0.0, *waits])
    return math.ceil(longest)


def _fresh(row: SignInThrottle, now: datetime) -> bool:
    return now - row.last_failure_at < FORGET_AFTER


def record_failure(session: Session, attempt: Attempt) -> None:
    """Count a failed attempt against the client, the account and the address."""
    if not enabled():
        return
    now = utcnow()
    _forget_old(session, now)
    _bump(session, _client_key(attempt), _free("LOGIN_FREE_FAILURES", FREE_FAILURES), now)
    _bump(session, _account_key(attempt),
          _free("LOGIN_ACCOUNT_FREE_FAILURES", ACCOUNT_FREE_FAILURES), now)
    _bump(session, _address_key(attempt),
          _free("LOGIN_ADDRESS_FREE_FAILURES", ADDRESS_FREE_FAILURES), now)
    session.flush()


def _forget_old(session: Session, now: datetime) -> None:
    """Delete a batch of expired counters, skipping rows another request holds (no waits).

    Done before the counters are bumped, so a request never waits here while holding them.
    """
    stale = list(session.scalars(
        select(SignInThrottle.id).where(SignInThrottle.last_failure_at < now - FORGET_AFTER)
        .limit(100).with_for_update(skip_locked=True)))
    if stale:
        session.execute(delete(SignInThrottle).where(SignInThrottle.id.in_(stale)))


def record_success(session: Session, attempt: Attempt) -> None:
    """Reset the client's own counter; account and address counters only decay with time.

    An attacker signing in to an account of their own must not wipe the address counter, and
    the account counter still holds back the addresses that were guessing.
    """
    if not enabled():
        return
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == _client_key(attempt)))
    session.flush()


def _bump(session: Session, key: str, free: int, now: datetime) -> None:
    """Add one failure to ``key`` under a row lock, so concurrent failures all count."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(SignInThrottle).values(
        key=key, failures=0, last_failure_at=now, next_allowed_at=now,
    ).on_conflict_do_nothing(index_elements=["key"]))
    row = session.scalars(
        select(SignInThrottle).where(SignInThrottle.key == key).with_for_update()
        .execution_options(populate_existing=True)).one()
    failures = 0 if not _fresh(row, now) else row.failures
    row.failures = failures + 1
    row.last_failure_at = now
    row.next_allowed_at = now + delay_after(row.failures, free)


# ----------------------------------------------------------------------------- device cookie


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DEVICE_SALT)


def device_for(request: Request, account: str) -> str | None:
    """Return the device id of a valid device cookie issued for ``account``, else None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 512:
        return None
    try:
        data = _serializer().loads(raw, max_age=int(DEVICE_COOKIE_AGE.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("a") != account:
        return None
    device = data.get("d")
    return device if isinstance(device, str) and device else None


def remember_device(response: Response, account: str, device: str | None) -> None:
    """Give (or renew) this browser's device cookie for ``account``."""
    value = _serializer().dumps({"a": account, "d": device or secrets.token_hex(16)})
    response.set_cookie(
        DEVICE_COOKIE, value, max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
        path=DEVICE_COOKIE_PATH, httponly=True, samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
