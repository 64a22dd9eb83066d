"""Respondent scores: reverse coding, dimension scores, totals, bands and partnership scores.

All functions follow the shared data contract of the ``analysis`` package (long ``answers``
frame, ``items`` map, optional ``dimensions`` frame) and are vectorised over respondents: the
answers are scattered once into a respondents x items matrix and every dimension score is a
matrix product, so a million answers score in well under a second.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis._checks import (
    as_column_list,
    check_scale_bounds,
    check_share,
    require_columns,
    require_frame,
    require_numeric,
)

__all__ = [
    "ANSWER_COLUMNS",
    "DEFAULT_MIN_ANSWERED",
    "DEFAULT_MIN_ITEMS",
    "ITEM_COLUMNS",
    "MISSING_RULES",
    "SCORE_COLUMNS",
    "TOTAL_METHODS",
    "assign_bands",
    "band_index",
    "dimension_scores",
    "item_matrix",
    "partnership_score",
    "respondent_scores",
    "reverse_code",
    "total_range",
    "total_scores",
]

ANSWER_COLUMNS = ("response_id", "round_id", "partner_id", "item_id", "value")
ITEM_COLUMNS = ("item_id", "dimension", "reverse", "scale_min", "scale_max")
SCORE_COLUMNS = (
    "response_id",
    "round_id",
    "partner_id",
    "dimension",
    "score",
    "n_answered",
    "n_items",
)
_SCORINGS = ("mean", "sum")
TotalMethod = Literal[
    "mean_of_dimensions", "mean_of_items", "sum_of_items", "sum_of_dimension_sums"
]
MissingRule = Literal["prorate", "refuse"]
TOTAL_METHODS: tuple[str, ...] = (
    "mean_of_dimensions",
    "mean_of_items",
    "sum_of_items",
    "sum_of_dimension_sums",
)
MISSING_RULES: tuple[str, ...] = ("prorate", "refuse")
# Defaults of a questionnaire that says nothing: at least half of a dimension's items and at
# least two of them (statistics.md A1); a file may lower or raise either per dimension.
DEFAULT_MIN_ANSWERED = 0.5
DEFAULT_MIN_ITEMS = 2
# Tolerance for comparing computed means with band edges and share thresholds: far below any
# meaningful difference on a survey scale, far above floating-point noise.
_EPS = 1e-9


def reverse_code(values: Any, scale_min: Any, scale_max: Any) -> Any:
    """Reverse-code answers on an inclusive scale: ``min + max - x``.

    Parameters
    ----------
    values : float, array-like or pandas.Series
        Answers; NaN (missing or "don't know") stays NaN.
    scale_min, scale_max : float or array-like
        Inclusive scale bounds (e.g. 1 and 5, or 0 and 4), scalars or broadcastable arrays
        (one bound per item).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Same kind as ``values`` (a Series keeps its index and name).

    Raises
    ------
    ValueError
        If ``scale_min >= scale_max`` or a non-missing value lies outside the scale, which is
        usually a "don't know" code entered as a number.

    Notes
    -----
    ``x' = (min + max) - x`` maps the scale onto itself in reverse (6 - x on 1-5, 4 - x on
    0-4), so applying it twice gives the original answer back.

    References
    ----------
    statistics.md A1 (project research notes).

    Examples
    --------
    >>> reverse_code([1, 2, 5], 1, 5).tolist()
    [5.0, 4.0, 1.0]
    >>> reverse_code(3.0, 0, 4)
    1.0
    """
    is_series = isinstance(values, pd.Series)
    arr = np.asarray(values, dtype=float)
    check_scale_bounds(arr, scale_min, scale_max, "reverse_code values")
    out = np.asarray(scale_min, dtype=float) + np.asarray(scale_max, dtype=float) - arr
    if is_series:
        return pd.Series(out, index=values.index, name=values.name)
    if np.ndim(out) == 0 and np.ndim(values) == 0:
        return float(out)
    return out


class _Prepared:
    """Answers scattered into a reverse-coded respondents x items matrix (internal)."""

    __slots__ = ("first_row", "item_ids", "items", "matrix", "response_order")

    def __init__(
        self,
        matrix: np.ndarray,
        first_row: np.ndarray,
        response_order: np.ndarray,
        items: pd.DataFrame,
        item_ids: pd.Index,
    ) -> None:
        self.matrix = matrix
        self.first_row = first_row
        self.response_order = response_order
        self.items = items
        self.item_ids = item_ids


def _reverse_flags(items: pd.DataFrame) -> np.ndarray:
    reverse = items["reverse"]
    if pd.api.types.is_bool_dtype(reverse.dtype):
        return reverse.to_numpy(dtype=bool)
    ok = reverse.isin([True, False, 0, 1]) & reverse.notna()
    if not ok.all():
        bad = reverse[~ok].iloc[0]
        raise TypeError(f"items column 'reverse' must be True/False, got {bad!r}")
    return reverse.astype(bool).to_numpy()


def _check_items(items: pd.DataFrame) -> pd.DataFrame:
    require_columns(items, ITEM_COLUMNS, "items")
    require_numeric(items, ["scale_min", "scale_max"], "items")
    if items.empty:
        raise ValueError("items is empty: no item can be scored")
    if items["item_id"].isna().any():
        raise ValueError("items has a missing item_id")
    dup = items["item_id"].duplicated()
    if dup.any():
        raise ValueError(f"items lists item_id {items['item_id'][dup].iloc[0]!r} more than once")
    if items["dimension"].isna().any():
        missing = items.loc[items["dimension"].isna(), "item_id"].tolist()
        raise ValueError(f"items has no dimension for item(s) {missing}")
    smin = items["scale_min"].to_numpy(dtype=float)
    smax = items["scale_max"].to_numpy(dtype=float)
    if not (np.isfinite(smin).all() and np.isfinite(smax).all()) or np.any(smin >= smax):
        bad = items.loc[~(smin < smax), "item_id"].tolist()
        raise ValueError(f"items has scale_min >= scale_max (or missing bounds) for {bad}")
    return items


def _prepare(answers: pd.DataFrame, items: pd.DataFrame) -> _Prepared:
    require_frame(answers, "answers")
    require_frame(items, "items")
    require_columns(answers, ANSWER_COLUMNS, "answers")
    require_numeric(answers, ["value"], "answers")
    items = _check_items(items).reset_index(drop=True)
    item_ids = pd.Index(items["item_id"])
    reverse = _reverse_flags(items)
    smin = items["scale_min"].to_numpy(dtype=float)
    smax = items["scale_max"].to_numpy(dtype=float)

    item_code = item_ids.get_indexer(answers["item_id"])
    if (item_code < 0).any():
        unknown = pd.unique(answers["item_id"].to_numpy()[item_code < 0])[:5].tolist()
        raise ValueError(f"answers has item_id(s) not in items: {unknown}")
    resp_code, resp_uniques = pd.factorize(answers["response_id"])
    if (resp_code < 0).any():
        raise ValueError("answers has a missing response_id")

    values = answers["value"].to_numpy(dtype=float, copy=True)
    if "dont_know" in answers.columns:
        # "don't know" is never a number: whatever code sits in `value`, it becomes missing.
        values[answers["dont_know"].eq(True).to_numpy()] = np.nan
    check_scale_bounds(values, smin[item_code], smax[item_code], "answers value")

    n_resp, n_items = len(resp_uniques), len(items)
    flat = resp_code.astype(np.int64) * n_items + item_code
    if len(flat) and np.bincount(flat, minlength=n_resp * n_items).max() > 1:
        dup = answers.duplicated(["response_id", "item_id"], keep=False)
        row = answers.loc[dup].iloc[0]
        raise ValueError(
            f"answers has more than one row for response {row['response_id']!r} and item "
            f"{row['item_id']!r}"
        )

    _, first_row = np.unique(resp_code, return_index=True)
    for column in ("round_id", "partner_id"):
        codes, _ = pd.factorize(answers[column])
        if (codes < 0).any():
            raise ValueError(f"answers has a missing {column}")
        if len(codes) and not np.array_equal(codes, codes[first_row][resp_code]):
            raise ValueError(f"answers gives some response_id more than one {column}")

    rev_rows = reverse[item_code]
    values[rev_rows] = smin[item_code][rev_rows] + smax[item_code][rev_rows] - values[rev_rows]
    matrix = np.full((n_resp, n_items), np.nan)
    matrix[resp_code, item_code] = values

    order = np.arange(n_resp)
    with contextlib.suppress(TypeError):  # canonical order (sorted ids) when ids are sortable
        order = np.asarray(pd.Index(resp_uniques).argsort(), dtype=np.intp)
    return _Prepared(matrix, first_row, order, items, item_ids)


def item_matrix(
    answers: pd.DataFrame, items: pd.DataFrame, *, reverse: bool = True
) -> pd.DataFrame:
    """Pivot long answers into a respondents x items matrix, reverse-coded by default.

    Parameters
    ----------
    answers : pandas.DataFrame
        Long answers (``response_id``, ``round_id``, ``partner_id``, ``item_id``, ``value``,
        optional ``dont_know``).
    items : pandas.DataFrame
        Item map (``item_id``, ``dimension``, ``reverse``, ``scale_min``, ``scale_max``).
    reverse : bool, default True
        Apply ``min + max - x`` to reverse-keyed items, as every reliability analysis needs.

    Returns
    -------
    pandas.DataFrame
        Index ``response_id`` (sorted), one float column per item of ``items`` in item-map
        order; NaN where the item was not answered or answered "don't know".

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"response_id": ["a", "a"], "round_id": 1, "partner_id": "p",
    ...                         "item_id": ["q1", "q2"], "value": [4.0, 2.0]})
    >>> items = pd.DataFrame({"item_id": ["q1", "q2"], "dimension": "d",
    ...                       "reverse": [False, True], "scale_min": 1, "scale_max": 5})
    >>> item_matrix(answers, items).to_dict("records")
    [{'q1': 4.0, 'q2': 4.0}]
    """
    if not reverse:
        items = require_frame(items, "items").assign(reverse=False)
    prep = _prepare(answers, items)
    ids = answers["response_id"].take(prep.first_row[prep.response_order])
    return pd.DataFrame(
        prep.matrix[prep.response_order],
        index=pd.Index(ids.to_numpy(), name="response_id"),
        columns=pd.Index(prep.item_ids, name="item_id"),
    )


def _dimension_rules(
    dim_names: pd.Index,
    n_items: np.ndarray,
    dimensions: pd.DataFrame | None,
    min_answered: float,
    scoring: str,
    min_items: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return per-dimension (required answered count, is_sum flag)."""
    shares = np.full(len(dim_names), check_share(min_answered, "min_answered"))
    scorings = np.full(len(dim_names), scoring, dtype=object)
    mins = np.full(len(dim_names), min_items, dtype=float)
    if dimensions is not None:
        require_frame(dimensions, "dimensions")
        require_columns(dimensions, ["dimension"], "dimensions")
        if dimensions["dimension"].duplicated().any():
            raise ValueError("dimensions lists a dimension more than once")
        pos = dim_names.get_indexer(pd.Index(dimensions["dimension"]))
        if (pos < 0).any():
            unknown = dimensions["dimension"][pos < 0].tolist()
            raise ValueError(f"dimensions has dimension(s) with no item in items: {unknown}")
        if "scoring" in dimensions.columns:
            given = dimensions["scoring"].notna().to_numpy()
            scorings[pos[given]] = dimensions["scoring"].to_numpy()[given]
        if "min_answered" in dimensions.columns:
            for p, share in zip(pos, dimensions["min_answered"], strict=True):
                if pd.notna(share):
                    shares[p] = check_share(share, "dimensions min_answered")
        if "min_items" in dimensions.columns:
            given = dimensions["min_items"].notna().to_numpy()
            mins[pos[given]] = dimensions["min_items"].to_numpy(dtype=float)[given]
    bad = [s for s in scorings if s not in _SCORINGS]
    if bad:
        raise ValueError(f"scoring must be one of {_SCORINGS}, got {bad[0]!r}")
    if np.any(mins < 0) or np.any(mins != np.floor(mins)):
        raise ValueError("min_items must be a non-negative whole number")
    by_share = np.ceil(shares * n_items - _EPS)
    required = np.maximum(np.minimum(mins, n_items), by_share)
    return np.maximum(required, 1).astype(np.int64), scorings == "sum"


