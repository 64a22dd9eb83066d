"""Tests for analysis.multiple.adjust_pvalues (Holm, BH, BY)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.multiple import adjust_pvalues


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_c19_adjusted_pvalues(case, method):
    c = case("C19")
    got = adjust_pvalues(c["data"]["p"], method=method)
    assert got.tolist() == pytest.approx(c["expected"][method], abs=c["tolerance"]), (
        f"C19 {method} ({c['source']})"
    )


def test_c19_by_and_rejection_counts(case):
    c = case("C19")
    p = c["data"]["p"]
    by = adjust_pvalues(p, method="by")
    assert by[:4].tolist() == pytest.approx(c["expected"]["by_first_4"], abs=c["tolerance"]), (
        f"C19 by ({c['source']})"
    )
    alpha = c["parameters"]["alpha"]
    for method, expected in c["expected"]["n_rejected_at_0.05"].items():
        assert int((adjust_pvalues(p, method=method) <= alpha).sum()) == expected, method


@pytest.mark.parametrize("method", ["holm", "bh", "by", "none"])
def test_nan_passes_through_and_does_not_count(method):
    p = [0.01, np.nan, 0.04, 0.03, np.nan]
    got = adjust_pvalues(p, method=method)
    assert np.isnan(got[[1, 4]]).all()
    np.testing.assert_allclose(got[[0, 2, 3]], adjust_pvalues([0.01, 0.04, 0.03], method))


def test_holm_by_hand_and_order_preserved():
    # m = 3: sorted 0.01, 0.03, 0.04 -> 0.03, 0.06, max(0.06, 0.04) = 0.06.
    assert adjust_pvalues([0.04, 0.01, 0.03], "holm").tolist() == pytest.approx([0.06, 0.03, 0.06])
    assert adjust_pvalues([0.5, 0.6], "holm").tolist() == [1.0, 1.0]


def test_input_kinds_and_edge_cases():
    series = pd.Series([0.02, 0.01])
    assert adjust_pvalues(series, "bh").tolist() == pytest.approx([0.02, 0.02])
    assert adjust_pvalues([], "holm").shape == (0,)
    assert np.isnan(adjust_pvalues([np.nan, np.nan], "bh")).all()
    assert adjust_pvalues([0.2], "by").tolist() == [0.2]
    assert adjust_pvalues([0.03, 0.5], "none").tolist() == [0.03, 0.5]


@pytest.mark.parametrize(
    ("p", "method", "error"),
    [
        ([0.1, 1.2], "holm", ValueError),
        ([-0.1], "bh", ValueError),
        ([[0.1, 0.2]], "holm", ValueError),
        ([0.1], "bonferroni-ish", ValueError),
        (["a", "b"], "holm", TypeError),
        ([True, False], "holm", TypeError),
    ],
)
def test_rejects_bad_input(p, method, error):
    with pytest.raises(error):
        adjust_pvalues(p, method=method)


pvalues = st.lists(
    st.one_of(st.floats(0, 1, allow_nan=False), st.just(math.nan)), min_size=1, max_size=30
)


@settings(max_examples=100, deadline=None)
@given(p=pvalues)
def test_adjustment_properties(p):
    raw = np.asarray(p)
    ok = ~np.isnan(raw)
    holm, bh, by = (adjust_pvalues(p, m) for m in ("holm", "bh", "by"))
    for adj in (holm, bh, by):
        assert np.array_equal(np.isnan(adj), ~ok)
        assert np.all(adj[ok] >= raw[ok] - 1e-15) and np.all(adj[ok] <= 1.0)
        # Monotone: a smaller raw p never gets a larger adjusted p.
        order = np.argsort(raw[ok], kind="stable")
        assert np.all(np.diff(adj[ok][order]) >= -1e-12)
    # Holm is never below BH (FWER is stricter than FDR); BY never below BH.
    assert np.all(holm[ok] >= bh[ok] - 1e-12)
    assert np.all(by[ok] >= bh[ok] - 1e-12)
    # Holm never exceeds Bonferroni.
    assert np.all(holm[ok] <= np.minimum(raw[ok] * ok.sum(), 1.0) + 1e-12)
