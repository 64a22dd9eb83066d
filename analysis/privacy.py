"""What may be shown: small-cell and complementary suppression, and stricter thresholds.

:func:`suppress` is the one place that decides whether a figure (a count, mean, chart bar or
export cell) may be shown. Every page, chart, export and API response asks it, so the rule
cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis._checks import as_column_list, require_columns, require_frame

__all__ = [
    "COMMENT_MIN",
    "MIN_K",
    "change_allowed",
    "comment_groups",
    "comment_threshold",
    "distribution_allowed",
    "safe_to_show_difference",
    "suppress",
]

#: The anonymity threshold may be configured, but never below this.
MIN_K = 3
#: Default floor for open-text comments and full answer distributions.
COMMENT_MIN = 8
REASON_BELOW_K = "below_k"
REASON_COMPLEMENTARY = "complementary"


class _Total:
    """Sentinel for "all values of this level" in a row's hierarchy key."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<total>"


_TOTAL = _Total()


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}, got {k}")
    return int(k)


def _counts(frame: pd.DataFrame, n: str) -> np.ndarray:
    col = frame[n]
    if pd.api.types.is_bool_dtype(col.dtype) or not pd.api.types.is_numeric_dtype(col.dtype):
        raise TypeError(f"counts column {n!r} must be numeric, got dtype {col.dtype}")
    values = col.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError(f"counts column {n!r} has missing values; a cell count is never NaN")
    if np.any(values < 0) or np.any(values != np.floor(values)) or np.isinf(values).any():
        raise ValueError(f"counts column {n!r} must hold non-negative whole numbers")
    return values.astype(np.int64)


def _keys(frame: pd.DataFrame, levels: list[str], total: Any) -> list[tuple[Any, ...]]:
    """Hierarchy key per row, with the total sentinel in place of "all" levels."""
    columns = []
    for level in levels:
        values = frame[level].to_numpy(dtype=object)
        is_total = pd.isna(values) if total is None else (values == total)
        columns.append([_TOTAL if t else v for v, t in zip(values, is_total, strict=True)])
    keys = list(zip(*columns, strict=True)) if columns else [() for _ in range(len(frame))]
    for key in keys:
        depth = _depth(key)
        if any(part is not _TOTAL for part in key[depth:]):
            raise ValueError(
                f"row {key!r}: a total level must be followed only by total levels "
                f"(levels are ordered from the top of the hierarchy: {levels})"
            )
    return keys


#: (parent row, child rows, remainder): ``n[parent] = n[children].sum() + remainder``.
_Equation = tuple[int, list[int], int]


def _depth(key: tuple[Any, ...]) -> int:
    for i, part in enumerate(key):
        if part is _TOTAL:
            return i
    return len(key)


def _equations(keys: list[tuple[Any, ...]], n: np.ndarray) -> list[_Equation]:
    """(parent row, child rows, remainder) for every row that has children.

    A row's parent is its nearest ancestor present in the table, so a missing intermediate
    total simply merges levels. The remainder is the parent's count not covered by its
    children (e.g. respondents with no partner); it is shown nowhere, so it is treated as a
    hidden child.
    """
    index: dict[tuple[Any, ...], int] = {}
    for row, key in enumerate(keys):
        if key in index:
            raise ValueError(f"two rows describe the same cell {key!r}")
        index[key] = row
    children: dict[int, list[int]] = {}
    for row, key in enumerate(keys):
        depth = _depth(key)
        for up in range(depth - 1, -1, -1):
            parent = index.get(key[:up] + (_TOTAL,) * (len(key) - up))
            if parent is not None:
                children.setdefault(parent, []).append(row)
                break
    equations = []
    for parent, kids in children.items():
        remainder = int(n[parent] - n[kids].sum())
        if remainder < 0:
            raise ValueError(
                f"cell {keys[parent]!r} has n = {n[parent]} but its parts add up to "
                f"{int(n[kids].sum())}; counts must be consistent"
            )
        equations.append((parent, kids, remainder))
    # Deepest parents first: suppression then tends to spread upwards only when it must.
    equations.sort(key=lambda eq: -_depth(keys[eq[0]]))
    return equations


