"""Do partners differ? Kruskal-Wallis with epsilon-squared, Dunn post-hoc, Mann-Whitney U.

Survey answers are ordinal and heavily tied, and partners have 3-30 respondents, so partners
are compared with rank tests (tie-corrected), each p-value travelling with its ``n`` and an
effect size. :func:`compare_partners` runs one test per dimension (Kruskal-Wallis for three or
more partners, Mann-Whitney U for exactly two) and adjusts the p-values across dimensions.
"""

from __future__ import annotations

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
    finite_1d,
    iter_cells,
    result_frame,
    split_by_group,
    valid_rows,
)
from analysis.multiple import adjust_pvalues

__all__ = [
    "MannWhitneyResult",
    "compare_partners",
    "compare_partners_posthoc",
    "dunn",
    "kruskal_wallis",
    "mann_whitney",
]

_MWU_METHODS = ("auto", "exact", "asymptotic", "permutation")
# scipy's own rule for method="auto" in mannwhitneyu: exact only without ties and when one
# sample has at most 8 values. Applied here explicitly so the result can say which was used.
_MWU_EXACT_MAX_N = 8


# --------------------------------------------------------------------------- Kruskal-Wallis


def kruskal_wallis(data: pd.DataFrame, dv: str, between: str) -> pd.DataFrame:
    """Kruskal-Wallis H test (tie-corrected) with rank epsilon-squared.

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

    Returns
    -------
    pandas.DataFrame
        One row with columns:

        - ``n``: number of observations used.
        - ``k``: number of groups with at least one observation.
        - ``h``: tie-corrected H statistic (NaN when all values are identical).
        - ``df``: degrees of freedom, ``k - 1``.
        - ``p_value``: chi-squared p-value (upper tail).
        - ``epsilon_squared``: rank epsilon-squared, ``H / (n - 1)``.

    Raises
    ------
    ValueError
        If fewer than two groups have data.

    Notes
    -----
    With pooled midranks, group rank sums :math:`R_g` and group sizes :math:`n_g`,

    .. math:: H = \\frac{\\frac{12}{N(N+1)} \\sum_g R_g^2 / n_g - 3(N+1)}
                      {1 - \\sum_t (t^3 - t) / (N^3 - N)}

    where :math:`t` runs over the sizes of tied groups of values. The p-value is
    :math:`P(\\chi^2_{k-1} \\ge H)`, which is rough when groups have fewer than about five
    values. The effect size is :math:`\\varepsilon^2_R = H / ((N^2 - 1)/(N + 1)) = H/(N-1)`
    (Kelley 1935; Tomczak & Tomczak 2014), the same as R ``effectsize::rank_epsilon_squared``;
    it lies in [0, 1]. H and p come from :func:`scipy.stats.kruskal`.

    References
    ----------
    Kruskal WH, Wallis WA (1952) J Am Stat Assoc 47:583.
    Tomczak M, Tomczak E (2014) Trends Sport Sci 1(21):19.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"score": [2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4,
    ...                              2.8, 3.4, 3.7, 2.2, 2.0],
    ...                    "partner_id": ["a"] * 5 + ["b"] * 4 + ["c"] * 5})
    >>> kruskal_wallis(df, "score", "partner_id").round(4).to_dict("records")
    [{'n': 14, 'k': 3, 'h': 0.7714, 'df': 2, 'p_value': 0.68, 'epsilon_squared': 0.0593}]
    """
    _, samples = split_by_group(valid_rows(data, "data", dv, [between]), dv, between)
    if len(samples) < 2:
        raise ValueError(f"kruskal_wallis needs at least two groups in {between!r} with data")
    return pd.DataFrame([_kruskal(samples)])


def _kruskal(samples: Sequence[np.ndarray]) -> dict[str, Any]:
    n = int(sum(len(s) for s in samples))
    k = len(samples)
    if np.ptp(np.concatenate(samples)) == 0:
        # H is 0/0 when every value is the same; scipy returns NaN with a RuntimeWarning.
        h = p = np.nan
    else:
        res = stats.kruskal(*samples)
        h, p = float(res.statistic), float(res.pvalue)
    return {"n": n, "k": k, "h": h, "df": k - 1, "p_value": p, "epsilon_squared": h / (n - 1)}


# --------------------------------------------------------------------------- Dunn


