"""Is a dimension measured reliably: alpha, omega, item-total statistics, which to read.

Cronbach's alpha comes with a Feldt interval, McDonald's omega with a bootstrap interval.

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
    "OMEGA_N_RESAMPLES",
    "TRUST",
    "TRUST_MARGIN",
    "AlphaResult",
    "OmegaResult",
    "cronbach_alpha",
    "item_analysis",
    "mcdonald_omega",
    "reliability_by_dimension",
    "which_reliability",
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
    return float(k / (k - 1) * (1.0 - float(np.trace(cov)) / total))


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


# --------------------------------------------------------------------------- McDonald's omega

#: Bootstrap resamples of respondents for the omega interval.
OMEGA_N_RESAMPLES = 1000
#: Alpha and omega "disagree" when they differ by at least this much (0.05 changes the first
#: decimal a report shows, and exceeds the usual sampling wobble of their difference).
TRUST_MARGIN = 0.05
#: Values of ``trust``: which coefficient to read.
TRUST = ("either", "omega", "alpha", "neither")
_PAF_MAX_ITER = 1000
_PAF_TOL = 1e-10
_REASON_OMEGA_ITEMS = "fewer_than_3_items"
_REASON_OMEGA_VARIANCE = "no_item_variance"
#: Omega bootstrap through answer patterns with draws shared by equal-sized dimensions (same
#: figures, less time); False is the reference path, kept for the equivalence checks.
FAST_OMEGA = True


@dataclass(frozen=True)
class OmegaResult:
    r"""McDonald's omega total from a one-factor model, with a bootstrap interval.

    Attributes
    ----------
    omega : float
        Omega total, :math:`(\sum\lambda)^2 / ((\sum\lambda)^2 + \sum\psi)`.
    ci_low, ci_high : float
        Percentile bootstrap interval (NaN when ``n_resamples`` is 0 or too few resamples
        could be fitted).
    loadings : tuple of float
        Standardised one-factor loadings (minimum residual), oriented so they sum to >= 0.
    heywood : bool
        A communality reached 1 (an improper solution, uniqueness set to 0).
    n : int
        Respondents used (rows with at least one answer).
    k : int
        Items.
    ci_level : float
        Confidence level.
    n_resamples : int
        Bootstrap resamples drawn.
    """

    omega: float
    ci_low: float
    ci_high: float
    loadings: tuple[float, ...]
    heywood: bool
    n: int
    k: int
    ci_level: float
    n_resamples: int

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict (NaN becomes None)."""
        return nan_to_none({**asdict(self), "loadings": list(self.loadings)})