Interval = tuple[float, float]
_INF = float("inf")


def _feasible_intervals(
    n: np.ndarray, hidden: np.ndarray, equations: list[_Equation]
) -> list[Interval]:
    """Compute what an attacker can infer about every cell's count from the table's sums.

    The attacker knows the shown counts, that a hidden cell holds at least 1 (empty cells
    are shown), that a remainder is at least 0, and every equation ``parent = parts +
    remainder``. The equations form a tree, so the exact range of each cell (of the linear
    relaxation) follows from one pass up (what a cell's own subtree allows) and one pass
    down (what the rest of the table allows).
    """
    prior = [(float(v), float(v)) if not h else (1.0, _INF) for v, h in zip(n, hidden, strict=True)]
    inside = list(prior)  # range allowed by the cell's own parts, bottom-up
    for parent, kids, remainder in equations:  # deepest parents first
        lo = sum(inside[c][0] for c in kids)
        hi = sum(inside[c][1] for c in kids) + (_INF if remainder > 0 else 0.0)
        p_lo, p_hi = prior[parent]
        inside[parent] = (max(p_lo, lo), min(p_hi, hi))
    outside = list(prior)  # range allowed by everything outside the cell's subtree
    for parent, kids, remainder in reversed(equations):  # top-down
        total = (
            max(outside[parent][0], prior[parent][0]),
            min(outside[parent][1], prior[parent][1]),
        )
        rem_hi = _INF if remainder > 0 else 0.0
        for kid in kids:
            others_lo = sum(inside[c][0] for c in kids if c != kid)
            others_hi = sum(inside[c][1] for c in kids if c != kid) + rem_hi
            lo, hi = total[0] - others_hi, total[1] - others_lo
            outside[kid] = (max(prior[kid][0], lo), min(prior[kid][1], hi))
    return [(max(a[0], b[0]), min(a[1], b[1])) for a, b in zip(inside, outside, strict=True)]


def _protect(
    n: np.ndarray, hidden: np.ndarray, reason: np.ndarray, equations: list[_Equation], k: int
) -> None:
    """Add complementary suppressions (in place) until every equation is safe."""

    def hide(row: int) -> None:
        hidden[row] = True
        reason[row] = REASON_COMPLEMENTARY

    def smallest_shown(cells: list[int]) -> int | None:
        shown = [c for c in cells if not hidden[c] and n[c] > 0]
        return min(shown, key=lambda c: n[c]) if shown else None

    up = {kid: (parent, kids) for parent, kids, _ in equations for kid in kids}
    down = {parent: kids for parent, kids, _ in equations}

    def repair(cell: int) -> None:
        """Hide one more cell next to a pinned hidden cell."""
        while True:
            parent, siblings = up.get(cell, (None, []))
            pick = smallest_shown(siblings)
            if pick is None:
                pick = smallest_shown(down.get(cell, []))
            if pick is not None:
                hide(pick)
                return
            if parent is None:
                break
            if not hidden[parent]:
                hide(parent)
                return
            cell = parent
        # Nothing near it is shown: hide the smallest shown cell anywhere (always terminates).
        pick = smallest_shown(list(range(len(n))))
        if pick is not None:
            hide(pick)

    while True:
        _local_rules(n, hidden, equations, k, hide, smallest_shown)
        ranges = _feasible_intervals(n, hidden, equations)
        pinned = [c for c in np.flatnonzero(hidden) if ranges[c][1] - ranges[c][0] < 0.5]
        if not pinned:
            return
        repair(int(pinned[0]))


