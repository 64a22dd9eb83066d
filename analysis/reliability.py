"""Is a dimension measured reliably: Cronbach's alpha, Feldt CI, item-total statistics.

Alpha is a property of the instrument, so compute it on all respondents pooled (per
dimension), never per partner with a handful of people.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_ci_level, nan_to_none, require_frame
from analysis.scoring import item_matrix

__all__ = [
    "AlphaResult",
    "cronbach_alpha",
    "item_analysis",
    "reliability_by_dimension",
]

NanPolicy = Literal["pairwise", "listwise"]
_REASON_ITEMS = "fewer_than_2_items"
_REASON_RESPONDENTS = "too_few_complete_respondents"
_REASON_VARIANCE = "no_total_variance"
# alpha_if_deleted must beat alpha by more than rounding noise to count as "raises alpha".
_EPS = 1e-12


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha with its Feldt confidence interval.

    Attributes
    ----------
    alpha : float
        Cronbach's alpha (NaN when the total variance is zero or not estimable).
    ci_low, ci_high : float
        Feldt, Woodruff & Salih (1987) confidence interval.
    n : int
        Respondents used (listwise: complete rows; pairwise: rows with any answer).
    k : int
        Items.
    nan_policy : str
        ``"pairwise"`` or ``"listwise"``.
    ci_level : float
        Confidence level.
    """

    alpha: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    nan_policy: str
    ci_level: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict (NaN becomes None)."""
        return nan_to_none(asdict(self))


def _as_item_frame(wide: Any) -> pd.DataFrame:
    if isinstance(wide, pd.DataFrame):
        frame = wide
    else:
        arr = np.asarray(wide)
        if arr.ndim != 2:
            raise ValueError("wide must be 2-D: respondents in rows, items in columns")
        frame = pd.DataFrame(arr)
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            raise TypeError(f"wide column {column!r} must be numeric, got dtype {dtype}")
    out = frame.astype(float)
    if np.isinf(out.to_numpy()).any():
        raise ValueError("wide contains infinite values")
    return out


def _covariance(frame: pd.DataFrame, nan_policy: str) -> tuple[np.ndarray, int]:
    """Item covariance matrix (ddof = 1) and the respondent count used."""
    if nan_policy == "listwise":
        frame = frame.dropna(how="any")
    elif nan_policy == "pairwise":
        frame = frame.dropna(how="all")
    else:
        raise ValueError(f"nan_policy must be 'pairwise' or 'listwise', got {nan_policy!r}")
    if len(frame) < 2:  # no covariance; callers refuse or report this case
        return np.full((frame.shape[1], frame.shape[1]), np.nan), len(frame)
    return frame.cov(ddof=1).to_numpy(), len(frame)


def _alpha_from_cov(cov: np.ndarray) -> float:
    k = cov.shape[0]
    total = float(cov.sum())
    if not np.isfinite(total) or total <= 0:
        return float("nan")
    return k / (k - 1) * (1.0 - float(np.trace(cov)) / total)


def _feldt(alpha: float, n: int, k: int, level: float) -> tuple[float, float]:
    if not np.isfinite(alpha) or n < 2:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * stats.f.isf(tail, df1, df2)
    high = 1.0 - (1.0 - alpha) * stats.f.isf(1.0 - tail, df1, df2)
    return float(low), float(high)


def cronbach_alpha(
    wide: Any, nan_policy: NanPolicy = "pairwise", ci_level: float = 0.95
) -> AlphaResult:
    """Cronbach's alpha of a respondents x items matrix, with a Feldt confidence interval.

    Parameters
    ----------
    wide : pandas.DataFrame or 2-D array-like
        Respondents in rows, items in columns (already reverse-coded; see
        :func:`analysis.scoring.item_matrix`); NaN = not answered.
    nan_policy : {"pairwise", "listwise"}, default "pairwise"
        ``"pairwise"``: each covariance from the respondents who answered both items (rows
        with no answer at all are dropped); ``"listwise"``: complete rows only.
    ci_level : float, default 0.95
        Confidence level of the Feldt interval.

    Returns
    -------
    AlphaResult
        ``alpha``, ``ci_low``, ``ci_high``, ``n``, ``k``, ``nan_policy``, ``ci_level``.

    Raises
    ------
    ValueError
        Fewer than 2 items or 2 respondents, an unknown ``nan_policy``.
    TypeError
        Non-numeric columns.

    Notes
    -----
    From the item covariance matrix ``C`` (ddof = 1) of ``k`` items::

        alpha = k / (k - 1) * (1 - trace(C) / sum(C))

    Feldt, Woodruff & Salih (1987) interval with ``n`` respondents::

        low  = 1 - (1 - alpha) * F.isf((1 - level) / 2, n - 1, (n - 1)(k - 1))
        high = 1 - (1 - alpha) * F.isf((1 + level) / 2, n - 1, (n - 1)(k - 1))

    Alpha is NaN when ``sum(C) <= 0`` or a pair of items was never answered together. A
    pairwise covariance matrix need not be positive definite, and the Feldt interval then
    uses the count of respondents with any answer, an approximation; prefer ``"listwise"``
    when many answers are missing. Alpha below 0 means a negative average covariance,
    usually a reverse-keyed item that was not recoded (see :func:`item_analysis`).

    References
    ----------
    Cronbach LJ (1951) Psychometrika 16:297. Feldt LS, Woodruff DJ, Salih FA (1987) Appl
    Psychol Meas 11:93.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"q1": [1, 2, 3, 4, 5], "q2": [2, 2, 3, 5, 4],
    ...                      "q3": [1, 3, 3, 4, 5]})
    >>> result = cronbach_alpha(wide)
    >>> round(result.alpha, 4), round(result.ci_low, 4), round(result.ci_high, 4)
    (0.9451, 0.7225, 0.9939)
    """
    frame = _as_item_frame(wide)
    level = check_ci_level(ci_level)
    k = frame.shape[1]
    if k < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 items, got {k}")
    cov, n = _covariance(frame, nan_policy)
    if n < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 respondents, got {n}")
    alpha = _alpha_from_cov(cov)
    low, high = _feldt(alpha, n, k, level)
    return AlphaResult(alpha, low, high, n, k, nan_policy, level)


def _item_statistics(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corrected item-total r and alpha if deleted, both from the covariance matrix."""
    k = cov.shape[0]
    var = np.diag(cov)
    row = cov.sum(axis=1)
    total = cov.sum()
    rest_var = total - 2.0 * row + var  # var(total - x_j)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (row - var) / np.sqrt(var * rest_var)
        if k > 2:
            alpha_del = (k - 1) / (k - 2) * (1.0 - (np.trace(cov) - var) / rest_var)
            alpha_del[~(rest_var > 0)] = np.nan
        else:  # one item left: alpha is undefined
            alpha_del = np.full(k, np.nan)
    return r, alpha_del


