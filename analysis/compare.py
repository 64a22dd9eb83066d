"""Do partners differ? Kruskal-Wallis with epsilon-squared, Dunn post-hoc, Mann-Whitney U.

Survey answers are ordinal and heavily tied, and partners have 3-30 respondents, so partners
are compared with rank tests (tie-corrected), each p-value travelling with its ``n`` and an
effect size. :func:`compare_partners` runs one test per dimension (Kruskal-Wallis for three or
more partners, Mann-Whitney U for exactly two) and adjusts the p-values across dimensions.

Small groups get exact p-values by default. The rule, shared with :mod:`analysis.gaps`:

1. When the pooled values can be split into groups of the observed sizes in at most
   :data:`EXACT_MAX_ARRANGEMENTS` (100,000) distinct ways, every split is enumerated: the
   p-value is exact (conditional on the ties), ``p_method = "exact"``.
2. Above that, while the smallest group has at most 30 values, :data:`DEFAULT_N_RESAMPLES`
   (9,999) random splits are drawn from a seeded generator: ``p_method = "monte_carlo"``, with
   ``p = (b + 1)/(m + 1)`` and its Monte Carlo standard error ``p_mc_se`` reported.
3. When every group has at least :data:`ASYMPTOTIC_MIN_N` (31) values the large-sample
   approximation (chi-squared or normal) is used: ``p_method = "asymptotic"``.

Untied Mann-Whitney data use the exact null distribution of U (scipy's recursion) instead of
steps 1-2; it gives the same p-value as the enumeration.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import as_column_list, nan_to_none
from analysis._common import (
    ALTERNATIVES,
    adjust_column,
    check_choice,
    check_min_n,
    finite_1d,
    iter_cells,
    result_frame,
    split_by_group,
    valid_rows,
)
from analysis.multiple import PAdjust, adjust_pvalues
from analysis.privacy import MIN_K

__all__ = [
    "ASYMPTOTIC_MIN_N",
    "DEFAULT_N_RESAMPLES",
    "EXACT_MAX_ARRANGEMENTS",
    "P_METHODS",
    "MannWhitneyResult",
    "arrangement_sums",
    "compare_partners",
    "compare_partners_posthoc",
    "dunn",
    "kruskal_wallis",
    "mann_whitney",
    "n_arrangements",
]

#: Largest number of distinct splits of the pooled values that is enumerated in full. 100,000
#: splits of at most ~20 values cost a few milliseconds and a few megabytes; this covers two
#: partners of up to 9 + 9 respondents, or three of 4 + 4 + 3.
EXACT_MAX_ARRANGEMENTS = 100_000
#: Random splits drawn above that size: the Monte Carlo standard error of p near 0.05 is then
#: sqrt(0.05 x 0.95 / 9999) = 0.0022, and the smallest reachable p is 1/10,000.
DEFAULT_N_RESAMPLES = 9_999
#: The large-sample approximation is used only when every compared group has at least this
#: many values, beyond the 3-30 respondents a partner usually has.
ASYMPTOTIC_MIN_N = 31
#: Values of the ``p_method`` column: how a p-value was obtained.
P_METHODS = ("exact", "monte_carlo", "asymptotic")

_MWU_METHODS = ("auto", "exact", "asymptotic", "permutation")
_KW_METHODS = ("auto", "exact", "monte_carlo", "asymptotic")
# Permuted values are processed in batches of at most this many numbers (about 32 MB).
_BATCH_ELEMENTS = 1 << 22
# Relative tolerance when a permuted statistic is compared with the observed one: sums taken in
# a different order differ by ~1e-15, which must not turn a tie into "less extreme".
_REL_TOL = 1e-9


# --------------------------------------------------------------------------- permutation engine


def n_arrangements(sizes: Sequence[int]) -> int:
    r"""Count the distinct ways to split ``sum(sizes)`` values into groups of these sizes.

    Parameters
    ----------
    sizes : sequence of int
        Group sizes.

    Returns
    -------
    int
        The multinomial coefficient :math:`N! / \prod_g n_g!`.

    Examples
    --------
    >>> n_arrangements([3, 3, 2]), n_arrangements([5, 4])
    (560, 126)
    """
    total, count = 0, 1
    for size in sizes:
        total += int(size)
        count *= math.comb(total, int(size))
    return count


def arrangement_sums(
    values: Any,
    sizes: Sequence[int],
    *,
    exact: bool,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    random_state: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """Group sums of ``values`` under every (or under random) splits into groups of ``sizes``.

    The permutation null distribution of any statistic that depends on the data only through
    the group sums (rank sums for Mann-Whitney and Kruskal-Wallis, value sums for a gap
    between means) follows from these sums.

    Parameters
    ----------
    values : array-like of float
        The pooled values (e.g. midranks).
    sizes : sequence of int
        Group sizes, summing to ``len(values)``.
    exact : bool
        ``True``: every distinct split, one row each (:func:`n_arrangements` rows).
        ``False``: ``n_resamples`` splits drawn uniformly at random.
    n_resamples : int, default 9999
        Random splits when ``exact`` is False.
    random_state : int, numpy Generator or None, default 0
        Seed of the random splits.

    Returns
    -------
    numpy.ndarray
        Shape ``(splits, len(sizes))``: the sum of the values each group receives, columns
        in the order of ``sizes``.

    Notes
    -----
    The enumeration chooses group 1's members among all values, group 2's among the rest and
    so on, vectorised level by level; the last group takes what is left. Random splits shuffle
    the pooled values and cut them into blocks of ``sizes``.

    Examples
    --------
    >>> arrangement_sums([1.0, 2.0, 3.0], [1, 2], exact=True).tolist()
    [[1.0, 5.0], [2.0, 4.0], [3.0, 3.0]]
    """
    pooled = np.asarray(values, dtype=float)
    group_sizes = [int(s) for s in sizes]
    if sum(group_sizes) != pooled.size or min(group_sizes, default=0) < 1:
        raise ValueError("sizes must be positive and sum to the number of values")
    if exact:
        return _enumerated_sums(pooled, group_sizes)
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise TypeError("n_resamples must be an integer")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    rng = (
        random_state
        if isinstance(random_state, np.random.Generator)
        else np.random.default_rng(random_state)
    )
    return _random_sums(pooled, group_sizes, int(n_resamples), rng)


def _enumerated_sums(pooled: np.ndarray, sizes: list[int]) -> np.ndarray:
    remaining = pooled[None, :]  # one row per partial split: the values not yet assigned
    columns: list[np.ndarray] = []
    for size in sizes[:-1]:
        free = remaining.shape[1]
        chosen = np.array(list(itertools.combinations(range(free), size)), dtype=np.intp)
        mask = np.ones((len(chosen), free), dtype=bool)
        mask[np.arange(len(chosen))[:, None], chosen] = False
        rest = np.nonzero(mask)[1].reshape(len(chosen), free - size)
        columns = [np.repeat(column, len(chosen)) for column in columns]
        columns.append(remaining[:, chosen].sum(axis=2).reshape(-1))
        remaining = remaining[:, rest].reshape(-1, free - size)
    columns.append(remaining.sum(axis=1))
    return np.stack(columns, axis=1)


def _random_sums(
    pooled: np.ndarray, sizes: list[int], n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
    batch = max(1, _BATCH_ELEMENTS // pooled.size)
    parts = []
    done = 0
    while done < n_resamples:
        rows = min(batch, n_resamples - done)
        shuffled = rng.permuted(np.broadcast_to(pooled, (rows, pooled.size)), axis=1)
        parts.append(np.add.reduceat(shuffled, starts, axis=1))
        done += rows
    return np.concatenate(parts, axis=0)


def _tail_p(null: np.ndarray, observed: float, exact: bool, upper: bool = True) -> float:
    """Share of the null at least as extreme as ``observed`` (Phipson-Smyth +1 when sampled)."""
    tol = _REL_TOL * max(1.0, abs(observed))
    hits = np.count_nonzero(null >= observed - tol if upper else null <= observed + tol)
    if exact:
        return hits / null.size
    return (hits + 1) / (null.size + 1)


def _mc_se(p: float, m: int) -> float:
    """Monte Carlo standard error of a p-value estimated from ``m`` random splits."""
    return math.sqrt(p * (1 - p) / m)


def _choose_p_method(sizes: Sequence[int], max_arrangements: int) -> str:
    if n_arrangements(sizes) <= max_arrangements:
        return "exact"
    if min(sizes) >= ASYMPTOTIC_MIN_N:
        return "asymptotic"
    return "monte_carlo"


def _check_count(value: int, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


# --------------------------------------------------------------------------- Kruskal-Wallis


def kruskal_wallis(
    data: pd.DataFrame,
    dv: str,
    between: str,
    *,
    method: str = "auto",
    n_resamples: int = DEFAULT_N_RESAMPLES,
    random_state: int | np.random.Generator | None = 0,
    max_arrangements: int = EXACT_MAX_ARRANGEMENTS,
) -> pd.DataFrame:
    r"""Kruskal-Wallis H test (tie-corrected) with rank epsilon-squared.

    Tests whether the groups come from the same distribution (stochastic equality) without
    assuming interval data or normality, which suits Likert answers and dimension scores.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame, one row per observation. Rows with a missing ``dv`` or ``between`` are
        dropped.
    dv : str
        Numeric column holding the values (e.g. ``"score"``).
    between : str
        Column holding the group labels (e.g. ``"partner_id"``).
    method : {"auto", "exact", "monte_carlo", "asymptotic"}, default "auto"
        How the p-value is obtained. ``"auto"``: exact (every split of the pooled ranks
        enumerated) when there are at most ``max_arrangements`` splits, the chi-squared
        approximation when every group has at least 31 values, Monte Carlo otherwise (see
        the module notes). ``"exact"`` refuses more than ``max_arrangements`` splits.
    n_resamples : int, default 9999
        Random splits for the Monte Carlo p-value.
    random_state : int, numpy Generator or None, default 0
        Seed of the Monte Carlo splits (fixed so a report can be reproduced).
    max_arrangements : int, default 100000
        Largest number of splits that is enumerated.

    Returns
    -------
    pandas.DataFrame
        One row with columns:

        - ``n``: number of observations used.
        - ``k``: number of groups with at least one observation.
        - ``h``: tie-corrected H statistic (NaN when all values are identical).
        - ``df``: degrees of freedom, ``k - 1``.
        - ``p_value``: upper-tail p-value of H, by ``p_method``.
        - ``epsilon_squared``: rank epsilon-squared, ``H / (n - 1)``.
        - ``p_method``: ``"exact"``, ``"monte_carlo"`` or ``"asymptotic"`` (chi-squared).
        - ``n_resamples``: splits evaluated (all of them when exact; 0 when asymptotic).
        - ``p_mc_se``: Monte Carlo standard error of ``p_value`` (NaN unless Monte Carlo).

    Raises
    ------
    ValueError
        If fewer than two groups have data, for an unknown ``method`` or for
        ``method="exact"`` with more than ``max_arrangements`` splits.

    Notes
    -----
    With pooled midranks, group rank sums :math:`R_g` and group sizes :math:`n_g`,

    .. math:: H = \frac{\frac{12}{N(N+1)} \sum_g R_g^2 / n_g - 3(N+1)}
                      {1 - \sum_t (t^3 - t) / (N^3 - N)}

    where :math:`t` runs over the sizes of tied groups of values. The chi-squared p-value
    :math:`P(\chi^2_{k-1} \ge H)` is rough when groups have fewer than about five values,
    so small groups get the permutation distribution of H instead: under the null every split
    of the pooled midranks into groups of the observed sizes is equally likely, and
    :math:`p = b/m` over all :math:`m` splits (exact, conditional on the ties) or
    :math:`p = (b + 1)/(m + 1)` over :math:`m` random ones, :math:`b` counting splits with
    :math:`H \ge H_{obs}`; the Monte Carlo standard error is :math:`\sqrt{p(1-p)/m}`. The
    effect size is :math:`\varepsilon^2_R = H / ((N^2 - 1)/(N + 1)) = H/(N-1)`
    (Kelley 1935; Tomczak & Tomczak 2014), the same as R ``effectsize::rank_epsilon_squared``;
    it lies in [0, 1].

    References
    ----------
    Kruskal WH, Wallis WA (1952) J Am Stat Assoc 47:583.
    Hollander M, Wolfe DA (1999) Nonparametric Statistical Methods, 2nd ed., ch. 6.
    Tomczak M, Tomczak E (2014) Trends Sport Sci 1(21):19.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"score": [2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4,
    ...                              2.8, 3.4, 3.7, 2.2, 2.0],
    ...                    "partner_id": ["a"] * 5 + ["b"] * 4 + ["c"] * 5})
    >>> out = kruskal_wallis(df, "score", "partner_id", method="asymptotic")
    >>> out[["n", "k", "h", "df", "p_value", "epsilon_squared"]].round(4).to_dict("records")
    [{'n': 14, 'k': 3, 'h': 0.7714, 'df': 2, 'p_value': 0.68, 'epsilon_squared': 0.0593}]
    >>> small = pd.DataFrame({"score": [4, 5, 4, 2, 3, 3, 3, 4],
    ...                       "partner_id": list("aaabbbcc")})
    >>> row = kruskal_wallis(small, "score", "partner_id").iloc[0]
    >>> row.p_method, int(row.n_resamples), round(float(row.p_value), 6)  # 18 of 560 splits
    ('exact', 560, 0.032143)
    """
    _, samples = split_by_group(valid_rows(data, "data", dv, [between]), dv, between)
    if len(samples) < 2:
        raise ValueError(f"kruskal_wallis needs at least two groups in {between!r} with data")
    check_choice(method, _KW_METHODS, "method")
    _check_count(n_resamples, "n_resamples", 1)
    _check_count(max_arrangements, "max_arrangements", 0)
    rng = (
        random_state
        if isinstance(random_state, np.random.Generator)
        else np.random.default_rng(random_state)
    )
    return pd.DataFrame([_kruskal(samples, method, n_resamples, rng, max_arrangements)])


def _kruskal(
    samples: Sequence[np.ndarray],
    method: str = "asymptotic",
    n_resamples: int = DEFAULT_N_RESAMPLES,
    rng: np.random.Generator | None = None,
    max_arrangements: int = EXACT_MAX_ARRANGEMENTS,
) -> dict[str, Any]:
    sizes = [len(s) for s in samples]
    n = int(sum(sizes))
    k = len(samples)
    pooled = np.concatenate(samples)
    out: dict[str, Any] = {"n": n, "k": k, "h": np.nan, "df": k - 1, "p_value": np.nan}
    out["epsilon_squared"] = np.nan
    used = _choose_p_method(sizes, max_arrangements) if method == "auto" else method
    if used == "exact" and n_arrangements(sizes) > max_arrangements:
        raise ValueError(
            f"method='exact' would enumerate {n_arrangements(sizes)} splits, more than "
            f"max_arrangements={max_arrangements}; raise it or use method='monte_carlo'"
        )
    out.update(p_method=used, n_resamples=0, p_mc_se=np.nan)
    if np.ptp(pooled) == 0:
        # H is 0/0 when every value is the same; scipy returns NaN with a RuntimeWarning.
        return out
    res = stats.kruskal(*samples)
    h = float(res.statistic)
    out.update(h=h, p_value=float(res.pvalue), epsilon_squared=h / (n - 1))
    if used == "asymptotic":
        return out
    # H is an increasing function of S = sum_g R_g^2 / n_g (N and the ties are fixed under
    # permutation), so the permutation p-value compares S.
    ranks = stats.rankdata(pooled)
    size_arr = np.array(sizes, dtype=float)
    rank_sums = np.array([r.sum() for r in np.split(ranks, np.cumsum(sizes)[:-1])])
    observed = float(np.sum(rank_sums**2 / size_arr))
    exact = used == "exact"
    # S is symmetric in the groups: drawing from the sorted ranks and sorted sizes makes the
    # Monte Carlo p-value independent of row order and of the group labels.
    order = np.argsort(size_arr, kind="stable")
    sums = arrangement_sums(
        np.sort(ranks),
        [sizes[i] for i in order],
        exact=exact,
        n_resamples=n_resamples,
        random_state=rng or 0,
    )
    null = np.sum(sums**2 / size_arr[order], axis=1)
    p = _tail_p(null, observed, exact)
    out.update(
        p_value=min(p, 1.0),
        n_resamples=int(null.size),
        p_mc_se=np.nan if exact else _mc_se(p, null.size),
    )
    return out


# --------------------------------------------------------------------------- Dunn


def dunn(data: pd.DataFrame, dv: str, between: str, p_adjust: str = "holm") -> pd.DataFrame:
    r"""Dunn's (1964) pairwise z tests on the pooled Kruskal-Wallis ranks, with tie correction.

    The post-hoc companion of :func:`kruskal_wallis`: every pair of groups is compared on
    mean ranks from *one* pooled ranking (unlike pairwise Mann-Whitney tests, which re-rank
    each pair), so the comparisons are consistent with H.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame, one row per observation; rows with a missing ``dv`` or ``between`` are
        dropped.
    dv : str
        Numeric column holding the values.
    between : str
        Column holding the group labels.
    p_adjust : {"holm", "bh", "by", "none"}, default "holm"
        Multiplicity adjustment over all ``k (k - 1) / 2`` pairs, via
        :func:`analysis.multiple.adjust_pvalues`.

    Returns
    -------
    pandas.DataFrame
        One row per pair (groups in sorted order, ``group_a`` before ``group_b``), columns:

        - ``group_a``, ``group_b``: the two group labels.
        - ``n_a``, ``n_b``: their numbers of observations.
        - ``mean_rank_a``, ``mean_rank_b``: mean pooled midranks.
        - ``z``: ``(mean_rank_a - mean_rank_b) / se``; positive when ``group_a`` ranks higher.
        - ``p_value``: two-sided normal p-value.
        - ``p_adjusted``: ``p_value`` adjusted over all pairs.

    Raises
    ------
    ValueError
        If fewer than two groups have data.

    Notes
    -----
    .. math:: z_{ab} = \frac{\bar R_a - \bar R_b}
              {\sqrt{\left[\frac{N(N+1)}{12} - \frac{\sum_t (t^3 - t)}{12(N-1)}\right]
              \left(\frac{1}{n_a} + \frac{1}{n_b}\right)}}

    with :math:`t` the sizes of tied groups in the pooled data. This matches
    ``scikit_posthocs.posthoc_dunn`` and R ``rstatix::dunn_test``. When every value is the
    same the variance is zero and ``z`` and the p-values are NaN.

    References
    ----------
    Dunn OJ (1964) Multiple comparisons using rank sums. Technometrics 6:241.
    Holm S (1979) Scand J Stat 6:65.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"score": [1, 2, 2, 3, 4, 4, 5, 5, 5],
    ...                    "partner_id": list("aaabbbccc")})
    >>> dunn(df, "score", "partner_id")[["group_a", "group_b", "z"]].round(3)
      group_a group_b      z
    0       a       b -1.376
    1       a       c -2.753
    2       b       c -1.376
    """
    labels, samples = split_by_group(valid_rows(data, "data", dv, [between]), dv, between)
    if len(samples) < 2:
        raise ValueError(f"dunn needs at least two groups in {between!r} with data")
    return _dunn(labels, samples, p_adjust)


def _dunn(labels: Sequence[Hashable], samples: Sequence[np.ndarray], p_adjust: str) -> pd.DataFrame:
    sizes = np.array([len(s) for s in samples], dtype=float)
    n = sizes.sum()
    ranks = stats.rankdata(np.concatenate(samples))
    bounds = np.cumsum(sizes).astype(int)[:-1]
    mean_ranks = np.array([r.mean() for r in np.split(ranks, bounds)])
    _, tie_counts = np.unique(ranks, return_counts=True)
    ties = float(np.sum(tie_counts**3 - tie_counts))
    base_var = n * (n + 1) / 12 - ties / (12 * (n - 1))
    a, b = np.triu_indices(len(samples), k=1)
    se = np.sqrt(base_var * (1 / sizes[a] + 1 / sizes[b]))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (mean_ranks[a] - mean_ranks[b]) / se, np.nan)
    p = 2 * stats.norm.sf(np.abs(z))
    return pd.DataFrame(
        {
            "group_a": [labels[int(i)] for i in a],
            "group_b": [labels[int(j)] for j in b],
            "n_a": sizes[a].astype(int),
            "n_b": sizes[b].astype(int),
            "mean_rank_a": mean_ranks[a],
            "mean_rank_b": mean_ranks[b],
            "z": z,
            "p_value": p,
            "p_adjusted": adjust_pvalues(p, method=cast("PAdjust", p_adjust)),
        }
    )


# --------------------------------------------------------------------------- Mann-Whitney


@dataclass(frozen=True)
class MannWhitneyResult:
    """Result of :func:`mann_whitney`.

    Attributes
    ----------
    u : float
        Mann-Whitney U of the first sample ``x`` (R's ``W``): the number of (x, y) pairs with
        ``x > y``, ties counting one half.
    p_value : float
        p-value for ``alternative``.
    method : str
        Method actually used: ``"exact"``, ``"asymptotic"`` or ``"permutation"``.
    alternative : str
        ``"two-sided"``, ``"less"`` or ``"greater"`` (``"greater"``: x tends to be larger).
    use_continuity : bool
        Whether the normal approximation used a continuity correction.
    n_x, n_y : int
        Sample sizes after dropping NaN.
    rank_biserial : float
        ``2 U / (n_x n_y) - 1 = P(X > Y) - P(X < Y)``: positive when x tends to be larger,
        in [-1, 1]; equals Cliff's delta.
    cles : float
        Common-language effect size ``U / (n_x n_y) = P(X > Y) + P(X = Y) / 2``.
    p_method : str
        How ``p_value`` was obtained: ``"exact"`` (exact null distribution of U, or every
        split enumerated), ``"monte_carlo"`` (random splits) or ``"asymptotic"`` (normal).
    n_resamples : int
        Splits evaluated by the permutation test (all of them when enumerated); 0 otherwise.
    p_mc_se : float
        Monte Carlo standard error of ``p_value``; NaN unless ``p_method == "monte_carlo"``.
    """

    u: float
    p_value: float
    method: str
    alternative: str
    use_continuity: bool
    n_x: int
    n_y: int
    rank_biserial: float
    cles: float
    p_method: str = "asymptotic"
    n_resamples: int = 0
    p_mc_se: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict (NaN becomes ``None``)."""
        return nan_to_none(asdict(self))


def mann_whitney(
    x: Any,
    y: Any,
    alternative: str = "two-sided",
    method: str = "auto",
    use_continuity: bool = True,
    *,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    random_state: int | np.random.Generator | None = 0,
    max_arrangements: int = EXACT_MAX_ARRANGEMENTS,
) -> MannWhitneyResult:
    r"""Mann-Whitney U test of two independent samples with rank-biserial r and CLES.

    Parameters
    ----------
    x, y : array-like of float
        The two samples; NaN values are dropped. Each needs at least one value.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        ``"greater"``: values in ``x`` tend to be larger than in ``y``.
    method : {"auto", "exact", "asymptotic", "permutation"}, default "auto"
        ``"auto"``: the normal approximation when both samples have at least 31 values;
        otherwise the exact null distribution of U when there are no ties, and the
        permutation test (exact conditional test) on tied data. ``"exact"`` refuses tied
        data (the exact table assumes no ties). ``"permutation"`` enumerates all splits of the
        pooled midranks when there are at most ``max_arrangements`` of them, else draws
        ``n_resamples`` random splits (``p_method = "monte_carlo"``).
    use_continuity : bool, default True
        Continuity correction for the normal approximation (as R ``wilcox.test``).
    n_resamples : int, default 9999
        Random splits for the permutation test when enumeration is too large.
    random_state : int, numpy Generator or None, default 0
        Seed of the random splits (fixed so a report can be reproduced).
    max_arrangements : int, default 100000
        Largest number of splits, ``C(n_x + n_y, n_x)``, that is enumerated.

    Returns
    -------
    MannWhitneyResult
        ``u``, ``p_value``, ``method`` (the one actually used), ``alternative``,
        ``use_continuity``, ``n_x``, ``n_y``, ``rank_biserial``, ``cles``, ``p_method``,
        ``n_resamples``, ``p_mc_se``.

    Raises
    ------
    ValueError
        For an empty sample, an unknown ``alternative`` or ``method``, or
        ``method="exact"`` with tied values.

    Notes
    -----
    :math:`U_x = R_x - n_x(n_x + 1)/2` with :math:`R_x` the sum of the pooled midranks of x.
    The rank-biserial correlation :math:`r = 2U_x/(n_x n_y) - 1 = P(X>Y) - P(X<Y)` is
    positive when x tends to be larger. This is the sign convention of all three reference
    sources in the project's cases: scipy's docstring example with R
    ``effectsize::rank_biserial`` (C13: U = 17, r = 0.70), Hollander & Wolfe's chorioamnion
    data with R ``wilcox.test`` (C14: W = 35 is U of x, r = 0.40) and ``pingouin.mwu`` (C23:
    U = 97, RBC = -0.515 when x tends to be *smaller*). Older pingouin releases (0.3.x)
    computed ``1 - 2U/(n_x n_y)``, the opposite sign (+0.515 on the C23 data), so compare
    signs with care.

    The permutation p-value counts the splits of the pooled midranks into groups of sizes
    :math:`n_x, n_y` whose :math:`U` is at least (``"greater"``) or at most (``"less"``) the
    observed one: :math:`b/m` over all :math:`m` splits, :math:`(b+1)/(m+1)` over random ones,
    with Monte Carlo standard error :math:`\sqrt{p(1-p)/m}`. The two-sided p doubles the
    smaller one-sided p (scipy's convention; R ``coin`` counts :math:`|U - E(U)|` instead,
    which can differ on tied data); its standard error doubles accordingly. The exact and
    normal p-values come from :func:`scipy.stats.mannwhitneyu`.

    References
    ----------
    Mann HB, Whitney DR (1947) Ann Math Stat 18:50.
    Hothorn T, Hornik K, van de Wiel MA, Zeileis A (2006) A Lego system for conditional
    inference. Am Stat 60:257.
    Kerby DS (2014) The simple difference formula. Compr Psychol 3:11.IT.3.1.
    Vargha A, Delaney HD (2000) J Educ Behav Stat 25:101.

    Examples
    --------
    >>> res = mann_whitney([19, 22, 16, 29, 24], [20, 11, 17, 12])
    >>> res.u, round(res.p_value, 6), res.method, res.rank_biserial
    (17.0, 0.111111, 'exact', 0.7)
    >>> tied = mann_whitney([4, 4, 5, 3, 5, 4], [2, 3, 3, 4, 2], alternative="greater")
    >>> tied.method, tied.p_method, tied.n_resamples, round(tied.p_value, 6)
    ('permutation', 'exact', 462, 0.028139)
    """
    x_arr = finite_1d(x, "x")
    y_arr = finite_1d(y, "y")
    if x_arr.size == 0 or y_arr.size == 0:
        raise ValueError("mann_whitney needs at least one non-missing value in x and in y")
    check_choice(alternative, ALTERNATIVES, "alternative")
    check_choice(method, _MWU_METHODS, "method")
    _check_count(n_resamples, "n_resamples", 1)
    _check_count(max_arrangements, "max_arrangements", 0)
    n_x, n_y = x_arr.size, y_arr.size
    pooled = np.concatenate([x_arr, y_arr])
    tied = np.unique(pooled).size < pooled.size
    if method == "exact" and tied:
        raise ValueError(
            "method='exact' assumes no tied values; use method='permutation' (exact "
            "conditional test) or 'asymptotic' for tied data"
        )
    used = method
    if method == "auto":
        if min(n_x, n_y) >= ASYMPTOTIC_MIN_N:
            used = "asymptotic"
        else:
            used = "permutation" if tied else "exact"
    u = float(stats.rankdata(pooled)[:n_x].sum() - n_x * (n_x + 1) / 2)
    p_method, resamples, se = used, 0, float("nan")
    if used == "permutation":
        p, p_method, resamples, se = _mwu_permutation(
            pooled, n_x, u, alternative, n_resamples, random_state, max_arrangements
        )
    else:
        options: dict[str, Any] = {"alternative": alternative, "method": used,
                                   "use_continuity": use_continuity}
        res = stats.mannwhitneyu(x_arr, y_arr, **options)
        p = float(res.pvalue)
    return MannWhitneyResult(
        u=u,
        p_value=p,
        method=used,
        alternative=alternative,
        use_continuity=bool(use_continuity),
        n_x=int(n_x),
        n_y=int(n_y),
        rank_biserial=2 * u / (n_x * n_y) - 1,
        cles=u / (n_x * n_y),
        p_method=p_method,
        n_resamples=resamples,
        p_mc_se=se,
    )


def _mwu_permutation(
    pooled: np.ndarray,
    n_x: int,
    u: float,
    alternative: str,
    n_resamples: int,
    random_state: int | np.random.Generator | None,
    max_arrangements: int,
) -> tuple[float, str, int, float]:
    """Permutation p of U: ``(p, p_method, splits evaluated, Monte Carlo SE)``."""
    sizes = [n_x, pooled.size - n_x]
    exact = n_arrangements(sizes) <= max_arrangements
    ranks = np.sort(stats.rankdata(pooled))  # sorted: the draws ignore the row order
    sums = arrangement_sums(
        ranks, sizes, exact=exact, n_resamples=n_resamples, random_state=random_state
    )
    null = sums[:, 0] - n_x * (n_x + 1) / 2
    m = int(null.size)
    greater = _tail_p(null, u, exact, upper=True)
    less = _tail_p(null, u, exact, upper=False)
    if alternative == "greater":
        p, scale, tail = greater, 1.0, greater
    elif alternative == "less":
        p, scale, tail = less, 1.0, less
    else:
        tail = min(greater, less)
        p, scale = 2 * tail, 2.0
    se = float("nan") if exact else min(scale * _mc_se(tail, m), 0.5)
    return float(min(p, 1.0)), "exact" if exact else "monte_carlo", m, se


# --------------------------------------------------------------------------- per dimension


def compare_partners(
    scores: pd.DataFrame,
    value: str = "score",
    group: str = "partner_id",
    by: str | Sequence[str] | None = "dimension",
    p_adjust: str = "holm",
    min_n: int = MIN_K,
    *,
    family: str | Sequence[str] | None = None,
    method: str = "auto",
    n_resamples: int = DEFAULT_N_RESAMPLES,
    random_state: int | None = 0,
    max_arrangements: int = EXACT_MAX_ARRANGEMENTS,
) -> pd.DataFrame:
    """Test, per dimension, whether partners see it differently.

    For each cell of ``by`` (by default each dimension), groups with fewer than ``min_n``
    valid values are set aside first (they are too small to show and too noisy to test);
    the remaining groups are compared with Kruskal-Wallis (three or more groups, effect size
    epsilon-squared) or Mann-Whitney U (exactly two, effect size rank-biserial r). p-values
    are then adjusted across the cells.

    Parameters
    ----------
    scores : pandas.DataFrame
        Respondent scores (output of ``scoring.dimension_scores``) or any long frame with
        ``value``, ``group`` and the ``by`` columns. Rows with a missing value are dropped.
    value : str, default "score"
        Numeric column to compare.
    group : str, default "partner_id"
        Column holding the groups to compare.
    by : str or list of str or None, default "dimension"
        One test per combination of these columns. For a frame with several rounds pass
        ``by=["round_id", "dimension"]``; ``None`` runs one test on the whole frame.
    p_adjust : {"holm", "bh", "by", "none"}, default "holm"
        Adjustment across the rows (Holm controls the family-wise error rate; BH the false
        discovery rate), via :func:`analysis.multiple.adjust_pvalues`.
    min_n : int, default 3
        Minimum number of valid values for a group to take part (pass the partnership's
        privacy threshold k; the default is the smallest k allowed,
        :data:`analysis.privacy.MIN_K`). Must be at least 1.
    family : str or list of str or None, default None
        Columns of ``by`` that split the rows into separate adjustment families (e.g.
        ``"round_id"`` to adjust within each round). ``None``: all rows form one family.
    method : {"auto", "asymptotic"}, default "auto"
        ``"auto"``: exact, Monte Carlo or asymptotic p-values by the rule in the module
        notes. ``"asymptotic"``: the chi-squared (Kruskal-Wallis) and normal (Mann-Whitney)
        approximations throughout, as before version 2 of the results.
    n_resamples : int, default 9999
        Random splits for a Monte Carlo p-value (see the module notes for when it is used).
    random_state : int or None, default 0
        Seed; a fresh generator is seeded for each cell, so a cell's p-value does not depend
        on the other cells in the frame.
    max_arrangements : int, default 100000
        Largest number of splits enumerated for an exact p-value.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` cell, with the ``by`` columns and:

        - ``test``: ``"kruskal_wallis"``, ``"mann_whitney"`` or ``None`` when untestable.
        - ``n_groups``: number of groups compared.
        - ``groups``: tuple of the compared group labels (sorted; for Mann-Whitney the first
          is ``x``, so a positive r means it scores higher).
        - ``excluded``: tuple of the groups set aside for having fewer than ``min_n`` values.
        - ``n``: number of values in the compared groups.
        - ``statistic``: H (Kruskal-Wallis) or U of the first group (Mann-Whitney).
        - ``df``: ``n_groups - 1`` for Kruskal-Wallis, NaN for Mann-Whitney.
        - ``method``: test variant (for Kruskal-Wallis ``"chi2"``, ``"exact"`` or
          ``"monte_carlo"``; for Mann-Whitney the method :func:`mann_whitney` used with
          ``method="auto"``: ``"exact"``, ``"permutation"`` or ``"asymptotic"``).
        - ``p_value``: unadjusted p-value.
        - ``p_method``: ``"exact"``, ``"monte_carlo"`` or ``"asymptotic"`` (None untested).
        - ``n_resamples``: splits evaluated by a permutation p-value (0 otherwise).
        - ``p_mc_se``: Monte Carlo standard error of ``p_value`` (NaN unless Monte Carlo).
        - ``effect_size``: epsilon-squared or rank-biserial r.
        - ``effect_size_name``: ``"epsilon_squared"`` or ``"rank_biserial"``.
        - ``p_adjusted``: p-value adjusted across rows (NaN rows do not count).
        - ``reason``: why a row has no test (``None`` when tested).

    Notes
    -----
    See :func:`kruskal_wallis` and :func:`mann_whitney` for the formulas, and the module notes
    for when a p-value is exact, Monte Carlo or asymptotic. Pairwise follow-up tests come from
    :func:`compare_partners_posthoc`, which applies the same exclusions.

    References
    ----------
    Holm S (1979) Scand J Stat 6:65. Benjamini Y, Hochberg Y (1995) JRSS B 57:289.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({
    ...     "dimension": ["equality"] * 12,
    ...     "partner_id": ["a"] * 5 + ["b"] * 5 + ["c"] * 2,
    ...     "score": [4, 4.5, 5, 4, 3.5, 2, 2.5, 3, 1.5, 2, 5, 5]})
    >>> out = compare_partners(scores, min_n=5)
    >>> out[["dimension", "test", "groups", "excluded", "statistic", "effect_size"]]
      dimension          test  groups excluded  statistic  effect_size
    0  equality  mann_whitney  (a, b)     (c,)       25.0          1.0
    """
    by_cols = as_column_list(by, "by")
    frame = valid_rows(scores, "scores", value, [group, *by_cols])
    check_min_n(min_n)
    check_choice(method, ("auto", "asymptotic"), "method")
    _check_count(n_resamples, "n_resamples", 1)
    _check_count(max_arrangements, "max_arrangements", 0)
    rows = []
    for key, cell in iter_cells(frame, by_cols):
        labels, samples = split_by_group(cell, value, group)
        keep = [i for i, s in enumerate(samples) if len(s) >= min_n]
        rng = np.random.default_rng(random_state)
        row: dict[str, Any] = {
            **key,
            "test": None,
            "n_groups": len(keep),
            "groups": tuple(labels[i] for i in keep),
            "excluded": tuple(labels[i] for i in range(len(labels)) if i not in keep),
            "n": int(sum(len(samples[i]) for i in keep)),
            "statistic": np.nan,
            "df": np.nan,
            "method": None,
            "p_value": np.nan,
            "p_method": None,
            "n_resamples": 0,
            "p_mc_se": np.nan,
            "effect_size": np.nan,
            "effect_size_name": None,
            "reason": None,
        }
        kept = [samples[i] for i in keep]
        if len(kept) < 2:
            row["reason"] = f"fewer than two groups with at least {min_n} values"
        elif np.ptp(np.concatenate(kept)) == 0:
            row["reason"] = "all values are identical"
        elif len(kept) == 2:
            res = mann_whitney(
                kept[0],
                kept[1],
                method=method,
                n_resamples=n_resamples,
                random_state=rng,
                max_arrangements=max_arrangements,
            )
            row.update(
                test="mann_whitney",
                statistic=res.u,
                method=res.method,
                p_value=res.p_value,
                p_method=res.p_method,
                n_resamples=res.n_resamples,
                p_mc_se=res.p_mc_se,
                effect_size=res.rank_biserial,
                effect_size_name="rank_biserial",
            )
        else:
            res_kw = _kruskal(kept, method, n_resamples, rng, max_arrangements)
            row.update(
                test="kruskal_wallis",
                statistic=res_kw["h"],
                df=float(res_kw["df"]),
                method="chi2" if res_kw["p_method"] == "asymptotic" else res_kw["p_method"],
                p_value=res_kw["p_value"],
                p_method=res_kw["p_method"],
                n_resamples=res_kw["n_resamples"],
                p_mc_se=res_kw["p_mc_se"],
                effect_size=res_kw["epsilon_squared"],
                effect_size_name="epsilon_squared",
            )
        rows.append(row)
    columns = [
        *by_cols,
        "test",
        "n_groups",
        "groups",
        "excluded",
        "n",
        "statistic",
        "df",
        "method",
        "p_value",
        "p_method",
        "n_resamples",
        "p_mc_se",
        "effect_size",
        "effect_size_name",
        "reason",
    ]
    out = result_frame(
        rows, columns, text=("test", "method", "p_method", "effect_size_name", "reason")
    )
    out.insert(len(columns) - 1, "p_adjusted", adjust_column(out, p_adjust, family, by_cols))
    return out


def compare_partners_posthoc(
    scores: pd.DataFrame,
    value: str = "score",
    group: str = "partner_id",
    by: str | Sequence[str] | None = "dimension",
    p_adjust: str = "holm",
    min_n: int = MIN_K,
) -> pd.DataFrame:
    """Dunn's pairwise tests between partners, per dimension, after :func:`compare_partners`.

    Uses the same exclusion rule (groups with fewer than ``min_n`` valid values are set aside
    before ranking), so the pairs match the groups ``compare_partners`` compared.

    Parameters
    ----------
    scores, value, group, by, min_n
        As in :func:`compare_partners`.
    p_adjust : {"holm", "bh", "by", "none"}, default "holm"
        Adjustment over the pairs *within each* ``by`` cell (the family is all partner pairs
        of one dimension), via :func:`analysis.multiple.adjust_pvalues`.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns followed by the columns of :func:`dunn` (``group_a``, ``group_b``,
        ``n_a``, ``n_b``, ``mean_rank_a``, ``mean_rank_b``, ``z``, ``p_value``,
        ``p_adjusted``); cells with fewer than two eligible groups contribute no rows.

    Notes
    -----
    See :func:`dunn` for the formula.

    References
    ----------
    Dunn OJ (1964) Technometrics 6:241.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"dimension": "equality", "partner_id": list("aaabbbccc"),
    ...                        "score": [1, 2, 2, 3, 4, 4, 5, 5, 5]})
    >>> compare_partners_posthoc(scores, min_n=3)[["group_a", "group_b", "p_adjusted"]].round(3)
      group_a group_b  p_adjusted
    0       a       b       0.337
    1       a       c       0.018
    2       b       c       0.337
    """
    by_cols = as_column_list(by, "by")
    frame = valid_rows(scores, "scores", value, [group, *by_cols])
    check_min_n(min_n)
    parts = []
    for key, cell in iter_cells(frame, by_cols):
        labels, samples = split_by_group(cell, value, group)
        keep = [i for i, s in enumerate(samples) if len(s) >= min_n]
        if len(keep) < 2:
            continue
        table = _dunn([labels[i] for i in keep], [samples[i] for i in keep], p_adjust)
        for position, (column, cell_value) in enumerate(key.items()):
            table.insert(position, column, [cell_value] * len(table))
        parts.append(table)
    columns = [
        *by_cols,
        "group_a",
        "group_b",
        "n_a",
        "n_b",
        "mean_rank_a",
        "mean_rank_b",
        "z",
        "p_value",
        "p_adjusted",
    ]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]
