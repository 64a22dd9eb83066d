"""Routes of the present area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("present", __name__)
