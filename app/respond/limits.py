"""Rate limiting of code entry: count failed attempts per client, never successful ones.

A workshop room of fifty people behind one NAT address must be able to enter fifty valid
codes in a minute, while one client guessing codes must be stopped. So the limit is checked
on every entry but only *failures* count towards it (Flask-Limiter's ``deduct_when``).

The client is keyed by an HMAC of its address: the address itself never reaches the limiter
storage (memory or Redis) nor the limiter's own log line about a breached limit.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Response, current_app, request

from app.extensions import limiter

SCOPE = "code-entry"


def client_key() -> str:
    """A pseudonymous key for the client's address, for the limiter only."""
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    address = (request.remote_addr or "unknown").encode("utf-8")
    return "client:" + hmac.new(secret, address, hashlib.sha256).hexdigest()[:32]


_FAILED = "mitra.code_entry_failed"


def mark_failed_attempt() -> None:
    """Record that this request tried a code (or resume code) that does not exist."""
    # On the request itself, not on ``g``: an app context can outlive a request.
    request.environ[_FAILED] = True


def failed_attempt(_response: Response) -> bool:
    return bool(request.environ.get(_FAILED))


def _limit_value() -> str:
    return current_app.config["CODE_ENTRY_RATE_LIMIT"]


# One budget shared by every way in: /r, /r/<code>, /l/<token> and the resume code form.
code_entry_limit = limiter.shared_limit(
    _limit_value, scope=SCOPE, key_func=client_key, deduct_when=failed_attempt
)
