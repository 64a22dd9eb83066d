"""Personal access tokens: created and revoked in the profile, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.models import ApiToken, AuditEvent, User
from app.services import api_tokens
from app.services.api_tokens import MAX_ACTIVE_TOKENS, TokenError, create_token
from tests.app.export_helpers import bearer, make_token
from tests.app.staff_helpers import (
    app_with,
    audit_actions,
    build_world,
    csrf_from,
    db,
    fresh,
    rows,
    signed_in_client,
)

TOKEN_RE = re.compile(r"mspat_[A-Za-z0-9_-]{43}")


def _create(client, name: str = "laporan bulanan", expires: str = "30"):
    return client.post("/profile/tokens", data={"name": name, "expires": expires})


def _only_token(app) -> ApiToken:
    (token,) = rows(app, select(ApiToken))
    return token


def test_a_new_token_is_shown_once_and_stored_only_as_its_sha256(app):
    build_world(app)
    client = signed_in_client(app, "coordinator")
    response = _create(client)
    assert response.status_code == 200
    plain = TOKEN_RE.search(response.get_data(as_text=True)).group(0)
    token = _only_token(app)
    assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert token.prefix == plain[:12] and token.name == "laporan bulanan"
    assert token.expires_on == date.today() + timedelta(days=30)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    listing = client.get("/profile/tokens").get_data(as_text=True)
    assert plain not in listing and token.prefix in listing
    with db(app) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "token.create"))
        assert event.object_id == str(token.id)
        assert plain not in repr(event.details) and plain[12:] not in repr(event.details)


def test_a_token_reads_the_api_until_it_is_revoked(app):
    world = build_world(app)
    client = signed_in_client(app, "coordinator")
    plain = TOKEN_RE.search(_create(client).get_data(as_text=True)).group(0)
    api = app.test_client()
    assert api.get("/api/v1/partnerships", headers=bearer(plain)).status_code == 200
    token = _only_token(app)
    response = client.post("/profile/tokens/revoke", data={"token_id": token.id})
    assert response.status_code == 302
    assert fresh(app, ApiToken, token.id).revoked_at is not None
    refused = api.get("/api/v1/partnerships", headers=bearer(plain))
    assert refused.status_code == 401 and refused.json["error"] == "invalid_token"
    assert audit_actions(app, user_id=world.coordinator)[-2:] == ["token.create",
                                                                  "token.revoke"]
    assert "revoked" in client.get("/profile/tokens").get_data(as_text=True)
    assert client.post("/language", data={"lang": "id", "next": "/"}).status_code == 302
    assert "dicabut" in client.get("/profile/tokens").get_data(as_text=True)


def test_nobody_revokes_someone_elses_token(app):
    world = build_world(app)
    make_token(app, world.coordinator)
    token = _only_token(app)
    client = signed_in_client(app, "facilitator")
    response = client.post("/profile/tokens/revoke", data={"token_id": token.id},
                           follow_redirects=True)
    assert response.status_code == 200
    assert fresh(app, ApiToken, token.id).revoked_at is None
    assert "token.revoke" not in audit_actions(app)
    assert token.prefix not in response.get_data(as_text=True)  # not listed to others


def test_a_token_needs_a_name(app):
    build_world(app)
    client = signed_in_client(app, "coordinator")
    assert _create(client, name="   ").status_code == 400
    assert _create(client, name="x" * 101).status_code == 400
    assert rows(app, select(ApiToken)) == []


def test_a_token_without_expiry_is_allowed(app):
    build_world(app)
    client = signed_in_client(app, "coordinator")
    assert _create(client, expires="never").status_code == 200
    assert _only_token(app).expires_on is None


def test_an_expired_token_is_refused(app):
    world = build_world(app)
    today = date.today()
    plain = make_token(app, world.coordinator, expires_on=today + timedelta(days=3),
                       today=today)
    api = app.test_client()
    assert api.get("/api/v1/partnerships", headers=bearer(plain)).status_code == 200
    with db(app) as session:
        session.scalar(select(ApiToken)).expires_on = today  # stops working on this day
        session.commit()
    assert api.get("/api/v1/partnerships", headers=bearer(plain)).status_code == 401


def test_expiry_must_lie_ahead_and_within_a_year(app):
    world = build_world(app)
    today = date(2026, 5, 1)
    with db(app) as session:
        user = session.get(User, world.coordinator)
        for expires in (today, today - timedelta(days=1), today + timedelta(days=367)):
            with pytest.raises(TokenError):
                create_token(session, user, "x", expires, today)


def test_active_tokens_per_person_are_limited(app):
    world = build_world(app)
    for _ in range(MAX_ACTIVE_TOKENS):
        make_token(app, world.coordinator)
    client = signed_in_client(app, "coordinator")
    assert _create(client).status_code == 400
    assert len(rows(app, select(ApiToken))) == MAX_ACTIVE_TOKENS


def test_last_use_is_written_at_most_once_a_day(app, monkeypatch):
    world = build_world(app)
    plain = make_token(app, world.coordinator)
    calls = []
    original = api_tokens.note_use

    def counting(session, token_id, today):
        calls.append(today)
        return original(session, token_id, today)

    monkeypatch.setattr(api_tokens, "note_use", counting)
    api = app.test_client()
    for _ in range(3):
        assert api.get("/api/v1/partnerships", headers=bearer(plain)).status_code == 200
    assert calls == [date.today()]
    assert _only_token(app).last_used_on == date.today()
    with db(app) as session:
        session.scalar(select(ApiToken)).last_used_on = date.today() - timedelta(days=1)
        session.commit()
    api.get("/api/v1/partnerships", headers=bearer(plain))
    assert len(calls) == 2 and _only_token(app).last_used_on == date.today()


def test_a_deactivated_accounts_tokens_stop_working(app):
    world = build_world(app)
    plain = make_token(app, world.coordinator)
    with db(app) as session:
        session.get(User, world.coordinator).is_active_account = False
        session.commit()
    assert app.test_client().get("/api/v1/partnerships",
                                 headers=bearer(plain)).status_code == 401


def test_token_pages_need_sign_in(client):
    response = client.get("/profile/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_creating_and_revoking_need_a_csrf_token(app_config):
    protected = app_with(app_config, WTF_CSRF_ENABLED=True)
    world = build_world(protected)
    client = protected.test_client()
    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "koordinator@example.org",
                                "password": "correct horse battery staple",
                                "csrf_token": csrf_from(login)})
    assert client.post("/profile/tokens", data={"name": "x", "expires": "30"}).status_code == 400
    make_token(protected, world.coordinator)
    token = rows(protected, select(ApiToken))[0]
    client.post("/profile/tokens/revoke", data={"token_id": token.id})
    assert fresh(protected, ApiToken, token.id).revoked_at is None
    page = client.get("/profile/tokens").get_data(as_text=True)
    assert client.post("/profile/tokens", data={"name": "x", "expires": "30",
                                                "csrf_token": csrf_from(page)}
                       ).status_code == 200


def test_failing_to_note_the_day_of_use_does_not_refuse_the_read(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    world = build_world(app)
    plain = make_token(app, world.coordinator)

    def locked(*_args, **_kwargs):
        raise OperationalError("UPDATE api_tokens", {}, Exception("database is locked"))

    monkeypatch.setattr(api_tokens, "note_use", locked)
    response = app.test_client().get("/api/v1/partnerships", headers=bearer(plain))
    assert response.status_code == 200
    assert _only_token(app).last_used_on is None


def test_the_profile_page_links_to_the_api_tokens(app):
    """The README's "Profile → API tokens" is a link a person can click."""
    from tests.app.staff_helpers import build_world, signed_in_client

    build_world(app)
    html = signed_in_client(app, "facilitator").get("/profile").get_data(as_text=True)
    assert 'href="/profile/tokens"' in html
