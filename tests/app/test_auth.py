"""Staff sign-in, sign-out, profile, password policy, rate limits and CSRF."""

from __future__ import annotations

import logging
import re

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from app.auth.passwords import hash_password
from app.db import new_session
from app.models import AuditEvent, User
from tests.app.staff_helpers import (
    app_with,
    audit_actions,
    csrf_from,
    db,
    fresh,
    rows,
    sign_in,
)
from tests.factories import DEFAULT_PASSWORD, make_user

WRONG = "not the right password at all"


@pytest.fixture
def staff(app):
    with db(app) as session:
        user = make_user(session, "staf@example.org")
        session.commit()
        return user


@pytest.fixture
def english_staff(app):
    """A staff member whose profile language is English, for tests that read page text."""
    with db(app) as session:
        user = make_user(session, "staff-en@example.org", language="en")
        session.commit()
        return user


def _reload(app, user_id: int) -> User:
    return fresh(app, User, user_id)


def _error_message(html: str) -> str:
    start = html.index('class="field-error"')
    return html[start:html.index("</p>", start)]


def test_login_page_renders_a_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="email"' in html and 'name="password"' in html


def test_sign_in_starts_a_session_and_is_audited(app, client, staff):
    response = sign_in(client, "staf@example.org")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/profile").status_code == 200
    assert audit_actions(app, user_id=staff.id) == ["user.sign_in"]


def test_wrong_password_and_unknown_email_get_the_same_answer_after_the_same_work(
        client, staff, monkeypatch):
    from app.services import users as users_service

    verified = []
    real_verify = users_service.verify_password

    def spy(stored_hash, password):
        verified.append(stored_hash is not None)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(users_service, "verify_password", spy)
    wrong = client.post("/login", data={"email": "staf@example.org", "password": WRONG})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": WRONG})
    assert wrong.status_code == unknown.status_code == 200
    assert _error_message(wrong.get_data(as_text=True)) == \
        _error_message(unknown.get_data(as_text=True))
    # One Argon2 verification each: against the real hash, and against the dummy hash.
    assert verified == [True, False]
    assert client.get("/profile").status_code == 302


def test_deactivated_account_cannot_sign_in(app, client, staff):
    with db(app) as session:
        session.get(User, staff.id).is_active_account = False
        session.commit()
    response = sign_in(client, "staf@example.org")
    assert response.status_code == 200
    assert client.get("/profile").status_code == 302


def test_failed_sign_in_is_logged_without_the_address(client, staff, caplog):
    with caplog.at_level(logging.INFO):
        client.post("/login", data={"email": "staf@example.org", "password": WRONG})
    messages = [record.getMessage() for record in caplog.records]
    assert any("sign-in failed for account" in m for m in messages), messages
    assert not any("staf@example.org" in m for m in messages)


