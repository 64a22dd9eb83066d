"""Totals, per-dimension answer rules and published bands (issue 10).

Every expected number is computed by hand in the comment beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.results import round_results
from analysis.scoring import (
    DEFAULT_MIN_ANSWERED,
    DEFAULT_MIN_ITEMS,
    band_index,
    dimension_scores,
    respondent_scores,
    total_range,
    total_scores,
)

ITEMS = pd.DataFrame(
    {
        "item_id": ["a1", "a2", "b1", "b2", "b3"],
        "dimension": ["a", "a", "b", "b", "b"],
        "reverse": [False, False, False, False, True],
        "scale_min": 1,
        "scale_max": 5,
    }
)


def answers(rows: dict[str, list[float | None]]) -> pd.DataFrame:
    """``{response: [a1, a2, b1, b2, b3]}`` as long answers (None = not answered)."""
    out = [
        (rid, 1, "p", item, math.nan if v is None else float(v))
        for rid, values in rows.items()
        for item, v in zip(ITEMS["item_id"], values, strict=True)
    ]
    return pd.DataFrame(out, columns=["response_id", "round_id", "partner_id", "item_id", "value"])


# b3 is reverse-coded: 6 - x.
COMPLETE = {"r1": [4, 2, 5, 3, 2]}  # a: 4, 2 -> sum 6, mean 3; b: 5, 3, 4 -> sum 12, mean 4
GAPPY = {"r2": [4, None, 5, None, 1]}  # a: 4 (1 of 2); b: 5, 5 (2 of 3) -> mean 5


def _total(rows: dict, method: str, **kw: object) -> float:
    frame = answers(rows)
    scores = dimension_scores(frame, ITEMS)
    out = total_scores(scores, method, answers=frame, items=ITEMS, **kw)  # type: ignore[arg-type]
    return float(out["score"].iloc[0])


def test_the_four_total_methods_on_a_complete_respondent() -> None:
    assert _total(COMPLETE, "mean_of_dimensions") == 3.5  # (3 + 4) / 2
    assert _total(COMPLETE, "mean_of_items") == 3.6  # (4 + 2 + 5 + 3 + 4) / 5 = 18 / 5
    assert _total(COMPLETE, "sum_of_items") == 18.0  # 4 + 2 + 5 + 3 + 4
    assert _total(COMPLETE, "sum_of_dimension_sums") == 18.0  # 6 + 12


def test_totals_with_missing_answers_prorate_or_refuse() -> None:
    # a has one of two answered: below the default min_items 2, so a is not scored.
    assert math.isnan(_total(GAPPY, "mean_of_dimensions"))
    assert math.isnan(_total(GAPPY, "sum_of_dimension_sums"))
    # Items: 3 of 5 answered (4, 5, 5) -> mean 14 / 3; prorated sum 14 * 5 / 3.
    assert _total(GAPPY, "mean_of_items") == pytest.approx(14 / 3)
    assert _total(GAPPY, "sum_of_items") == pytest.approx(14 * 5 / 3)
    # min_answered 0.8 needs ceil(4) = 4 answered items: 3 is too few.
    assert math.isnan(_total(GAPPY, "sum_of_items", min_answered=0.8))
    for method in ("mean_of_dimensions", "mean_of_items", "sum_of_items", "sum_of_dimension_sums"):
        assert math.isnan(_total(GAPPY, method, missing="refuse")), method
        assert not math.isnan(_total(COMPLETE, method, missing="refuse")), method


def test_sum_of_dimension_sums_follows_each_dimension_rule() -> None:
    frame = answers(GAPPY)
    rules = pd.DataFrame({"dimension": ["a"], "min_items": [1]})
    out = total_scores(None, "sum_of_dimension_sums", answers=frame, items=ITEMS, dimensions=rules)
    # a: 4 prorated to 2 items = 8; b: mean 5 over 3 items = 15; total 23.
    assert out["score"].iloc[0] == 23.0


def test_one_of_two_items_counts_when_min_items_is_one() -> None:
    frame = answers(GAPPY)
    default = dimension_scores(frame, ITEMS)
    assert math.isnan(default.loc[default["dimension"] == "a", "score"].iloc[0])
    rules = pd.DataFrame({"dimension": ["a"], "min_answered": [0.5], "min_items": [1]})
    lowered = dimension_scores(frame, ITEMS, rules)
    assert lowered.loc[lowered["dimension"] == "a", "score"].iloc[0] == 4.0
    # min_answered alone cannot lower the floor of two (that is min_items' job).
    share_only = dimension_scores(
        frame, ITEMS, pd.DataFrame({"dimension": ["a"], "min_answered": [0.5]})
    )
    assert math.isnan(share_only.loc[share_only["dimension"] == "a", "score"].iloc[0])


def test_min_answered_share_can_require_more_than_min_items() -> None:
    rows = {"r": [4, 4, 5, None, None]}  # b: 1 of 3 answered
    rules = pd.DataFrame({"dimension": ["b"], "min_answered": [0.3], "min_items": [1]})
    b = dimension_scores(answers(rows), ITEMS, rules).query("dimension == 'b'")
    assert b["score"].iloc[0] == 5.0  # ceil(0.9) = 1 answered is enough
    rules["min_answered"] = [0.5]  # ceil(1.5) = 2 needed
    b = dimension_scores(answers(rows), ITEMS, rules).query("dimension == 'b'")
    assert math.isnan(b["score"].iloc[0])


def test_defaults_live_in_one_place_and_the_schema_agrees() -> None:
    from app.questionnaires import schema

    assert (DEFAULT_MIN_ANSWERED, DEFAULT_MIN_ITEMS) == (0.5, 2)
    assert schema.DEFAULT_MIN_ANSWERED == DEFAULT_MIN_ANSWERED
    assert schema.DEFAULT_MIN_ITEMS == DEFAULT_MIN_ITEMS
    assert schema.DimensionSchema.model_fields["min_items"].default == DEFAULT_MIN_ITEMS


def test_total_range_is_the_totals_own_range() -> None:
    assert total_range(ITEMS, method="sum_of_items") == (5.0, 25.0)
    assert total_range(ITEMS, method="sum_of_dimension_sums") == (5.0, 25.0)
    assert total_range(ITEMS, method="mean_of_items") == (1.0, 5.0)
    assert total_range(ITEMS) == (1.0, 5.0)
    summed = pd.DataFrame({"dimension": ["a", "b"], "scoring": ["sum", "mean"]})
    assert total_range(ITEMS, summed) == (1.5, 7.5)  # a: 2 to 10, b: 1 to 5, averaged


GAPPED = [
    {"label": "low", "min": 35, "max": 84},
    {"label": "mid", "min": 85, "max": 126},
    {"label": "high", "min": 127, "max": 175},
]
SHARED = [
    {"label": "concern", "min": 1, "max": 3},
    {"label": "attention", "min": 3, "max": 4},
    {"label": "strength", "min": 4, "max": 5},
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (35, 0),
        (84, 0),
        (84.4999, 0),
        (84.5, 1),
        (85, 1),
        (126, 1),
        (126.5, 2),
        (175, 2),
        (34.9, -1),
        (175.1, -1),
        (math.nan, -1),
    ],
)
def test_gapped_integer_bands_round_half_up(value: float, expected: int) -> None:
    assert band_index([value], GAPPED).tolist() == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 0), (2.999, 0), (3, 1), (3.9999999999, 2), (4, 2), (5, 2), (0.5, -1)],
)
def test_shared_edges_go_to_the_higher_band(value: float, expected: int) -> None:
    assert band_index([value], SHARED).tolist() == [expected]


def test_band_index_answers_in_the_order_given() -> None:
    shuffled = [GAPPED[2], GAPPED[0], GAPPED[1]]
    assert band_index([40, 100, 150], shuffled).tolist() == [1, 2, 0]


def test_overlapping_bands_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        band_index(
            [50], [{"label": "a", "min": 35, "max": 90}, {"label": "b", "min": 85, "max": 175}]
        )


def test_respondent_scores_give_dimensions_total_and_bands() -> None:
    frame = answers({**COMPLETE, **GAPPY})
    out = respondent_scores(
        frame,
        ITEMS,
        pd.DataFrame({"dimension": ["a"], "min_items": [1]}),
        total={"method": "sum_of_items", "missing": "prorate"},
        bands={"b": SHARED},
        total_bands=[{"label": "lo", "min": 5, "max": 14}, {"label": "hi", "min": 15, "max": 25}],
    )
    assert list(out.columns) == [
        "response_id",
        "round_id",
        "partner_id",
        "score_a",
        "score_b",
        "band_b",
        "total",
        "total_band",
    ]
    assert out["score_a"].tolist() == [3.0, 4.0]
    assert out["score_b"].tolist() == [4.0, 5.0]
    assert out["band_b"].tolist() == ["strength", "strength"]
    # r1: 18 -> hi; r2: 14 * 5 / 3 = 23.33 -> hi
    assert out["total"].tolist() == pytest.approx([18.0, 14 * 5 / 3])
    assert out["total_band"].tolist() == ["hi", "hi"]
    with pytest.raises(ValueError, match="unknown option"):
        respondent_scores(frame, ITEMS, total={"methd": "sum_of_items"})


def _round(total: dict | None, total_bands: list | None) -> dict:
    rng = np.random.default_rng(3)
    rows = {f"r{i}": [int(v) for v in rng.integers(1, 6, size=5)] for i in range(12)}
    frame = answers(rows)
    frame["partner_id"] = [("p" if int(r[1:]) < 6 else "q") for r in frame["response_id"]]
    partners = pd.DataFrame({"partner_id": ["p", "q"], "name": ["P", "Q"], "sector": "ngo"})
    result = round_results(
        frame, ITEMS, round_id=1, partners=partners, k=3, total=total, total_bands=total_bands
    )
    return result.to_dict()


def test_round_results_use_the_total_method_its_range_and_say_so() -> None:
    bands = [
        {"id": "lo", "label": {"id": "Rendah", "en": "Low"}, "min": 5, "max": 14},
        {"id": "hi", "label": {"id": "Tinggi", "en": "High"}, "min": 15, "max": 25},
    ]
    out = _round({"method": "sum_of_items", "missing": "prorate"}, bands)
    total_meta = next(d for d in out["meta"]["dimensions"] if d["dimension"] == "total")
    assert (total_meta["scale_min"], total_meta["scale_max"]) == (5.0, 25.0)
    scores = out["meta"]["methods"]["scores"]
    assert scores["total"]["method"] == "sum_of_items"
    assert "sum of all" in scores["health_index"]
    assert scores["note"]["en"].startswith(
        "Health index: sum of all (reverse-coded) items, from 5 to 25"
    )
    assert "diproratakan" in scores["note"]["id"]
    table = next(t for t in out["scores"] if t["dimension"] == "total")
    band = table["partnership"]["partner_weighted"]["band"]
    assert band is not None and band["id"] in {"lo", "hi"}
    mean = table["partnership"]["partner_weighted"]["mean"]
    assert 5 <= mean <= 25 and mean > 5.0  # a sum, not a mean of 1-5 dimension scores


def test_round_results_default_total_is_unchanged() -> None:
    out = _round(None, None)
    scores = out["meta"]["methods"]["scores"]
    assert (
        scores["health_index"] == "mean of the respondent's dimension scores, all dimensions scored"
    )
    assert (
        scores["dimension"]
        == "mean of answered (reverse-coded) items, at least half and two answered"
    )
    assert scores["total"]["method"] == "mean_of_dimensions"
    total_meta = next(d for d in out["meta"]["dimensions"] if d["dimension"] == "total")
    assert (total_meta["scale_min"], total_meta["scale_max"]) == (1.0, 5.0)
