"""Tests for analysis.describe: group summaries and the BCa bootstrap interval of the mean."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.describe import BootstrapResult, bootstrap_mean_ci, describe

COLUMNS = ["n", "mean", "sd", "median", "share_favourable", "ci_low", "ci_high", "ci_method"]


# --------------------------------------------------------------------------- reference C21


def test_c21_mouse_data_bca_and_percentile(case, tolerance):
    c = case("C21")
    x = c["data"]["x"]
    exp = c["expected"]
    b = c["parameters"]["n_resamples"]
    bca = bootstrap_mean_ci(x, n_resamples=b, random_state=2024)
    pct = bootstrap_mean_ci(x, n_resamples=b, random_state=2024, method="percentile")
    msg = f"C21 ({c['source']})"
    assert bca.ci_method == "bca" and pct.ci_method == "percentile"
    assert bca.mean == pytest.approx(exp["mean"], abs=tolerance(c, "mean")), msg
    assert [bca.ci_low, bca.ci_high] == pytest.approx(
        exp["bca_ci95"], abs=tolerance(c, "bca_ci95")
    ), msg
    assert [pct.ci_low, pct.ci_high] == pytest.approx(
        exp["percentile_ci95"], abs=tolerance(c, "percentile_ci95")
    ), msg
    assert bca.bootstrap_se == pytest.approx(
        exp["bootstrap_se"], abs=tolerance(c, "bootstrap_se")
    ), msg


def test_c21_through_describe(case, tolerance):
    c = case("C21")
    x = c["data"]["x"]
    out = describe(pd.DataFrame({"score": x}), by=None, n_resamples=100_000)
    row = out.iloc[0]
    msg = f"C21 ({c['source']})"
    assert row["n"] == len(x)
    assert row["mean"] == pytest.approx(c["expected"]["mean"], abs=tolerance(c, "mean")), msg
    assert row["sd"] / math.sqrt(row["n"]) == pytest.approx(
        c["expected"]["se"], abs=tolerance(c, "se")
    ), msg
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(
        c["expected"]["bca_ci95"], abs=tolerance(c, "bca_ci95")
    ), msg


# --------------------------------------------------------------------------- cross-check scipy


def _likert(n, seed, p=(0.05, 0.10, 0.15, 0.40, 0.30)):
    return np.random.default_rng(seed).choice(np.arange(1, 6), p=p, size=n).astype(float)


@pytest.mark.parametrize(
    ("label", "x"),
    [
        ("lognormal n=25", np.random.default_rng(7).lognormal(1.0, 0.8, size=25)),
        ("likert n=40", _likert(40, 3)),
        ("likert n=12", _likert(12, 11)),
        ("likert n=400 (multinomial path)", _likert(400, 5)),
        ("dimension means n=60", np.round(_likert(60, 1) * 0.5 + _likert(60, 2) * 0.5, 1)),
    ],
)
def test_bca_agrees_with_scipy_bootstrap(label, x):
    b = 40_000
    ours = bootstrap_mean_ci(x, n_resamples=b, random_state=1)
    ref = stats.bootstrap(
        (x,), np.mean, n_resamples=b, method="BCa", rng=np.random.default_rng(99)
    ).confidence_interval
    # Monte Carlo noise of each end point is about 0.02 SE at this B; lattice data can also
    # put the two interpolated quantiles up to one lattice step (1/n or the rounding) apart.
    se = x.std(ddof=1) / math.sqrt(len(x))
    step = 1.0 / len(x) if label.startswith("likert") else 0.05 if "dimension" in label else 0.0
    tol = 0.1 * se + step
    assert ours.ci_method == "bca"
    assert ours.ci_low == pytest.approx(ref.low, abs=tol), label
    assert ours.ci_high == pytest.approx(ref.high, abs=tol), label


def test_three_point_sample_gives_the_data_range():
    # statistics.md A6: only 10 distinct resamples, the 95 % BCa interval is (3.0, 5.0).
    result = bootstrap_mean_ci([3, 4, 5])
    assert (result.ci_low, result.ci_high) == pytest.approx((3.0, 5.0))


# --------------------------------------------------------------------------- coverage


@pytest.mark.parametrize("n", [30, 100])
def test_bca_coverage_on_skewed_likert_data(n):
    p = np.array([0.05, 0.10, 0.15, 0.40, 0.30])
    true_mean = float(np.arange(1, 6) @ p)  # 3.8
    reps = 500
    rng = np.random.default_rng(20261123 + n)
    x = rng.choice(np.arange(1, 6), p=p, size=(reps, n)).astype(float)
    frame = pd.DataFrame({"rep": np.repeat(np.arange(reps), n), "score": x.ravel()})
    out = describe(frame, "rep", random_state=n)
    covered = ((out["ci_low"] <= true_mean) & (true_mean <= out["ci_high"])).mean()
    # 500 replications: binomial SD of the coverage about 0.01 around 0.95.
    assert 0.92 <= covered <= 0.975, f"coverage {covered:.3f} at n={n}"
    assert (out["ci_method"] == "bca").all()


# --------------------------------------------------------------------------- describe


def test_describe_statistics_per_group():
    frame = pd.DataFrame(
        {
            "round_id": [1] * 7 + [2] * 3,
            "partner_id": ["A"] * 4 + ["B"] * 3 + ["A"] * 3,
            "score": [4.0, 5.0, 3.5, 2.0, 1.0, np.nan, 5.0, 3.0, 3.0, 4.0],
        }
    )
    out = describe(frame, ["round_id", "partner_id"], favourable_min=4)
    assert list(out.columns) == ["round_id", "partner_id", *COLUMNS]
    assert out[["round_id", "partner_id"]].values.tolist() == [[1, "A"], [1, "B"], [2, "A"]]
    for (_, row), values in zip(
        out.iterrows(), [[4.0, 5.0, 3.5, 2.0], [1.0, 5.0], [3.0, 3.0, 4.0]], strict=True
    ):
        assert row["n"] == len(values)
        assert row["mean"] == pytest.approx(statistics.fmean(values))
        assert row["sd"] == pytest.approx(statistics.stdev(values))
        assert row["median"] == pytest.approx(statistics.median(values))
        assert row["share_favourable"] == pytest.approx(sum(v >= 4 for v in values) / len(values))
    assert out["ci_method"].tolist() == ["bca", "none", "bca"]
    assert math.isnan(out["ci_low"].iloc[1])  # n = 2 < 3: no interval
    assert out["ci_low"].iloc[0] < out["mean"].iloc[0] < out["ci_high"].iloc[0]


def test_describe_fallbacks_and_empty_groups():
    frame = pd.DataFrame(
        {"g": ["tie"] * 4 + ["empty"] * 2, "score": [4.0, 4.0, 4.0, 4.0, np.nan, np.nan]}
    )
    out = describe(frame, "g").set_index("g")
    assert out.loc["tie", "ci_method"] == "degenerate"
    assert (out.loc["tie", "ci_low"], out.loc["tie", "ci_high"]) == (4.0, 4.0)
    assert out.loc["empty", "n"] == 0 and out.loc["empty", "ci_method"] == "none"
    assert math.isnan(out.loc["empty", "mean"])
    assert math.isnan(out.loc["tie", "share_favourable"])  # favourable_min not given


def test_describe_min_n_option():
    frame = pd.DataFrame({"g": "a", "score": [1.0, 2.0, 4.0, 5.0]})
    assert describe(frame, "g", min_n=5)["ci_method"].item() == "none"


def test_describe_is_seeded_and_groups_are_independent():
    a = _likert(30, 1)
    b = _likert(50, 2)
    both = pd.DataFrame({"g": ["a"] * 30 + ["b"] * 50, "score": np.concatenate([a, b])})
    first = describe(both, "g", random_state=5)
    again = describe(both.sample(frac=1.0, random_state=3), "g", random_state=5)
    pd.testing.assert_frame_equal(first, again)  # same seed, row order irrelevant
    alone = describe(both[both["g"] == "a"], "g", random_state=5)
    assert alone[["ci_low", "ci_high"]].iloc[0].tolist() == (
        first[["ci_low", "ci_high"]].iloc[0].tolist()
    )
    other = describe(both, "g", random_state=6)
    assert not np.allclose(other["ci_low"], first["ci_low"])


def test_describe_does_not_mutate_input():
    frame = pd.DataFrame({"g": ["a", "a", "a"], "score": [1.0, 2.0, 5.0]})
    before = frame.copy()
    describe(frame, "g", favourable_min=2)
    pd.testing.assert_frame_equal(frame, before)


def test_bootstrap_result_to_dict_is_json_ready():
    result = bootstrap_mean_ci([1.0, 2.0])
    assert isinstance(result, BootstrapResult)
    d = result.to_dict()
    assert d["ci_low"] is None and d["ci_method"] == "none" and d["n"] == 2


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"by": "missing"}, ValueError),
        ({"value": "missing"}, ValueError),
        ({"ci_level": 1.5}, ValueError),
        ({"ci_level": 95}, ValueError),
        ({"n_resamples": 10}, ValueError),
        ({"n_resamples": 2000.0}, TypeError),
        ({"favourable_min": "4"}, TypeError),
        ({"random_state": "seed"}, TypeError),
        ({"min_n": 1}, ValueError),
    ],
)
def test_describe_rejects_bad_options(kwargs, error):
    frame = pd.DataFrame({"g": ["a"] * 3, "score": [1.0, 2.0, 3.0]})
    args = {"by": "g", **kwargs}
    with pytest.raises(error):
        describe(frame, **args)


def test_describe_rejects_bad_values():
    with pytest.raises(TypeError, match="numeric"):
        describe(pd.DataFrame({"g": ["a"], "score": ["4"]}), "g")
    with pytest.raises(ValueError, match="infinite"):
        describe(pd.DataFrame({"g": ["a"], "score": [np.inf]}), "g")
    with pytest.raises(ValueError):
        bootstrap_mean_ci([1.0, 2.0, 3.0], method="studentized")


def test_describe_empty_frame_gives_no_groups():
    empty = pd.DataFrame({"g": pd.Series([], dtype=object), "score": pd.Series([], dtype=float)})
    out = describe(empty, "g")
    assert out.empty and list(out.columns) == ["g", *COLUMNS]
    overall = describe(empty, None)
    assert overall["n"].tolist() == [0] and overall["ci_method"].tolist() == ["none"]


def test_describe_ignores_a_repeated_index():
    frame = pd.DataFrame(
        {"g": ["a", "a", "a", "b"], "score": [1.0, 2.0, 4.0, 5.0]}, index=[0, 0, 1, 1]
    )
    out = describe(frame, "g")
    assert out["n"].tolist() == [3, 1]
    assert out["mean"].tolist() == pytest.approx([7 / 3, 5.0])
