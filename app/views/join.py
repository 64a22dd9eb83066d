"""Routes of the join area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("join", __name__)
