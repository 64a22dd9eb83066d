"""Erase the physical traces of arrival order when a round closes.

Response ids are random and no column stores a time, but the storage engine still remembers
order: PostgreSQL keeps rows in the heap in insertion order (``ctid``) and stamps each row with
the id of the transaction that wrote it (``xmin``), which a response shares with its open
answers and with the access-code row it used. Someone reading the raw database during a round
could use that to link them. Closing a round therefore rewrites the round's rows in random order
in one transaction, touches its access codes so they all carry the closing transaction's id,
and deletes drafts that can no longer be submitted.
"""

from __future__ import annotations

import random

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.models import AccessCode, Answer, Draft, OpenAnswer, PartnerRating, Response


def reshuffle_round(session: Session, round_id: int, *, rng: random.Random | None = None) -> None:
    """Rewrite the round's responses, answers and open answers in random physical order."""
    session.flush()
    shuffle = (rng or random.SystemRandom()).shuffle
    response_ids = select(Response.id).where(Response.round_id == round_id)
    tables = (
        (Response, Response.round_id == round_id),
        (Answer, Answer.response_id.in_(response_ids)),
        (PartnerRating, PartnerRating.response_id.in_(response_ids)),
    )
    saved = {}
    for model, condition in tables:
        rows = [dict(row._mapping) for row in session.execute(
            select(*model.__table__.columns).where(condition))]
        shuffle(rows)
        saved[model] = rows
    open_rows = [dict(row._mapping) for row in session.execute(
        select(*OpenAnswer.__table__.columns).where(OpenAnswer.round_id == round_id))]
    shuffle(open_rows)

    # Children first, then parents; re-insert parents first.
    for model, condition in reversed(tables):
        session.execute(delete(model).where(condition).execution_options(
            synchronize_session=False))
    session.execute(delete(OpenAnswer).where(OpenAnswer.round_id == round_id))
    for model, _ in tables:
        if saved[model]:
            session.execute(insert(model), saved[model])
    if open_rows:
        session.execute(insert(OpenAnswer), open_rows)

    session.execute(update(AccessCode).where(AccessCode.round_id == round_id)
                    .values(uses=AccessCode.uses).execution_options(synchronize_session=False))
    session.execute(delete(Draft).where(Draft.round_id == round_id))
    session.expire_all()
    session.flush()
