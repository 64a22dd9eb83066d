"""Partnerships, partners and members: who may see and change what, and the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Membership, Partner, Partnership, Role, Round, RoundStatus, Sector
from tests.app.staff_helpers import (
    app_with,
    audit_actions,
    build_world,
    count,
    csrf_from,
    db,
    fresh,
    rows,
    signed_in_client,
)
from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def world(app):
    return build_world(app)


def _pid(world) -> str:
    return f"/admin/partnerships/{world.partnership}"


# ------------------------------------------------------------------------------- listing


def test_list_shows_own_partnerships_only(app, world):
    coordinator = signed_in_client(app, "coordinator").get("/admin/partnerships")
    assert coordinator.status_code == 200
    html = coordinator.get_data(as_text=True)
    assert "Kemitraan A" in html and "Kemitraan B" not in html

    admin_html = signed_in_client(app, "admin").get("/admin/partnerships").get_data(as_text=True)
    assert "Kemitraan A" in admin_html and "Kemitraan B" in admin_html

    plain_html = signed_in_client(app, "plain").get("/admin/partnerships").get_data(as_text=True)
    assert "Kemitraan A" not in plain_html and "Kemitraan B" not in plain_html


def test_list_needs_sign_in(client, world):
    response = client.get("/admin/partnerships")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("coordinator", 200), ("facilitator", 200), ("observer", 200),
    ("outsider", 404), ("plain", 404),
])
def test_overview_is_for_members_of_the_partnership(app, world, who, status):
    response = signed_in_client(app, who).get(_pid(world))
    assert response.status_code == status


def test_overview_shows_partners_rounds_with_status_and_members(app, world):
    html = signed_in_client(app, "coordinator").get(_pid(world)).get_data(as_text=True)
    for text in ("Dinas Kesehatan", "Yayasan Sehat", "Putaran draf", "Putaran buka",
                 "badge-draft", "badge-open", "fasilitator@example.org", "Edit partnership"):
        assert text in html, text


def test_overview_is_read_only_for_facilitators(app, world):
    html = signed_in_client(app, "facilitator").get(_pid(world)).get_data(as_text=True)
    assert "Putaran buka" in html
    assert "Edit partnership" not in html
    assert "koordinator@example.org" not in html  # names and roles, not addresses


def test_missing_partnership_is_404(app, world):
    assert signed_in_client(app, "admin").get("/admin/partnerships/99999").status_code == 404


# ------------------------------------------------------------------------------ creating


def test_a_coordinator_creates_a_partnership_and_coordinates_it(app, world):
    client = signed_in_client(app, "coordinator")
    assert client.get("/admin/partnerships/new").status_code == 200
    response = client.post("/admin/partnerships/new", data={
        "name": "Kemitraan Baru", "description": "Air bersih", "default_language": "en",
        "min_group_size": "6"})
    assert response.status_code == 302
    created = rows(app, select(Partnership).where(Partnership.name == "Kemitraan Baru"))[0]
    assert (created.default_language, created.min_group_size) == ("en", 6)
    member = rows(app, select(Membership).where(Membership.partnership_id == created.id))
    assert [(m.user_id, m.role) for m in member] == [(world.coordinator, Role.COORDINATOR)]
    assert audit_actions(app, partnership_id=created.id) == ["partnership.create"]


@pytest.mark.parametrize("who", ["facilitator", "observer", "plain"])
def test_staff_who_coordinate_nothing_cannot_create_partnerships(app, world, who):
    client = signed_in_client(app, who)
    assert client.get("/admin/partnerships/new").status_code == 403
    before = count(app, Partnership)
    assert client.post("/admin/partnerships/new", data={
        "name": "X", "default_language": "id", "min_group_size": "5"}).status_code == 403
    assert count(app, Partnership) == before


def test_an_admin_creates_a_partnership_for_a_named_coordinator(app, world):
    client = signed_in_client(app, "admin")
    response = client.post("/admin/partnerships/new", data={
        "name": "Kemitraan Admin", "default_language": "id", "min_group_size": "5",
        "coordinator_email": "Tanpa-Peran@Example.org "})
    assert response.status_code == 302
    created = rows(app, select(Partnership).where(Partnership.name == "Kemitraan Admin"))[0]
    members = rows(app, select(Membership).where(Membership.partnership_id == created.id))
    assert [(m.user_id, m.role) for m in members] == [(world.plain, Role.COORDINATOR)]


def test_only_admins_may_name_another_coordinator(app, world):
    client = signed_in_client(app, "coordinator")
    html = client.get("/admin/partnerships/new").get_data(as_text=True)
    assert "coordinator_email" not in html


def test_unknown_coordinator_email_is_refused(app, world):
    before = count(app, Partnership)
    response = signed_in_client(app, "admin").post("/admin/partnerships/new", data={
        "name": "Kemitraan Y", "default_language": "id", "min_group_size": "5",
        "coordinator_email": "nobody@example.org"})
    assert response.status_code == 200
    assert "No user has this email address" in response.get_data(as_text=True)
    assert count(app, Partnership) == before


# ---------------------------------------------------------------------------- threshold k


@pytest.mark.parametrize("k", ["2", "0", "-5"])
def test_threshold_below_three_is_refused_by_the_form(app, world, k):
    client = signed_in_client(app, "coordinator")
    response = client.post(f"{_pid(world)}/edit", data={
        "name": "Kemitraan A", "default_language": "id", "min_group_size": k})
    assert response.status_code == 200
    assert "at least 3" in response.get_data(as_text=True)
    assert fresh(app, Partnership, world.partnership).min_group_size == 5


def test_a_raised_configured_floor_is_enforced(app, world):
    app.config["MIN_GROUP_SIZE_FLOOR"] = 4
    response = signed_in_client(app, "coordinator").post(f"{_pid(world)}/edit", data={
        "name": "Kemitraan A", "default_language": "id", "min_group_size": "3"})
    assert "at least 4" in response.get_data(as_text=True)
    assert fresh(app, Partnership, world.partnership).min_group_size == 5


def test_the_database_refuses_a_threshold_below_three(app):
    with db(app) as session:
        session.add(Partnership(name="Terlalu kecil", min_group_size=2))
        with pytest.raises(IntegrityError):
            session.flush()


def test_editing_a_partnership_is_audited(app, world):
    client = signed_in_client(app, "coordinator")
    assert client.get(f"{_pid(world)}/edit").status_code == 200
    response = client.post(f"{_pid(world)}/edit", data={
        "name": "Kemitraan A+", "description": "baru", "default_language": "en",
        "min_group_size": "7"})
    assert response.status_code == 302
    partnership = fresh(app, Partnership, world.partnership)
    assert (partnership.name, partnership.min_group_size) == ("Kemitraan A+", 7)
    assert audit_actions(app, partnership_id=world.partnership) == ["partnership.update"]


@pytest.mark.parametrize(("who", "status"), [
    ("facilitator", 403), ("observer", 403), ("outsider", 404), ("plain", 404)])
def test_only_coordinators_edit_a_partnership(app, world, who, status):
    client = signed_in_client(app, who)
    assert client.get(f"{_pid(world)}/edit").status_code == status
    assert client.post(f"{_pid(world)}/edit", data={
        "name": "Hacked", "default_language": "id", "min_group_size": "5"}).status_code == status
    assert fresh(app, Partnership, world.partnership).name == "Kemitraan A"


# ------------------------------------------------------------------------------ partners


def test_add_and_edit_a_partner(app, world):
    client = signed_in_client(app, "coordinator")
    assert client.get(f"{_pid(world)}/partners/new").status_code == 200
    response = client.post(f"{_pid(world)}/partners/new",
                           data={"name": "PT Maju", "sector": "private"})
    assert response.status_code == 302
    partner = rows(app, select(Partner).where(Partner.name == "PT Maju"))[0]
    assert partner.sector is Sector.PRIVATE
    url = f"{_pid(world)}/partners/{partner.id}/edit"
    assert '<option selected value="private">' in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"name": "PT Maju Jaya", "sector": "donor"}).status_code == 302
    edited = fresh(app, Partner, partner.id)
    assert (edited.name, edited.sector) == ("PT Maju Jaya", Sector.DONOR)
    assert audit_actions(app, partnership_id=world.partnership) == [
        "partner.create", "partner.update"]


def test_partner_names_are_unique_within_a_partnership(app, world):
    client = signed_in_client(app, "coordinator")
    before = count(app, Partner)
    response = client.post(f"{_pid(world)}/partners/new",
                           data={"name": "dinas kesehatan", "sector": "government"})
    assert response.status_code == 200
    assert "already has a partner with this name" in response.get_data(as_text=True)
    assert count(app, Partner) == before


def test_unknown_sector_is_refused(app, world):
    before = count(app, Partner)
    response = signed_in_client(app, "coordinator").post(
        f"{_pid(world)}/partners/new", data={"name": "X", "sector": "military"})
    assert response.status_code == 200
    assert count(app, Partner) == before


def test_another_partnerships_partner_is_not_found(app, world):
    client = signed_in_client(app, "coordinator")
    foreign = world.other_partners[0]
    assert client.get(f"{_pid(world)}/partners/{foreign}/edit").status_code == 404
    assert client.post(f"{_pid(world)}/partners/{foreign}/delete").status_code == 404


def test_a_partner_of_a_started_round_cannot_be_deleted(app, world):
    client = signed_in_client(app, "coordinator")
    partner_id = world.partners[0]  # takes part in the open round
    page = client.get(f"{_pid(world)}/partners/{partner_id}/delete")
    assert "cannot be deleted" in page.get_data(as_text=True)
    response = client.post(f"{_pid(world)}/partners/{partner_id}/delete")
    assert response.status_code == 409
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert fresh(app, Partner, partner_id) is not None
    assert audit_actions(app, action="partner.delete") == []


def test_a_partner_only_in_draft_rounds_can_be_deleted(app, world):
    with db(app) as session:
        opened = session.get(Round, world.open_round)
        session.delete(opened)
        session.commit()
    client = signed_in_client(app, "coordinator")
    partner_id = world.partners[0]
    assert client.get(f"{_pid(world)}/partners/{partner_id}/delete").status_code == 200
    assert client.post(f"{_pid(world)}/partners/{partner_id}/delete").status_code == 302
    assert fresh(app, Partner, partner_id) is None
    assert audit_actions(app, action="partner.delete") == ["partner.delete"]


def test_partner_names_are_escaped(app, world):
    client = signed_in_client(app, "coordinator")
    nasty = '"><script>alert(1)</script>{{7*7}}'
    client.post(f"{_pid(world)}/partners/new", data={"name": nasty, "sector": "ngo"})
    html = client.get(_pid(world)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in html


# ------------------------------------------------------------------------------- members


def test_members_page_is_for_coordinators(app, world):
    assert signed_in_client(app, "coordinator").get(f"{_pid(world)}/members").status_code == 200
    assert signed_in_client(app, "facilitator").get(f"{_pid(world)}/members").status_code == 403
    assert signed_in_client(app, "outsider").get(f"{_pid(world)}/members").status_code == 404


def test_add_an_observer_tied_to_a_partner(app, world):
    client = signed_in_client(app, "coordinator")
    response = client.post(f"{_pid(world)}/members", data={
        "email": "tanpa-peran@example.org", "role": "observer",
        "partner_id": str(world.partners[1])})
    assert response.status_code == 302
    membership = rows(app, select(Membership).where(Membership.user_id == world.plain))[0]
    assert (membership.role, membership.partner_id) == (Role.OBSERVER, world.partners[1])
    assert audit_actions(app, partnership_id=world.partnership) == ["member.add"]


def test_only_observers_are_tied_to_a_partner(app, world):
    client = signed_in_client(app, "coordinator")
    client.post(f"{_pid(world)}/members", data={
        "email": "tanpa-peran@example.org", "role": "facilitator",
        "partner_id": str(world.partners[1])})
    membership = rows(app, select(Membership).where(Membership.user_id == world.plain))[0]
    assert membership.partner_id is None


def test_a_partner_of_another_partnership_is_refused(app, world):
    client = signed_in_client(app, "coordinator")
    response = client.post(f"{_pid(world)}/members", data={
        "email": "tanpa-peran@example.org", "role": "observer",
        "partner_id": str(world.other_partners[0])})
    assert response.status_code == 400
    assert rows(app, select(Membership).where(Membership.user_id == world.plain)) == []


def test_adding_needs_an_existing_account_and_no_existing_role(app, world):
    client = signed_in_client(app, "coordinator")
    unknown = client.post(f"{_pid(world)}/members", data={
        "email": "nobody@example.org", "role": "observer", "partner_id": ""})
    assert unknown.status_code == 400
    assert "No user has this email address" in unknown.get_data(as_text=True)
    twice = client.post(f"{_pid(world)}/members", data={
        "email": "fasilitator@example.org", "role": "observer", "partner_id": ""})
    assert twice.status_code == 400
    assert "already has a role" in twice.get_data(as_text=True)


def _membership(app, user_id: int) -> Membership:
    return rows(app, select(Membership).where(Membership.user_id == user_id))[0]


def test_change_a_members_role(app, world):
    client = signed_in_client(app, "coordinator")
    membership = _membership(app, world.facilitator)
    prefix = f"m{membership.id}"
    response = client.post(f"{_pid(world)}/members/{membership.id}", data={
        f"{prefix}-role": "coordinator", f"{prefix}-partner_id": ""})
    assert response.status_code == 302
    assert fresh(app, Membership, membership.id).role is Role.COORDINATOR
    assert audit_actions(app, partnership_id=world.partnership) == ["member.update"]


def test_the_last_coordinator_cannot_step_down_or_be_removed(app, world):
    client = signed_in_client(app, "coordinator")
    membership = _membership(app, world.coordinator)
    prefix = f"m{membership.id}"
    demote = client.post(f"{_pid(world)}/members/{membership.id}", data={
        f"{prefix}-role": "observer", f"{prefix}-partner_id": ""})
    assert demote.status_code == 400
    assert "at least one coordinator" in demote.get_data(as_text=True)
    removal = client.post(f"{_pid(world)}/members/{membership.id}/remove",
                          follow_redirects=True)
    assert "at least one coordinator" in removal.get_data(as_text=True)
    assert fresh(app, Membership, membership.id).role is Role.COORDINATOR


def test_remove_a_member(app, world):
    client = signed_in_client(app, "coordinator")
    membership = _membership(app, world.observer)
    assert client.post(f"{_pid(world)}/members/{membership.id}/remove").status_code == 302
    assert fresh(app, Membership, membership.id) is None
    assert audit_actions(app, partnership_id=world.partnership) == ["member.remove"]
    # The former observer no longer sees the partnership.
    assert signed_in_client(app, "observer").get(_pid(world)).status_code == 404


def test_another_partnerships_membership_is_not_found(app, world):
    foreign = _membership(app, world.outsider)
    client = signed_in_client(app, "coordinator")
    assert client.post(f"{_pid(world)}/members/{foreign.id}/remove").status_code == 404
    assert fresh(app, Membership, foreign.id) is not None


def test_an_admin_without_membership_manages_any_partnership(app, world):
    client = signed_in_client(app, "admin")
    response = client.post(f"/admin/partnerships/{world.other_partnership}/partners/new",
                           data={"name": "Mitra Baru", "sector": "academia"})
    assert response.status_code == 302
    event = audit_actions(app, partnership_id=world.other_partnership, user_id=world.admin)
    assert event == ["partner.create"]


def test_a_round_in_a_draft_keeps_its_partner_list_when_a_partner_is_deleted(app, world):
    with db(app) as session:
        session.delete(session.get(Round, world.open_round))
        session.commit()
    client = signed_in_client(app, "coordinator")
    assert client.post(f"{_pid(world)}/partners/{world.partners[2]}/delete").status_code == 302
    draft = rows(app, select(Round).where(Round.id == world.draft_round))[0]
    assert draft.status is RoundStatus.DRAFT
    with db(app) as session:
        names = [p.name for p in session.get(Round, world.draft_round).partners]
    assert "Kelompok Tani" not in names and len(names) == 2


def test_admin_forms_need_a_csrf_token_when_protection_is_on(app_config):
    application = app_with(app_config, WTF_CSRF_ENABLED=True)
    world = build_world(application)
    client = application.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "koordinator@example.org",
                                "password": DEFAULT_PASSWORD, "csrf_token": token})
    url = f"{_pid(world)}/partners/new"
    before = count(application, Partner)
    assert client.post(url, data={"name": "Tanpa Token", "sector": "ngo"}).status_code == 400
    assert count(application, Partner) == before
    token = csrf_from(client.get(url).get_data(as_text=True))
    assert client.post(url, data={"name": "Dengan Token", "sector": "ngo",
                                  "csrf_token": token}).status_code == 302
    assert count(application, Partner) == before + 1


def test_an_admin_sees_the_coordinator_field_when_creating(app, world):
    html = signed_in_client(app, "admin").get("/admin/partnerships/new").get_data(as_text=True)
    assert 'name="coordinator_email"' in html
