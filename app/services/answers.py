"""The one place where stored answers become tidy DataFrames for ``analysis``."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Answer, OpenAnswer, PartnerRating, Response

ANSWER_COLUMNS = ["response_id", "round_id", "partner_id", "item_id", "value"]
RATING_COLUMNS = ["response_id", "round_id", "rater_partner_id", "ratee_partner_id", "item_id",
                  "value"]


def answers_frame(session: Session, round_ids: Sequence[int]) -> pd.DataFrame:
    """Load the closed answers of ``round_ids`` in one query (don't know -> NaN, dont_know True)."""
    rows = session.connection().execute(
        select(Answer.response_id, Response.round_id, Response.partner_id, Answer.item_id,
               Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.round_id.in_(list(round_ids)))
    ).all()
    return _frame(rows, ANSWER_COLUMNS)


def ratings_frame(session: Session, round_ids: Sequence[int]) -> pd.DataFrame:
    """Load partner-about-partner ratings: the rater is the responding partner."""
    rows = session.connection().execute(
        select(PartnerRating.response_id, Response.round_id, Response.partner_id,
               PartnerRating.ratee_partner_id, PartnerRating.item_id, PartnerRating.value)
        .join(Response, Response.id == PartnerRating.response_id)
        .where(Response.round_id.in_(list(round_ids)))
    ).all()
    return _frame(rows, RATING_COLUMNS)


def open_answers_frame(session: Session, round_ids: Sequence[int]) -> pd.DataFrame:
    rows = session.connection().execute(
        select(OpenAnswer.round_id, OpenAnswer.partner_id, OpenAnswer.question_id,
               OpenAnswer.language, OpenAnswer.text)
        .where(OpenAnswer.round_id.in_(list(round_ids)))
    ).all()
    return pd.DataFrame(rows, columns=["round_id", "partner_id", "question_id", "language",
                                       "text"])


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    # Transposing the rows first is several times faster than handing pandas Row objects.
    data = dict(zip(columns, zip(*rows, strict=True), strict=True)) if rows else {
        name: [] for name in columns}
    frame = pd.DataFrame({name: list(values) for name, values in data.items()},
                         columns=columns)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame["dont_know"] = frame["value"].isna().to_numpy(dtype=bool)
    frame["item_id"] = frame["item_id"].astype("category")
    return frame
