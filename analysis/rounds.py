"""Did a round change? Consecutive rounds, trends over rounds, and linked (paired) rounds.

Responses are anonymous, so rounds are compared as independent samples
(:func:`compare_rounds`: Mann-Whitney U between consecutive rounds; :func:`trend_test`:
Jonckheere-Terpstra over three or more rounds). The same people often answer several rounds,
which makes these independent-sample tests conservative; turnover and changing response rates
also move the numbers, so every row carries ``n`` per round. Only where a partnership links
answers with pseudonymous panel codes does :func:`paired_wilcoxon` apply.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import as_column_list, nan_to_none
from analysis._common import (
    ALTERNATIVES,
    adjust_column,
    check_choice,
    check_min_n,
    iter_cells,
    py_scalar,
    result_frame,
    split_by_group,
    valid_rows,
)
from analysis.compare import mann_whitney

__all__ = [
    "WILCOXON_RESAMPLES",
    "WilcoxonResult",
    "compare_rounds",
    "paired_wilcoxon",
    "trend_test",
]

_WILCOXON_METHODS = ("auto", "exact", "asymptotic", "permutation")
_ZERO_METHODS = ("wilcox", "pratt", "zsplit")
#: Largest number of ranked differences whose null distribution is counted exactly (over all
#: 2^n sign patterns, by the shift algorithm: n steps over at most n(n + 1) + 1 half-rank
#: sums, 27 million additions and a few milliseconds at n = 300). Chosen here rather than by
#: scipy, whose own "auto" changed between versions (statistics.md, Part B).
WILCOXON_EXACT_MAX_N = 300
#: Random sign patterns of the Monte Carlo signed-rank test: the Monte Carlo standard error of
#: a p near 0.05 is sqrt(0.05 * 0.95 / 9999) = 0.0022.
WILCOXON_RESAMPLES = 9999


# --------------------------------------------------------------------------- consecutive


def compare_rounds(
    scores: pd.DataFrame,
    value: str = "score",
    round_col: str = "round_id",
    order: Sequence[Hashable] | None = None,
    by: str | Sequence[str] | None = "dimension",
    p_adjust: str = "holm",
    min_n: int = 5,
    *,
    family: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compare each round with the one before it, as independent samples.

    Parameters
    ----------
    scores : pandas.DataFrame
        Respondent scores (or any long frame) with ``value``, ``round_col`` and the ``by``
        columns; rows with a missing value are dropped.
    value : str, default "score"
        Numeric column to compare.
    round_col : str, default "round_id"
        Column identifying the round.
    order : sequence, optional
        Round ids in chronological order. Default: the sorted distinct values of
        ``round_col``. Every round in the data must appear in ``order``.
    by : str or list of str or None, default "dimension"
        One comparison per cell of these columns (e.g. ``["partner_id", "dimension"]``).
    p_adjust : {"holm", "bh", "by", "none"}, default "holm"
        Adjustment across all rows (or within each ``family``), via
        :func:`analysis.multiple.adjust_pvalues`.
    min_n : int, default 5
        Minimum valid values in *both* rounds for a comparison (pass the privacy threshold k:
        a change must not be shown when either round is below it).
    family : str or list of str or None, default None
        Columns of ``by`` that split the rows into separate adjustment families.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` cell and consecutive pair of rounds in ``order``:

        - the ``by`` columns;
        - ``round_from``, ``round_to``: the earlier and the later round;
        - ``n_from``, ``n_to``: valid values in each;
        - ``mean_from``, ``mean_to``: their means;
        - ``mean_difference``: ``mean_to - mean_from`` (positive = higher in the later round);
        - ``u``: Mann-Whitney U of the *later* round;
        - ``method``: the p-value method used (see :func:`analysis.compare.mann_whitney`);
        - ``p_value``: two-sided p-value;
        - ``rank_biserial``: ``2U/(n_to n_from) - 1``, positive when the later round scores
          higher;
        - ``p_adjusted``: adjusted p-value;
        - ``reason``: why a row was not tested (``None`` when tested). Means are also
          withheld (NaN) when a round is below ``min_n``.

    Notes
    -----
    Uses :func:`analysis.compare.mann_whitney` with ``method="auto"`` on (later, earlier).
    Independent-sample tests ignore that rounds share respondents; with positive
    within-person correlation they are conservative (they miss real change).

    References
    ----------
    Mann HB, Whitney DR (1947) Ann Math Stat 18:50. Kerby DS (2014) Compr Psychol 3:11.IT.3.1.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"dimension": "transparency",
    ...                        "round_id": [1] * 5 + [2] * 5,
    ...                        "score": [2, 2.5, 3, 3, 2, 4, 3.5, 4, 4.5, 3]})
    >>> out = compare_rounds(scores)
    >>> out[["round_from", "round_to", "mean_difference", "u", "rank_biserial"]]
       round_from  round_to  mean_difference     u  rank_biserial
    0           1         2              1.3  24.0           0.92
    """
    by_cols = as_column_list(by, "by")
    frame = valid_rows(scores, "scores", value, [round_col, *by_cols])
    check_min_n(min_n)
    rounds = _round_order(frame[round_col], order)
    rows = []
    for key, cell in iter_cells(frame, by_cols):
        labels, samples = split_by_group(cell, value, round_col)
        by_round = dict(zip(labels, samples, strict=True))
        empty = np.empty(0)
        for earlier, later in itertools.pairwise(rounds):
            before, after = by_round.get(earlier, empty), by_round.get(later, empty)
            row: dict[str, Any] = {
                **key,
                "round_from": earlier,
                "round_to": later,
                "n_from": before.size,
                "n_to": after.size,
                "mean_from": np.nan,
                "mean_to": np.nan,
                "mean_difference": np.nan,
                "u": np.nan,
                "method": None,
                "p_value": np.nan,
                "rank_biserial": np.nan,
                "reason": None,
            }
            if min(before.size, after.size) < min_n:
                row["reason"] = f"a round has fewer than {min_n} values"
            else:
                res = mann_whitney(after, before)
                row.update(
                    mean_from=before.mean(),
                    mean_to=after.mean(),
                    mean_difference=after.mean() - before.mean(),
                    u=res.u,
                    method=res.method,
                    p_value=res.p_value,
                    rank_biserial=res.rank_biserial,
                )
            rows.append(row)
    columns = [
        *by_cols,
        "round_from",
        "round_to",
        "n_from",
        "n_to",
        "mean_from",
        "mean_to",
        "mean_difference",
        "u",
        "method",
        "p_value",
        "rank_biserial",
        "reason",
    ]
    out = result_frame(rows, columns, text=("method", "reason"))
    out.insert(len(columns) - 1, "p_adjusted", adjust_column(out, p_adjust, family, by_cols))
    return out


