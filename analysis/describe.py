"""How does a group score: n, mean, SD, median, share favourable and a BCa bootstrap CI.

The bootstrap is implemented here in numpy rather than by calling
``scipy.stats.bootstrap`` once per group, because a round report describes hundreds of groups
and the mean has three shortcuts scipy cannot take: its jackknife is closed-form; the groups
of one call that have the same size draw the same resample counts from the same seed, so the
count matrix is drawn once per size and each group's bootstrap means are one matrix-vector
product; and a large sample with few distinct values (Likert scores live on a lattice) can be
resampled by drawing multinomial counts of the distinct values instead of n indices. The tests
cross-check the intervals against ``scipy.stats.bootstrap(method="BCa")`` and a published example.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from analysis._checks import (
    as_column_list,
    check_ci_level,
    nan_to_none,
    require_columns,
    require_frame,
    require_numeric,
)

__all__ = [
    "DEFAULT_N_RESAMPLES",
    "MIN_N_CI",
    "BootstrapResult",
    "bootstrap_mean_ci",
    "describe",
]

#: Default bootstrap resamples. The Monte Carlo SD of a 2.5 % quantile of B bootstrap means is
#: about sqrt(0.025 * 0.975 / B) / phi(1.96) = 0.060 standard errors at B = 2000, below the
#: precision a report shows (a 95 % CI on a 1-5 scale is printed to one or two decimals), and
#: above the B >= 1000 that Efron & Tibshirani (1993, ch. 19) advise for percentile-based
#: intervals. It keeps a 3,000-respondent round (40 groups) at a few tens of milliseconds.
DEFAULT_N_RESAMPLES = 2000
#: Share the resample counts of equal-sized groups within a :func:`describe` call (same
#: figures, less time); False is the reference path, kept for the equivalence checks.
SHARE_DRAWS = True
#: Groups smaller than this get no interval (ci_method "none").
MIN_N_CI = 3
# Larger samples (see _SHARED_ELEMENTS) with at most n / _LATTICE_RATIO distinct values are
# resampled through multinomial
# counts of the distinct values (measured cost about 100 ns x B x distinct values), others
# through index matrices (about 4.5 ns x B x n); both draw from the same distribution.
_LATTICE_RATIO = 25
# Elements per index-matrix chunk, to bound memory (8 bytes each: 32 MiB).
_CHUNK_ELEMENTS = 1 << 22
# Groups with n_resamples x n at most this many elements are resampled through a matrix of
# resample counts (B x n: how often each sorted value is drawn in each resample) and one
# matrix-vector product. With an int seed every group starts from the same seed, so every group
# of the same size draws the same counts: the matrix is drawn once per size and shared by all
# groups of that size in a ``describe`` call (a round has dozens of groups of a few sizes). The
# numbers are those a group alone draws, so sharing changes nothing but the time.
_SHARED_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class BootstrapResult:
    """A bootstrap confidence interval for a mean.

    Attributes
    ----------
    mean : float
        The sample mean (NaN if no values).
    n : int
        Number of non-missing values.
    ci_low, ci_high : float
        Interval end points (NaN when no interval is given).
    ci_method : str
        ``"bca"``, ``"percentile"``, ``"degenerate"`` (all values equal: ``[x, x]``) or
        ``"none"`` (fewer than ``min_n`` values).
    ci_level : float
        Confidence level.
    n_resamples : int
        Bootstrap resamples drawn (0 when none were needed).
    bootstrap_se : float
        SD (ddof = 1) of the bootstrap means, NaN when none were drawn.
    """

    mean: float
    n: int
    ci_low: float
    ci_high: float
    ci_method: str
    ci_level: float
    n_resamples: int
    bootstrap_se: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict (NaN becomes None)."""
        return nan_to_none(asdict(self))


def _check_n_resamples(n_resamples: int) -> int:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise TypeError("n_resamples must be an int")
    if n_resamples < 100:
        raise ValueError(f"n_resamples must be at least 100, got {n_resamples}")
    return int(n_resamples)


def _check_min_n(min_n: int) -> int:
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 2:
        raise ValueError(f"min_n must be an int >= 2, got {min_n!r}")
    return int(min_n)


def _rng_factory(
    random_state: int | np.random.Generator | None,
) -> Callable[[], np.random.Generator]:
    """Return a function giving the generator for one group.

    An int (or None) seed gives every group a fresh generator from the same seed, so a
    group's interval depends only on its own values and the seed: adding a partner or a
    filter never changes another group's interval.
    """
    if isinstance(random_state, np.random.Generator):
        return lambda: random_state
    if random_state is None:
        seed = np.random.SeedSequence().entropy
    elif isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise TypeError("random_state must be an int, None or a numpy Generator")
    else:
        seed = int(random_state)
    return lambda: np.random.default_rng(seed)


