"""Does a partner agree within itself? r_wg, r_wg(J), ICC(1)/ICC(2) and crossed-design ICCs.

A partner's mean hides whether its people agree: a 3.0 can be everyone answering 3, or half
answering 1 and half 5. :func:`agreement_by_partner` reports, per partner and dimension, the
within-partner agreement r_wg(J) against the "random answering" (uniform) null and a ``split``
flag, so the results page can say "this partner is split on transparency".
:func:`group_icc` gives the pooled ICC(1)/ICC(2) of respondents nested in partners, and
:func:`icc` the six Shrout & Fleiss forms for fully crossed targets x raters designs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import (
    as_column_list,
    check_scale_bounds,
    require_columns,
    require_frame,
    require_numeric,
)
from analysis._common import (
    check_choice,
    check_min_n,
    finite_1d,
    iter_cells,
    result_frame,
    valid_rows,
)

__all__ = [
    "agreement_by_partner",
    "group_icc",
    "icc",
    "rwg",
    "rwg_j",
    "rwg_j_lindell",
    "uniform_null_variance",
]

_NAN_POLICIES = ("listwise", "pairwise")
_GROUP_SIZES = ("mean", "n0")
# A partner is flagged as split when its r_wg(J) is below 0.50 (at most "weak agreement" in
# LeBreton & Senter's 2008 bands; with J items it means the mean item variance exceeds
# J / (J + 1) of the variance of random answering), or when at least a quarter of its
# respondents clearly lean each way: a bimodal pattern that a moderate variance can hide (half
# answering 2 and half 4 gives r_wg(J) of 0.8 with 5 items). "Clearly" means a respondent's
# mean answer lies at least halfway from the scale midpoint to an end (at most 2 or at least
# 4 on a 1-5 scale), so a unimodal partner spread around the midpoint is not called split.
DEFAULT_SPLIT_BELOW = 0.5
DEFAULT_SPLIT_SHARE = 0.25
_LEAN = 0.5  # half of the distance from the midpoint to an end of the scale
_EPS = 1e-9  # tolerance when comparing means with the lean threshold


# --------------------------------------------------------------------------- r_wg


def uniform_null_variance(scale_points: int) -> float:
    r"""Variance of random answering on an A-point scale: ``(A^2 - 1) / 12``.

    Parameters
    ----------
    scale_points : int
        Number of answer options A (5 for 1-5 or 0-4), at least 2.

    Returns
    -------
    float
        :math:`\sigma^2_{EU} = (A^2 - 1)/12`, the variance of a discrete uniform
        distribution on A equally spaced options one unit apart.

    References
    ----------
    James LR, Demaree RG, Wolf G (1984) J Appl Psychol 69:85.

    Examples
    --------
    >>> uniform_null_variance(5), uniform_null_variance(7)
    (2.0, 4.0)
    """
    if isinstance(scale_points, bool) or not isinstance(scale_points, int | np.integer):
        raise TypeError(f"scale_points must be an integer, got {type(scale_points).__name__}")
    if scale_points < 2:
        raise ValueError(f"scale_points must be at least 2, got {scale_points}")
    return (scale_points**2 - 1) / 12


def rwg(values: Any, scale_points: int, *, null_variance: float | None = None) -> float:
    r"""Within-group agreement r_wg on one item (James, Demaree & Wolf 1984).

    Parameters
    ----------
    values : array-like of float
        One group's answers to one item; NaN ("don't know", missing) is dropped.
    scale_points : int
        Number of answer options A.
    null_variance : float, optional
        Expected variance under no agreement; default the uniform
        :func:`uniform_null_variance` ``(A^2 - 1)/12``. Pass a smaller value for a skewed
        (e.g. lenient) null.

    Returns
    -------
    float
        r_wg in [0, 1]; NaN with fewer than two answers.

    Notes
    -----
    :math:`r_{wg} = 1 - s^2_x / \sigma^2_{EU}` with the sample variance
    :math:`s^2_x` (ddof = 1). Out-of-range rule: when the observed variance exceeds the null
    variance (more disagreement than random answering, e.g. a polarised group) the index
    would be negative; it is truncated to 0, as James et al. (1984) recommend and R
    ``multilevel::rwg`` does.

    References
    ----------
    James LR, Demaree RG, Wolf G (1984) J Appl Psychol 69:85.
    LeBreton JM, Senter JL (2008) Organ Res Methods 11:815.

    Examples
    --------
    >>> rwg([4, 4, 5, 3, 4], scale_points=5)
    0.75
    >>> rwg([1, 5, 1, 5, 3], scale_points=5)
    0.0
    """
    sigma2 = _null_variance(scale_points, null_variance)
    x = finite_1d(values, "values")
    if x.size < 2:
        return float("nan")
    ratio = np.var(x, ddof=1) / sigma2
    return float(max(0.0, 1.0 - ratio))


def rwg_j(
    wide: Any,
    scale_points: int,
    *,
    null_variance: float | None = None,
    nan_policy: str = "listwise",
) -> float:
    r"""Within-group agreement r_wg(J) over J parallel items (James, Demaree & Wolf 1984).

    Parameters
    ----------
    wide : pandas.DataFrame or 2-D array-like
        One group: rows are raters (respondents), columns are items; NaN is missing.
    scale_points : int
        Number of answer options A (all items on the same scale).
    null_variance : float, optional
        Expected item variance under no agreement; default ``(A^2 - 1)/12``.
    nan_policy : {"listwise", "pairwise"}, default "listwise"
        ``"listwise"`` drops raters with any missing item first (as R
        ``multilevel::rwg.j``); ``"pairwise"`` uses every available answer per item.

    Returns
    -------
    float
        r_wg(J) in [0, 1]; NaN when no item has two answers.

    Notes
    -----
    With :math:`\bar s^2` the mean over items of the item variances (ddof = 1) and
    :math:`q = \bar s^2 / \sigma^2_{EU}`,

    .. math:: r_{wg(J)} = \frac{J(1 - q)}{J(1 - q) + q}.

    Out-of-range rule: for :math:`q > 1` the formula leaves [0, 1] (negative, or above 1 when
    :math:`q > J/(J-1)`); r_wg(J) is then set to 0, as R ``multilevel::rwg.j`` does (it caps
    :math:`\bar s^2` at :math:`\sigma^2_{EU}`). r_wg(J) rises towards 1 as items are added
    for the same :math:`q` (Spearman-Brown); see :func:`rwg_j_lindell` for an index that
    does not. Items answered by fewer than two raters are left out of J.

    References
    ----------
    James LR, Demaree RG, Wolf G (1984) J Appl Psychol 69:85.
    Lindell MK, Brandt CJ, Whitney DJ (1999) Appl Psychol Meas 23:127.

    Examples
    --------
    >>> wide = [[4, 4, 5], [4, 5, 4], [5, 4, 4], [3, 4, 4], [4, 3, 4]]
    >>> round(rwg_j(wide, scale_points=5), 6)  # 12/13
    0.923077
    """
    sigma2 = _null_variance(scale_points, null_variance)
    variances = _item_variances(wide, nan_policy)
    if variances.size == 0:
        return float("nan")
    q = variances.mean() / sigma2
    j = variances.size
    if q >= 1:
        return 0.0
    return float(j * (1 - q) / (j * (1 - q) + q))


def rwg_j_lindell(
    wide: Any,
    scale_points: int,
    *,
    null_variance: float | None = None,
    nan_policy: str = "listwise",
) -> float:
    r"""Lindell, Brandt & Whitney's (1999) r*_wg(J) = 1 - mean item variance / null variance.

    Parameters
    ----------
    wide, scale_points, null_variance, nan_policy
        As in :func:`rwg_j`.

    Returns
    -------
    float
        r*_wg(J), at most 1 and *not* truncated at 0: negative values (down to -1 for a
        perfectly polarised two-pole group on a 5-point scale) signal more disagreement than
        random answering, as in R ``multilevel::rwg.j.lindell``. NaN when no item has two
        answers.

    Notes
    -----
    :math:`r^*_{wg(J)} = 1 - \bar s^2 / \sigma^2_{EU}`. Unlike :func:`rwg_j` it does not grow
    with the number of items, so it compares dimensions with different item counts fairly.

    References
    ----------
    Lindell MK, Brandt CJ, Whitney DJ (1999) Appl Psychol Meas 23:127.

    Examples
    --------
    >>> wide = [[4, 4, 5], [4, 5, 4], [5, 4, 4], [3, 4, 4], [4, 3, 4]]
    >>> round(rwg_j_lindell(wide, scale_points=5), 6)
    0.8
    """
    sigma2 = _null_variance(scale_points, null_variance)
    variances = _item_variances(wide, nan_policy)
    if variances.size == 0:
        return float("nan")
    return float(1 - variances.mean() / sigma2)


def _null_variance(scale_points: int, null_variance: float | None) -> float:
    if null_variance is None:
        return uniform_null_variance(scale_points)
    uniform_null_variance(scale_points)  # validates scale_points all the same
    if isinstance(null_variance, bool) or not isinstance(null_variance, int | float | np.number):
        raise TypeError("null_variance must be a positive number")
    if not np.isfinite(null_variance) or null_variance <= 0:
        raise ValueError(f"null_variance must be a positive number, got {null_variance}")
    return float(null_variance)


def _item_variances(wide: Any, nan_policy: str) -> np.ndarray:
    """Item variances (ddof = 1) of a raters x items table, items with < 2 answers dropped."""
    check_choice(nan_policy, _NAN_POLICIES, "nan_policy")
    if isinstance(wide, pd.DataFrame):
        require_numeric(wide, list(wide.columns), "wide")
        table = wide.to_numpy(dtype=float)
    else:
        try:
            table = np.asarray(wide, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("wide must be a raters x items table of numbers") from None
    if table.ndim != 2:
        raise ValueError(f"wide must be two-dimensional (raters x items), got shape {table.shape}")
    if np.isinf(table).any():
        raise ValueError("wide contains infinite values")
    if nan_policy == "listwise":
        table = table[~np.isnan(table).any(axis=1)]
    counts = np.count_nonzero(~np.isnan(table), axis=0)
    usable = counts >= 2
    if not usable.any():
        return np.empty(0)
    variances: np.ndarray = np.nanvar(table[:, usable], axis=0, ddof=1)
    return variances


# --------------------------------------------------------------------------- per partner


def agreement_by_partner(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    group: str = "partner_id",
    by: str | Sequence[str] | None = "round_id",
    min_n: int = 5,
    *,
    split_below: float = DEFAULT_SPLIT_BELOW,
    split_share: float = DEFAULT_SPLIT_SHARE,
    nan_policy: str = "pairwise",
) -> pd.DataFrame:
    r"""Within-partner agreement per partner and dimension, with a "split" flag.

    Parameters
    ----------
    answers : pandas.DataFrame
        Long answers (shared contract): ``response_id``, ``item_id``, ``value`` (NaN for
        missing or "don't know"), the ``group`` column and the ``by`` columns; an optional
        boolean ``dont_know`` column marks answers that are treated as missing.
    items : pandas.DataFrame
        Item map: ``item_id``, ``dimension``, ``reverse``, ``scale_min``, ``scale_max``.
        All items of a dimension must share one scale.
    group : str, default "partner_id"
        Column holding the partner.
    by : str or list of str or None, default "round_id"
        Further cell columns (agreement is computed within a round).
    min_n : int, default 5
        Cells with fewer respondents get NaN indices and no flag (pass the privacy threshold
        k; with fewer raters r_wg is mostly noise anyway).
    split_below : float, default 0.5
        ``split`` is set when r_wg(J) is below this.
    split_share : float, default 0.25
        ``split`` is also set when at least this share of respondents leans clearly to the
        unfavourable side *and* at least this share to the favourable side (see
        ``share_low``).
    nan_policy : {"pairwise", "listwise"}, default "pairwise"
        ``"pairwise"`` uses every answer (item variances over the respondents who answered
        that item), so a "don't know" costs one answer, not the respondent; ``"listwise"``
        keeps only respondents who answered every item of the dimension (as R
        ``multilevel::rwg.j``).

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` cell, partner and dimension:

        - the ``by`` columns, ``group``, ``dimension``;
        - ``n``: respondents with at least one answer in the dimension;
        - ``n_items``: items with at least two answers (J);
        - ``scale_points``: A;
        - ``mean_item_variance``: mean item variance (ddof = 1);
        - ``rwg_j``: r_wg(J), truncated to [0, 1] (see :func:`rwg_j`);
        - ``rwg_j_lindell``: r*_wg(J) (see :func:`rwg_j_lindell`);
        - ``share_low``, ``share_high``: share of respondents whose mean (reverse-coded)
          answer on the dimension lies at least halfway from the scale midpoint to the low /
          high end (at most 2 / at least 4 on a 1-5 scale);
        - ``split``: nullable boolean, ``rwg_j < split_below`` or
          ``min(share_low, share_high) >= split_share``; missing (``<NA>``) when untested;
        - ``reason``: why a row has no indices (``None`` otherwise).

    Notes
    -----
    Variances do not change under reverse coding, so r_wg(J) uses raw answers; the shares
    use reverse-coded answers :math:`x' = min + max - x`, so "low" always means the
    unfavourable side. :math:`\sigma^2_{EU} = (A^2-1)/12` with
    :math:`A = max - min + 1` (integer steps assumed). See :func:`rwg_j` for the index and its
    out-of-range rule, and ``DEFAULT_SPLIT_BELOW`` for the reasoning behind the thresholds.
    Several items per dimension are needed for a meaningful r_wg(J); a single-item dimension
    gives the single-item r_wg.

    References
    ----------
    James LR, Demaree RG, Wolf G (1984) J Appl Psychol 69:85.
    Lindell MK, Brandt CJ, Whitney DJ (1999) Appl Psychol Meas 23:127.
    LeBreton JM, Senter JL (2008) Organ Res Methods 11:815.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = {"q1": [4, 4, 5, 3, 4, 1, 5, 1, 5, 1], "q2": [4, 5, 4, 4, 3, 2, 5, 1, 5, 2]}
    >>> answers = pd.DataFrame([
    ...     {"response_id": f"r{i}", "round_id": 1, "partner_id": "ngo" if i < 5 else "clinic",
    ...      "item_id": item, "value": float(vals[i])}
    ...     for item, vals in wide.items() for i in range(10)])
    >>> items = pd.DataFrame({"item_id": ["q1", "q2"], "dimension": "transparency",
    ...                       "reverse": False, "scale_min": 1, "scale_max": 5})
    >>> out = agreement_by_partner(answers, items)
    >>> out[["partner_id", "n", "rwg_j", "split"]].round(3)
      partner_id  n  rwg_j  split
    0     clinic  5  0.000   True
    1        ngo  5  0.857  False
    """
    by_cols = as_column_list(by, "by")
    check_min_n(min_n, minimum=2)
    for name, share in (("split_below", split_below), ("split_share", split_share)):
        if isinstance(share, bool) or not isinstance(share, int | float | np.number):
            raise TypeError(f"{name} must be a number")
        if not 0 <= share <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {share}")
    check_choice(nan_policy, _NAN_POLICIES, "nan_policy")
    if "dimension" in [*by_cols, group]:
        raise ValueError("rows are already per dimension; leave 'dimension' out of group and by")
    rows = _answer_rows(answers, items, [*by_cols, group])
    cell, cells = _key_codes(rows.keys, ("dimension", rows.dimension, rows.dimensions))
    person, person_cell = _nested_codes(cell, rows.respondent)
    if nan_policy == "listwise":
        answered = np.bincount(person)[person]
        complete = answered == rows.n_dim_items
        rows, cell = rows.subset(complete), cell[complete]
        person, person_cell = _nested_codes(cell, rows.respondent)
    n_cells, n_item_ids = len(cells), rows.n_item_ids

    # Item variances (ddof = 1) per cell and item, two-pass for accuracy.
    key = cell * n_item_ids + rows.item
    size = n_cells * n_item_ids
    count = np.bincount(key, minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.bincount(key, rows.value, minlength=size) / count
        squares = np.bincount(key, (rows.value - mean[key]) ** 2, minlength=size)
        variance = np.where(count >= 2, squares / (count - 1), np.nan)
    variance = variance.reshape(n_cells, n_item_ids)
    n_items = np.count_nonzero(~np.isnan(variance), axis=1)
    with np.errstate(invalid="ignore"):
        mean_variance = np.where(n_items > 0, np.nansum(variance, axis=1) / n_items, np.nan)

    # Each respondent's mean lean on the dimension, then the shares leaning each way.
    lean = np.bincount(person, rows.lean) / np.bincount(person)
    n = np.bincount(person_cell, minlength=n_cells)
    with np.errstate(invalid="ignore"):
        share_low = np.bincount(person_cell, lean <= -_LEAN + _EPS, minlength=n_cells) / n
        share_high = np.bincount(person_cell, lean >= _LEAN - _EPS, minlength=n_cells) / n
    scale_points = np.zeros(n_cells, dtype=int)
    scale_points[cell] = rows.scale_points

    q = mean_variance / ((scale_points**2 - 1) / 12)
    with np.errstate(divide="ignore", invalid="ignore"):
        formula = n_items * (1 - q) / (n_items * (1 - q) + q)
    # Out-of-range rule of rwg_j: 0 whenever the mean variance reaches random answering.
    rwg_j_values = np.where(np.isnan(q), np.nan, np.where(q < 1, formula, 0.0))
    small = n < min_n
    no_items = n_items == 0
    untested = small | no_items
    reason = np.full(n_cells, None, dtype=object)
    reason[no_items] = "no item answered by two respondents"
    reason[small] = f"fewer than {min_n} respondents"
    share_low[small] = share_high[small] = np.nan
    split = pd.array(
        (rwg_j_values < split_below) | (np.minimum(share_low, share_high) >= split_share),
        dtype="boolean",
    )
    split[untested] = pd.NA
    out = cells.assign(
        n=n,
        n_items=n_items,
        scale_points=scale_points,
        mean_item_variance=np.where(untested, np.nan, mean_variance),
        rwg_j=np.where(untested, np.nan, rwg_j_values),
        rwg_j_lindell=np.where(untested, np.nan, 1 - q),
        share_low=share_low,
        share_high=share_high,
        split=split,
    )
    # An object column keeps None (pandas 3 would infer its str dtype and store NaN).
    out["reason"] = pd.Series(reason, index=out.index, dtype=object)
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class _AnswerRows:
    """Answered rows of ``answers`` as arrays, joined to the item map."""

    keys: pd.DataFrame  # the by and group columns, one row per answer
    dimension: np.ndarray  # integer code of the answer's dimension in ``dimensions``
    dimensions: pd.Index  # sorted dimension names
    respondent: np.ndarray  # integer code of response_id
    item: np.ndarray  # position of the item in the item map
    value: np.ndarray
    lean: np.ndarray  # -1 unfavourable end, 0 midpoint, +1 favourable end (reverse-coded)
    scale_points: np.ndarray
    n_dim_items: np.ndarray  # number of items of the answer's dimension in the item map
    n_item_ids: int

    def subset(self, mask: np.ndarray) -> _AnswerRows:
        return _AnswerRows(
            keys=self.keys.loc[mask],
            dimension=self.dimension[mask],
            dimensions=self.dimensions,
            respondent=self.respondent[mask],
            item=self.item[mask],
            value=self.value[mask],
            lean=self.lean[mask],
            scale_points=self.scale_points[mask],
            n_dim_items=self.n_dim_items[mask],
            n_item_ids=self.n_item_ids,
        )


def _answer_rows(answers: pd.DataFrame, items: pd.DataFrame, cell_cols: list[str]) -> _AnswerRows:
    """Validate ``answers`` and ``items`` and return the answered rows as arrays."""
    require_frame(answers, "answers")
    require_frame(items, "items")
    require_columns(answers, ["response_id", "item_id", "value", *cell_cols], "answers")
    require_columns(items, ["item_id", "dimension", "reverse", "scale_min", "scale_max"], "items")
    require_numeric(answers, ["value"], "answers")
    require_numeric(items, ["scale_min", "scale_max"], "items")
    item_index = pd.Index(items["item_id"])
    if item_index.has_duplicates:
        dupes = sorted(map(str, item_index[item_index.duplicated()].unique()))
        raise ValueError(f"items lists item_id more than once: {dupes}")
    item = item_index.get_indexer(answers["item_id"])
    if (item < 0).any():
        unknown = sorted(map(str, answers["item_id"][item < 0].unique()))
        raise ValueError(f"answers has item_id(s) missing from items: {unknown}")
    lo = items["scale_min"].to_numpy(dtype=float)
    hi = items["scale_max"].to_numpy(dtype=float)
    points = hi - lo + 1
    per_dim = pd.DataFrame({"dimension": items["dimension"], "lo": lo, "points": points})
    spread = per_dim.groupby("dimension", observed=True, dropna=False)[["lo", "points"]].nunique()
    mixed = spread.index[(spread > 1).any(axis=1)]
    if len(mixed):
        raise ValueError(
            "all items of a dimension must share one scale; mixed scales in "
            f"{sorted(map(str, mixed))}"
        )
    if not np.allclose(points, np.round(points)):
        raise ValueError("scale_min and scale_max must be whole numbers of scale steps apart")
    per_item = items.groupby("dimension", observed=True, dropna=False)["item_id"]
    n_dim_items = per_item.transform("size").to_numpy()

    respondent, _ = pd.factorize(answers["response_id"])
    if pd.Series(respondent * len(item_index) + item).duplicated().any():
        raise ValueError("answers has more than one row for a (response_id, item_id) pair")
    value = answers["value"].to_numpy(dtype=float, na_value=np.nan)
    answered = ~np.isnan(value)
    if "dont_know" in answers.columns:
        answered &= ~answers["dont_know"].eq(True).to_numpy()
    item, value, respondent = item[answered], value[answered], respondent[answered]
    lo_row, hi_row = lo[item], hi[item]
    check_scale_bounds(value, lo_row, hi_row, "answers value")
    reverse = items["reverse"].astype(bool).to_numpy()[item]
    recoded = np.where(reverse, lo_row + hi_row - value, value)
    keys = answers.loc[answered, list(dict.fromkeys(cell_cols))].reset_index(drop=True)
    dimension_of_item, dimensions = pd.factorize(
        items["dimension"], sort=True, use_na_sentinel=False
    )
    return _AnswerRows(
        keys=keys,
        dimension=dimension_of_item[item],
        dimensions=pd.Index(dimensions),
        respondent=respondent,
        item=item,
        value=value,
        lean=(recoded - (lo_row + hi_row) / 2) / ((hi_row - lo_row) / 2),
        scale_points=np.round(points[item]).astype(int),
        n_dim_items=n_dim_items[item],
        n_item_ids=len(item_index),
    )


def _key_codes(
    keys: pd.DataFrame, coded: tuple[str, np.ndarray, pd.Index]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Code the rows by their combination of ``keys`` columns and one coded column.

    The coded column comes as ``(name, codes, uniques)``. Returns an integer code per row and
    the sorted table of combinations.
    """
    columns, codes, uniques = [*keys.columns, coded[0]], [], []
    for column in keys.columns:
        code, unique = pd.factorize(keys[column], sort=True, use_na_sentinel=False)
        codes.append(code)
        uniques.append(unique)
    codes.append(coded[1])
    uniques.append(coded[2])
    shape = tuple(max(len(u), 1) for u in uniques)
    combined = np.ravel_multi_index(codes, shape) if len(keys) else np.empty(0, dtype=np.intp)
    cell, first = pd.factorize(combined, sort=True)
    parts = np.unravel_index(first, shape)
    table = pd.DataFrame({c: u.take(p) for c, u, p in zip(columns, uniques, parts, strict=True)})
    return cell, table


