"""Security headers, trusted proxies, sign-in sessions that sign-out really ends, user loading."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request, session
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# The full address of a page goes only to this site, never to another one. Over HTTPS the CSRF
# check compares the Referer of every form post with this site's origin (WTF_CSRF_SSL_STRICT),
# so "no-referrer" would refuse every form. A respondent's /r/<code> is swapped for session
# state at once, and no log keeps a referrer, so a same-site Referer stores nothing new.
REFERRER_POLICY = "same-origin"
HSTS = "max-age=31536000; includeSubDomains"
# Views that exist only to answer unknown URLs and methods with an error (the API's JSON 404
# and 405). They never widen what OPTIONS advertises for a URL, and a URL only they match
# answers OPTIONS with their 404.
ERROR_ONLY_ENDPOINTS = frozenset({"api.not_found"})


def init_app(app: Flask) -> None:
    hops = trusted_proxy_hops(app.config.get("TRUSTED_PROXY_HOPS", 0))
    if hops:
        # Scheme, host, port and client address come from the last ``hops`` proxies; with 0,
        # X-Forwarded-* are ignored, since any client could send them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.before_request(answer_options)
    app.after_request(set_security_headers)


def trusted_proxy_hops(value: object) -> int:
    """Check the TRUSTED_PROXY_HOPS setting: a whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            "TRUSTED_PROXY_HOPS (MITRA_TRUSTED_PROXY_HOPS) must be a whole number of 0 or more: "
            "how many reverse proxies stand in front of the app (0 = none, 1 = one nginx), "
            f"got {value!r}"
        )
    return value


def load_user(user_id: str):
    """Load the signed-in user only while the session's epoch matches the account's."""
    from app.db import get_session
    from app.models import User

    try:
        user = get_session().get(User, int(user_id))
    except ValueError:
        return None
    if user is None or not user.is_active_account:
        return None
    if session.get("epoch") != user.session_epoch:
        return None
    return user


def answer_options() -> Response | None:
    """Answer OPTIONS with the methods the routes at this URL serve, and nothing more.

    Werkzeug's automatic answer lists the methods of every rule the path matches, so the API's
    catch-all (which takes POST, PUT, DELETE... only to refuse them in JSON) made every API URL
    advertise methods the API does not serve.
    """
    rule = request.url_rule
    if request.method != "OPTIONS" or rule is None:
        return None
    if not getattr(rule, "provide_automatic_options", False):
        return None  # the view answers OPTIONS itself
    if rule.endpoint in ERROR_ONLY_ENDPOINTS:
        abort(404)
    place = (rule.rule, rule.host, rule.subdomain)
    allowed = {
        method
        for other in current_app.url_map.iter_rules()
        if (other.rule, other.host, other.subdomain) == place
        and other.endpoint not in ERROR_ONLY_ENDPOINTS
        for method in other.methods or ()
    }
    response = current_app.response_class()
    response.allow.update(sorted(allowed))
    return response


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        # Behind a TLS proxy the scheme is "https" only with TRUSTED_PROXY_HOPS set.
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        # Pages show personal or tenant data, or a respondent's answers: never store them in
        # shared caches or the browser's history cache. Views that can be cached say so.
        headers.setdefault("Cache-Control", "no-store")
    return response


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else None (no open redirects).

    Browsers read a backslash as a slash, so ``/\\evil.example`` would leave the site.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
