"""Tests for analysis.compare: Kruskal-Wallis, Dunn, Mann-Whitney and compare_partners.

Expected numbers come from the reference cases (``case`` fixture, conftest) with their
published source in the assertion message, or from brute-force enumeration written here
independently of the implementation.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from analysis.compare import (
    compare_partners,
    compare_partners_posthoc,
    dunn,
    kruskal_wallis,
    mann_whitney,
)


def _long(groups: dict[str, list[float]], value: str = "score", group: str = "partner_id"):
    """Long frame from {label: values}."""
    return pd.DataFrame(
        [(label, v) for label, values in groups.items() for v in values], columns=[group, value]
    )


def _msg(case: dict, key: str) -> str:
    return f"{case['id']} {key}: {case['source']}"


# --------------------------------------------------------------------------- Kruskal-Wallis


@pytest.mark.parametrize("example", ["example_1", "example_2_ties"])
def test_kruskal_wallis_c09_scipy_examples(case, tolerance, example):
    c09 = case("C09")
    data = _long(c09["data"][example])
    out = kruskal_wallis(data, "score", "partner_id", method="asymptotic").iloc[0]
    expected = c09["expected"][example]
    tol = tolerance(c09, example)
    assert out["h"] == pytest.approx(expected["H"], abs=tol), _msg(c09, f"{example} H")
    assert out["p_value"] == pytest.approx(expected["p"], abs=tol), _msg(c09, f"{example} p")
    assert out["df"] == len(c09["data"][example]) - 1


@pytest.mark.parametrize("case_id", ["C10", "C11"])
def test_kruskal_wallis_h_p_epsilon_squared(case, tolerance, case_id):
    ref = case(case_id)
    out = kruskal_wallis(_long(ref["data"]), "score", "partner_id", method="asymptotic").iloc[0]
    assert out["p_method"] == "asymptotic" and out["n_resamples"] == 0
    for key, column in [("H", "h"), ("p", "p_value"), ("epsilon_squared", "epsilon_squared")]:
        expected = ref["expected"][key]
        assert out[column] == pytest.approx(expected, abs=tolerance(ref, key)), _msg(ref, key)
    assert out["n"] == sum(len(v) for v in ref["data"].values())
    assert out["k"] == len(ref["data"])


def test_kruskal_wallis_identical_values_give_nan_without_warning():
    data = _long({"a": [3, 3, 3], "b": [3, 3]})
    with np.errstate(all="raise"):
        out = kruskal_wallis(data, "score", "partner_id").iloc[0]
    assert np.isnan(out["h"]) and np.isnan(out["p_value"])


def test_kruskal_wallis_drops_missing_values_and_needs_two_groups():
    data = _long({"a": [1, 2, np.nan], "b": [3, 4, 5]})
    assert kruskal_wallis(data, "score", "partner_id").iloc[0]["n"] == 5
    with pytest.raises(ValueError, match="at least two groups"):
        kruskal_wallis(_long({"a": [1, 2, 3]}), "score", "partner_id")


# --------------------------------------------------------------------------- Dunn


def _pair(table: pd.DataFrame, a: str, b: str) -> pd.Series:
    hit = table[
        ((table.group_a == a) & (table.group_b == b))
        | ((table.group_a == b) & (table.group_b == a))
    ]
    assert len(hit) == 1
    return hit.iloc[0]


def test_dunn_holm_matches_rstatix_c11(case, tolerance):
    c11 = case("C11")
    table = dunn(_long(c11["data"]), "score", "partner_id", p_adjust="holm")
    assert len(table) == 6
    for label, expected in c11["expected"]["dunn"].items():
        a, b = label.split(" vs ")
        row = _pair(table, a, b)
        tol = tolerance(c11, "dunn")
        if "abs_z" in expected:
            assert abs(row["z"]) == pytest.approx(expected["abs_z"], abs=tol), _msg(c11, label)
            assert row["p_value"] == pytest.approx(expected["p_raw"], abs=tol), _msg(c11, label)
        assert row["p_adjusted"] == pytest.approx(expected["p_holm"], abs=tol), _msg(c11, label)


def test_dunn_z_sign_follows_group_a_and_counts_are_reported():
    table = dunn(_long({"low": [1, 2, 2], "high": [4, 5, 5]}), "score", "partner_id")
    row = table.iloc[0]
    higher_first = row["group_a"] == "high"
    assert (row["z"] > 0) == higher_first
    assert (row["n_a"], row["n_b"]) == (3, 3)
    assert row["mean_rank_a"] + row["mean_rank_b"] == pytest.approx(7.0)  # ranks 1..6


def test_dunn_p_adjust_none_leaves_p_values():
    table = dunn(
        _long({"a": [1, 2, 3], "b": [2, 3, 4], "c": [6, 7, 8]}),
        "score",
        "partner_id",
        p_adjust="none",
    )
    np.testing.assert_allclose(table["p_adjusted"], table["p_value"])


# --------------------------------------------------------------------------- Mann-Whitney


def test_mann_whitney_c13_exact_and_asymptotic(case, tolerance):
    c13 = case("C13")
    x, y = c13["data"]["males"], c13["data"]["females"]
    exp = c13["expected"]
    exact = mann_whitney(x, y, method="exact")
    auto = mann_whitney(x, y)
    cc = mann_whitney(x, y, method="asymptotic", use_continuity=True)
    no_cc = mann_whitney(x, y, method="asymptotic", use_continuity=False)
    assert exact.u == pytest.approx(exp["U"], abs=tolerance(c13, "U")), _msg(c13, "U")
    assert exact.p_value == pytest.approx(exp["p_exact"], abs=1e-6), _msg(c13, "p_exact")
    assert auto.method == "exact" and auto.p_value == pytest.approx(exp["p_exact"], abs=1e-6)
    assert cc.p_value == pytest.approx(exp["p_asymptotic_cc"], abs=1e-6), _msg(c13, "cc")
    assert no_cc.p_value == pytest.approx(exp["p_asymptotic_no_cc"], abs=1e-6), _msg(c13, "no")
    assert exact.rank_biserial == pytest.approx(exp["rank_biserial"], abs=1e-6), _msg(c13, "r")


def test_mann_whitney_c14_exact_one_and_two_sided(case):
    c14 = case("C14")
    x, y = c14["data"]["x"], c14["data"]["y"]
    exp = c14["expected"]
    greater = mann_whitney(x, y, alternative="greater", method="exact")
    two = mann_whitney(x, y, alternative="two-sided", method="exact")
    assert greater.u == pytest.approx(exp["U"], abs=1e-6), _msg(c14, "U (R's W)")
    assert greater.p_value == pytest.approx(exp["p_exact_greater"], abs=1e-6), _msg(c14, "p>")
    assert two.p_value == pytest.approx(exp["p_exact_two_sided"], abs=1e-6), _msg(c14, "p")
    assert two.rank_biserial == pytest.approx(exp["rank_biserial"], abs=1e-6), _msg(c14, "r")


def test_mann_whitney_c23_pingouin_rbc_and_cles(case):
    c23 = case("C23")
    res = mann_whitney(c23["data"]["x"], c23["data"]["y"], method="asymptotic")
    exp = c23["expected"]
    assert res.u == pytest.approx(exp["U"], abs=1e-6), _msg(c23, "U")
    assert res.p_value == pytest.approx(exp["p"], abs=1e-6), _msg(c23, "p")
    # pingouin >= 0.5's RBC is 2U/(n1 n2) - 1: negative because x tends to be smaller.
    assert res.rank_biserial == pytest.approx(exp["rank_biserial"], abs=1e-6), _msg(c23, "RBC")
    assert res.cles == pytest.approx(exp["cles"], abs=1e-6), _msg(c23, "CLES")


def test_rank_biserial_sign_convention_is_antisymmetric_and_matches_pair_counts():
    x, y = [3, 4, 4, 5, 2], [1, 2, 3, 3]
    forward, backward = mann_whitney(x, y), mann_whitney(y, x)
    assert forward.rank_biserial == pytest.approx(-backward.rank_biserial)
    assert forward.u + backward.u == pytest.approx(len(x) * len(y))
    wins = sum((a > b) - (a < b) for a in x for b in y) / (len(x) * len(y))
    assert forward.rank_biserial == pytest.approx(wins)  # P(X > Y) - P(X < Y), by hand
    assert forward.cles == pytest.approx((forward.rank_biserial + 1) / 2)


def _brute_force_mwu_p(x: list[float], y: list[float]) -> float:
    """Two-sided exact conditional p by enumerating every split (scipy's doubling rule)."""
    pooled = x + y

    def u_of(first: list[float], second: list[float]) -> float:
        return sum((a > b) + 0.5 * (a == b) for a in first for b in second)

    observed = u_of(x, y)
    us = []
    for chosen in itertools.combinations(range(len(pooled)), len(x)):
        rest = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        us.append(u_of([pooled[i] for i in chosen], rest))
    us = np.array(us)
    return min(1.0, 2 * min(np.mean(us >= observed), np.mean(us <= observed)))


def test_mann_whitney_permutation_is_the_exact_conditional_test_on_ties():
    x, y = [4, 4, 5, 3, 5, 4], [2, 3, 3, 4, 2]
    res = mann_whitney(x, y, method="permutation")
    assert res.method == "permutation"
    assert res.p_value == pytest.approx(_brute_force_mwu_p(x, y), abs=1e-12)


def test_mann_whitney_auto_uses_the_permutation_test_on_ties_and_exact_refuses_them():
    res = mann_whitney([1, 2, 2, 3], [3, 4, 5])
    assert (res.method, res.p_method, res.n_resamples) == ("permutation", "exact", 35)
    assert res.p_value == pytest.approx(_brute_force_mwu_p([1, 2, 2, 3], [3, 4, 5]), abs=1e-12)
    big = mann_whitney(np.arange(31) % 5, np.arange(31) % 4)  # every group above 30: normal
    assert (big.method, big.p_method, big.n_resamples) == ("asymptotic", "asymptotic", 0)
    with pytest.raises(ValueError, match="no tied values"):
        mann_whitney([1, 2, 2, 3], [3, 4, 5], method="exact")


def test_mann_whitney_validates_input():
    with pytest.raises(ValueError, match="at least one"):
        mann_whitney([np.nan], [1, 2])
    with pytest.raises(ValueError, match="alternative"):
        mann_whitney([1, 2], [3, 4], alternative="bigger")
    with pytest.raises(ValueError, match="method"):
        mann_whitney([1, 2], [3, 4], method="bootstrap")
    with pytest.raises(TypeError):
        mann_whitney(["a", "b"], [1, 2])


def test_mann_whitney_to_dict_is_json_ready():
    data = mann_whitney([1, 2, 3], [4, 5, 6]).to_dict()
    assert json.loads(json.dumps(data))["u"] == 0.0
    assert data["method"] == "exact"


# --------------------------------------------------------------------------- compare_partners


def _two_dimension_scores(case) -> pd.DataFrame:
    c10, c11 = case("C10"), case("C11")
    return pd.concat(
        [
            _long(c10["data"]).assign(dimension="ownership"),
            _long(c11["data"]).assign(dimension="equality"),
        ],
        ignore_index=True,
    )


def test_compare_partners_kruskal_rows_and_holm_across_dimensions(case):
    c10, c11 = case("C10"), case("C11")
    scores = _two_dimension_scores(case)
    out = compare_partners(scores, min_n=4, method="asymptotic").set_index("dimension")
    eq, own = out.loc["equality"], out.loc["ownership"]
    assert eq["test"] == "kruskal_wallis" and eq["effect_size_name"] == "epsilon_squared"
    assert eq["statistic"] == pytest.approx(c11["expected"]["H"], abs=1e-6), _msg(c11, "H")
    assert eq["effect_size"] == pytest.approx(c11["expected"]["epsilon_squared"], abs=1e-6)
    assert own["p_value"] == pytest.approx(c10["expected"]["p"], abs=1e-6), _msg(c10, "p")
    # Holm over the two published p-values: min(1, 2 * 0.014172) and max(that, 0.679965).
    assert eq["p_adjusted"] == pytest.approx(2 * c11["expected"]["p"], abs=2e-6)
    assert own["p_adjusted"] == pytest.approx(c10["expected"]["p"], abs=1e-6)
    assert (eq["n"], eq["n_groups"], eq["df"]) == (19, 4, 3.0)


def test_compare_partners_bh_option(case):
    scores = _two_dimension_scores(case)
    out = compare_partners(scores, min_n=4, p_adjust="bh", method="asymptotic")
    c10, c11 = case("C10"), case("C11")
    eq = out.set_index("dimension").loc["equality"]
    # BH with m = 2: the smaller p is multiplied by 2/1, capped by the larger p.
    assert eq["p_adjusted"] == pytest.approx(
        min(2 * c11["expected"]["p"], c10["expected"]["p"]), abs=2e-6
    )


def test_compare_partners_two_groups_use_mann_whitney(case):
    c13 = case("C13")
    scores = _long({"a_males": c13["data"]["males"], "b_females": c13["data"]["females"]})
    row = compare_partners(scores.assign(dimension="d"), min_n=4).iloc[0]
    assert row["test"] == "mann_whitney" and row["groups"] == ("a_males", "b_females")
    assert row["statistic"] == pytest.approx(c13["expected"]["U"]), _msg(c13, "U")
    assert row["p_value"] == pytest.approx(c13["expected"]["p_exact"], abs=1e-6)
    assert row["effect_size"] == pytest.approx(c13["expected"]["rank_biserial"], abs=1e-6)
    assert row["effect_size_name"] == "rank_biserial" and np.isnan(row["df"])


def test_compare_partners_excludes_small_groups_first(case):
    c11 = case("C11")
    data = dict(c11["data"])
    data["Tiny"] = [99, 98]  # would dominate the ranks if it were tested
    row = compare_partners(_long(data).assign(dimension="d"), min_n=4).iloc[0]
    assert row["excluded"] == ("Tiny",)
    assert row["statistic"] == pytest.approx(c11["expected"]["H"], abs=1e-6)


def test_compare_partners_untestable_cells_get_reason_and_nan():
    scores = pd.DataFrame(
        {
            "dimension": ["a"] * 6 + ["b"] * 10,
            "partner_id": ["p"] * 6 + ["p"] * 5 + ["q"] * 5,
            "score": [1, 2, 3, 4, 5, 5] + [3] * 10,
        }
    )
    out = compare_partners(scores).set_index("dimension")
    assert "fewer than two groups" in out.loc["a", "reason"]
    assert out.loc["b", "reason"] == "all values are identical"
    assert out[["p_value", "p_adjusted", "statistic"]].isna().all().all()
    assert out.loc["a", "test"] is None


def test_compare_partners_relabelling_and_row_order_change_nothing(case):
    scores = _two_dimension_scores(case)
    base = compare_partners(scores, min_n=4)
    renamed = scores.assign(partner_id=scores["partner_id"].map(lambda s: "zz" + s[::-1]))
    shuffled = renamed.sample(frac=1.0, random_state=3)
    other = compare_partners(shuffled, min_n=4)
    cols = ["statistic", "p_value", "effect_size", "p_adjusted", "n"]
    pd.testing.assert_frame_equal(base[cols], other[cols])


def test_compare_partners_family_adjusts_within_rounds(case):
    scores = _two_dimension_scores(case)
    both = pd.concat([scores.assign(round_id=1), scores.assign(round_id=2)], ignore_index=True)
    out = compare_partners(both, by=["round_id", "dimension"], min_n=4, family="round_id")
    single = compare_partners(scores, min_n=4)
    np.testing.assert_allclose(out["p_adjusted"][:2], single["p_adjusted"])
    with pytest.raises(ValueError, match="among the by columns"):
        compare_partners(both, by=["round_id", "dimension"], family="partner_id")


def test_compare_partners_does_not_mutate_input(case):
    scores = _two_dimension_scores(case)
    scores.loc[0, "score"] = np.nan
    before = scores.copy()
    compare_partners(scores, min_n=4)
    pd.testing.assert_frame_equal(scores, before)


def test_compare_partners_validates_input():
    scores = pd.DataFrame({"dimension": ["a"], "partner_id": ["p"], "score": [1.0]})
    with pytest.raises(ValueError, match="missing column"):
        compare_partners(scores.drop(columns="dimension"))
    with pytest.raises(TypeError, match="numeric"):
        compare_partners(scores.assign(score="4"))
    with pytest.raises(ValueError, match="min_n"):
        compare_partners(scores, min_n=0)
    with pytest.raises(TypeError):
        compare_partners(scores.to_dict())
    with pytest.raises(ValueError):
        compare_partners(scores, p_adjust="bonferroni-ish")


def test_posthoc_matches_dunn_reference_within_each_dimension(case):
    c11 = case("C11")
    table = compare_partners_posthoc(_two_dimension_scores(case), min_n=4)
    eq = table[table.dimension == "equality"]
    assert len(eq) == 6 and len(table) == 6 + 3
    row = _pair(eq, "Light Blond", "Dark Brunette")
    expected = c11["expected"]["dunn"]["Light Blond vs Dark Brunette"]
    assert row["p_adjusted"] == pytest.approx(expected["p_holm"], abs=1e-6), _msg(c11, "Dunn")


def test_posthoc_respects_min_n_and_returns_empty_frame():
    scores = pd.DataFrame(
        {"dimension": "d", "partner_id": list("aaabbc"), "score": [1, 2, 3, 4, 5, 6]}
    )
    assert compare_partners_posthoc(scores, min_n=3).empty
    assert len(compare_partners_posthoc(scores, min_n=2)) == 1
