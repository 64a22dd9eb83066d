"""The respondent flow through the test client: code, language, pages, review, submit."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app.models import AccessCode, Answer, Draft, OpenAnswer, PartnerRating, Response, Round
from app.services.drafts import draft_key_for_code
from tests.app.respond_helpers import (
    CLOSING_PAGE,
    DIMENSION_PAGES,
    QUESTIONNAIRE,
    Reader,
    answer_pages,
    arrange,
    complete_flow,
    english_client,
    enter_code,
    page_answers,
)


def _draft(app, code: str) -> Draft | None:
    with app.app_context():
        key = draft_key_for_code(code)
    return Reader(app).scalar(select(Draft).where(Draft.key_hash == key))


def _checked(html: str, name: str) -> str | None:
    """The value of the checked radio named ``name`` in a page, or None."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and " checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def test_full_flow_in_indonesian_with_save_and_resume(app):
    fieldwork = arrange(app)
    code = fieldwork.codes[0]
    first = app.test_client()
    response = enter_code(first, code)
    assert response.status_code == 303
    assert response.location.endswith("/r/language")
    language_page = first.get("/r/language").get_data(as_text=True)
    assert re.search(r'value="id" checked', language_page), "Indonesian is the default"
    assert language_page.index('value="id"') < language_page.index('value="en"')
    assert first.post("/r/language", data={"language": "id"}).status_code == 303

    page1 = first.get("/r/page/1").get_data(as_text=True)
    assert "Halaman 1 dari" in page1 or "Page 1 of 6" in page1
    assert QUESTIONNAIRE.dimensions[0].items[0].text.get("id") in page1
    assert first.post("/r/page/1", data={**page_answers(fieldwork, 1, value=2),
                                        "action": "next"}).location.endswith("/r/page/2")
    page2_data = page_answers(fieldwork, 2, value=5)
    saved = first.post("/r/page/2", data={**page2_data, "action": "save"})
    assert saved.status_code == 303 and saved.location.endswith("/r/saved")
    assert first.get("/r/saved").status_code == 200

    draft = _draft(app, code)
    assert draft is not None and draft.page == 2 and draft.language == "id"
    assert draft.data["answers"]["kes1"] == 2
    assert draft.data["answers"][QUESTIONNAIRE.dimensions[1].items[0].id] == 5
    assert draft.saved_on == date.today() or (date.today() - draft.saved_on).days <= 1

    # Another device, a fresh session: the same code resumes on page 2 with the answers.
    second = app.test_client()
    resumed = enter_code(second, code.lower()[:4] + "-" + code.lower()[4:])
    assert resumed.status_code == 303 and resumed.location.endswith("/r/page/2")
    page2 = second.get("/r/page/2").get_data(as_text=True)
    first_item = QUESTIONNAIRE.dimensions[1].items[0].id
    assert _checked(page2, f"q_{first_item}") == "5"
    assert Reader(app).code_uses(fieldwork.round_id)[0] == 0, "resuming does not use the code"

    answer_pages(second, fieldwork, start=2, value=4)
    review = second.get("/r/review")
    assert review.status_code == 200
    done = second.post("/r/review")
    assert done.status_code == 303 and done.location.endswith("/r/thanks")
    assert second.get("/r/thanks").status_code == 200

    responses = list(Reader(app).scalars(select(Response)))
    assert len(responses) == 1
    stored = responses[0]
    assert stored.language == "id" and stored.partner_id == fieldwork.own_partner_id
    values = {a.item_id: a.value for a in Reader(app).scalars(select(Answer))}
    assert len(values) == len(QUESTIONNAIRE.items)
    assert values["kes1"] == 2 and values[first_item] == 4, "the later answer replaced the draft's"
    assert Reader(app).code_uses(fieldwork.round_id) == [1, 0, 0]
    assert Reader(app).count(Draft) == 0
    assert Reader(app).get(Round, fieldwork.round_id).results_version == 1


