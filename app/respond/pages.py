"""The page plan of one respondent: one page per dimension, then partners and comments.

The plan depends on the round (its questionnaire and participating partners) and on the
respondent's own partner, which is never offered for rating. The same plan is rebuilt on every
request and again at submission, so what is stored is checked against what was asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from threading import Lock

from flask_babel import gettext

from app.models import QuestionnaireVersion
from app.questionnaires import Dimension, PartnerRatingItem, Questionnaire, Scale
from app.respond.items import (
    MISSING,
    AnswerSheet,
    LikertQuestion,
    MetaPerceptionQuestion,
    PartnerRatingQuestion,
    Question,
    TextQuestion,
)


@dataclass(frozen=True)
class RatingGroup:
    """One partner-rating statement with a row for every other participating partner."""

    item: PartnerRatingItem
    scale: Scale
    rows: tuple[PartnerRatingQuestion, ...]


@dataclass(frozen=True)
class Page:
    number: int
    dimension: Dimension | None
    rating_groups: tuple[RatingGroup, ...] = ()
    open_questions: tuple[TextQuestion, ...] = ()
    likert: tuple[LikertQuestion, ...] = ()
    # "How do the other partners rate it?" about this page's dimension or its items.
    meta: tuple[MetaPerceptionQuestion, ...] = ()

    @property
    def questions(self) -> tuple[Question, ...]:
        ratings = tuple(row for group in self.rating_groups for row in group.rows)
        return (*self.likert, *self.meta, *ratings, *self.open_questions)

    def heading(self, lang: str) -> str:
        if self.dimension is not None:
            return self.dimension.title.get(lang)
        if self.rating_groups and self.open_questions:
            return gettext("Other partners and your comments")
        if self.rating_groups:
            return gettext("Other partners")
        return gettext("Your comments")

    def unanswered_required(self, sheet: AnswerSheet) -> list[Question]:
        return [q for q in self.questions if q.required and q.read(sheet) is MISSING]


@dataclass(frozen=True)
class PagePlan:
    questionnaire: Questionnaire
    pages: tuple[Page, ...]

    @property
    def review_number(self) -> int:
        """The review page comes after the last questionnaire page."""
        return len(self.pages) + 1

    @property
    def steps(self) -> int:
        """Pages shown in the progress indicator, the review page included."""
        return self.review_number

    def page(self, number: int) -> Page:
        if not 1 <= number <= len(self.pages):
            raise KeyError(f"no page {number}; this plan has pages 1 to {len(self.pages)}")
        return self.pages[number - 1]

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for page in self.pages for q in page.questions)

    def first_incomplete(self, sheet: AnswerSheet) -> Page | None:
        """The first page with a required question still unanswered, or None."""
        for page in self.pages:
            if page.unanswered_required(sheet):
                return page
        return None

    def clamp(self, number: int) -> int:
        """A page number a respondent may be sent to (review included)."""
        return min(max(number, 1), self.review_number)


def plan_pages(questionnaire: Questionnaire, partners: Iterable[tuple[int, str]],
               own_partner_id: int) -> PagePlan:
    """Lay out the pages for a respondent of ``own_partner_id``.

    ``partners`` are (id, name) of the round's participating partners; the respondent's own
    partner is left out of every rating, so nobody rates their own organisation.
    """
    pages: list[Page] = []
    others = sorted(((pid, name) for pid, name in partners if pid != own_partner_id),
                    key=lambda pair: pair[1].casefold())
    for dimension in questionnaire.dimensions:
        likert = tuple(LikertQuestion(item, questionnaire.scale(item.scale))
                       for item in dimension.items)
        # Predicting the other partners' view needs other partners taking part.
        meta = tuple(
            MetaPerceptionQuestion(m, questionnaire.scale(m.scale))
            for m in questionnaire.meta_perceptions_on(dimension.id)
        ) if others else ()
        pages.append(Page(len(pages) + 1, dimension, likert=likert, meta=meta))
    groups = tuple(
        RatingGroup(
            item,
            questionnaire.scale(item.scale),
            tuple(PartnerRatingQuestion(item, questionnaire.scale(item.scale), pid, name)
                  for pid, name in others),
        )
        for item in questionnaire.partner_ratings
    ) if others else ()
    open_questions = tuple(TextQuestion(q) for q in questionnaire.open_questions)
    if groups or open_questions:
        pages.append(Page(len(pages) + 1, None, rating_groups=groups,
                          open_questions=open_questions))
    return PagePlan(questionnaire, tuple(pages))


_cache: dict[tuple[int, str], Questionnaire] = {}
_cache_lock = Lock()
_CACHE_SIZE = 32
_plans: dict[tuple[object, ...], PagePlan] = {}
_PLANS_SIZE = 512


def questionnaire_of(version: QuestionnaireVersion) -> Questionnaire:
    """Rebuild (and remember) the domain questionnaire of an immutable stored version.

    Validating a snapshot costs milliseconds and every respondent request needs it; versions
    never change, and the content hash in the key guards against a replaced row.
    """
    key = (version.id, version.content_hash)
    found = _cache.get(key)
    if found is not None:
        return found
    questionnaire = Questionnaire.from_dict(version.definition)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[key] = questionnaire
    return questionnaire


def plan_of(version: QuestionnaireVersion, partners: Iterable[tuple[int, str]],
            own_partner_id: int) -> PagePlan:
    """The page plan of :func:`plan_pages`, remembered for the next request of the same kind.

    A plan depends only on the immutable version, the round's partners (id and name) and the
    respondent's partner, so every respondent of one partner in one round shares it; building
    it again on each of their requests cost more than the page's queries. Pages and their
    questions are immutable, so sharing them across threads is safe.
    """
    partner_list = tuple(partners)
    key = (version.id, version.content_hash, partner_list, own_partner_id)
    found = _plans.get(key)
    if found is not None:
        return found
    plan = plan_pages(questionnaire_of(version), partner_list, own_partner_id)
    with _cache_lock:
        if len(_plans) >= _PLANS_SIZE:
            _plans.clear()
        _plans[key] = plan
    return plan