def _local_rules(
    n: np.ndarray,
    hidden: np.ndarray,
    equations: list[_Equation],
    k: int,
    hide: Callable[[int], None],
    smallest_shown: Callable[[list[int]], int | None],
) -> None:
    """Rules 2 and 3 of :func:`suppress`, repeated until no equation changes."""
    changed = True
    while changed:
        changed = False
        for parent, kids, remainder in equations:
            hidden_kids = [c for c in kids if hidden[c] and n[c] > 0]
            if hidden[parent]:
                # A hidden total whose parts are all shown is their sum: hide a part too.
                if hidden_kids:
                    continue
                pick = smallest_shown(kids)
                if pick is not None:
                    hide(pick)
                    changed = True
                continue
            hidden_sum = remainder + int(n[hidden_kids].sum())
            n_hidden = len(hidden_kids) + (remainder > 0)
            if not hidden_kids:
                safe = remainder == 0 or remainder >= k
            else:
                safe = n_hidden >= 2 and hidden_sum >= k
            if safe:
                continue
            pick = smallest_shown(kids)
            hide(parent if pick is None else pick)
            changed = True


def suppress(
    counts: pd.DataFrame,
    k: int,
    *,
    levels: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    n: str = "n",
    total: Any = None,
) -> pd.DataFrame:
    """Decide which cells may be shown: small-cell plus complementary suppression.

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per cell that would be shown, with its count of valid answers in ``n`` and
        its place in the hierarchy in the ``levels`` columns. A total row has the total
        marker in the levels it aggregates over (e.g. ``partner_id`` = None for a round's
        total over partners).
    k : int
        Anonymity threshold (at least ``MIN_K`` = 3; the project default is 5).
    levels : str or list of str
        Hierarchy columns from the top down, e.g. ``["round_id", "partner_id"]`` or
        ``["sector", "partner_id"]``. Children must add up to at most their parent.
    by : str or list of str, optional
        Columns splitting ``counts`` into separate tables handled independently (e.g.
        ``"dimension"`` or ``"item_id"``).
    n : str, default "n"
        Count column (non-negative whole numbers).
    total : object, optional
        Marker of a total in a level column; by default a missing value (None/NaN).

    Returns
    -------
    pandas.DataFrame
        A copy of ``counts`` with two more columns:

        - ``suppressed`` (bool): the cell's figures must not be shown.
        - ``reason`` (object): ``"below_k"`` (0 < n < k), ``"complementary"`` (hidden so that
          another hidden cell cannot be recovered by subtraction) or None.

        A cell with n = 0 is not suppressed: it shows as empty.

    Raises
    ------
    ValueError
        ``k`` below 3, missing or non-integer counts, two rows for the same cell, parts
        adding up to more than their total, a total level followed by a non-total one.

    Notes
    -----
    Rules, applied per ``by`` table:

    1. Every cell with ``0 < n < k`` is suppressed (``below_k``).
    2. For a shown total ``P`` with parts ``C_1..C_m`` the hidden amount
       ``H = P - sum(shown parts)`` can be computed by anyone. It must be 0 or, if any part
       is hidden, at least ``k`` and spread over at least two cells; otherwise the smallest
       shown non-empty part is suppressed too (``complementary``), or the total itself when
       no part is left. So a total minus the shown parts never reveals a group below ``k``,
       and never pins down a single hidden cell.
    3. A hidden total whose non-empty parts are all shown is their sum, so its smallest
       shown part is suppressed as well.
    4. Audit: an attacker who knows every shown count, every ``total = parts + remainder``
       relation and that a hidden cell holds at least 1 (empty cells are shown) can bound
       each hidden count. The exact range is computed (the relations form a tree, so one
       pass up and one down give it); if a hidden cell's range is a single value (e.g. a
       total of 3 over three hidden partners of 1), the smallest shown cell next to it (a
       part of the same total, else one of its own parts, else the total) is suppressed.
    5. Repeat 2-4 until nothing changes (suppression only grows, so this ends).

    A part's total is its nearest ancestor row in the table, so a missing intermediate total
    merges levels. Whatever a total holds beyond its parts (respondents without a partner)
    counts as a hidden part: if it is below ``k`` and nothing else is hidden, a part is
    suppressed to cover it. If that remainder is published elsewhere, put it in the table as
    a row. The rules are the usual greedy heuristic ("hide the next-smallest group", as in
    PeopleCues and Quantum Workplace) plus an exact audit against recovering a hidden count;
    they are not an optimal cell-suppression solver, so they may hide more than strictly
    necessary. Two hidden cells whose combined count (at least ``k``) is known are allowed,
    as is learning bounds on a hidden count short of its value. They do not cover sums across
    separate ``by`` tables or across published versions of the same table (see
    :func:`safe_to_show_difference`).

    References
    ----------
    Sweeney L (2002) Int J Uncertainty Fuzziness Knowl-Based Syst 10:557. statistics.md A11.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"partner_id": ["A", "B", "C", None],
    ...                        "n": [2, 9, 12, 23]})
    >>> suppress(counts, k=5, levels="partner_id")[["n", "suppressed", "reason"]]
        n  suppressed         reason
    0   2        True        below_k
    1   9        True  complementary
    2  12       False           None
    3  23       False           None
    """
    require_frame(counts, "counts")
    k = _check_k(k)
    level_cols = as_column_list(levels, "levels")
    by_cols = as_column_list(by, "by")
    if not level_cols:
        raise ValueError("levels must name at least one hierarchy column")
    if set(level_cols) & set(by_cols):
        raise ValueError("a column cannot be both a level and a by column")
    require_columns(counts, [*by_cols, *level_cols, n], "counts")
    values = _counts(counts, n)
    hidden = (values > 0) & (values < k)
    reason = np.full(len(values), None, dtype=object)
    reason[hidden] = REASON_BELOW_K

    if by_cols:
        tables = counts.groupby(by_cols, sort=False, dropna=False, observed=True).indices
        positions = [np.asarray(rows) for rows in tables.values()]
    else:
        positions = [np.arange(len(counts))]
    for rows in positions:
        sub_n = values[rows]
        equations = _equations(_keys(counts.iloc[rows], level_cols, total), sub_n)
        sub_hidden, sub_reason = hidden[rows], reason[rows]
        _protect(sub_n, sub_hidden, sub_reason, equations, k)
        hidden[rows], reason[rows] = sub_hidden, sub_reason

    out = counts.copy()
    out["suppressed"] = hidden
    out["reason"] = pd.Series(reason, index=counts.index, dtype=object)
    return out


