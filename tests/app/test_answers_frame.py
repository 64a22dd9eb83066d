"""The frames the analysis reads are exactly the stored answers, read the slow, obvious way.

``app.services.answers`` reads straight from the database driver for speed; here the same
rows are rebuilt from the ORM objects, one by one, and the frames must hold the same rows,
values, don't-know flags and column types, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.models import Response, Round
from app.services.answers import (
    ANSWER_COLUMNS,
    RATING_COLUMNS,
    answers_frame,
    ratings_frame,
)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def _expected(db_session, round_ids: list[int]) -> tuple[list[tuple], list[tuple]]:
    answers, ratings = [], []
    responses = db_session.scalars(select(Response).where(Response.round_id.in_(round_ids)))
    for response in responses:
        for answer in response.answers:
            answers.append((response.id, response.round_id, response.partner_id,
                            answer.item_id, answer.value))
        for rating in response.ratings:
            ratings.append((response.id, response.round_id, response.partner_id,
                            rating.ratee_partner_id, rating.item_id, rating.value))
    return answers, ratings


def _check(frame: pd.DataFrame, rows: list[tuple], columns: list[str]) -> None:
    keys = [name for name in columns if name != "value"]
    got = _sorted(frame, keys)
    want = sorted(rows, key=lambda row: tuple(row[:-1]))
    assert len(got) == len(want) > 0
    assert list(got.columns) == [*columns, "dont_know"]
    for name in columns[1:-2]:
        assert got[name].dtype == np.int64, name
    assert got["value"].dtype == np.float64
    assert isinstance(got["item_id"].dtype, pd.CategoricalDtype)
    for index, row in enumerate(want):
        record = got.iloc[index]
        assert tuple(record[name] for name in keys) == tuple(row[:-1])
        if row[-1] is None:
            assert math.isnan(record["value"]) and record["dont_know"]
        else:
            assert record["value"] == float(row[-1]) and not record["dont_know"]


def test_answers_and_ratings_frames_hold_every_stored_value(runner, db_session):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    round_ids = list(db_session.scalars(select(Round.id)))
    expected_answers, expected_ratings = _expected(db_session, round_ids)
    assert any(row[-1] is None for row in expected_answers), "the demo has don't-knows"
    _check(answers_frame(db_session, round_ids), expected_answers, ANSWER_COLUMNS)
    _check(ratings_frame(db_session, round_ids), expected_ratings, RATING_COLUMNS)


def test_a_round_without_answers_gives_empty_frames_with_every_column(db_session):
    for frame, columns in ((answers_frame(db_session, [12345]), ANSWER_COLUMNS),
                           (ratings_frame(db_session, [12345]), RATING_COLUMNS)):
        assert frame.empty
        assert list(frame.columns) == [*columns, "dont_know"]
        assert frame["value"].dtype == np.float64
