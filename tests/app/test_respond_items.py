"""The item-type registry, the page plan and the small rules behind the respondent flow."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from app.models import Answer, OpenAnswer, PartnerRating, Round
from app.questionnaires import ScalePoint, Text
from app.respond.forms import apply_input, make_page_form, read_page
from app.respond.items import (
    ITEM_TYPES,
    MISSING,
    AnswerSheet,
    ChoiceQuestion,
    LikertQuestion,
    MetaPerceptionQuestion,
    PartnerRatingQuestion,
    StorageContext,
    TextQuestion,
)
from app.respond.pages import Page, plan_pages
from app.respond.privacy import comment_threshold
from app.services.submissions import submission_date
from tests.app.respond_helpers import QUESTIONNAIRE

CONTEXT = StorageContext(round_id=7, partner_id=3, language="en")
OPTIONS = (ScalePoint(10, Text.of({"id": "Pagi", "en": "Morning"})),
           ScalePoint(20, Text.of({"id": "Sore", "en": "Afternoon"})))


def test_registry_has_one_class_per_item_type():
    expected = {"likert": LikertQuestion, "choice": ChoiceQuestion, "text": TextQuestion,
                "partner_rating": PartnerRatingQuestion,
                "meta_perception": MetaPerceptionQuestion}
    assert expected == ITEM_TYPES


def test_choice_question_validates_and_stores_its_options(app):
    question = ChoiceQuestion("waktu", Text.of({"id": "Kapan?", "en": "When?"}), OPTIONS)
    page = Page(1, None, likert=(question,))
    with app.test_request_context(method="POST"):
        good = read_page(page, make_page_form(page, "en", formdata=MultiDict({"q_waktu": "20"})))
        bad = read_page(page, make_page_form(page, "en", formdata=MultiDict({"q_waktu": "15"})))
        none = read_page(page, make_page_form(page, "en", formdata=MultiDict({})))
        assert question.describe(20, "en") == "Afternoon"
    assert good.values == {"q_waktu": 20} and good.complete
    assert bad.invalid == ["q_waktu"] and bad.values == {}
    assert none.missing == ["q_waktu"]
    assert question.choices("id") == [("10", "Pagi"), ("20", "Sore")], "no don't know"
    (row,) = question.rows(20, CONTEXT)
    assert isinstance(row, Answer) and (row.item_id, row.value) == ("waktu", 20)
    assert question.rows(MISSING, CONTEXT) == []


def test_likert_dont_know_is_none_and_stored_as_null():
    item = QUESTIONNAIRE.item("kes1")
    question = LikertQuestion(item, QUESTIONNAIRE.scale(item.scale))
    assert question.choices("id")[-1] == ("dk", "Tidak tahu")
    assert question.value_from("dk") is None
    assert question.form_value(None) == "dk"
    (row,) = question.rows(None, CONTEXT)
    assert row.value is None


def test_rating_and_text_rows_go_to_their_own_tables():
    rating = QUESTIONNAIRE.partner_ratings[0]
    row_question = PartnerRatingQuestion(rating, QUESTIONNAIRE.scale(rating.scale), 42, "Mitra")
    (rating_row,) = row_question.rows(5, CONTEXT)
    assert isinstance(rating_row, PartnerRating)
    assert (rating_row.item_id, rating_row.ratee_partner_id, rating_row.value) == \
        (rating.id, 42, 5)
    text_question = TextQuestion(QUESTIONNAIRE.open_questions[0])
    (open_row,) = text_question.rows("Bagus", CONTEXT)
    assert isinstance(open_row, OpenAnswer)
    assert (open_row.round_id, open_row.partner_id, open_row.language, open_row.text) == \
        (7, 3, "en", "Bagus")
    assert not hasattr(open_row, "response_id")


def test_answer_sheet_round_trips_and_drops_malformed_entries():
    sheet = AnswerSheet({"kes1": 3, "kes2": None}, {"mitra_terbuka": {"4": 2}}, {"t": "x"})
    assert AnswerSheet.from_json(sheet.to_json()) == sheet
    junk = {"answers": {"a": "3", "b": True, "c": 2}, "ratings": {"r": {"1": "x"}, "s": []},
            "texts": {"t": 5, "u": "ok"}}
    assert AnswerSheet.from_json(junk) == AnswerSheet({"c": 2}, {}, {"u": "ok"})
    assert AnswerSheet.from_json(None) == AnswerSheet()


def test_clearing_an_open_answer_removes_it_from_the_draft(app):
    plan = plan_pages(QUESTIONNAIRE, [(1, "A"), (2, "B")], own_partner_id=1)
    closing = plan.pages[-1]
    sheet = AnswerSheet(texts={"terbuka_berjalan_baik": "lama"})
    with app.test_request_context(method="POST"):
        form = make_page_form(closing, "id",
                              formdata=MultiDict({"t_terbuka_berjalan_baik": "   "}))
        apply_input(closing, sheet, read_page(closing, form))
    assert sheet.texts == {}


def test_plan_has_a_page_per_dimension_and_leaves_the_own_partner_out():
    plan = plan_pages(QUESTIONNAIRE, [(1, "Zeta"), (2, "alfa"), (3, "Beta")], own_partner_id=2)
    assert len(plan.pages) == len(QUESTIONNAIRE.dimensions) + 1
    assert plan.review_number == plan.steps == len(plan.pages) + 1
    ratees = [row.ratee_name for row in plan.pages[-1].rating_groups[0].rows]
    assert ratees == ["Beta", "Zeta"]
    alone = plan_pages(QUESTIONNAIRE, [(2, "alfa")], own_partner_id=2)
    assert alone.pages[-1].rating_groups == ()
    assert alone.pages[-1].open_questions, "the comments page stays"
    with pytest.raises(KeyError):
        plan.page(0)


def test_comment_threshold_is_never_below_eight_or_k():
    assert [comment_threshold(k) for k in (3, 5, 8, 12)] == [8, 8, 8, 12]
    with pytest.raises(ValueError):
        comment_threshold(0)


@pytest.mark.parametrize(("today", "opens", "expected"), [
    (date(2026, 11, 26), date(2026, 1, 1), date(2026, 11, 23)),  # Thursday -> its Monday
    (date(2026, 11, 23), None, date(2026, 11, 23)),  # a Monday stays
    (date(2026, 3, 4), date(2026, 3, 3), date(2026, 3, 3)),  # not before the round opened
])
def test_submission_date_is_the_week(today, opens, expected):
    assert submission_date(today, Round(opens_on=opens)) == expected
