"""The read-only API of the follow-up registers: actions and commitments, tenant-scoped."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest

from app.models import CommitmentKind, User
from app.services import commitments as commitment_service
from app.services.commitments import CommitmentInput
from app.services.followup import FollowupError
from tests.app.export_helpers import bearer, make_token
from tests.app.staff_helpers import db
from tests.app.test_followup_lifecycle import add_action, make_loop


@contextmanager
def english_request(app):
    """A request context whose messages read in English (the app's default is Indonesian)."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


def test_actions_and_commitments_as_json(app):
    loop = make_loop(app)
    world = loop.results.world
    action_id = add_action(app, loop, item_id="kes1", due_on=date(2026, 3, 1))
    with db(app) as session, english_request(app):
        from app.models import Partnership

        partnership = session.get(Partnership, world.partnership)
        actor = session.get(User, world.coordinator)
        with pytest.raises(FollowupError, match="end of the period"):
            commitment_service.create_commitment(session, actor, partnership, CommitmentInput(
                partner_id=world.partners[1], kind="money", description="Rp 10 juta",
                round_id=loop.first, starts_on=date(2026, 3, 1), ends_on=date(2026, 1, 1)))
        session.rollback()
        commitment_service.create_commitment(session, actor, partnership, CommitmentInput(
            partner_id=world.partners[1], kind=CommitmentKind.MONEY, description="Rp 10 juta",
            round_id=loop.first))
        session.commit()
    token = make_token(app, world.observer)
    client = app.test_client()
    body = client.get(f"/api/v1/partnerships/{world.partnership}/actions",
                      headers=bearer(token)).json
    (action,) = body["actions"]
    assert action["id"] == action_id and action["item_id"] == "kes1"
    assert action["dimension_id"] == "kesetaraan" and action["overdue"] is True
    assert action["impact"]["state"] == "measured"
    commitments = client.get(f"/api/v1/partnerships/{world.partnership}/commitments",
                             headers=bearer(token)).json["commitments"]
    assert commitments[0]["kind"] == "money"
    assert [r["round_id"] for r in commitments[0]["reviews"]] == [loop.first, loop.second]
    assert {r["status"] for r in commitments[0]["reviews"]} == {"pending"}
    other = client.get(f"/api/v1/partnerships/{world.other_partnership}/actions",
                       headers=bearer(token))
    assert other.status_code == 404
    assert client.get(f"/api/v1/partnerships/{world.partnership}/actions").status_code == 401
