"""Limits on code entry, designed from the code space: a valid code is checked before any limit.

Every way in (``/r``, ``/r/<code>``, ``/l/<token>`` and the resume-code form) first asks
:func:`check_entry_open`, then checks the code, and reports a code that matched nothing with
:func:`count_wrong_guess`. Only wrong guesses are counted; a valid code leaves no trace here.

Three budgets, all fixed windows of *wrong* guesses (defaults; see ``docs/rate-limits.md``):

* ``CODE_ENTRY_RATE_LIMIT`` (30 per minute, per client): past it a wrong guess is answered
  "too many attempts, wait" instead of "unknown code", but codes are still checked, so a
  valid code from the same network goes through. It tells a person to slow down; it bounds
  nothing, since the answer to a wrong guess still says "wrong".
* ``CODE_ENTRY_CLIENT_CAP`` (200 per hour, per client) and ``CODE_ENTRY_SITE_CAP`` (600 per
  hour, whole site): past either, no code is checked at all until the window ends. These are
  what bound an attacker: any rule that still checks a code answers an attacker's guess too,
  so a limit that only relabels wrong answers would give unlimited tries. Honest typing on
  one network stays far below them; only deliberate guessing pauses code entry, and the site
  cap is the price of bounding an attacker who has many addresses.

An attacker gets at most 600 guesses an hour, 14,400 a day and 432,000 in a 30-day round
(one address alone 200 an hour). With codes of 8 characters from 25 letters (25**8 = 1.5e11)
and N issued codes, P(hit) = 1 - (1 - N/25**8)**guesses: a day gives 0.0094 % (N = 1,000) or
0.094 % (N = 10,000); a 30-day round 0.28 % or 2.8 % (one address alone: 0.094 % or
0.94 %). Resume codes have the same format and the same odds against the drafts of one
link. Link tokens (18 random bytes, 2**144) are out of reach: 2e-34 for 10,000 links over 30
days. Details: ``docs/rate-limits.md``.

A wrong guess cannot be tied to a round (a code that matches nothing names none), so the
budgets are per client and site-wide; the site cap bounds every round's guesses too.

The client is an HMAC, under the secret key and a purpose label, of its address (for IPv6
its /64, which one subscriber holds whole): the address itself never reaches the counters'
storage (memory or Redis), the log or the page. The limit pages name nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from flask import current_app, request
from limits import RateLimitItem, parse_many

from app.extensions import shared_counters

SCOPE = "code-entry"
DEFAULT_RATE_LIMIT = "30 per minute"
DEFAULT_CLIENT_CAP = "200 per hour"
DEFAULT_SITE_CAP = "600 per hour"


class TooManyAttempts(Exception):
    """Code entry refused for a while; ``paused``: no code was checked at all."""

    def __init__(self, *, paused: bool, retry_after: int) -> None:
        super().__init__("paused" if paused else "slow down")
        self.paused = paused
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Budget:
    items: list[RateLimitItem]
    identifiers: tuple[str, ...]


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def client_key() -> str:
    """A pseudonymous key for the client's network, for the counters only."""
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    message = ("code-entry-client\x1f" + _network(request.remote_addr)).encode("utf-8")
    return "client:" + hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def _network(address: str | None) -> str:
    """An IPv4 address as is; an IPv6 address as its /64, so a subscriber is one client."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _limit(name: str, default: str) -> list[RateLimitItem]:
    return parse_many(str(current_app.config.get(name, default)))


def _slow_down() -> _Budget:
    return _Budget(_limit("CODE_ENTRY_RATE_LIMIT", DEFAULT_RATE_LIMIT), (SCOPE, client_key()))


def _caps() -> list[_Budget]:
    return [
        _Budget(_limit("CODE_ENTRY_CLIENT_CAP", DEFAULT_CLIENT_CAP), (SCOPE, client_key())),
        _Budget(_limit("CODE_ENTRY_SITE_CAP", DEFAULT_SITE_CAP), (SCOPE, "site")),
    ]


def check_entry_open() -> None:
    """Before a code is checked: refuse if this client or the site has used up its cap."""
    if not _enabled():
        return
    counters = shared_counters()
    for budget in _caps():
        for item in budget.items:
            if not counters.test(item, *budget.identifiers):
                _, reset = counters.remaining(item, *budget.identifiers)
                raise TooManyAttempts(paused=True, retry_after=reset)


def count_wrong_guess() -> None:
    """After a code matched nothing: count it; raise TooManyAttempts once over a budget."""
    if not _enabled():
        return
    counters = shared_counters()
    waits: list[int] = []
    paused = False
    slow_down, client_cap, site_cap = _slow_down(), *_caps()
    for budget in (slow_down, client_cap, site_cap):
        for item in budget.items:
            within = counters.hit(item, *budget.identifiers)
            remaining, reset = counters.remaining(item, *budget.identifiers)
            if not within:
                waits.append(reset)
                paused = paused or budget is not slow_down
            elif remaining == 0 and budget is site_cap:
                # The guess that used the site's last try: one line for the operator, no who.
                current_app.logger.warning("Code entry paused site-wide for %d s: limit %s "
                                           "of wrong codes reached", reset, item)
    if waits:
        raise TooManyAttempts(paused=paused, retry_after=max(waits))
