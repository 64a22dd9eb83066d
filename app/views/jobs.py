"""Routes of the jobs area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("jobs", __name__)
