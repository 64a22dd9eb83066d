"""The route x role matrix: every route, every method, every kind of visitor.

Each view declares an access rule (``app.auth.access``); this test derives what each visitor
should get from that rule and checks it against the running app, on a fresh database per cell
so that one allowed POST cannot change what the next visitor sees. A new route with a URL part
this test does not know fails here until a value is added to ``_url_values``.

An area that adds routes whose URLs name its own objects (a workshop, an action, a room...)
adds a module ``tests/app/matrix_<area>.py`` with ``url_values(session, world, own)``: it
creates those objects in partnership A (``own``) or B and returns the URL values, and may set
``CROSS_TENANT_BLUEPRINTS`` (blueprint names whose routes must 404 for another tenant's objects)
and ``OBJECT_PARTS`` (its URL parts that name partnership-owned objects).
"""

from __future__ import annotations

import os
import re

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Membership, User
from app.services.fieldwork import issue_code_batch, new_batch_id
from tests.app.area_url_values import AREAS, area_url_values
from tests.app.staff_helpers import World, build_world, db

VISITORS = ("anonymous", "admin", "coordinator", "facilitator", "observer", "outsider", "plain")
DENIED = {401, 403, 404, 405}
# Staff routes that further require being a site admin or a coordinator somewhere.
CREATOR_ONLY = {"admin.new_partnership", "admin.upload_questionnaire"}
# Routes an observer tied to a partner may open only for that partner (others get 403).
OWN_PARTNER_ONLY = {"results.partner"}
# Routes whose successful use ends on the sign-in page.
LEAVES_FOR_LOGIN = {"auth.logout"}


def _routes(app: Flask) -> list[tuple[str, str]]:
    cells = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            cells.append((rule.endpoint, method))
    return sorted(cells)


def _app_for_collection() -> Flask:
    from app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})


_COLLECTION_APP = _app_for_collection()
ROUTES = _routes(_COLLECTION_APP)


def _reaches_the_view(endpoint: str, visitor: str) -> bool:
    """Whether this visitor's request gets past the access rule and runs the view's queries."""
    rule = getattr(_COLLECTION_APP.view_functions[endpoint], "access_rule", ("public",))
    if rule[0] in {"public", "api"}:
        return rule[0] == "public"
    return visitor not in {"anonymous", "outsider", "plain"}


# The PostgreSQL run (see tests/conftest.py) repeats the cells whose requests reach the view:
# those run the queries that could behave differently there. A visitor turned away by the
# access rule is turned away before the view runs, by the same membership lookup for every
# route; the SQLite run checks every one of those cells.
ON_POSTGRESQL = bool(os.environ.get("MITRA_TEST_DATABASE_URL", "").strip()) and (
    os.environ.get("MITRA_TEST_EVERYTHING") != "1")
CELLS = [(endpoint, method, visitor) for endpoint, method in ROUTES for visitor in VISITORS
         if not ON_POSTGRESQL or _reaches_the_view(endpoint, visitor)]


def test_every_route_declares_an_access_rule(app):
    missing = [endpoint for endpoint, function in app.view_functions.items()
               if endpoint != "static" and not hasattr(function, "access_rule")]
    assert missing == [], f"views without an access decorator: {missing}"


def _expected(rule: tuple, endpoint: str, visitor: str) -> str:
    """'allow', 'login' (redirect to sign-in), 'forbidden' (403) or 'hidden' (404)."""
    kind = rule[0]
    if kind == "public":
        return "allow"
    if kind == "api":  # bearer tokens only; no visitor here sends one (cookies do not count)
        return "status 401"
    if visitor == "anonymous":
        return "login"
    if kind == "staff":
        if endpoint in CREATOR_ONLY and visitor in {"facilitator", "observer", "plain"}:
            return "forbidden"
        return "allow"
    if kind == "admin":
        return "allow" if visitor == "admin" else "forbidden"
    if kind == "partnership":
        roles = set(rule[1])
        if visitor == "admin":
            return "allow"
        if visitor in {"outsider", "plain"}:
            return "hidden"
        return "allow" if visitor in roles else "forbidden"
    raise AssertionError(f"unknown access rule {rule!r}")


def _url_values(app: Flask, world: World, batch: str, membership_id: int,
                own: bool = True) -> dict:
    return _core_url_values(world, batch, membership_id, own) | area_url_values(app, world, own)


def _core_url_values(world: World, batch: str, membership_id: int, own: bool) -> dict:
    if own:
        return {"partnership_id": world.partnership, "round_id": world.open_round,
                "partner_id": world.partners[1], "membership_id": membership_id,
                "target": "closed", "batch": batch, "version_id": world.version,
                "user_id": world.plain, "token": "no-such-link-token", "code": "ACDEFGHJ",
                "number": 1, "chart": "scores", "dataset": "results", "fmt": "csv",
                "rest": "no-such-endpoint"}
    # Objects of partnership B, addressed under partnership A's id.
    return {"partnership_id": world.partnership, "round_id": world.other_round,
            "partner_id": world.other_partners[1], "membership_id": membership_id,
            "target": "closed", "batch": batch, "version_id": world.version,
            "user_id": world.plain, "token": "x", "code": "ACDEFGHJ", "number": 1,
            "chart": "scores", "dataset": "results", "fmt": "csv", "rest": "no-such-endpoint"}


