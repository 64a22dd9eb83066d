"""Tests for analysis.results: the one object every page, chart, export and API reads.

The data are generated with a known structure (one partner clearly higher on one dimension,
one partner below k, one partner split into two camps, a trend over rounds), so each section
can be checked against what was built in. Means are checked against plain pandas computations
written here from the raw answers, never against the package's own functions. Anonymity is
checked from the outside: by reading ``to_dict()`` as an attacker would, and by showing that
two data sets differing only in hidden partners' answers publish exactly the same result.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.results import (
    ASYMMETRY_MIN_POINTS,
    TOTAL,
    RoundResults,
    partnership_over_time,
    round_results,
)

K = 5
DIMS = {"eq": 4, "tr": 4, "mb": 3}  # dimension -> number of items
ITEMS = pd.DataFrame(
    [
        {
            "item_id": f"{dim}{j + 1}",
            "dimension": dim,
            "reverse": j == n - 1,  # last item of each dimension is reverse-keyed
            "scale_min": 1,
            "scale_max": 5,
        }
        for dim, n in DIMS.items()
        for j in range(n)
    ]
)
SIZES = {"A": 30, "B": 24, "C": 22, "D": 3, "E": 26, "F": 12}
PARTNERS = pd.DataFrame(
    {
        "partner_id": list(SIZES),
        "name": ["Dinas Kesehatan", "Puskesmas", "Yayasan", "Kelompok Tani", "LSM", "Kampus"],
        "sector": ["government", "government", "ngo", "community", "ngo", "academia"],
    }
)
LABELS = {
    "eq": {"id": "Kesetaraan", "en": "Equality"},
    "tr": {"id": "Transparansi", "en": "Transparency"},
    "mb": {"id": "Manfaat bersama", "en": "Shared benefit"},
}
BANDS = {
    dim: [
        {
            "id": "concern",
            "label": {"id": "Perlu perhatian", "en": "Concern"},
            "min": 1,
            "max": 2.4,
        },
        {"id": "borderline", "label": {"id": "Cukup", "en": "Borderline"}, "min": 2.5, "max": 3.4},
        {"id": "strength", "label": {"id": "Kuat", "en": "Strength"}, "min": 3.5, "max": 5},
    ]
    for dim in DIMS
}


def make_answers(
    sizes: dict[str, int],
    round_id: int = 1,
    seed: int = 0,
    level: float = 3.0,
    high: tuple[str, str] | None = ("A", "eq"),
    split: tuple[str, str] | None = ("E", "tr"),
    dont_know: float | dict[str, float] = 0.03,
) -> pd.DataFrame:
    """Long answers (favourable-side values, reverse-keyed items stored reversed).

    ``high``: that partner answers about 1.6 points higher on that dimension. ``split``: half
    of that partner's respondents answer 1, the other half 5, on that dimension.
    ``dont_know``: share of "don't know" answers, or one share per partner.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for partner, n in sizes.items():
        dk_rate = dont_know[partner] if isinstance(dont_know, dict) else dont_know
        for i in range(n):
            person = rng.normal(level, 0.5)
            for item in ITEMS.itertuples():
                mean = person + (1.6 if (partner, item.dimension) == high else 0.0)
                value = float(np.clip(np.rint(mean + rng.normal(0, 0.6)), 1, 5))
                if (partner, item.dimension) == split:
                    value = 1.0 if i % 2 == 0 else 5.0
                if item.reverse:
                    value = 6.0 - value
                dk = bool(rng.random() < dk_rate)
                rows.append(
                    {
                        "response_id": f"r{round_id}-{partner}-{i:03d}",
                        "round_id": round_id,
                        "partner_id": partner,
                        "item_id": item.item_id,
                        "value": math.nan if dk else value,
                        "dont_know": dk,
                    }
                )
    return pd.DataFrame(rows)


