"""The read-only JSON API: bearer tokens only, tenant scoping as on the pages, JSON errors."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Blueprint
from sqlalchemy import select

from app.models import Partnership, Role, Round, RoundStatus
from app.services.results import over_time_for
from app.views import api as api_views
from app.views.api import ApiError, api_token_required
from tests.app.export_helpers import (
    add_responses,
    bearer,
    build_results_world,
    make_token,
    reading,
    snapshot_of,
)
from tests.app.staff_helpers import build_world, db, signed_in_client


@pytest.fixture
def world(app):
    return build_world(app)


def _get(app, url: str, token: str | None):
    return app.test_client().get(url, headers=bearer(token) if token else {})


def _assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.json["error"] == code and response.json["message"]


# --------------------------------------------------------------------------- authentication


@pytest.mark.parametrize(("header", "code"), [
    (None, "missing_token"), ("Bearer", "missing_token"), ("Bearer   ", "missing_token"),
    ("Basic dXNlcjpwYXNz", "missing_token"), ("bearer mspat_not-a-real-token", "invalid_token"),
    ("Bearer xyz", "invalid_token"),
])
def test_requests_without_a_valid_token_get_401_json(app, world, header, code):
    headers = {"Authorization": header} if header is not None else {}
    response = app.test_client().get("/api/v1/partnerships", headers=headers)
    _assert_json_error(response, 401, code)
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="Mitra Sehat API"')
    assert ('error="invalid_token"' in challenge) == (code == "invalid_token")


def test_a_signed_in_browser_session_does_not_authenticate(app, world):
    client = signed_in_client(app, "coordinator")
    assert client.get(f"/admin/partnerships/{world.partnership}").status_code == 200
    response = client.get("/api/v1/partnerships")
    _assert_json_error(response, 401, "missing_token")


def test_a_revoked_token_is_refused(app, world):
    token = make_token(app, world.coordinator)
    with db(app) as session:
        from app.models import ApiToken, User
        from app.services.api_tokens import revoke_token

        revoke_token(session, session.get(User, world.coordinator),
                     session.scalar(select(ApiToken.id)))
        session.commit()
    _assert_json_error(_get(app, "/api/v1/partnerships", token), 401, "invalid_token")


# --------------------------------------------------------------------------- scoping


def test_partnerships_lists_only_the_token_owners_with_their_role(app, world):
    listed = _get(app, "/api/v1/partnerships", make_token(app, world.coordinator)).json
    assert [(p["id"], p["role"]) for p in listed["partnerships"]] == [
        (world.partnership, "coordinator")]
    listed = _get(app, "/api/v1/partnerships", make_token(app, world.observer)).json
    assert [(p["id"], p["role"]) for p in listed["partnerships"]] == [
        (world.partnership, "observer")]
    listed = _get(app, "/api/v1/partnerships", make_token(app, world.outsider)).json
    assert [p["id"] for p in listed["partnerships"]] == [world.other_partnership]
    assert _get(app, "/api/v1/partnerships", make_token(app, world.plain)).json == {
        "partnerships": []}
    listed = _get(app, "/api/v1/partnerships", make_token(app, world.admin)).json
    assert {(p["id"], p["role"]) for p in listed["partnerships"]} == {
        (world.partnership, "coordinator"), (world.other_partnership, "coordinator")}


def test_a_partnership_with_its_partners(app, world):
    body = _get(app, f"/api/v1/partnerships/{world.partnership}",
                make_token(app, world.facilitator)).json
    with db(app) as session:
        partnership = session.get(Partnership, world.partnership)
        assert body["name"] == partnership.name
        assert body["min_group_size"] == partnership.min_group_size == 5
        assert body["role"] == "facilitator"
        assert [(p["id"], p["name"], p["sector"]) for p in body["partners"]] == [
            (p.id, p.name, p.sector.value) for p in partnership.partners]


def test_another_tenants_objects_look_exactly_like_missing_ones(app, world):
    token = make_token(app, world.coordinator)
    for theirs, missing in [
        (f"/api/v1/partnerships/{world.other_partnership}", "/api/v1/partnerships/999999"),
        (f"/api/v1/partnerships/{world.other_partnership}/rounds",
         "/api/v1/partnerships/999999/rounds"),
        (f"/api/v1/rounds/{world.other_round}/results", "/api/v1/rounds/999999/results"),
        (f"/api/v1/partnerships/{world.other_partnership}/over-time",
         "/api/v1/partnerships/999999/over-time"),
    ]:
        a, b = _get(app, theirs, token), _get(app, missing, token)
        _assert_json_error(a, 404, "not_found")
        assert a.get_data() == b.get_data()


def test_ids_beyond_the_database_range_are_not_found(app, world):
    token = make_token(app, world.coordinator)
    for url in ("/api/v1/rounds/99999999999999999999/results", "/api/v1/partnerships/0"):
        _assert_json_error(_get(app, url, token), 404, "not_found")


def test_rounds_of_a_partnership(app, world):
    body = _get(app, f"/api/v1/partnerships/{world.partnership}/rounds",
                make_token(app, world.observer)).json
    with db(app) as session:
        rounds = session.scalars(select(Round).where(
            Round.partnership_id == world.partnership)).all()
        expected = {r.id: (r.name, r.status.value, r.questionnaire_version.slug) for r in rounds}
    assert {r["id"]: (r["name"], r["status"], r["questionnaire"]["slug"])
            for r in body["rounds"]} == expected
    first = body["rounds"][0]
    assert first["opens_on"] == "2026-01-01" and len(first["partner_ids"]) == 3


def test_a_wrong_role_is_403(app, world):
    probe = Blueprint("api_probe", __name__)

    @probe.get("/probe/partnerships/<int:partnership_id>")
    @api_token_required(Role.COORDINATOR)
    def coordinators_only(partnership_id: int):
        return {"ok": True}

    probe.register_error_handler(ApiError, api_views.api_error)
    app.register_blueprint(probe, url_prefix="/api/v1")
    assert coordinators_only.access_rule == ("api", ("coordinator",))
    url = f"/api/v1/probe/partnerships/{world.partnership}"
    assert _get(app, url, make_token(app, world.coordinator)).json == {"ok": True}
    assert _get(app, url, make_token(app, world.admin)).status_code == 200
    _assert_json_error(_get(app, url, make_token(app, world.facilitator)), 403, "forbidden")
    _assert_json_error(_get(app, url, make_token(app, world.observer)), 403, "forbidden")
    _assert_json_error(_get(app, url, make_token(app, world.outsider)), 404, "not_found")
    _assert_json_error(_get(app, url, None), 401, "missing_token")


def test_every_api_view_declares_the_api_rule(app):
    rules = {endpoint: view.access_rule for endpoint, view in app.view_functions.items()
             if endpoint.startswith("api.")}
    assert rules.pop("api.openapi") == ("public",)
    assert rules.pop("api.not_found") == ("public",)
    assert rules.pop("api.partnerships") == ("api", ())
    assert set(rules.values()) == {("api", ("coordinator", "facilitator", "observer"))}


# --------------------------------------------------------------------------- results


def test_round_results_are_the_published_snapshot(app):
    rw = build_results_world(app)
    snapshot = snapshot_of(app, rw.closed_round)
    for who in ("coordinator", "facilitator", "observer"):
        token = make_token(app, getattr(rw.world, who))
        response = _get(app, f"/api/v1/rounds/{rw.closed_round}/results", token)
        assert response.status_code == 200
        assert response.json == snapshot
    hidden = [p for p in response.json["response_counts"]["partners"] if p["suppressed"]]
    assert hidden and all(p["n"] is None for p in hidden)


def test_rounds_without_responses_have_no_results(app, world):
    token = make_token(app, world.coordinator)
    for round_id in (world.open_round, world.draft_round):
        _assert_json_error(_get(app, f"/api/v1/rounds/{round_id}/results", token), 404,
                           "no_results")


def test_over_time_needs_two_closed_rounds(app):
    rw = build_results_world(app)
    token = make_token(app, rw.world.coordinator)
    url = f"/api/v1/partnerships/{rw.world.partnership}/over-time"
    _assert_json_error(_get(app, url, token), 404, "no_results")
    with db(app) as session:
        partnership = session.get(Partnership, rw.world.partnership)
        later = Round(partnership=partnership, name="Putaran kedua",
                      questionnaire_version_id=rw.world.version, opens_on=date(2026, 6, 1),
                      closes_on=date(2026, 6, 30), status=RoundStatus.CLOSED,
                      partners=list(partnership.partners))
        session.add(later)
        session.flush()
        for partner in partnership.partners:
            add_responses(session, later.id, partner.id, 10, seed=partner.id)
        session.commit()
    response = _get(app, url, token)
    assert response.status_code == 200
    with reading(app) as session:
        expected = over_time_for(session, session.get(Partnership, rw.world.partnership))
    assert response.json == expected
    assert [r["name"] for r in response.json["rounds"]] == ["Putaran tutup", "Putaran kedua"]


# --------------------------------------------------------------------------- JSON everywhere


def test_unknown_urls_and_methods_answer_in_json(app, world):
    token = make_token(app, world.coordinator)
    client = app.test_client()
    for url in ("/api/v1/nothing", "/api/v1/partnerships/abc", "/api/v1/partnerships/",
                "/api/v1/partnerships/-1"):
        _assert_json_error(client.get(url, headers=bearer(token)), 404, "not_found")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = client.open("/api/v1/partnerships", method=method, headers=bearer(token))
        _assert_json_error(response, 405, "method_not_allowed")
        assert "GET" in response.headers["Allow"]
    response = client.post("/api/v1/nothing", headers=bearer(token))
    _assert_json_error(response, 404, "not_found")


def test_the_api_needs_no_csrf_token_and_never_answers_with_a_form_error(app_config):
    from tests.app.staff_helpers import app_with

    protected = app_with(app_config, WTF_CSRF_ENABLED=True)
    world = build_world(protected)
    token = make_token(protected, world.coordinator)
    response = protected.test_client().post("/api/v1/partnerships", headers=bearer(token))
    _assert_json_error(response, 405, "method_not_allowed")


def test_an_unexpected_error_is_json_without_details(app, world, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api_views, "over_time_for", broken)
    response = _get(app, f"/api/v1/partnerships/{world.partnership}/over-time",
                    make_token(app, world.coordinator))
    _assert_json_error(response, 500, "server_error")
    assert b"secret internals" not in response.data and b"Traceback" not in response.data


def test_responses_are_not_cached(app, world):
    response = _get(app, "/api/v1/partnerships", make_token(app, world.coordinator))
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


# --------------------------------------------------------------------------- the description


def test_openapi_document_is_public_and_describes_every_route(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"]}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.not_found":
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(f"<int:{argument}>", f"{{{argument}}}")
            routes.add(path)
    assert routes == set(document["paths"])
    for path, item in document["paths"].items():
        operation = item["get"]
        assert {"200", "404"} <= set(operation["responses"]) or path.endswith("openapi.json")
        for name in (p["name"] for p in operation.get("parameters", [])):
            assert f"{{{name}}}" in path
