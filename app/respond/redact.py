"""Keep respondents out of the request log and the time of day out of their error log.

``flask run`` (werkzeug) logs every request as ``<client address> - - [<time>] "<request
line>" <status>``; for ``/r/<code>`` and ``/l/<token>`` that is the code, the address and
the time of day together. Those lines are dropped, and the client address is removed from the
rest. Production uses gunicorn, configured the same way in ``gunicorn.conf.py``.

Errors on respondent routes still need a traceback to be fixed, but Flask's logger stamps
each line with the time to the millisecond and its "Exception on <path>" names the code. So
every record of the app's logger made while a respondent request runs is sent instead to
:data:`RESPONDENT_ERROR_LOGGER`, whose format has no time, with respondent paths removed from
the message and the exception shown as its type and stack only (an exception's message can
quote what was typed, such as an answer or a code).
"""

from __future__ import annotations

import logging
import re
import traceback

from flask import Flask, has_request_context, request
from flask.logging import wsgi_errors_stream

from app.text_hygiene import strip_forbidden

# A respondent path anywhere in a message: "/r", "/r/...", "/l/...", after a space or quote.
_RESPONDENT_IN_TEXT = re.compile(r"(?:^|[\s\"'])/(?:r|l|j|summary/s)(?:[/?\s\"']|$)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours request lines by status
_ADDRESS_PREFIX = re.compile(r"^\S+ - - ")


class RespondentRequestFilter(logging.Filter):
    """Drop werkzeug lines that mention a respondent route; strip the client address elsewhere."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = _ANSI.sub("", record.getMessage())
        except (TypeError, ValueError):
            return True
        if _RESPONDENT_IN_TEXT.search(message):
            return False
        if isinstance(record.msg, str):
            record.msg = _ADDRESS_PREFIX.sub("", record.msg)
        return True


def install_request_log_filter() -> None:
    """Attach the filter to werkzeug's logger once per process."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RespondentRequestFilter) for f in logger.filters):
        logger.addFilter(RespondentRequestFilter())


# ---------------------------------------------------------------------------- error log

RESPONDENT_ERROR_LOGGER = "mitra.respondent"
# No %(asctime)s, deliberately: see the module docstring.
RESPONDENT_ERROR_FORMAT = "%(levelname)s in respondent flow: %(message)s"
_RESPONDENT_PATH = re.compile(r"^/(?:r|l|j|summary/s)(?:/|$)")
_RESPONDENT_PATH_IN_TEXT = re.compile(
    r"(?<![\w/])/(?:r|l|j|summary/s)(?:/[^\s\"']*)?(?=[\s\"'\]]|$)")


def is_respondent_path(path: str | None) -> bool:
    """True for the routes respondents use: /r, /r/..., /l/..."""
    return bool(path) and _RESPONDENT_PATH.match(path or "") is not None


def scrub_paths(text: str) -> str:
    """Replace respondent paths (they may hold a code) in a message."""
    return _RESPONDENT_PATH_IN_TEXT.sub("[respondent path]", text)


def redacted_traceback(error: BaseException) -> str:
    """The stack and type of an exception and its causes, without any exception message."""
    lines: list[str] = []
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    for position, exc in enumerate(reversed(chain)):
        if position:
            lines.append("\nWhile handling it, another exception happened:\n\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.StackSummary.extract(
            traceback.walk_tb(exc.__traceback__), capture_locals=False).format())
        lines.append(f"{_type_name(exc)} (message withheld)\n")
    return "".join(lines).rstrip("\n")


def _type_name(error: BaseException) -> str:
    cls = type(error)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def respondent_error_logger() -> logging.Logger:
    """The logger of respondent routes: no time of day, into the server's error stream.

    ``wsgi_errors_stream`` is the WSGI server's error stream (gunicorn's error log) during a
    request, standard error otherwise, like Flask's own default handler.
    """
    logger = logging.getLogger(RESPONDENT_ERROR_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(wsgi_errors_stream)  # type: ignore[arg-type]
        handler.setFormatter(logging.Formatter(RESPONDENT_ERROR_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # Root handlers (gunicorn's, a test runner's) would stamp the time again.
        logger.propagate = False
    return logger


def log_respondent_error(error: BaseException, what: str = "Unhandled error") -> None:
    """Log an error of a respondent route: its type and stack, no path, no time of day."""
    respondent_error_logger().error("%s: %s\n%s", strip_forbidden(what), _type_name(error),
                                    redacted_traceback(error))


class RespondentErrorFilter(logging.Filter):
    """Reroute the app logger's records made during respondent requests (see module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not has_request_context() or not is_respondent_path(request.path):
            return True
        if getattr(record, "_mitra_rerouted", False):
            return False
        record._mitra_rerouted = True  # type: ignore[attr-defined]
        try:
            message = scrub_paths(strip_forbidden(record.getMessage()))
        except (TypeError, ValueError):
            message = "(unreadable log message)"
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BaseException):
            log_respondent_error(error, message)
        else:
            respondent_error_logger().log(record.levelno, "%s", message)
        return False


def install_error_log_filter(app: Flask) -> None:
    """Attach the rerouting filter to the app's logger and its handlers, once."""
    targets: list[logging.Filterer] = [app.logger, *app.logger.handlers]
    for target in targets:
        if not any(isinstance(f, RespondentErrorFilter) for f in target.filters):
            target.addFilter(RespondentErrorFilter())