def dimension_scores(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    dimensions: pd.DataFrame | None = None,
    min_answered: float = DEFAULT_MIN_ANSWERED,
    *,
    scoring: Literal["mean", "sum"] = "mean",
    min_items: int = DEFAULT_MIN_ITEMS,
) -> pd.DataFrame:
    """Score every respondent on every dimension, after reverse coding.

    Parameters
    ----------
    answers : pandas.DataFrame
        Long answers: ``response_id``, ``round_id``, ``partner_id``, ``item_id``, ``value``
        (float; NaN = missing or "don't know"), optional ``dont_know`` (bool; True forces the
        answer to missing whatever ``value`` holds). A response must belong to one round and
        one partner and answer each item at most once.
    items : pandas.DataFrame
        Item map: ``item_id``, ``dimension``, ``reverse`` (bool), ``scale_min``, ``scale_max``.
        Every ``item_id`` in ``answers`` must be in it.
    dimensions : pandas.DataFrame, optional
        Per-dimension rules: ``dimension`` plus any of ``scoring`` ("mean" or "sum"),
        ``min_answered`` (share) and ``min_items`` (count); missing columns or NaN cells fall
        back to the keyword arguments.
    min_answered : float, default 0.5
        Share of a dimension's items a respondent must answer to get a score.
    scoring : {"mean", "sum"}, default "mean"
        Default scoring for dimensions that ``dimensions`` does not configure.
    min_items : int, default 2
        Also require at least this many answered items (capped at the dimension's size), so
        a single answer never stands for a multi-item dimension.

    Returns
    -------
    pandas.DataFrame
        One row per respondent and dimension (respondents sorted by ``response_id``,
        dimensions in item-map order), columns:

        - ``response_id``, ``round_id``, ``partner_id``: from ``answers``.
        - ``dimension``: from ``items``.
        - ``score`` (float): the dimension score, NaN when too few items were answered.
        - ``n_answered`` (int): items of the dimension the respondent answered.
        - ``n_items`` (int): items of the dimension in the item map.

    Raises
    ------
    ValueError
        Missing columns, unknown items, duplicate answers, values outside the scale (a
        "don't know" code entered as a number), a response in two rounds or partners.
    TypeError
        Non-numeric values or scale bounds, a non-boolean ``reverse`` flag.

    Notes
    -----
    Reverse-keyed items are recoded ``x' = min + max - x``. With ``A`` the set of answered
    items of dimension ``d`` (size ``a``) and ``J`` its items in the map (size ``m``)::

        mean score = sum(x'_j for j in A) / a
        sum score  = m * mean score        (prorated sum)

    The prorated sum equals the plain sum when every item is answered and keeps scores with
    missing items on the same 0..m*max range instead of shrinking them. "Don't know" is
    missing: it is never scored as 0 or as the scale midpoint, which would invent neutral
    answers. The score is NaN unless ``a >= max(min(min_items, m), ceil(min_answered * m))``
    (at least one): the "half rule" with a floor of two items from statistics.md A1, because
    prorating assumes the answered items are exchangeable (Mazza, Enders & Ruehlman 2015).

    References
    ----------
    Mazza GL, Enders CK, Ruehlman LS (2015) Multivariate Behav Res 50:504.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({
    ...     "response_id": ["r1"] * 3 + ["r2"] * 3, "round_id": 1, "partner_id": "A",
    ...     "item_id": ["q1", "q2", "q3"] * 2, "value": [4, 5, 2, 3, None, 1]})
    >>> items = pd.DataFrame({"item_id": ["q1", "q2", "q3"], "dimension": "equality",
    ...                       "reverse": [False, False, True], "scale_min": 1, "scale_max": 5})
    >>> dimension_scores(answers, items)[["response_id", "score", "n_answered"]]
      response_id     score  n_answered
    0          r1  4.333333           3
    1          r2  4.000000           2
    """
    if scoring not in _SCORINGS:
        raise ValueError(f"scoring must be one of {_SCORINGS}, got {scoring!r}")
    if isinstance(min_items, bool) or not isinstance(min_items, int | np.integer):
        raise TypeError("min_items must be an int")
    prep = _prepare(answers, items)
    dim_code, dim_names = pd.factorize(prep.items["dimension"])
    n_dims = len(dim_names)
    indicator = np.zeros((len(prep.items), n_dims))
    indicator[np.arange(len(prep.items)), dim_code] = 1.0
    n_items = indicator.sum(axis=0)
    required, is_sum = _dimension_rules(
        pd.Index(dim_names), n_items, dimensions, min_answered, scoring, min_items
    )

    matrix = prep.matrix[prep.response_order]
    answered = ~np.isnan(matrix)
    sums = np.where(answered, matrix, 0.0) @ indicator
    counts = np.rint(answered.astype(float) @ indicator).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    scores = np.where(is_sum, means * n_items, means)
    scores[counts < required] = np.nan

    n_resp = matrix.shape[0]
    rows = np.repeat(prep.first_row[prep.response_order], n_dims)
    _, dim_first = np.unique(dim_code, return_index=True)
    # take() keeps each column's dtype (categorical ids stay categorical).
    out = answers[["response_id", "round_id", "partner_id"]].take(rows).reset_index(drop=True)
    out["dimension"] = prep.items["dimension"].take(np.tile(dim_first, n_resp)).to_numpy()
    out["score"] = scores.ravel()
    out["n_answered"] = counts.ravel()
    out["n_items"] = np.tile(n_items.astype(np.int64), n_resp)
    return out


