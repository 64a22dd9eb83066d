"""Tests for analysis.scoring: reverse coding, dimension scores, totals, bands, partnership."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.scoring import (
    SCORE_COLUMNS,
    assign_bands,
    dimension_scores,
    item_matrix,
    partnership_score,
    reverse_code,
    total_scores,
)

NAN = float("nan")


def long_answers(rows, item_ids, partner="A", round_id=1, prefix="r"):
    """Long answers frame from a respondents x items list of lists (None = missing)."""
    records = [
        (f"{prefix}{i}", round_id, partner, item, NAN if v is None else float(v))
        for i, row in enumerate(rows)
        for item, v in zip(item_ids, row, strict=True)
    ]
    return pd.DataFrame(
        records, columns=["response_id", "round_id", "partner_id", "item_id", "value"]
    )


def item_map(dimensions, reverse, scale=(1, 5), ids=None):
    ids = ids or [f"q{j + 1}" for j in range(len(dimensions))]
    return pd.DataFrame(
        {
            "item_id": ids,
            "dimension": dimensions,
            "reverse": reverse,
            "scale_min": scale[0],
            "scale_max": scale[1],
        }
    )


# --------------------------------------------------------------------------- reference S01


def test_s01_reference_case(case):
    c = case("S01")
    params, data = c["parameters"], c["data"]
    lo, hi = params["scale"]
    dk = params["dont_know_code"]
    answers = long_answers(data["rows"], data["columns"])
    answers["dont_know"] = answers["value"] == dk  # the survey's "don't know" code
    items = item_map(
        ["d"] * len(data["columns"]),
        [col in params["reverse"] for col in data["columns"]],
        scale=(lo, hi),
        ids=data["columns"],
    )
    scores = dimension_scores(answers, items, min_answered=0.5, min_items=2)
    tol = c["tolerance"]
    expected = [NAN if v is None else v for v in c["expected"]["scores"]]
    got = scores.sort_values("response_id")["score"].tolist()
    assert got == pytest.approx(expected, abs=tol, nan_ok=True), f"S01 ({c['source']})"
    partner = partnership_score(scores)
    assert partner["score"].item() == pytest.approx(c["expected"]["partner_mean"], abs=tol), (
        f"S01 partner mean ({c['source']})"
    )
    assert partner["n"].item() == c["expected"]["n_valid"]


def test_s01_dont_know_code_as_number_is_refused(case):
    c = case("S01")
    data = c["data"]
    answers = long_answers(data["rows"], data["columns"])  # 0 = "don't know", left as a number
    items = item_map(["d"] * 4, [False, False, True, False], ids=data["columns"])
    with pytest.raises(ValueError, match="outside the scale"):
        dimension_scores(answers, items)


# --------------------------------------------------------------------------- reverse_code


def test_reverse_code_by_hand():
    assert reverse_code([1, 2, 3, 4, 5], 1, 5).tolist() == [5, 4, 3, 2, 1]
    assert reverse_code([0, 1, 4], 0, 4).tolist() == [4, 3, 0]
    assert reverse_code(2.0, 1, 7) == 6.0
    assert math.isnan(reverse_code([np.nan], 1, 5)[0])


def test_reverse_code_keeps_series_index_and_per_item_bounds():
    s = pd.Series([1.0, 4.0], index=["x", "y"], name="v")
    out = reverse_code(s, 1, 5)
    assert list(out.index) == ["x", "y"] and out.name == "v"
    assert out.tolist() == [5.0, 2.0]
    assert reverse_code([1.0, 1.0], [1, 0], [5, 4]).tolist() == [5.0, 3.0]


@pytest.mark.parametrize(
    ("values", "lo", "hi"), [([6], 1, 5), ([0], 1, 5), ([1], 5, 1), ([1], 3, 3)]
)
def test_reverse_code_rejects_bad_input(values, lo, hi):
    with pytest.raises(ValueError):
        reverse_code(values, lo, hi)


@settings(max_examples=60, deadline=None)
@given(
    scale=st.sampled_from([(1, 5), (0, 4), (1, 7), (0, 10)]),
    data=st.data(),
)
def test_reverse_twice_is_identity(scale, data):
    lo, hi = scale
    values = data.draw(
        st.lists(st.one_of(st.integers(lo, hi).map(float), st.just(NAN)), min_size=1)
    )
    twice = reverse_code(reverse_code(values, lo, hi), lo, hi)
    np.testing.assert_array_equal(twice, np.asarray(values, dtype=float))


# --------------------------------------------------------------------------- dimension_scores


def test_dimension_scores_by_hand():
    # q1-q3 in "equality" (q3 reversed), q4-q5 in "benefit" (q5 reversed), scale 1-5.
    items = item_map(["equality"] * 3 + ["benefit"] * 2, [False, False, True, False, True])
    rows = [
        [4, 5, 2, 3, 1],  # equality (4 + 5 + 4) / 3; benefit (3 + 5) / 2
        [3, None, 1, None, 2],  # equality (3 + 5) / 2; benefit 1 of 2 answered -> NaN
        [None, None, None, 5, 5],  # equality none answered; benefit (5 + 1) / 2
    ]
    scores = dimension_scores(long_answers(rows, list(items["item_id"])), items)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    table = scores.set_index(["response_id", "dimension"])
    assert table.loc[("r0", "equality"), "score"] == pytest.approx(13 / 3)
    assert table.loc[("r0", "benefit"), "score"] == pytest.approx(4.0)
    assert table.loc[("r1", "equality"), "score"] == pytest.approx(4.0)
    assert math.isnan(table.loc[("r1", "benefit"), "score"])
    assert math.isnan(table.loc[("r2", "equality"), "score"])
    assert table.loc[("r2", "benefit"), "score"] == pytest.approx(3.0)
    assert table["n_answered"].tolist() == [3, 2, 2, 1, 0, 2]
    assert table["n_items"].tolist() == [3, 2, 3, 2, 3, 2]
    assert scores["dimension"].tolist()[:2] == ["equality", "benefit"]  # item-map order


def test_sum_scoring_prorates_missing_items():
    items = item_map(["d"] * 4, [False, False, True, False])
    rows = [[4, None, 2, 5], [4, 3, 2, 5]]  # reversed q3: 2 -> 4
    dims = pd.DataFrame({"dimension": ["d"], "scoring": ["sum"]})
    scores = dimension_scores(long_answers(rows, list(items["item_id"])), items, dims)
    # Prorated: 4 items x mean(4, 4, 5); complete respondent: the plain sum 4 + 3 + 4 + 5.
    assert scores["score"].tolist() == pytest.approx([4 * 13 / 3, 16.0])


def test_min_answered_and_min_items_rules():
    items = item_map(["four"] * 4 + ["two"] * 2, [False] * 6)
    rows = [
        [5, None, None, None, 4, None],  # 1 of 4; 1 of 2
        [5, 3, None, None, 4, 2],  # 2 of 4 (exactly half); 2 of 2
    ]
    answers = long_answers(rows, list(items["item_id"]))
    table = dimension_scores(answers, items).set_index(["response_id", "dimension"])["score"]
    assert math.isnan(table[("r0", "four")])
    assert math.isnan(table[("r0", "two")])  # half of 2 items is 1, but the floor is 2
    assert table[("r1", "four")] == pytest.approx(4.0)
    relaxed = dimension_scores(answers, items, min_items=1).set_index(["response_id", "dimension"])[
        "score"
    ]
    assert relaxed[("r0", "two")] == pytest.approx(4.0)
    assert math.isnan(relaxed[("r0", "four")])  # 1/4 < 0.5 still
    strict = dimension_scores(
        answers, items, pd.DataFrame({"dimension": ["four"], "min_answered": [1.0]})
    ).set_index(["response_id", "dimension"])["score"]
    assert math.isnan(strict[("r1", "four")])
    assert strict[("r1", "two")] == pytest.approx(3.0)


def test_share_threshold_is_not_fooled_by_floating_point():
    # 0.6 * 5 is 3.0000000000000004 in floating point; 3 of 5 answered must still count.
    items = item_map(["d"] * 5, [False] * 5)
    answers = long_answers([[4, 4, 4, None, None]], list(items["item_id"]))
    assert dimension_scores(answers, items, min_answered=0.6)["score"].item() == 4.0


def test_dont_know_flag_forces_missing_whatever_the_value():
    items = item_map(["d"] * 3, [False] * 3)
    answers = long_answers([[5, 3, 1]], list(items["item_id"]))
    answers["dont_know"] = [False, True, False]  # the 3 was a "don't know" stored as midpoint
    out = dimension_scores(answers, items)
    assert out["score"].item() == 3.0  # mean(5, 1), not mean(5, 3, 1)
    assert out["n_answered"].item() == 2


def test_input_frames_are_not_mutated_and_categoricals_survive():
    items = item_map(["d"] * 2, [False, True])
    answers = long_answers([[5, 1], [2, 2]], list(items["item_id"]))
    answers["partner_id"] = pd.Categorical(answers["partner_id"], categories=["A", "B"])
    before_a, before_i = answers.copy(), items.copy()
    out = dimension_scores(answers, items)
    pd.testing.assert_frame_equal(answers, before_a)
    pd.testing.assert_frame_equal(items, before_i)
    assert isinstance(out["partner_id"].dtype, pd.CategoricalDtype)
    assert out["score"].tolist() == [5.0, 3.0]  # (5 + 5) / 2, (2 + 4) / 2


def test_item_matrix_reverse_codes_and_pivots():
    items = item_map(["d"] * 2, [False, True])
    answers = long_answers([[5, 1], [2, None]], list(items["item_id"]))
    wide = item_matrix(answers, items)
    assert wide.index.tolist() == ["r0", "r1"]
    assert wide["q2"].tolist()[0] == 5.0 and math.isnan(wide["q2"].tolist()[1])
    assert item_matrix(answers, items, reverse=False)["q2"].tolist()[0] == 1.0


@pytest.mark.parametrize(
    ("mutate", "error", "match"),
    [
        (
            lambda a, i: (a.drop(columns="partner_id"), i),
            ValueError,
            "answers is missing.*partner_id",
        ),
        (lambda a, i: (a, i.drop(columns="reverse")), ValueError, "items is missing.*reverse"),
        (lambda a, i: (a.assign(item_id="zz"), i), ValueError, "not in items"),
        (lambda a, i: (pd.concat([a, a.iloc[:1]]), i), ValueError, "more than one row"),
        (lambda a, i: (a.assign(value=a["value"].astype(str)), i), TypeError, "numeric"),
        (lambda a, i: (a.assign(value=9.0), i), ValueError, "outside the scale"),
        (lambda a, i: (a.assign(partner_id=["A", "B", "A", "A"]), i), ValueError, "more than one"),
        (lambda a, i: (a, i.assign(reverse="yes")), TypeError, "True/False"),
        (lambda a, i: (a, i.assign(scale_min=5)), ValueError, "scale_min"),
        (lambda a, i: (a, pd.concat([i, i.iloc[:1]])), ValueError, "more than once"),
        (lambda a, i: ([1, 2], i), TypeError, "DataFrame"),
    ],
)
def test_dimension_scores_rejects_bad_input(mutate, error, match):
    items = item_map(["d"] * 2, [False, True])
    answers = long_answers([[5, 1], [2, 2]], list(items["item_id"]))
    bad_answers, bad_items = mutate(answers, items)
    with pytest.raises(error, match=match):
        dimension_scores(bad_answers, bad_items)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"min_answered": 1.5}, ValueError),
        ({"min_answered": "half"}, TypeError),
        ({"scoring": "median"}, ValueError),
        ({"dimensions": pd.DataFrame({"dimension": ["nope"]})}, ValueError),
        ({"dimensions": pd.DataFrame({"dimension": ["d"], "scoring": ["max"]})}, ValueError),
        ({"min_items": 1.5}, TypeError),
    ],
)
def test_dimension_scores_rejects_bad_options(kwargs, error):
    items = item_map(["d"] * 2, [False, True])
    answers = long_answers([[5, 1]], list(items["item_id"]))
    with pytest.raises(error):
        dimension_scores(answers, items, **kwargs)


# --------------------------------------------------------------------------- properties


@st.composite
def questionnaires(draw):
    """Random item map plus a matrix of answers (NaN = missing / don't know)."""
    lo, hi = draw(st.sampled_from([(1, 5), (0, 4), (1, 7)]))
    n_items = draw(st.integers(1, 6))
    dims = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n_items, max_size=n_items))
    reverse = draw(st.lists(st.booleans(), min_size=n_items, max_size=n_items))
    n_resp = draw(st.integers(1, 6))
    cell = st.one_of(st.integers(lo, hi).map(float), st.just(NAN))
    matrix = draw(
        st.lists(
            st.lists(cell, min_size=n_items, max_size=n_items), min_size=n_resp, max_size=n_resp
        )
    )
    items = item_map(dims, reverse, scale=(lo, hi))
    return items, matrix


