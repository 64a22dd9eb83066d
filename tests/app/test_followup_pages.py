"""Follow-up pages through the test client: quick entry (JSON and plain), review with
impact, carry-over, register filters and export, commitments beside the ratings."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import select

from app.models import Action, AuditEvent, Commitment, CommitmentReview, Round, RoundStatus, User
from app.services import workshops as workshop_service
from tests.app.staff_helpers import audit_actions, db, rows, signed_in_client
from tests.app.test_followup_lifecycle import add_action, make_loop


def _second_workshop(app, loop) -> int:
    with db(app) as session, app.test_request_context():
        workshop = workshop_service.create_workshop(
            session, session.get(User, loop.results.world.facilitator),
            session.get(Round, loop.second), held_on=date(2026, 7, 2), title="Lokakarya dua")
        session.commit()
        return workshop.id


def test_quick_entry_answers_json_and_works_as_a_plain_form(app):
    loop = make_loop(app)
    world = loop.results.world
    client = signed_in_client(app, "facilitator")
    url = f"/followup/partnerships/{world.partnership}/workshops/{loop.workshop}/actions"
    response = client.post(url, data={"description": "Rapat keuangan terbuka",
                                      "target": "dimension:transparansi",
                                      "owner_ids": [world.partners[0]]},
                           headers={"Accept": "application/json"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "Rapat keuangan terbuka" in response.json["row"]
    response = client.post(url, data={"description": "", "target": "item:kes1"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.json["errors"]
    response = client.post(url, data={"description": "Tanpa pemilik", "target": "item:kes1"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "owns the action" in " ".join(response.json["errors"])
    response = client.post(url, data={"description": "Kunjungan lapangan bersama",
                                      "target": "item:kes1", "owner_ids": [world.partners[1]]})
    assert response.status_code == 302
    page = client.get(f"/followup/partnerships/{world.partnership}/workshops/{loop.workshop}")
    html = page.get_data(as_text=True)
    assert "Kunjungan lapangan bersama" in html and "Rapat keuangan terbuka" in html
    assert audit_actions(app, object_type="Action") == ["action.create", "action.create"]


def test_the_next_workshop_opens_with_the_review_and_carries_over(app):
    loop = make_loop(app)
    world = loop.results.world
    action_id = add_action(app, loop, dimension_id="kesetaraan", status="in_progress")
    second = _second_workshop(app, loop)
    client = signed_in_client(app, "facilitator")
    page = client.get(f"/followup/partnerships/{world.partnership}/workshops/{second}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Review of the previous round" in html
    assert "Bagikan laporan keuangan" in html and "adjusted p" in html
    response = client.post(f"/followup/partnerships/{world.partnership}/workshops/{second}/"
                           f"carry/{action_id}")
    assert response.status_code == 302
    copies = rows(app, select(Action).where(Action.carried_over_from_id == action_id))
    assert len(copies) == 1 and copies[0].workshop_id == second
    html = client.get(f"/followup/partnerships/{world.partnership}/workshops/{second}"
                      ).get_data(as_text=True)
    assert "Carried over into Putaran dua" in html


def test_observers_read_but_do_not_edit(app):
    loop = make_loop(app)
    world = loop.results.world
    add_action(app, loop, dimension_id="kesetaraan")
    client = signed_in_client(app, "observer")
    html = client.get(f"/followup/partnerships/{world.partnership}/actions").get_data(
        as_text=True)
    assert "Bagikan laporan keuangan" in html and "Download CSV" not in html
    response = client.post(f"/followup/partnerships/{world.partnership}/workshops/"
                           f"{loop.workshop}/actions", data={"description": "x"})
    assert response.status_code == 403


def test_register_filters_and_export(app):
    loop = make_loop(app)
    world = loop.results.world
    add_action(app, loop, dimension_id="kesetaraan", description="=HYPERLINK(1)")
    add_action(app, loop, dimension_id="transparansi", description="Audit bersama",
               owner_ids=[world.partners[1]])
    client = signed_in_client(app, "coordinator")
    base = f"/followup/partnerships/{world.partnership}/actions"
    html = client.get(base + "?dimension=transparansi").get_data(as_text=True)
    assert "Audit bersama" in html and "HYPERLINK" not in html
    html = client.get(base + f"?partner={world.partners[0]}").get_data(as_text=True)
    assert "HYPERLINK" in html and "Audit bersama" not in html
    assert client.get(base + "?partner=abc&status=zzz&round=-1").status_code == 200
    response = client.get(base + ".csv?style=excel-id")
    assert response.status_code == 200 and "attachment" in response.headers[
        "Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                            delimiter=";"))
    assert len(table) == 3
    assert "'=HYPERLINK(1)" in [cell for row in table for cell in row]
    xlsx = client.get(base + ".xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert audit_actions(app).count("export.actions") == 2


def test_commitments_are_reviewed_per_round_beside_the_ratings(app):
    loop = make_loop(app)
    world = loop.results.world
    client = signed_in_client(app, "coordinator")
    base = f"/followup/partnerships/{world.partnership}/commitments"
    response = client.post(base + "/new", data={
        "partner_id": world.partners[0], "kind": "staff", "description": "Dua staf lapangan",
        "round_id": loop.first})
    assert response.status_code == 302, response.get_data(as_text=True)
    commitment = rows(app, select(Commitment))[0]
    for round_id, status in ((loop.first, "delivered"), (loop.second, "partial")):
        response = client.post(f"{base}/{commitment.id}/reviews/{round_id}",
                               data={f"r{round_id}-status": status,
                                     f"r{round_id}-note": "Dicek"})
        assert response.status_code == 302
    reviews = rows(app, select(CommitmentReview).order_by(CommitmentReview.round_id))
    assert [r.status.value for r in reviews] == ["delivered", "partial"]
    assert rows(app, select(Commitment))[0].status.value == "partial"
    response = client.post(f"{base}/{commitment.id}/reviews/{loop.first}",
                           data={f"r{loop.first}-status": "pending"})
    assert response.status_code == 303
    html = client.get(base).get_data(as_text=True)
    assert "Dua staf lapangan" in html and "How the other partners rate it" in html
    assert "This partner keeps its commitments." in html
    assert "fewer than 5 responses" in html  # the partner with 3 responses rates unseen
    assert len(rows(app, select(AuditEvent).where(AuditEvent.action == "commitment.review"))) == 2


def test_results_pages_show_actions_beside_their_dimension(app):
    loop = make_loop(app)
    world = loop.results.world
    add_action(app, loop, dimension_id="kesetaraan", description="Rotasi pimpinan rapat")
    client = signed_in_client(app, "facilitator")
    html = client.get(f"/results/partnerships/{world.partnership}/rounds/{loop.second}"
                      ).get_data(as_text=True)
    assert "Follow-up actions on this dimension" in html and "Rotasi pimpinan rapat" in html
    html = client.get(f"/results/partnerships/{world.partnership}/over-time"
                      ).get_data(as_text=True)
    assert "Rotasi pimpinan rapat" in html


def test_an_open_second_round_shows_no_impact_yet(app):
    loop = make_loop(app, second_status=RoundStatus.OPEN)
    world = loop.results.world
    add_action(app, loop, dimension_id="kesetaraan")
    client = signed_in_client(app, "coordinator")
    html = client.get(f"/followup/partnerships/{world.partnership}/actions").get_data(
        as_text=True)
    assert "The next closed round will show whether Equality changed." in html
