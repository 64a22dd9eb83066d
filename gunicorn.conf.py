"""Gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Anonymity is a product promise: respondent routes store and log no IP address, user agent or
time of day. Gunicorn's default access log writes all three, plus the request line, and the
request line of ``/r/<code>`` and ``/l/<token>`` holds the very code a respondent typed. A log
holding "10.1.2.3 at 09:14 opened /r/KXP7W9QT" next to a list of who got which code would undo
everything the database keeps apart. So:

* requests to respondent and room routes (``/r``, ``/r/...``, ``/l/...``, ``/j...``) get no
  access-log line at all
  (a redacted line would still give the time of day of each step, submission included);
* every other line omits the client address (``%(h)s``), the full request line with its query
  string (``%(r)s``), the user agent (``%(a)s``) and the referrer (``%(f)s``): method, path,
  status, size and duration are enough to run the service;
* the error log scrubs respondent paths and the ``ip=`` that gunicorn adds to its warnings
  about malformed requests.

Rate limits of the app live in memory per worker unless ``MITRA_REDIS_URL`` is set; with two
workers every limit is then effectively doubled, so set Redis in production.

Behind nginx (``deploy/nginx.conf``, ``docs/deploy.md``) the app alone decides which
X-Forwarded-* headers to believe, from ``MITRA_TRUSTED_PROXY_HOPS``: gunicorn's own trust of
X-Forwarded-Proto from loopback is switched off, so there is one setting, not two. Responses
carry no ``Server`` header (gunicorn would name itself).
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger
from gunicorn.http import wsgi as gunicorn_wsgi

bind = "127.0.0.1:8000"
workers = 2
# Load the app once in the master: workers start faster and share its read-only memory.
preload_app = True
accesslog = "-"
errorlog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(b)s %(D)sus'
# Forwarded headers are believed by the app (TRUSTED_PROXY_HOPS, werkzeug's ProxyFix) or not at
# all: gunicorn itself trusts no peer to set the scheme or WSGI variables.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""

RESPONDENT_PATH = re.compile(r"^/(?:r|l|j|summary/s)(?:/|$)")
_RESPONDENT_IN_TEXT = re.compile(r"(?<![\w/])/(?:r|l|j|summary/s)(?:/[^\s\"']*)?(?=[\s\"']|$)")
_CLIENT_ADDRESS = re.compile(r"\bip=\S+")


def is_respondent_path(path: str | None) -> bool:
    """True for the routes respondents and room participants use: /r, /r/..., /l/..., /j..."""
    return bool(path) and RESPONDENT_PATH.match(path) is not None


def scrub(text: str) -> str:
    """Remove respondent paths (they may hold a code) and client addresses from a message."""
    return _CLIENT_ADDRESS.sub("ip=[removed]", _RESPONDENT_IN_TEXT.sub("[respondent path]", text))


class AnonymousLogger(Logger):
    """Gunicorn's logger, minus everything that could tie a respondent to a request."""

    def access(self, resp, req, environ, request_time):
        if is_respondent_path(environ.get("PATH_INFO")) or is_respondent_path(
            (environ.get("RAW_URI") or "").split("?", 1)[0]
        ):
            return
        super().access(resp, req, environ, request_time)

    def error(self, msg, *args, **kwargs):
        super().error(*_scrubbed(msg, args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(*_scrubbed(msg, args), **kwargs)

    def exception(self, msg, *args, **kwargs):
        super().exception(*_scrubbed(msg, args), **kwargs)


def _scrubbed(msg, args):
    clean_args = tuple(scrub(a) if isinstance(a, str) else a for a in args)
    return (scrub(msg) if isinstance(msg, str) else msg, *clean_args)


logger_class = AnonymousLogger


def _without_server_header(default_headers):
    """Wrap gunicorn's status line and default headers so they leave ``Server`` out."""

    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    headers.mitra_no_server = True
    return headers


# Gunicorn has no setting for its "Server: gunicorn" header. The browser test through nginx
# (tests/e2e/test_deploy_tls.py) checks it stays away if gunicorn changes these internals.
if not getattr(gunicorn_wsgi.Response.default_headers, "mitra_no_server", False):
    gunicorn_wsgi.Response.default_headers = _without_server_header(
        gunicorn_wsgi.Response.default_headers)