def _scores_by_key(scores):
    return {
        (r, d): (s, n)
        for r, d, s, n in zip(
            scores["response_id"],
            scores["dimension"],
            scores["score"],
            scores["n_answered"],
            strict=True,
        )
    }


@settings(max_examples=80, deadline=None)
@given(q=questionnaires(), seed=st.integers(0, 2**32 - 1))
def test_row_order_changes_no_score(q, seed):
    items, matrix = q
    answers = long_answers(matrix, list(items["item_id"]))
    shuffled = answers.sample(frac=1.0, random_state=np.random.RandomState(seed))
    a = _scores_by_key(dimension_scores(answers, items, min_items=1))
    b = _scores_by_key(dimension_scores(shuffled, items, min_items=1))
    assert a.keys() == b.keys()
    for key, (score, n) in a.items():
        assert b[key][1] == n
        assert (math.isnan(score) and math.isnan(b[key][0])) or b[key][0] == pytest.approx(score)


@settings(max_examples=80, deadline=None)
@given(q=questionnaires())
def test_score_is_mean_of_answered_items_only(q):
    # Independent computation in plain Python: missing answers are skipped, never 0 or midpoint.
    items, matrix = q
    scores = dimension_scores(
        long_answers(matrix, list(items["item_id"])), items, min_answered=0.0, min_items=1
    )
    got = _scores_by_key(scores)
    for i, row in enumerate(matrix):
        for dim in set(items["dimension"]):
            recoded = [
                (it.scale_min + it.scale_max - v) if it.reverse else v
                for it, v in zip(items.itertuples(), row, strict=True)
                if it.dimension == dim and not math.isnan(v)
            ]
            score, n = got[(f"r{i}", dim)]
            assert n == len(recoded)
            if recoded:
                assert score == pytest.approx(sum(recoded) / len(recoded))
            else:
                assert math.isnan(score)


