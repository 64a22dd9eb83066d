"""Rounds: creation rules, editing limits once open, status transitions with confirmation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Round, RoundStatus, User
from tests.app.staff_helpers import (
    BILINGUAL_YAML,
    audit_actions,
    build_world,
    count,
    db,
    fresh,
    import_test_questionnaire,
    rows,
    signed_in_client,
)


@pytest.fixture
def world(app):
    return build_world(app)


def _base(world) -> str:
    return f"/admin/partnerships/{world.partnership}/rounds"


def _round_data(world, **overrides):
    data = {"name": "Putaran 2027", "questionnaire_version_id": str(world.version),
            "opens_on": "2027-03-01", "closes_on": "2027-03-31",
            "partner_ids": [str(world.partners[0]), str(world.partners[1])]}
    data.update(overrides)
    return data


def _status(app, round_id: int) -> RoundStatus:
    return fresh(app, Round, round_id).status


# ------------------------------------------------------------------------------ creating


def test_create_a_draft_round(app, world):
    client = signed_in_client(app, "coordinator")
    form = client.get(f"{_base(world)}/new")
    assert form.status_code == 200
    assert "Kuesioner uji staf" in form.get_data(as_text=True)  # the version to choose
    response = client.post(f"{_base(world)}/new", data=_round_data(world))
    assert response.status_code == 302
    created = rows(app, select(Round).where(Round.name == "Putaran 2027"))[0]
    assert created.status is RoundStatus.DRAFT
    assert created.questionnaire_version_id == world.version
    with db(app) as session:
        assert sorted(p.id for p in session.get(Round, created.id).partners) == \
            sorted(world.partners[:2])
    assert audit_actions(app, partnership_id=world.partnership) == ["round.create"]


@pytest.mark.parametrize("overrides", [
    {"partner_ids": []},
    {"opens_on": "2027-04-01", "closes_on": "2027-03-31"},
    {"opens_on": ""},
    {"name": ""},
    {"questionnaire_version_id": "99999"},
], ids=["one-partner", "closes-before-opens", "no-opening-date", "no-name", "no-version"])
def test_invalid_rounds_are_refused(app, world, overrides):
    data = _round_data(world, **overrides)
    if overrides.get("partner_ids") == []:
        data["partner_ids"] = [str(world.partners[0])]
    before = count(app, Round)
    response = signed_in_client(app, "coordinator").post(f"{_base(world)}/new", data=data)
    assert response.status_code == 400
    assert count(app, Round) == before


def test_partners_of_another_partnership_are_refused(app, world):
    before = count(app, Round)
    data = _round_data(world, partner_ids=[str(world.partners[0]), str(world.other_partners[0])])
    response = signed_in_client(app, "coordinator").post(f"{_base(world)}/new", data=data)
    assert response.status_code == 400
    assert count(app, Round) == before


def test_round_names_are_unique_within_a_partnership(app, world):
    data = _round_data(world, name="putaran buka")
    response = signed_in_client(app, "coordinator").post(f"{_base(world)}/new", data=data)
    assert response.status_code == 400
    assert "already has a round with this name" in response.get_data(as_text=True)


# ------------------------------------------------------------------------------- access


@pytest.mark.parametrize(("who", "status"), [
    ("coordinator", 200), ("admin", 200), ("facilitator", 403), ("observer", 403),
    ("outsider", 404), ("plain", 404)])
def test_round_pages_are_for_coordinators(app, world, who, status):
    client = signed_in_client(app, who)
    for path in (f"{_base(world)}/new", f"{_base(world)}/{world.draft_round}",
                 f"{_base(world)}/{world.draft_round}/edit",
                 f"{_base(world)}/{world.draft_round}/status/open"):
        assert client.get(path).status_code == status, path
    post = client.post(f"{_base(world)}/{world.draft_round}/status/open")
    assert post.status_code == (302 if status == 200 else status)


def test_anonymous_users_are_sent_to_sign_in(client, world):
    response = client.get(f"{_base(world)}/{world.draft_round}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_round_of_another_partnership_is_not_found_through_this_one(app, world):
    client = signed_in_client(app, "coordinator")
    assert client.get(f"{_base(world)}/{world.other_round}").status_code == 404
    assert client.post(f"{_base(world)}/{world.other_round}/status/closed").status_code == 404
    assert _status(app, world.other_round) is RoundStatus.OPEN


def test_round_page_shows_status_and_allowed_changes(app, world):
    html = signed_in_client(app, "coordinator").get(
        f"{_base(world)}/{world.open_round}").get_data(as_text=True)
    assert "badge-open" in html
    assert f"/rounds/{world.open_round}/status/closed" in html
    assert f"/rounds/{world.open_round}/status/open" not in html


# ------------------------------------------------------------------------------- editing


def test_a_draft_round_can_change_questionnaire_and_partners(app, world):
    with db(app) as session:
        other_version = import_test_questionnaire(
            session, BILINGUAL_YAML.replace("version: 1", "version: 2"))
        session.commit()
        other_version_id = other_version.id
    client = signed_in_client(app, "coordinator")
    url = f"{_base(world)}/{world.draft_round}/edit"
    assert client.get(url).status_code == 200
    data = _round_data(world, name="Putaran draf", questionnaire_version_id=str(other_version_id),
                       partner_ids=[str(p) for p in world.partners[1:]])
    assert client.post(url, data=data).status_code == 302
    with db(app) as session:
        edited = session.get(Round, world.draft_round)
        assert edited.questionnaire_version_id == other_version_id
        assert sorted(p.id for p in edited.partners) == sorted(world.partners[1:])
    assert audit_actions(app, action="round.update") == ["round.update"]


def test_an_open_round_keeps_questionnaire_and_partners(app, world):
    with db(app) as session:
        other_version = import_test_questionnaire(
            session, BILINGUAL_YAML.replace("version: 1", "version: 2"))
        session.commit()
        other_version_id = other_version.id
    client = signed_in_client(app, "coordinator")
    url = f"{_base(world)}/{world.open_round}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="questionnaire_version_id"' not in page and 'name="partner_ids"' not in page
    data = _round_data(world, name="Putaran buka (diperpanjang)", closes_on="2027-01-31",
                       opens_on="2026-01-01", questionnaire_version_id=str(other_version_id),
                       partner_ids=[str(world.partners[0]), str(world.partners[1])])
    assert client.post(url, data=data).status_code == 302
    with db(app) as session:
        edited = session.get(Round, world.open_round)
        assert edited.name == "Putaran buka (diperpanjang)"
        assert str(edited.closes_on) == "2027-01-31"
        assert edited.questionnaire_version_id == world.version
        assert len(edited.partners) == 3


def test_the_service_refuses_to_change_an_open_rounds_partners(app, world):
    from app.services.rounds import RoundError, update_round

    with app.test_request_context(), db(app) as session:
        round_ = session.get(Round, world.open_round)
        actor = session.get(User, world.coordinator)
        with pytest.raises(RoundError):
            update_round(session, actor, round_, name=round_.name, opens_on=round_.opens_on,
                         closes_on=round_.closes_on, partner_ids=world.partners[:2])
        session.rollback()


# ------------------------------------------------------------------------ status changes


def test_open_then_close_through_confirmation_pages(app, world):
    client = signed_in_client(app, "coordinator")
    url = f"{_base(world)}/{world.draft_round}/status/open"
    page = client.get(url)
    assert page.status_code == 200 and "Confirm" in page.get_data(as_text=True)
    assert _status(app, world.draft_round) is RoundStatus.DRAFT  # GET changes nothing
    assert client.post(url).status_code == 302
    assert _status(app, world.draft_round) is RoundStatus.OPEN
    assert client.post(f"{_base(world)}/{world.draft_round}/status/closed").status_code == 302
    assert _status(app, world.draft_round) is RoundStatus.CLOSED
    assert audit_actions(app, object_id=str(world.draft_round), object_type="Round") == [
        "round.open", "round.close"]


def test_reopening_needs_a_reason_which_is_audited(app, world):
    client = signed_in_client(app, "coordinator")
    client.post(f"{_base(world)}/{world.open_round}/status/closed")
    url = f"{_base(world)}/{world.open_round}/status/open"
    assert "Reason" in client.get(url).get_data(as_text=True)
    without = client.post(url, data={"reason": "  "})
    assert without.status_code == 400
    assert _status(app, world.open_round) is RoundStatus.CLOSED
    assert client.post(url, data={"reason": "Two partners asked for a week more"}
                       ).status_code == 302
    assert _status(app, world.open_round) is RoundStatus.OPEN
    event = rows(app, select(AuditEvent).where(AuditEvent.action == "round.reopen"))[0]
    assert event.details["reason"] == "Two partners asked for a week more"
    assert event.user_id == world.coordinator


def test_transitions_outside_the_workflow_change_nothing(app, world):
    client = signed_in_client(app, "coordinator")
    skip = client.post(f"{_base(world)}/{world.draft_round}/status/closed")
    assert skip.status_code == 302
    assert _status(app, world.draft_round) is RoundStatus.DRAFT
    back = client.post(f"{_base(world)}/{world.open_round}/status/draft")
    assert back.status_code == 302
    assert _status(app, world.open_round) is RoundStatus.OPEN
    assert client.get(f"{_base(world)}/{world.open_round}/status/archived").status_code == 404
    assert audit_actions(app, object_type="Round") == []


def test_a_round_needs_two_partners_to_open(app, world):
    with db(app) as session:
        draft = session.get(Round, world.draft_round)
        draft.partners = draft.partners[:1]
        session.commit()
    client = signed_in_client(app, "coordinator")
    response = client.post(f"{_base(world)}/{world.draft_round}/status/open")
    assert response.status_code == 400
    assert _status(app, world.draft_round) is RoundStatus.DRAFT