def dunn(data: pd.DataFrame, dv: str, between: str, p_adjust: str = "holm") -> pd.DataFrame:
    """Dunn's (1964) pairwise z tests on the pooled Kruskal-Wallis ranks, with tie correction.

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
    .. math:: z_{ab} = \\frac{\\bar R_a - \\bar R_b}
              {\\sqrt{\\left[\\frac{N(N+1)}{12} - \\frac{\\sum_t (t^3 - t)}{12(N-1)}\\right]
              \\left(\\frac{1}{n_a} + \\frac{1}{n_b}\\right)}}

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
            "group_a": [labels[i] for i in a],
            "group_b": [labels[j] for j in b],
            "n_a": sizes[a].astype(int),
            "n_b": sizes[b].astype(int),
            "mean_rank_a": mean_ranks[a],
            "mean_rank_b": mean_ranks[b],
            "z": z,
            "p_value": p,
            "p_adjusted": adjust_pvalues(p, method=p_adjust),
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
    n_resamples: int = 9999,
    random_state: int | None = 0,
) -> MannWhitneyResult:
    """Mann-Whitney U test of two independent samples with rank-biserial r and CLES.

    Parameters
    ----------
    x, y : array-like of float
        The two samples; NaN values are dropped. Each needs at least one value.
    alternative : {"two-sided", "less", "greater"}, default "two-sided"
        ``"greater"``: values in ``x`` tend to be larger than in ``y``.
    method : {"auto", "exact", "asymptotic", "permutation"}, default "auto"
        ``"auto"`` uses the exact distribution when there are no ties and one sample has at
        most 8 values (scipy's rule), else the tie-corrected normal approximation.
        ``"exact"`` refuses tied data (the exact table assumes no ties). ``"permutation"`` is
        the exact conditional test for tied data: all splits of the pooled values are
        enumerated when there are at most ``n_resamples`` of them, else ``n_resamples``
        random splits are drawn.
    use_continuity : bool, default True
        Continuity correction for the normal approximation (as R ``wilcox.test``).
    n_resamples : int, default 9999
        Random splits for ``method="permutation"`` when enumeration is too large.
    random_state : int or None, default 0
        Seed for ``method="permutation"`` (fixed so a report can be reproduced).

    Returns
    -------
    MannWhitneyResult
        ``u``, ``p_value``, ``method`` (the one actually used), ``alternative``,
        ``use_continuity``, ``n_x``, ``n_y``, ``rank_biserial``, ``cles``.

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
    signs with care. The two-sided
    exact p doubles the smaller one-sided p (scipy's convention; R ``coin`` counts
    :math:`|T - E(T)|` instead, which can differ on tied data). Test and p-value come from
    :func:`scipy.stats.mannwhitneyu`.

    References
    ----------
    Mann HB, Whitney DR (1947) Ann Math Stat 18:50.
    Kerby DS (2014) The simple difference formula. Compr Psychol 3:11.IT.3.1.
    Vargha A, Delaney HD (2000) J Educ Behav Stat 25:101.

    Examples
    --------
    >>> res = mann_whitney([19, 22, 16, 29, 24], [20, 11, 17, 12])
    >>> res.u, round(res.p_value, 6), res.method, res.rank_biserial
    (17.0, 0.111111, 'exact', 0.7)
    """
    x_arr = finite_1d(x, "x")
    y_arr = finite_1d(y, "y")
    if x_arr.size == 0 or y_arr.size == 0:
        raise ValueError("mann_whitney needs at least one non-missing value in x and in y")
    check_choice(alternative, ALTERNATIVES, "alternative")
    check_choice(method, _MWU_METHODS, "method")
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
        small = min(n_x, n_y) <= _MWU_EXACT_MAX_N
        used = "exact" if small and not tied else "asymptotic"
    scipy_method: Any = used
    if used == "permutation":
        scipy_method = stats.PermutationMethod(n_resamples=n_resamples, rng=random_state)
    res = stats.mannwhitneyu(
        x_arr, y_arr, alternative=alternative, method=scipy_method, use_continuity=use_continuity
    )
    u = float(res.statistic)
    return MannWhitneyResult(
        u=u,
        p_value=float(res.pvalue),
        method=used,
        alternative=alternative,
        use_continuity=bool(use_continuity),
        n_x=int(n_x),
        n_y=int(n_y),
        rank_biserial=2 * u / (n_x * n_y) - 1,
        cles=u / (n_x * n_y),
    )


# --------------------------------------------------------------------------- per dimension


def compare_partners(
    scores: pd.DataFrame,
    value: str = "score",
    group: str = "partner_id",
    by: str | Sequence[str] | None = "dimension",
    p_adjust: str = "holm",
    min_n: int = 5,
    *,
    family: str | Sequence[str] | None = None,
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
    min_n : int, default 5
        Minimum number of valid values for a group to take part (pass the privacy threshold
        k). Must be at least 1.
    family : str or list of str or None, default None
        Columns of ``by`` that split the rows into separate adjustment families (e.g.
        ``"round_id"`` to adjust within each round). ``None``: all rows form one family.

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
        - ``method``: p-value method (``"chi2"`` for Kruskal-Wallis; for Mann-Whitney the
          method :func:`mann_whitney` used with ``method="auto"``).
        - ``p_value``: unadjusted p-value.
        - ``effect_size``: epsilon-squared or rank-biserial r.
        - ``effect_size_name``: ``"epsilon_squared"`` or ``"rank_biserial"``.
        - ``p_adjusted``: p-value adjusted across rows (NaN rows do not count).
        - ``reason``: why a row has no test (``None`` when tested).

    Notes
    -----
    See :func:`kruskal_wallis` and :func:`mann_whitney` for the formulas. Pairwise follow-up
    tests come from :func:`compare_partners_posthoc`, which applies the same exclusions.

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
    rows = []
    for key, cell in iter_cells(frame, by_cols):
        labels, samples = split_by_group(cell, value, group)
        keep = [i for i, s in enumerate(samples) if len(s) >= min_n]
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
            res = mann_whitney(kept[0], kept[1])
            row.update(
                test="mann_whitney",
                statistic=res.u,
                method=res.method,
                p_value=res.p_value,
                effect_size=res.rank_biserial,
                effect_size_name="rank_biserial",
            )
        else:
            res_kw = _kruskal(kept)
            row.update(
                test="kruskal_wallis",
                statistic=res_kw["h"],
                df=float(res_kw["df"]),
                method="chi2",
                p_value=res_kw["p_value"],
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
        "effect_size",
        "effect_size_name",
        "reason",
    ]
    out = result_frame(rows, columns, text=("test", "method", "effect_size_name", "reason"))
    out.insert(len(columns) - 1, "p_adjusted", adjust_column(out, p_adjust, family, by_cols))
    return out


def compare_partners_posthoc(
    scores: pd.DataFrame,
    value: str = "score",
    group: str = "partner_id",
    by: str | Sequence[str] | None = "dimension",
    p_adjust: str = "holm",
    min_n: int = 5,
) -> pd.DataFrame:
    """Dunn's pairwise tests between partners, per dimension, as a follow-up to
    :func:`compare_partners`.

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
