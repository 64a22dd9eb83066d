"""Exact and Monte Carlo p-values for small partners, and McDonald's omega.

Expected values come from the reference cases E01-E08 (R output: coin, psych, and full
enumerations written in R, ``reference/r/exact_and_omega.R``), each cited in the assertion
message, and from brute-force enumerations written plainly here with the formula.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis.compare import (
    EXACT_MAX_ARRANGEMENTS,
    arrangement_sums,
    compare_partners,
    kruskal_wallis,
    mann_whitney,
    n_arrangements,
)
from analysis.gaps import perception_gaps
from analysis.reliability import mcdonald_omega, reliability_by_dimension, which_reliability
from analysis.rounds import paired_wilcoxon


def _long(groups: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(label, v) for label, values in groups.items() for v in values],
        columns=["partner_id", "score"],
    ).assign(dimension="d")


def _msg(case: dict, key: str) -> str:
    return f"{case['id']} {key}: {case['source']}"


def _brute_force_h_p(groups: list[list[float]]) -> float:
    """Exact Kruskal-Wallis p over every relabelling, H written out from the definition."""
    values = np.concatenate([np.asarray(g, float) for g in groups])
    n = values.size
    ranks = pd.Series(values).rank().to_numpy()  # midranks
    _, t = np.unique(values, return_counts=True)
    correction = 1 - np.sum(t**3 - t) / (n**3 - n)
    labels = np.repeat(np.arange(len(groups)), [len(g) for g in groups])

    def h(lab: np.ndarray) -> float:
        s = sum(ranks[lab == g].sum() ** 2 / np.sum(lab == g) for g in range(len(groups)))
        return (12 / (n * (n + 1)) * s - 3 * (n + 1)) / correction

    observed = h(labels)
    null = [h(np.array(p)) for p in set(itertools.permutations(labels))]
    return float(np.mean(np.array(null) >= observed - 1e-9))


# --------------------------------------------------------------------------- Mann-Whitney


def test_e01_mann_whitney_tied_exact_matches_coin(case):
    e = case("E01")
    x, y = e["data"]["x"], e["data"]["y"]
    greater = mann_whitney(x, y, alternative="greater")
    less = mann_whitney(x, y, alternative="less")
    two = mann_whitney(x, y)
    exp = e["expected"]
    assert (greater.method, greater.p_method) == ("permutation", "exact")
    assert greater.n_resamples == exp["arrangements"] and np.isnan(greater.p_mc_se)
    assert greater.p_value == pytest.approx(exp["p_greater"], abs=e["tolerance"]), _msg(e, ">")
    assert less.p_value == pytest.approx(exp["p_less"], abs=e["tolerance"]), _msg(e, "<")
    expected_two = min(1.0, 2 * min(exp["p_greater"], exp["p_less"]))
    assert two.p_value == pytest.approx(expected_two, abs=e["tolerance"]), _msg(e, "two-sided")


def test_e02_mann_whitney_three_against_four(case):
    e = case("E02")
    exp, tol = e["expected"], e["tolerance"]
    untied = mann_whitney(e["data"]["untied"]["x"], e["data"]["untied"]["y"])
    assert untied.p_method == "exact"
    assert untied.p_value == pytest.approx(exp["untied_p_two_sided"], abs=tol), _msg(e, "untied")
    tx, ty = e["data"]["tied"]["x"], e["data"]["tied"]["y"]
    greater = mann_whitney(tx, ty, alternative="greater")
    assert greater.p_value == pytest.approx(exp["tied_p_greater"], abs=tol), _msg(e, "tied >")
    assert greater.n_resamples == exp["tied_arrangements"]
    less = mann_whitney(tx, ty, alternative="less")
    assert less.p_value == pytest.approx(exp["tied_p_less"], abs=tol), _msg(e, "tied <")


def test_mann_whitney_monte_carlo_reports_its_precision_and_agrees_with_enumeration(case):
    e = case("E01")
    x, y = e["data"]["x"], e["data"]["y"]
    mc = mann_whitney(x, y, alternative="greater", method="permutation", max_arrangements=0)
    assert mc.p_method == "monte_carlo" and mc.n_resamples == 9999
    exact = e["expected"]["p_greater"]
    assert mc.p_mc_se == pytest.approx(np.sqrt(mc.p_value * (1 - mc.p_value) / 9999))
    assert abs(mc.p_value - exact) < 4 * np.sqrt(exact * (1 - exact) / 9999) + 1e-4
    again = mann_whitney(x, y, alternative="greater", method="permutation", max_arrangements=0)
    assert again == mc  # seeded: the same p every time


# --------------------------------------------------------------------------- Kruskal-Wallis


@pytest.mark.parametrize("case_id", ["E03", "E04"])
def test_kruskal_wallis_exact_by_default_for_small_partners(case, case_id):
    e = case(case_id)
    groups = e["data"]
    out = kruskal_wallis(_long(groups), "score", "partner_id").iloc[0]
    exp, tol = e["expected"], e["tolerance"]
    assert out["p_method"] == "exact" and out["n_resamples"] == exp["arrangements"]
    assert out["h"] == pytest.approx(exp["H"], abs=tol), _msg(e, "H")
    assert out["p_value"] == pytest.approx(exp["p_exact"], abs=tol), _msg(e, "p")
    assert np.isnan(out["p_mc_se"])


def test_kruskal_wallis_brute_force_agrees_with_the_reference(case):
    e = case("E03")
    assert _brute_force_h_p(list(e["data"].values())) == pytest.approx(
        e["expected"]["p_exact"], abs=1e-12
    ), _msg(e, "brute force in Python")


def test_e05_exact_above_the_cut_off_on_request_and_monte_carlo_by_default(case):
    e = case("E05")
    data = _long(e["data"])
    exp = e["expected"]
    assert n_arrangements([5, 4, 5]) == exp["arrangements"] > EXACT_MAX_ARRANGEMENTS
    with pytest.raises(ValueError, match="max_arrangements"):
        kruskal_wallis(data, "score", "partner_id", method="exact")
    exact = kruskal_wallis(
        data, "score", "partner_id", method="exact", max_arrangements=300_000
    ).iloc[0]
    assert exact["p_value"] == pytest.approx(exp["p_exact"], abs=e["tolerance"]), _msg(e, "p")
    auto = kruskal_wallis(data, "score", "partner_id").iloc[0]
    assert auto["p_method"] == "monte_carlo" and auto["n_resamples"] == 9999
    assert auto["p_mc_se"] == pytest.approx(np.sqrt(auto["p_value"] * (1 - auto["p_value"]) / 9999))
    assert abs(auto["p_value"] - exp["p_exact"]) < 4 * auto["p_mc_se"]


def test_compare_partners_reports_p_method_and_keeps_partners_of_three(case):
    e3, e2 = case("E03"), case("E02")
    scores = pd.concat(
        [
            _long(e3["data"]).assign(dimension="kw"),
            _long({"a": e2["data"]["tied"]["x"], "b": e2["data"]["tied"]["y"]}).assign(
                dimension="mw"
            ),
        ]
    )
    out = compare_partners(scores, min_n=2, p_adjust="none").set_index("dimension")
    assert out.loc["kw", "p_method"] == "exact" and out.loc["kw", "method"] == "exact"
    assert out.loc["kw", "p_value"] == pytest.approx(e3["expected"]["p_exact"], abs=1e-9)
    mw = out.loc["mw"]
    assert (mw["p_method"], mw["n_resamples"]) == ("exact", 35)
    p_two = min(1.0, 2 * min(e2["expected"]["tied_p_greater"], e2["expected"]["tied_p_less"]))
    assert mw["p_value"] == pytest.approx(p_two, abs=1e-9), _msg(e2, "two-sided")
    # The default min_n is the smallest k (3): a partner of 3 is compared, not dropped.
    default = compare_partners(scores[scores.dimension == "mw"]).iloc[0]
    assert default["groups"] == ("a", "b") and default["excluded"] == ()


def test_arrangement_sums_enumerate_every_split_once():
    sums = arrangement_sums([1.0, 2.0, 4.0, 8.0, 16.0], [2, 2, 1], exact=True)
    assert sums.shape == (n_arrangements([2, 2, 1]), 3) == (30, 3)
    # Powers of two: each split gives a distinct first-two-groups pattern.
    assert len({tuple(row) for row in sums}) == 30
    np.testing.assert_allclose(sums.sum(axis=1), 31.0)


# --------------------------------------------------------------------------- Wilcoxon


def test_e06_paired_wilcoxon_tied_exact_matches_coin(case):
    e = case("E06")
    d = np.array(e["data"]["differences"])
    greater = paired_wilcoxon(np.zeros_like(d), d, alternative="greater")
    less = paired_wilcoxon(np.zeros_like(d), d, alternative="less")
    assert greater.method == "permutation"  # tied: all 512 sign patterns enumerated
    assert greater.p_value == pytest.approx(e["expected"]["p_greater"], abs=1e-9), _msg(e, ">")
    assert less.p_value == pytest.approx(e["expected"]["p_less"], abs=1e-9), _msg(e, "<")


# --------------------------------------------------------------------------- perception gap


@pytest.mark.parametrize("which", ["three", "four"])
def test_e07_perception_gap_exact(case, which):
    e = case("E07")
    exp = e["expected"][which]
    limit = max(EXACT_MAX_ARRANGEMENTS, exp["arrangements"])
    row = perception_gaps(_long(e["data"][which]), min_n=2, max_arrangements=limit).iloc[0]
    assert bool(row["exact"]) and row["n_permutations"] == exp["arrangements"]
    assert row["p_method"] == "exact" and np.isnan(row["p_mc_se"])
    for key, column in (("gap", "gap"), ("p_exact", "p_value"), ("null_mean", "null_mean")):
        assert row[column] == pytest.approx(exp[key], abs=e["tolerance"]), _msg(e, key)


def test_perception_gap_keeps_partners_of_three_by_default(case):
    e = case("E07")
    row = perception_gaps(_long(e["data"]["four"])).iloc[0]  # four partners of 3 each
    assert row["n_groups"] == 4 and row["excluded"] == ()
    assert row["p_method"] == "monte_carlo" and row["p_mc_se"] > 0  # 369,600 > 100,000
    exp = e["expected"]["four"]["p_exact"]
    assert abs(row["p_value"] - exp) < 4 * np.sqrt(exp * (1 - exp) / 999) + 1e-3


# --------------------------------------------------------------------------- omega


@pytest.mark.parametrize("dataset", ["attitude", "c01"])
def test_e08_omega_matches_psych_minres(case, dataset):
    e = case("E08")
    table = e["data"]["attitude"] if dataset == "attitude" else case("C01")["data"]
    wide = pd.DataFrame(table["rows"], columns=table["columns"], dtype=float)
    exp, tol = e["expected"][dataset], e["tolerance"][dataset]
    res = mcdonald_omega(wide, n_resamples=0)
    assert list(res.loadings) == pytest.approx(exp["loadings"], abs=tol), _msg(e, "loadings")
    assert res.omega == pytest.approx(exp["omega"], abs=tol), _msg(e, "omega")
    assert not res.heywood and np.isnan(res.ci_low)


def test_omega_of_an_exact_one_factor_matrix_by_hand():
    # Data whose correlation matrix is exactly lambda lambda' off the diagonal: any
    # consistent one-factor fit recovers lambda = (.8, .7, .6, .5), and by hand
    # omega = 2.6^2 / (2.6^2 + (4 - 1.74)) = 6.76 / 9.02.
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    corr = np.outer(lam, lam)
    np.fill_diagonal(corr, 1.0)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((400, 4))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T)).T)  # cov exactly I
    x = z @ np.linalg.cholesky(corr).T
    res = mcdonald_omega(x, n_resamples=0)
    assert list(res.loadings) == pytest.approx(lam.tolist(), abs=1e-7)
    assert res.omega == pytest.approx(6.76 / 9.02, abs=1e-7)


def test_omega_bootstrap_interval_is_seeded_and_brackets_the_estimate(case):
    table = case("E08")["data"]["attitude"]
    wide = pd.DataFrame(table["rows"], columns=table["columns"], dtype=float)
    first = mcdonald_omega(wide, n_resamples=300, random_state=5)
    again = mcdonald_omega(wide, n_resamples=300, random_state=5)
    other = mcdonald_omega(wide, n_resamples=300, random_state=6)
    assert first == again and first.ci_low != other.ci_low
    assert first.ci_low < first.omega < first.ci_high <= 1.0
    with pytest.raises(ValueError, match="3 items"):
        mcdonald_omega(wide.iloc[:, :2])


def test_which_reliability_rule():
    assert which_reliability(0.70, 0.72, [0.6, 0.7, 0.6]) == ("either", "agree")
    assert which_reliability(0.60, 0.70, [0.9, 0.8, 0.2]) == ("omega", "unequal_loadings")
    assert which_reliability(0.75, 0.68, [0.5, 0.5, 0.5]) == ("neither", "poor_one_factor_fit")
    assert which_reliability(0.59, 0.69, [0.7, -0.1, 0.5]) == ("neither", "negative_loading")
    assert which_reliability(0.8, 0.85, [0.9, 0.9, 0.9], heywood=True)[0] == "neither"
    assert which_reliability(0.6, np.nan) == ("alpha", "omega_not_estimable")


def test_reliability_by_dimension_adds_omega_and_trust(case):
    c = case("C01")
    wide = pd.DataFrame(c["data"]["rows"], columns=c["data"]["columns"], dtype=float)
    answers = pd.DataFrame(
        [
            (f"r{i}", 1, "A", item, float(v))
            for i, row in enumerate(wide.itertuples(index=False))
            for item, v in zip(wide.columns, row, strict=True)
        ],
        columns=["response_id", "round_id", "partner_id", "item_id", "value"],
    )
    items = pd.DataFrame(
        {
            "item_id": list(wide.columns),
            "dimension": ["all"] * 8 + ["pair"] * 2,
            "reverse": False,
            "scale_min": 1,
            "scale_max": 7,
        }
    )
    out = reliability_by_dimension(answers, items, omega_resamples=200).set_index("dimension")
    full = mcdonald_omega(wide.iloc[:, :8], n_resamples=200)
    assert out.loc["all", "omega"] == pytest.approx(full.omega)
    assert out.loc["all", "omega_ci_low"] < full.omega < out.loc["all", "omega_ci_high"]
    assert out.loc["all", "trust"] == "neither"  # Q5 and Q6 load negatively
    assert out.loc["pair", "omega_reason"] == "fewer_than_3_items"
    assert (out.loc["pair", "trust"], out.loc["pair", "trust_reason"]) == (
        "alpha",
        "omega_not_estimable",
    )