def _check_scores(scores: pd.DataFrame, value: str = "score") -> None:
    require_frame(scores, "scores")
    require_columns(scores, ["response_id", "round_id", "partner_id", "dimension", value], "scores")
    require_numeric(scores, [value], "scores")


def _refuse_incomplete(frame: pd.DataFrame, scores: np.ndarray) -> np.ndarray:
    """NaN for every respondent with an unanswered item (the ``missing="refuse"`` rule)."""
    codes, uniques = pd.factorize(frame["response_id"])
    short = (frame["n_answered"].to_numpy() < frame["n_items"].to_numpy()).astype(float)
    incomplete = np.bincount(codes, weights=short, minlength=len(uniques)) > 0
    out = scores.copy()
    out[incomplete] = np.nan
    return out


def total_scores(
    scores: pd.DataFrame | None,
    method: TotalMethod = "mean_of_dimensions",
    *,
    answers: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    dimensions: pd.DataFrame | None = None,
    missing: MissingRule = "prorate",
    min_dimensions: int | None = None,
    min_answered: float = DEFAULT_MIN_ANSWERED,
    min_items: int = DEFAULT_MIN_ITEMS,
    label: str = "total",
) -> pd.DataFrame:
    """Combine a respondent's answers into one overall (health index) score.

    Parameters
    ----------
    scores : pandas.DataFrame or None
        Respondent dimension scores from :func:`dimension_scores`; used by
        ``"mean_of_dimensions"``, ignored (may be None) by the other methods.
    method : {"mean_of_dimensions", "mean_of_items", "sum_of_items", "sum_of_dimension_sums"}
        ``"mean_of_dimensions"``: mean of the respondent's dimension scores (each dimension
        counts equally however many items it has). ``"mean_of_items"``: mean of all answered
        reverse-coded items (each item counts equally). ``"sum_of_items"``: sum of all
        reverse-coded items (prorated, see ``missing``), the scoring of checklists such as the
        VicHealth Partnerships Analysis Tool. ``"sum_of_dimension_sums"``: sum over
        dimensions of each dimension's prorated sum, so each dimension's own
        ``min_answered``/``min_items`` decide whether it counts.
    answers, items : pandas.DataFrame, optional
        Required by every method but ``"mean_of_dimensions"`` (same contract as
        :func:`dimension_scores`).
    dimensions : pandas.DataFrame, optional
        ``"sum_of_dimension_sums"`` only: per-dimension ``min_answered``/``min_items`` as in
        :func:`dimension_scores` (their ``scoring`` is ignored: a dimension's sum is used).
    missing : {"prorate", "refuse"}, default "prorate"
        ``"prorate"``: a respondent with unanswered items still gets a total when the rule of
        the method is met (item methods: ``min_answered`` and ``min_items`` over all items;
        dimension methods: every dimension scored under its own rule). ``"refuse"``: no total
        (NaN) for a respondent with any unanswered or "don't know" item.
    min_dimensions : int, optional
        ``"mean_of_dimensions"`` only: how many scored dimensions a respondent needs. Default:
        all dimensions present in ``scores``.
    min_answered : float, default 0.5
        Item methods only: share of all items that must be answered.
    min_items : int, default 2
        Item methods only: also require this many answered items (capped at the item count).
    label : str, default "total"
        Value put in the ``dimension`` column, so totals can be stacked under dimension scores
        and described or banded with the same functions.

    Returns
    -------
    pandas.DataFrame
        The respondent-scores schema: ``response_id``, ``round_id``, ``partner_id``,
        ``dimension`` (= ``label``), ``score``, ``n_answered`` and ``n_items``. For the
        dimension methods the counts are of dimensions (scored / present), for the item
        methods of items.

    Notes
    -----
    With ``x'`` the reverse-coded answers, ``A`` the answered items (``a`` of them) out of
    ``m``, and ``S_d`` / ``m_d`` a dimension's score and item count::

        mean_of_dimensions     T = mean_d(S_d)                      all dimensions scored
        mean_of_items          T = sum_A(x') / a                    a >= required
        sum_of_items           T = m * sum_A(x') / a                a >= required (prorated)
        sum_of_dimension_sums  T = sum_d(m_d * mean_{A_d}(x'))      all dimensions scored

    where ``required = max(min(min_items, m), ceil(min_answered * m), 1)``. The prorated sum
    equals the plain published sum whenever every item is answered; with ``missing="refuse"``
    only complete respondents are scored, which reproduces instruments whose manual says
    "do not score an incomplete form". Every dimension must be scored for the dimension
    methods by default: dimensions differ in level, so combining whichever a respondent
    happens to have would shift the index with the missingness pattern.

    References
    ----------
    Mazza GL, Enders CK, Ruehlman LS (2015) Multivariate Behav Res 50:504.
    VicHealth (2016) The Partnerships Analysis Tool. Victorian Health Promotion Foundation.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"response_id": ["r1", "r1", "r2", "r2"], "round_id": 1,
    ...                        "partner_id": "A", "dimension": ["d1", "d2"] * 2,
    ...                        "score": [4.0, 3.0, 5.0, None], "n_answered": 2, "n_items": 2})
    >>> total_scores(scores)[["response_id", "score", "n_answered", "n_items"]]
      response_id  score  n_answered  n_items
    0          r1    3.5           2        2
    1          r2    NaN           1        2
    """
    if method not in TOTAL_METHODS:
        raise ValueError(f"method must be one of {TOTAL_METHODS}, got {method!r}")
    if missing not in MISSING_RULES:
        raise ValueError(f"missing must be one of {MISSING_RULES}, got {missing!r}")
    if method in ("mean_of_items", "sum_of_items"):
        if answers is None or items is None:
            raise ValueError(f"method={method!r} needs answers= and items=")
        one_dimension = require_frame(items, "items").assign(dimension=label)
        out = dimension_scores(
            answers,
            one_dimension,
            min_answered=min_answered,
            scoring="sum" if method == "sum_of_items" else "mean",
            min_items=min_items,
        )
        if missing == "refuse":
            out["score"] = _refuse_incomplete(out, out["score"].to_numpy(dtype=float))
        return out
    if method == "sum_of_dimension_sums":
        if answers is None or items is None:
            raise ValueError("method='sum_of_dimension_sums' needs answers= and items=")
        rules = None
        if dimensions is not None:
            rules = require_frame(dimensions, "dimensions").drop(
                columns=["scoring"], errors="ignore"
            )
        scores = dimension_scores(answers, items, rules, scoring="sum")
    elif scores is None:
        raise ValueError("method='mean_of_dimensions' needs the dimension scores frame")
    _check_scores(scores)
    if scores.duplicated(["response_id", "dimension"]).any():
        raise ValueError("scores has more than one row for a response and dimension")
    n_dims = scores["dimension"].nunique(dropna=False)
    if min_dimensions is None or method == "sum_of_dimension_sums":
        required = n_dims
    elif isinstance(min_dimensions, bool) or not isinstance(min_dimensions, int | np.integer):
        raise TypeError("min_dimensions must be an int or None")
    elif min_dimensions < 1:
        raise ValueError("min_dimensions must be at least 1")
    else:
        required = min(int(min_dimensions), n_dims)

    codes, uniques = pd.factorize(scores["response_id"])
    if (codes < 0).any():
        raise ValueError("scores has a missing response_id")
    score = scores["score"].to_numpy(dtype=float)
    valid = ~np.isnan(score)
    n_valid = np.bincount(codes, weights=valid, minlength=len(uniques))
    sums = np.bincount(codes, weights=np.where(valid, score, 0.0), minlength=len(uniques))
    with np.errstate(invalid="ignore", divide="ignore"):
        total = sums if method == "sum_of_dimension_sums" else sums / n_valid
    total[n_valid < required] = np.nan
    _, first = np.unique(codes, return_index=True)
    if missing == "refuse":
        require_columns(scores, ["n_answered", "n_items"], "scores")
        total = _refuse_incomplete(scores, total)
    out = scores[["response_id", "round_id", "partner_id"]].take(first).reset_index(drop=True)
    out["dimension"] = label
    out["score"] = total
    out["n_answered"] = np.rint(n_valid).astype(np.int64)
    out["n_items"] = np.int64(n_dims)
    return out


