"""Rounds with stored answers for the export, API and CLI tests (built on staff_helpers)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from flask import Flask
from sqlalchemy.orm import Session

from app.db import new_session
from app.models import (
    Answer,
    OpenAnswer,
    PartnerRating,
    Response,
    Round,
    RoundStatus,
)
from app.services.results import round_results_for
from tests.app.staff_helpers import World, build_world, db

# The staff test questionnaire (staff_helpers.BILINGUAL_YAML): items on a 1-4 scale with
# "don't know", one open question and one rating of other partners.
ITEMS = ("kes1", "kes2", "tra1")
OPEN_QUESTION = "saran"
RATING = "komitmen"


@dataclass
class ResultsWorld:
    """The staff World plus a closed round of partnership A with answers."""

    world: World
    closed_round: int
    counts: dict[int, int]  # partner id -> responses in the closed round


def add_responses(session: Session, round_id: int, partner_id: int, n: int, *,
                  others: Sequence[int] = (), comments: Sequence[str] = (),
                  dont_know_every: int = 0, seed: int = 0) -> list[str]:
    """Store ``n`` web responses of one partner with varied answers; return their ids."""
    ids = []
    cycle = itertools.count(seed)
    for i in range(n):
        response = Response(round_id=round_id, partner_id=partner_id, language="id",
                            submitted_on=date(2026, 1, 5), source="web")
        for item in ITEMS:
            step = next(cycle)
            value = None if dont_know_every and step % dont_know_every == 0 else 1 + step % 4
            response.answers.append(Answer(item_id=item, value=value))
        for other in others:
            response.ratings.append(PartnerRating(item_id=RATING, ratee_partner_id=other,
                                                  value=1 + (i + other) % 4))
        session.add(response)
        session.flush()
        ids.append(response.id)
    for text in comments:
        session.add(OpenAnswer(round_id=round_id, partner_id=partner_id,
                               question_id=OPEN_QUESTION, language="id", text=text))
    session.flush()
    return ids


def build_results_world(app: Flask, counts: Sequence[int] = (20, 14, 3), *,
                        comments: Sequence[Sequence[str]] | None = None,
                        status: RoundStatus = RoundStatus.CLOSED,
                        dont_know_every: int = 7) -> ResultsWorld:
    """Partnership A (k = 5) gets a round whose partners answered ``counts`` times."""
    world = build_world(app)
    with db(app) as session:
        from app.models import Partnership

        partnership = session.get(Partnership, world.partnership)
        round_ = Round(partnership=partnership, name="Putaran tutup",
                       questionnaire_version_id=world.version, opens_on=date(2026, 1, 1),
                       closes_on=date(2026, 1, 31), status=status,
                       partners=list(partnership.partners))
        session.add(round_)
        session.flush()
        partner_ids = [p.id for p in partnership.partners]
        for index, (pid, n) in enumerate(zip(partner_ids, counts, strict=False)):
            texts = comments[index] if comments is not None else ()
            add_responses(session, round_.id, pid, n,
                          others=[p for p in partner_ids if p != pid], comments=texts,
                          dont_know_every=dont_know_every, seed=index)
        session.commit()
        return ResultsWorld(world, round_.id, dict(zip(partner_ids, counts, strict=False)))


@contextmanager
def reading(app: Flask) -> Iterator[Session]:
    """A read session (as GET requests have): computing results may publish a snapshot in a
    write of its own, which a write session holding SQLite's lock would block."""
    with app.app_context():
        session = new_session(write=False)
        try:
            yield session
        finally:
            session.close()


def snapshot_of(app: Flask, round_id: int) -> dict:
    with reading(app) as session:
        return round_results_for(session, session.get(Round, round_id))


def make_token(app: Flask, user_id: int, *, name: str = "skrip", expires_on: date | None = None,
               today: date | None = None) -> str:
    """Create a personal access token for a user directly; return the plain token."""
    from app.models import User
    from app.services.api_tokens import create_token

    with app.app_context():
        session = new_session()
        try:
            _, plain = create_token(session, session.get(User, user_id), name, expires_on,
                                    today or date.today())
            session.commit()
        finally:
            session.close()
    return plain


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
