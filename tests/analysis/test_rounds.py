"""Tests for analysis.rounds: compare_rounds, trend_test (Jonckheere-Terpstra), paired_wilcoxon.

Reference values: cases C13, C16, C17 (``case`` fixture) and the Jonckheere-Terpstra example
of Hollander & Wolfe (1999, 2nd ed., Example 6.2, pp. 205ff.; motivational effect of knowledge
of performance, Hundal 1969): J = 79, E0(J) = 54, tie-corrected Var0(J) = 150.29, J* = 2.04,
one-sided p = 0.0207 (the book's values as transcribed in the test suite of the CPAN module
Statistics::ANOVA::JT, which checks itself against this example).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from analysis.rounds import WILCOXON_EXACT_MAX_N, compare_rounds, paired_wilcoxon, trend_test

HW_EXAMPLE_6_2 = [
    [40, 35, 38, 43, 44, 41],  # no information
    [38, 40, 47, 44, 40, 42],  # rough information
    [48, 40, 45, 43, 46, 44],  # accurate information
]
HW_SOURCE = "Hollander & Wolfe (1999) Example 6.2, p. 205ff"
# Jonckheere (1954) Biometrika 41:133, the untied 4 x 4 example (as in R npordtests 'jdata').
JONCKHEERE_1954 = [[19, 20, 60, 130], [21, 61, 80, 129], [40, 99, 100, 149], [49, 110, 151, 160]]


def _rounds_frame(groups: list[list[float]], dimension: str = "d") -> pd.DataFrame:
    return pd.DataFrame(
        [(i + 1, v) for i, values in enumerate(groups) for v in values],
        columns=["round_id", "score"],
    ).assign(dimension=dimension)


def _msg(case: dict, key: str) -> str:
    return f"{case['id']} {key}: {case['source']}"


# --------------------------------------------------------------------------- trend_test


def test_trend_test_hollander_wolfe_example_6_2():
    row = trend_test(_rounds_frame(HW_EXAMPLE_6_2), alternative="greater").iloc[0]
    assert row["j"] == 79.0, HW_SOURCE
    assert row["j_expected"] == 54.0, HW_SOURCE
    assert row["j_variance"] == pytest.approx(150.29, abs=0.005), HW_SOURCE
    assert row["z"] == pytest.approx(2.04, abs=0.005), HW_SOURCE
    assert row["p_value"] == pytest.approx(0.0207, abs=0.0005), HW_SOURCE
    assert (row["n"], row["n_rounds"], row["rounds"]) == (18, 3, (1, 2, 3))


def _brute_force_j(groups: list[list[float]]) -> float:
    total = 0.0
    for i, j in itertools.combinations(range(len(groups)), 2):
        total += sum((b > a) + 0.5 * (b == a) for a in groups[i] for b in groups[j])
    return total


def test_trend_test_untied_variance_reduces_to_the_classic_formula():
    row = trend_test(_rounds_frame(JONCKHEERE_1954), min_n=4).iloc[0]
    sizes = np.array([4, 4, 4, 4])
    n = sizes.sum()
    classic = (n**2 * (2 * n + 3) - np.sum(sizes**2 * (2 * sizes + 3))) / 72
    assert row["j"] == _brute_force_j(JONCKHEERE_1954)
    assert row["j_variance"] == pytest.approx(classic)
    assert row["j_expected"] == (n**2 - np.sum(sizes**2)) / 4


def test_trend_test_tau_b_matches_its_definition_and_direction():
    row = trend_test(_rounds_frame(HW_EXAMPLE_6_2)).iloc[0]
    pooled = np.concatenate(HW_EXAMPLE_6_2)
    n = pooled.size
    n0 = n * (n - 1) / 2
    n_order_ties = 3 * (6 * 5 / 2)
    _, t = np.unique(pooled, return_counts=True)
    n_value_ties = np.sum(t * (t - 1) / 2)
    # Kendall's S between round and value is 2 (J - E(J)); tau-b = S / sqrt(...).
    expected = 2 * (79 - 54) / np.sqrt((n0 - n_order_ties) * (n0 - n_value_ties))
    assert row["tau_b"] == pytest.approx(expected)
    reversed_rows = trend_test(_rounds_frame(HW_EXAMPLE_6_2[::-1])).iloc[0]
    assert reversed_rows["tau_b"] == pytest.approx(-expected)
    assert reversed_rows["z"] == pytest.approx(-row["z"])


def test_trend_test_alternatives_are_consistent():
    frame = _rounds_frame(HW_EXAMPLE_6_2)
    greater = trend_test(frame, alternative="greater").iloc[0]["p_value"]
    less = trend_test(frame, alternative="less").iloc[0]["p_value"]
    two = trend_test(frame).iloc[0]["p_value"]
    assert greater + less == pytest.approx(1.0)
    assert two == pytest.approx(2 * min(greater, less))


def test_trend_test_order_argument_and_exclusions():
    frame = _rounds_frame([*HW_EXAMPLE_6_2, [41, 42]])
    row = trend_test(frame, order=[3, 2, 1, 4], alternative="less").iloc[0]
    assert row["rounds"] == (3, 2, 1) and row["excluded"] == (4,)
    assert row["p_value"] == pytest.approx(0.0207, abs=0.0005), HW_SOURCE
    short = trend_test(_rounds_frame(HW_EXAMPLE_6_2[:2])).iloc[0]
    assert "fewer than three rounds" in short["reason"] and np.isnan(short["p_value"])
    with pytest.raises(ValueError, match="not in order"):
        trend_test(frame, order=[1, 2, 3])
    with pytest.raises(ValueError, match="alternative"):
        trend_test(frame, alternative="increasing")


def test_trend_test_adjusts_across_dimensions():
    frame = pd.concat(
        [_rounds_frame(HW_EXAMPLE_6_2, "a"), _rounds_frame(JONCKHEERE_1954, "b")], ignore_index=True
    )
    out = trend_test(frame, min_n=4)
    p = out["p_value"].to_numpy()
    holm = np.maximum.accumulate(np.sort(p) * np.array([2, 1]))
    np.testing.assert_allclose(np.sort(out["p_adjusted"]), np.minimum(holm, 1))


# --------------------------------------------------------------------------- compare_rounds


def test_compare_rounds_uses_later_round_as_x(case):
    c13 = case("C13")
    frame = _rounds_frame([c13["data"]["females"], c13["data"]["males"]])
    row = compare_rounds(frame, min_n=4).iloc[0]
    assert (row["round_from"], row["round_to"]) == (1, 2)
    assert row["u"] == pytest.approx(c13["expected"]["U"]), _msg(c13, "U of later round")
    assert row["p_value"] == pytest.approx(c13["expected"]["p_exact"], abs=1e-6)
    assert row["rank_biserial"] == pytest.approx(c13["expected"]["rank_biserial"], abs=1e-6)
    assert row["mean_difference"] == pytest.approx(
        np.mean(c13["data"]["males"]) - np.mean(c13["data"]["females"])
    )
    assert (row["n_from"], row["n_to"]) == (4, 5)


def test_compare_rounds_consecutive_pairs_in_given_order():
    frame = _rounds_frame([[1, 2, 2, 3, 3], [3, 3, 4, 4, 5], [2, 2, 3, 3, 3]])
    out = compare_rounds(frame, order=[3, 1, 2])
    assert list(zip(out.round_from, out.round_to, strict=True)) == [(3, 1), (1, 2)]
    assert out["rank_biserial"].iloc[1] > 0  # round 2 scores higher than round 1
    assert out["mean_difference"].iloc[1] == pytest.approx(3.8 - 2.2)


def test_compare_rounds_withholds_small_rounds():
    frame = _rounds_frame([[1, 2, 3, 4, 5], [2, 3, 4]])
    row = compare_rounds(frame).iloc[0]
    assert "fewer than 5" in row["reason"]
    assert np.isnan(row["p_value"]) and np.isnan(row["mean_from"])
    assert (row["n_from"], row["n_to"]) == (5, 3)


def test_compare_rounds_by_partner_and_missing_round_in_a_cell():
    frame = pd.concat(
        [
            _rounds_frame([[1, 2, 3, 4, 5], [2, 3, 4, 5, 5]]).assign(partner_id="p"),
            _rounds_frame([[1, 2, 3, 4, 5]]).assign(partner_id="q"),
        ],
        ignore_index=True,
    )
    out = compare_rounds(frame, by=["partner_id", "dimension"])
    assert len(out) == 2
    q = out.set_index("partner_id").loc["q"]
    assert q["n_to"] == 0 and q["reason"] is not None


def test_compare_rounds_does_not_mutate_and_validates():
    frame = _rounds_frame([[1, 2, 3, 4, 5], [2, 3, 4, 5, 5]])
    before = frame.copy()
    compare_rounds(frame)
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(ValueError, match="missing column"):
        compare_rounds(frame, round_col="wave")
    with pytest.raises(ValueError, match="twice"):
        compare_rounds(frame, order=[1, 1, 2])


# --------------------------------------------------------------------------- paired_wilcoxon


def test_paired_wilcoxon_c16_depression(case):
    c16 = case("C16")
    x, y = c16["data"]["x"], c16["data"]["y"]
    exp = c16["expected"]
    # The case defines d = x - y; with d = after - before that is after=x, before=y.
    greater = paired_wilcoxon(before=y, after=x, alternative="greater")
    two = paired_wilcoxon(before=y, after=x)
    approx = paired_wilcoxon(before=y, after=x, alternative="greater", method="asymptotic")
    assert greater.method == "exact"
    assert greater.t_plus == pytest.approx(exp["T_plus"]), _msg(c16, "V")
    assert greater.p_value == pytest.approx(exp["p_exact_greater"], abs=1e-6), _msg(c16, "p")
    assert two.p_value == pytest.approx(exp["p_exact_two_sided"], abs=1e-6), _msg(c16, "p2")
    assert approx.p_value == pytest.approx(exp["p_asymptotic_greater_no_cc"], abs=1e-6), _msg(
        c16, "large-sample p"
    )
    assert greater.rank_biserial == pytest.approx(exp["rank_biserial_paired"], abs=1e-6), _msg(
        c16, "matched-pairs r"
    )


def test_paired_wilcoxon_c17_darwin(case):
    c17 = case("C17")
    d = np.array(c17["data"]["d"], dtype=float)
    exp = c17["expected"]
    zeros = np.zeros_like(d)
    two = paired_wilcoxon(zeros, d, method="exact")
    greater = paired_wilcoxon(zeros, d, alternative="greater", method="exact")
    approx = paired_wilcoxon(zeros, d, method="asymptotic")
    assert (two.t_plus, two.t_minus) == (exp["T_plus"], exp["T_minus"]), _msg(c17, "T")
    assert two.p_value == pytest.approx(exp["p_exact_two_sided"], abs=1e-6), _msg(c17, "p")
    assert greater.p_value == pytest.approx(exp["p_exact_greater"], abs=1e-6), _msg(c17, "p>")
    assert approx.p_value == pytest.approx(exp["p_asymptotic_two_sided"], abs=1e-6), _msg(
        c17, "asymptotic"
    )


def _brute_force_signed_rank_p(d: np.ndarray) -> float:
    """Two-sided p over all 2^n sign patterns of the non-zero differences (doubling rule)."""
    d = d[d != 0]
    ranks = pd.Series(np.abs(d)).rank().to_numpy()
    observed = ranks[d > 0].sum()
    totals = np.array(
        [
            sum(r for r, s in zip(ranks, signs, strict=True) if s)
            for signs in itertools.product([False, True], repeat=d.size)
        ]
    )
    return min(1.0, 2 * min(np.mean(totals >= observed), np.mean(totals <= observed)))


def test_paired_wilcoxon_tied_likert_changes_use_exact_enumeration():
    before = np.array([3, 2, 4, 3, 2, 3, 4, 2, 3, 3])
    after = np.array([4, 3, 4, 4, 3, 2, 5, 4, 3, 4])
    res = paired_wilcoxon(before, after)
    assert res.method == "permutation"
    assert (res.n, res.n_zero) == (10, 2)
    assert res.p_value == pytest.approx(_brute_force_signed_rank_p(after - before), abs=1e-12)


def test_paired_wilcoxon_zero_methods():
    before = np.array([3, 3, 3, 3, 3, 3, 3])
    after = np.array([3, 3, 4, 5, 2, 5, 4])  # d = 0, 0, 1, 2, -1, 2, 1
    wilcox = paired_wilcoxon(before, after, zero_method="wilcox")
    dropped = paired_wilcoxon(before[2:], after[2:])
    assert (wilcox.t_plus, wilcox.p_value) == (dropped.t_plus, dropped.p_value)
    # Pratt ranks |d| with the zeros (ranks 1.5, 1.5), then drops the zeros' ranks:
    # |d| = 1, 2, 1, 2, 1 get ranks 4, 6.5, 4, 6.5, 4; T+ = 4 + 6.5 + 6.5 + 4 = 21, T- = 4.
    pratt = paired_wilcoxon(before, after, zero_method="pratt")
    assert (pratt.t_plus, pratt.t_minus) == (21.0, 4.0)
    assert pratt.rank_biserial == pytest.approx(17 / 25)
    zsplit = paired_wilcoxon(before, after, zero_method="zsplit")
    assert zsplit.t_plus + zsplit.t_minus == pytest.approx(7 * 8 / 2)
    with pytest.raises(ValueError, match="no tied"):
        paired_wilcoxon(before, after, method="exact")


def test_paired_wilcoxon_drops_incomplete_pairs_and_handles_no_change():
    res = paired_wilcoxon([1, 2, np.nan, 4], [2, 3, 5, np.nan])
    assert res.n == 2
    same = paired_wilcoxon([3, 4, 2], [3, 4, 2])
    assert np.isnan(same.p_value) and np.isnan(same.rank_biserial)
    assert json.loads(json.dumps(same.to_dict()))["p_value"] is None


def test_paired_wilcoxon_validates_input():
    with pytest.raises(ValueError, match="same length"):
        paired_wilcoxon([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="zero_method"):
        paired_wilcoxon([1, 2], [2, 3], zero_method="drop")
    with pytest.raises(ValueError, match="method"):
        paired_wilcoxon([1, 2], [2, 3], method="approx")
    with pytest.raises(ValueError, match="infinite"):
        paired_wilcoxon([1, np.inf], [2, 3])


def test_e09_paired_wilcoxon_seventeen_tied_pairs_are_exact(case):
    e = case("E09")
    before, after = e["data"]["before"], e["data"]["after"]
    exp, tol = e["expected"], e["tolerance"]
    results = {alt: paired_wilcoxon(before, after, alternative=alt)
               for alt in ("greater", "less", "two-sided")}
    two = results["two-sided"]
    assert (two.method, two.exact, two.n_resamples) == ("permutation", True, 0)
    assert np.isnan(two.p_mc_se)
    assert (two.t_plus, two.t_minus, two.n_zero) == (exp["T_plus"], exp["T_minus"], exp["n_zero"])
    for alt, key in (("greater", "p_greater"), ("less", "p_less"), ("two-sided", "p_two_sided")):
        assert results[alt].p_value == pytest.approx(exp[key], abs=tol), _msg(e, key)


def _counted_signed_rank_p(d: np.ndarray) -> float:
    """Two-sided exact p by counting sign patterns with Python integers (independent DP)."""
    d = d[d != 0]
    doubled = [round(2 * r) for r in pd.Series(np.abs(d)).rank()]
    observed = sum(w for w, x in zip(doubled, d, strict=True) if x > 0)
    counts = {0: 1}
    for w in doubled:
        nxt: dict[int, int] = {}
        for t, c in counts.items():
            nxt[t] = nxt.get(t, 0) + c
            nxt[t + w] = nxt.get(t + w, 0) + c
        counts = nxt
    total = 2 ** len(doubled)
    ge = sum(c for t, c in counts.items() if t >= observed) / total
    le = sum(c for t, c in counts.items() if t <= observed) / total
    return min(1.0, 2 * min(ge, le))


def test_paired_wilcoxon_above_the_exact_limit_is_monte_carlo_with_its_precision():
    rng = np.random.default_rng(7)
    before = rng.integers(2, 5, 600)
    after = before + rng.choice([-1, 0, 1], 600)
    res = paired_wilcoxon(before, after)
    n_ranked = int(np.count_nonzero(after - before))
    assert n_ranked > WILCOXON_EXACT_MAX_N
    assert (res.method, res.exact, res.n_resamples) == ("monte_carlo", False, 9999)
    assert res.p_mc_se == pytest.approx(np.sqrt(res.p_value * (1 - res.p_value) / 9999))
    # The sampled p lies within 4 Monte Carlo standard errors of the exact value.
    exact = _counted_signed_rank_p((after - before).astype(float))
    assert abs(res.p_value - exact) <= 4 * max(res.p_mc_se, 1 / 10000)
    # Seeded: the same inputs give the same p.
    assert paired_wilcoxon(before, after).p_value == res.p_value


def test_paired_wilcoxon_exact_rule_boundary():
    rng = np.random.default_rng(3)
    d = rng.choice([-2.0, -1.0, 1.0, 2.0, 3.0], WILCOXON_EXACT_MAX_N)
    at_limit = paired_wilcoxon(np.zeros_like(d), d)
    assert at_limit.exact and at_limit.method == "permutation"
    assert at_limit.p_value == pytest.approx(_counted_signed_rank_p(d), abs=1e-9)
    d_more = np.append(d, 1.0)
    assert paired_wilcoxon(np.zeros_like(d_more), d_more).method == "monte_carlo"
    with pytest.raises(ValueError, match="at most 300"):
        paired_wilcoxon(np.zeros(301), np.arange(1.0, 302.0), method="exact")
    with pytest.raises(ValueError, match="n_resamples"):
        paired_wilcoxon([1, 2], [2, 3], n_resamples=0)