def total_range(
    items: pd.DataFrame,
    dimensions: pd.DataFrame | None = None,
    method: TotalMethod = "mean_of_dimensions",
) -> tuple[float, float]:
    """Return the lowest and highest possible total under ``method``.

    Parameters
    ----------
    items : pandas.DataFrame
        Item map (``item_id``, ``dimension``, ``scale_min``, ``scale_max``).
    dimensions : pandas.DataFrame, optional
        ``dimension`` and ``scoring`` ("mean" or "sum"); dimensions not listed are means.
    method : str, default "mean_of_dimensions"
        See :func:`total_scores`.

    Returns
    -------
    tuple of float
        ``(low, high)``: bands, charts and favourable thresholds of the total live on this
        range, never on the item scale when the total is a sum.

    Notes
    -----
    Sums add the item bounds (35 items on 1-5: 35 to 175); ``mean_of_items`` averages them;
    ``mean_of_dimensions`` averages the dimension ranges (a summed dimension of ``m`` items
    runs ``m * min`` to ``m * max``).

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": ["a", "b", "c"], "dimension": ["d", "d", "e"],
    ...                       "scale_min": 1, "scale_max": 5})
    >>> total_range(items, method="sum_of_items")
    (3.0, 15.0)
    >>> total_range(items)
    (1.0, 5.0)
    """
    require_columns(items, ["item_id", "dimension", "scale_min", "scale_max"], "items")
    if method not in TOTAL_METHODS:
        raise ValueError(f"method must be one of {TOTAL_METHODS}, got {method!r}")
    lows = items["scale_min"].to_numpy(dtype=float)
    highs = items["scale_max"].to_numpy(dtype=float)
    if method in ("sum_of_items", "sum_of_dimension_sums"):
        return float(lows.sum()), float(highs.sum())
    if method == "mean_of_items":
        return float(lows.mean()), float(highs.mean())
    summed: set[Any] = set()
    if dimensions is not None and "scoring" in dimensions.columns:
        summed = set(dimensions.loc[dimensions["scoring"] == "sum", "dimension"])
    ranges = []
    for dim, sub in items.groupby("dimension", sort=False):
        m = len(sub) if dim in summed else 1
        ranges.append((float(sub["scale_min"].iloc[0]) * m, float(sub["scale_max"].iloc[0]) * m))
    return (
        sum(r[0] for r in ranges) / len(ranges),
        sum(r[1] for r in ranges) / len(ranges),
    )