def _nested_codes(cell: np.ndarray, respondent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Code per (cell, respondent) pair, and the cell of each such pair."""
    width = int(respondent.max()) + 1 if respondent.size else 1
    person, pairs = pd.factorize(cell.astype(np.int64) * width + respondent)
    return person, (pairs // width).astype(np.intp)


# --------------------------------------------------------------------------- ICC


def group_icc(
    scores: pd.DataFrame,
    value: str = "score",
    group: str = "partner_id",
    by: str | Sequence[str] | None = "dimension",
    *,
    group_size: str = "mean",
) -> pd.DataFrame:
    r"""ICC(1) and ICC(2) of respondents nested in partners, from a one-way ANOVA (Bliese 2000).

    ICC(1) is the share of score variance that lies between partners (how much partner
    membership matters); ICC(2) is the reliability of the partner means. Both are pooled
    properties: with 3-6 partners ICC(1) is very imprecise and can be negative, so report it
    descriptively.

    Parameters
    ----------
    scores : pandas.DataFrame
        Long frame with ``value``, ``group`` and the ``by`` columns; rows with a missing value
        or group are dropped.
    value : str, default "score"
        Numeric column.
    group : str, default "partner_id"
        Column holding the partner (the level-2 unit).
    by : str or list of str or None, default "dimension"
        One row per cell of these columns.
    group_size : {"mean", "n0"}, default "mean"
        The k in ICC(1): ``"mean"`` is N / J, as R ``multilevel::ICC1``; ``"n0"`` is the
        unbalanced-ANOVA size :math:`(N - \sum n_j^2 / N)/(J - 1)`. Equal for equal groups.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` cell: the ``by`` columns, ``n``, ``n_groups``, ``group_size``
        (k used), ``msb``, ``msw`` (mean squares between and within), ``f`` (MSB/MSW),
        ``df1`` (J - 1), ``df2`` (N - J), ``p_value`` (F test of equal means), ``icc1``,
        ``icc2`` and ``reason`` (why a row is empty, else ``None``).

    Notes
    -----
    .. math:: ICC(1) = \frac{MSB - MSW}{MSB + (k - 1) MSW}, \qquad
              ICC(2) = \frac{MSB - MSW}{MSB}

    For a balanced design these are Shrout & Fleiss's ICC1 and ICC1k (see :func:`icc`).
    ICC(2) is NaN when MSB = 0.

    References
    ----------
    Bliese PD (2000) Within-group agreement, non-independence, and reliability. In Klein KJ,
    Kozlowski SWJ (eds) Multilevel Theory, Research, and Methods in Organizations, 349-381.
    Bartko JJ (1976) Psychol Bull 83:762.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"dimension": "equality", "partner_id": list("aaabbbccc"),
    ...                        "score": [1, 2, 2, 3, 4, 4, 5, 5, 5]})
    >>> group_icc(scores)[["n", "n_groups", "f", "icc1", "icc2"]].round(4)
       n  n_groups     f   icc1    icc2
    0  9         3  38.0  0.925  0.9737
    """
    by_cols = as_column_list(by, "by")
    frame = valid_rows(scores, "scores", value, [group, *by_cols])
    check_choice(group_size, _GROUP_SIZES, "group_size")
    frame = frame.loc[frame[group].notna()]
    rows = []
    for key, cell in iter_cells(frame, by_cols):
        sizes = cell.groupby(group, sort=False, observed=True)[value].size().to_numpy(float)
        sums = cell.groupby(group, sort=False, observed=True)[value].sum().to_numpy(float)
        n, j = sizes.sum(), sizes.size
        row: dict[str, Any] = {
            **key,
            "n": int(n),
            "n_groups": int(j),
            "group_size": np.nan,
            "msb": np.nan,
            "msw": np.nan,
            "f": np.nan,
            "df1": j - 1,
            "df2": int(n - j),
            "p_value": np.nan,
            "icc1": np.nan,
            "icc2": np.nan,
            "reason": None,
        }
        if j < 2 or n <= j:
            row["reason"] = "needs two or more groups and more respondents than groups"
            rows.append(row)
            continue
        values = cell[value].to_numpy(float)
        grand = values.mean()
        ss_total = float(np.sum((values - grand) ** 2))
        ss_between = float(np.sum(sums**2 / sizes) - n * grand**2)
        ss_between = min(max(ss_between, 0.0), ss_total)
        msb = ss_between / (j - 1)
        msw = (ss_total - ss_between) / (n - j)
        k = n / j if group_size == "mean" else (n - np.sum(sizes**2) / n) / (j - 1)
        row.update(group_size=float(k), msb=msb, msw=msw)
        if msb == 0 and msw == 0:
            row["reason"] = "all values are identical"
        else:
            with np.errstate(divide="ignore"):
                f = msb / msw if msw > 0 else np.inf
            row.update(
                f=f,
                p_value=float(stats.f.sf(f, j - 1, n - j)),
                icc1=(msb - msw) / (msb + (k - 1) * msw),
                icc2=(msb - msw) / msb if msb > 0 else np.nan,
            )
        rows.append(row)
    columns = [
        *by_cols,
        "n",
        "n_groups",
        "group_size",
        "msb",
        "msw",
        "f",
        "df1",
        "df2",
        "p_value",
        "icc1",
        "icc2",
        "reason",
    ]
    return result_frame(rows, columns)


_ICC_DESCRIPTIONS = {
    "ICC1": "one-way random effects, single rater: ICC(1)",
    "ICC2": "two-way random effects, absolute agreement, single rater: ICC(A,1)",
    "ICC3": "two-way mixed effects, consistency, single rater: ICC(C,1)",
    "ICC1k": "one-way random effects, mean of k raters: ICC(k)",
    "ICC2k": "two-way random effects, absolute agreement, mean of k raters: ICC(A,k)",
    "ICC3k": "two-way mixed effects, consistency, mean of k raters: ICC(C,k)",
}


def icc(
    data: pd.DataFrame,
    targets: str,
    raters: str,
    ratings: str,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Compute the six Shrout & Fleiss intraclass correlations for a fully crossed design.

    Every rater rates every target once (e.g. facilitators scoring every partner). Not for
    respondents nested in partners: use :func:`group_icc` for that.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame, one row per (target, rater) rating.
    targets, raters, ratings : str
        Columns holding the target, the rater and the numeric rating.
    confidence : float, default 0.95
        Level of the F-based confidence intervals.

    Returns
    -------
    pandas.DataFrame
        Six rows (``ICC1``, ``ICC2``, ``ICC3``, ``ICC1k``, ``ICC2k``, ``ICC3k``) with columns
        ``type``, ``description`` (including McGraw & Wong's name), ``icc``, ``f``, ``df1``,
        ``df2``, ``p_value``, ``ci_low``, ``ci_high``, ``n`` (targets) and ``k`` (raters).

    Raises
    ------
    ValueError
        If a (target, rater) pair is rated twice, or fewer than two targets with complete
        ratings or fewer than two raters remain.

    Notes
    -----
    From the two-way ANOVA of the n x k table (mean squares for targets MSR, raters MSC,
    residual MSE, and within targets MSW):

    - ICC1 = (MSR - MSW) / (MSR + (k-1) MSW); ICC1k = (MSR - MSW) / MSR;
      F = MSR/MSW on (n-1, n(k-1)).
    - ICC2 = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE)/n);
      ICC2k = (MSR - MSE) / (MSR + (MSC - MSE)/n).
    - ICC3 = (MSR - MSE) / (MSR + (k-1) MSE); ICC3k = (MSR - MSE) / MSR;
      F = MSR/MSE on (n-1, (n-1)(k-1)) for ICC2, ICC3 and their k forms.

    Confidence intervals follow Shrout & Fleiss (1979) for ICC1/ICC3 forms and McGraw & Wong
    (1996, approximate Satterthwaite df) for ICC2/ICC2k, as ``pingouin.intraclass_corr``
    and R ``psych::ICC``. Targets with a missing rating are dropped (listwise).

    References
    ----------
    Shrout PE, Fleiss JL (1979) Psychol Bull 86:420.
    McGraw KO, Wong SP (1996) Psychol Methods 1:30.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"A": [1, 1, 3, 6, 6, 7, 8, 9], "B": [2, 3, 8, 4, 5, 5, 7, 9],
    ...                      "C": [0, 3, 1, 3, 5, 6, 7, 9], "D": [1, 2, 4, 3, 6, 2, 9, 8]})
    >>> long = wide.reset_index().melt(id_vars="index", var_name="judge", value_name="score")
    >>> icc(long, "index", "judge", "score")[["type", "icc"]].round(3)
        type    icc
    0   ICC1  0.728
    1   ICC2  0.728
    2   ICC3  0.729
    3  ICC1k  0.914
    4  ICC2k  0.914
    5  ICC3k  0.915
    """
    require_frame(data, "data")
    require_columns(data, [targets, raters, ratings], "data")
    require_numeric(data, [ratings], "data")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float | np.number):
        raise TypeError("confidence must be a number between 0 and 1")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    if data.duplicated(subset=[targets, raters]).any():
        raise ValueError(f"each ({targets}, {raters}) pair must be rated once; found duplicates")
    table = data.pivot(index=targets, columns=raters, values=ratings).to_numpy(dtype=float)
    if np.isinf(table).any():
        raise ValueError(f"data column {ratings!r} contains infinite values")
    table = table[~np.isnan(table).any(axis=1)]
    n, k = table.shape
    if n < 2 or k < 2:
        raise ValueError(
            f"icc needs at least two targets with complete ratings and two raters; got {n}, {k}"
        )
    grand = table.mean()
    ss_total = np.sum((table - grand) ** 2)
    ss_rows = k * np.sum((table.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((table.mean(axis=0) - grand) ** 2)
    df_rows, df_cols, df_err, df_within = n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)
    msr = ss_rows / df_rows
    msc = ss_cols / df_cols
    mse = (ss_total - ss_rows - ss_cols) / df_err
    msw = (ss_total - ss_rows) / df_within

    alpha = 1 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = (msr - msw) / (msr + (k - 1) * msw)
        icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        icc3 = (msr - mse) / (msr + (k - 1) * mse)
        icc1k = (msr - msw) / msr
        icc2k = (msr - mse) / (msr + (msc - mse) / n)
        icc3k = (msr - mse) / msr
        f1 = msr / msw
        f3 = msr / mse

        # Shrout & Fleiss (1979) intervals for the one-way and consistency forms.
        f1_low = f1 / stats.f.ppf(1 - alpha / 2, df_rows, df_within)
        f1_high = f1 * stats.f.ppf(1 - alpha / 2, df_within, df_rows)
        f3_low = f3 / stats.f.ppf(1 - alpha / 2, df_rows, df_err)
        f3_high = f3 * stats.f.ppf(1 - alpha / 2, df_err, df_rows)
        ci1 = ((f1_low - 1) / (f1_low + k - 1), (f1_high - 1) / (f1_high + k - 1))
        ci1k = (1 - 1 / f1_low, 1 - 1 / f1_high)
        ci3 = ((f3_low - 1) / (f3_low + k - 1), (f3_high - 1) / (f3_high + k - 1))
        ci3k = (1 - 1 / f3_low, 1 - 1 / f3_high)

        # McGraw & Wong (1996) interval for absolute agreement, approximate df v.
        fj = msc / mse
        shared = n * (1 + (k - 1) * icc2) - k * icc2
        v = (df_cols * df_rows * (k * icc2 * fj + shared) ** 2) / (
            df_rows * k**2 * icc2**2 * fj**2 + shared**2
        )
        f_star_high = stats.f.ppf(1 - alpha / 2, df_rows, v)
        f_star_low = stats.f.ppf(1 - alpha / 2, v, df_rows)
        rater_error = k * msc + (k * n - k - n) * mse
        low2 = n * (msr - f_star_high * mse) / (f_star_high * rater_error + n * msr)
        high2 = n * (f_star_low * msr - mse) / (rater_error + n * f_star_low * msr)
        ci2 = (low2, high2)
        ci2k = (low2 * k / (1 + low2 * (k - 1)), high2 * k / (1 + high2 * (k - 1)))

    p1 = stats.f.sf(f1, df_rows, df_within)
    p3 = stats.f.sf(f3, df_rows, df_err)
    rows = [
        ("ICC1", icc1, f1, df_rows, df_within, p1, ci1),
        ("ICC2", icc2, f3, df_rows, df_err, p3, ci2),
        ("ICC3", icc3, f3, df_rows, df_err, p3, ci3),
        ("ICC1k", icc1k, f1, df_rows, df_within, p1, ci1k),
        ("ICC2k", icc2k, f3, df_rows, df_err, p3, ci2k),
        ("ICC3k", icc3k, f3, df_rows, df_err, p3, ci3k),
    ]
    return pd.DataFrame(
        [
            {
                "type": name,
                "description": _ICC_DESCRIPTIONS[name],
                "icc": float(value),
                "f": float(f),
                "df1": int(d1),
                "df2": int(d2),
                "p_value": float(p),
                "ci_low": float(ci[0]),
                "ci_high": float(ci[1]),
                "n": int(n),
                "k": int(k),
            }
            for name, value, f, d1, d2, p, ci in rows
        ]
    )
