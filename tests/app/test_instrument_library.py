"""The instrument templates in questionnaires/library/ score exactly as their manuals say.

Every expected number below is computed by hand from the instrument's published rule, written
beside it: a VicHealth-style checklist (35 items on 1-5, summed, bands 35-84 / 85-126 /
127-175; VicHealth 2016, Partnerships Analysis Tool, activity 2) and a Wilder-style inventory
(mean per factor, 4.0-5.0 strength, 3.0-3.9 borderline, 1.0-2.9 concern; Mattessich & Monsey
2018, Collaboration: What Makes It Work, 3rd ed., appendix).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from app.questionnaires import Questionnaire, load_questionnaire
from app.services.questionnaires import bundled_files

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "questionnaires" / "library"
CHECKLIST = LIBRARY / "daftar-periksa-kemitraan.v1.yaml"
INVENTORY = LIBRARY / "faktor-kolaborasi.v1.yaml"


def score(q: Questionnaire, answers: dict[str, dict[str, float | None]]) -> pd.DataFrame:
    """Score ``{response: {item: value or None}}`` exactly as the results pages would."""
    rows = [
        (rid, 1, "p", item, math.nan if value is None else float(value))
        for rid, values in answers.items()
        for item, value in values.items()
    ]
    frame = pd.DataFrame(
        rows, columns=["response_id", "round_id", "partner_id", "item_id", "value"]
    )
    out = q.respondent_scores(frame)
    return out.set_index("response_id")


def test_library_templates_load_and_are_not_bundled_imports() -> None:
    for path in (CHECKLIST, INVENTORY):
        q = load_questionnaire(path)
        assert Questionnaire.from_dict(q.to_dict()) == q
    # `flask questionnaire import` without arguments reads the top folder only.
    names = {p.name for p in bundled_files(ROOT / "questionnaires")}
    assert names == {"kemitraan-sehat.v1.yaml", "kemitraan-sehat.v2.yaml", "pendampingan.v1.yaml"}


def test_library_templates_validate_when_named(app) -> None:
    result = app.test_cli_runner().invoke(
        args=["questionnaire", "validate", str(CHECKLIST), str(INVENTORY)]
    )
    assert result.exit_code == 0, result.output
    assert "daftar-periksa-kemitraan v1, 35 items" in result.output
    assert "faktor-kolaborasi v1, 12 items" in result.output


# --------------------------------------------------------------------------- the checklist


@pytest.fixture(scope="module")
def checklist() -> Questionnaire:
    return load_questionnaire(CHECKLIST)


def _filled(q: Questionnaire, values: list[float | None]) -> dict[str, float | None]:
    ids = [item.id for item in q.items]
    assert len(values) == len(ids) == 35
    return dict(zip(ids, values, strict=True))


def test_checklist_total_range_is_the_published_35_to_175(checklist: Questionnaire) -> None:
    assert checklist.total_range() == (35.0, 175.0)
    assert [(b.min, b.max) for b in checklist.total.bands] == [(35, 84), (85, 126), (127, 175)]


def test_checklist_scores_a_hand_computed_answer_set_exactly(checklist: Questionnaire) -> None:
    answers = {
        "r01": _filled(checklist, [1] * 35),  # 35: lowest possible
        "r02": _filled(checklist, [3] * 14 + [2] * 21),  # 42 + 42 = 84: top of the low band
        "r03": _filled(checklist, [3] * 15 + [2] * 20),  # 45 + 40 = 85: bottom of the middle
        "r04": _filled(checklist, [4] * 21 + [3] * 14),  # 84 + 42 = 126: top of the middle
        "r05": _filled(checklist, [4] * 22 + [3] * 13),  # 88 + 39 = 127: bottom of the high
        "r06": _filled(checklist, [5] * 35),  # 175: highest possible
        # One missing, sum 82 over 34: prorated 82 * 35 / 34 = 84.4118 -> rounds to 84 -> low
        "r07": _filled(checklist, [None] + [3] * 14 + [2] * 20),
        # One missing, sum 83 over 34: 83 * 35 / 34 = 85.4412 -> middle
        "r08": _filled(checklist, [None] + [3] * 15 + [2] * 19),
        # Four missing: 31 answered < ceil(0.9 * 35) = 32 -> no total, no band
        "r09": _filled(checklist, [None] * 4 + [5] * 31),
        # Three missing, 32 answered, all 4: 128 * 35 / 32 = 140 -> high
        "r10": _filled(checklist, [None] * 3 + [4] * 32),
    }
    out = score(checklist, answers)
    expected_totals = {
        "r01": 35.0,
        "r02": 84.0,
        "r03": 85.0,
        "r04": 126.0,
        "r05": 127.0,
        "r06": 175.0,
        "r07": 82 * 35 / 34,
        "r08": 83 * 35 / 34,
        "r10": 140.0,
    }
    for rid, total in expected_totals.items():
        assert out.loc[rid, "total"] == pytest.approx(total, abs=1e-9), rid
    assert math.isnan(out.loc["r09", "total"])
    assert out["total_band"].to_dict() == {
        "r01": "perlu_dibenahi",
        "r02": "perlu_dibenahi",
        "r03": "berkembang",
        "r04": "berkembang",
        "r05": "kuat",
        "r06": "kuat",
        "r07": "perlu_dibenahi",
        "r08": "berkembang",
        "r09": None,
        "r10": "kuat",
    }
    # Each feature is a summed dimension of five items: 5 to 25.
    assert out.loc["r01", "score_kebutuhan"] == 5.0
    assert out.loc["r06", "score_refleksi"] == 25.0
    # r02: the first 14 items are 3 (keb1-5, pmt1-5, krj1-4), the rest 2.
    assert out.loc["r02", "score_kerja_sama"] == 3 * 4 + 2  # 14


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (35, "perlu_dibenahi"),
        (84, "perlu_dibenahi"),
        (84.49, "perlu_dibenahi"),  # rounds half up to 84
        (84.5, "berkembang"),  # rounds half up to 85
        (85, "berkembang"),
        (126.49, "berkembang"),
        (126.5, "kuat"),
        (175, "kuat"),
        (175.01, None),
        (34.99, None),
    ],
)
def test_checklist_band_boundaries(
    checklist: Questionnaire, value: float, band: str | None
) -> None:
    found = checklist.total.band_for(value)
    assert (found.id if found else None) == band


# --------------------------------------------------------------------------- the inventory


@pytest.fixture(scope="module")
def inventory() -> Questionnaire:
    return load_questionnaire(INVENTORY)


def test_inventory_has_unequal_factor_sizes(inventory: Questionnaire) -> None:
    assert [len(d.items) for d in inventory.dimensions] == [2, 3, 1, 3, 2, 1]
    assert all(d.scoring == "mean" for d in inventory.dimensions)


def test_inventory_scores_a_hand_computed_answer_set_exactly(inventory: Questionnaire) -> None:
    answers = {
        "a": {
            "sej1": 4,
            "sej2": 5,  # (4 + 5) / 2 = 4.5 strength
            "hor1": 3,
            "hor2": 3,
            "hor3": 4,  # 10 / 3 = 3.333 borderline
            "kep1": 2,  # 2.0 concern
            "kom1": 4,
            "kom2": None,
            "kom3": 4,  # 2 of 3 answered (>= ceil(1.5)): 4.0 strength
            "tuj1": 3,
            "tuj2": None,  # min_items 1: 3.0 borderline (its lowest edge)
            "sdy1": 5,  # 5.0 strength
        },
        "b": {
            "sej1": 4,
            "sej2": None,  # min_items 2 on this factor: not scored
            "hor1": 1,
            "hor2": None,
            "hor3": None,  # 1 of 3 < 2 needed: not scored
            "kep1": None,  # not scored
            "kom1": 3,
            "kom2": 3,
            "kom3": 2,  # 8 / 3 = 2.667 concern
            "tuj1": 4,
            "tuj2": 4,  # 4.0 strength (its lowest edge)
            "sdy1": 3,  # 3.0 borderline
        },
    }
    out = score(inventory, answers)
    expected = {
        "a": {
            "sejarah_kolaborasi": (4.5, "strength"),
            "saling_menghormati": (10 / 3, "borderline"),
            "kepentingan": (2.0, "concern"),
            "komunikasi": (4.0, "strength"),
            "tujuan": (3.0, "borderline"),
            "sumber_daya": (5.0, "strength"),
        },
        "b": {
            "sejarah_kolaborasi": (None, None),
            "saling_menghormati": (None, None),
            "kepentingan": (None, None),
            "komunikasi": (8 / 3, "concern"),
            "tujuan": (4.0, "strength"),
            "sumber_daya": (3.0, "borderline"),
        },
    }
    for rid, factors in expected.items():
        for factor, (value, band) in factors.items():
            got = out.loc[rid, f"score_{factor}"]
            if value is None:
                assert math.isnan(got), (rid, factor)
            else:
                assert got == pytest.approx(value, abs=1e-12), (rid, factor)
            assert out.loc[rid, f"band_{factor}"] == band, (rid, factor)
    # No total section: the health index is the mean of the factors, all of them scored.
    assert out.loc["a", "total"] == pytest.approx((4.5 + 10 / 3 + 2 + 4 + 3 + 5) / 6)
    assert math.isnan(out.loc["b", "total"])


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (1.0, "concern"),
        (2.9, "concern"),
        (2.94, "concern"),  # rounds half up to 2.9
        (2.95, "borderline"),  # rounds half up to 3.0
        (3.0, "borderline"),
        (3.9, "borderline"),
        (3.949, "borderline"),
        (3.95, "strength"),
        (4.0, "strength"),
        (5.0, "strength"),
    ],
)
def test_inventory_band_boundaries(inventory: Questionnaire, value: float, band: str) -> None:
    found = inventory.dimensions[0].band_for(value)
    assert found is not None and found.id == band


def test_a_sum_scored_instrument_reaches_the_published_results_as_a_sum(app) -> None:
    """End to end: the snapshot the pages, report, exports and API read has the summed total
    on the instrument's own 35-175 range, not the mean of dimensions (issue 10's defect)."""
    import random
    from datetime import date

    from app.models import Answer, Response, RoundStatus
    from app.services.questionnaires import import_questionnaire
    from app.services.results import round_results_for
    from tests.app.staff_helpers import db
    from tests.factories import make_partnership, make_round

    q = load_questionnaire(CHECKLIST)
    item_ids = [item.id for item in q.items]
    rng = random.Random(7)
    sums: list[int] = []
    with db(app) as session:
        version = import_questionnaire(session, q).version
        partnership = make_partnership(session, k=3)
        round_ = make_round(session, partnership, version=version, status=RoundStatus.OPEN)
        for partner in partnership.partners:
            for _ in range(4):
                values = [rng.randint(1, 5) for _ in item_ids]
                response = Response(round_id=round_.id, partner_id=partner.id, language="id",
                                    submitted_on=date(2026, 11, 2))
                response.answers = [Answer(item_id=i, value=v)
                                    for i, v in zip(item_ids, values, strict=True)]
                session.add(response)
                sums.append(sum(values))
        round_.status = RoundStatus.CLOSED
        session.commit()
        round_id = round_.id
    from app.models import Round

    with app.app_context():
        from app.db import new_session

        reader = new_session(write=False)
        try:
            snapshot = round_results_for(reader, reader.get(Round, round_id))
        finally:
            reader.close()
    total = next(t for t in snapshot["scores"] if t["dimension"] == "total")
    assert (total["scale_min"], total["scale_max"]) == (35, 175)
    assert total["partnership"]["respondent_weighted"]["mean"] == pytest.approx(
        sum(sums) / len(sums))
    assert snapshot["meta"]["methods"]["scores"]["total"]["method"] == "sum_of_items"
