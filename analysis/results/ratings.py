"""Ratings of partners by partners: the rater x ratee matrix and asymmetric pairs (rule 7)."""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from analysis import language
from analysis._checks import require_columns, require_frame, require_numeric
from analysis._common import py_scalar
from analysis.compare import mann_whitney
from analysis.multiple import adjust_pvalues
from analysis.results._inputs import _Config
from analysis.results._model import REASON_ANONYMITY, _jsonable
from analysis.results._state import _RoundState

__all__ = ["ASYMMETRY_MIN_POINTS"]

#: A rating pair is an asymmetry when one partner's mean rating of the other is at least this
#: many scale points below the other's rating of it: one whole answer step, a quarter of a 1-5
#: scale, large enough to be worth a conversation. The gap is a prompt, not a test result; the
#: row carries a Mann-Whitney p-value (Holm across all pairs shown) beside it.
ASYMMETRY_MIN_POINTS = 1.0
_RATING_COLUMNS = (
    "response_id",
    "round_id",
    "rater_partner_id",
    "ratee_partner_id",
    "item_id",
    "value",
)


def _check_ratings(ratings: pd.DataFrame, state: _RoundState, cfg: _Config) -> pd.DataFrame:
    require_frame(ratings, "ratings")
    require_columns(ratings, _RATING_COLUMNS, "ratings")
    require_numeric(ratings, ["value"], "ratings")
    frame = ratings.loc[ratings["round_id"] == state.round_id, list(_RATING_COLUMNS)]
    values = frame["value"].to_numpy(dtype=float)
    if np.isinf(values).any():
        raise ValueError("ratings column 'value' contains infinite values")
    partner_index = pd.Index(cfg.partner_ids)
    for column in ("rater_partner_id", "ratee_partner_id"):
        unknown = frame[column].loc[partner_index.get_indexer(pd.Index(frame[column])) < 0]
        if len(unknown):
            raise ValueError(f"ratings has {column}(s) not in partners: {unknown.unique()[:5]}")
    if frame.duplicated(["response_id", "ratee_partner_id", "item_id"]).any():
        raise ValueError("ratings has more than one rating by a response of a partner on an item")
    own = state.answers.drop_duplicates("response_id").set_index("response_id")["partner_id"]
    known = frame["response_id"].isin(own.index)
    mismatch = known & (
        frame["response_id"].map(own).to_numpy() != frame["rater_partner_id"].to_numpy()
    )
    if mismatch.any():
        rid = frame.loc[mismatch, "response_id"].iloc[0]
        raise ValueError(f"ratings gives response {rid!r} a rater partner other than its own")
    return frame


def _ratings_sections(
    ratings: pd.DataFrame | None, state: _RoundState, cfg: _Config
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rule 7: the rater x ratee matrix per rating item and the asymmetric pairs."""
    if ratings is None:
        return [], [], []
    frame = _check_ratings(ratings, state, cfg)
    notes = []
    own = frame["rater_partner_id"].to_numpy() == frame["ratee_partner_id"].to_numpy()
    if own.any():
        notes.append({"note": "self_ratings_dropped"})
        frame = frame.loc[~own]
    frame = frame.loc[frame["value"].notna()]
    hidden = dict(zip(state.partner_ids, state.hidden, strict=True))
    samples = {
        (py_scalar(key[0]), py_scalar(key[1]), py_scalar(key[2])): grp["value"].to_numpy(float)
        for key, grp in frame.groupby(
            ["item_id", "rater_partner_id", "ratee_partner_id"], sort=True, observed=True
        )
    }
    matrix: dict[Hashable, list[dict[str, Any]]] = {}
    shown: dict[tuple[Hashable, Hashable, Hashable], np.ndarray] = {}
    for (item, rater, ratee), values in samples.items():
        visible = not hidden[rater] and values.size >= cfg.k
        if visible:
            shown[(item, rater, ratee)] = values
        matrix.setdefault(item, []).append(
            {
                "rater_partner_id": rater,
                "ratee_partner_id": ratee,
                "n": values.size if visible else None,
                "mean": float(values.mean()) if visible else None,
                "suppressed": not visible,
                "reason": None if visible else REASON_ANONYMITY,
            }
        )
    candidates: list[dict[str, Any]] = []
    for (item, a, b), ab in shown.items():
        ba = shown.get((item, b, a))
        if ba is None or cfg.partner_ids.index(a) > cfg.partner_ids.index(b):
            continue  # each unordered pair once
        if ab.mean() > ba.mean():  # orient: A is the partner giving the lower rating
            a, b, ab, ba = b, a, ba, ab
        test = mann_whitney(ab, ba) if np.ptp(np.concatenate([ab, ba])) > 0 else None
        candidates.append(
            {
                "item_id": item,
                "rater": a,
                "ratee": b,
                "mean_ab": float(ab.mean()),
                "mean_ba": float(ba.mean()),
                "n_ab": int(ab.size),
                "n_ba": int(ba.size),
                "difference": float(ab.mean()) - float(ba.mean()),
                "p_value": math.nan if test is None else test.p_value,
                "rank_biserial": 0.0 if test is None else test.rank_biserial,
            }
        )
    adjusted = adjust_pvalues([c["p_value"] for c in candidates], method=cfg.p_adjust)
    asymmetries = []
    for row, p in zip(candidates, adjusted, strict=True):
        row["p_adjusted"] = float(p)
        if row["difference"] <= -ASYMMETRY_MIN_POINTS:
            label = cfg.label(row["item_id"])
            row["label"] = label
            row["sentence"] = language.rating_asymmetry_sentence(row, label, cfg.names, min_n=cfg.k)
            asymmetries.append(row)
    items = [
        {"item_id": item, "label": cfg.label(item), "cells": cells}
        for item, cells in matrix.items()
    ]
    return _jsonable(items), _jsonable(asymmetries), notes