def test_full_flow_in_english_from_a_printed_qr_link(app):
    fieldwork = arrange(app, default_language="en")
    code = fieldwork.codes[1]
    client = app.test_client()
    response = client.get(f"/r/{code}")
    assert response.status_code == 303
    assert code not in response.location, "the code leaves the address bar at once"
    language_page = client.get(response.location).get_data(as_text=True)
    assert re.search(r'value="en" checked', language_page), "the partnership's default"
    assert client.post("/r/language", data={"language": "en"}).status_code == 303
    about = client.get("/r/about").get_data(as_text=True)
    assert "at least 5 responses" in about and "at least 8 responses" in about
    page1 = client.get("/r/page/1").get_data(as_text=True)
    assert QUESTIONNAIRE.dimensions[0].items[0].text.get("en") in page1
    assert "Page 1 of 6" in page1
    assert QUESTIONNAIRE.scale("setuju5").points[0].label.get("en") in page1

    answer_pages(client, fieldwork, value=3, texts={"terbuka_berjalan_baik": "  Good meetings. "})
    review = client.get("/r/review").get_data(as_text=True)
    assert "Neither agree nor disagree" in review
    assert "Good meetings." in review
    assert client.post("/r/review").location.endswith("/r/thanks")
    # Back after submitting lands on the thanks page again, not on "your session has ended".
    for back in ("/r/review", "/r/page/6", "/r/page/1"):
        again = client.get(back)
        assert again.status_code == 303 and again.location.endswith("/r/thanks"), back

    stored = Reader(app).scalar(select(Response))
    assert stored.language == "en"
    texts = list(Reader(app).scalars(select(OpenAnswer)))
    assert [(t.text, t.language, t.partner_id) for t in texts] == [
        ("Good meetings.", "en", fieldwork.own_partner_id)]


