"""URL values of the summary routes for the route x role matrix: the routes take a round of
partnership A (or of B for the cross-tenant test), which the world already has."""

from __future__ import annotations

from sqlalchemy.orm import Session

CROSS_TENANT_BLUEPRINTS = {"summary"}


def url_values(session: Session, world, own: bool) -> dict:
    return {"round_id": world.open_round if own else world.other_round}