def respondent_scores(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    dimensions: pd.DataFrame | None = None,
    *,
    total: Mapping[str, Any] | None = None,
    bands: Mapping[Any, Sequence[Mapping[str, Any]]] | None = None,
    total_bands: Sequence[Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Score every response the way the questionnaire says: dimensions, total and bands.

    The table a coordinator checks a score against by hand (the answers export), computed
    with exactly the rules of the published results.

    Parameters
    ----------
    answers, items, dimensions : pandas.DataFrame
        As in :func:`dimension_scores` (``dimensions`` may set ``scoring``, ``min_answered``
        and ``min_items`` per dimension).
    total : mapping, optional
        Keyword arguments of :func:`total_scores`: ``method``, ``missing``,
        ``min_answered``, ``min_items`` (default: mean of dimensions, prorated).
    bands : mapping, optional
        Dimension id -> bands (``label``, ``min``, ``max``; see :func:`assign_bands`).
    total_bands : list, optional
        Bands of the total.

    Returns
    -------
    pandas.DataFrame
        One row per response (sorted by ``response_id``): ``response_id``, ``round_id``,
        ``partner_id``; then for every dimension ``d`` in item-map order ``score_<d>``
        (float, NaN when too few items are answered) and, when it has bands, ``band_<d>``
        (label or None); then ``total`` (float) and, with ``total_bands``, ``total_band``.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"response_id": "r1", "round_id": 1, "partner_id": "A",
    ...                         "item_id": ["q1", "q2", "q3"], "value": [4.0, 5.0, 2.0]})
    >>> items = pd.DataFrame({"item_id": ["q1", "q2", "q3"], "dimension": ["d", "d", "e"],
    ...                       "reverse": False, "scale_min": 1, "scale_max": 5})
    >>> out = respondent_scores(answers, items, total={"method": "sum_of_items"},
    ...                         total_bands=[{"label": "low", "min": 3, "max": 8},
    ...                                      {"label": "high", "min": 9, "max": 15}])
    >>> out[["score_d", "score_e", "total", "total_band"]].to_dict("records")
    [{'score_d': 4.5, 'score_e': 2.0, 'total': 11.0, 'total_band': 'high'}]
    """
    options = dict(total or {})
    unknown = set(options) - {"method", "missing", "min_answered", "min_items"}
    if unknown:
        raise ValueError(f"total has unknown option(s): {sorted(unknown)}")
    dim_scores = dimension_scores(answers, items, dimensions)
    totals = total_scores(
        dim_scores, answers=answers, items=items, dimensions=dimensions, **options
    )
    ids = ["response_id", "round_id", "partner_id"]
    out = totals[ids].reset_index(drop=True)
    for dim in pd.unique(require_frame(items, "items")["dimension"]):
        part = dim_scores.loc[dim_scores["dimension"] == dim].reset_index(drop=True)
        out[f"score_{dim}"] = part["score"].to_numpy()
        if bands and bands.get(dim):
            out[f"band_{dim}"] = _labels(assign_bands(part, bands[dim])["band"])
    out["total"] = totals["score"].to_numpy()
    if total_bands:
        out["total_band"] = _labels(assign_bands(totals, total_bands)["band"])
    return out


def _labels(column: pd.Series) -> pd.Series:
    # None, never NaN, for "no band": a label column holds labels or nothing.
    values = column.to_numpy(dtype=object)
    return pd.Series([None if v is None or v != v else v for v in values], dtype=object)


def _parse_bands(bands: Iterable[Mapping[str, Any]]) -> tuple[list[Any], np.ndarray, np.ndarray]:
    if isinstance(bands, Mapping | str) or not isinstance(bands, Iterable):
        raise TypeError("bands must be a list of {'label', 'min', 'max'} mappings")
    rows = list(bands)
    if not rows:
        raise ValueError("bands is empty")
    labels, mins, maxs = [], [], []
    for band in rows:
        if not isinstance(band, Mapping) or not {"label", "min", "max"} <= set(band):
            raise ValueError(f"each band needs 'label', 'min' and 'max', got {band!r}")
        lo, hi = band["min"], band["max"]
        for edge in (lo, hi):
            if isinstance(edge, bool) or not isinstance(edge, int | float | np.number):
                raise TypeError(f"band edges must be numbers, got {edge!r} in {band!r}")
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise ValueError(f"band {band['label']!r} needs finite min <= max")
        labels.append(band["label"])
        mins.append(float(lo))
        maxs.append(float(hi))
    order = np.argsort(mins, kind="stable")
    lo_sorted, hi_sorted = np.asarray(mins)[order], np.asarray(maxs)[order]
    # A band may start exactly where the previous one ends (the questionnaire files' rule: the
    # shared edge belongs to the higher band); starting below that edge is an overlap.
    if np.any(lo_sorted[1:] < hi_sorted[:-1] - _EPS):
        raise ValueError("bands overlap: each band must start at or above the end of the last")
    if len(set(labels)) != len(labels):
        raise ValueError("band labels must be unique")
    return [labels[i] for i in order], lo_sorted, hi_sorted


def band_index(values: Any, bands: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Return, for each value, the position in ``bands`` of the band it falls in (-1: none).

    The one place the banding rule lives: :func:`assign_bands`, the questionnaire model and
    the validator's explanations all use it.

    Parameters
    ----------
    values : float or array-like
        Scores; NaN gets -1.
    bands : list of dict
        ``{"label", "min", "max"}`` with inclusive edges, in any order, not overlapping.

    Returns
    -------
    numpy.ndarray of int
        Index into ``bands`` as given, -1 for NaN or a value outside every band and gap.

    Notes
    -----
    1. Inside ``[min, max]`` of a band (within 1e-9): that band; on an edge two bands share
       (1-3, 3-4), the higher band.
    2. In a gap between two bands (published integer bands 35-84, 85-126: a prorated 84.5):
       the band whose edge is nearer, the higher band on a tie. With integer bands one point
       apart this is rounding half up to a whole number before banding (84.49 -> 84 -> the
       lower band, 84.5 -> 85 -> the higher); with bands written to one decimal (2.4, 2.5)
       it is rounding half up to one decimal.
    3. Below the lowest or above the highest band: none, never a guess.

    Examples
    --------
    >>> bands = [{"label": "low", "min": 35, "max": 84}, {"label": "mid", "min": 85, "max": 126},
    ...          {"label": "high", "min": 127, "max": 175}]
    >>> band_index([35, 84, 84.49, 84.5, 126.5, 175, 176], bands).tolist()
    [0, 0, 0, 1, 2, 2, -1]
    """
    _, lo, hi = _parse_bands(bands)
    order = np.argsort([float(b["min"]) for b in bands], kind="stable")
    x = np.atleast_1d(np.asarray(values, dtype=float))
    idx = np.searchsorted(lo, x + _EPS, side="right") - 1  # last band starting at or below x
    safe = np.clip(idx, 0, len(lo) - 1)
    inside = (idx >= 0) & (x <= hi[safe] + _EPS)
    nxt = np.clip(idx + 1, 0, len(lo) - 1)
    in_gap = (idx >= 0) & (idx < len(lo) - 1) & ~inside
    to_upper = (lo[nxt] - x) <= (x - hi[safe]) + _EPS
    chosen = np.where(inside, safe, np.where(in_gap & to_upper, nxt, safe))
    found = (inside | in_gap) & ~np.isnan(x)
    return np.where(found, order[chosen], -1).astype(np.int64)