def _arrange(app: Flask) -> tuple[World, str, int, int]:
    world = build_world(app)
    with db(app) as session, app.test_request_context():
        from app.models import Partner, Round

        actor = session.get(User, world.admin)
        batch = new_batch_id()
        issue_code_batch(session, actor, session.get(Round, world.open_round),
                         session.get(Partner, world.partners[0]), 3, batch)
        other_batch = new_batch_id()
        issue_code_batch(session, session.get(User, world.outsider),
                         session.get(Round, world.other_round),
                         session.get(Partner, world.other_partners[0]), 3, other_batch)
        observer_membership = session.scalar(select(Membership.id).where(
            Membership.user_id == world.observer))
        outsider_membership = session.scalar(select(Membership.id).where(
            Membership.user_id == world.outsider))
        session.commit()
    return world, batch, observer_membership, outsider_membership


def _client_for(app: Flask, world: World, visitor: str):
    client = app.test_client()
    if visitor == "anonymous":
        return client
    user_id = getattr(world, visitor)
    with db(app) as session:
        epoch = session.get(User, user_id).session_epoch
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session["epoch"] = epoch
    return client


def _request(client, method: str, url: str):
    return client.open(url, method=method, data={} if method == "POST" else None)


def _outcome(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in {301, 302, 303} and re.search(r"/login(\?|$)", location):
        return "login"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 404:
        return "hidden"
    if response.status_code in DENIED:
        return f"status {response.status_code}"
    return "allow"


@pytest.mark.parametrize(("endpoint", "method", "visitor"), CELLS,
                         ids=["-".join(cell) for cell in CELLS])
def test_route_role_matrix(app, endpoint, method, visitor):
    from flask import url_for

    world, batch, observer_membership, _ = _arrange(app)
    rule = app.view_functions[endpoint].access_rule
    expected = _expected(rule, endpoint, visitor)
    url_rule = next(r for r in app.url_map.iter_rules(endpoint=endpoint))
    values = _url_values(app, world, batch, observer_membership)
    if endpoint in OWN_PARTNER_ONLY:  # the observer is tied to partners[0]
        values["partner_id"] = world.partners[0]
    unknown = set(url_rule.arguments) - set(values)
    assert not unknown, f"add URL values for {sorted(unknown)} to _url_values"
    with app.test_request_context():
        url = url_for(endpoint, **{k: values[k] for k in url_rule.arguments})
    response = _request(_client_for(app, world, visitor), method, url)
    outcome = _outcome(response)
    if endpoint in LEAVES_FOR_LOGIN and expected == "allow" and outcome == "login":
        outcome = "allow"
    if rule[0] == "public":
        assert outcome not in {"login", "forbidden"}, f"{method} {url} as {visitor}: {outcome}"
    else:
        assert outcome == expected, (
            f"{method} {url} as {visitor}: expected {expected}, got {outcome} "
            f"({response.status_code})")
    _check_headers(response, visitor, rule)


def _check_headers(response, visitor: str, rule: tuple) -> None:
    headers = response.headers
    assert "default-src 'self'" in headers.get("Content-Security-Policy", "")
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy") == "same-origin"
    if visitor != "anonymous" and response.mimetype == "text/html":
        assert headers.get("Cache-Control") == "no-store", "staff pages must not be cached"


PARTNERSHIP_OBJECT_ROUTES = [
    (endpoint, method) for endpoint, method in ROUTES
    if endpoint.split(".")[0] in {"admin", "fieldwork", "exports"}.union(
        *(getattr(area, "CROSS_TENANT_BLUEPRINTS", ()) for area in AREAS))
]
OBJECT_PARTS = {"round_id", "partner_id", "membership_id", "batch"}.union(
    *(getattr(area, "OBJECT_PARTS", ()) for area in AREAS))


@pytest.mark.parametrize(("endpoint", "method"), PARTNERSHIP_OBJECT_ROUTES)
def test_objects_of_another_partnership_are_not_found(app, endpoint, method):
    """A coordinator of A addressing B's rounds, partners, members or batches through A's URL."""
    from flask import url_for

    world, _, _, outsider_membership = _arrange(app)
    url_rule = next(r for r in app.url_map.iter_rules(endpoint=endpoint))
    object_parts = set(url_rule.arguments) & OBJECT_PARTS
    if not object_parts or app.view_functions[endpoint].access_rule[0] != "partnership":
        pytest.skip("no partnership-owned object in this URL")
    with db(app) as session:
        from app.models import AccessCode

        other_batch = session.scalar(select(AccessCode.batch).where(
            AccessCode.round_id == world.other_round))
    values = _url_values(app, world, other_batch, outsider_membership, own=False)
    with app.test_request_context():
        url = url_for(endpoint, **{k: values[k] for k in url_rule.arguments})
    response = _request(_client_for(app, world, "coordinator"), method, url)
    assert response.status_code == 404, f"{method} {url}: {response.status_code}"
