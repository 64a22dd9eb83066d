"""Security headers, sign-in sessions that sign-out really ends, and user loading."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request, session
from flask_babel import lazy_gettext as _l

from app.extensions import login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    app.after_request(set_security_headers)


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


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
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
