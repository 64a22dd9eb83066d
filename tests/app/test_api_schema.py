"""Schemathesis against the app in-process: no server error, no response outside the document.

The API is exercised through its WSGI interface with a valid token of a coordinator whose
partnership has two closed rounds with answers, so that generated requests reach real
partnerships, rounds and results as well as missing ones.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.app.export_helpers import add_responses, bearer, build_results_world, make_token

PATHS = ("/api/v1/partnerships", "/api/v1/partnerships/{partnership_id}",
         "/api/v1/partnerships/{partnership_id}/rounds",
         "/api/v1/rounds/{round_id}/results",
         "/api/v1/partnerships/{partnership_id}/over-time",
         "/api/v1/partnerships/{partnership_id}/actions",
         "/api/v1/partnerships/{partnership_id}/commitments")


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
        ("/api/v1/partnerships/{partnership_id}/actions",
         {"partnership_id": rw.world.partnership}),
        ("/api/v1/partnerships/{partnership_id}/commitments",
         {"partnership_id": rw.world.partnership}),
        ("/api/v1/partnerships/{partnership_id}/actions",
         {"partnership_id": rw.world.other_partnership}),  # 404
    ]
    statuses = []
    for path, parameters in calls:
        case = loaded[path]["GET"].Case(path_parameters=parameters)
        response = case.call_and_validate(headers=bearer(token))
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 200, 404, 404, 200, 404, 200, 200, 404]


# Header values as a WSGI server hands them over: any Latin-1 character but CR and LF.
_header_text = st.text(alphabet=st.characters(max_codepoint=255, blacklist_characters="\r\n"),
                       max_size=80)
_HOSTILE_HEADERS = ["Bearer \x00", "Bearer \x1b[31m", "Bearer\t\x7f", "bearer  ", "Basic \x00:x",
                    "Bearer " + "A" * 10_000, "Bearer msk_\x00\x00", "\x00", "Token abc",
                    "Bearer \u00ff\u00fe"]


@pytest.mark.parametrize("path", PATHS)
def test_hostile_tokens_and_query_strings_never_give_a_server_error(app, arranged, path):
    """What the document cannot describe: control characters and NUL in the Authorization
    header, in the query string (raw and percent-encoded) and in the path's ids. Each gets a
    4xx or the normal answer, never a 500."""
    rw, later_id, token = arranged
    url = path.format(partnership_id=rw.world.partnership, round_id=later_id)
    client = app.test_client()

    @given(authorization=st.one_of(st.sampled_from(_HOSTILE_HEADERS), _header_text,
                                   _header_text.map(lambda t: "Bearer " + t),
                                   st.just(f"Bearer {token}")),
           query=st.one_of(st.binary(max_size=60), st.sampled_from(
               [b"a=%00", b"%00=%00", b"x=\x00", b"lang=%1b%5b31m", b"q=%e2%80%ae",
                b"id=99999999999999999999999", b"%ff%fe=1", b"a" * 5_000])))
    @settings(max_examples=int(os.environ.get("MITRA_FUZZ_EXAMPLES", "30")), deadline=None,
              database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def call(authorization, query):
        # Raw, as a server passes it on: WSGI strings are Latin-1 decoded bytes.
        response = client.get(url, headers={"Authorization": authorization},
                              environ_overrides={"QUERY_STRING": query.decode("latin-1")})
        assert response.status_code < 500, (authorization, query, response.status_code)
        if response.status_code == 400:
            # Malformed input is refused before anything else, whoever asks (request_hygiene).
            assert response.get_json()["error"] == "bad_request"
            assert _malformed(query), query
        elif authorization != f"Bearer {token}":
            assert response.status_code == 401, (authorization, response.status_code)

    call()


def _malformed(query: bytes) -> bool:
    """A query string that is not UTF-8, or holds a control character once decoded."""
    from urllib.parse import parse_qsl

    from app.text_hygiene import find_forbidden

    try:
        text = query.decode("utf-8")
    except UnicodeDecodeError:
        return True
    pairs = parse_qsl(text, keep_blank_values=True, errors="replace")
    return any(find_forbidden(part) for pair in pairs for part in pair)


@pytest.mark.parametrize("suffix", ["%00", "1%00", "%1b", "1\x00", "%e2%80%ae1", "-1",
                                    "99999999999999999999999", "1.5", "%ff"])
def test_hostile_ids_in_the_path_never_give_a_server_error(app, arranged, suffix):
    _, _, token = arranged
    client = app.test_client()
    for prefix in ("/api/v1/partnerships/", "/api/v1/rounds/"):
        for tail in ("", "/rounds", "/results", "/over-time"):
            response = client.get(prefix + suffix + tail, headers=bearer(token))
            assert response.status_code in {400, 401, 404, 405}, (prefix + suffix + tail,
                                                                   response.status_code)
