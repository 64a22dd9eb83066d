"""Tests for analysis.privacy: small-cell and complementary suppression, thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from analysis.privacy import (
    MIN_K,
    change_allowed,
    comment_threshold,
    distribution_allowed,
    safe_to_show_difference,
    suppress,
)


def partners(ns, total=None, **extra):
    """One round: partner rows A, B, ... plus a total row (None) when given."""
    ids = [chr(ord("A") + i) for i in range(len(ns))]
    frame = pd.DataFrame({"partner_id": ids, "n": ns, **extra})
    if total is not None:
        frame = pd.concat(
            [frame, pd.DataFrame({"partner_id": [None], "n": [total], **extra})],
            ignore_index=True,
        )
    return frame


def status(out):
    return dict(zip(out["partner_id"].fillna("total"), out["reason"], strict=True))


# --------------------------------------------------------------------------- rules by hand


def test_below_k_and_empty_cells():
    out = suppress(partners([0, 1, 4, 5, 9]), k=5, levels="partner_id")
    assert out["suppressed"].tolist() == [False, True, True, False, False]
    assert out["reason"].tolist() == [None, "below_k", "below_k", None, None]


def test_single_small_partner_gets_a_complement():
    out = suppress(partners([2, 9, 12], total=23), k=5, levels="partner_id")
    assert status(out) == {"A": "below_k", "B": "complementary", "C": None, "total": None}


def test_two_small_partners_that_add_up_to_k_need_no_complement():
    out = suppress(partners([2, 3, 10], total=15), k=5, levels="partner_id")
    assert status(out) == {"A": "below_k", "B": "below_k", "C": None, "total": None}


def test_two_small_partners_below_k_together_get_the_next_smallest():
    out = suppress(partners([1, 2, 12, 10, 0], total=25), k=5, levels="partner_id")
    assert status(out) == {
        "A": "below_k",
        "B": "below_k",
        "C": None,
        "D": "complementary",  # the smallest shown non-empty partner
        "E": None,
        "total": None,
    }


def test_without_a_total_row_nothing_is_derivable():
    out = suppress(partners([2, 9, 12]), k=5, levels="partner_id")
    assert out["reason"].tolist() == ["below_k", None, None]


def test_small_remainder_in_total_is_protected():
    # The total holds 2 respondents who are in no partner row: 15 - 6 - 7 reveals them.
    out = suppress(partners([6, 7], total=15), k=5, levels="partner_id")
    assert status(out) == {"A": "complementary", "B": None, "total": None}


def test_large_remainder_protects_a_single_small_cell():
    # 17 - 10 = 7 mixes partner A (2) with 5 unlisted respondents: A cannot be recovered.
    out = suppress(partners([2, 10], total=17), k=5, levels="partner_id")
    assert status(out) == {"A": "below_k", "B": None, "total": None}


def test_hidden_total_is_not_left_equal_to_its_shown_parts():
    # Sector X (9, one partner of 9) is hidden to protect sector Y (3); X's only partner
    # must then be hidden too, or X = x1 and then Y = 12 - X.
    counts = pd.DataFrame(
        {
            "sector": ["X", "X", "Y", "Y", None],
            "partner_id": ["x1", None, "y1", None, None],
            "n": [9, 9, 3, 3, 12],
        }
    )
    out = suppress(counts, k=5, levels=["sector", "partner_id"])
    assert out["reason"].tolist() == ["complementary", "complementary", "below_k", "below_k", None]


def test_audit_hides_a_total_that_pins_its_hidden_parts():
    # Total 3 (k = 3) over group A (1) and group G (2 = g1 1 + g2 1). Locally fine (A and G
    # together hide 3 >= k), but G >= 2 because its two hidden parts hold >= 1 each, so
    # A = 3 - G <= 1 would be known exactly. The total must go.
    counts = pd.DataFrame(
        {
            "group": ["A", "G", "G", "G", None],
            "partner_id": [None, "g1", "g2", None, None],
            "n": [1, 1, 1, 2, 3],
        }
    )
    out = suppress(counts, k=3, levels=["group", "partner_id"])
    assert out["reason"].tolist() == ["below_k"] * 4 + ["complementary"]


def test_hidden_parts_of_one_each_are_not_pinned():
    # Three partners of 1 under a shown total of 3: each would be known to be exactly 1.
    out = suppress(partners([1, 1, 1, 6], total=9), k=3, levels="partner_id")
    assert status(out) == {
        "A": "below_k",
        "B": "below_k",
        "C": "below_k",
        "D": "complementary",
        "total": None,
    }


def test_missing_intermediate_total_links_to_the_nearest_ancestor():
    counts = pd.DataFrame(
        {
            "round_id": [1, 1, 1, 2, 2, None],
            "partner_id": ["A", "B", None, "A", "B", None],
            "n": [6, 8, 14, 2, 9, 25],
        }
    )
    # Round 2 has no total row: its partners are parts of the grand total.
    out = suppress(counts, k=5, levels=["round_id", "partner_id"])
    assert out["reason"].tolist() == [None, None, None, "below_k", "complementary", None]


def test_by_tables_are_independent_and_custom_total_marker():
    counts = pd.concat(
        [
            partners([2, 9, 12], total=23, dimension="equality"),
            partners([6, 9, 12], total=27, dimension="benefit"),
        ],
        ignore_index=True,
    )
    counts["partner_id"] = counts["partner_id"].fillna("ALL")
    out = suppress(counts, k=5, levels="partner_id", by="dimension", total="ALL")
    assert out["reason"].tolist()[:4] == ["below_k", "complementary", None, None]
    assert out["reason"].tolist()[4:] == [None, None, None, None]


def test_output_is_a_copy_with_the_same_index():
    counts = partners([2, 9, 12], total=23)
    counts.index = [10, 11, 12, 13]
    before = counts.copy()
    out = suppress(counts, k=5, levels="partner_id")
    pd.testing.assert_frame_equal(counts, before)
    assert list(out.index) == [10, 11, 12, 13]
    assert out["suppressed"].dtype == bool


@pytest.mark.parametrize(
    ("counts", "kwargs", "error"),
    [
        (partners([2, 9]), {"k": 2}, ValueError),
        (partners([2, 9]), {"k": 5.0}, TypeError),
        (partners([-1, 9]), {"k": 5}, ValueError),
        (partners([1.5, 9]), {"k": 5}, ValueError),
        (partners([np.nan, 9]), {"k": 5}, ValueError),
        (partners(["2", "9"]), {"k": 5}, TypeError),
        (partners([2, 9], total=8), {"k": 5}, ValueError),  # parts exceed the total
        (pd.DataFrame({"partner_id": ["A", "A"], "n": [5, 6]}), {"k": 5}, ValueError),
        (partners([2, 9]), {"k": 5, "levels": "nope"}, ValueError),
        (partners([2, 9]), {"k": 5, "by": "partner_id"}, ValueError),
        (
            pd.DataFrame({"a": [None], "b": ["x"], "n": [5]}),
            {"k": 5, "levels": ["a", "b"]},
            ValueError,
        ),
    ],
)
def test_suppress_rejects_bad_input(counts, kwargs, error):
    args = {"levels": "partner_id", **kwargs}
    with pytest.raises(error):
        suppress(counts, **args)


# --------------------------------------------------------------------------- properties


@st.composite
def hierarchies(draw):
    """A random count hierarchy as rows (key, n), with some totals missing or padded."""
    depth = draw(st.integers(1, 3))
    rows = []

    def build(prefix):
        if len(prefix) == depth:
            return draw(st.one_of(st.integers(0, 4), st.integers(0, 25)))
        total = 0
        for c in range(draw(st.integers(1, 4))):
            key = (*prefix, f"g{c}")
            n = build(key)
            rows.append((key, n))
            total += n
        return total + draw(st.sampled_from([0, 0, 0, 0, 1, 2, 7]))  # unlisted respondents

    rows.append(((), build(())))
    keep = [len(key) == depth or draw(st.booleans()) or draw(st.booleans()) for key, _ in rows]
    rows = [row for row, kept in zip(rows, keep, strict=True) if kept]
    levels = [f"l{i}" for i in range(depth)]
    frame = pd.DataFrame(
        [(*key, *([None] * (depth - len(key))), n) for key, n in rows], columns=[*levels, "n"]
    )
    return frame, levels, [key for key, _ in rows]


def equations(keys, n):
    """(parent, children, remainder) with the nearest present ancestor as parent."""
    index = {key: i for i, key in enumerate(keys)}
    children = {}
    for i, key in enumerate(keys):
        for up in range(len(key) - 1, -1, -1):
            if key[:up] in index:
                children.setdefault(index[key[:up]], []).append(i)
                break
    return [(p, kids, int(n[p] - n[kids].sum())) for p, kids in children.items()]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=hierarchies(), k=st.integers(3, 10))
def test_no_small_cell_is_shown_or_recoverable_by_subtraction(tree, k):
    frame, levels, keys = tree
    out = suppress(frame, k=k, levels=levels)
    n = out["n"].to_numpy()
    hidden = out["suppressed"].to_numpy()
    assert not np.any(~hidden & (n > 0) & (n < k)), "a shown cell has 0 < n < k"
    assert not np.any(hidden & (n == 0)), "an empty cell was suppressed"
    assert set(out.loc[hidden, "reason"]) <= {"below_k", "complementary"}
    for parent, kids, remainder in equations(keys, n):
        kids = np.asarray(kids)
        if not hidden[parent]:
            derived = n[parent] - n[kids][~hidden[kids]].sum()
            # parent total minus the shown parts: 0 or a group of at least k ...
            assert derived == 0 or derived >= k, (keys[parent], derived)
            # ... so no suppressed part can be recovered as "total minus the rest".
            for kid in kids[hidden[kids]]:
                assert n[kid] != derived or derived >= k
        elif remainder == 0 and n[kids].sum() > 0:
            assert hidden[kids][n[kids] > 0].any(), "hidden total equals its shown parts"


def _feasible_range(var, unknowns, rows_eq, rhs, bounds):
    c = np.zeros(len(unknowns))
    c[var] = 1.0
    lo = linprog(c, A_eq=rows_eq, b_eq=rhs, bounds=bounds, method="highs")
    hi = linprog(-c, A_eq=rows_eq, b_eq=rhs, bounds=bounds, method="highs")
    assert lo.status == 0 and hi.status in (0, 3)  # 3: unbounded above, nothing pinned
    return lo.fun, (np.inf if hi.status == 3 else -hi.fun)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=hierarchies(), k=st.integers(3, 10))
def test_linear_audit_pins_no_hidden_cell(tree, k):
    # An attacker knows every shown count, that hidden cells hold >= 1 respondent and that
    # parts plus unlisted respondents add up to their total. Solve for each hidden cell's
    # smallest and largest possible value: they must differ.
    frame, levels, keys = tree
    out = suppress(frame, k=k, levels=levels)
    n = out["n"].to_numpy()
    hidden = out["suppressed"].to_numpy()
    eqs = equations(keys, n)
    cells = list(np.flatnonzero(hidden))
    if not cells:
        return
    unknowns = cells + [("rem", i) for i, (_, _, r) in enumerate(eqs) if r > 0]
    col = {u: j for j, u in enumerate(unknowns)}
    rows_eq, rhs = [], []
    for i, (parent, kids, remainder) in enumerate(eqs):
        row = np.zeros(len(unknowns))
        known = 0.0
        for cell, sign in [(parent, 1.0)] + [(kid, -1.0) for kid in kids]:
            if hidden[cell]:
                row[col[cell]] += sign
            else:
                known += sign * n[cell]
        if remainder > 0:
            row[col[("rem", i)]] = -1.0
        if row.any():
            rows_eq.append(row)
            rhs.append(-known)
    bounds = [(1, None)] * len(cells) + [(0, None)] * (len(unknowns) - len(cells))
    if not rows_eq:
        return
    for j, cell in enumerate(cells):
        low, high = _feasible_range(j, unknowns, np.array(rows_eq), np.array(rhs), bounds)
        assert high - low > 0.5, f"hidden cell {keys[cell]} (n={n[cell]}) pinned to {low}"


# --------------------------------------------------------------------------- helpers


def test_safe_to_show_difference():
    assert safe_to_show_difference(12, 12, 5)
    assert not safe_to_show_difference(12, 14, 5)  # reveals the 2 late respondents
    assert safe_to_show_difference(12, 17, 5)
    assert not safe_to_show_difference(3, 9, 5)  # one count is itself below k
    assert safe_to_show_difference(0, 6, 5)
    got = safe_to_show_difference([10, 10, 10], [10, 11, 20], 5)
    assert got.tolist() == [True, False, True]


def test_change_allowed():
    assert change_allowed(5, 7, 5)
    assert not change_allowed(4, 30, 5)
    assert change_allowed(np.array([5, 4]), np.array([6, 6]), 5).tolist() == [True, False]


def test_comment_and_distribution_thresholds():
    assert comment_threshold(5) == 8
    assert comment_threshold(12) == 12
    assert comment_threshold(5, minimum=10) == 10
    assert not distribution_allowed(7, 5)
    assert distribution_allowed(8, 5)
    assert distribution_allowed([3, 8, 12], 10).tolist() == [False, False, True]


@pytest.mark.parametrize(
    "call",
    [
        lambda: comment_threshold(MIN_K - 1),
        lambda: comment_threshold(5, minimum=0),
        lambda: safe_to_show_difference(-1, 5, 5),
        lambda: change_allowed(2.5, 5, 5),
        lambda: distribution_allowed(np.nan, 5),
    ],
)
def test_helpers_reject_bad_input(call):
    with pytest.raises(ValueError):
        call()