@settings(max_examples=80, deadline=None)
@given(q=questionnaires(), data=st.data())
def test_higher_answer_moves_score_in_the_keyed_direction(q, data):
    items, matrix = q
    lo, hi = int(items["scale_min"].iloc[0]), int(items["scale_max"].iloc[0])
    i = data.draw(st.integers(0, len(matrix) - 1))
    j = data.draw(st.integers(0, len(items) - 1))
    base = [list(row) for row in matrix]
    if math.isnan(base[i][j]):
        base[i][j] = float(data.draw(st.integers(lo, hi - 1)))
    old = base[i][j]
    if old >= hi:
        base[i][j] = old = hi - 1.0
    raised = [list(row) for row in base]
    raised[i][j] = float(data.draw(st.integers(int(old) + 1, hi)))
    ids, dim = list(items["item_id"]), items["dimension"].iloc[j]
    before = _scores_by_key(dimension_scores(long_answers(base, ids), items, min_items=1))
    after = _scores_by_key(dimension_scores(long_answers(raised, ids), items, min_items=1))
    s0, s1 = before[(f"r{i}", dim)][0], after[(f"r{i}", dim)][0]
    assert math.isnan(s0) == math.isnan(s1)
    if math.isnan(s0):
        return
    if items["reverse"].iloc[j]:
        assert s1 < s0  # a higher answer on a reverse-keyed item lowers the score
    else:
        assert s1 > s0


