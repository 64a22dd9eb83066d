"""Configuration: committed defaults, then ``instance/config.py``, then ``MITRA_*`` variables."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"


class Config:
    """Defaults that make a fresh checkout run on SQLite with no further setup."""

    ENV_NAME = "development"  # development | production | testing
    SECRET_KEY = DEV_SECRET_KEY
    # Keyed hashes of access codes use their own key so rotating the session key never
    # invalidates codes already printed and handed out.
    ACCESS_CODE_KEY: str | None = None
    # None means "sqlite:///<instance>/mitra.db", resolved in create_app.
    DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    SQL_ECHO = False
    QUESTIONNAIRE_DIR: str | None = None  # None means the bundled questionnaires/ folder

    # Anonymity: the smallest group ever reported; partnerships may raise it, never below 3.
    DEFAULT_MIN_GROUP_SIZE = 5
    MIN_GROUP_SIZE_FLOOR = 3

    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"
    LANGUAGES = ("id", "en")

    # Respondents may take a long time over a questionnaire: tokens must not expire under them.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = True

    # How many reverse proxies (nginx, a load balancer) stand in front of the app and set
    # X-Forwarded-For / -Proto / -Host / -Port. 0 = none: those headers are then ignored, since
    # anyone could send them. Behind one nginx, set 1.
    TRUSTED_PROXY_HOPS = 0

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    MAX_CONTENT_LENGTH = 1024 * 1024
    # Paper answers uploaded on the web (about 6,000 rows of the bundled questionnaire); a
    # larger file is imported with `flask responses import`, which streams it.
    PAPER_UPLOAD_MAX_BYTES = 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    MAX_FORM_PARTS = 1000

    # Rendered charts: in-process LRU size, Redis TTL (seconds), browser max-age (seconds).
    CHART_CACHE_SIZE = 256
    CHART_CACHE_TTL = 600
    CHART_MAX_AGE = 300

    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STORAGE_URI: str | None = None  # derived from REDIS_URL when unset
    # Failed staff sign-ins (app/auth/throttle.py): failures allowed before growing waits
    # begin, per client and account / per account (only for clients failing on it) / per
    # address across accounts. Waits never apply to a client that has not been failing.
    LOGIN_FREE_FAILURES = 3
    LOGIN_ACCOUNT_FREE_FAILURES = 10
    LOGIN_ADDRESS_FREE_FAILURES = 30
    # Two-factor sign-in: admins and coordinators without it must enrol right after their
    # password. TWO_FACTOR_KEY encrypts TOTP secrets and keys recovery-code hashes; None means
    # SECRET_KEY. Set it separately so rotating the session key does not force re-enrolment.
    TWO_FACTOR_REQUIRED = False
    TWO_FACTOR_KEY: str | None = None
    # Wrong access-code guesses only (docs/rate-limits.md): per client past the rate limit a
    # wrong guess is told to wait while codes are still checked; past the client cap no code
    # from that client is checked; the site cap bounds an attacker with many addresses.
    CODE_ENTRY_RATE_LIMIT = "30 per minute"
    CODE_ENTRY_CLIENT_CAP = "200 per hour"
    CODE_ENTRY_SITE_CAP = "600 per hour"

    TESTING = False
    DEBUG = False


def apply_environment(config: dict[str, Any], environ: dict[str, str]) -> None:
    """Overlay ``MITRA_*`` variables, converting types to match the defaults they replace."""
    prefix = "MITRA_"
    for name, raw in environ.items():
        if not name.startswith(prefix):
            continue
        key = name[len(prefix) :]
        current = config.get(key)
        config[key] = _coerce(raw, current, name)


def _coerce(raw: str, current: Any, name: str) -> Any:
    if isinstance(current, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{name}: expected true or false, got {raw!r}")
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name}: expected a whole number, got {raw!r}") from None
    if isinstance(current, float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{name}: expected a number, got {raw!r}") from None
    if isinstance(current, timedelta):
        try:
            return timedelta(seconds=int(raw))
        except ValueError:
            raise ValueError(f"{name}: expected seconds as a whole number, got {raw!r}") from None
    return raw


def check_production(config: dict[str, Any]) -> None:
    """Refuse to run in production with settings that would make it unsafe."""
    if config.get("ENV_NAME") != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < 32:
        raise RuntimeError(
            "MITRA_SECRET_KEY must be set to a random value of at least 32 characters in "
            "production (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if config.get("DEBUG"):
        raise RuntimeError("DEBUG must be off in production")
    config["SESSION_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_SECURE"] = True
