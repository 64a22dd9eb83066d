"""Small helpers shared by the administration views."""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user

from app.db import get_session
from app.models import Partner, Round, User
from app.services.partnerships import partner_in
from app.services.rounds import round_in


def actor() -> User:
    """The signed-in user as a plain model object (services compare identities)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def partner_or_404(partner_id: int) -> Partner:
    """Load a partner of ``g.partnership`` or answer 404, never another tenant's."""
    partner = partner_in(get_session(), g.partnership, partner_id)
    if partner is None:
        abort(404)
    return partner


def round_or_404(round_id: int) -> Round:
    """Load a round of ``g.partnership`` or answer 404, never another tenant's."""
    round_ = round_in(get_session(), g.partnership, round_id)
    if round_ is None:
        abort(404)
    return round_


def page_number(raw: str | None) -> int:
    """Read a 1-based page number from the query string; anything odd means page 1."""
    try:
        return max(1, min(int(raw or 1), 100_000))
    except ValueError:
        return 1
