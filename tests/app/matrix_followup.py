"""URL values of the follow-up routes for the route x role matrix (workshops, actions,
commitments of partnership A, or of B for the cross-tenant test)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.models import (
    Action,
    ActionOwner,
    ActionStatus,
    Commitment,
    CommitmentKind,
    OwnerRole,
    Round,
    Workshop,
)

CROSS_TENANT_BLUEPRINTS = {"followup"}
OBJECT_PARTS = {"workshop_id", "action_id", "commitment_id"}


def url_values(session: Session, world, own: bool) -> dict:
    round_id = world.open_round if own else world.other_round
    partner_id = (world.partners if own else world.other_partners)[0]
    round_ = session.get(Round, round_id)
    workshop = Workshop(round_id=round_.id, held_on=date(2026, 2, 1), title="Lokakarya")
    session.add(workshop)
    session.flush()
    action = Action(workshop_id=workshop.id, description="Bagikan laporan",
                    questionnaire_version_id=round_.questionnaire_version_id,
                    dimension_id="kesetaraan", status=ActionStatus.PLANNED)
    action.owner_links = [ActionOwner(partner_id=partner_id, role=OwnerRole.OWNER)]
    session.add(action)
    commitment = Commitment(round_id=round_.id, partner_id=partner_id,
                            kind=CommitmentKind.STAFF, description="Dua staf lapangan")
    session.add(commitment)
    session.flush()
    return {"workshop_id": workshop.id, "action_id": action.id,
            "commitment_id": commitment.id}