def test_partner_rating_rows_are_the_other_partners_only(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    html = client.get(f"/r/page/{CLOSING_PAGE}").get_data(as_text=True)
    own_name = Reader(app).partner_name(fieldwork.own_partner_id)
    for pid in fieldwork.other_partner_ids:
        assert f'name="r_mitra_komitmen__{pid}"' in html
        assert Reader(app).partner_name(pid) in html
    assert f"__{fieldwork.own_partner_id}\"" not in html
    assert own_name not in html.split('class="ratings"', 1)[1]

    # A forged rating of the respondent's own partner is ignored, not stored.
    answer_pages(client, fieldwork, start=1, value=4)
    forged = {f"r_mitra_komitmen__{fieldwork.own_partner_id}": "5", "action": "next",
              **page_answers(fieldwork, CLOSING_PAGE)}
    client.post(f"/r/page/{CLOSING_PAGE}", data=forged)
    client.post("/r/review")
    ratees = set(Reader(app).scalars(select(PartnerRating.ratee_partner_id)))
    assert ratees == set(fieldwork.other_partner_ids)
    expected = len(QUESTIONNAIRE.partner_ratings) * len(fieldwork.other_partner_ids)
    assert Reader(app).count(PartnerRating) == expected


def test_dont_know_is_stored_as_null(app):
    fieldwork = arrange(app)
    result = complete_flow(app.test_client(), fieldwork, fieldwork.codes[0],
                           dont_know=("kes1", "tra2", "mitra_terbuka"))
    assert result.status_code == 303
    answers = {a.item_id: a.value for a in Reader(app).scalars(select(Answer))}
    assert answers["kes1"] is None and answers["tra2"] is None
    assert answers["kes2"] == 4
    ratings = list(Reader(app).scalars(
        select(PartnerRating).where(PartnerRating.item_id == "mitra_terbuka")))
    assert ratings and all(r.value is None for r in ratings)
    assert Reader(app).scalar(select(Answer).where(Answer.value.is_(None))
                             .where(Answer.item_id == "kes1")) is not None


def test_dont_know_is_shown_on_the_review_page(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    client.post("/r/page/1", data={**page_answers(fieldwork, 1, dont_know=("kes1",)),
                                   "action": "next"})
    review = client.get("/r/review").get_data(as_text=True)
    assert "Tidak tahu" in review
    assert "Not answered yet (required)" in review or "wajib" in review.lower()


def test_required_items_are_enforced_with_messages(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    client.post("/r/language", data={"language": "en"})
    response = client.post("/r/page/1", data={"q_kes1": "3", "action": "next"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S).group(0)
    missing = [item.id for item in QUESTIONNAIRE.dimensions[0].items if item.id != "kes1"]
    for item_id in missing:
        assert f'href="#q_{item_id}-0"' in summary
        assert f'id="q_{item_id}-error"' in html
        assert f'aria-describedby="q_{item_id}-error"' in html
    assert 'href="#q_kes1-0"' not in summary
    assert "Please choose an answer for this statement." in html
    assert _checked(html, "q_kes1") == "3", "the given answer stays selected"
    assert _draft(app, fieldwork.codes[0]).data["answers"] == {"kes1": 3}


def test_optional_questions_may_be_skipped(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    for number in range(1, DIMENSION_PAGES + 1):
        client.post(f"/r/page/{number}", data={**page_answers(fieldwork, number),
                                               "action": "next"})
    response = client.post(f"/r/page/{CLOSING_PAGE}", data={"action": "next"})
    assert response.status_code == 303 and response.location.endswith("/r/review")
    assert client.post("/r/review").location.endswith("/r/thanks")
    assert Reader(app).count(PartnerRating) == 0
    assert Reader(app).count(OpenAnswer) == 0
    assert Reader(app).count(Answer) == len(QUESTIONNAIRE.items)


def test_back_and_save_keep_partial_answers(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    back = client.post("/r/page/2", data={"q_tra1": "1", "action": "back"})
    assert back.status_code == 303 and back.location.endswith("/r/page/1")
    draft = _draft(app, fieldwork.codes[0])
    assert draft.data["answers"] == {"tra1": 1} and draft.page == 1
    to_intro = client.post("/r/page/1", data={"action": "back"})
    assert to_intro.location.endswith("/r/about")
    assert _checked(client.get("/r/page/2").get_data(as_text=True), "q_tra1") == "1"


def test_invalid_and_unknown_values_are_never_stored(app):
    fieldwork = arrange(app)
    client = english_client(app)
    enter_code(client, fieldwork.codes[0])
    data = {**page_answers(fieldwork, 1), "q_kes1": "9", "q_not_an_item": "3",
            "answers": "x", "action": "next"}
    response = client.post("/r/page/1", data=data)
    assert response.status_code == 422
    assert "Please choose one of the answers shown." in response.get_data(as_text=True)
    saved = _draft(app, fieldwork.codes[0]).data["answers"]
    assert "kes1" not in saved and "not_an_item" not in saved
    assert saved["kes2"] == 4


def test_open_answer_length_is_capped(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    limit = QUESTIONNAIRE.open_question("terbuka_perbaikan").max_length
    response = client.post(f"/r/page/{CLOSING_PAGE}",
                           data={"t_terbuka_perbaikan": "x" * (limit + 1), "action": "save"})
    assert response.status_code == 422, "an over-long text is not silently dropped"
    assert "x" * (limit + 1) in response.get_data(as_text=True)
    draft = _draft(app, fieldwork.codes[0])
    assert "terbuka_perbaikan" not in draft.data["texts"]


def test_review_change_link_returns_to_review(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    answer_pages(client, fieldwork)
    review = client.get("/r/review").get_data(as_text=True)
    assert 'href="/r/page/2?review=1"' in review
    for item in QUESTIONNAIRE.dimensions[1].items:
        assert item.text.get("id") in review
    page2 = client.get("/r/page/2?review=1").get_data(as_text=True)
    assert 'name="review" value="1"' in page2
    back = client.post("/r/page/2", data={**page_answers(fieldwork, 2, value=1), "review": "1",
                                          "action": "next"})
    assert back.location.endswith("/r/review")


def test_submit_with_a_required_gap_goes_back_to_that_page(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    for number in (1, 2, 4, CLOSING_PAGE):
        client.post(f"/r/page/{number}", data={**page_answers(fieldwork, number),
                                               "action": "save"})
    review = client.get("/r/review").get_data(as_text=True)
    assert 'href="/r/page/3?check=1&amp;review=1"' in review
    response = client.post("/r/review")
    assert response.status_code == 303 and "/r/page/3?check=1" in response.location
    page3 = client.get(response.location).get_data(as_text=True)
    assert 'class="error-summary"' in page3
    assert Reader(app).count(Response) == 0
    assert Reader(app).code_uses(fieldwork.round_id)[0] == 0


def test_partner_link_respondents_get_resume_codes(app):
    fieldwork = arrange(app, codes=0, link_uses=10)
    first = app.test_client()
    response = first.get(f"/l/{fieldwork.link}")
    assert response.status_code == 303 and fieldwork.link not in response.location
    about = first.get("/r/about").get_data(as_text=True)
    resume_code = re.search(r'<strong class="code">([A-Z0-9]{4})-([A-Z0-9]{4})</strong>', about)
    assert resume_code is not None
    resume_code = resume_code.group(1) + resume_code.group(2)
    first.post("/r/page/1", data={**page_answers(fieldwork, 1, value=1), "action": "next"})

    # Back on another device through the same link: a new resume code unless one is entered.
    second = app.test_client()
    second.get(f"/l/{fieldwork.link}")
    wrong = second.post("/r/resume", data={"resume_code": "AAAA-AAAA"})
    assert wrong.status_code == 422
    right = second.post("/r/resume", data={"resume_code": resume_code.lower()})
    assert right.status_code == 303 and right.location.endswith("/r/page/2")
    answer_pages(second, fieldwork, start=2)
    assert second.post("/r/review").location.endswith("/r/thanks")

    # A colleague uses the same link independently.
    assert complete_flow_via_link(app, fieldwork).status_code == 303
    assert Reader(app).count(Response) == 2
    assert Reader(app).code_uses(fieldwork.round_id) == [2]
    assert Reader(app).count(Draft) == 0
    kes1 = sorted(v for v in Reader(app).scalars(
        select(Answer.value).where(Answer.item_id == "kes1")))
    assert kes1 == [1, 4]


def complete_flow_via_link(app, fieldwork):
    client = app.test_client()
    client.get(f"/l/{fieldwork.link}")
    answer_pages(client, fieldwork)
    return client.post("/r/review")


def test_looking_a_code_up_never_uses_it(app):
    fieldwork = arrange(app, link_uses=2)
    client = app.test_client()
    for _ in range(3):
        assert client.get(f"/r/{fieldwork.codes[0]}").status_code == 303
        assert client.get(f"/l/{fieldwork.link}").status_code == 303
        assert client.get("/r/page/1").status_code == 200
    assert Reader(app).code_uses(fieldwork.round_id) == [0, 0, 0, 0]
    assert Reader(app).count(Draft) == 0


def test_respondent_pages_are_not_cached_and_keep_referrers_on_the_site(app):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    for url in ("/r", "/r/language", "/r/about", "/r/page/1", "/r/review"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        assert response.headers["Referrer-Policy"] == "same-origin", url


def test_front_page_offers_code_entry(client, app):
    fieldwork = arrange(app)
    html = client.get("/").get_data(as_text=True)
    assert 'action="/r"' in html and 'name="code"' in html
    response = client.post("/r", data={"code": fieldwork.codes[0]})
    assert response.status_code == 303


def test_access_code_row_only_learns_it_was_used(app):
    fieldwork = arrange(app)
    before = {c.id: (c.code_hash, c.kind, c.max_uses, c.batch, c.created_at)
              for c in Reader(app).scalars(select(AccessCode))}
    complete_flow(app.test_client(), fieldwork, fieldwork.codes[2])
    after = {c.id: (c.code_hash, c.kind, c.max_uses, c.batch, c.created_at)
             for c in Reader(app).scalars(select(AccessCode))}
    assert before == after
    assert Reader(app).code_uses(fieldwork.round_id) == [0, 0, 1]


class _Structure(HTMLParser):
    """Collect what the accessibility checks need from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.radios: list[tuple[str, bool]] = []  # (id, inside a fieldset with a legend?)
        self.labels: set[str] = set()
        self.legend_fieldsets = 0
        self.fieldsets = 0
        self.textareas: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "style" in attributes or tag == "script" or any(a.startswith("on") for a in attributes):
            self.inline.append(tag)
        if tag == "fieldset":
            self.fieldsets += 1
        if tag == "legend" and self.stack and self.stack[-1] == "fieldset":
            self.legend_fieldsets += 1
        if tag == "label" and "for" in attributes:
            self.labels.add(attributes["for"])
        if tag == "input" and attributes.get("type") == "radio":
            self.radios.append((attributes.get("id", ""), "fieldset" in self.stack))
        if tag == "textarea":
            self.textareas.append(attributes.get("id", ""))
        if tag not in {"input", "br", "meta", "link", "img", "hr"}:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass


@pytest.mark.parametrize("number", [1, CLOSING_PAGE])
def test_pages_are_accessible_without_javascript(app, number):
    fieldwork = arrange(app)
    client = app.test_client()
    enter_code(client, fieldwork.codes[0])
    parser = _Structure()
    parser.feed(client.get(f"/r/page/{number}").get_data(as_text=True))
    assert parser.radios, "the page has radio groups"
    assert all(radio_id and in_fieldset for radio_id, in_fieldset in parser.radios)
    assert {radio_id for radio_id, _ in parser.radios} <= parser.labels, "every radio labelled"
    assert set(parser.textareas) <= parser.labels
    assert parser.fieldsets == parser.legend_fieldsets, "every fieldset starts with a legend"
    assert parser.inline == [], "no inline scripts, styles or handlers (CSP)"
