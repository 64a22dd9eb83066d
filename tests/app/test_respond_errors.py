"""Every way the respondent flow can go wrong gets a clear page, the right status, no loss."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select, update

from app import create_app
from app.models import Draft, Response, Round, RoundStatus, round_partners
from app.services.drafts import draft_key_for_code
from tests.app.respond_helpers import (
    CLOSING_PAGE,
    Reader,
    answer_pages,
    arrange,
    choose_language,
    complete_flow,
    csrf_token_from,
    english_client,
    enter_code,
    page_answers,
    writing,
)


def _no_trace(html: str) -> None:
    assert "Traceback" not in html and "Error 500" not in html


def _draft_answers(app, code: str) -> dict | None:
    with app.app_context():
        key = draft_key_for_code(code)
    draft = Reader(app).scalar(select(Draft).where(Draft.key_hash == key))
    return None if draft is None else draft.data["answers"]


@pytest.fixture
def csrf_app(app, app_config):
    """The same database, with CSRF protection on as in production."""
    application = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    yield application
    application.extensions["mitra.engine"].dispose()


# --------------------------------------------------------------------------- codes


def test_unknown_code_in_the_form_is_a_field_error(client, app):
    arrange(app)
    choose_language(client, "en")
    response = client.post("/r", data={"code": "AAAA-AAAA"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "We do not know this code" in html
    assert 'id="code-error"' in html and 'aria-describedby="code-hint code-error"' in html
    assert 'role="alert"' in html and 'value="AAAA-AAAA"' in html
    _no_trace(html)


def test_empty_code_asks_for_one(client):
    choose_language(client, "en")
    response = client.post("/r", data={"code": "  "})
    assert response.status_code == 422
    assert "Please enter the code from your card." in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/r/AAAAAAAA", "/r/not-a-code", "/l/no-such-link-token"])
def test_unknown_code_or_link_in_a_url_is_404(client, app, url):
    arrange(app, link_uses=3)
    choose_language(client, "en")
    response = client.get(url)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "We do not know this code or link" in html
    assert 'name="code"' in html, "offers to try another code"
    _no_trace(html)


def test_problem_pages_follow_the_chosen_language(client, app):
    arrange(app)
    indonesian = client.get("/r/AAAAAAAA").get_data(as_text=True)
    assert '<html lang="id">' in indonesian
    client.post("/language", data={"lang": "en", "next": "/"})
    english = client.get("/r/AAAAAAAA").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "We do not know this code or link" in english


def test_used_code_is_refused_everywhere(app):
    fieldwork = arrange(app)
    code = fieldwork.codes[0]
    assert complete_flow(app.test_client(), fieldwork, code).status_code == 303
    later = english_client(app)
    by_form = later.post("/r", data={"code": code})
    by_url = later.get(f"/r/{code}")
    for response in (by_form, by_url):
        assert response.status_code == 410
        html = response.get_data(as_text=True)
        assert "This code has already been used" in html
        _no_trace(html)
    assert Reader(app).count(Response) == 1


def test_exhausted_partner_link_is_refused(app):
    fieldwork = arrange(app, codes=0, link_uses=1)
    client = app.test_client()
    client.get(f"/l/{fieldwork.link}")
    answer_pages(client, fieldwork)
    assert client.post("/r/review").status_code == 303
    response = english_client(app).get(f"/l/{fieldwork.link}")
    assert response.status_code == 410
    assert "This link has been used as often as allowed" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- rounds


@pytest.mark.parametrize(("status", "opens", "closes", "expected", "text"), [
    (RoundStatus.DRAFT, None, None, 403, "This survey has not opened yet"),
    (RoundStatus.OPEN, date.today() + timedelta(days=3), None, 403, "You can answer from"),
    (RoundStatus.CLOSED, None, None, 410, "This survey is closed"),
    (RoundStatus.OPEN, date(2020, 1, 1), date.today() - timedelta(days=2), 410,
     "This survey is closed"),
])
def test_round_not_open_is_refused(app, status, opens, closes, expected, text):
    fieldwork = arrange(app, status=status, opens_on=opens, closes_on=closes)
    client = english_client(app)
    for response in (client.post("/r", data={"code": fieldwork.codes[0]}),
                     client.get(f"/r/{fieldwork.codes[0]}")):
        assert response.status_code == expected
        html = response.get_data(as_text=True)
        assert text in html
        _no_trace(html)


def test_partner_no_longer_in_the_round_is_refused(app):
    fieldwork = arrange(app)
    with writing(app) as session:
        session.execute(delete(round_partners).where(
            round_partners.c.round_id == fieldwork.round_id,
            round_partners.c.partner_id == fieldwork.own_partner_id))
    response = english_client(app).get(f"/r/{fieldwork.codes[0]}")
    assert response.status_code == 403
    assert "no longer takes part in this round" in response.get_data(as_text=True)


def test_round_closing_mid_flow_keeps_the_draft_and_the_code(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    answer_pages(client, fieldwork)
    with writing(app) as session:
        session.execute(update(Round).where(Round.id == fieldwork.round_id)
                        .values(status=RoundStatus.CLOSED))
    assert client.get("/r/page/2").status_code == 410
    response = client.post("/r/review")
    assert response.status_code in (400, 410)
    assert Reader(app).count(Response) == 0
    assert Reader(app).code_uses(fieldwork.round_id)[0] == 0
    assert _draft_answers(app, fieldwork.codes[0]) is not None


def test_page_outside_the_plan_is_404(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    assert client.get(f"/r/page/{CLOSING_PAGE + 1}").status_code == 404
    assert client.get("/r/page/0").status_code == 404


# --------------------------------------------------------------------------- sessions


def test_expired_session_on_a_page_sends_back_to_code_entry(client):
    # No session means no language choice either: the notice is in the default, Indonesian
    # (catalogue: "Your session has ended. ..." -> "Sesi Anda telah berakhir. ...").
    response = client.get("/r/page/2")
    assert response.status_code == 303 and response.location.endswith("/r")
    html = client.get("/r").get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Sesi Anda telah berakhir. Silakan masukkan kode Anda lagi" in html


def test_expired_session_keeps_the_answers_just_sent(app):
    fieldwork = arrange(app)
    code = fieldwork.codes[0]
    first = app.test_client()
    enter_code(first, code)
    first.post("/r/page/1", data={**page_answers(fieldwork, 1, value=2), "action": "next"})

    # The session is gone (a new browser), but the answers of page 2 are in the post.
    fresh = app.test_client()
    posted = {**page_answers(fieldwork, 2, value=5), "action": "next"}
    expired = fresh.post("/r/page/2", data=posted)
    assert expired.status_code == 400
    html = expired.get_data(as_text=True)
    # A new browser has no language choice: the default, Indonesian
    # (catalogue: "Your session has ended" -> "Sesi Anda telah berakhir").
    assert '<html lang="id">' in html
    assert "<h1>Sesi Anda telah berakhir</h1>" in html
    carried = dict(re.findall(r'<input type="hidden" name="([qrt]_[a-z0-9_]+)" value="([^"]*)"',
                              html))
    assert carried == {k: v for k, v in posted.items() if k != "action"}
    assert 'name="carry_page" value="2"' in html
    assert Reader(app).count(Response) == 0

    again = fresh.post("/r", data={"code": code, "carry_page": "2", **carried})
    assert again.status_code == 303 and again.location.endswith("/r/page/2")
    answers = _draft_answers(app, code)
    assert answers["kes1"] == 2, "earlier saved answers are kept"
    assert all(answers[k[2:]] == 5 for k in carried), "the carried answers are saved"


def test_double_submit_stores_exactly_one_response(app):
    fieldwork = arrange(app)
    client = english_client(app)
    enter_code(client, fieldwork.codes[0])
    answer_pages(client, fieldwork)
    first = client.post("/r/review")
    second = client.post("/r/review")
    assert first.status_code == 303
    assert second.status_code == 200
    html = second.get_data(as_text=True)
    assert "already been submitted" in html
    _no_trace(html)
    assert Reader(app).count(Response) == 1
    assert client.get("/r/page/1").status_code == 303, "the code left the session"


@pytest.mark.parametrize("via_link", [False, True])
def test_double_click_with_the_same_cookie_stores_one(app, via_link):
    """Both clicks carry the session as it was before the first one was answered."""
    fieldwork = arrange(app, link_uses=5 if via_link else None)
    first = english_client(app)
    if via_link:
        first.get(f"/l/{fieldwork.link}")
    else:
        enter_code(first, fieldwork.codes[0])
    answer_pages(first, fieldwork)
    second = app.test_client()
    second.set_cookie("session", first.get_cookie("session").value)
    assert first.post("/r/review").status_code == 303
    repeat = second.post("/r/review")
    assert repeat.status_code == 200
    assert "already been submitted" in repeat.get_data(as_text=True)
    assert Reader(app).count(Response) == 1
    assert sum(Reader(app).code_uses(fieldwork.round_id)) == 1


# --------------------------------------------------------------------------- CSRF


def test_flow_works_with_csrf_protection(csrf_app):
    fieldwork = arrange(csrf_app)
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/r").get_data(as_text=True))
    assert client.post("/r", data={"code": fieldwork.codes[0], "csrf_token": token}) \
        .status_code == 303
    for number in range(1, CLOSING_PAGE + 1):
        html = client.get(f"/r/page/{number}").get_data(as_text=True)
        data = {**page_answers(fieldwork, number), "action": "next",
                "csrf_token": csrf_token_from(html)}
        assert client.post(f"/r/page/{number}", data=data).status_code == 303
    token = csrf_token_from(client.get("/r/review").get_data(as_text=True))
    assert client.post("/r/review", data={"csrf_token": token}).status_code == 303
    assert Reader(csrf_app).count(Response) == 1


@pytest.mark.parametrize("token_kind", ["missing", "foreign"])
def test_bad_csrf_token_shows_the_answers_again_and_stores_nothing(
        csrf_app, token_kind):
    fieldwork = arrange(csrf_app)
    client = english_client(csrf_app)
    token = csrf_token_from(client.get("/r").get_data(as_text=True))
    client.post("/r", data={"code": fieldwork.codes[0], "csrf_token": token})
    data = {**page_answers(fieldwork, 1, value=2), "q_kes3": "dk", "action": "next"}
    if token_kind == "foreign":
        other = csrf_app.test_client()
        data["csrf_token"] = csrf_token_from(other.get("/r").get_data(as_text=True))
    response = client.post("/r/page/1", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was saved yet" in html
    assert re.search(r'name="q_kes1" value="2" checked', html)
    assert re.search(r'name="q_kes3" value="dk" checked', html)
    fresh = csrf_token_from(html)
    assert _draft_answers(csrf_app, fieldwork.codes[0]) is None, "nothing stored"
    retry = client.post("/r/page/1", data={**data, "csrf_token": fresh})
    assert retry.status_code == 303
    assert _draft_answers(csrf_app, fieldwork.codes[0])["kes1"] == 2


def test_expired_csrf_token_keeps_the_answers(app, app_config):
    timed = create_app({**app_config, "WTF_CSRF_ENABLED": True, "WTF_CSRF_TIME_LIMIT": 1})
    fieldwork = arrange(app)
    client = timed.test_client()
    token = csrf_token_from(client.get("/r").get_data(as_text=True))
    client.post("/r", data={"code": fieldwork.codes[0], "csrf_token": token})
    html = client.get("/r/page/1").get_data(as_text=True)
    time.sleep(2.1)  # signatures count whole seconds
    data = {**page_answers(fieldwork, 1, value=5), "action": "next",
            "csrf_token": csrf_token_from(html)}
    response = client.post("/r/page/1", data=data)
    assert response.status_code == 400
    assert re.search(r'name="q_kes1" value="5" checked', response.get_data(as_text=True))
    assert _draft_answers(timed, fieldwork.codes[0]) is None
    timed.extensions["mitra.engine"].dispose()


def test_csrf_failure_without_a_session_offers_code_entry(csrf_app):
    fieldwork = arrange(csrf_app)
    client = csrf_app.test_client()
    data = {**page_answers(fieldwork, 3, value=1), "action": "next", "csrf_token": "stale"}
    response = client.post("/r/page/3", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # No session, so no language choice: the default, Indonesian
    # (catalogue: "Your session has ended" -> "Sesi Anda telah berakhir").
    assert '<html lang="id">' in html
    assert "<h1>Sesi Anda telah berakhir</h1>" in html
    assert 'name="carry_page" value="3"' in html
    first_item = next(iter(page_answers(fieldwork, 3)))
    assert f'name="{first_item}" value="1"' in html


def test_submitting_before_answering_anything_asks_for_answers(app):
    fieldwork = arrange(app)
    client = english_client(app)
    enter_code(client, fieldwork.codes[0])
    response = client.post("/r/review")
    assert response.status_code == 303 and "/r/page/1?check=1" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "Please answer the questions before you submit." in page
    assert 'class="error-summary"' in page
    assert Reader(app).count(Response) == 0