def assign_bands(
    scores: pd.DataFrame,
    bands: Sequence[Mapping[str, Any]],
    *,
    value: str = "score",
    column: str = "band",
) -> pd.DataFrame:
    """Label each score with the band (e.g. strength / borderline / concern) it falls in.

    Parameters
    ----------
    scores : pandas.DataFrame
        Any frame with a numeric ``value`` column (respondent scores, or group means from
        :func:`analysis.describe.describe` with ``value="mean"``).
    bands : list of dict
        ``{"label": ..., "min": ..., "max": ...}`` with inclusive edges, as declared in the
        questionnaire file; bands may leave gaps (1-2.4, 2.5-3.4, 3.5-5) or share an edge
        (1-3, 3-4, 4-5: the shared edge belongs to the higher band) but must not overlap.
    value : str, default "score"
        Column holding the numbers to band.
    column : str, default "band"
        Name of the new column.

    Returns
    -------
    pandas.DataFrame
        A copy of ``scores`` with ``column`` added (object dtype): the band label, or None
        for a NaN score or one below the lowest / above the highest band.

    Notes
    -----
    The rule is :func:`band_index`'s: a score inside ``[min, max]`` of a band (within 1e-9)
    gets it, a shared edge goes to the higher band; a score in a gap between two bands
    (2.45 between 2.4 and 2.5, or a prorated 84.5 between integer bands 35-84 and 85-126)
    gets the band whose edge is nearer, the higher band on an exact tie, as rounding half up
    to the bands' resolution gives. Scores outside the whole range get None, not a guess.

    Examples
    --------
    >>> import pandas as pd
    >>> bands = [{"label": "concern", "min": 1, "max": 2.4},
    ...          {"label": "borderline", "min": 2.5, "max": 3.4},
    ...          {"label": "strength", "min": 3.5, "max": 5}]
    >>> assign_bands(pd.DataFrame({"score": [2.42, 2.45, 3.5, None]}), bands)["band"].tolist()
    ['concern', 'borderline', 'strength', None]
    >>> shared = [{"label": "concern", "min": 1, "max": 3},
    ...           {"label": "borderline", "min": 3, "max": 4},
    ...           {"label": "strength", "min": 4, "max": 5}]
    >>> assign_bands(pd.DataFrame({"score": [2.99, 3.0, 4.0, 5.0]}), shared)["band"].tolist()
    ['concern', 'borderline', 'strength', 'strength']
    """
    require_frame(scores, "scores")
    require_columns(scores, [value], "scores")
    require_numeric(scores, [value], "scores")
    found = band_index(scores[value].to_numpy(dtype=float), bands)
    given = [band["label"] for band in bands]
    label_arr = np.empty(len(given), dtype=object)
    label_arr[:] = given
    result = np.full(len(found), None, dtype=object)
    result[found >= 0] = label_arr[found[found >= 0]]
    out = scores.copy()
    out[column] = pd.Series(result, index=scores.index, dtype=object)
    return out


