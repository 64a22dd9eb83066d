"""Staff accounts (site administrators only) and the audit log pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import AuditEvent, User
from app.services.audit import record
from tests.app.staff_helpers import (
    audit_actions,
    build_world,
    count,
    db,
    fresh,
    rows,
    sign_in,
    signed_in_client,
)


@pytest.fixture
def world(app):
    return build_world(app)


def _user(app, email: str) -> User:
    return rows(app, select(User).where(User.email == email))[0]


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("coordinator", 403), ("facilitator", 403), ("plain", 403)])
def test_user_pages_are_for_site_administrators(app, world, who, status):
    client = signed_in_client(app, who)
    assert client.get("/admin/users").status_code == status
    assert client.get("/admin/users/new").status_code == status
    before = count(app, User)
    response = client.post("/admin/users/new", data={
        "email": "x@example.org", "name": "X", "language": "id"})
    assert response.status_code == (200 if status == 200 else status)
    assert count(app, User) == before + (1 if status == 200 else 0)
    target = world.plain
    assert client.post(f"/admin/users/{target}/active").status_code == \
        (302 if status == 200 else status)


def test_anonymous_users_are_sent_to_sign_in(client, world):
    assert client.get("/admin/users").status_code == 302


def test_a_generated_password_is_shown_once_and_works(app, world):
    client = signed_in_client(app, "admin")
    response = client.post("/admin/users/new", data={
        "email": "Baru@Example.org", "name": "Staf Baru", "language": "en", "is_admin": "y"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    password = re.search(r'<p class="secret"><code>([^<]+)</code></p>', html).group(1)
    assert len(password) >= 16
    created = _user(app, "baru@example.org")
    assert (created.name, created.language, created.is_admin) == ("Staf Baru", "en", True)
    assert created.password_hash.startswith("$argon2id$")
    assert password not in created.password_hash
    assert password not in client.get("/admin/users").get_data(as_text=True)
    assert audit_actions(app, action="user.create") == ["user.create"]
    details = rows(app, select(AuditEvent.details).where(AuditEvent.action == "user.create"))
    assert password not in str(details)
    newcomer = app.test_client()
    assert sign_in(newcomer, "baru@example.org", password).status_code == 302


def test_a_typed_password_must_meet_the_policy(app, world):
    client = signed_in_client(app, "admin")
    before = count(app, User)
    weak = client.post("/admin/users/new", data={
        "email": "lemah@example.org", "name": "Lemah", "language": "id",
        "password": "indonesia123"})
    assert weak.status_code == 400
    assert "too common" in weak.get_data(as_text=True)
    assert count(app, User) == before
    strong = client.post("/admin/users/new", data={
        "email": "kuat@example.org", "name": "Kuat", "language": "id",
        "password": "a sentence nobody guesses"})
    assert strong.status_code == 302
    assert sign_in(app.test_client(), "kuat@example.org",
                   "a sentence nobody guesses").status_code == 302


def test_email_addresses_are_unique_regardless_of_case(app, world):
    response = signed_in_client(app, "admin").post("/admin/users/new", data={
        "email": "KOORDINATOR@example.org", "name": "Dua", "language": "id"})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)


def test_deactivation_ends_sessions_and_blocks_sign_in_until_reactivated(app, world):
    victim = signed_in_client(app, "coordinator")
    assert victim.get("/profile").status_code == 200
    admin = signed_in_client(app, "admin")
    assert admin.post(f"/admin/users/{world.coordinator}/active").status_code == 302
    assert fresh(app, User, world.coordinator).is_active_account is False
    assert victim.get("/profile").status_code == 302
    assert sign_in(app.test_client(), "coordinator").status_code == 200
    assert admin.post(f"/admin/users/{world.coordinator}/active").status_code == 302
    assert sign_in(app.test_client(), "coordinator").status_code == 302
    assert audit_actions(app, object_id=str(world.coordinator), user_id=world.admin) == [
        "user.deactivate", "user.reactivate"]


def test_administrators_cannot_deactivate_themselves(app, world):
    admin = signed_in_client(app, "admin")
    response = admin.post(f"/admin/users/{world.admin}/active", follow_redirects=True)
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert fresh(app, User, world.admin).is_active_account is True


def test_unknown_user_is_404(app, world):
    assert signed_in_client(app, "admin").post("/admin/users/9999/active").status_code == 404


# ----------------------------------------------------------------------------- audit log


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("coordinator", 403), ("facilitator", 403)])
def test_the_global_audit_log_is_for_administrators(app, world, who, status):
    assert signed_in_client(app, who).get("/admin/audit").status_code == status


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("coordinator", 200), ("facilitator", 403), ("observer", 403),
    ("outsider", 404)])
def test_a_partnerships_audit_log_is_for_its_coordinators(app, world, who, status):
    path = f"/admin/partnerships/{world.partnership}/audit"
    assert signed_in_client(app, who).get(path).status_code == status


def test_the_audit_log_shows_who_did_what_for_that_partnership_only(app, world):
    client = signed_in_client(app, "coordinator")
    client.post(f"/admin/partnerships/{world.partnership}/partners/new",
                data={"name": "Mitra Tercatat", "sector": "ngo"})
    other = signed_in_client(app, "outsider")
    other.post(f"/admin/partnerships/{world.other_partnership}/partners/new",
               data={"name": "Mitra Lain", "sector": "ngo"})
    html = client.get(f"/admin/partnerships/{world.partnership}/audit").get_data(as_text=True)
    # The audit page names actions in words ("Partner added" for partner.create).
    assert "Partner added" in html and "Mitra Tercatat" in html
    assert "koordinator@example.org" in html
    assert "Mitra Lain" not in html
    everything = signed_in_client(app, "admin").get("/admin/audit").get_data(as_text=True)
    assert "Mitra Tercatat" in everything and "Mitra Lain" in everything


def test_the_audit_log_is_paginated_newest_first(app, world):
    with db(app) as session:
        for n in range(60):
            record(session, world.coordinator, "test.event", None,
                   partnership_id=world.partnership, n=n)
        session.commit()
    client = signed_in_client(app, "coordinator")
    base = f"/admin/partnerships/{world.partnership}/audit"
    first = client.get(base).get_data(as_text=True)
    second = client.get(f"{base}?page=2").get_data(as_text=True)
    first_numbers = [int(n) for n in re.findall(r"<dt>n</dt><dd>(\d+)</dd>", first)]
    second_numbers = [int(n) for n in re.findall(r"<dt>n</dt><dd>(\d+)</dd>", second)]
    assert first_numbers == list(range(59, 9, -1))
    assert second_numbers == list(range(9, -1, -1))
    assert "page=2" in first and "page=1" in second
    assert client.get(f"{base}?page=abc").status_code == 200
