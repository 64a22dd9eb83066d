"""Hostile input on every follow-up form: a clear 4xx, never a server error or a stored row.

(The generic form fuzzer does not know this area's URL parts yet; these cases cover the
same ground for the follow-up routes.)"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Action, Commitment, Workshop
from tests.app.matrix_followup import url_values
from tests.app.staff_helpers import build_world, db, rows, signed_in_client

NASTY = ["", "\x00", "a\x00b", "\u202eevil", "9" * 400, "-5", "x" * 30000, "2026-13-45"]


@pytest.mark.parametrize("value", NASTY)
def test_hostile_values_never_give_a_server_error(app, value):
    world = build_world(app)
    with db(app) as session:
        ids = url_values(session, world, True)
        session.commit()
    client = signed_in_client(app, "coordinator")
    p, w, a, c = world.partnership, ids["workshop_id"], ids["action_id"], ids["commitment_id"]
    before = [rows(app, select(func.count()).select_from(m))[0]
              for m in (Workshop, Action, Commitment)]
    posts = [
        (f"/followup/partnerships/{p}/rounds/{world.open_round}/workshops/new",
         {"held_on": value, "title": value, "facilitator_id": value,
          f"attendance_{world.partners[0]}": value}),
        (f"/followup/partnerships/{p}/workshops/{w}/edit", {"held_on": value, "notes": value}),
        (f"/followup/partnerships/{p}/workshops/{w}/actions",
         {"description": value, "target": value, "owner_ids": [value, "1"], "due_on": value}),
        (f"/followup/partnerships/{p}/actions/{a}",
         {"description": value, "target": "dimension:kesetaraan", "status": value,
          "progress": value, "owner_ids": str(world.partners[0]),
          "checklist-0-text": value, "checklist-0-done": value}),
        (f"/followup/partnerships/{p}/commitments/new",
         {"partner_id": value, "kind": value, "description": value, "round_id": value,
          "starts_on": value}),
        (f"/followup/partnerships/{p}/commitments/{c}",
         {"partner_id": value, "kind": "money", "description": value}),
        (f"/followup/partnerships/{p}/commitments/{c}/reviews/{world.open_round}",
         {f"r{world.open_round}-status": value, f"r{world.open_round}-note": value}),
        (f"/followup/partnerships/{p}/workshops/{w}/carry/{a}", {"x": value}),
    ]
    for url, data in posts:
        response = client.post(url, data=data)
        assert response.status_code < 500, (url, value, response.status_code)
        json = client.post(url, data=data, headers={"Accept": "application/json"})
        assert json.status_code < 500, (url, value)
    after = [rows(app, select(func.count()).select_from(m))[0]
             for m in (Workshop, Action, Commitment)]
    assert after == before