# --------------------------------------------------------------------------- total_scores


def _scores_frame(rows):
    return pd.DataFrame(
        rows, columns=["response_id", "round_id", "partner_id", "dimension", "score"]
    ).assign(n_answered=2, n_items=2)


def test_total_mean_of_dimensions():
    scores = _scores_frame(
        [
            ("r1", 1, "A", "d1", 4.0),
            ("r1", 1, "A", "d2", 3.0),
            ("r1", 1, "A", "d3", 2.0),
            ("r2", 1, "B", "d1", 5.0),
            ("r2", 1, "B", "d2", NAN),
            ("r2", 1, "B", "d3", 4.0),
        ]
    )
    out = total_scores(scores).set_index("response_id")
    assert out.loc["r1", "score"] == pytest.approx(3.0)
    assert math.isnan(out.loc["r2", "score"])  # default: every dimension needed
    assert out.loc["r2", "n_answered"] == 2 and out.loc["r2", "n_items"] == 3
    assert out.loc["r2", "partner_id"] == "B" and (out["dimension"] == "total").all()
    relaxed = total_scores(scores, min_dimensions=2).set_index("response_id")
    assert relaxed.loc["r2", "score"] == pytest.approx(4.5)


def test_total_sum_of_items():
    items = item_map(["d1", "d1", "d2", "d2"], [False, True, False, False])
    answers = long_answers([[4, 2, 5, 3], [4, None, 5, 3]], list(items["item_id"]))
    out = total_scores(None, "sum_of_items", answers=answers, items=items)
    # 4 + (6 - 2) + 5 + 3 = 16; missing q2 prorated: 4 x mean(4, 5, 3) = 16.
    assert out["score"].tolist() == pytest.approx([16.0, 16.0])
    assert out["n_answered"].tolist() == [4, 3]


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((None, "sum_of_items"), {}, ValueError),
        ((None,), {}, ValueError),
        ((pd.DataFrame({"score": [1.0]}),), {}, ValueError),
        ((None, "median"), {}, ValueError),
    ],
)
def test_total_scores_rejects_bad_input(args, kwargs, error):
    with pytest.raises(error):
        total_scores(*args, **kwargs)


