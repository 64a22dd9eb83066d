"""Blueprint registry: one module per area, registered here and nowhere else."""

from __future__ import annotations

import importlib

from flask import Flask

# (module under app.views, URL prefix). Areas land here as they are built.
BLUEPRINTS: tuple[tuple[str, str | None], ...] = (
    ("main", None),
    ("errors", None),
    ("respond", None),
    ("auth", None), ("admin", "/admin"), ("fieldwork", "/fieldwork"),
    ("reports", "/reports"),
    ("exports", "/exports"), ("api", "/api/v1"), ("tokens", "/profile/tokens"),
    ("results", "/results"),
    ("paper", "/fieldwork"),
    ("invitations", None),
    ("followup", "/followup"),
    ("summary", "/summary"),
    ("present", "/present"),
    ("room", "/room"), ("join", None),
    ("jobs", "/jobs"),
)


def register_views(app: Flask) -> None:
    for module_name, prefix in BLUEPRINTS:
        module = importlib.import_module(f"app.views.{module_name}")
        app.register_blueprint(module.bp, url_prefix=prefix)
