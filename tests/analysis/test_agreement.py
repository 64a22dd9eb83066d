"""Tests for analysis.agreement: r_wg, r_wg(J), r*_wg(J), ICCs and agreement_by_partner.

Reference values: cases V01, V02 (by hand; R multilevel) and C05 (pingouin / R psych::ICC),
via the ``case`` fixture; one-way ANOVA F values are checked against scipy.stats.f_oneway,
an implementation the module does not use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.agreement import (
    agreement_by_partner,
    group_icc,
    icc,
    rwg,
    rwg_j,
    rwg_j_lindell,
    uniform_null_variance,
)


def _msg(case: dict, key: str) -> str:
    return f"{case['id']} {key}: {case['source']}"


# --------------------------------------------------------------------------- r_wg


def test_rwg_v01(case, tolerance):
    v01 = case("V01")
    a = v01["parameters"]["A"]
    exp = v01["expected"]
    assert uniform_null_variance(a) == pytest.approx(exp["sigma2_eu"], abs=1e-12)
    assert rwg(v01["data"]["group"], a) == pytest.approx(exp["rwg"], abs=tolerance(v01, "rwg")), (
        _msg(v01, "r_wg")
    )
    assert rwg(v01["data"]["disagreeing_group"], a) == pytest.approx(
        exp["rwg_disagreeing_group"], abs=tolerance(v01, "rwg")
    ), _msg(v01, "truncated r_wg")


def test_rwg_j_and_lindell_v02(case, tolerance):
    v02 = case("V02")
    wide = pd.DataFrame(v02["data"]["rows"], columns=v02["data"]["columns"])
    a = v02["parameters"]["A"]
    exp = v02["expected"]
    assert rwg_j(wide, a) == pytest.approx(exp["rwg_j"], abs=tolerance(v02, "rwg_j")), _msg(
        v02, "r_wg(J)"
    )
    assert rwg_j_lindell(wide, a) == pytest.approx(
        exp["rwg_j_lindell"], abs=tolerance(v02, "rwg_j_lindell")
    ), _msg(v02, "r*_wg(J)")
    np.testing.assert_allclose(wide.var(ddof=1), exp["item_variances"], atol=1e-12)


def test_rwg_options_and_edge_cases():
    assert rwg([4, 4, 5, 3, 4], 5, null_variance=1.0) == pytest.approx(0.5)  # 1 - 0.5/1
    assert rwg([4, np.nan, 4, 5, 3, 4], 5) == pytest.approx(0.75)
    assert np.isnan(rwg([4], 5))
    assert rwg([3, 3, 3], 7) == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        rwg([1, 2], 1)
    with pytest.raises(TypeError):
        rwg([1, 2], True)
    with pytest.raises(ValueError, match="positive"):
        rwg([1, 2], 5, null_variance=0)


def test_rwg_j_out_of_range_rule_and_lindell_sign():
    # Mean item variance 2.4 > 2 (q = 1.2 < J/(J-1) = 1.5): the formula is negative -> 0.
    moderate = [[1, 2], [3, 5], [5, 3], [2, 1], [4, 4]]
    q = np.mean(np.var(np.array(moderate, float), axis=0, ddof=1)) / 2
    assert 1 < q < 1.5
    assert rwg_j(moderate, 5) == 0.0
    # q above J/(J-1): the formula gives a value above 1; still 0.
    polar = [[1, 1, 1], [5, 5, 5], [1, 1, 1], [5, 5, 5]]
    assert rwg_j(polar, 5) == 0.0
    assert rwg_j_lindell(polar, 5) == pytest.approx(1 - (16 / 3) / 2)  # negative, untruncated
    # Spearman-Brown growth: same q, more items, higher r_wg(J); Lindell's index unchanged.
    three = [[4, 4, 5], [4, 5, 4], [5, 4, 4], [3, 4, 4], [4, 3, 4]]
    six = [row + row for row in three]
    assert rwg_j(six, 5) > rwg_j(three, 5)
    assert rwg_j_lindell(six, 5) == pytest.approx(rwg_j_lindell(three, 5))


def test_rwg_j_missing_values_listwise_and_pairwise():
    wide = [[4, 4, 5], [4, 5, 4], [5, 4, np.nan], [3, 4, 4], [4, 3, 4]]
    complete = [row for row in wide if not np.isnan(row).any()]
    assert rwg_j(wide, 5) == pytest.approx(rwg_j(complete, 5))
    pairwise = rwg_j(wide, 5, nan_policy="pairwise")
    variances = np.nanvar(np.array(wide, float), axis=0, ddof=1)
    q = variances.mean() / 2
    assert pairwise == pytest.approx(3 * (1 - q) / (3 * (1 - q) + q))
    assert np.isnan(rwg_j([[1, np.nan], [np.nan, 2]], 5))
    with pytest.raises(ValueError, match="two-dimensional"):
        rwg_j([1, 2, 3], 5)
    with pytest.raises(ValueError, match="nan_policy"):
        rwg_j(wide, 5, nan_policy="omit")


# --------------------------------------------------------------------------- ICC


def _wine_long(case) -> tuple[dict, pd.DataFrame]:
    c05 = case("C05")
    wide = pd.DataFrame(c05["data"]["rows"], columns=c05["data"]["columns"])
    long = wide.reset_index().melt(id_vars="index", var_name="judge", value_name="score")
    return c05, long.rename(columns={"index": "wine"})


def test_icc_six_forms_c05(case):
    c05, long = _wine_long(case)
    out = icc(long, "wine", "judge", "score").set_index("type")
    tol = c05["tolerance"]
    for name, expected in c05["expected"]["icc"].items():
        assert out.loc[name, "icc"] == pytest.approx(expected, abs=tol["icc"]), _msg(c05, name)
    assert out.loc["ICC1", "f"] == pytest.approx(
        c05["expected"]["F_oneway"], abs=tol["F_oneway"]
    ), _msg(c05, "F one-way")
    assert out.loc["ICC3", "f"] == pytest.approx(
        c05["expected"]["F_twoway"], abs=tol["F_twoway"]
    ), _msg(c05, "F two-way")
    ci = (out.loc["ICC2", "ci_low"], out.loc["ICC2", "ci_high"])
    assert ci == pytest.approx(c05["expected"]["ICC2_ci95"], abs=tol["ICC2_ci95"]), _msg(
        c05, "ICC(A,1) 95% CI"
    )
    assert (out["n"].iloc[0], out["k"].iloc[0]) == (8, 4)
    assert (out.loc["ICC1", "df1"], out.loc["ICC1", "df2"]) == (7, 24)
    assert (out.loc["ICC3", "df1"], out.loc["ICC3", "df2"]) == (7, 21)
    assert (out["ci_low"] < out["icc"]).all() and (out["icc"] < out["ci_high"]).all()


def test_icc_drops_incomplete_targets_and_refuses_duplicates(case):
    _, long = _wine_long(case)
    extra = pd.DataFrame({"wine": [99, 99], "judge": ["A", "B"], "score": [5.0, 6.0]})
    with_partial = pd.concat([long, extra], ignore_index=True)
    pd.testing.assert_frame_equal(
        icc(with_partial, "wine", "judge", "score"), icc(long, "wine", "judge", "score")
    )
    with pytest.raises(ValueError, match="rated once"):
        icc(pd.concat([long, long.head(1)]), "wine", "judge", "score")
    with pytest.raises(ValueError, match="confidence"):
        icc(long, "wine", "judge", "score", confidence=95)


def test_group_icc_balanced_equals_shrout_fleiss_one_way(case):
    c05, long = _wine_long(case)
    row = group_icc(long, value="score", group="wine", by=None).iloc[0]
    assert row["icc1"] == pytest.approx(c05["expected"]["icc"]["ICC1"], abs=1e-6), _msg(
        c05, "ICC1 = Bliese ICC(1) for equal groups"
    )
    assert row["icc2"] == pytest.approx(c05["expected"]["icc"]["ICC1k"], abs=1e-6), _msg(
        c05, "ICC1k = Bliese ICC(2)"
    )
    assert row["f"] == pytest.approx(c05["expected"]["F_oneway"], abs=1e-5)
    assert row["group_size"] == 4.0


def test_group_icc_unbalanced_against_scipy_f_oneway():
    groups = {"a": [3, 4, 4, 5, 4], "b": [2, 2, 3, 1, 2, 3, 2], "c": [4, 5, 5], "d": [3, 3, 4, 2]}
    scores = pd.DataFrame(
        [(g, v) for g, vs in groups.items() for v in vs], columns=["partner_id", "score"]
    ).assign(dimension="equality")
    reference = stats.f_oneway(*groups.values())
    mean_k = group_icc(scores).iloc[0]
    n0_k = group_icc(scores, group_size="n0").iloc[0]
    assert mean_k["f"] == pytest.approx(reference.statistic)
    assert mean_k["p_value"] == pytest.approx(reference.pvalue)
    sizes = np.array([5, 7, 3, 4])
    n = sizes.sum()
    assert mean_k["group_size"] == pytest.approx(n / 4)  # multilevel::ICC1
    assert n0_k["group_size"] == pytest.approx((n - np.sum(sizes**2) / n) / 3)
    f = reference.statistic
    for row in (mean_k, n0_k):
        # ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW) = (F - 1) / (F + k - 1)
        assert row["icc1"] == pytest.approx((f - 1) / (f + row["group_size"] - 1))
    assert mean_k["icc2"] == pytest.approx(1 - 1 / f)
    assert (mean_k["df1"], mean_k["df2"]) == (3, n - 4)


def test_group_icc_degenerate_cells():
    scores = pd.DataFrame(
        {
            "dimension": ["x"] * 4 + ["y"] * 4,
            "partner_id": list("aabbaaaa"),
            "score": [3, 3, 3, 3, 1, 2, 3, 4],
        }
    )
    out = group_icc(scores).set_index("dimension")
    assert out.loc["x", "reason"] == "all values are identical"
    assert "two or more groups" in out.loc["y", "reason"]
    with pytest.raises(ValueError, match="group_size"):
        group_icc(scores, group_size="harmonic")


# --------------------------------------------------------------------------- per partner


ITEMS = pd.DataFrame(
    {
        "item_id": ["t1", "t2", "t3", "e1", "e2"],
        "dimension": ["transparency"] * 3 + ["equality"] * 2,
        "reverse": [False, False, False, False, True],
        "scale_min": 1,
        "scale_max": 5,
    }
)


def _answers(partner: str, rows: list[list[float]], items: list[str], round_id: int = 1):
    return pd.DataFrame(
        [
            {
                "response_id": f"{partner}-{round_id}-{i}",
                "round_id": round_id,
                "partner_id": partner,
                "item_id": item,
                "value": float(v),
            }
            for i, row in enumerate(rows)
            for item, v in zip(items, row, strict=True)
        ]
    )


def test_agreement_by_partner_reproduces_v02(case):
    v02 = case("V02")
    answers = _answers("ngo", v02["data"]["rows"], ["t1", "t2", "t3"])
    row = agreement_by_partner(answers, ITEMS).iloc[0]
    exp = v02["expected"]
    assert row["mean_item_variance"] == pytest.approx(exp["mean_item_variance"], abs=1e-6)
    assert row["rwg_j"] == pytest.approx(exp["rwg_j"], abs=1e-6), _msg(v02, "r_wg(J)")
    assert row["rwg_j_lindell"] == pytest.approx(exp["rwg_j_lindell"], abs=1e-6)
    assert (row["n"], row["n_items"], row["scale_points"]) == (5, 3, 5)
    assert row["split"] is False or row["split"] == False  # noqa: E712 (pandas boolean)


def test_split_flag_low_agreement_bimodal_and_consensus():
    t = ["t1", "t2", "t3"]
    answers = pd.concat(
        [
            _answers(
                "polar", [[1, 1, 2], [5, 5, 4], [1, 2, 1], [5, 4, 5], [1, 1, 1], [5, 5, 5]], t
            ),
            # Half answer 2, half 4: item variance 1.2 < 2, r_wg(J) = 0.71, but clearly split.
            _answers("bimodal", [[2, 2, 2]] * 3 + [[4, 4, 4]] * 3, t),
            _answers("consensus", [[4, 4, 5], [4, 5, 4], [5, 4, 4], [3, 4, 4], [4, 3, 4]], t),
            # Unimodal around the midpoint: some below 3, some above, nobody clearly leaning.
            _answers(
                "neutral", [[3, 3, 2], [3, 3, 4], [2, 3, 3], [4, 3, 3], [3, 2, 3], [3, 4, 3]], t
            ),
        ],
        ignore_index=True,
    )
    out = agreement_by_partner(answers, ITEMS).set_index("partner_id")
    assert out.loc["polar", "rwg_j"] == 0.0 and bool(out.loc["polar", "split"])
    q = 1.2 / 2
    assert out.loc["bimodal", "rwg_j"] == pytest.approx(3 * (1 - q) / (3 * (1 - q) + q))
    assert out.loc["bimodal", "rwg_j"] > 0.5
    assert (out.loc["bimodal", "share_low"], out.loc["bimodal", "share_high"]) == (0.5, 0.5)
    assert bool(out.loc["bimodal", "split"])
    assert not bool(out.loc["consensus", "split"])
    assert out.loc["consensus", "share_low"] == 0.0
    assert (out.loc["neutral", "share_low"], out.loc["neutral", "share_high"]) == (0.0, 0.0)
    assert out.loc["neutral", "rwg_j"] > 0.5 and not bool(out.loc["neutral", "split"])


def test_split_thresholds_are_parameters():
    answers = _answers("bimodal", [[2, 2, 2]] * 3 + [[4, 4, 4]] * 3, ["t1", "t2", "t3"])
    strict = agreement_by_partner(answers, ITEMS, split_share=0.6).iloc[0]
    assert not bool(strict["split"])
    loose = agreement_by_partner(answers, ITEMS, split_share=0.6, split_below=0.9).iloc[0]
    assert bool(loose["split"])


def test_shares_use_reverse_coded_answers():
    # e2 is reversed: answering 2 on it is favourable, like answering 4 on e1.
    answers = _answers("p", [[4, 2]] * 5, ["e1", "e2"])
    row = agreement_by_partner(answers, ITEMS).iloc[0]
    assert (row["share_high"], row["share_low"]) == (1.0, 0.0)
    assert row["rwg_j"] == 1.0


def test_small_partners_rounds_and_dont_know():
    t = ["t1", "t2", "t3"]
    answers = pd.concat(
        [
            _answers("p", [[4, 4, 5], [4, 5, 4], [5, 4, 4], [3, 4, 4], [4, 3, 4]], t, round_id=1),
            _answers("p", [[4, 4, 5], [4, 5, 4], [5, 4, 4]], t, round_id=2),
        ],
        ignore_index=True,
    )
    answers["dont_know"] = False
    out = agreement_by_partner(answers, ITEMS).set_index("round_id")
    assert out.loc[2, "reason"] == "fewer than 5 respondents"
    assert pd.isna(out.loc[2, "split"]) and np.isnan(out.loc[2, "rwg_j"])
    assert out.loc[1, "reason"] is None
    # A "don't know" flagged answer is missing even if a number slipped into value.
    flagged = answers.copy()
    flagged.loc[0, ["value", "dont_know"]] = [1.0, True]
    first = agreement_by_partner(flagged, ITEMS, min_n=3).set_index("round_id").loc[1]
    assert first["n"] == 5 and first["mean_item_variance"] != out.loc[1, "mean_item_variance"]


def test_listwise_keeps_only_complete_respondents():
    rows = [[4, 4, 5], [4, 5, 4], [5, 4, 4], [3, 4, 4], [4, 3, 4], [1, np.nan, 1]]
    answers = _answers("p", rows, ["t1", "t2", "t3"]).dropna(subset=["value"])
    pairwise = agreement_by_partner(answers, ITEMS).iloc[0]
    listwise = agreement_by_partner(answers, ITEMS, nan_policy="listwise").iloc[0]
    assert (pairwise["n"], listwise["n"]) == (6, 5)
    assert listwise["rwg_j"] == pytest.approx(12 / 13)


def test_agreement_by_partner_validates_and_does_not_mutate():
    answers = _answers("p", [[4, 4, 5], [4, 5, 4]], ["t1", "t2", "t3"])
    before, items_before = answers.copy(), ITEMS.copy()
    agreement_by_partner(answers, ITEMS, min_n=2)
    pd.testing.assert_frame_equal(answers, before)
    pd.testing.assert_frame_equal(ITEMS, items_before)
    with pytest.raises(ValueError, match="outside the scale"):
        agreement_by_partner(answers.assign(value=0.0), ITEMS)
    with pytest.raises(ValueError, match="missing from items"):
        agreement_by_partner(answers.assign(item_id="zz"), ITEMS)
    mixed = ITEMS.assign(scale_max=[5, 7, 5, 5, 5])
    with pytest.raises(ValueError, match="share one scale"):
        agreement_by_partner(answers, mixed)
    with pytest.raises(ValueError, match="more than one row"):
        agreement_by_partner(pd.concat([answers, answers.head(1)]), ITEMS)
    with pytest.raises(ValueError, match="missing column"):
        agreement_by_partner(answers.drop(columns="round_id"), ITEMS)
    with pytest.raises(ValueError, match="split_share"):
        agreement_by_partner(answers, ITEMS, split_share=1.5)