def item_analysis(wide: Any, nan_policy: NanPolicy = "pairwise") -> pd.DataFrame:
    """Corrected item-total correlation and alpha-if-deleted for every item.

    Parameters
    ----------
    wide : pandas.DataFrame or 2-D array-like
        Respondents x items, reverse-coded, NaN = not answered.
    nan_policy : {"pairwise", "listwise"}, default "pairwise"
        As in :func:`cronbach_alpha`.

    Returns
    -------
    pandas.DataFrame
        One row per item, in column order:

        - ``item_id``: the column name.
        - ``n`` (int): respondents who answered the item (among those used).
        - ``mean``, ``sd`` (float): item mean and SD (ddof = 1).
        - ``corrected_item_total_r`` (float): Pearson r between the item and the total of
          the other items; NaN for an item without variance.
        - ``alpha_if_deleted`` (float): alpha of the other items (NaN with 2 items).
        - ``negative_correlation`` (bool): r < 0. The item runs against the rest of its
          dimension: a reverse-keyed item whose ``reverse`` flag is probably missing.

    Notes
    -----
    Both statistics come from the covariance matrix ``C``, as R ``psych::alpha`` does (so
    pairwise deletion is handled consistently). With ``s_j = sum_l C_jl`` and
    ``T = sum(C)``::

        r_j = (s_j - C_jj) / sqrt(C_jj * (T - 2 s_j + C_jj))
        alpha_-j = (k - 1)/(k - 2) * (1 - (trace(C) - C_jj) / (T - 2 s_j + C_jj))

    Rules of thumb flag ``r_j`` below .20-.30 as weak.

    References
    ----------
    Revelle W, psych::alpha (``r.drop``, ``alpha.drop``), CRAN.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"q1": [1, 2, 3, 4, 5], "q2": [2, 2, 3, 5, 4],
    ...                      "q3": [1, 3, 3, 4, 5], "q4": [5, 4, 3, 1, 2]})
    >>> item_analysis(wide)[["item_id", "alpha_if_deleted", "negative_correlation"]].round(3)
      item_id  alpha_if_deleted  negative_correlation
    0      q1            -5.885                 False
    1      q2            -1.875                 False
    2      q3            -4.412                 False
    3      q4             0.945                  True
    """
    frame = _as_item_frame(wide)
    if frame.shape[1] < 2:
        raise ValueError(f"item analysis needs at least 2 items, got {frame.shape[1]}")
    cov, n = _covariance(frame, nan_policy)
    if n < 2:
        raise ValueError(f"item analysis needs at least 2 respondents, got {n}")
    used = frame.dropna(how="any") if nan_policy == "listwise" else frame.dropna(how="all")
    r, alpha_del = _item_statistics(cov)
    return pd.DataFrame(
        {
            "item_id": list(frame.columns),
            "n": used.count().to_numpy(dtype=np.int64),
            "mean": used.mean().to_numpy(),
            "sd": used.std(ddof=1).to_numpy(),
            "corrected_item_total_r": r,
            "alpha_if_deleted": alpha_del,
            "negative_correlation": r < 0,
        }
    )


