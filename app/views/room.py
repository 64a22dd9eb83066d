"""Routes of the room area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("room", __name__)
