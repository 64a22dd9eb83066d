"""Schemathesis against the app in-process: no server error, no response outside the document.

The API is exercised through its WSGI interface with a valid token of a coordinator whose
partnership has two closed rounds with answers, so that generated requests reach real
partnerships, rounds and results as well as missing ones.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.app.export_helpers import add_responses, bearer, build_results_world, make_token

PATHS = ("/api/v1/partnerships", "/api/v1/partnerships/{partnership_id}",
         "/api/v1/partnerships/{partnership_id}/rounds",
         "/api/v1/rounds/{round_id}/results",
         "/api/v1/partnerships/{partnership_id}/over-time")


def _arrange(app):
    """A coordinator with a partnership of two closed rounds (results and over time)."""
    from datetime import date

    from app.models import Partnership, Round, RoundStatus
    from tests.app.staff_helpers import db

    rw = build_results_world(app)
    with db(app) as session:
        partnership = session.get(Partnership, rw.world.partnership)
        later = Round(partnership=partnership, name="Putaran kedua",
                      questionnaire_version_id=rw.world.version, opens_on=date(2026, 6, 1),
                      closes_on=date(2026, 6, 30), status=RoundStatus.CLOSED,
                      partners=list(partnership.partners))
        session.add(later)
        session.flush()
        for partner in partnership.partners:
            add_responses(session, later.id, partner.id, 9, seed=partner.id)
        session.commit()
        later_id = later.id
    return rw, later_id, make_token(app, rw.world.coordinator)


@pytest.fixture
def arranged(app):
    return _arrange(app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_document(app, arranged, mode):
    """Generated requests (valid ones, and invalid ones for the negative mode) never get a
    server error, an undocumented status or content type, or a body outside the schema."""
    _, _, token = arranged
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    statuses: set[int] = set()

    @given(case=loaded.as_strategy(generation_mode=mode))
    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case):
        response = case.call_and_validate(headers=bearer(token))
        statuses.add(response.status_code)

    check()
    # The generated ids reached real objects as well as missing ones.
    assert 404 in statuses
    if mode is GenerationMode.POSITIVE:
        assert 200 in statuses


def test_the_document_covers_every_operation(app):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    paths = {operation.ok().path for operation in loaded.get_all_operations()}
    # Schemathesis leaves out the document's own URL, which needs no token and no test here.
    assert paths == set(PATHS)


def test_real_objects_answer_as_documented(app, arranged):
    rw, later_id, token = arranged
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    calls = [
        ("/api/v1/partnerships", {}),
        ("/api/v1/partnerships/{partnership_id}", {"partnership_id": rw.world.partnership}),
        ("/api/v1/partnerships/{partnership_id}/rounds",
         {"partnership_id": rw.world.partnership}),
        ("/api/v1/rounds/{round_id}/results", {"round_id": rw.closed_round}),
        ("/api/v1/rounds/{round_id}/results", {"round_id": later_id}),
        ("/api/v1/rounds/{round_id}/results", {"round_id": rw.world.open_round}),  # 404
        ("/api/v1/rounds/{round_id}/results", {"round_id": rw.world.other_round}),  # 404
        ("/api/v1/partnerships/{partnership_id}/over-time",
         {"partnership_id": rw.world.partnership}),
        ("/api/v1/partnerships/{partnership_id}/over-time",
         {"partnership_id": rw.world.other_partnership}),  # 404
    ]
    statuses = []
    for path, parameters in calls:
        case = loaded[path]["GET"].Case(path_parameters=parameters)
        response = case.call_and_validate(headers=bearer(token))
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 200, 404, 404, 200, 404]