@pytest.mark.parametrize(("target", "expected"), [
    ("/profile", "/profile"),
    ("/admin/partnerships?x=1", "/admin/partnerships?x=1"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_only_leads_to_local_paths(client, staff, target, expected):
    response = client.post("/login", data={"email": "staf@example.org",
                                           "password": DEFAULT_PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_protected_page_sends_anonymous_users_to_sign_in_with_next(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_is_post_only(client, staff):
    sign_in(client, "staf@example.org")
    assert client.get("/logout").status_code == 405
    assert client.get("/profile").status_code == 200


def test_logout_ends_the_session_and_an_old_cookie_no_longer_works(app, client, staff):
    sign_in(client, "staf@example.org")
    old_cookie = client.get_cookie("session").value
    epoch_before = _reload(app, staff.id).session_epoch

    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get("/profile").status_code == 302
    assert _reload(app, staff.id).session_epoch == epoch_before + 1

    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    response = replay.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_in_replaces_the_previous_session(app, client, staff):
    client.post("/language", data={"lang": "en", "next": "/"})
    with client.session_transaction() as session:
        session["planted"] = "value from before sign-in"
    sign_in(client, "staf@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["epoch"] == 0


def test_password_hashes_are_argon2id_with_strong_parameters(app, client, staff):
    sign_in(client, "staf@example.org")
    new = "a long and fresh passphrase"
    response = client.post("/profile/password", data={
        "pw-current_password": DEFAULT_PASSWORD, "pw-new_password": new, "pw-confirm": new})
    assert response.status_code == 302
    stored = _reload(app, staff.id).password_hash
    assert stored.startswith("$argon2id$")
    parameters = extract_parameters(stored)
    assert parameters.memory_cost >= 19456 and parameters.time_cost >= 2


def test_an_outdated_hash_is_upgraded_at_sign_in(app, client):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    with db(app) as session:
        user = make_user(session, "lama@example.org")
        user.password_hash = weak.hash(DEFAULT_PASSWORD)
        session.commit()
    assert sign_in(client, "lama@example.org").status_code == 302
    upgraded = _reload(app, user.id).password_hash
    assert extract_parameters(upgraded).memory_cost > 8192
    assert PasswordHasher().verify(upgraded, DEFAULT_PASSWORD)


def test_profile_changes_name_and_page_language(app, client, staff):
    sign_in(client, "staf@example.org")
    assert '<html lang="id">' in client.get("/profile").get_data(as_text=True)
    response = client.post("/profile", data={"name": "Dewi Lestari", "language": "en"})
    assert response.status_code == 302
    user = _reload(app, staff.id)
    assert (user.name, user.language) == ("Dewi Lestari", "en")
    assert '<html lang="en">' in client.get("/profile").get_data(as_text=True)
    assert "user.profile_update" in audit_actions(app, user_id=staff.id)


def test_profile_refuses_an_unknown_language(app, client, staff):
    sign_in(client, "staf@example.org")
    response = client.post("/profile", data={"name": "X", "language": "fr"})
    assert response.status_code == 400
    assert _reload(app, staff.id).language == "id"


def test_password_change_checks_the_current_password_and_the_policy(app, client,
                                                                    english_staff):
    staff = english_staff
    sign_in(client, "staff-en@example.org")
    before = _reload(app, staff.id).password_hash
    wrong_current = client.post("/profile/password", data={
        "pw-current_password": WRONG, "pw-new_password": "another long phrase here",
        "pw-confirm": "another long phrase here"})
    assert wrong_current.status_code == 400
    assert "current password is not right" in wrong_current.get_data(as_text=True)
    too_short = client.post("/profile/password", data={
        "pw-current_password": DEFAULT_PASSWORD, "pw-new_password": "short",
        "pw-confirm": "short"})
    assert too_short.status_code == 400
    common = client.post("/profile/password", data={
        "pw-current_password": DEFAULT_PASSWORD, "pw-new_password": "bismillah123",
        "pw-confirm": "bismillah123"})
    assert common.status_code == 400
    mismatch = client.post("/profile/password", data={
        "pw-current_password": DEFAULT_PASSWORD, "pw-new_password": "another long phrase",
        "pw-confirm": "another long phrasf"})
    assert mismatch.status_code == 400
    assert _reload(app, staff.id).password_hash == before


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, staff):
    other_device = app.test_client()
    sign_in(other_device, "staf@example.org")
    sign_in(client, "staf@example.org")
    new = "another long phrase here"
    response = client.post("/profile/password", data={
        "pw-current_password": DEFAULT_PASSWORD, "pw-new_password": new, "pw-confirm": new})
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert other_device.get("/profile").status_code == 302
    assert _reload(app, staff.id).session_epoch == 1
    assert audit_actions(app, action="user.password_change") == ["user.password_change"]
    # The new password works, the old one does not.
    fresh = app.test_client()
    assert sign_in(fresh, "staf@example.org").status_code == 200
    assert sign_in(fresh, "staf@example.org", new).status_code == 302


# ------------------------------------------------------------------- rate limits and CSRF


@pytest.fixture
def make_app(app_config):
    """Build an app with extra settings on the test database (created after any other app)."""
    return lambda **overrides: app_with(app_config, **overrides)


def _add_user(application, email: str) -> None:
    with application.app_context():
        session = new_session()
        session.add(User(email=email, name="Limited", password_hash=hash_password(
            DEFAULT_PASSWORD)))
        session.commit()
        session.close()


def test_successful_sign_ins_do_not_use_up_the_limit(make_app):
    application = make_app(RATELIMIT_ENABLED=True, LOGIN_FREE_FAILURES=1)
    _add_user(application, "sering@example.org")
    client = application.test_client()
    for _ in range(5):
        response = client.post("/login", data={"email": "sering@example.org",
                                               "password": DEFAULT_PASSWORD})
        assert response.status_code == 302


def test_csrf_token_is_required_when_protection_is_on(make_app):
    application = make_app(WTF_CSRF_ENABLED=True)
    _add_user(application, "csrf@example.org")
    client = application.test_client()
    missing = client.post("/login", data={"email": "csrf@example.org",
                                          "password": DEFAULT_PASSWORD})
    assert missing.status_code == 400
    foreign = client.post("/login", data={"email": "csrf@example.org",
                                          "password": DEFAULT_PASSWORD,
                                          "csrf_token": "forged-token"})
    assert foreign.status_code == 400
    token = csrf_from(client.get("/login").get_data(as_text=True))
    signed_in = client.post("/login", data={"email": "csrf@example.org",
                                            "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    # Sign-out is a form too: without a token it is refused and the session continues.
    assert client.post("/logout").status_code == 400
    assert client.get("/profile").status_code == 200
    token = csrf_from(client.get("/profile").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/profile").status_code == 302


def test_the_sign_in_audit_event_names_no_password(app, client, staff):
    sign_in(client, "staf@example.org")
    event = rows(app, select(AuditEvent).where(AuditEvent.action == "user.sign_in"))[0]
    assert DEFAULT_PASSWORD not in str(event.details)


def test_the_menu_offers_sign_out_as_a_form_and_sign_in_to_visitors(client, staff):
    visitor = client.get("/").get_data(as_text=True)
    assert 'href="/login"' in visitor and 'action="/logout"' not in visitor
    sign_in(client, "staf@example.org")
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'<form class="signout-form" method="post" action="/logout">', html)
    for link in ('href="/admin/questionnaires"', 'href="/profile"'):
        assert link in html
    assert 'href="/admin/users"' not in html  # administrators only
