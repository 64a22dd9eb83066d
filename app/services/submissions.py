"""Submitting a response: count the code's use, store the answers, drop the draft, at once.

Everything happens in the caller's one transaction, and nothing written links the response to
the code or the draft: the code only learns that it was used, the response gets a random id,
open answers get no response id at all, and the date is coarsened to the week.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import AccessCode, Answer, OpenAnswer, PartnerRating, Response, Round
from app.respond.items import AnswerSheet, StorageContext, StoredRow
from app.respond.pages import PagePlan, plan_of
from app.services.drafts import delete_draft, find_draft
from app.services.respondent_access import RespondentAccess, check_round_open


class AlreadySubmitted(Exception):
    """The code is used up or the draft is gone: a second click on Submit, or another tab."""


class Incomplete(Exception):
    """A required question is unanswered; ``page`` is the first page that needs attention."""

    def __init__(self, page: int) -> None:
        super().__init__(f"page {page} has unanswered required questions")
        self.page = page


def plan_for(round_: Round, partner_id: int) -> PagePlan:
    """The pages a respondent of ``partner_id`` sees in ``round_``."""
    partners = [(partner.id, partner.name) for partner in round_.partners]
    return plan_of(round_.questionnaire_version, partners, partner_id)


def submission_date(today: date, round_: Round) -> date:
    """The date stored on a response: the Monday of the week, never before the round opened.

    A day would already be coarse, but in a small partnership "the only response on the 14th"
    can be matched to who was seen answering that day. A week is still fine-grained enough
    for fieldwork progress, and no response can carry a date outside its round.
    """
    monday = today - timedelta(days=today.weekday())
    if round_.opens_on is not None and monday < round_.opens_on:
        return round_.opens_on
    return monday


def submit_response(session: Session, access: RespondentAccess, draft_key: str,
                    language: str, today: date) -> None:
    """Store the draft under ``draft_key`` as a response; flushes, the caller commits once.

    Raises AccessRefused when the round closed meanwhile, Incomplete when a required question
    is unanswered, and AlreadySubmitted when the code is used up or the draft is gone. The
    caller must roll back on any of them.
    """
    round_ = access.round
    partner_id = access.partner.id
    check_round_open(round_, partner_id, today, kind=access.code.kind)
    draft = find_draft(session, draft_key)
    if draft is None or draft.round_id != round_.id or draft.partner_id != partner_id:
        raise AlreadySubmitted()
    plan = plan_for(round_, partner_id)
    sheet = AnswerSheet.from_json(draft.data)
    incomplete = plan.first_incomplete(sheet)
    if incomplete is not None:
        raise Incomplete(incomplete.number)

    # (1) Count the use; the condition makes a concurrent second submit find nothing to do.
    counted = session.execute(
        update(AccessCode)
        .where(AccessCode.id == access.code.id, AccessCode.uses < AccessCode.max_uses)
        .values(uses=AccessCode.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount != 1:
        raise AlreadySubmitted()
    # (2) Drop the draft. For a partner link (many uses) this is what stops a double click:
    # the second transaction waits for the first and then finds no draft to delete.
    if not delete_draft(session, draft_key):
        raise AlreadySubmitted()
    # (3) Store the answers; open answers stand alone, with no key back to the response.
    _store(session, plan, sheet, StorageContext(round_.id, partner_id, language),
           submission_date(today, round_))
    # (4) Cached results of the round are now stale.
    mark_results_stale(session, round_.id)
    session.flush()


def mark_results_stale(session: Session, round_id: int) -> None:
    """Bump the round's results version, so cached results and charts are rebuilt."""
    session.execute(
        update(Round)
        .where(Round.id == round_id)
        .values(results_version=Round.results_version + 1)
        .execution_options(synchronize_session=False)
    )


def attach_rows(response: Response, rows: Iterable[StoredRow]) -> list[OpenAnswer]:
    """Hang answers and ratings on ``response``; return the open answers, which stand alone."""
    open_answers: list[OpenAnswer] = []
    for row in rows:
        if isinstance(row, Answer):
            response.answers.append(row)
        elif isinstance(row, PartnerRating):
            response.ratings.append(row)
        else:
            open_answers.append(row)
    return open_answers


def _store(session: Session, plan: PagePlan, sheet: AnswerSheet, context: StorageContext,
           submitted_on: date) -> None:
    response = Response(round_id=context.round_id, partner_id=context.partner_id,
                        language=context.language, submitted_on=submitted_on, source="web")
    open_answers: list[OpenAnswer] = []
    for question in plan.questions:
        open_answers += attach_rows(response, question.rows(question.read(sheet), context))
    session.add(response)
    session.add_all(open_answers)