def partnership_score(
    scores: pd.DataFrame,
    group: str = "partner_id",
    weighting: Literal["partner", "respondent"] = "partner",
    *,
    by: str | Sequence[str] | None = ("round_id", "dimension"),
    value: str = "score",
) -> pd.DataFrame:
    """Score the partnership as a whole, by default giving every partner an equal voice.

    Parameters
    ----------
    scores : pandas.DataFrame
        Respondent scores (see :func:`dimension_scores`); NaN scores are left out.
    group : str, default "partner_id"
        Column identifying the partner (the unit that is weighted equally).
    weighting : {"partner", "respondent"}, default "partner"
        ``"partner"``: mean of the partner means, so a partner with 40 respondents counts
        as much as one with 4, in the spirit of *kesetaraan* (equality). ``"respondent"``:
        mean over all respondents pooled, so large partners dominate.
    by : str or list of str, default ("round_id", "dimension")
        Columns giving separate partnership scores (pass ``None`` for one overall number).
    value : str, default "score"
        Column holding the respondent scores.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` combination: the ``by`` columns, ``score`` (float), ``n_partners``
        (partners with at least one valid score), ``n`` (valid respondent scores) and
        ``weighting``.

    Notes
    -----
    With ``m_p`` the mean of partner ``p``'s ``n_p`` valid scores and ``P`` partners::

        partner weighting:    S = (1 / P) * sum_p m_p
        respondent weighting: S = sum_p n_p * m_p / sum_p n_p

    The two agree when every partner has the same number of respondents.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"partner_id": ["A", "A", "A", "B"],
    ...                        "score": [4.0, 4.0, 4.0, 2.0]})
    >>> partnership_score(scores, by=None)[["score", "n_partners", "n"]]
       score  n_partners  n
    0    3.0           2  4
    >>> partnership_score(scores, weighting="respondent", by=None)["score"].item()
    3.5
    """
    require_frame(scores, "scores")
    by_cols = as_column_list(by, "by")
    if group in by_cols:
        raise ValueError(f"group column {group!r} cannot also be in by")
    require_columns(scores, [*by_cols, group, value], "scores")
    require_numeric(scores, [value], "scores")
    if weighting not in ("partner", "respondent"):
        raise ValueError(f"weighting must be 'partner' or 'respondent', got {weighting!r}")
    valid = scores.loc[scores[value].notna(), [*by_cols, group, value]]
    per_partner = (
        valid.groupby([*by_cols, group], dropna=False, sort=True, observed=True)[value]
        .agg(["sum", "count"])
        .reset_index()
    )
    per_partner["mean"] = per_partner["sum"] / per_partner["count"]
    if by_cols:
        grouped = per_partner.groupby(by_cols, dropna=False, sort=True, observed=True)
        out = grouped.agg(
            partner_mean=("mean", "mean"),
            total=("sum", "sum"),
            n=("count", "sum"),
            n_partners=("mean", "size"),
        ).reset_index()
        everything = scores[by_cols].drop_duplicates()
        out = everything.merge(out, on=by_cols, how="left").sort_values(by_cols, kind="stable")
    else:
        out = pd.DataFrame(
            {
                "partner_mean": [per_partner["mean"].mean()],
                "total": [per_partner["sum"].sum()],
                "n": [per_partner["count"].sum()],
                "n_partners": [len(per_partner)],
            }
        )
    out["n"] = out["n"].fillna(0).astype(np.int64)
    out["n_partners"] = out["n_partners"].fillna(0).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = out["total"].to_numpy(dtype=float) / out["n"].to_numpy(dtype=float)
    out["score"] = out["partner_mean"] if weighting == "partner" else pooled
    out.loc[out["n"] == 0, "score"] = np.nan
    out["weighting"] = weighting
    return out[[*by_cols, "score", "n_partners", "n", "weighting"]].reset_index(drop=True)