def make_ratings(answers: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A rates B low (1-2), B rates A high (4-5); everyone else rates around 3-4; D rates too."""
    rng = np.random.default_rng(seed)
    people = answers.drop_duplicates("response_id")[["response_id", "round_id", "partner_id"]]
    rows = []
    for person in people.itertuples():
        for ratee in SIZES:
            if ratee == person.partner_id and person.response_id.endswith("000"):
                # one self-rating, which must be dropped
                rows.append((person.response_id, person.round_id, ratee, ratee, "delivers", 5.0))
            if ratee == person.partner_id:
                continue
            if (person.partner_id, ratee) == ("A", "B"):
                value = float(rng.integers(1, 3))
            elif (person.partner_id, ratee) == ("B", "A"):
                value = float(rng.integers(4, 6))
            else:
                value = float(rng.integers(3, 5))
            rows.append(
                (person.response_id, person.round_id, person.partner_id, ratee, "delivers", value)
            )
    return pd.DataFrame(
        rows,
        columns=[
            "response_id",
            "round_id",
            "rater_partner_id",
            "ratee_partner_id",
            "item_id",
            "value",
        ],
    )


def run(answers: pd.DataFrame, **kwargs: Any) -> RoundResults:
    options = {
        "round_id": 1,
        "partners": PARTNERS,
        "k": K,
        "bands": BANDS,
        "labels": LABELS,
    }
    options.update(kwargs)
    return round_results(answers, ITEMS, **options)


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    return make_answers(SIZES)


@pytest.fixture(scope="module")
def result(answers: pd.DataFrame) -> RoundResults:
    return run(answers, ratings=make_ratings(answers))


@pytest.fixture(scope="module")
def result_dict(result: RoundResults) -> dict[str, Any]:
    return result.to_dict()


def respondent_means(answers: pd.DataFrame) -> pd.DataFrame:
    """Dimension score per respondent from the raw answers, written out with plain pandas:
    reverse-code, mean of answered items, at least half (and two) of the items answered."""
    merged = answers.merge(ITEMS, on="item_id")
    value = merged["value"].where(~merged["dont_know"])
    merged["x"] = np.where(merged["reverse"], 6 - value, value)
    grouped = merged.groupby(["response_id", "partner_id", "dimension"])
    out = grouped.agg(score=("x", "mean"), answered=("x", "count"), size=("x", "size"))
    needed = np.maximum(2, np.ceil(out["size"] / 2))
    out.loc[out["answered"] < needed, "score"] = np.nan
    return out.reset_index()


def table(result_dict: dict[str, Any], dimension: str) -> dict[str, Any]:
    return next(t for t in result_dict["scores"] if t["dimension"] == dimension)


def partner_row(rows: list[dict[str, Any]], partner: str) -> dict[str, Any]:
    return next(r for r in rows if r["partner_id"] == partner)


def hidden_partners(result_dict: dict[str, Any]) -> list[str]:
    return [r["partner_id"] for r in result_dict["response_counts"]["partners"] if r["suppressed"]]


# --------------------------------------------------------------------------- anonymity

PARTNER_KEYS = ("partner_id", "rater_partner_id", "rater")
MENTION_KEYS = ("groups", "excluded", "high_group", "low_group", "group_a", "group_b", "ratee")


def walk(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, (*path, i))


def numbers(node: Any) -> list[Any]:
    return [v for _, v in walk(node) if isinstance(v, int | float) and not isinstance(v, bool)]


def test_partner_below_k_has_no_number_anywhere(result_dict):
    small = "D"
    assert SIZES[small] < K
    checked = 0
    for path, node in walk(result_dict):
        if not isinstance(node, dict):
            continue
        if any(node.get(key) == small for key in PARTNER_KEYS):
            assert numbers(node) == [], f"numbers of {small} at {path}: {node}"
            checked += 1
        for key in MENTION_KEYS:
            value = node.get(key)
            mentioned = value == small or (isinstance(value, list) and small in value)
            assert not mentioned, f"{small} is named in {key} at {path}"
        if "partner_means" in node:
            assert small not in [m["partner_id"] for m in node["partner_means"]]
    assert checked > 20  # response counts, every score table, distributions, ratings, ...
    heat = result_dict["heatmap"]
    row = heat["partners"].index(small)
    assert heat["mean"][row] == [None] * len(DIMS) and heat["n"][row] == [None] * len(DIMS)


def test_complementary_suppression_of_counts(result_dict):
    counts = result_dict["response_counts"]
    hidden = hidden_partners(result_dict)
    assert "D" in hidden and len(hidden) >= 2  # D alone would be total minus the others
    shown = sum(r["n"] for r in counts["partners"] if not r["suppressed"])
    hidden_total = counts["partnership"]["n"] - shown
    assert hidden_total == sum(SIZES[p] for p in hidden)
    assert hidden_total >= K
    # The complementary partner is the smallest shown one (F, 12 respondents).
    assert set(hidden) == {"D", "F"}
    # One reason for all: "below k" versus "complementary" would narrow the counts.
    assert {r["reason"] for r in counts["partners"] if r["suppressed"]} == {"anonymity"}


def test_hidden_partner_means_cannot_be_recovered_from_partnership_means(answers, result_dict):
    """Swap one respondent between the two hidden partners: their means change, the
    published result must not."""
    hidden = hidden_partners(result_dict)
    first, second = hidden[0], hidden[1]
    a = answers.loc[answers["partner_id"] == first, "response_id"].iloc[0]
    b = answers.loc[answers["partner_id"] == second, "response_id"].iloc[0]
    swapped = answers.copy()
    swapped.loc[swapped["response_id"] == a, "partner_id"] = second
    swapped.loc[swapped["response_id"] == b, "partner_id"] = first
    means = respondent_means(answers).groupby(["partner_id", "dimension"])["score"].mean()
    means_after = respondent_means(swapped).groupby(["partner_id", "dimension"])["score"].mean()
    assert not np.allclose(means.loc[first], means_after.loc[first])  # the hidden means moved
    assert run(swapped).to_dict() == run(answers).to_dict()


def test_partner_weighted_mean_pools_hidden_partners(answers, result_dict):
    scores = respondent_means(answers)
    hidden = hidden_partners(result_dict)
    for dim in DIMS:
        valid = scores.loc[(scores["dimension"] == dim) & scores["score"].notna()]
        shown = valid.loc[~valid["partner_id"].isin(hidden)].groupby("partner_id")["score"].mean()
        pooled = valid.loc[valid["partner_id"].isin(hidden), "score"].mean()
        expected = (shown.sum() + len(hidden) * pooled) / (len(shown) + len(hidden))
        block = table(result_dict, dim)["partnership"]["partner_weighted"]
        assert block["hidden_pooled"] is True
        assert block["mean"] == pytest.approx(expected, abs=1e-12)


def test_partner_weighted_mean_without_hidden_partners_is_mean_of_partner_means():
    sizes = {p: n for p, n in SIZES.items() if p not in ("D", "F")}
    answers = make_answers(sizes, seed=3)
    out = run(answers, partners=PARTNERS.loc[PARTNERS["partner_id"].isin(sizes)]).to_dict()
    assert hidden_partners(out) == []
    scores = respondent_means(answers)
    for dim in DIMS:
        block = table(out, dim)["partnership"]
        expected = (
            scores.loc[scores["dimension"] == dim].groupby("partner_id")["score"].mean().mean()
        )
        assert block["partner_weighted"]["mean"] == pytest.approx(expected, abs=1e-12)
        assert block["partner_weighted"]["hidden_pooled"] is False
        pooled = scores.loc[scores["dimension"] == dim, "score"]
        assert block["respondent_weighted"]["mean"] == pytest.approx(pooled.mean(), abs=1e-12)
        assert block["n"] == pooled.count()


def test_partnership_total_below_k_hides_everything():
    answers = make_answers({"A": 2, "B": 2}, seed=1)
    out = run(answers, partners=PARTNERS.iloc[:2]).to_dict()
    assert out["meta"]["n_responses"] is None
    assert out["response_counts"]["partnership"]["suppressed"] is True
    for score_table in out["scores"]:
        assert score_table["partnership"]["suppressed"] is True
        assert numbers(score_table["partners"]) == []
    for item in out["distributions"]:
        assert item["partnership"]["counts"] is None


def test_only_partner_hidden_by_a_small_score_table_hides_the_partnership_count():
    """One partner answers; it has k responses but fewer than k valid on one dimension, so it
    is hidden, and then the partnership total would be its count."""
    answers = make_answers({"A": 3}, seed=2, dont_know=0.0)
    person = (answers["response_id"] == "r1-A-000") & answers["item_id"].str.startswith("eq")
    answers.loc[person, ["value", "dont_know"]] = (np.nan, True)
    partners = PARTNERS.iloc[:3]  # A with responses, B and C without
    out = run(answers, partners=partners, k=3).to_dict()
    assert out["meta"]["n_responses"] is None
    assert out["response_counts"]["partnership"] == {
        "n": None,
        "suppressed": True,
        "reason": "anonymity",
    }
    assert [r["n"] for r in out["response_counts"]["partners"]] == [None, 0, 0]
    assert all(t["partnership"]["suppressed"] for t in out["scores"])


# --------------------------------------------------------------------------- scores


def test_partner_scores_match_plain_pandas(answers, result_dict):
    scores = respondent_means(answers)
    for dim in DIMS:
        rows = table(result_dict, dim)["partners"]
        for partner in ("A", "B", "C", "E"):
            mine = scores.loc[(scores["partner_id"] == partner) & (scores["dimension"] == dim)]
            row = partner_row(rows, partner)
            assert row["n"] == mine["score"].count()
            assert row["mean"] == pytest.approx(mine["score"].mean(), abs=1e-12)
            assert row["sd"] == pytest.approx(mine["score"].std(), abs=1e-12)
            assert row["median"] == pytest.approx(mine["score"].median(), abs=1e-12)
            share = (mine["score"].dropna() >= 4).mean()  # default: top quarter of 1-5
            assert row["share_favourable"] == pytest.approx(share, abs=1e-12)
            assert row["ci_low"] < row["mean"] < row["ci_high"]
            assert row["ci_method"] == "bca"


def test_health_index_is_mean_of_dimension_scores(answers, result_dict):
    wide = respondent_means(answers).pivot(index="response_id", columns="dimension", values="score")
    partner = answers.drop_duplicates("response_id").set_index("response_id")["partner_id"]
    total = wide.mean(axis=1, skipna=False)  # every dimension must be scored
    row = partner_row(table(result_dict, TOTAL)["partners"], "A")
    a_total = total[partner[total.index] == "A"]
    assert row["n"] == a_total.count()
    assert row["mean"] == pytest.approx(a_total.mean(), abs=1e-12)
    assert table(result_dict, TOTAL)["label"]["en"] == "Partnership health index"


def test_bands_and_sentences(result_dict):
    eq = table(result_dict, "eq")
    a = partner_row(eq["partners"], "A")
    assert a["mean"] > 3.5 and a["band"]["id"] == "strength"
    assert a["band"]["label"] == {"id": "Kuat", "en": "Strength"}
    assert "Equality (Dinas Kesehatan)" in a["sentence"]["en"]
    assert "Kesetaraan (Dinas Kesehatan)" in a["sentence"]["id"]
    assert "Strength" in a["sentence"]["en"]
    d = partner_row(eq["partners"], "D")
    assert d["suppressed"] and "5" in d["sentence"]["en"]
    assert table(result_dict, TOTAL)["partners"][0]["band"] is None  # no total_bands given


def test_heatmap_matches_score_tables(result_dict):
    heat = result_dict["heatmap"]
    assert heat["dimensions"] == list(DIMS)
    assert (heat["scale_min"], heat["scale_max"]) == (1.0, 5.0)
    for i, partner in enumerate(heat["partners"]):
        for j, dim in enumerate(heat["dimensions"]):
            row = partner_row(table(result_dict, dim)["partners"], partner)
            assert heat["mean"][i][j] == row["mean"]
            assert heat["suppressed"][i] == row["suppressed"]


# --------------------------------------------------------------------------- distributions


def test_distributions_count_answers_and_hide_small_groups(answers, result_dict):
    item = next(d for d in result_dict["distributions"] if d["item_id"] == "eq1")
    assert item["values"] == [1.0, 2.0, 3.0, 4.0, 5.0]
    rows = answers.loc[answers["item_id"] == "eq1"]
    for partner in ("A", "B"):
        mine = rows.loc[rows["partner_id"] == partner]
        row = partner_row(item["partners"], partner)
        expected = [int((mine["value"] == v).sum()) for v in item["values"]]
        assert row["counts"] == expected
        assert row["dont_know"] == int(mine["dont_know"].sum())
        assert row["n"] == len(mine)
    part = item["partnership"]
    assert part["counts"] == [int((rows["value"] == v).sum()) for v in item["values"]]
    # D (3) and F (12) are hidden everywhere; the hidden group is at least the threshold.
    hidden = [r for r in item["partners"] if r["suppressed"]]
    assert {r["partner_id"] for r in hidden} >= {"D", "F"}
    assert part["n"] - sum(r["n"] for r in item["partners"] if not r["suppressed"]) >= 8


def test_distribution_of_partner_between_k_and_threshold_is_hidden_with_a_complement():
    sizes = {"A": 30, "B": 25, "C": 6, "E": 20}  # C: shown scores (>= 5), distribution < 8
    answers = make_answers(sizes, seed=4, dont_know=0.0)
    partners = PARTNERS.loc[PARTNERS["partner_id"].isin(sizes)]
    out = run(answers, partners=partners).to_dict()
    assert hidden_partners(out) == []
    assert partner_row(table(out, "eq")["partners"], "C")["mean"] is not None
    for item in out["distributions"]:
        hidden = {r["partner_id"] for r in item["partners"] if r["suppressed"]}
        assert hidden == {"C", "E"}  # C below 8; E, the smallest other, hides with it
    gaps_items = out["perception_gaps"]["items"]
    assert all(set(row["groups"]) <= {"A", "B"} for row in gaps_items)


# --------------------------------------------------------------------------- tests


def test_large_difference_is_found_with_small_p(result_dict):
    eq = next(r for r in result_dict["partner_differences"] if r["dimension"] == "eq")
    assert eq["test"] == "kruskal_wallis"
    assert set(eq["groups"]) == {"A", "B", "C", "E"}
    assert eq["p_adjusted"] < 1e-3 and eq["effect_size"] > 0.14
    pairs = [p for p in eq["pairs"] if "A" in (p["group_a"], p["group_b"])]
    assert len(pairs) == 3 and all(p["p_adjusted"] < 0.01 for p in pairs)
    assert "Partners see Equality differently" in eq["sentence"]["en"]
    assert "Dinas Kesehatan" in eq["sentence"]["en"]
    mb = next(r for r in result_dict["partner_differences"] if r["dimension"] == "mb")
    assert mb["p_adjusted"] > 0.01  # no difference was built into shared benefit
    gap = next(r for r in result_dict["perception_gaps"]["dimensions"] if r["dimension"] == "eq")
    assert gap["high_group"] == "A" and gap["gap"] > 1.0 and gap["p_adjusted"] < 0.01


def test_item_gaps_use_reverse_coded_answers(result_dict):
    rows = {r["item_id"]: r for r in result_dict["perception_gaps"]["items"]}
    assert rows["eq4"]["high_group"] == "A"  # eq4 is reverse-keyed: still A highest
    assert rows["eq4"]["dimension"] == "eq"
    assert rows["eq4"]["label"] == {"id": "eq4", "en": "eq4"}  # no label given: the id


def test_split_partner_is_flagged(result_dict):
    rows = [r for r in result_dict["agreement"] if r["dimension"] == "tr"]
    assert {r["partner_id"] for r in rows} == {"A", "B", "C", "E"}
    assert partner_row(rows, "E")["split"] is True
    assert all(r["split"] is False for r in rows if r["partner_id"] != "E")
    assert "split" in partner_row(rows, "E")["sentence"]["en"]


def test_reliability_flags_item_that_runs_against_its_dimension():
    answers = make_answers(SIZES, seed=5)
    # Store mb3 (reverse-keyed) un-reversed: it now runs against mb1 and mb2.
    flip = answers["item_id"] == "mb3"
    answers.loc[flip, "value"] = 6 - answers.loc[flip, "value"]
    out = run(answers).to_dict()
    mb = next(r for r in out["reliability"] if r["dimension"] == "mb")
    assert "mb3" in mb["items_negative_r"]
    eq = next(r for r in out["reliability"] if r["dimension"] == "eq")
    assert eq["items_negative_r"] == [] and eq["alpha"] > 0.5
    assert "mb3" in mb["sentence"]["en"]


def test_rating_matrix_and_asymmetry(answers, result_dict):
    item = result_dict["rating_matrix"][0]
    assert item["item_id"] == "delivers"
    cells = {(c["rater_partner_id"], c["ratee_partner_id"]): c for c in item["cells"]}
    assert all(rater != ratee for rater, ratee in cells)  # the self-rating was dropped
    assert {"note": "self_ratings_dropped"} in result_dict["notes"]
    assert cells[("D", "A")]["suppressed"] and cells[("D", "A")]["mean"] is None
    assert cells[("F", "A")]["suppressed"]  # F is hidden as a partner, so as a rater too
    ratings = make_ratings(answers)
    ab = ratings.loc[(ratings["rater_partner_id"] == "A") & (ratings["ratee_partner_id"] == "B")]
    assert cells[("A", "B")]["mean"] == pytest.approx(ab["value"].mean())
    assert cells[("A", "B")]["n"] == len(ab)
    (pair,) = result_dict["asymmetries"]
    assert (pair["rater"], pair["ratee"]) == ("A", "B")
    assert pair["difference"] <= -ASYMMETRY_MIN_POINTS
    assert pair["difference"] == pytest.approx(pair["mean_ab"] - pair["mean_ba"])
    assert pair["p_adjusted"] < 0.005
    assert "Dinas Kesehatan rates Puskesmas" in pair["sentence"]["en"]


# --------------------------------------------------------------------------- serialisation


def test_to_dict_is_strict_json_and_round_trips(result_dict):
    text = json.dumps(result_dict, allow_nan=False)
    assert json.loads(text) == result_dict


def test_same_seed_same_result_other_seed_other_intervals(answers, result_dict):
    again = run(answers, ratings=make_ratings(answers)).to_dict()
    assert again == result_dict
    other = run(answers, ratings=make_ratings(answers), random_state=7).to_dict()
    a = partner_row(table(result_dict, "eq")["partners"], "B")
    b = partner_row(table(other, "eq")["partners"], "B")
    assert a["mean"] == b["mean"] and (a["ci_low"], a["ci_high"]) != (b["ci_low"], b["ci_high"])


def test_inputs_are_not_mutated(answers):
    before = answers.copy()
    items_before = ITEMS.copy()
    run(answers)
    pd.testing.assert_frame_equal(answers, before)
    pd.testing.assert_frame_equal(ITEMS, items_before)


def test_meta_records_methods_and_versions(result_dict):
    meta = result_dict["meta"]
    assert meta["round_id"] == 1 and meta["k"] == K and meta["comment_threshold"] == 8
    assert meta["n_responses"] == sum(SIZES.values())
    assert meta["methods"]["interval"]["n_resamples"] == 2000
    assert meta["methods"]["partner_differences"]["p_adjust"] == "holm"
    assert set(meta["versions"]) >= {"numpy", "scipy", "pandas"}
    assert [d["dimension"] for d in meta["dimensions"]] == [*DIMS, TOTAL]


def test_scores_frame_for_notebooks(result):
    frame = result.scores_frame()
    assert len(frame) == (len(DIMS) + 1) * (len(SIZES) + 1)
    a = frame.loc[(frame["dimension"] == "eq") & (frame["partner_id"] == "A")].iloc[0]
    assert a["mean"] == partner_row(table(result.to_dict(), "eq")["partners"], "A")["mean"]


# --------------------------------------------------------------------------- over time


@pytest.fixture(scope="module")
def three_rounds() -> pd.DataFrame:
    sizes = {"A": 20, "B": 18, "C": 16, "E": 15}
    return pd.concat(
        [
            make_answers(sizes, round_id=r, seed=10 + r, level=2.2 + 0.7 * r, high=None, split=None)
            for r in (1, 2, 3)
        ],
        ignore_index=True,
    )


def test_over_time_detects_improving_trend(three_rounds):
    partners = PARTNERS.loc[PARTNERS["partner_id"].isin(["A", "B", "C", "E"])]
    out = partnership_over_time(
        three_rounds, ITEMS, partners=partners, k=K, round_order=[1, 2, 3], labels=LABELS
    ).to_dict()
    json.dumps(out, allow_nan=False)
    trends = [t for t in out["trends"] if t["partner_id"] is None]
    assert {t["dimension"] for t in trends} == {*DIMS, TOTAL}
    for trend in trends:
        assert trend["z"] > 3 and trend["tau_b"] > 0 and trend["p_adjusted"] < 0.001
        assert "tended to rise" in trend["sentence"]["en"]
    changes = [c for c in out["changes"] if c["partner_id"] is None]
    assert len(changes) == 2 * (len(DIMS) + 1)
    assert all(c["mean_difference"] > 0.3 for c in changes)
    latest = out["largest_changes"]
    assert latest and all(c["round_to"] == 3 for c in latest)
    diffs = [abs(c["mean_difference"]) for c in latest]
    assert diffs == sorted(diffs, reverse=True)
    series = next(s for s in out["series"] if s["dimension"] == "eq")
    means = [point["mean"] for point in series["partnership"]]
    assert means == sorted(means)
    assert all(p["ci_low"] < p["mean"] < p["ci_high"] for p in series["partnership"])


def test_round_results_with_previous_equals_over_time_of_all_rounds(three_rounds):
    partners = PARTNERS.loc[PARTNERS["partner_id"].isin(["A", "B", "C", "E"])]
    latest = three_rounds.loc[three_rounds["round_id"] == 3]
    earlier = three_rounds.loc[three_rounds["round_id"] < 3]
    with_previous = run(latest, round_id=3, partners=partners, previous=earlier).to_dict()
    all_in_one = run(three_rounds, round_id=3, partners=partners, round_order=[1, 2, 3]).to_dict()
    alone = run(latest, round_id=3, partners=partners).to_dict()
    assert with_previous == all_in_one
    assert alone["over_time"] is None
    assert {k: v for k, v in alone.items() if k != "over_time"} == {
        k: v for k, v in with_previous.items() if k != "over_time"
    }


def test_partner_hidden_in_a_round_is_left_out_of_its_changes():
    rounds = [
        make_answers({"A": 20, "B": 18, "C": 16}, round_id=1, seed=1, high=None, split=None),
        make_answers({"A": 20, "B": 18, "C": 3}, round_id=2, seed=2, high=None, split=None),
    ]
    partners = PARTNERS.loc[PARTNERS["partner_id"].isin(["A", "B", "C"])]
    out = partnership_over_time(
        pd.concat(rounds), ITEMS, partners=partners, k=K, round_order=[1, 2]
    ).to_dict()
    # Round 2: C has 3, so the next smallest (B) is hidden too.
    for change in out["changes"]:
        if change["partner_id"] in ("B", "C"):
            assert change["reason"] == "anonymity"
            figures = {k: v for k, v in change.items() if k not in ("round_from", "round_to")}
            assert numbers(figures) == []
    series = next(s for s in out["series"] if s["dimension"] == "eq")
    c = next(p for p in series["partners"] if p["partner_id"] == "C")
    assert c["rounds"][0]["suppressed"] is False and c["rounds"][1]["suppressed"] is True
    assert numbers({k: v for k, v in c["rounds"][1].items() if k != "round_id"}) == []


def test_items_missing_in_one_version_are_left_out_of_that_comparison():
    sizes = {"A": 20, "B": 18, "C": 16}
    r1 = make_answers(sizes, round_id=1, seed=1, high=None, split=None)
    r2 = make_answers(sizes, round_id=2, seed=2, high=None, split=None)
    r2 = r2.loc[r2["item_id"] != "eq2"]  # the second version has no eq2
    partners = PARTNERS.loc[PARTNERS["partner_id"].isin(sizes)]
    out = partnership_over_time(
        pd.concat([r1, r2]), ITEMS, partners=partners, k=K, round_order=[1, 2]
    ).to_dict()
    notes = [n for n in out["notes"] if n["note"] == "items_not_in_both_rounds"]
    assert notes == [
        {"note": "items_not_in_both_rounds", "round_from": 1, "round_to": 2, "items": ["eq2"]}
    ]
    eq = next(c for c in out["changes"] if c["partner_id"] is None and c["dimension"] == "eq")
    mb = next(c for c in out["changes"] if c["partner_id"] is None and c["dimension"] == "mb")
    assert eq["items"] == "common" and mb["items"] == "common"
    # Round 1's eq on the shared items (eq1, eq3, eq4), computed here with plain pandas.
    scores = respondent_means(r1.loc[r1["item_id"] != "eq2"])
    expected = scores.loc[scores["dimension"] == "eq", "score"].mean()
    assert eq["mean_from"] == pytest.approx(expected, abs=1e-12)


def test_filtered_group_differing_by_fewer_than_k_is_withheld():
    """Common items change who has a valid score; a difference below k must not show."""
    sizes = {"A": 20, "B": 18, "C": 16}
    r1 = make_answers(sizes, round_id=1, seed=1, high=None, split=None, dont_know=0.0)
    r2 = make_answers(sizes, round_id=2, seed=2, high=None, split=None, dont_know=0.0)
    r2 = r2.loc[~r2["item_id"].isin(["mb2"])]  # version 2 lacks mb2
    # Two of A's round-1 respondents answered only mb2 and mb3: valid on mb (2 of 3), not
    # on the shared items (1 of 2 < two items).
    for person in ("r1-A-000", "r1-A-001"):
        r1.loc[(r1["response_id"] == person) & (r1["item_id"] == "mb1"), ["value", "dont_know"]] = (
            np.nan,
            True,
        )
    partners = PARTNERS.loc[PARTNERS["partner_id"].isin(sizes)]
    out = partnership_over_time(
        pd.concat([r1, r2]), ITEMS, partners=partners, k=K, round_order=[1, 2]
    ).to_dict()
    a_mb = next(c for c in out["changes"] if c["partner_id"] == "A" and c["dimension"] == "mb")
    assert a_mb["reason"] == "anonymity" and a_mb["mean_from"] is None
    b_mb = next(c for c in out["changes"] if c["partner_id"] == "B" and c["dimension"] == "mb")
    assert b_mb["reason"] is None and b_mb["n_from"] == 18
    whole = next(c for c in out["changes"] if c["partner_id"] is None and c["dimension"] == "mb")
    assert whole["reason"] == "anonymity"  # 54 own versus 52 on shared items


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda a, kw: (a.assign(partner_id="Z"), kw), ValueError, "not in partners"),
        (lambda a, kw: (a, {**kw, "k": 2}), ValueError, "k must be at least 3"),
        (lambda a, kw: (a, {**kw, "p_adjust": "bonferroni"}), ValueError, "p_adjust"),
        (lambda a, kw: (a, {**kw, "round_id": 9}), ValueError, "no rows for round_id 9"),
        (
            lambda a, kw: (pd.concat([a, a.assign(round_id=2)]), kw),
            ValueError,
            "pass round_order",
        ),
        (lambda a, kw: (a, {**kw, "bands": {"eq": [{"id": "x"}]}}), ValueError, "each band"),
        (lambda a, kw: (a, {**kw, "labels": {"eq": "Equality"}}), ValueError, "labels"),
        (
            lambda a, kw: (a, {**kw, "partners": PARTNERS.drop(columns="sector")}),
            ValueError,
            "sector",
        ),
        (lambda a, kw: (a.drop(columns="item_id"), kw), ValueError, "item_id"),
        (lambda a, kw: (a, {**kw, "random_state": None}), TypeError, "random_state"),
    ],
)
def test_bad_input_raises_clear_errors(answers, change, error, match):
    frame, kwargs = change(answers, {"round_id": 1, "partners": PARTNERS, "k": K})
    with pytest.raises(error, match=match):
        round_results(frame, ITEMS, **kwargs)


def test_dimension_named_total_is_refused(answers):
    items = ITEMS.assign(dimension=ITEMS["dimension"].replace({"mb": TOTAL}))
    with pytest.raises(ValueError, match="reserved"):
        round_results(answers, items, round_id=1, partners=PARTNERS, k=K)


def test_ratings_by_a_response_of_another_partner_are_refused(answers):
    ratings = make_ratings(answers)
    ratings.loc[0, "rater_partner_id"] = "C" if ratings.loc[0, "rater_partner_id"] != "C" else "B"
    with pytest.raises(ValueError, match="other than its own"):
        run(answers, ratings=ratings)


# --------------------------------------------------------------------------- property


def table_counts(result_dict: dict[str, Any]) -> list[tuple[int | None, list[int | None]]]:
    """(partnership n, partner n's) of every published count table."""
    counts = result_dict["response_counts"]
    out = [(counts["partnership"]["n"], [r["n"] for r in counts["partners"]])]
    for score_table in result_dict["scores"]:
        out.append((score_table["partnership"]["n"], [r["n"] for r in score_table["partners"]]))
    return out


def true_counts(answers: pd.DataFrame, ids: list[str]) -> list[list[int]]:
    """The real counts of the same tables, from the raw answers."""
    people = answers.drop_duplicates("response_id")["partner_id"].value_counts()
    out = [[int(people.get(p, 0)) for p in ids]]
    scores = respondent_means(answers)
    for dim in DIMS:
        valid = scores.loc[(scores["dimension"] == dim) & scores["score"].notna()]
        sizes = valid["partner_id"].value_counts()
        out.append([int(sizes.get(p, 0)) for p in ids])
    wide = scores.pivot(index="response_id", columns="dimension", values="score").dropna()
    owner = answers.drop_duplicates("response_id").set_index("response_id")["partner_id"]
    sizes = owner[wide.index].value_counts()
    out.append([int(sizes.get(p, 0)) for p in ids])
    return out


def pinned_by_counts(published: tuple[int | None, list[int | None]], truth: list[int], k: int):
    """Hidden partners an attacker can pin: knowing the shown counts, the total and which
    hidden partners have at least one value (a stronger attacker than the reader), each such
    partner lies in [1, H - (h - 1)]; a single value, or a hidden group below k, is a leak."""
    total, shown = published
    if total is None:
        return []
    hidden = [i for i, n in enumerate(shown) if n is None and truth[i] > 0]
    if not hidden:
        return []
    held = total - sum(n for n in shown if n is not None)
    if len(hidden) == 1 or held == len(hidden) or held < k:
        return hidden
    return []


def hidden_means_pinned(result_dict: dict[str, Any], answers: pd.DataFrame, ids: list[str]):
    """Hidden partners whose dimension mean follows from the published partnership means by
    linear algebra, for an attacker who also knows every partner's true count."""
    scores = respondent_means(answers)
    leaks = []
    for dim in DIMS:
        block = table(result_dict, dim)["partnership"]
        if block["suppressed"]:
            continue
        valid = scores.loc[(scores["dimension"] == dim) & scores["score"].notna()]
        n = valid["partner_id"].value_counts()
        rows = table(result_dict, dim)["partners"]
        hidden = [r["partner_id"] for r in rows if r["suppressed"] and n.get(r["partner_id"], 0)]
        if not hidden:
            continue
        equations = [[float(n[p]) for p in hidden]]  # respondent-weighted mean
        weighted = block["partner_weighted"]
        if weighted is not None and not weighted["hidden_pooled"]:
            equations.append([1.0] * len(hidden))  # a true mean of partner means
        a = np.array(equations)
        for j, partner in enumerate(hidden):
            unit = np.zeros(len(hidden))
            unit[j] = 1.0
            if np.linalg.matrix_rank(np.vstack([a, unit])) == np.linalg.matrix_rank(a):
                leaks.append((dim, partner))
    return leaks


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    partnership=st.lists(
        st.tuples(st.integers(min_value=0, max_value=14), st.sampled_from([0.0, 0.05, 0.5, 0.8])),
        min_size=3,
        max_size=6,
    ),
    k=st.sampled_from([3, 5]),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_property_no_hidden_count_or_mean_can_be_recovered(partnership, k, seed):
    """Random partnerships (sizes 0-14, some partners answering "don't know" a lot, so that a
    partner can be small in one table only): no hidden count or mean can be worked out."""
    ids = [f"P{i}" for i in range(len(partnership))]
    partners = pd.DataFrame({"partner_id": ids, "name": ids, "sector": "ngo"})
    answers = make_answers(
        {p: n for p, (n, _) in zip(ids, partnership, strict=True)},
        seed=seed,
        high=None,
        split=None,
        dont_know={p: rate for p, (_, rate) in zip(ids, partnership, strict=True)},
    )
    if answers.empty:
        return
    out = round_results(answers, ITEMS, round_id=1, partners=partners, k=k).to_dict()
    truth = true_counts(answers, ids)
    for published, real in zip(table_counts(out), truth, strict=True):
        assert pinned_by_counts(published, real, k) == [], (published, real)
    assert hidden_means_pinned(out, answers, ids) == []
    for i, partner in enumerate(ids):  # below k: no number anywhere
        if 0 < truth[0][i] < k:
            for _, node in walk(out):
                if isinstance(node, dict) and node.get("partner_id") == partner:
                    assert numbers(node) == []
    # Swapping respondents between two hidden partners changes nothing published. The two
    # must be valid in the same tables, so that every table keeps its counts (counts decide
    # what is hidden, and are protected by the checks above).
    hidden = [p for p, n in zip(ids, truth[0], strict=True) if n and p in hidden_partners(out)]
    pattern = (
        respondent_means(answers)
        .pivot(index="response_id", columns="dimension", values="score")
        .notna()
    )
    pattern = pattern.apply(tuple, axis=1)
    owner = answers.drop_duplicates("response_id").set_index("response_id")["partner_id"]
    pairs = (
        [
            (a, b)
            for a in owner.index[owner == hidden[0]]
            for b in owner.index[owner == hidden[1]]
            if pattern[a] == pattern[b]
        ]
        if len(hidden) >= 2
        else []
    )
    if pairs:
        first, second = pairs[0]
        swapped = answers.copy()
        swapped.loc[swapped["response_id"] == first, "partner_id"] = hidden[1]
        swapped.loc[swapped["response_id"] == second, "partner_id"] = hidden[0]
        again = round_results(swapped, ITEMS, round_id=1, partners=partners, k=k).to_dict()
        assert again == out


def test_to_dict_returns_a_copy(result):
    first = result.to_dict()
    mutated = copy.deepcopy(first)
    first["scores"][0]["partners"][0]["mean"] = -1
    assert result.to_dict() == mutated