def reliability_by_dimension(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    nan_policy: NanPolicy = "pairwise",
    ci_level: float = 0.95,
    *,
    min_respondents: int = 3,
) -> pd.DataFrame:
    """Alpha, Feldt CI and problem items for every dimension of a questionnaire.

    Parameters
    ----------
    answers : pandas.DataFrame
        Long answers (contract of :func:`analysis.scoring.dimension_scores`); pass all
        respondents pooled (all partners, and rounds if the questionnaire did not change).
    items : pandas.DataFrame
        Item map; reverse-keyed items are recoded before anything is computed.
    nan_policy : {"pairwise", "listwise"}, default "pairwise"
        As in :func:`cronbach_alpha`.
    ci_level : float, default 0.95
        Confidence level.
    min_respondents : int, default 3
        Fewest complete respondents (all items of the dimension answered) for a result.

    Returns
    -------
    pandas.DataFrame
        One row per dimension (item-map order):

        - ``dimension``.
        - ``alpha``, ``ci_low``, ``ci_high`` (float; NaN when not computed).
        - ``n`` (int): respondents used; ``n_complete`` (int): respondents who answered all
          of the dimension's items; ``k`` (int): items in the dimension.
        - ``items_raise_alpha`` (list of item ids): items whose deletion would raise alpha.
        - ``items_negative_r`` (list of item ids): items with a negative corrected item-total
          r (probably a missing reverse flag).
        - ``reason`` (str or None): why alpha is NaN: ``"fewer_than_2_items"``,
          ``"too_few_complete_respondents"`` or ``"no_total_variance"`` (the summed
          covariance matrix is not positive: everyone gave the same answers, or a pairwise
          matrix is far from positive definite); None when alpha was computed.

    Notes
    -----
    Formulas as in :func:`cronbach_alpha` and :func:`item_analysis`. Short dimensions
    (2-3 items) have low alpha by construction, and with small n the Feldt interval is wide
    (n = 10, k = 5, alpha = .70 gives about [.25, .91]); show the interval, not only alpha.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [[4, 4, 2], [5, 4, 1], [2, 3, 4], [3, 3, 3], [4, 5, 2]]
    >>> answers = pd.DataFrame(
    ...     [(f"r{i}", 1, "A", f"q{j + 1}", float(v))
    ...      for i, row in enumerate(rows) for j, v in enumerate(row)],
    ...     columns=["response_id", "round_id", "partner_id", "item_id", "value"])
    >>> items = pd.DataFrame({"item_id": ["q1", "q2", "q3"], "dimension": "d",
    ...                       "reverse": [False, False, True], "scale_min": 1, "scale_max": 5})
    >>> out = reliability_by_dimension(answers, items)
    >>> out[["dimension", "k", "n", "items_negative_r", "reason"]]
      dimension  k  n items_negative_r reason
    0         d  3  5               []   None
    """
    require_frame(items, "items")
    level = check_ci_level(ci_level)
    if nan_policy not in ("pairwise", "listwise"):
        raise ValueError(f"nan_policy must be 'pairwise' or 'listwise', got {nan_policy!r}")
    if isinstance(min_respondents, bool) or not isinstance(min_respondents, int | np.integer):
        raise TypeError("min_respondents must be an int")
    if min_respondents < 2:
        raise ValueError("min_respondents must be at least 2")
    wide = item_matrix(answers, items)
    rows = []
    for dimension, item_ids in items.groupby("dimension", sort=False)["item_id"]:
        sub = wide[list(item_ids)]
        k = sub.shape[1]
        used = sub.dropna(how="any") if nan_policy == "listwise" else sub.dropna(how="all")
        n_complete = int(sub.notna().all(axis=1).sum())
        row: dict[str, Any] = {
            "dimension": dimension,
            "alpha": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "n": len(used),
            "n_complete": n_complete,
            "k": k,
            "items_raise_alpha": [],
            "items_negative_r": [],
            "reason": None,
        }
        if k < 2:
            row["reason"] = _REASON_ITEMS
        elif n_complete < min_respondents:
            row["reason"] = _REASON_RESPONDENTS
        else:
            cov, n = _covariance(sub, nan_policy)
            alpha = _alpha_from_cov(cov)
            if not np.isfinite(alpha):  # every pair has >= 2 joint answers, so sum(C) <= 0
                row["reason"] = _REASON_VARIANCE
            else:
                r, alpha_del = _item_statistics(cov)
                row["alpha"] = alpha
                row["ci_low"], row["ci_high"] = _feldt(alpha, n, k, level)
                ids = list(item_ids)
                row["items_raise_alpha"] = [
                    i for i, a in zip(ids, alpha_del, strict=True) if a > alpha + _EPS
                ]
                row["items_negative_r"] = [i for i, v in zip(ids, r, strict=True) if v < 0]
        rows.append(row)
    out = pd.DataFrame(rows)
    # Built explicitly as object so a missing reason stays None (pandas would infer NaN).
    out["reason"] = pd.Series([row["reason"] for row in rows], dtype=object, index=out.index)
    return out.astype({"n": np.int64, "n_complete": np.int64, "k": np.int64})
