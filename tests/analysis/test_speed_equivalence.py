"""The fast paths give the very figures of the slow ones (same seed, byte for byte).

- :func:`analysis.results.partnership_results` (each round's state built once) against
  :func:`round_results` per round plus :func:`partnership_over_time` (each built twice);
- :func:`partnership_over_time` given the rounds' published results (described tables reused)
  against the same call computing every table;
- :func:`analysis.describe.describe` with the draws of equal-sized groups shared against the
  group-by-group reference loop;
- McDonald's omega bootstrap with sums per answer pattern and draws shared by the dimensions
  of one call against the respondent-by-respondent reference (``FAST_OMEGA = False``);
- int32 index draws against the default int64 ones (same values, same generator state);
- :func:`analysis.gaps.perception_gaps` with the permutation count chosen from the group
  sizes: the rule, and its Monte Carlo precision reported per row.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.results import partnership_over_time, partnership_results, round_results

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


def _dump(value: object) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=False)


def _data(seed: int = 3, per_partner: int = 30) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Three rounds, four partners (one small enough to be hidden), two dimensions; round 3
    lacks item q6, so the over-time comparisons take the common-items path too."""
    rng = np.random.default_rng(seed)
    items = pd.DataFrame(
        {
            "item_id": [f"q{i}" for i in range(1, 7)],
            "dimension": ["a", "a", "a", "b", "b", "b"],
            "reverse": [False, False, True, False, False, True],
            "scale_min": 1,
            "scale_max": 5,
        }
    )
    sizes = {"P1": per_partner, "P2": per_partner + 7, "P3": per_partner // 2, "P4": 3}
    rows = []
    for r in (1, 2, 3):
        for p_index, (pid, n) in enumerate(sizes.items()):
            for i in range(n):
                level = 2.5 + 0.3 * p_index + 0.2 * r + rng.normal(0, 0.7)
                for item in items["item_id"]:
                    if r == 3 and item == "q6":
                        continue
                    value = float(np.clip(np.rint(level + rng.normal(0, 0.8)), 1, 5))
                    dont_know = bool(rng.random() < 0.03)
                    rows.append((f"{r}-{pid}-{i}", r, pid, item, np.nan if dont_know else value,
                                 dont_know))
    answers = pd.DataFrame(
        rows, columns=["response_id", "round_id", "partner_id", "item_id", "value", "dont_know"]
    )
    partners = pd.DataFrame(
        {"partner_id": list(sizes), "name": [f"Mitra {p}" for p in sizes], "sector": "ngo"}
    )
    return answers, items, partners


def test_partnership_results_equal_rounds_and_over_time_computed_apart() -> None:
    answers, items, partners = _data()
    order = [1, 2, 3]
    fast = partnership_results(
        answers, items, partners=partners, k=5, round_order=order, random_state=11
    )
    slow_over_time = partnership_over_time(
        answers, items, partners=partners, k=5, round_order=order, random_state=11
    )
    assert fast.over_time is not None
    assert _dump(fast.over_time.to_dict()) == _dump(slow_over_time.to_dict())
    for r in order:
        alone = round_results(
            answers.loc[answers["round_id"] == r].reset_index(drop=True),
            items, round_id=r, partners=partners, k=5, random_state=11,
        )
        assert _dump(fast.rounds[r].to_dict()) == _dump(alone.to_dict()), r
    # Something was actually hidden and compared, so the check covers those branches.
    assert fast.over_time.changes and fast.over_time.trends
    assert any(p["suppressed"] for p in fast.rounds[1].response_counts["partners"])


def test_over_time_from_published_rounds_is_identical() -> None:
    answers, items, partners = _data(seed=5)
    order = [1, 2, 3]
    published = {
        r: json.loads(_dump(round_results(
            answers.loc[answers["round_id"] == r], items, round_id=r, partners=partners, k=5,
            random_state=2,
        ).to_dict()))
        for r in order
    }
    kwargs = {"partners": partners, "k": 5, "round_order": order, "random_state": 2}
    computed = partnership_over_time(answers, items, **kwargs)
    reused = partnership_over_time(answers, items, published=published, **kwargs)
    assert _dump(reused.to_dict()) == _dump(computed.to_dict())


def test_over_time_does_not_reuse_a_table_that_describes_other_scores(monkeypatch) -> None:
    """A published table whose counts do not match is described afresh, not trusted."""
    import analysis.results._state as state_module

    answers, items, partners = _data(seed=7)
    order = [1, 2, 3]
    published = {
        r: round_results(answers.loc[answers["round_id"] == r], items, round_id=r,
                         partners=partners, k=5).to_dict()
        for r in order
    }
    # Tamper: round 2 claims a different count and mean for partner P1 in dimension "a".
    row = published[2]["scores"][0]["partners"][0]
    row["n"], row["mean"] = row["n"] + 1, 1.0
    calls = []
    real = state_module.describe
    monkeypatch.setattr(
        state_module, "describe", lambda *a, **kw: calls.append(1) or real(*a, **kw)
    )
    reused = partnership_over_time(
        answers, items, partners=partners, k=5, round_order=order, published=published
    )
    computed = partnership_over_time(answers, items, partners=partners, k=5, round_order=order)
    assert _dump(reused.to_dict()) == _dump(computed.to_dict())
    # With published rounds only round 2's tables are described again (one partner and one
    # pooled call for its one favourable threshold); without, each of the 3 rounds makes both.
    assert len(calls) == 2 + 3 * 2


def test_over_time_rejects_published_that_is_not_a_mapping() -> None:
    answers, items, partners = _data()
    with pytest.raises(TypeError, match="published"):
        partnership_over_time(
            answers, items, partners=partners, k=5, round_order=[1, 2, 3], published=[1]
        )


def test_describe_shared_draws_equal_group_by_group_draws(monkeypatch) -> None:
    """Groups of equal size share one count matrix; the figures are those each draws alone."""
    import analysis.describe  # noqa: F401  (the function shadows the module name)

    describe_module = sys.modules["analysis.describe"]
    rng = np.random.default_rng(4)
    sizes = [40, 40, 40, 41, 7, 3, 2]
    scores = pd.DataFrame(
        {
            "g": np.repeat([f"g{i}" for i in range(len(sizes))], sizes),
            "score": np.concatenate([np.round(rng.uniform(1, 5, n) * 5) / 5 for n in sizes]),
        }
    )
    shared = describe_module.describe(scores, "g", random_state=9)
    monkeypatch.setattr(describe_module, "SHARE_DRAWS", False)
    alone = describe_module.describe(scores, "g", random_state=9)
    pd.testing.assert_frame_equal(shared, alone, check_exact=True)
    # ... and each equals the one-sample function on that group.
    for i, n in enumerate(sizes):
        one = describe_module.bootstrap_mean_ci(
            scores.loc[scores["g"] == f"g{i}", "score"], random_state=9
        )
        assert (one.ci_low, one.ci_high) == (shared["ci_low"][i], shared["ci_high"][i]) or n < 3


def test_describe_draws_are_shared_once_per_size(monkeypatch) -> None:
    describe_module = sys.modules["analysis.describe"]
    made = []
    real = describe_module._resample_counts
    monkeypatch.setattr(
        describe_module, "_resample_counts", lambda *a: made.append(a[0]) or real(*a)
    )
    scores = pd.DataFrame(
        {"g": np.repeat(["a", "b", "c"], [30, 30, 31]), "score": np.arange(91) % 5 + 1.0}
    )
    describe_module.describe(scores, "g")
    assert sorted(made) == [30, 31]


def test_permutation_count_follows_the_group_sizes() -> None:
    from analysis.gaps import perception_gaps, permutations_for

    assert permutations_for([500, 500]) == 999
    assert permutations_for([500, 501]) == 499
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "dimension": "d",
            "partner_id": np.repeat(["a", "b", "c"], [400, 400, 300]),
            "score": rng.integers(1, 6, 1100).astype(float),
        }
    )
    row = perception_gaps(frame).iloc[0]
    assert row["n_permutations"] == 499 and row["p_method"] == "monte_carlo"
    p = row["p_value"]
    assert row["p_mc_se"] == pytest.approx(np.sqrt(p * (1 - p) / 499))
    small = perception_gaps(frame.loc[frame["partner_id"] != "c"].iloc[::2]).iloc[0]
    assert small["n_permutations"] == 999
    # An explicit count still wins.
    assert perception_gaps(frame, n_permutations=199).iloc[0]["n_permutations"] == 199


