"""The follow-up register as JSON for the read-only API (actions and commitments).

Plain values of the stored records; the impact line is the same text the pages print, in
English (the API's language), read from the published over-time snapshot, so no figure of a
group below k appears here either.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.models import Partnership
from app.results.impact import action_impacts
from app.services.actions import RegisterFilters, register
from app.services.commitments import commitments_register

__all__ = ["actions_json", "commitments_json"]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def actions_json(session: Session, partnership: Partnership, today: date) -> list[dict[str, Any]]:
    """Every action of the partnership, newest round first."""
    rows = register(session, partnership, RegisterFilters(), today)
    impacts = action_impacts(session, partnership, [r.action for r in rows], "en")
    out = []
    for row in rows:
        action = row.action
        impact = impacts.get(action.id)
        out.append({
            "id": action.id, "round_id": row.round.id, "workshop_id": action.workshop_id,
            "workshop_held_on": action.workshop.held_on.isoformat(),
            "description": action.description,
            "questionnaire_version_id": action.questionnaire_version_id,
            "dimension_id": action.dimension_id, "item_id": action.item_id,
            "owner_ids": [p.id for p in row.owners],
            "co_owner_ids": [p.id for p in row.co_owners],
            "due_on": _iso(action.due_on), "status": action.status.value,
            "progress": action.progress, "drop_reason": action.drop_reason,
            "overdue": row.overdue, "carried_over_from_id": action.carried_over_from_id,
            "carried_into_round_id": row.carried_into.id if row.carried_into else None,
            "checklist": [{"text": item.text, "done": item.done} for item in action.checklist],
            "impact": None if impact is None else {
                "state": impact.state, "headline": impact.headline, "stats": impact.stats,
                "caveat": impact.caveat, "evidence": impact.evidence,
                "partners": [{"name": p.name, "shown": p.shown, "stats": p.stats}
                             for p in impact.partners]},
        })
    return out


def commitments_json(session: Session, partnership: Partnership) -> list[dict[str, Any]]:
    """Every commitment with its review per round of its period."""
    out = []
    for partner_id, rows in commitments_register(session, partnership).items():
        for row in rows:
            c = row.commitment
            out.append({
                "id": c.id, "partner_id": partner_id, "kind": c.kind.value,
                "description": c.description, "round_id": c.round_id,
                "starts_on": _iso(c.starts_on), "ends_on": _iso(c.ends_on), "note": c.note,
                "status": c.status.value,
                "reviews": [{"round_id": round_.id,
                             "status": review.status.value if review else "pending",
                             "note": review.note if review else ""}
                            for round_, review in row.reviews],
            })
    return out
