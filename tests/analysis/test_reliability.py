"""Tests for analysis.reliability: Cronbach's alpha, Feldt CI, item analysis per dimension."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.reliability import (
    AlphaResult,
    cronbach_alpha,
    item_analysis,
    reliability_by_dimension,
)


def wide_from_case(c):
    return pd.DataFrame(c["data"]["rows"], columns=c["data"]["columns"], dtype=float)


def long_from_wide(wide, partner="A"):
    records = [
        (f"r{i}", 1, partner, item, float(value))
        for i, row in enumerate(wide.itertuples(index=False))
        for item, value in zip(wide.columns, row, strict=True)
    ]
    return pd.DataFrame(
        records, columns=["response_id", "round_id", "partner_id", "item_id", "value"]
    )


def item_map(columns, dimension="d", reverse=(), scale=(1, 7)):
    return pd.DataFrame(
        {
            "item_id": list(columns),
            "dimension": dimension,
            "reverse": [c in reverse for c in columns],
            "scale_min": scale[0],
            "scale_max": scale[1],
        }
    )


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize("nan_policy", ["pairwise", "listwise"])
def test_c01_alpha_and_feldt_ci(case, nan_policy):
    c = case("C01")
    result = cronbach_alpha(wide_from_case(c), nan_policy=nan_policy, ci_level=0.95)
    tol = c["tolerance"]
    msg = f"C01 ({c['source']})"
    assert result.alpha == pytest.approx(c["expected"]["alpha"], abs=tol), msg
    assert [result.ci_low, result.ci_high] == pytest.approx(c["expected"]["feldt_ci95"], abs=tol), (
        msg
    )
    assert (result.n, result.k) == (c["parameters"]["n"], c["parameters"]["k"])


def test_c03_item_total_r_and_alpha_if_deleted(case):
    c = case("C03")
    out = item_analysis(wide_from_case(c)).set_index("item_id")
    tol = c["tolerance"]
    for key in ("corrected_item_total_r", "alpha_if_deleted"):
        for item, expected in c["expected"][key].items():
            assert out.loc[item, key] == pytest.approx(expected, abs=tol), (
                f"C03 {key} {item} ({c['source']})"
            )
    negative = set(out.index[out["negative_correlation"]])
    assert negative == {i for i, r in c["expected"]["corrected_item_total_r"].items() if r < 0}


def test_reliability_by_dimension_reverse_codes_before_alpha(case):
    # Store Q3 of the C01 data reversed (8 - x on 1-7): with the reverse flag set, alpha must
    # be C01's again; without it, Q3 turns into a negatively correlated item.
    c = case("C01")
    wide = wide_from_case(c)
    stored = wide.assign(Q3=8 - wide["Q3"])
    answers = long_from_wide(stored)
    flagged = reliability_by_dimension(answers, item_map(wide.columns, reverse={"Q3"}))
    row = flagged.iloc[0]
    tol = c["tolerance"]
    assert row["alpha"] == pytest.approx(c["expected"]["alpha"], abs=tol), f"C01 {c['source']}"
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(c["expected"]["feldt_ci95"], abs=tol)
    assert (row["n"], row["k"], row["n_complete"]) == (15, 10, 15)
    assert row["reason"] is None
    # From C03: alpha if deleted exceeds alpha for Q5, Q6, Q8; r is negative for Q5, Q6.
    assert row["items_raise_alpha"] == ["Q5", "Q6", "Q8"]
    assert row["items_negative_r"] == ["Q5", "Q6"]
    unflagged = reliability_by_dimension(answers, item_map(wide.columns)).iloc[0]
    assert "Q3" in unflagged["items_negative_r"]
    assert unflagged["alpha"] < row["alpha"]


# --------------------------------------------------------------------------- missing answers


def _alpha_by_variances(complete):
    """Alpha from item variances and the variance of the sum (independent of C's sum)."""
    k = complete.shape[1]
    item_var = complete.var(axis=0, ddof=1).sum()
    total_var = complete.sum(axis=1).var(ddof=1)
    return k / (k - 1) * (1 - item_var / total_var)


def _pairwise_cov(data):
    k = data.shape[1]
    cov = np.empty((k, k))
    for i, j in itertools.product(range(k), repeat=2):
        both = ~np.isnan(data[:, i]) & ~np.isnan(data[:, j])
        cov[i, j] = np.cov(data[both, i], data[both, j], ddof=1)[0, 1]
    return cov


@pytest.fixture
def gappy():
    rng = np.random.default_rng(4)
    base = rng.normal(size=(40, 1))
    data = np.clip(np.round(3 + base + rng.normal(scale=0.8, size=(40, 5))), 1, 5)
    data[rng.random(data.shape) < 0.12] = np.nan
    return pd.DataFrame(data, columns=[f"i{j}" for j in range(5)])


def test_listwise_alpha_uses_complete_rows(gappy):
    complete = gappy.dropna().to_numpy()
    result = cronbach_alpha(gappy, nan_policy="listwise")
    assert result.n == len(complete) < len(gappy)
    assert result.alpha == pytest.approx(_alpha_by_variances(complete), abs=1e-12)


def test_pairwise_alpha_uses_pairwise_covariances(gappy):
    cov = _pairwise_cov(gappy.to_numpy())
    k = cov.shape[0]
    expected = k / (k - 1) * (1 - np.trace(cov) / cov.sum())
    result = cronbach_alpha(gappy, nan_policy="pairwise")
    assert result.alpha == pytest.approx(expected, abs=1e-12)
    assert result.n == len(gappy.dropna(how="all"))


def test_item_analysis_matches_direct_correlations_on_complete_data(gappy):
    complete = gappy.dropna()
    out = item_analysis(complete).set_index("item_id")
    for item in complete.columns:
        rest = complete.drop(columns=item)
        r = np.corrcoef(complete[item], rest.sum(axis=1))[0, 1]
        assert out.loc[item, "corrected_item_total_r"] == pytest.approx(r, abs=1e-12)
        assert out.loc[item, "alpha_if_deleted"] == pytest.approx(
            _alpha_by_variances(rest.to_numpy()), abs=1e-12
        )
        assert out.loc[item, "n"] == len(complete)


# --------------------------------------------------------------------------- edge cases


def test_reliability_by_dimension_reasons_instead_of_errors():
    rows = {
        "solo": [[4], [5], [3], [4]],
        "few": [[4, 5], [3, None], [None, 2], [5, 4]],  # 2 complete respondents
        "flat": [[3, 3], [3, 3], [3, 3], [3, 3]],
        "apart": [[4, None], [None, 5], [3, None], [None, 2]],  # never answered together
        "fine": [[4, 5], [2, 2], [3, 4], [5, 5]],
    }
    records, item_rows = [], []
    for dim, matrix in rows.items():
        for j in range(len(matrix[0])):
            item_rows.append((f"{dim}{j}", dim, False, 1, 5))
            for i, row in enumerate(matrix):
                if row[j] is not None:
                    records.append((f"r{i}", 1, "A", f"{dim}{j}", float(row[j])))
    answers = pd.DataFrame(
        records, columns=["response_id", "round_id", "partner_id", "item_id", "value"]
    )
    items = pd.DataFrame(
        item_rows, columns=["item_id", "dimension", "reverse", "scale_min", "scale_max"]
    )
    out = reliability_by_dimension(answers, items).set_index("dimension")
    assert out.loc["solo", "reason"] == "fewer_than_2_items"
    assert out.loc["few", "reason"] == "too_few_complete_respondents"
    assert out.loc["few", "n_complete"] == 2
    assert out.loc["apart", "reason"] == "too_few_complete_respondents"
    assert out.loc["flat", "reason"] == "no_total_variance"
    assert out.loc["fine", "reason"] is None
    assert not math.isnan(out.loc["fine", "alpha"])
    for dim in ("solo", "few", "flat", "apart"):
        assert math.isnan(out.loc[dim, "alpha"]) and math.isnan(out.loc[dim, "ci_low"])
    relaxed = reliability_by_dimension(answers, items, min_respondents=2).set_index("dimension")
    assert relaxed.loc["few", "reason"] is None
    assert relaxed.loc["apart", "reason"] == "too_few_complete_respondents"


def test_pairwise_reason_when_items_never_overlap():
    wide = pd.DataFrame({"a": [1.0, 2.0, np.nan, np.nan], "b": [np.nan, np.nan, 3.0, 5.0]})
    assert math.isnan(cronbach_alpha(wide).alpha)


def test_alpha_result_to_dict_is_json_serialisable():
    wide = pd.DataFrame({"a": [3.0, 3.0, 3.0], "b": [3.0, 3.0, 3.0]})
    result = cronbach_alpha(wide)
    assert isinstance(result, AlphaResult)
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["alpha"] is None and payload["k"] == 2 and payload["n"] == 3


def test_two_items_have_no_alpha_if_deleted():
    out = item_analysis(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 3.0, 2.0]}))
    assert out["alpha_if_deleted"].isna().all()
    assert out["corrected_item_total_r"].tolist() == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize(
    ("wide", "kwargs", "error"),
    [
        (pd.DataFrame({"a": [1.0, 2.0]}), {}, ValueError),  # one item
        (pd.DataFrame({"a": [1.0], "b": [2.0]}), {}, ValueError),  # one respondent
        (pd.DataFrame({"a": ["1", "2"], "b": [1.0, 2.0]}), {}, TypeError),
        (pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]}), {"nan_policy": "omit"}, ValueError),
        (pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]}), {"ci_level": 0}, ValueError),
        ([1.0, 2.0, 3.0], {}, ValueError),  # not 2-D
    ],
)
def test_cronbach_alpha_rejects_bad_input(wide, kwargs, error):
    with pytest.raises(error):
        cronbach_alpha(wide, **kwargs)


def test_reliability_by_dimension_rejects_bad_options():
    wide = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 3.0, 2.0]})
    answers, items = long_from_wide(wide), item_map(wide.columns)
    with pytest.raises(ValueError):
        reliability_by_dimension(answers, items, nan_policy="omit")
    with pytest.raises(ValueError):
        reliability_by_dimension(answers, items, min_respondents=1)
    with pytest.raises(ValueError, match="items is missing"):
        reliability_by_dimension(answers, items.drop(columns="dimension"))
