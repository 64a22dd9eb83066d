"""Keep respondents out of the development server's request log.

``flask run`` (werkzeug) logs every request as ``<client address> - - [<time>] "<request
line>" <status>``; for ``/r/<code>`` and ``/l/<token>`` that is the code, the address and
the time of day together. Those lines are dropped, and the client address is removed from the
rest. Production uses gunicorn, configured the same way in ``gunicorn.conf.py``.
"""

from __future__ import annotations

import logging
import re

# A respondent path anywhere in a message: "/r", "/r/...", "/l/...", after a space or quote.
_RESPONDENT_IN_TEXT = re.compile(r"(?:^|[\s\"'])/(?:r|l)(?:[/?\s\"']|$)")
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
