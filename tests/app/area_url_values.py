"""URL values for the routes of each area, gathered from the ``tests/app/matrix_*.py`` modules.

The route matrix and the form fuzzer both address every route; an area whose URLs name its own
objects (a workshop, an action, a room...) says once, in its ``matrix_<area>.py``, how to make
those objects, and both tests use it.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from flask import Flask

from tests.app.staff_helpers import World, db


def _area_modules() -> list[ModuleType]:
    import tests.app as package

    return [importlib.import_module(f"tests.app.{info.name}")
            for info in pkgutil.iter_modules(package.__path__)
            if info.name.startswith("matrix_")]


AREAS = _area_modules()


def area_url_values(app: Flask, world: World, own: bool = True) -> dict:
    """Create each area's objects in partnership A (``own``) or B; return their URL values."""
    values: dict = {}
    for area in AREAS:
        with db(app) as session:
            values.update(area.url_values(session, world, own))
            session.commit()
    return values
