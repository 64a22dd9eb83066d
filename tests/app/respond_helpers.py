"""Arrange rounds with codes and walk respondents through the flow with the test client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import new_session
from app.models import AccessCode, Partner, RoundStatus
from app.questionnaires import Questionnaire, load_questionnaire
from app.services.access_codes import issue_codes, issue_link
from tests.factories import BUNDLED, make_partnership, make_round

QUESTIONNAIRE: Questionnaire = load_questionnaire(BUNDLED / "kemitraan-sehat.v1.yaml")
DIMENSION_PAGES = len(QUESTIONNAIRE.dimensions)
CLOSING_PAGE = DIMENSION_PAGES + 1


@dataclass
class Fieldwork:
    """A round of the bundled questionnaire with codes for its first partner."""

    round_id: int
    partnership_id: int
    own_partner_id: int
    partner_ids: dict[str, int]
    codes: list[str] = field(default_factory=list)
    link: str | None = None

    @property
    def other_partner_ids(self) -> list[int]:
        return [pid for pid in self.partner_ids.values() if pid != self.own_partner_id]


@contextmanager
def writing(app: Flask) -> Iterator[Session]:
    """A short write session for arranging data; commits on leaving.

    Tests here avoid the shared ``db_session`` fixture: it keeps an app context pushed for the
    whole test, and Flask then reuses that context (``g`` and the request's database session)
    for every test-client request, which is not how requests run in production.
    """
    with app.app_context():
        session = new_session()
        try:
            yield session
            session.commit()
        finally:
            session.close()


def arrange(app: Flask, *, codes: int = 3, link_uses: int | None = None,
            status: RoundStatus = RoundStatus.OPEN, k: int = 5,
            opens_on: date | None = date(2020, 1, 1),
            closes_on: date | None = date(2099, 12, 31),
            default_language: str = "id") -> Fieldwork:
    """A committed round (open by default) with ``codes`` single codes for partner one."""
    with writing(app) as session:
        return _arrange(session, codes=codes, link_uses=link_uses, status=status, k=k,
                        opens_on=opens_on, closes_on=closes_on,
                        default_language=default_language)


def _arrange(db_session: Session, *, codes: int, link_uses: int | None, status: RoundStatus,
             k: int, opens_on: date | None, closes_on: date | None,
             default_language: str) -> Fieldwork:
    partnership = make_partnership(db_session, k=k)
    partnership.default_language = default_language
    round_ = make_round(db_session, partnership, status=status)
    round_.opens_on, round_.closes_on = opens_on, closes_on
    own = partnership.partners[0]
    plain = issue_codes(db_session, round_.id, own.id, codes) if codes else []
    token = issue_link(db_session, round_.id, own.id, link_uses) if link_uses else None
    db_session.commit()
    return Fieldwork(round_.id, partnership.id, own.id,
                     {p.name: p.id for p in partnership.partners}, plain, token)


def page_answers(fieldwork: Fieldwork, number: int, *, value: int = 4,
                 dont_know: tuple[str, ...] = (), texts: dict[str, str] | None = None,
                 skip: tuple[str, ...] = ()) -> dict[str, str]:
    """The form post that answers every question of page ``number``."""
    if number <= DIMENSION_PAGES:
        items = QUESTIONNAIRE.dimensions[number - 1].items
        return {f"q_{item.id}": ("dk" if item.id in dont_know else str(value))
                for item in items if item.id not in skip}
    data = {}
    for rating in QUESTIONNAIRE.partner_ratings:
        for pid in fieldwork.other_partner_ids:
            if rating.id in skip:
                continue
            data[f"r_{rating.id}__{pid}"] = "dk" if rating.id in dont_know else str(value)
    for question_id, text in (texts or {}).items():
        data[f"t_{question_id}"] = text
    return data


def choose_language(client: FlaskClient, lang: str = "en") -> FlaskClient:
    """Switch the interface language as a visitor does, with the header's language form.

    The choice lives in the session (``session["lang"]``), so it holds for the whole flow
    unless the respondent picks another questionnaire language. The form's CSRF token is
    sent too, so this also works where CSRF protection is on.
    """
    page = client.get("/").get_data(as_text=True)
    response = client.post("/language", data={"lang": lang, "next": "/",
                                              "csrf_token": csrf_token_from(page)})
    assert response.status_code == 302, (lang, response.status_code)
    return client


def english_client(app: Flask) -> FlaskClient:
    """A fresh browser that asked for English (the interface default is Indonesian)."""
    return choose_language(app.test_client(), "en")


def enter_code(client: FlaskClient, code: str, **extra: str):
    return client.post("/r", data={"code": code, **extra})


def answer_pages(client: FlaskClient, fieldwork: Fieldwork, *, start: int = 1,
                 value: int = 4, texts: dict[str, str] | None = None,
                 dont_know: tuple[str, ...] = ()) -> None:
    """Answer pages ``start``..last with Next, checking each step moves on."""
    for number in range(start, CLOSING_PAGE + 1):
        data = page_answers(fieldwork, number, value=value, dont_know=dont_know,
                            texts=texts if number == CLOSING_PAGE else None)
        response = client.post(f"/r/page/{number}", data={**data, "action": "next"})
        assert response.status_code == 303, (number, response.status_code,
                                             response.get_data(as_text=True)[:2000])


def complete_flow(client: FlaskClient, fieldwork: Fieldwork, code: str, *,
                  lang: str = "id", value: int = 4, texts: dict[str, str] | None = None,
                  dont_know: tuple[str, ...] = ()):
    """Enter a code, choose a language, answer every page, submit; return the last response."""
    response = enter_code(client, code)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    response = client.post("/r/language", data={"language": lang})
    assert response.status_code == 303
    answer_pages(client, fieldwork, value=value, texts=texts, dont_know=dont_know)
    return client.post("/r/review")


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if match is None:
        raise AssertionError("no CSRF token on the page")
    return match.group(1)


class Reader:
    """Inspect the database in short read-only sessions.

    A long-lived session would keep a transaction open between requests, which on SQLite
    blocks the app's ``BEGIN IMMEDIATE`` and on both databases hides later commits. Returned
    objects are detached, with their columns loaded.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def run(self, work: Callable[[Session], Any]) -> Any:
        with self.app.app_context():
            session = new_session(write=False)
            try:
                return work(session)
            finally:
                session.expunge_all()  # detach before the rollback would expire them
                session.close()

    def scalars(self, statement) -> list[Any]:
        return self.run(lambda s: list(s.scalars(statement)))

    def scalar(self, statement) -> Any:
        return self.run(lambda s: s.scalar(statement))

    def get(self, model, key) -> Any:
        return self.run(lambda s: s.get(model, key))

    def count(self, model, *conditions) -> int:
        query = select(func.count()).select_from(model)
        for condition in conditions:
            query = query.where(condition)
        return self.scalar(query)

    def code_uses(self, round_id: int) -> list[int]:
        return self.scalars(select(AccessCode.uses).where(AccessCode.round_id == round_id)
                            .order_by(AccessCode.id))

    def partner_name(self, partner_id: int) -> str:
        return self.get(Partner, partner_id).name
