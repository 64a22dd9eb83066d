"""Configuration: committed defaults, then ``instance/config.py``, then ``MITRA_*`` variables."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr
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
    # Live room (app/views/join.py): answers per phone (its random token), and per network
    # address, set high because a whole room of phones may share one NAT. Checked at start-up.
    ROOM_ANSWER_RATE_LIMIT = "30 per minute"
    ROOM_NETWORK_RATE_LIMIT = "3000 per minute"
    ROOM_POLL_SECONDS = 2  # how often phones and the projector ask for news
    ROOM_COOKIE_MAX_AGE = 12 * 3600  # seconds a phone keeps its room token

    # Background jobs (app/jobs): PDF reports, large downloads, paper imports, snapshots.
    # "auto" uses RQ on REDIS_URL when it is set, else threads of the app process; "rq" and
    # "thread" force one. Finished files live in JOB_FILES_DIR (None: <instance>/job-files;
    # shared by every app server and worker) for JOB_FILE_TTL_HOURS. A running job silent for
    # JOB_STALE_SECONDS is taken to have died with its worker and is queued again, at most
    # JOB_MAX_ATTEMPTS times in all; RQ stops one after JOB_TIMEOUT_SECONDS.
    JOB_MODE = "auto"
    JOB_FILES_DIR: str | None = None
    JOB_FILE_TTL_HOURS = 24
    JOB_STALE_SECONDS = 300
    JOB_MAX_ATTEMPTS = 3
    JOB_TIMEOUT_SECONDS = 900
    JOB_THREADS = 2
    JOB_QUEUE = "mitra-sehat"

    # Invitations by email (app/services/invitations.py): how long a link works, and how many
    # invitations or new links one person may send before being told to wait.
    INVITATION_TTL_HOURS = 72
    INVITATION_RATE_LIMIT = "20 per hour"
    # Outgoing mail (app/mail.py). Without MAIL_SERVER no mail is sent: the invitation page
    # shows the link for the coordinator to pass on. MAIL_USE_TLS means STARTTLS.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM: str | None = None
    MAIL_TIMEOUT = 10

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


JOB_MODES = ("auto", "rq", "thread")


def check_jobs(config: dict[str, Any]) -> None:
    """Refuse background-job settings that cannot work, naming the setting."""
    mode = config.get("JOB_MODE", "auto")
    if mode not in JOB_MODES:
        raise ValueError(f"MITRA_JOB_MODE must be one of {', '.join(JOB_MODES)}, got {mode!r}")
    if mode == "rq" and not config.get("REDIS_URL"):
        raise ValueError("MITRA_JOB_MODE=rq needs MITRA_REDIS_URL")
    for name, low in (("JOB_FILE_TTL_HOURS", 1), ("JOB_STALE_SECONDS", 10),
                      ("JOB_MAX_ATTEMPTS", 1), ("JOB_TIMEOUT_SECONDS", 10),
                      ("JOB_THREADS", 1)):
        value = config.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"MITRA_{name} must be a whole number of at least {low}, "
                             f"got {value!r}")
    queue = config.get("JOB_QUEUE")
    if not isinstance(queue, str) or not queue.replace("-", "").isalnum():
        raise ValueError(f"MITRA_JOB_QUEUE must be letters, digits and dashes, got {queue!r}")


def check_mail(config: dict[str, Any]) -> None:
    """Refuse mail and invitation settings that cannot work together, saying what to change."""
    ttl = config.get("INVITATION_TTL_HOURS")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= 24 * 30:
        raise ValueError("MITRA_INVITATION_TTL_HOURS must be a whole number of hours from 1 "
                         f"to 720, got {ttl!r}")
    server = (config.get("MAIL_SERVER") or "").strip()
    sender = (config.get("MAIL_FROM") or "").strip()
    username = config.get("MAIL_USERNAME") or ""
    password = config.get("MAIL_PASSWORD") or ""
    if not server:
        stray = [f"MITRA_{key}" for key, value in (
            ("MAIL_FROM", sender), ("MAIL_USERNAME", username), ("MAIL_PASSWORD", password))
            if value]
        if stray:
            raise ValueError(f"{', '.join(stray)} set but MITRA_MAIL_SERVER is not: set it to "
                             "send mail, or unset them to show invitation links for copying")
        return
    if not sender:
        raise ValueError("MITRA_MAIL_SERVER is set but MITRA_MAIL_FROM is not: set it to the "
                         "address invitations come from, e.g. 'Mitra Sehat "
                         "<noreply@example.org>'")
    if "@" not in parseaddr(sender)[1]:
        raise ValueError(f"MITRA_MAIL_FROM must be an email address, got {sender!r}")
    port = config.get("MAIL_PORT")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"MITRA_MAIL_PORT must be a port number from 1 to 65535, got {port!r}")
    if bool(username) != bool(password):
        raise ValueError("MITRA_MAIL_USERNAME and MITRA_MAIL_PASSWORD go together: set both to "
                         "sign in to the mail server, or neither")
    if username and not config.get("MAIL_USE_TLS") and config.get("ENV_NAME") == "production":
        raise ValueError("MITRA_MAIL_USE_TLS is off while MITRA_MAIL_USERNAME is set: the mail "
                         "password would cross the network in clear")


def check_production(config: dict[str, Any]) -> None:
    """Refuse to run in production with settings that would make it unsafe."""
    check_jobs(config)
    check_mail(config)  # in every environment: a half-set mail server fails at start
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
