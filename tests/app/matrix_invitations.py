"""URL values of the invitations area for the route x role matrix (test_access_matrix.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.models import Invitation, Role
from app.models._types import utcnow
from app.services.invitations import hash_token
from tests.app.staff_helpers import World

CROSS_TENANT_BLUEPRINTS = {"invitations"}
OBJECT_PARTS = {"invitation_id"}


def url_values(session: Session, world: World, own: bool) -> dict:
    """A pending invitation in partnership A (``own``) or B."""
    now = utcnow()
    invitation = Invitation(
        partnership_id=world.partnership if own else world.other_partnership,
        email=f"diundang-{'a' if own else 'b'}-{now.timestamp()}@example.org",
        role=Role.FACILITATOR, token_hash=hash_token(f"matrix-{own}-{now.timestamp()}"),
        invited_by_id=world.coordinator if own else world.outsider,
        created_at=now, expires_at=now + timedelta(hours=72))
    session.add(invitation)
    session.flush()
    return {"invitation_id": invitation.id}
