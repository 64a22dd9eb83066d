"""Flask extensions, created unbound and attached in ``create_app``; shared rate counters."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from limits import RateLimitItem
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

T = TypeVar("T")

# A Redis that does not answer must cost a request half a second, not the OS's TCP timeout.
REDIS_TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def _no_client_key() -> str:
    """Default limiter key: none. Each limit names its own key, so no IP is used unasked."""
    return "global"


csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
# Redis away must degrade the limits, not fail the request: Flask-Limiter then counts in this
# worker's memory, logs one warning and probes Redis again with a growing back-off.
limiter = Limiter(key_func=_no_client_key, default_limits=[], headers_enabled=True,
                  in_memory_fallback_enabled=True, swallow_errors=True)


class SharedCounters:
    """Fixed-window counters in the shared storage, or in this worker's memory while it is away.

    Code entry counts wrong guesses itself (a valid code must be checked before any limit), so
    it cannot use Flask-Limiter's decorators and their fallback. This gives it the same
    behaviour: the first storage error switches this worker to memory and logs one warning;
    every ``recheck_seconds`` one request probes the storage and switches back when it answers.
    Memory counts are per worker, so during an outage each worker enforces the limits alone.
    """

    recheck_seconds = 15.0

    def __init__(self, uri: str, options: dict | None = None,
                 logger: logging.Logger | None = None) -> None:
        self.uri = uri
        self.shared_storage: Storage = storage_from_string(uri, **(options or {}))
        self._shared = FixedWindowRateLimiter(self.shared_storage)
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._logger = logger or logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._away_since: float | None = None
        self._last_probe = 0.0

    @property
    def is_shared(self) -> bool:
        """False while the shared storage is away and this worker counts in memory."""
        return self._away_since is None

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one event; False when it goes over ``item``."""
        return self._run(lambda limiter: limiter.hit(item, *identifiers))

    def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        """True while one more event would stay within ``item``."""
        return self._run(lambda limiter: limiter.test(item, *identifiers))

    def remaining(self, item: RateLimitItem, *identifiers: str) -> tuple[int, int]:
        """How many events are left in the window, and in how many seconds it resets."""
        stats = self._run(lambda limiter: limiter.get_window_stats(item, *identifiers))
        return stats.remaining, max(1, int(stats.reset_time - time.time() + 0.999))

    def _run(self, operation: Callable[[FixedWindowRateLimiter], T]) -> T:
        if self._away_since is not None and not self._probe():
            return operation(self._memory)
        try:
            return operation(self._shared)
        except Exception:  # any storage failure: degrade, never turn it into an error page
            self._mark_away()
            return operation(self._memory)

    def _mark_away(self) -> None:
        with self._lock:
            if self._away_since is None:
                self._away_since = self._last_probe = time.monotonic()
                self._logger.warning(
                    "Rate-limit storage unreachable: counting in this worker's memory until it "
                    "answers again")

    def _probe(self) -> bool:
        """While away, let one request every ``recheck_seconds`` see whether it is back."""
        with self._lock:
            now = time.monotonic()
            if now - self._last_probe < self.recheck_seconds:
                return False
            self._last_probe = now
        if not self.shared_storage.check():
            return False
        with self._lock:
            if self._away_since is not None:
                self._away_since = None
                self._logger.warning("Rate-limit storage answers again: shared counting resumed")
        return True


def shared_counters() -> SharedCounters:
    """The current app's counters (one set per app: tests create many apps)."""
    return current_app.extensions["mitra.counters"]