class _Draws:
    """Resample count matrices by group size, for groups whose generators start alike.

    ``share=False`` draws every matrix afresh: the reference path the shared one is checked
    against (``bench/analysis.py --check``, ``tests/analysis/test_speed_equivalence.py``).
    """

    def __init__(self, share: bool = True) -> None:
        self.share = share
        self._by_size: dict[tuple[int, int], np.ndarray] = {}

    def counts(self, n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
        key = (n, n_resamples)
        if key in self._by_size:
            return self._by_size[key]
        counts = _resample_counts(n, n_resamples, rng)
        if self.share:
            self._by_size[key] = counts
        return counts


def _resample_counts(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """B x n matrix: how often each of n values is drawn in each of B resamples."""
    idx = rng.integers(0, n, size=(n_resamples, n))
    idx += np.arange(n_resamples)[:, None] * n
    counts: np.ndarray = np.bincount(idx.ravel(), minlength=n_resamples * n)
    return counts.reshape(n_resamples, n).astype(float)


def _bootstrap_means(
    x_sorted: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    draws: _Draws | None = None,
) -> np.ndarray:
    """Means of ``n_resamples`` resamples (with replacement) of ``x_sorted``."""
    n = len(x_sorted)
    if n * n_resamples <= _SHARED_ELEMENTS:
        counts_matrix = (draws or _Draws(share=False)).counts(n, n_resamples, rng)
        shared: np.ndarray = (counts_matrix @ x_sorted) / n
        return shared
    values, counts = np.unique(x_sorted, return_counts=True)
    if len(values) * _LATTICE_RATIO <= n:
        # Resampling n values with replacement = multinomial counts over the distinct values.
        picked = rng.multinomial(n, counts / n, size=n_resamples)
        lattice: np.ndarray = (picked @ values) / n
        return lattice
    means = np.empty(n_resamples)
    rows = max(1, _CHUNK_ELEMENTS // n)
    for start in range(0, n_resamples, rows):
        stop = min(start + rows, n_resamples)
        # int32 draws are the int64 ones (same 32-bit bounded generator), in half the memory.
        idx = rng.integers(0, n, size=(stop - start, n), dtype=np.int32)
        means[start:stop] = x_sorted[idx].mean(axis=1)
    return means


def _interval(
    x_sorted: np.ndarray,
    ci_level: float,
    n_resamples: int,
    rng: np.random.Generator,
    method: str,
    draws: _Draws | None = None,
) -> tuple[float, float, str, float]:
    """(low, high, method used, bootstrap SE) for a non-degenerate sample of size >= 2."""
    theta = float(x_sorted.mean())
    boot = _bootstrap_means(x_sorted, n_resamples, rng, draws)
    se = float(boot.std(ddof=1))
    alpha = (1.0 - ci_level) / 2.0
    probs = np.array([alpha, 1.0 - alpha])
    used = "percentile"
    if method == "bca":
        # Bias correction; bootstrap means equal to theta (common on a lattice) count half.
        tol = 1e-10 * max(float(x_sorted[-1] - x_sorted[0]), abs(theta))
        below = np.count_nonzero(boot < theta - tol)
        ties = np.count_nonzero(np.abs(boot - theta) <= tol)
        z0 = float(ndtri((below + 0.5 * ties) / n_resamples))
        # Acceleration from the closed-form jackknife of the mean: theta_(i) = (S - x_i)/(n-1),
        # so theta_(.) - theta_(i) is proportional to x_i - mean and the factor cancels.
        d = x_sorted - theta
        a = float(np.sum(d**3) / (6.0 * np.sum(d**2) ** 1.5))
        z = ndtri(probs)
        adjusted = ndtr(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
        if np.all(np.isfinite(adjusted)):
            probs, used = adjusted, "bca"
    low, high = np.quantile(boot, probs)
    return float(low), float(high), used, se


def bootstrap_mean_ci(
    x: Any,
    *,
    ci_level: float = 0.95,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    random_state: int | np.random.Generator | None = 0,
    method: Literal["bca", "percentile"] = "bca",
    min_n: int = MIN_N_CI,
) -> BootstrapResult:
    """Bootstrap confidence interval for the mean of one sample (BCa by default).

    Parameters
    ----------
    x : array-like
        Values; NaN (missing) values are dropped.
    ci_level : float, default 0.95
        Confidence level.
    n_resamples : int, default 2000
        Bootstrap resamples (see ``DEFAULT_N_RESAMPLES`` for the choice).
    random_state : int, numpy Generator or None, default 0
        Seed for reproducible intervals.
    method : {"bca", "percentile"}, default "bca"
        Interval type.
    min_n : int, default 3
        Smallest sample given an interval.

    Returns
    -------
    BootstrapResult
        Mean, n, interval, the method actually used, level, resamples and bootstrap SE.

    Notes
    -----
    Percentile interval: the ``alpha/2`` and ``1 - alpha/2`` quantiles (linear interpolation)
    of the bootstrap means ``theta*_b``. BCa (Efron 1987; Efron & Tibshirani 1993, ch. 14)
    uses instead the quantiles ``Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q)))`` for
    ``z_q = Phi^-1(q)``, with

    - ``z0 = Phi^-1((#{theta*_b < theta} + #{theta*_b = theta} / 2) / B)``; ties with the
      observed mean count half, as in SciPy (R ``boot`` counts only ``<``, which on small
      Likert samples can move an end point by a lattice step);
    - ``a = sum(d_i^3) / (6 * (sum(d_i^2))^(3/2))`` with ``d_i = x_i - mean``, the jackknife
      acceleration in closed form for the mean.

    Fallbacks: fewer than ``min_n`` values give NaN end points (``"none"``); identical values
    give ``[x, x]`` (``"degenerate"``); if the BCa adjustment is not finite the percentile
    interval is returned and ``ci_method`` says ``"percentile"``. With very small samples the
    interval is coarse (n = 3 has 10 distinct resamples) and should be labelled approximate.

    References
    ----------
    Efron B (1987) JASA 82:171. Efron B, Tibshirani RJ (1993) *An Introduction to the
    Bootstrap*, Chapman & Hall, ch. 14 and 19.

    Examples
    --------
    >>> r = bootstrap_mean_ci([94, 197, 16, 38, 99, 141, 23], n_resamples=20000)
    >>> r.ci_method, round(r.mean, 2), 40 < r.ci_low < 52, 130 < r.ci_high < 146
    ('bca', 86.86, True, True)
    """
    level = check_ci_level(ci_level)
    b = _check_n_resamples(n_resamples)
    min_n = _check_min_n(min_n)
    if method not in ("bca", "percentile"):
        raise ValueError(f"method must be 'bca' or 'percentile', got {method!r}")
    arr = np.asarray(x, dtype=float).ravel()
    if np.any(np.isinf(arr)):
        raise ValueError("x contains infinite values")
    arr = np.sort(arr[~np.isnan(arr)])
    return _describe_one(arr, level, b, _rng_factory(random_state)(), method, min_n)


def _describe_one(
    x_sorted: np.ndarray,
    level: float,
    n_resamples: int,
    rng: np.random.Generator,
    method: str,
    min_n: int,
    draws: _Draws | None = None,
) -> BootstrapResult:
    n = len(x_sorted)
    mean = float(x_sorted.mean()) if n else float("nan")
    nan = float("nan")
    if n < min_n:
        return BootstrapResult(mean, n, nan, nan, "none", level, 0, nan)
    if x_sorted[0] == x_sorted[-1]:
        return BootstrapResult(mean, n, mean, mean, "degenerate", level, 0, 0.0)
    low, high, used, se = _interval(x_sorted, level, n_resamples, rng, method, draws)
    return BootstrapResult(mean, n, low, high, used, level, n_resamples, se)


def describe(
    scores: pd.DataFrame,
    by: str | Sequence[str] | None,
    value: str = "score",
    favourable_min: float | None = None,
    ci_level: float = 0.95,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    random_state: int | np.random.Generator | None = 0,
    *,
    min_n: int = MIN_N_CI,
) -> pd.DataFrame:
    """Describe the scores of each group: n, mean, SD, median, share favourable, BCa CI.

    Parameters
    ----------
    scores : pandas.DataFrame
        Tidy scores, e.g. respondent scores from :func:`analysis.scoring.dimension_scores`.
    by : str or list of str or None
        Grouping columns, e.g. ``["round_id", "partner_id", "dimension"]``; None for one
        group. Groups keep NaN keys and stay even when all their values are missing.
    value : str, default "score"
        Column to describe; NaN values are left out of every statistic.
    favourable_min : float, optional
        Values at or above it count as favourable (e.g. 4 on a 1-5 scale); without it
        ``share_favourable`` is NaN.
    ci_level : float, default 0.95
        Confidence level of the bootstrap interval.
    n_resamples : int, default 2000
        Bootstrap resamples per group (see ``DEFAULT_N_RESAMPLES``).
    random_state : int, numpy Generator or None, default 0
        Seed. With an int each group's generator starts from the same seed, so a group's
        interval depends only on its values, never on which other groups are described.
    min_n : int, default 3
        Smallest group given an interval.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by ``by``, with the ``by`` columns and:

        - ``n`` (int): non-missing values.
        - ``mean``, ``sd`` (ddof = 1; NaN for n < 2), ``median`` (float).
        - ``share_favourable`` (float): share of values ``>= favourable_min``.
        - ``ci_low``, ``ci_high`` (float): bootstrap interval for the mean.
        - ``ci_method`` (str): ``"bca"``, ``"percentile"`` (BCa not finite),
          ``"degenerate"`` (all values equal, interval ``[x, x]``) or ``"none"``
          (n < ``min_n``, interval NaN).

    Notes
    -----
    The interval is the BCa bootstrap interval of :func:`bootstrap_mean_ci`. Means are for
    multi-item scores; single items are ordinal, so show their distribution too.

    References
    ----------
    Efron B, Tibshirani RJ (1993) *An Introduction to the Bootstrap*, ch. 14.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"partner_id": ["A"] * 4 + ["B"] * 2,
    ...                        "score": [4.0, 5.0, 3.0, 4.5, 2.0, 3.0]})
    >>> out = describe(scores, by="partner_id", favourable_min=4)
    >>> out[["partner_id", "n", "mean", "median", "share_favourable", "ci_method"]]
      partner_id  n   mean  median  share_favourable ci_method
    0          A  4  4.125    4.25              0.75       bca
    1          B  2  2.500    2.50              0.00      none
    """
    require_frame(scores, "scores")
    by_cols = as_column_list(by, "by")
    require_columns(scores, [*by_cols, value], "scores")
    require_numeric(scores, [value], "scores")
    level = check_ci_level(ci_level)
    b = _check_n_resamples(n_resamples)
    min_n = _check_min_n(min_n)
    if favourable_min is not None and (
        isinstance(favourable_min, bool) or not isinstance(favourable_min, int | float | np.number)
    ):
        raise TypeError("favourable_min must be a number or None")
    x = scores[value].to_numpy(dtype=float)
    if np.any(np.isinf(x)):
        raise ValueError(f"scores column {value!r} contains infinite values")
    frame = pd.DataFrame({"_x": x})  # positional index: the caller's may repeat labels
    if favourable_min is None:
        frame["_fav"] = np.nan
    else:
        frame["_fav"] = np.where(np.isnan(x), np.nan, (x >= favourable_min).astype(float))

    if by_cols:
        frame = pd.concat([scores[by_cols].reset_index(drop=True), frame], axis=1)
        grouped = frame.groupby(by_cols, sort=True, dropna=False, observed=True)
        codes = grouped.ngroup().to_numpy()
        out = grouped.agg(
            n=("_x", "count"),
            mean=("_x", "mean"),
            sd=("_x", "std"),
            median=("_x", "median"),
            share_favourable=("_fav", "mean"),
        ).reset_index()
    else:
        codes = np.zeros(len(frame), dtype=np.int64)
        out = pd.DataFrame(
            {
                "n": [frame["_x"].count()],
                "mean": [frame["_x"].mean()],
                "sd": [frame["_x"].std()],
                "median": [frame["_x"].median()],
                "share_favourable": [frame["_fav"].mean()],
            }
        )

    valid = ~np.isnan(x)
    valid_codes, valid_x = codes[valid], x[valid]
    order = np.lexsort((valid_x, valid_codes))  # by group, values sorted within each group
    bounds = np.cumsum(np.bincount(valid_codes, minlength=len(out)))[:-1]
    next_rng = _rng_factory(random_state)
    # A shared generator draws differently for every group: nothing to share then.
    draws = _Draws(share=SHARE_DRAWS and not isinstance(random_state, np.random.Generator))
    groups = np.split(valid_x[order], bounds) if len(out) else []
    ci = [_describe_one(x_g, level, b, next_rng(), "bca", min_n, draws) for x_g in groups]
    out["n"] = out["n"].astype(np.int64)
    out["ci_low"] = np.array([r.ci_low for r in ci], dtype=float)
    out["ci_high"] = np.array([r.ci_high for r in ci], dtype=float)
    out["ci_method"] = pd.Series([r.ci_method for r in ci], dtype=object, index=out.index)
    return out[
        [
            *by_cols,
            "n",
            "mean",
            "sd",
            "median",
            "share_favourable",
            "ci_low",
            "ci_high",
            "ci_method",
        ]
    ]
