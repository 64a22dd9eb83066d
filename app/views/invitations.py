"""Routes of the invitations area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("invitations", __name__)
