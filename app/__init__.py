"""Mitra Sehat: the Flask application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from app import config as config_module

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then MITRA_* variables, then tests."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_object(config_module.Config)
    app.config.from_pyfile("config.py", silent=True)
    config_module.apply_environment(app.config, dict(os.environ))
    if test_config is not None:
        app.config.from_mapping(test_config)
    _resolve_paths(app)
    config_module.check_production(app.config)

    from app import db, extensions, i18n, request_hygiene, security, templating
    from app.cli import register_cli

    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    extensions.csrf.init_app(app)
    request_hygiene.init_app(app)
    _init_limiter(app)
    register_cli(app)
    _register_blueprints(app)
    return app


def _resolve_paths(app: Flask) -> None:
    if not app.config.get("DATABASE_URL"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = "sqlite:///" + str(Path(app.instance_path) / "mitra.db")
    if not app.config.get("QUESTIONNAIRE_DIR"):
        app.config["QUESTIONNAIRE_DIR"] = str(PROJECT_ROOT / "questionnaires")
    if not app.config.get("ACCESS_CODE_KEY"):
        app.config["ACCESS_CODE_KEY"] = app.config["SECRET_KEY"]


def _init_limiter(app: Flask) -> None:
    """Attach the limiter and the code-entry counters, both degrading to memory without Redis."""
    from app.extensions import REDIS_TIMEOUTS, SharedCounters, limiter

    if not app.config.get("RATELIMIT_STORAGE_URI"):
        redis_url = app.config.get("REDIS_URL")
        app.config["RATELIMIT_STORAGE_URI"] = redis_url or "memory://"
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if uri.startswith(("redis", "rediss", "valkey")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", dict(REDIS_TIMEOUTS))
    limiter.init_app(app)
    app.extensions["mitra.counters"] = SharedCounters(
        uri, app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}, app.logger)


def _register_blueprints(app: Flask) -> None:
    from werkzeug.routing import IntegerConverter

    from app.views import register_views

    class DatabaseIntConverter(IntegerConverter):
        """``<int:...>`` limited to what an INTEGER column holds, so larger ids are a 404."""

        def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
            super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    app.url_map.converters["int"] = DatabaseIntConverter
    register_views(app)