# --------------------------------------------------------------------------- assign_bands

BANDS = [
    {"label": "concern", "min": 1, "max": 2.4},
    {"label": "borderline", "min": 2.5, "max": 3.4},
    {"label": "strength", "min": 3.5, "max": 5},
]


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (1.0, "concern"),  # inclusive lower edge
        (2.4, "concern"),  # inclusive upper edge
        (2.5, "borderline"),
        (2.43, "concern"),  # gap: nearer to 2.4
        (2.47, "borderline"),  # gap: nearer to 2.5
        (2.45, "borderline"),  # exact tie goes up, as rounding half up would
        (3.45, "strength"),
        (5.0, "strength"),
        (0.5, None),  # below every band
        (5.5, None),  # above every band
        (NAN, None),
    ],
)
def test_assign_bands_inclusive_edges_and_gaps(score, band):
    out = assign_bands(pd.DataFrame({"score": [score]}), BANDS)
    assert out["band"].tolist() == [band]


def test_assign_bands_keeps_input_and_accepts_unsorted_bands():
    frame = pd.DataFrame({"mean": [1.2, 4.4]}, index=[10, 20])
    out = assign_bands(frame, list(reversed(BANDS)), value="mean", column="level")
    assert out["level"].tolist() == ["concern", "strength"]
    assert list(out.index) == [10, 20]
    assert "level" not in frame.columns