# --------------------------------------------------------------------------- trend


def trend_test(
    scores: pd.DataFrame,
    value: str = "score",
    round_col: str = "round_id",
    order: Sequence[Hashable] | None = None,
    by: str | Sequence[str] | None = "dimension",
    alternative: str = "two-sided",
    p_adjust: str = "holm",
    min_n: int = 5,
    *,
    family: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    r"""Jonckheere-Terpstra test for a monotonic trend over three or more rounds.

    More powerful than Kruskal-Wallis when the question is "is it getting better (or worse)
    round after round?", because it uses the order of the rounds.

    Parameters
    ----------
    scores : pandas.DataFrame
        Long frame with ``value``, ``round_col`` and the ``by`` columns; rows with a missing
        value are dropped.
    value : str, default "score"
        Numeric column.
    round_col : str, default "round_id"
        Column identifying the round.
    order : sequence, optional
        Round ids in chronological order (default: sorted distinct values); every round in the
        data must appear in it.
    by : str or list of str or None, default "dimension"
        One test per cell of these columns.
    alternative : {"two-sided", "greater", "less"}, default "two-sided"
        ``"greater"``: values increase with the round order; ``"less"``: they decrease.
    p_adjust : {"holm", "bh", "by", "none"}, default "holm"
        Adjustment across rows (or within each ``family``).
    min_n : int, default 5
        Rounds with fewer valid values are left out of the test of that cell.
    family : str or list of str or None, default None
        Columns of ``by`` that split rows into separate adjustment families.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` cell:

        - the ``by`` columns;
        - ``n_rounds``: rounds tested; ``rounds``: their ids (tuple, in order);
          ``excluded``: rounds of ``order`` left out for having fewer than ``min_n`` values
          in this cell (including rounds without any);
        - ``n``: values tested;
        - ``j``: the Jonckheere-Terpstra statistic; ``j_expected``, ``j_variance``: its null
          mean and tie-corrected null variance;
        - ``z``: ``(j - j_expected) / sqrt(j_variance)``;
        - ``p_value``: normal-approximation p-value for ``alternative``;
        - ``tau_b``: Kendall's tau-b between round position and value (effect size, in
          [-1, 1], positive for an upward trend);
        - ``p_adjusted``; ``reason`` (why a row was not tested, else ``None``).

    Notes
    -----
    With rounds :math:`1..k` in order,
    :math:`J = \sum_{i<j} U_{ij}`, where :math:`U_{ij}` counts pairs (x from round i, y from
    a later round j) with :math:`x < y`, ties counting one half. Under the null hypothesis
    :math:`E(J) = (N^2 - \sum n_i^2)/4` and, with :math:`t` the sizes of groups of tied
    values (Hollander & Wolfe 1999, eq. 6.19),

    .. math::

        Var(J) = \frac{N(N-1)(2N+5) - \sum n_i(n_i-1)(2n_i+5) - \sum t(t-1)(2t+5)}{72}
        + \frac{[\sum n_i(n_i-1)(n_i-2)][\sum t(t-1)(t-2)]}{36N(N-1)(N-2)}
        + \frac{[\sum n_i(n_i-1)][\sum t(t-1)]}{8N(N-1)}.

    The p-value refers :math:`z` (Hollander & Wolfe's :math:`J^*`) to the standard normal
    distribution without continuity correction. It is an approximation (no exact or
    permutation p is offered); with rounds of about five respondents treat it as indicative.
    Checked against Hollander & Wolfe's Example 6.2 (J = 79, Var = 150.29, J* = 2.04).
    Kendall's tau-b comes from :func:`scipy.stats.kendalltau`; its numerator is
    :math:`2(J - E(J))`, so it carries the same direction as ``z``.

    References
    ----------
    Jonckheere AR (1954) Biometrika 41:133. Terpstra TJ (1952) Indag Math 14:327.
    Hollander M, Wolfe DA (1999) Nonparametric Statistical Methods, 2nd ed., section 6.2.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({
    ...     "dimension": "ownership",
    ...     "round_id": [1] * 6 + [2] * 6 + [3] * 6,
    ...     "score": [40, 35, 38, 43, 44, 41, 38, 40, 47, 44, 40, 42,
    ...               48, 40, 45, 43, 46, 44]})
    >>> row = trend_test(scores, alternative="greater").iloc[0]
    >>> float(row.j), float(row.j_expected), round(float(row.j_variance), 2)
    (79.0, 54.0, 150.29)
    """
    check_choice(alternative, ALTERNATIVES, "alternative")
    by_cols = as_column_list(by, "by")
    frame = valid_rows(scores, "scores", value, [round_col, *by_cols])
    check_min_n(min_n)
    rounds = _round_order(frame[round_col], order)
    rows = []
    for key, cell in iter_cells(frame, by_cols):
        labels, samples = split_by_group(cell, value, round_col)
        by_round = dict(zip(labels, samples, strict=True))
        kept = [r for r in rounds if by_round.get(r, np.empty(0)).size >= min_n]
        row: dict[str, Any] = {
            **key,
            "n_rounds": len(kept),
            "rounds": tuple(kept),
            "excluded": tuple(r for r in rounds if r not in kept),
            "n": int(sum(by_round[r].size for r in kept)),
            "j": np.nan,
            "j_expected": np.nan,
            "j_variance": np.nan,
            "z": np.nan,
            "p_value": np.nan,
            "tau_b": np.nan,
            "reason": None,
        }
        groups = [by_round[r] for r in kept]
        if len(kept) < 3:
            row["reason"] = (
                f"fewer than three rounds with at least {min_n} values; use compare_rounds"
            )
        elif np.ptp(np.concatenate(groups)) == 0:
            row["reason"] = "all values are identical"
        else:
            row.update(_jonckheere(groups, alternative))
        rows.append(row)
    columns = [
        *by_cols,
        "n_rounds",
        "rounds",
        "excluded",
        "n",
        "j",
        "j_expected",
        "j_variance",
        "z",
        "p_value",
        "tau_b",
        "reason",
    ]
    out = result_frame(rows, columns)
    out.insert(len(columns) - 1, "p_adjusted", adjust_column(out, p_adjust, family, by_cols))
    return out


def _jonckheere(groups: Sequence[np.ndarray], alternative: str) -> dict[str, float]:
    """J, its null mean and tie-corrected variance, z, p and tau-b for ordered groups."""
    sizes = np.array([g.size for g in groups], dtype=float)
    n = sizes.sum()
    j = 0.0
    earlier = np.sort(groups[0])
    for group in groups[1:]:
        # Each later value beats the earlier values below it and ties with the equal ones.
        below = np.searchsorted(earlier, group, side="left")
        below_or_equal = np.searchsorted(earlier, group, side="right")
        j += below.sum() + 0.5 * (below_or_equal - below).sum()
        earlier = np.sort(np.concatenate([earlier, group]))
    pooled = np.concatenate(groups)
    _, t = np.unique(pooled, return_counts=True)
    t = t.astype(float)
    expected = (n**2 - np.sum(sizes**2)) / 4
    variance = (
        (
            n * (n - 1) * (2 * n + 5)
            - np.sum(sizes * (sizes - 1) * (2 * sizes + 5))
            - np.sum(t * (t - 1) * (2 * t + 5))
        )
        / 72
        + np.sum(sizes * (sizes - 1) * (sizes - 2))
        * np.sum(t * (t - 1) * (t - 2))
        / (36 * n * (n - 1) * (n - 2))
        + np.sum(sizes * (sizes - 1)) * np.sum(t * (t - 1)) / (8 * n * (n - 1))
    )
    z = (j - expected) / np.sqrt(variance)
    if alternative == "greater":
        p = stats.norm.sf(z)
    elif alternative == "less":
        p = stats.norm.cdf(z)
    else:
        p = min(1.0, 2 * stats.norm.sf(abs(z)))
    position = np.repeat(np.arange(len(groups)), sizes.astype(int))
    tau = stats.kendalltau(position, pooled, variant="b").statistic
    return {
        "j": float(j),
        "j_expected": float(expected),
        "j_variance": float(variance),
        "z": float(z),
        "p_value": float(p),
        "tau_b": float(tau),
    }


def _round_order(rounds: pd.Series, order: Sequence[Hashable] | None) -> list[Hashable]:
    present = [py_scalar(r) for r in pd.unique(rounds.dropna())]
    if order is None:
        try:
            return sorted(present)
        except TypeError:
            raise TypeError(
                "round ids of mixed types cannot be sorted; pass order= explicitly"
            ) from None
    ordered = [py_scalar(r) for r in order]
    if len(set(ordered)) != len(ordered):
        raise ValueError(f"order lists a round twice: {ordered}")
    missing = [r for r in present if r not in ordered]
    if missing:
        raise ValueError(f"rounds {missing} are in the data but not in order={ordered}")
    return ordered


# --------------------------------------------------------------------------- paired


@dataclass(frozen=True)
class WilcoxonResult:
    r"""Result of :func:`paired_wilcoxon`.

    Attributes
    ----------
    n : int
        Complete pairs used (pairs with a missing value are dropped).
    n_zero : int
        Pairs with no change (``after == before``).
    t_plus, t_minus : float
        Sums of the ranks of the positive and negative differences ``after - before`` (R's
        ``V`` is ``t_plus``), after the ``zero_method`` treatment of zeros.
    p_value : float
        p-value for ``alternative``; NaN when no difference is non-zero.
    method : str
        Method actually used: ``"exact"`` (signed-rank table), ``"permutation"`` (every sign
        pattern enumerated: exact conditional test), ``"monte_carlo"`` (random sign patterns)
        or ``"asymptotic"`` (normal approximation).
    exact : bool
        Whether ``p_value`` comes from a complete null distribution (``"exact"`` or an
        enumerated ``"permutation"``).
    n_resamples : int
        Random sign patterns drawn for ``"monte_carlo"``; 0 when the p-value is exact or
        asymptotic.
    p_mc_se : float
        Monte Carlo standard error of ``p_value``, :math:`\sqrt{p(1-p)/m}` (NaN unless
        ``method == "monte_carlo"``): the precision of a sampled p.
    alternative : str
        ``"greater"``: ``after`` tends to be larger than ``before``.
    zero_method : str
        ``"wilcox"``, ``"pratt"`` or ``"zsplit"``.
    correction : bool
        Continuity correction in the normal approximation.
    rank_biserial : float
        Matched-pairs rank-biserial correlation ``(t_plus - t_minus) / (t_plus + t_minus)``,
        positive when ``after`` tends to be larger.
    median_difference : float
        Median of ``after - before`` over all complete pairs.
    """

    n: int
    n_zero: int
    t_plus: float
    t_minus: float
    p_value: float
    method: str
    alternative: str
    zero_method: str
    correction: bool
    rank_biserial: float
    median_difference: float
    exact: bool = False
    n_resamples: int = 0
    p_mc_se: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict (NaN becomes ``None``)."""
        return nan_to_none(asdict(self))


def paired_wilcoxon(
    before: Any,
    after: Any,
    alternative: str = "two-sided",
    method: str = "auto",
    *,
    zero_method: str = "wilcox",
    correction: bool = False,
    n_resamples: int = WILCOXON_RESAMPLES,
    random_state: int | None = 0,
) -> WilcoxonResult:
    r"""Wilcoxon signed-rank test for linked rounds, with matched-pairs rank-biserial r.

    For partnerships that link a respondent's answers across rounds with a pseudonymous
    panel code: ``before[i]`` and ``after[i]`` belong to the same person.

    Parameters
    ----------
    before, after : array-like of float
        Paired values of the earlier and the later round, same length. Pairs with a NaN in
        either are dropped.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        ``"greater"``: ``after`` tends to be larger (the differences ``after - before`` are
        shifted above zero).
    method : {"auto", "exact", "permutation", "asymptotic"}, default "auto"
        ``"auto"`` follows the rule in the Notes: exact whenever the pairs are few enough to
        count every sign pattern (up to 300), Monte Carlo above that with its precision
        reported. ``"exact"`` refuses ties or ranked zeros; ``"permutation"`` counts every
        sign pattern up to 300 ranked differences and otherwise samples ``n_resamples`` of
        them (reported as ``"monte_carlo"``); ``"asymptotic"`` is the tie-corrected normal
        approximation.
    zero_method : {"wilcox", "pratt", "zsplit"}, default "wilcox"
        Pairs with no change are common on Likert scales. ``"wilcox"`` (default, as R) drops
        them before ranking; ``"pratt"`` ranks them with the others and then drops their
        ranks (Pratt 1959; more conservative); ``"zsplit"`` splits their ranks evenly
        between the positive and negative sums.
    correction : bool, default False
        Continuity correction for the normal approximation (scipy's default; R's default is
        ``True``).
    n_resamples : int, default 9999
        Random sign patterns of the Monte Carlo test, when enumeration is too large
        (:data:`WILCOXON_RESAMPLES`).
    random_state : int or None, default 0
        Seed for sampled sign patterns.

    Returns
    -------
    WilcoxonResult
        ``n``, ``n_zero``, ``t_plus``, ``t_minus``, ``p_value``, ``method`` (as used),
        ``alternative``, ``zero_method``, ``correction``, ``rank_biserial``,
        ``median_difference``, ``exact``, ``n_resamples``, ``p_mc_se``.

    Raises
    ------
    ValueError
        If the lengths differ, for unknown options, or for ``method="exact"`` with ties or
        ranked zeros.

    Notes
    -----
    With :math:`d_i = after_i - before_i` and ranks of :math:`|d_i|`,
    :math:`T^+ = \sum_{d_i > 0} rank_i` and :math:`T^- = \sum_{d_i < 0} rank_i`.
    The effect size is Kerby's (2014) simple difference
    :math:`r = (T^+ - T^-)/(T^+ + T^-)`, in [-1, 1]. The normal approximation is
    :func:`scipy.stats.wilcoxon`'s (``method="asymptotic"``); the other p-values are
    computed here as below. When all
    differences are zero the test is undefined: ``p_value`` and ``rank_biserial`` are NaN.

    The rule of ``method="auto"``, with :math:`n` the ranked differences:

    1. no tied :math:`|d_i|` and no ranked zero, :math:`n \le 300`: the exact signed-rank
       distribution (``"exact"``);
    2. tied :math:`|d_i|` or ranked zeros, :math:`n \le 300`: the exact conditional
       distribution given the (mid-)ranks over all :math:`2^n` sign patterns
       (``"permutation"``, ``exact`` True);
    3. :math:`n > 300` (:data:`WILCOXON_EXACT_MAX_N`): ``n_resamples`` random sign patterns
       (``"monte_carlo"``): with :math:`b` of :math:`m` at least as extreme,
       :math:`p = (b + 1)/(m + 1)` (Phipson & Smyth 2010; two-sided: twice the smaller
       one-sided p, at most 1) and the Monte Carlo standard error
       :math:`\sqrt{p(1-p)/m}` is reported as ``p_mc_se`` (0.0022 near p = 0.05 with the
       default 9,999).

    The exact distributions of rules 1 and 2 are counted, not listed: every (mid-)rank is a
    multiple of 1/2, so :math:`T^+` takes whole half-rank values and its distribution over all
    sign patterns follows from n convolution steps (the shift algorithm of Streitberg &
    Röhmel 1986, as in R's coin); the result is the same as listing the :math:`2^n`
    patterns. One-sided p-values are :math:`P(T^+ \ge t)` and :math:`P(T^+ \le t)`; the
    two-sided p is twice the smaller, at most 1 (scipy's convention). Partnerships' linked
    panels are far below 300 pairs, so in practice every p-value is exact.

    References
    ----------
    Wilcoxon F (1945) Biometrics Bull 1:80. Pratt JW (1959) J Am Stat Assoc 54:655.
    Kerby DS (2014) The simple difference formula. Compr Psychol 3:11.IT.3.1.
    Phipson B, Smyth GK (2010) Permutation p-values should never be zero. Stat Appl Genet
    Mol Biol 9:39. Streitberg B, Röhmel J (1986) Exact distributions for permutation and rank
    tests. Stat Software Newsl 12:10.

    Examples
    --------
    >>> before = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    >>> after = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3]
    >>> res = paired_wilcoxon(before, after, alternative="greater")
    >>> res.t_plus, round(res.p_value, 6), res.method, round(res.rank_biserial, 6)
    (40.0, 0.019531, 'exact', 0.777778)
    """
    b = _paired_array(before, "before")
    a = _paired_array(after, "after")
    if a.size != b.size:
        raise ValueError(f"before and after must have the same length, got {b.size} and {a.size}")
    check_choice(alternative, ALTERNATIVES, "alternative")
    check_choice(method, _WILCOXON_METHODS, "method")
    check_choice(zero_method, _ZERO_METHODS, "zero_method")
    if correction not in (True, False):
        raise TypeError("correction must be True or False")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise TypeError("n_resamples must be an integer")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    complete = ~(np.isnan(a) | np.isnan(b))
    d = a[complete] - b[complete]
    t_plus, t_minus, n_ranked, tied = _signed_rank_sums(d, zero_method)
    n_zero = int(np.count_nonzero(d == 0))
    median = float(np.median(d)) if d.size else np.nan
    if method == "exact" and tied:
        raise ValueError(
            "method='exact' assumes no tied differences and no ranked zeros; use "
            "method='permutation' (exact conditional test) or 'asymptotic'"
        )
    used = method
    if method == "auto":
        used = "permutation" if tied else "exact"
    if used in ("exact", "permutation") and n_ranked > WILCOXON_EXACT_MAX_N:
        if method == "exact":
            raise ValueError(
                f"method='exact' counts at most {WILCOXON_EXACT_MAX_N} ranked differences, got "
                f"{n_ranked}; use 'auto' (Monte Carlo) or 'asymptotic'"
            )
        used = "monte_carlo"
    exact = used in ("exact", "permutation")
    evaluated = 0
    p_se = math.nan
    if np.count_nonzero(d) == 0:
        p = r = np.nan
    elif used == "asymptotic":
        # zero_method and alternative were checked above; SciPy's stubs want their literals.
        options: dict[str, Any] = {"zero_method": zero_method, "alternative": alternative}
        res = stats.wilcoxon(d, correction=correction, method="asymptotic", **options)
        p = float(res.pvalue)
        r = (t_plus - t_minus) / (t_plus + t_minus)
    else:
        nonzero_ranks, observed = _null_ranks(d, zero_method)
        if exact:
            greater, less = _exact_signed_rank_tails(nonzero_ranks, observed)
        else:
            greater, less = _monte_carlo_signed_rank_tails(
                nonzero_ranks, observed, int(n_resamples), random_state
            )
            evaluated = int(n_resamples)
        p = {"greater": greater, "less": less}.get(alternative, min(1.0, 2 * min(greater, less)))
        r = (t_plus - t_minus) / (t_plus + t_minus)
        if not exact:
            p_se = math.sqrt(p * (1 - p) / evaluated)
    return WilcoxonResult(
        n=int(d.size),
        n_zero=n_zero,
        t_plus=t_plus,
        t_minus=t_minus,
        p_value=p,
        method=used,
        alternative=alternative,
        zero_method=zero_method,
        correction=bool(correction),
        rank_biserial=float(r),
        median_difference=median,
        exact=bool(exact),
        n_resamples=int(evaluated),
        p_mc_se=p_se,
    )


def _null_ranks(d: np.ndarray, zero_method: str) -> tuple[np.ndarray, int]:
    """Doubled ranks of the non-zero differences and the doubled observed T+ beyond zeros.

    Ranks are multiples of 1/2, so twice a rank is a whole number and T+ can be counted
    exactly. A zero difference keeps its sign under every pattern: with "pratt" its rank is
    dropped, with "zsplit" half of it is a constant in T+ that both sides of the comparison
    share, so only the non-zero differences vary.
    """
    ranked = d[d != 0] if zero_method == "wilcox" else d
    doubled = np.rint(2 * stats.rankdata(np.abs(ranked))).astype(np.int64)
    nonzero = ranked != 0
    observed = int(doubled[ranked > 0].sum())
    return doubled[nonzero], observed


def _exact_signed_rank_tails(doubled: np.ndarray, observed: int) -> tuple[float, float]:
    """P(T+ >= observed) and P(T+ <= observed) over all sign patterns (shift algorithm)."""
    dist = np.zeros(int(doubled.sum()) + 1)
    dist[0] = 1.0
    top = 0
    for w in doubled:
        # Each difference is positive or negative with probability 1/2, independently.
        w = int(w)
        shifted = dist[: top + 1].copy()
        dist[: top + 1] *= 0.5
        dist[w : w + top + 1] += 0.5 * shifted
        top += w
    return float(min(1.0, dist[observed:].sum())), float(min(1.0, dist[: observed + 1].sum()))


def _monte_carlo_signed_rank_tails(
    doubled: np.ndarray, observed: int, n_resamples: int, random_state: int | None
) -> tuple[float, float]:
    """One-sided Monte Carlo p-values, (b + 1)/(m + 1), from random sign patterns."""
    rng = np.random.default_rng(random_state)
    batch = max(1, (1 << 22) // max(1, doubled.size))
    at_least = at_most = 0
    done = 0
    while done < n_resamples:
        rows = min(batch, n_resamples - done)
        signs = rng.integers(0, 2, size=(rows, doubled.size), dtype=np.int8)
        totals = signs @ doubled
        at_least += int(np.count_nonzero(totals >= observed))
        at_most += int(np.count_nonzero(totals <= observed))
        done += rows
    return (at_least + 1) / (n_resamples + 1), (at_most + 1) / (n_resamples + 1)


def _signed_rank_sums(d: np.ndarray, zero_method: str) -> tuple[float, float, int, bool]:
    """T+, T-, the number of ranked differences and whether exact tables are invalid."""
    zeros = d == 0
    ranked = d[~zeros] if zero_method == "wilcox" else d
    if ranked.size == 0:
        return 0.0, 0.0, 0, False
    ranks = stats.rankdata(np.abs(ranked))
    t_plus = float(ranks[ranked > 0].sum())
    t_minus = float(ranks[ranked < 0].sum())
    if zero_method == "zsplit":
        half_zero = float(ranks[ranked == 0].sum()) / 2
        t_plus += half_zero
        t_minus += half_zero
    has_ties = np.unique(np.abs(ranked)).size < ranked.size
    ranked_zero = zero_method != "wilcox" and bool(zeros.any())
    return t_plus, t_minus, int(ranked.size), bool(has_ties or ranked_zero)


def _paired_array(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a sequence of numbers") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values")
    return arr
