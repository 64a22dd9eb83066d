"""Many respondents submitting at once: every code counts once, every response is stored once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from app.models import Answer, Draft, Response, Round
from tests.app.respond_helpers import (
    QUESTIONNAIRE,
    Reader,
    answer_pages,
    arrange,
    complete_flow,
    enter_code,
)

THREADS = 20
SUBMISSIONS = 200


def test_200_submissions_from_20_threads_store_200_responses(app):
    fieldwork = arrange(app, codes=SUBMISSIONS)
    batches = [fieldwork.codes[i::THREADS] for i in range(THREADS)]
    start = threading.Barrier(THREADS)

    def respondent_group(codes: list[str]) -> list[int]:
        start.wait()
        statuses = []
        for code in codes:
            client = app.test_client()
            statuses.append(complete_flow(client, fieldwork, code,
                                          value=1 + len(statuses) % 5).status_code)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(respondent_group, batches))

    assert [status for batch in results for status in batch] == [303] * SUBMISSIONS
    reader = Reader(app)
    assert reader.count(Response) == SUBMISSIONS
    assert reader.code_uses(fieldwork.round_id) == [1] * SUBMISSIONS
    assert reader.count(Draft) == 0
    assert reader.count(Answer) == SUBMISSIONS * len(QUESTIONNAIRE.items)
    assert reader.get(Round, fieldwork.round_id).results_version == SUBMISSIONS
    assert len(set(reader.scalars(select(Response.id)))) == SUBMISSIONS


def _click(client, together: threading.Barrier) -> int:
    together.wait()
    return client.post("/r/review").status_code


def _racing_submits(app, prepare, rounds: int) -> list[tuple[int, int]]:
    """Prepare a respondent ``rounds`` times and press Submit twice at the same moment."""
    outcomes = []
    for n in range(rounds):
        first = app.test_client()
        prepare(first, n)
        second = app.test_client()
        second.set_cookie("session", first.get_cookie("session").value)
        together = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            clicks = pool.map(_click, (first, second), (together, together))
            outcomes.append(tuple(sorted(clicks)))
    return outcomes


def test_simultaneous_double_clicks_store_one_response_each(app):
    fieldwork = arrange(app, codes=10)

    def prepare(client, n):
        enter_code(client, fieldwork.codes[n])
        answer_pages(client, fieldwork)

    outcomes = _racing_submits(app, prepare, 10)
    assert outcomes == [(200, 303)] * 10, "one stored, one told it was already submitted"
    assert Reader(app).count(Response) == 10
    assert Reader(app).code_uses(fieldwork.round_id) == [1] * 10


def test_simultaneous_double_clicks_on_a_partner_link_store_one(app):
    fieldwork = arrange(app, codes=0, link_uses=100)

    def prepare(client, _n):
        client.get(f"/l/{fieldwork.link}")
        answer_pages(client, fieldwork)

    outcomes = _racing_submits(app, prepare, 8)
    assert outcomes == [(200, 303)] * 8
    assert Reader(app).count(Response) == 8
    assert Reader(app).code_uses(fieldwork.round_id) == [8]
    assert Reader(app).count(Draft) == 0