@pytest.mark.parametrize(
    "bands",
    [
        [{"label": "a", "min": 1, "max": 3}, {"label": "b", "min": 2, "max": 5}],  # overlap
        [{"label": "a", "min": 3, "max": 1}],
        [{"label": "a", "min": 1}],
        [],
        [{"label": "a", "min": 1, "max": 2}, {"label": "a", "min": 3, "max": 4}],
    ],
)
def test_assign_bands_rejects_bad_bands(bands):
    with pytest.raises(ValueError):
        assign_bands(pd.DataFrame({"score": [2.0]}), bands)


def test_shared_band_edge_belongs_to_the_higher_band():
    """The questionnaire files' rule (questionnaires/README.md): 3.0 is the middle band."""
    bands = [{"label": "concern", "min": 1, "max": 3}, {"label": "borderline", "min": 3, "max": 4},
             {"label": "strength", "min": 4, "max": 5}]
    scores = pd.DataFrame({"score": [1.0, 2.999, 3.0, 3.5, 4.0, 5.0]})
    assert assign_bands(scores, bands)["band"].tolist() == [
        "concern", "concern", "borderline", "borderline", "strength", "strength"]


# --------------------------------------------------------------------------- partnership


def test_partnership_score_weightings():
    scores = pd.DataFrame(
        {
            "round_id": 1,
            "dimension": "d",
            "partner_id": ["A"] * 4 + ["B"] * 2 + ["C"],
            "score": [4.0, 4.0, 5.0, 3.0, 2.0, 1.0, NAN],
        }
    )
    by_partner = partnership_score(scores)
    # A mean 4, B mean 1.5, C no valid score: (4 + 1.5) / 2.
    assert by_partner["score"].item() == pytest.approx(2.75)
    assert by_partner["n_partners"].item() == 2 and by_partner["n"].item() == 6
    by_resp = partnership_score(scores, weighting="respondent")
    assert by_resp["score"].item() == pytest.approx(19 / 6)


def test_partnership_score_by_groups_and_empty_group():
    scores = pd.DataFrame(
        {
            "round_id": [1, 1, 1, 2],
            "dimension": ["x", "x", "y", "x"],
            "partner_id": ["A", "B", "A", "A"],
            "score": [2.0, 4.0, NAN, 5.0],
        }
    )
    out = partnership_score(scores)
    assert out[["round_id", "dimension"]].values.tolist() == [[1, "x"], [1, "y"], [2, "x"]]
    assert out["score"].tolist()[0] == 3.0 and math.isnan(out["score"].tolist()[1])
    assert out["n"].tolist() == [2, 0, 1]


@pytest.mark.parametrize("kwargs", [{"weighting": "size"}, {"group": "round_id"}, {"by": ["nope"]}])
def test_partnership_score_rejects_bad_options(kwargs):
    scores = pd.DataFrame(
        {"round_id": [1], "dimension": ["d"], "partner_id": ["A"], "score": [1.0]}
    )
    with pytest.raises(ValueError):
        partnership_score(scores, **kwargs)


def test_empty_answers_give_empty_scores():
    items = item_map(["d"], [False])
    answers = long_answers([], ["q1"]).astype({"value": float})
    scores = dimension_scores(answers, items)
    assert scores.empty and list(scores.columns) == list(SCORE_COLUMNS)
    assert partnership_score(scores).empty
