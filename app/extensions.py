"""Flask extensions, created unbound and attached in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf import CSRFProtect


def _no_client_key() -> str:
    """Default limiter key: none. Each limit names its own key, so no IP is used unasked."""
    return "global"


csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
limiter = Limiter(key_func=_no_client_key, default_limits=[], headers_enabled=True)
