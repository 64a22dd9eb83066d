"""The one place where stored answers become tidy DataFrames for ``analysis``."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import Answer, OpenAnswer, PartnerRating, Response

ANSWER_COLUMNS = ["response_id", "round_id", "partner_id", "item_id", "value"]
RATING_COLUMNS = ["response_id", "round_id", "rater_partner_id", "ratee_partner_id", "item_id",
                  "value"]
_STRING_COLUMNS = {"response_id", "item_id"}


def answers_frame(session: Session, round_ids: Sequence[int]) -> pd.DataFrame:
    """Load the closed answers of ``round_ids`` in one query (don't know -> NaN, dont_know True)."""
    columns = _columns(session, ANSWER_COLUMNS, (
        select(Answer.response_id, Response.round_id, Response.partner_id, Answer.item_id,
               Answer.value)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.round_id.in_(list(round_ids)))
    ))
    return _frame(columns, ANSWER_COLUMNS)


def ratings_frame(session: Session, round_ids: Sequence[int]) -> pd.DataFrame:
    """Load partner-about-partner ratings: the rater is the responding partner."""
    columns = _columns(session, RATING_COLUMNS, (
        select(PartnerRating.response_id, Response.round_id, Response.partner_id,
               PartnerRating.ratee_partner_id, PartnerRating.item_id, PartnerRating.value)
        .join(Response, Response.id == PartnerRating.response_id)
        .where(Response.round_id.in_(list(round_ids)))
    ))
    return _frame(columns, RATING_COLUMNS)


def open_answers_frame(session: Session, round_ids: Sequence[int]) -> pd.DataFrame:
    rows = session.connection().execute(
        select(OpenAnswer.round_id, OpenAnswer.partner_id, OpenAnswer.question_id,
               OpenAnswer.language, OpenAnswer.text)
        .where(OpenAnswer.round_id.in_(list(round_ids)))
    ).all()
    return pd.DataFrame(rows, columns=["round_id", "partner_id", "question_id", "language",
                                       "text"])


def _columns(session: Session, names: list[str], statement: Select[Any]) -> dict[str, tuple]:
    """The columns of a large result, as tuples straight from the database driver.

    Every column selected here is a plain integer or string that needs no result processing,
    so SQLAlchemy's Row objects are skipped: for the half a million answers of five rounds
    they cost more than the query itself. The garbage collector is paused while the rows are
    fetched and transposed; it would otherwise walk the heap again and again as hundreds of
    thousands of new tuples appear, none of which can be garbage.
    """
    result = session.connection().execute(statement)
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows = result.cursor.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        del rows
    finally:
        if collecting:
            gc.enable()
        result.close()
    return dict(zip(names, columns, strict=True))


def _frame(columns: dict[str, tuple], names: list[str]) -> pd.DataFrame:
    """One answer per row: ids as integers, ``value`` as float with NaN for don't know."""
    data: dict[str, Any] = {}
    if not columns[names[0]]:
        # No rows: the empty frame the analysis has always been given.
        frame = pd.DataFrame({name: [] for name in names}, columns=names)
        frame["value"] = frame["value"].astype(float)
        frame["dont_know"] = frame["value"].isna().to_numpy(dtype=bool)
        frame["item_id"] = frame["item_id"].astype("category")
        return frame
    for name in names:
        values = columns[name]
        if name == "value":
            # None (don't know) becomes NaN in the conversion itself.
            data[name] = np.array(values, dtype=float)
        elif name in _STRING_COLUMNS:
            data[name] = pd.array(values, dtype="str")
        else:
            data[name] = np.array(values, dtype=np.int64)
    frame = pd.DataFrame(data, columns=names)
    frame["dont_know"] = np.isnan(frame["value"].to_numpy())
    frame["item_id"] = frame["item_id"].astype("category")
    return frame