def safe_to_show_difference(n_a: Any, n_b: Any, k: int) -> Any:
    """Decide whether two counts of overlapping populations can both be shown.

    Use it whenever one published group can contain the other: two versions of the same
    round's results (before and after late responses), a total with and without one partner,
    a filter applied to a group. Showing both reveals the ``|n_a - n_b|`` people in between
    (their count and, through the means, their answers).

    Parameters
    ----------
    n_a, n_b : int or array-like of int
        Counts of the same group in the two versions.
    k : int
        Anonymity threshold.

    Returns
    -------
    bool or numpy.ndarray of bool
        True when each count is 0 or at least ``k`` and their difference is 0 or at least
        ``k``.

    Notes
    -----
    Rule: show both only if ``n in {0} or n >= k`` for each and
    ``|n_a - n_b| in {0} or |n_a - n_b| >= k``. Otherwise keep showing the earlier version
    (or nothing) until the difference reaches ``k``. Independent anonymous rounds with
    different respondents do not need this check; their round-to-round change is governed by
    :func:`change_allowed`.

    Examples
    --------
    >>> safe_to_show_difference(12, 14, k=5)
    False
    >>> safe_to_show_difference([12, 12, 12], [12, 17, 3], k=5).tolist()
    [True, True, False]
    """
    k = _check_k(k)
    a, b = _count_array(n_a, "n_a"), _count_array(n_b, "n_b")
    diff = np.abs(a - b)

    def ok(x: np.ndarray) -> np.ndarray:
        shown: np.ndarray = (x == 0) | (x >= k)
        return shown

    result = ok(a) & ok(b) & ok(diff)
    return bool(result) if result.ndim == 0 else result