def _weighted_corr(x: np.ndarray, present: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Pairwise-complete Pearson correlations, one k x k matrix per row of ``weights``.

    ``weights`` (B x n) are respondent counts (1 for the data, multinomial for a bootstrap
    resample); each r_ij uses the respondents who answered both items, as pandas ``corr``.
    This is the reference; :func:`_pattern_corr` gives the same matrices faster.
    """
    n, k = x.shape
    xm = np.where(present, x, 0.0)
    m = present.astype(float)

    def pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        product: np.ndarray = weights @ (a[:, :, None] * b[:, None, :]).reshape(n, k * k)
        return product.reshape(-1, k, k)

    return _corr_from_sums(pair(m, m), pair(xm, m), pair(xm * xm, m), pair(xm, xm))


def _corr_from_sums(
    count: np.ndarray, sx: np.ndarray, sxx: np.ndarray, sxy: np.ndarray
) -> np.ndarray:
    """Correlations (B x k x k) from the weighted pairwise sums of :func:`_weighted_corr`.

    ``count``: rows answering both items; ``sx``/``sxx``: sum of x_i / x_i^2 over those rows;
    ``sxy``: sum of x_i x_j.
    """
    k = count.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * np.swapaxes(sx, 1, 2) / count
        var_i = sxx - sx**2 / count
        var_j = np.swapaxes(var_i, 1, 2)
        corr = cov / np.sqrt(var_i * var_j)
    corr[(count < 2) | ~(var_i > 1e-12) | ~(var_j > 1e-12)] = np.nan
    idx = np.arange(k)
    corr[:, idx, idx] = 1.0
    result: np.ndarray = corr
    return result


def _resample_draws(
    n: int, n_resamples: int, random_state: int | np.random.Generator | None
) -> np.ndarray:
    """B x n respondent indices drawn with replacement, as ``rng.integers(0, n, (B, n))``.

    Drawn as int32, which for n < 2**31 gives the very values of the default int64 draw
    (numpy takes both from the same buffered 32-bit bounded generator) in half the memory.
    """
    rng = (
        random_state
        if isinstance(random_state, np.random.Generator)
        else np.random.default_rng(random_state)
    )
    dtype = np.int32 if n < 2**31 - 1 else np.int64
    draws: np.ndarray = rng.integers(0, n, size=(n_resamples, n), dtype=dtype)
    return draws


def _exact_in_float(x: np.ndarray, present: np.ndarray) -> bool:
    """Whether every weighted sum of n draws of x_i x_j is an integer below 2**53.

    Then each sum is exact in float64 whatever the order of the additions, so sums taken
    over answer patterns equal those taken respondent by respondent, to the bit.
    """
    values = x[present]
    if values.size == 0 or not np.array_equal(values, np.rint(values)):
        return False
    return bool(float(np.max(values**2)) * x.shape[0] < 2.0**52)


def _answer_patterns(xm: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with the same answers: (a row of each pattern, the pattern of every row).

    Integer answers (see :func:`_exact_in_float`) are packed into one int64 key per row when
    they fit, which sorts far faster than rows of floats.
    """
    k = xm.shape[1]
    low, high = float(xm[present].min()), float(xm[present].max())
    base = int(high - low) + 2  # code 0 = not answered
    if base**k < 2**62:
        codes = np.where(present, xm - low + 1.0, 0.0).astype(np.int64)
        key = codes @ (base ** np.arange(k, dtype=np.int64))
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:
        rows = np.concatenate([xm, present.astype(float)], axis=1)
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _pattern_corr(x: np.ndarray, present: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """:func:`_weighted_corr` of the resamples ``draws`` (B x n indices), computed per pattern.

    Respondents with the same answers (a Likert dimension of 5 items has a few thousand
    patterns however many respondents) are counted together: each resample's sums are its
    pattern counts times the pattern's products, one (B x patterns) @ (patterns x 4k^2)
    product instead of four (B x n) @ (n x k^2) ones. Only for data where
    :func:`_exact_in_float` holds, so the sums, and hence the correlations, are identical.
    """
    k = x.shape[1]
    b = draws.shape[0]
    xm = np.where(present, x, 0.0)
    m = present.astype(float)
    first, inverse = _answer_patterns(xm, present)
    n_patterns = len(first)
    counts = np.empty((b, n_patterns))
    for row in range(b):  # row by row keeps the index arrays in cache
        counts[row] = np.bincount(inverse[draws[row]], minlength=n_patterns)
    px, pm = xm[first], m[first]
    features = np.concatenate(
        [
            (a[:, :, None] * c[:, None, :]).reshape(n_patterns, k * k)
            for a, c in ((pm, pm), (px, pm), (px * px, pm), (px, px))
        ],
        axis=1,
    )
    sums = (counts @ features).reshape(b, 4, k, k)
    return _corr_from_sums(sums[:, 0], sums[:, 1], sums[:, 2], sums[:, 3])


def _bootstrap_corr(
    x: np.ndarray,
    present: np.ndarray,
    n_resamples: int,
    random_state: int | np.random.Generator | None,
    shared: dict[tuple[int, int], np.ndarray] | None,
) -> np.ndarray:
    """Correlation matrices of the omega bootstrap resamples (B x k x k).

    With ``FAST_OMEGA`` the draws come from :func:`_resample_draws` (shared through
    ``shared`` by the dimensions of one call with an int seed: they restart the same seed,
    so equal respondent counts draw equal indices) and the sums from :func:`_pattern_corr`;
    otherwise the reference: a count matrix per call and :func:`_weighted_corr`.
    """
    n = x.shape[0]
    if not FAST_OMEGA:
        rng = (
            random_state
            if isinstance(random_state, np.random.Generator)
            else np.random.default_rng(random_state)
        )
        draws = rng.integers(0, n, size=(n_resamples, n))
        offsets = np.arange(n_resamples)[:, None] * n
        counts = np.bincount((draws + offsets).ravel(), minlength=n_resamples * n)
        return _weighted_corr(x, present, counts.reshape(n_resamples, n).astype(float))
    key = (n, n_resamples)
    if shared is not None and key in shared:
        draws = shared[key]
    else:
        draws = _resample_draws(n, n_resamples, random_state)
        if shared is not None:
            shared[key] = draws
    if _exact_in_float(x, present):
        return _pattern_corr(x, present, draws)
    weights = np.empty((n_resamples, n))
    for row in range(n_resamples):
        weights[row] = np.bincount(draws[row], minlength=n)
    return _weighted_corr(x, present, weights)


def _one_factor_minres(corr: np.ndarray, tol: float = _PAF_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-residual one-factor loadings for a stack of correlation matrices (B x k x k).

    Iterated principal axis factoring: put the communalities on the diagonal, take the first
    eigenvector, repeat. Its fixed point minimises the sum of squared off-diagonal residuals
    (Harman 1976, ch. 8), i.e. it is the minres solution. Returns the loadings (B x k) and a
    Heywood flag per matrix (a communality capped at 1). Only matrices whose communalities
    still move by ``tol`` or more are iterated again.
    """
    b, k, _ = corr.shape
    idx = np.arange(k)
    # Start from the squared multiple correlations, as psych::fa does.
    with np.errstate(invalid="ignore", divide="ignore"):
        smc = 1.0 - 1.0 / np.diagonal(np.linalg.pinv(corr), axis1=1, axis2=2)
    h = np.clip(np.nan_to_num(smc, nan=0.5), 0.05, 1.0)
    heywood = np.zeros(b, dtype=bool)
    loadings = np.zeros((b, k))
    active = np.arange(b)
    for _ in range(_PAF_MAX_ITER):
        reduced = corr[active].copy()
        reduced[:, idx, idx] = h[active]
        values, vectors = np.linalg.eigh(reduced)
        fitted = vectors[:, :, -1] * np.sqrt(np.clip(values[:, -1], 0.0, None))[:, None]
        new_h = fitted**2
        loadings[active] = fitted
        heywood[active] = (new_h > 1.0).any(axis=1)
        new_h = np.minimum(new_h, 1.0)
        moving = np.max(np.abs(new_h - h[active]), axis=1) >= tol
        h[active] = new_h
        active = active[moving]
        if active.size == 0:
            break
    sign = np.where(loadings.sum(axis=1) < 0, -1.0, 1.0)
    return np.clip(loadings * sign[:, None], -1.0, 1.0), heywood


def _omega_from_loadings(loadings: np.ndarray) -> np.ndarray:
    common = loadings.sum(axis=-1) ** 2
    unique = (1.0 - loadings**2).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        omega: np.ndarray = common / (common + unique)
    return omega


def mcdonald_omega(
    wide: Any,
    ci_level: float = 0.95,
    *,
    n_resamples: int = OMEGA_N_RESAMPLES,
    random_state: int | np.random.Generator | None = 0,
) -> OmegaResult:
    r"""McDonald's omega total of a respondents x items matrix, with a bootstrap interval.

    Omega comes from a one-factor model; the interval is a percentile bootstrap.

    Parameters
    ----------
    wide : pandas.DataFrame or 2-D array-like
        Respondents in rows, items in columns (already reverse-coded); NaN = not answered.
        Correlations are pairwise-complete; rows without any answer are dropped.
    ci_level : float, default 0.95
        Confidence level of the bootstrap interval.
    n_resamples : int, default 1000
        Bootstrap resamples of respondents (0: no interval).
    random_state : int, numpy Generator or None, default 0
        Seed of the bootstrap (fixed so a report can be reproduced).

    Returns
    -------
    OmegaResult
        ``omega``, ``ci_low``, ``ci_high``, ``loadings``, ``heywood``, ``n``, ``k``,
        ``ci_level``, ``n_resamples``.

    Raises
    ------
    ValueError
        Fewer than 3 items (a one-factor model of 2 items is not identified), fewer than 3
        respondents, an item without variance, or a bad ``ci_level`` / ``n_resamples``.

    Notes
    -----
    A one-factor model is fitted to the item correlation matrix :math:`R` by minimum
    residual (unweighted least squares on the off-diagonal elements, the default of R
    ``psych::fa``): loadings :math:`\lambda_i` minimise
    :math:`\sum_{i<j} (r_{ij} - \lambda_i \lambda_j)^2`, and uniquenesses are
    :math:`\psi_i = 1 - \lambda_i^2`. Then (McDonald 1999, eq. 6.20)

    .. math:: \omega_t = \frac{(\sum_i \lambda_i)^2}{(\sum_i \lambda_i)^2 + \sum_i \psi_i}

    the share of the variance of the (standardised) item sum due to the common factor.
    ``psych::omega`` divides by the observed variance :math:`1'R1` instead of the
    model-implied one; the two agree when the model fits. Alpha equals omega when all
    loadings are equal (tau-equivalence) and is lower otherwise, which is why both are shown.
    The interval resamples respondents with replacement, refits the model and takes the
    percentiles of the resampled omegas (Kelley & Pornprasertmanit 2016 recommend a
    bootstrap interval for omega). A communality above 1 (Heywood case) is capped and
    flagged: omega is then not to be trusted.

    The resampled sums behind each correlation are integers when the answers are (Likert
    codes), so they are taken per answer pattern, exact in any order: the interval is the one
    a respondent-by-respondent computation gives, bit for bit (``FAST_OMEGA = False`` runs
    that reference).

    References
    ----------
    McDonald RP (1999) Test Theory: A Unified Treatment. Erlbaum.
    Revelle W, Zinbarg RE (2009) Psychometrika 74:145.
    Kelley K, Pornprasertmanit S (2016) Psychol Methods 21:69.
    Hayes AF, Coutts JJ (2020) Commun Methods Meas 14:1.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 3], "q2": [2, 2, 3, 5, 4, 3],
    ...                      "q3": [1, 3, 3, 4, 5, 2], "q4": [2, 1, 4, 4, 5, 3]})
    >>> res = mcdonald_omega(wide, n_resamples=200)
    >>> round(res.omega, 3), res.k, res.n, res.ci_low <= res.omega <= res.ci_high
    (0.941, 4, 6, True)
    """
    return _mcdonald_omega(wide, ci_level, n_resamples, random_state, None)


def _mcdonald_omega(
    wide: Any,
    ci_level: float,
    n_resamples: int,
    random_state: int | np.random.Generator | None,
    shared: dict[tuple[int, int], np.ndarray] | None,
) -> OmegaResult:
    """Compute :func:`mcdonald_omega`, reusing bootstrap draws through ``shared``.

    ``shared`` serves calls that restart the same int seed (see :func:`_bootstrap_corr`).
    """
    frame = _as_item_frame(wide)
    level = check_ci_level(ci_level)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise TypeError("n_resamples must be an int")
    if n_resamples < 0:
        raise ValueError("n_resamples must be at least 0")
    k = frame.shape[1]
    if k < 3:
        raise ValueError(f"omega needs at least 3 items (2 do not identify a factor), got {k}")
    used = frame.dropna(how="all")
    n = len(used)
    if n < 3:
        raise ValueError(f"omega needs at least 3 respondents, got {n}")
    x = used.to_numpy(dtype=float)
    present = ~np.isnan(x)
    corr = _weighted_corr(x, present, np.ones((1, n)))
    if np.isnan(corr).any():
        raise ValueError("omega needs every item to vary among the respondents who answered it")
    loadings, heywood = _one_factor_minres(corr)
    omega = float(_omega_from_loadings(loadings)[0])
    low = high = float("nan")
    if n_resamples > 0:
        boot_corr = _bootstrap_corr(x, present, int(n_resamples), random_state, shared)
        ok = ~np.isnan(boot_corr).any(axis=(1, 2))
        # A resample in which an item does not vary has no omega; with more than 10 % of
        # those the interval would describe an odd subset, so none is given.
        if ok.mean() >= 0.9:
            # 1e-6 on the communalities moves omega far less than the interval's own noise.
            boot_loadings, _ = _one_factor_minres(boot_corr[ok], tol=1e-6)
            boot = _omega_from_loadings(boot_loadings)
            tail = (1.0 - level) / 2.0
            low, high = (float(v) for v in np.quantile(boot, [tail, 1.0 - tail]))
    return OmegaResult(
        omega=omega,
        ci_low=low,
        ci_high=high,
        loadings=tuple(float(v) for v in loadings[0]),
        heywood=bool(heywood[0]),
        n=n,
        k=k,
        ci_level=level,
        n_resamples=int(n_resamples),
    )


def which_reliability(
    alpha: float,
    omega: float,
    loadings: Any = (),
    heywood: bool = False,
    margin: float = TRUST_MARGIN,
) -> tuple[str, str]:
    """Say which coefficient to read when alpha and omega are both on the page.

    Parameters
    ----------
    alpha, omega : float
        Cronbach's alpha and McDonald's omega total of the same items (NaN when missing).
    loadings : sequence of float, optional
        The one-factor loadings behind omega (oriented to sum to >= 0).
    heywood : bool, default False
        Whether the factor solution was improper.
    margin : float, default 0.05
        Smallest difference that counts as a disagreement.

    Returns
    -------
    tuple of str
        ``(trust, reason)``. ``trust`` is ``"either"``, ``"omega"``, ``"alpha"`` or
        ``"neither"``; ``reason`` is one of ``"agree"``, ``"unequal_loadings"``,
        ``"omega_not_estimable"``, ``"nothing_estimable"``, ``"negative_loading"``,
        ``"improper_solution"``, ``"poor_one_factor_fit"``.

    Notes
    -----
    The rule, in order:

    1. Omega missing (2 items, or no fit): read ``alpha`` (``"omega_not_estimable"``);
       both missing: ``"neither"``.
    2. A negative loading (an item running against the others: a missing reverse flag or a
       second construct) or a Heywood case: ``"neither"``; fix the items first.
    3. ``omega - alpha >= margin``: the items load unequally, alpha underestimates the
       reliability of the sum: read ``"omega"`` (``"unequal_loadings"``).
    4. ``alpha - omega >= margin``: one factor does not describe the items (the residual
       correlations are large), neither coefficient is a sound summary: ``"neither"``
       (``"poor_one_factor_fit"``).
    5. Otherwise they agree (``"either"``); alpha, the more familiar, can be quoted.

    References
    ----------
    McNeish D (2018) Thanks coefficient alpha, we'll take it from here. Psychol Methods
    23:412. Flora DB (2020) Adv Methods Pract Psychol Sci 3:484.

    Examples
    --------
    >>> which_reliability(0.71, 0.80, [0.9, 0.8, 0.3])
    ('omega', 'unequal_loadings')
    >>> which_reliability(0.78, 0.80, [0.7, 0.7, 0.6])
    ('either', 'agree')
    >>> which_reliability(0.62, float("nan"))
    ('alpha', 'omega_not_estimable')
    """
    alpha_ok, omega_ok = bool(np.isfinite(alpha)), bool(np.isfinite(omega))
    if not omega_ok:
        return ("alpha", "omega_not_estimable") if alpha_ok else ("neither", "nothing_estimable")
    if heywood:
        return "neither", "improper_solution"
    if np.any(np.asarray(loadings, dtype=float) < 0):
        return "neither", "negative_loading"
    if not alpha_ok or omega - alpha >= margin:
        return "omega", "unequal_loadings"
    if alpha - omega >= margin:
        return "neither", "poor_one_factor_fit"
    return "either", "agree"


def reliability_by_dimension(
    answers: pd.DataFrame,
    items: pd.DataFrame,
    nan_policy: NanPolicy = "pairwise",
    ci_level: float = 0.95,
    *,
    min_respondents: int = 3,
    omega_resamples: int = OMEGA_N_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Alpha, Feldt CI, omega and problem items for every dimension of a questionnaire.

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
    omega_resamples : int, default 1000
        Bootstrap resamples for the omega interval (0: no interval).
    random_state : int or None, default 0
        Seed of the omega bootstrap, restarted for each dimension.

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
        - ``omega``, ``omega_ci_low``, ``omega_ci_high`` (float): McDonald's omega total and
          its percentile bootstrap interval (:func:`mcdonald_omega`); NaN when not computed.
        - ``omega_reason`` (str or None): why omega is NaN: ``"fewer_than_3_items"``,
          ``"too_few_complete_respondents"`` or ``"no_item_variance"``.
        - ``trust``, ``trust_reason`` (str): which coefficient to read and why
          (:func:`which_reliability`); a sentence builder can say it in plain words.

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
    >>> out[["omega", "trust"]].round(3).to_dict("records")
    [{'omega': 0.931, 'trust': 'either'}]
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
    # Every dimension restarts the seed, so dimensions with as many respondents draw alike.
    shared: dict[tuple[int, int], np.ndarray] | None = (
        {} if isinstance(random_state, int | np.integer) and FAST_OMEGA else None
    )
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
            "omega": np.nan,
            "omega_ci_low": np.nan,
            "omega_ci_high": np.nan,
            "omega_reason": None,
            "omega_loadings": None,
            "omega_heywood": False,
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
        _add_omega(
            row, sub, n_complete, min_respondents, level, omega_resamples, random_state, shared
        )
        row["trust"], row["trust_reason"] = which_reliability(
            row["alpha"], row["omega"], row.pop("omega_loadings") or (), row.pop("omega_heywood")
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    # Built explicitly as object so a missing reason stays None (pandas would infer NaN).
    for column in ("reason", "omega_reason"):
        values = [row[column] for row in rows]
        out[column] = pd.Series(values, dtype=object, index=out.index)
    return out.astype({"n": np.int64, "n_complete": np.int64, "k": np.int64})


def _add_omega(
    row: dict[str, Any],
    sub: pd.DataFrame,
    n_complete: int,
    min_respondents: int,
    level: float,
    n_resamples: int,
    random_state: int | None,
    shared: dict[tuple[int, int], np.ndarray] | None,
) -> None:
    """Fill the omega fields of one ``reliability_by_dimension`` row."""
    if sub.shape[1] < 3:
        row["omega_reason"] = _REASON_OMEGA_ITEMS
        return
    if n_complete < min_respondents:
        row["omega_reason"] = _REASON_RESPONDENTS
        return
    try:
        res = _mcdonald_omega(sub, level, n_resamples, random_state, shared)
    except ValueError:  # an item without variance among those who answered it
        row["omega_reason"] = _REASON_OMEGA_VARIANCE
        return
    row.update(
        omega=res.omega,
        omega_ci_low=res.ci_low,
        omega_ci_high=res.ci_high,
        omega_loadings=res.loadings,
        omega_heywood=res.heywood,
    )