def test_over_time_does_not_reuse_scores_formed_under_other_rules() -> None:
    """Same counts, other means (another scoring rule): described afresh, same figures."""
    answers, items, partners = _data(seed=8)
    order = [1, 2, 3]
    published = {
        r: round_results(answers.loc[answers["round_id"] == r], items, round_id=r,
                         partners=partners, k=5).to_dict()
        for r in order
    }
    for table in published[3]["scores"]:
        for row in table["partners"]:
            if row["mean"] is not None:
                row["mean"] += 0.25
    reused = partnership_over_time(
        answers, items, partners=partners, k=5, round_order=order, published=published
    )
    computed = partnership_over_time(answers, items, partners=partners, k=5, round_order=order)
    assert _dump(reused.to_dict()) == _dump(computed.to_dict())


def _likert_wide(seed: int, n: int, k: int, missing: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    level = rng.normal(3, 0.7, n)
    values = np.clip(np.rint(level[:, None] + rng.normal(0, 0.8, (n, k))), 1, 5)
    values[rng.random((n, k)) < missing] = np.nan
    return pd.DataFrame(values, columns=[f"q{i}" for i in range(k)])


@pytest.mark.parametrize("n", [7, 60, 400])
def test_omega_pattern_bootstrap_equals_respondent_by_respondent(monkeypatch, n) -> None:
    """Sums over answer patterns are exact integers, so the interval is the very same."""
    import analysis.reliability as reliability

    wide = _likert_wide(n, n, 5)
    fast = reliability.mcdonald_omega(wide, n_resamples=300, random_state=4)
    monkeypatch.setattr(reliability, "FAST_OMEGA", False)
    slow = reliability.mcdonald_omega(wide, n_resamples=300, random_state=4)
    assert _dump(fast.to_dict()) == _dump(slow.to_dict())
    assert np.isfinite(fast.ci_low) or n < 10


def test_omega_bootstrap_of_non_integer_answers_takes_the_reference_sums(monkeypatch) -> None:
    """Fractional values are not exact in any order: the respondent-by-respondent sums."""
    import analysis.reliability as reliability

    wide = _likert_wide(2, 80, 4) / 3.0
    x = wide.dropna(how="all").to_numpy()
    assert not reliability._exact_in_float(x, ~np.isnan(x))
    fast = reliability.mcdonald_omega(wide, n_resamples=200, random_state=1)
    monkeypatch.setattr(reliability, "FAST_OMEGA", False)
    slow = reliability.mcdonald_omega(wide, n_resamples=200, random_state=1)
    assert _dump(fast.to_dict()) == _dump(slow.to_dict())


@pytest.mark.parametrize("n", [5, 1000, 65_537])
def test_int32_draws_are_the_default_draws(n) -> None:
    from analysis.reliability import _resample_draws

    expected = np.random.default_rng(3).integers(0, n, size=(4, n))
    assert np.array_equal(_resample_draws(n, 4, 3), expected)


def test_reliability_dimensions_share_draws_with_the_same_figures(monkeypatch) -> None:
    """Dimensions restart the seed: one draw per respondent count, figures unchanged."""
    import analysis.reliability as reliability

    answers, items, _ = _data(seed=6, per_partner=40)
    drawn = []
    real = reliability._resample_draws
    monkeypatch.setattr(
        reliability, "_resample_draws", lambda *a: drawn.append(a[0]) or real(*a)
    )
    fast = reliability.reliability_by_dimension(answers, items, omega_resamples=200)
    assert len(drawn) == len(set(drawn)) and drawn
    monkeypatch.setattr(reliability, "FAST_OMEGA", False)
    slow = reliability.reliability_by_dimension(answers, items, omega_resamples=200)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert fast["omega_ci_low"].notna().all()


def test_int32_draws_leave_the_generator_where_int64_draws_do() -> None:
    """Successive chunks of int32 draws (describe's large groups) match int64 chunks."""
    wide, narrow = np.random.default_rng(8), np.random.default_rng(8)
    for n, rows in ((9_973, 3), (9_973, 5), (17, 1)):
        expected = wide.integers(0, n, size=(rows, n))
        assert np.array_equal(narrow.integers(0, n, size=(rows, n), dtype=np.int32), expected)
    assert wide.random() == narrow.random()


def test_describe_large_spread_groups_keep_their_intervals(monkeypatch) -> None:
    """Groups too large for a count matrix with many distinct values: chunked index draws."""
    describe_module = sys.modules["analysis.describe"]
    rng = np.random.default_rng(12)
    x = np.round(rng.normal(3, 0.8, 5_000), 3)
    monkeypatch.setattr(describe_module, "_CHUNK_ELEMENTS", 40_000)  # several chunks
    got = describe_module.bootstrap_mean_ci(x, random_state=5)
    expected_rng = np.random.default_rng(5)
    x_sorted = np.sort(x)
    means = np.concatenate([
        x_sorted[expected_rng.integers(0, len(x), size=(8, len(x)))].mean(axis=1)
        for _ in range(250)
    ])
    assert got.bootstrap_se == float(means.std(ddof=1))


def test_omega_patterns_of_wide_integer_scales_equal_the_reference(monkeypatch) -> None:
    """Integer answers too spread to pack into one int64 key are grouped row by row."""
    import analysis.reliability as reliability

    rng = np.random.default_rng(3)
    base = rng.integers(0, 100_000, 60)
    values = (base[:, None] + rng.integers(0, 20_000, (60, 5))).astype(float)
    values[rng.random((60, 5)) < 0.05] = np.nan
    wide = pd.DataFrame(values)
    first, inverse = reliability._answer_patterns(
        np.nan_to_num(values), ~np.isnan(values)
    )
    assert len(first) == 60 and len(inverse) == 60
    fast = reliability.mcdonald_omega(wide, n_resamples=150, random_state=2)
    monkeypatch.setattr(reliability, "FAST_OMEGA", False)
    slow = reliability.mcdonald_omega(wide, n_resamples=150, random_state=2)
    assert _dump(fast.to_dict()) == _dump(slow.to_dict())