def change_allowed(n_a: Any, n_b: Any, k: int) -> Any:
    """Decide whether a round-to-round change (delta, test, trend) may be shown for a group.

    Returns True only when both rounds have at least ``k`` valid answers: a change computed
    from a suppressed round would reveal it (statistics.md A11).

    Examples
    --------
    >>> change_allowed(6, 4, k=5)
    False
    """
    k = _check_k(k)
    result = (_count_array(n_a, "n_a") >= k) & (_count_array(n_b, "n_b") >= k)
    return bool(result) if result.ndim == 0 else result


def comment_threshold(k: int, minimum: int = COMMENT_MIN) -> int:
    """Group size needed before open-text comments or full answer distributions are shown.

    Free text can identify its writer by style or content, and a full distribution of a
    small homogeneous group reveals each answer (if all five chose "disagree", everyone's
    answer is known), so both need more than ``k``: ``max(k, minimum)``, 8 by default.

    Examples
    --------
    >>> comment_threshold(5), comment_threshold(10), comment_threshold(5, minimum=10)
    (8, 10, 10)
    """
    k = _check_k(k)
    if isinstance(minimum, bool) or not isinstance(minimum, int | np.integer) or minimum < 1:
        raise ValueError(f"minimum must be a positive int, got {minimum!r}")
    return max(k, int(minimum))


def distribution_allowed(n: Any, k: int, minimum: int = COMMENT_MIN) -> Any:
    """Decide whether a full answer distribution (or comments) may be shown for ``n`` people.

    Examples
    --------
    >>> distribution_allowed(6, k=5), distribution_allowed(8, k=5)
    (False, True)
    """
    result = _count_array(n, "n") >= comment_threshold(k, minimum)
    return bool(result) if result.ndim == 0 else result


def comment_groups(
    counts: Mapping[Hashable, int | None],
    total: int | None,
    k: int,
    minimum: int = COMMENT_MIN,
) -> tuple[list[Hashable], bool]:
    """Decide whose open-text answers may be shown by partner name, and whether the rest may.

    The one rule for comments, used by the results pages, the printable report and the
    exports alike.

    Parameters
    ----------
    counts : mapping
        Partner id -> its published response count, or None where the count is hidden.
    total : int or None
        The partnership's published response count (None where hidden).
    k : int
        Anonymity threshold.
    minimum : int, default :data:`COMMENT_MIN`
        Floor of :func:`comment_threshold`.

    Returns
    -------
    named : list
        Partners (in the order of ``counts``) whose comments may be shown under their name:
        shown with at least :func:`comment_threshold` responses.
    pooled_allowed : bool
        Whether the comments of everyone else may be shown together, unnamed: the
        partnership total minus the named partners holds at least the threshold.

    Notes
    -----
    With threshold ``t = max(k, minimum)``: partner ``p`` is named when ``n_p >= t``; the
    others' comments are pooled when ``total - sum(n_named) >= t``. A partner below ``t`` is
    never named, so its comments appear only inside a pool of at least ``t`` respondents.

    Examples
    --------
    >>> comment_groups({"A": 12, "B": 6, "C": None}, total=22, k=5)
    (['A'], True)
    >>> comment_groups({"A": 12, "B": 6}, total=18, k=5)
    (['A'], False)
    """
    threshold = comment_threshold(k, minimum)
    named = [p for p, n in counts.items() if n is not None and n >= threshold]
    if total is None:
        return named, False
    rest = total - sum(n for p, n in counts.items() if p in named and n is not None)
    return named, rest >= threshold


def _count_array(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a count or an array of counts")
    arr = arr.astype(float)
    if np.isnan(arr).any() or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must hold non-negative whole numbers")
    counts: np.ndarray = arr.astype(np.int64)
    return counts
