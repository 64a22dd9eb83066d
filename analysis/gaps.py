"""How far apart do partners see it? The perception gap between partner means.

No standard index exists (statistics.md A8); the project's definition: per dimension (or item),
the *gap* is the highest minus the lowest partner mean, naming both partners, beside the mean
absolute gap over all partner pairs. Whether a gap is more than noise is judged with a
permutation test that shuffles respondents between partners: with 5 respondents per partner a
half-point gap is typical of pure chance, and the permutation null (``null_mean``) shows that.
The gap is *between* partners; disagreement *within* a partner is ``agreement``'s business.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis._checks import as_column_list
from analysis._common import (
    adjust_column,
    check_min_n,
    iter_cells,
    result_frame,
    split_by_group,
    valid_rows,
)
from analysis.compare import EXACT_MAX_ARRANGEMENTS, arrangement_sums, n_arrangements
from analysis.privacy import MIN_K

__all__ = [
    "DEFAULT_PERMUTATIONS",
    "LARGE_CELL",
    "LARGE_CELL_PERMUTATIONS",
    "partner_means",
    "perception_gaps",
    "permutations_for",
]

# 999 random permutations when the assignments are too many to enumerate (more than 100,000):
# the smallest attainable p is 1/1000, and the Monte Carlo standard error of p near 0.05 is
# sqrt(0.05 * 0.95 / 999) = 0.007 (reported per row as p_mc_se), ample for a dashboard flag;
# a single round of 3,000 respondents x 4 dimensions then costs well under a second, where
# 9,999 would take several. Pass more for a paper.
DEFAULT_PERMUTATIONS = 999
#: Permutations for a cell of more than :data:`LARGE_CELL` compared respondents when the count
#: is chosen from the group sizes (``n_permutations="auto"``, the default). A random
#: reassignment costs time in proportion to the respondents shuffled, while the precision of a
#: Monte Carlo p does not depend on them: at m = 499 its standard error near p = 0.05 is
#: sqrt(0.05 * 0.95 / 499) = 0.0098, below the 0.01 a flag at 0.05 needs, and the smallest
#: attainable p is 0.002. Smaller cells, cheap to permute, keep 999 (0.007); cells whose
#: assignments number at most ``max_arrangements`` are enumerated exactly whatever the count.
#: Every row reports the count used and ``p_mc_se``.
LARGE_CELL_PERMUTATIONS = 499
#: Compared respondents above which a cell gets :data:`LARGE_CELL_PERMUTATIONS`.
LARGE_CELL = 1000
# Permuted values are processed in batches of at most this many numbers (about 32 MB) so that
# memory stays flat however many respondents and permutations there are.
_BATCH_ELEMENTS = 1 << 22
# A vectorised hypergeometric draw costs about ten times a shuffled element (measured with
# numpy 2.4); the cheaper of the two exact samplers is chosen per cell from this ratio.
_HYPERGEOMETRIC_COST = 10
# Gaps are rounded before comparison so that sums taken in a different order (floating-point
# noise of ~1e-15) cannot turn a tie with the observed gap into a "smaller" one.
_DECIMALS = 10


def perception_gaps(
    scores: pd.DataFrame,
    value: str = "score",
    group: str = "partner_id",
    by: str | Sequence[str] | None = "dimension",
    n_permutations: int | Literal["auto"] = "auto",
    random_state: int | np.random.Generator | None = 0,
    min_n: int = MIN_K,
    p_adjust: str = "holm",
    *,
    family: str | Sequence[str] | None = None,
    max_arrangements: int = EXACT_MAX_ARRANGEMENTS,
) -> pd.DataFrame:
    r"""Perception gap between partners per dimension, with a permutation test.

    Parameters
    ----------
    scores : pandas.DataFrame
        Respondent dimension scores (one row per respondent and dimension), or the long
        ``answers`` frame with ``value="value"`` and ``by="item_id"`` for a per-item gap.
        Rows with a missing value are dropped.
    value : str, default "score"
        Numeric column.
    group : str, default "partner_id"
        Column holding the partner.
    by : str or list of str or None, default "dimension"
        One gap per cell of these columns. Partner labels are shuffled *within* each cell, so
        for a frame with several rounds pass ``by=["round_id", "dimension"]`` (labels are then
        shuffled within the round).
    n_permutations : int or "auto", default "auto"
        Random reassignments of respondents to partners, used when the number of distinct
        assignments exceeds both ``max_arrangements`` and ``n_permutations``; otherwise all
        of them are enumerated (exact test). ``"auto"`` chooses it per cell from the group
        sizes (:func:`permutations_for`: 999, or 499 above 1,000 compared respondents).
    random_state : int, numpy Generator or None, default 0
        Seed. An int (or None) seeds a fresh generator for *each* cell, so a cell's p-value
        does not depend on which other cells are in the frame.
    min_n : int, default 3
        Partners with fewer valid values are left out (pass the partnership's privacy
        threshold k; the default is the smallest k allowed, :data:`analysis.privacy.MIN_K`,
        so a partnership with k = 3 keeps its partners of 3 and 4).
    p_adjust : {"holm", "bh", "by", "none"}, default "holm"
        Adjustment of the gap p-values across rows (or within each ``family``).
    family : str or list of str or None, default None
        Columns of ``by`` that split the rows into separate adjustment families.
    max_arrangements : int, default 100000
        Enumerate every assignment when there are at most this many
        (:data:`analysis.compare.EXACT_MAX_ARRANGEMENTS`, the cut-off of the rank tests).

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` cell:

        - the ``by`` columns;
        - ``n_groups``, ``groups`` (tuple, sorted), ``excluded`` (partners below ``min_n``);
        - ``n``: values in the compared partners;
        - ``high_group``, ``high_mean``, ``low_group``, ``low_mean``: the partners with the
          highest and lowest mean (on a tie, the first in sorted order);
        - ``gap``: ``high_mean - low_mean`` (scale points);
        - ``mean_abs_gap``: mean of ``|m_p - m_q|`` over all partner pairs;
        - ``null_mean``: mean gap under the permutation null (the gap chance alone produces
          with these group sizes);
        - ``n_permutations``: permutations evaluated; ``exact``: whether all were enumerated;
        - ``p_value``;
        - ``p_method``: ``"exact"`` or ``"monte_carlo"`` (None without a test);
        - ``p_mc_se``: Monte Carlo standard error of ``p_value``,
          :math:`\sqrt{p(1-p)/m}` (NaN when exact);
        - ``p_adjusted``; ``reason`` (why a row has no gap, else ``None``).

    Notes
    -----
    The statistic is :math:`G = \max_p \bar x_p - \min_p \bar x_p`. Under the null
    hypothesis that the partner label is unrelated to the value, every reassignment of the
    pooled values to groups of the observed sizes is equally likely. With :math:`b` of
    :math:`m` random reassignments giving a gap at least as large as observed,
    :math:`p = (b + 1)/(m + 1)` (Phipson & Smyth 2010), which is never 0, with Monte Carlo
    standard error :math:`\sqrt{p(1-p)/m}`; with full enumeration :math:`p = b/m`, exact.
    All assignments are enumerated when there are at most 100,000 of them (the cut-off shared
    with the rank tests of :mod:`analysis.compare`): two partners of up to 9 + 9 respondents,
    three of 4 + 4 + 3. Identical partners give ``gap = 0`` and ``p = 1``.
    The permutations are drawn on the pooled values sorted, with the group sizes sorted, so
    the p-value does not depend on row order or on the partner labels. A random reassignment
    is drawn by shuffling the pooled values or, when they take few distinct values (Likert
    scores), by drawing each partner's multivariate hypergeometric counts of every value
    directly: the same distribution at a fraction of the cost. The null gap grows as
    groups shrink: without a true gap,
    :math:`E|m_p - m_q| \approx \sqrt{2/\pi}\sqrt{s^2/n_p + s^2/n_q}`, 0.5 points for
    s = 1 and 5 respondents per partner. Divide by (scale max - scale min) for a 0-100 %
    reading.

    References
    ----------
    Phipson B, Smyth GK (2010) Permutation p-values should never be zero. Stat Appl Genet
    Mol Biol 9:39.
    Good P (2005) Permutation, Parametric, and Bootstrap Tests of Hypotheses, 3rd ed.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"dimension": "transparency",
    ...                        "partner_id": ["ngo"] * 5 + ["clinic"] * 5,
    ...                        "score": [4, 4.5, 5, 4, 4.5, 2, 2.5, 3, 2, 2.5]})
    >>> row = perception_gaps(scores).iloc[0]
    >>> row.high_group, row.low_group, round(float(row.gap), 6), bool(row.exact)
    ('ngo', 'clinic', 2.0, True)
    >>> round(float(row.p_value), 4)  # 2 of the 252 splits are this extreme
    0.0079
    """
    by_cols = as_column_list(by, "by")
    frame = valid_rows(scores, "scores", value, [group, *by_cols])
    check_min_n(min_n)
    auto = isinstance(n_permutations, str) and n_permutations == "auto"
    if not auto and (
        isinstance(n_permutations, bool) or not isinstance(n_permutations, int | np.integer)
    ):
        raise TypeError("n_permutations must be an integer or 'auto'")
    if not auto and int(n_permutations) < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    if isinstance(max_arrangements, bool) or not isinstance(max_arrangements, int | np.integer):
        raise TypeError("max_arrangements must be an integer")
    shared_rng = random_state if isinstance(random_state, np.random.Generator) else None
    rows = []
    for key, cell in iter_cells(frame, by_cols):
        labels, samples = split_by_group(cell, value, group)
        keep = [i for i, s in enumerate(samples) if len(s) >= min_n]
        kept = [samples[i] for i in keep]
        row: dict[str, Any] = {
            **key,
            "n_groups": len(keep),
            "groups": tuple(labels[i] for i in keep),
            "excluded": tuple(labels[i] for i in range(len(labels)) if i not in keep),
            "n": int(sum(s.size for s in kept)),
            "high_group": None,
            "high_mean": np.nan,
            "low_group": None,
            "low_mean": np.nan,
            "gap": np.nan,
            "mean_abs_gap": np.nan,
            "null_mean": np.nan,
            "n_permutations": 0,
            "exact": False,
            "p_value": np.nan,
            "p_method": None,
            "p_mc_se": np.nan,
            "reason": None,
        }
        if len(kept) < 2:
            row["reason"] = f"fewer than two partners with at least {min_n} values"
            rows.append(row)
            continue
        means = np.array([s.mean() for s in kept])
        hi, lo = int(np.argmax(means)), int(np.argmin(means))
        row.update(
            high_group=labels[keep[hi]],
            high_mean=float(means[hi]),
            low_group=labels[keep[lo]],
            low_mean=float(means[lo]),
            gap=float(means[hi] - means[lo]),
            mean_abs_gap=_mean_abs_pairwise(means),
        )
        rng = shared_rng or np.random.default_rng(random_state)
        sizes = np.array([s.size for s in kept])
        m = permutations_for(sizes) if auto else int(n_permutations)
        observed = np.round(means.max() - means.min(), _DECIMALS)
        enumerate_up_to = max(m, int(max_arrangements))
        null, exact = _null_gaps(np.concatenate(kept), sizes, m, rng, enumerate_up_to)
        extreme = int(np.count_nonzero(null >= observed))
        p = extreme / null.size if exact else (extreme + 1) / (null.size + 1)
        row.update(
            null_mean=float(null.mean()),
            n_permutations=int(null.size),
            exact=exact,
            p_value=float(min(p, 1.0)),
            p_method="exact" if exact else "monte_carlo",
            p_mc_se=np.nan if exact else math.sqrt(p * (1 - p) / null.size),
        )
        rows.append(row)
    columns = [
        *by_cols,
        "n_groups",
        "groups",
        "excluded",
        "n",
        "high_group",
        "high_mean",
        "low_group",
        "low_mean",
        "gap",
        "mean_abs_gap",
        "null_mean",
        "n_permutations",
        "exact",
        "p_value",
        "p_method",
        "p_mc_se",
        "reason",
    ]
    out = result_frame(rows, columns, text=("high_group", "low_group", "p_method", "reason"))
    out.insert(len(columns) - 1, "p_adjusted", adjust_column(out, p_adjust, family, by_cols))
    return out


def permutations_for(sizes: Sequence[int] | np.ndarray) -> int:
    r"""Monte Carlo permutations for a cell with these group sizes (``n_permutations="auto"``).

    Parameters
    ----------
    sizes : sequence of int
        Respondents of every compared partner.

    Returns
    -------
    int
        :data:`DEFAULT_PERMUTATIONS` (999) for at most :data:`LARGE_CELL` (1,000) respondents
        in all, else :data:`LARGE_CELL_PERMUTATIONS` (499).

    Notes
    -----
    The cost of a random reassignment grows with the respondents, the precision of the
    Monte Carlo p-value does not: its standard error :math:`\sqrt{p(1-p)/m}` is 0.0098 at
    p = 0.05 with m = 499, enough for a flag at 0.05; each row reports its ``p_mc_se``.
    Cells with few assignments are enumerated exactly instead (``max_arrangements``).

    Examples
    --------
    >>> permutations_for([300, 300, 300]), permutations_for([1000, 1000])
    (999, 499)
    """
    total = int(np.sum(np.asarray(sizes, dtype=np.int64)))
    return DEFAULT_PERMUTATIONS if total <= LARGE_CELL else LARGE_CELL_PERMUTATIONS


def partner_means(
    scores: pd.DataFrame,
    value: str = "score",
    group: str = "partner_id",
    by: str | Sequence[str] | None = "dimension",
    min_n: int = MIN_K,
) -> pd.DataFrame:
    """Partner means per dimension: the points a gap is drawn between.

    Uses the same rows and the same ``min_n`` exclusion as :func:`perception_gaps`, so a dot
    plot of these means matches the gaps reported there.

    Parameters
    ----------
    scores, value, group, by, min_n
        As in :func:`perception_gaps`.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` cell and partner with at least ``min_n`` valid values: the ``by``
        columns, the ``group`` column, ``n`` and ``mean``.

    Notes
    -----
    A partner score is the mean of its respondents' scores (not of pooled item answers).

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"dimension": "equality", "partner_id": list("aabbb"),
    ...                        "score": [4, 5, 2, 3, 4]})
    >>> partner_means(scores, min_n=2)
      dimension partner_id  n  mean
    0  equality          a  2   4.5
    1  equality          b  3   3.0
    """
    by_cols = as_column_list(by, "by")
    frame = valid_rows(scores, "scores", value, [group, *by_cols])
    check_min_n(min_n)
    keys = [*by_cols, group]
    summary = (
        frame.dropna(subset=[group])
        .groupby(keys, sort=True, observed=True, dropna=False)[value]
        .agg(n="count", mean="mean")
        .reset_index()
    )
    summary = summary.loc[summary["n"] >= min_n].reset_index(drop=True)
    summary["n"] = summary["n"].astype(int)
    return summary[[*keys, "n", "mean"]]


def _mean_abs_pairwise(means: np.ndarray) -> float:
    """Mean of |m_p - m_q| over pairs, in O(G log G): sum_i m_(i) (2i - G + 1) / C(G, 2).

    The weighted sum cancels terms, so with (nearly) equal means rounding can leave it a hair
    below 0 or above the range; it is held within [0, max - min], where the exact value lies.
    """
    ordered = np.sort(means)
    g = ordered.size
    weights = 2 * np.arange(g) - (g - 1)
    value = float(np.dot(weights, ordered) / (g * (g - 1) / 2))
    return min(max(value, 0.0), float(ordered[-1] - ordered[0]))


def _null_gaps(
    values: np.ndarray,
    sizes: np.ndarray,
    n_permutations: int,
    rng: np.random.Generator,
    enumerate_up_to: int | None = None,
) -> tuple[np.ndarray, bool]:
    """Gaps (range of group means) under reassignment of ``values`` to groups of ``sizes``.

    Returns the null gaps (rounded like the observed gap) and whether they are the complete
    enumeration of all assignments.
    """
    pooled = np.sort(values)
    sizes = np.sort(sizes)
    limit = n_permutations if enumerate_up_to is None else enumerate_up_to
    sums, exact = _null_group_sums(pooled, sizes, n_permutations, rng, limit)
    means = sums / sizes
    return np.round(means.max(axis=1) - means.min(axis=1), _DECIMALS), exact


def _null_group_sums(
    pooled: np.ndarray,
    sizes: np.ndarray,
    n_permutations: int,
    rng: np.random.Generator,
    enumerate_up_to: int,
) -> tuple[np.ndarray, bool]:
    """Group sums (rows: reassignments, columns: groups) and whether the set is complete."""
    if n_arrangements([int(s) for s in sizes]) <= enumerate_up_to:
        return arrangement_sums(pooled, [int(s) for s in sizes], exact=True), True
    distinct = np.unique(pooled).size
    if _HYPERGEOMETRIC_COST * (sizes.size - 1) * (distinct - 1) < pooled.size:
        return _hypergeometric_group_sums(pooled, sizes, n_permutations, rng), False
    return _shuffled_group_sums(pooled, sizes, n_permutations, rng), False


def _shuffled_group_sums(
    pooled: np.ndarray, sizes: np.ndarray, n_permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Group sums after shuffling the pooled values, cut into blocks of ``sizes``."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    batch = max(1, _BATCH_ELEMENTS // pooled.size)
    parts = []
    done = 0
    while done < n_permutations:
        rows = min(batch, n_permutations - done)
        shuffled = rng.permuted(np.broadcast_to(pooled, (rows, pooled.size)), axis=1)
        parts.append(np.add.reduceat(shuffled, starts, axis=1))
        done += rows
    return np.concatenate(parts, axis=0)


def _hypergeometric_group_sums(
    pooled: np.ndarray, sizes: np.ndarray, n_permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Group sums of random reassignments drawn as multivariate hypergeometric counts.

    Shuffling N values and cutting them into groups gives each group a multivariate
    hypergeometric number of copies of every distinct value. Drawing those counts directly
    (group by group, value by value, from what is left) samples exactly the same permutation
    distribution at a cost of (groups - 1) x (distinct values - 1) vectorised draws instead of
    N random numbers per permutation: a large saving for Likert scores, which take few values.
    """
    values, counts = np.unique(pooled, return_counts=True)
    remaining = np.tile(counts, (n_permutations, 1))
    sums = np.zeros((n_permutations, sizes.size))
    for g, size in enumerate(sizes[:-1]):
        need = np.full(n_permutations, size)
        later = remaining.sum(axis=1)
        for k in range(values.size - 1):
            later -= remaining[:, k]  # copies of the values above value k still unassigned
            drawn = rng.hypergeometric(remaining[:, k], later, need)
            remaining[:, k] -= drawn
            need -= drawn
            sums[:, g] += drawn * values[k]
        remaining[:, -1] -= need
        sums[:, g] += need * values[-1]
    sums[:, -1] = remaining @ values  # the last group takes what is left
    return sums
