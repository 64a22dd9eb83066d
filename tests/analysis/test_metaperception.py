"""Tests for analysis.metaperception against the hand-computed case M01 (reference/cases.json)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis import language
from analysis.metaperception import META_COLUMNS, meta_perception

ITEMS = pd.DataFrame(
    {
        "item_id": ["q1", "q2"],
        "dimension": "d",
        "reverse": [False, True],
        "scale_min": 1,
        "scale_max": 5,
    }
)
META = pd.DataFrame({"meta_id": ["m_item", "m_dim"], "target": ["q1", "d"]})


def _answers(case: dict[str, Any]) -> pd.DataFrame:
    table = case["data"]
    wide = pd.DataFrame(table["rows"], columns=table["columns"])
    long = wide.melt(["response_id", "partner_id"], var_name="item_id", value_name="value")
    long["value"] = long["value"].astype(float)
    long["dont_know"] = long["value"].isna()
    long["round_id"] = 1
    return long


def _msg(case: dict[str, Any], key: str) -> str:
    return f"{case['id']} {key}: {case['source']}"


def _row(out: pd.DataFrame, meta_id: str, partner: str | None) -> pd.Series:
    rows = out.loc[out["meta_id"] == meta_id]
    mask = rows["partner_id"].isna() if partner is None else rows["partner_id"] == partner
    (index,) = rows.index[mask.to_numpy()]
    return out.loc[index]


@pytest.fixture
def m01(case):
    return case("M01")


def test_m01_dimension_target_by_hand(m01):
    out = meta_perception(_answers(m01), ITEMS, META, k=3)
    assert list(out.columns) == META_COLUMNS
    tol = m01["tolerance"]
    for partner, exp in m01["expected"]["m_dim"].items():
        row = _row(out, "m_dim", None if partner == "partnership" else partner)
        assert not row["suppressed"] and row["target_kind"] == "dimension"
        assert row["n_predicted"] == exp["n_predicted"], _msg(m01, f"m_dim {partner} n")
        assert row["n_actual"] == exp["n_actual"], _msg(m01, f"m_dim {partner} n actual")
        for key, column in (("predicted", "predicted_mean"), ("actual", "actual_mean"),
                            ("difference", "difference")):
            assert row[column] == pytest.approx(exp[key], abs=tol), _msg(m01, f"{partner} {key}")
    assert _row(out, "m_dim", "A")["direction"] == "over"
    assert _row(out, "m_dim", "C")["direction"] == "under"
    # Partner rows carry a small-sample test with its method; the partnership row none.
    a = _row(out, "m_dim", "A")
    assert a["p_method"] == "exact" and 0 < a["p_value"] <= 1 and np.isnan(a["p_mc_se"])
    assert a["n_actual_groups"] == 2
    assert np.isnan(_row(out, "m_dim", None)["p_value"])


def test_m01_item_target_with_complementary_suppression(m01):
    out = meta_perception(_answers(m01), ITEMS, META, k=3)
    exp = m01["expected"]["m_item"]
    tol = m01["tolerance"]
    for partner in exp["suppressed"]:
        row = _row(out, "m_item", partner)
        assert row["suppressed"] and row["reason"] == "anonymity", _msg(m01, partner)
        assert np.isnan(row["predicted_mean"]) and pd.isna(row["n_predicted"])
    for partner in ("B", "partnership"):
        row = _row(out, "m_item", None if partner == "partnership" else partner)
        assert not row["suppressed"]
        for key, column in (("predicted", "predicted_mean"), ("actual", "actual_mean"),
                            ("difference", "difference"), ("n_predicted", "n_predicted"),
                            ("n_actual", "n_actual")):
            assert row[column] == pytest.approx(exp[partner][key], abs=tol), _msg(
                m01, f"m_item {partner} {key}")


def test_hidden_partners_take_no_part(m01):
    out = meta_perception(_answers(m01), ITEMS, META, k=3, hidden=["C"])
    c = _row(out, "m_dim", "C")
    assert c["suppressed"] and np.isnan(c["predicted_mean"])
    # A is now compared with B alone: 13/3 against 7/3.
    a = _row(out, "m_dim", "A")
    assert a["actual_mean"] == pytest.approx(7 / 3) and a["n_actual_groups"] == 1
    # Nothing of C is in the partnership row either.
    total = _row(out, "m_dim", None)
    assert total["n_predicted"] == 7 and total["actual_mean"] == pytest.approx(20 / 6)


def test_item_partners_limit_the_actual_values(m01):
    out = meta_perception(_answers(m01), ITEMS, META, k=3, item_partners={"q1": ["A", "B"]})
    b = _row(out, "m_item", "B")
    assert b["actual_mean"] == pytest.approx(13 / 3)  # C's q1 answers left out


def test_no_comparable_other_partner_gives_a_reason_not_a_number(m01):
    answers = _answers(m01)
    only_a = answers.loc[answers["partner_id"] == "A"]
    out = meta_perception(only_a, ITEMS, META, k=3)
    row = _row(out, "m_dim", "A")
    assert row["reason"] == "no_comparison" and np.isnan(row["difference"])
    assert not row["suppressed"] and row["predicted_mean"] == pytest.approx(13 / 3)


def test_output_is_json_ready_and_order_follows_partners(m01):
    out = meta_perception(_answers(m01), ITEMS, META, k=3, partners=["C", "B", "A"])
    assert list(out.loc[out["meta_id"] == "m_dim", "partner_id"]) == ["C", "B", "A", None]
    json.dumps(out.replace({np.nan: None}).to_dict("records"))


def test_bad_input_is_refused(m01):
    answers = _answers(m01)
    with pytest.raises(ValueError, match="neither an item nor a dimension"):
        meta_perception(answers, ITEMS, pd.DataFrame({"meta_id": ["m"], "target": ["zz"]}))
    with pytest.raises(ValueError, match="also item ids"):
        meta_perception(answers, ITEMS, pd.DataFrame({"meta_id": ["q1"], "target": ["d"]}))
    summed = pd.DataFrame({"dimension": ["d"], "scoring": ["sum"]})
    with pytest.raises(ValueError, match="summed"):
        meta_perception(answers, ITEMS, META, dimensions=summed)
    with pytest.raises(ValueError, match="at least 3"):
        meta_perception(answers, ITEMS, META, k=2)


def test_sentence_says_who_over_or_underestimates(m01):
    out = meta_perception(_answers(m01), ITEMS, META, k=3)
    a = _row(out, "m_dim", "A").to_dict()
    text = language.meta_perception_sentence(a, "Kesetaraan", "Yayasan", min_n=3)
    assert "Yayasan overestimates how it is seen by 1.5 points" in text["en"]
    assert "Yayasan memperkirakan terlalu tinggi sebesar 1,5 poin" in text["id"]
    c = _row(out, "m_dim", "C").to_dict()
    assert "underestimates" in language.meta_perception_sentence(c, "K", "C", min_n=3)["en"]
    total = _row(out, "m_dim", None).to_dict()
    said = language.meta_perception_sentence(total, "K", "All", min_n=3)
    assert "No test was run" in said["en"] and "belum diuji" in said["id"]
    too_few = language.meta_perception_sentence(a, "K", "Yayasan", min_n=5)
    assert too_few["en"].startswith("Too few responses") and "1.5" not in too_few["en"]
