"""The questionnaires shipped in questionnaires/: they load, are fully translated, and their
content keeps the properties the analysis and the workshops rely on."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.questionnaires import Questionnaire, Text, load_questionnaire

FOLDER = Path(__file__).resolve().parent.parent.parent / "questionnaires"
FILES = sorted(FOLDER.glob("*.yaml"))


def texts_in(node: Any, where: str = "") -> Iterator[tuple[str, Text]]:
    """Yield every Text inside a questionnaire, found by walking the dataclasses."""
    if isinstance(node, Text):
        yield where, node
    elif dataclasses.is_dataclass(node):
        label = getattr(node, "id", "")
        for field in dataclasses.fields(node):
            yield from texts_in(getattr(node, field.name), f"{where}/{label}.{field.name}")
    elif isinstance(node, tuple):
        for index, child in enumerate(node):
            yield from texts_in(child, f"{where}[{index}]")


@pytest.fixture(scope="module")
def kemitraan() -> Questionnaire:
    return load_questionnaire(FOLDER / "kemitraan-sehat.v1.yaml")


@pytest.fixture(scope="module")
def pendampingan() -> Questionnaire:
    return load_questionnaire(FOLDER / "pendampingan.v1.yaml")


def test_both_bundled_questionnaires_are_present() -> None:
    assert {p.name for p in FILES} >= {"kemitraan-sehat.v1.yaml", "pendampingan.v1.yaml"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_loads_and_is_named_after_its_slug_and_version(path: Path) -> None:
    q = load_questionnaire(path)
    assert path.name == f"{q.slug}.v{q.version}.yaml"
    assert q.languages == ("id", "en")
    assert Questionnaire.from_dict(q.to_dict()) == q


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_text_has_indonesian_and_a_distinct_english(path: Path) -> None:
    q = load_questionnaire(path)
    texts = list(texts_in(q))
    assert len(texts) > 50
    for where, text in texts:
        assert set(text) == {"id", "en"}, where
        assert text["id"].strip() and text["en"].strip(), where
        # An English text identical to the Indonesian one is an untranslated copy.
        assert text["en"] != text["id"], where


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_dimension_has_a_reverse_item_and_prompts(path: Path) -> None:
    q = load_questionnaire(path)
    for dim in q.dimensions:
        assert any(item.reverse for item in dim.items), dim.id
        assert not all(item.reverse for item in dim.items), dim.id
        assert dim.discussion_prompts, dim.id
        assert dim.description is not None, dim.id


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_bands_cover_the_whole_score_range_without_gaps(path: Path) -> None:
    q = load_questionnaire(path)
    assert q.total is not None
    banded = [(dim.id, dim.bands, q.score_range(dim.id), dim.band_for) for dim in q.dimensions]
    banded.append(("total", q.total.bands, q.total_range(), q.total.band_for))
    for name, bands, (low, high), band_for in banded:
        assert bands, name
        assert (bands[0].min, bands[-1].max) == (low, high), name
        for lower, upper in itertools.pairwise(bands):
            assert lower.max == upper.min, name
        # Every score a respondent can get, on a fine grid, falls in some band.
        for score in np.linspace(low, high, 401):
            assert band_for(float(score)) is not None, (name, score)
        assert band_for(low - 0.01) is None and band_for(high + 0.01) is None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_agreement_scale_has_dont_know_and_favourable_answers(path: Path) -> None:
    scale = load_questionnaire(path).scale("setuju5")
    assert scale.values == (1, 2, 3, 4, 5)
    assert scale.dont_know is not None and scale.dont_know["id"] == "Tidak tahu"
    assert scale.favourable_min == 4


def test_kemitraan_sehat_measures_the_four_principles(kemitraan: Questionnaire) -> None:
    assert [d.id for d in kemitraan.dimensions] == [
        "kesetaraan",
        "transparansi",
        "manfaat_bersama",
        "rasa_memiliki",
    ]
    for dim in kemitraan.dimensions:
        assert 5 <= len(dim.items) <= 7, dim.id
        assert dim.scoring == "mean"
    assert kemitraan.total is not None and kemitraan.total.method == "mean_of_dimensions"
    assert 2 <= len(kemitraan.open_questions) <= 3


def test_kemitraan_sehat_bands_put_edges_in_the_higher_band(kemitraan: Questionnaire) -> None:
    dim = kemitraan.dimension("kesetaraan")
    assert [b.id for b in dim.bands] == ["masalah", "perlu_perhatian", "kekuatan"]
    assert dim.band_for(2.99).id == "masalah"
    assert dim.band_for(3.0).id == "perlu_perhatian"
    assert dim.band_for(4.0).id == "kekuatan"
    assert dim.band_for(5.0).label["en"] == "Strength"


def test_kemitraan_sehat_asks_each_partner_about_commitments(kemitraan: Questionnaire) -> None:
    texts = {r.text["id"]: r for r in kemitraan.partner_ratings}
    rating = texts["Mitra ini memenuhi komitmen yang dijanjikannya."]
    assert rating.text["en"] == "This partner delivered on its commitments."
    assert rating.scale == "setuju5"


def test_kemitraan_sehat_dominance_is_a_reverse_item(kemitraan: Questionnaire) -> None:
    dominance = [i for i in kemitraan.items if "mendominasi" in i.text["id"]]
    assert dominance and all(i.reverse for i in dominance)


def test_pendampingan_lets_both_sides_assess_each_other(pendampingan: Questionnaire) -> None:
    assert [d.id for d in pendampingan.dimensions] == [
        "perencanaan_bersama",
        "pemantauan_dua_arah",
        "sistem_informasi",
        "evaluasi",
        "kemandirian",
    ]
    sizes = [len(d.items) for d in pendampingan.dimensions]
    assert all(4 <= n <= 6 for n in sizes)
    assert len(set(sizes)) > 1
    assert len(pendampingan.partner_ratings) >= 2
    dimensions = {d.id for d in pendampingan.dimensions}
    assert all(r.dimension in dimensions for r in pendampingan.partner_ratings)
    assert pendampingan.open_questions


def test_pendampingan_monitoring_runs_both_ways(pendampingan: Questionnaire) -> None:
    monitoring = pendampingan.dimension("pemantauan_dua_arah")
    texts = " ".join(item.text["id"] for item in monitoring.items)
    assert "kelompok juga memantau kinerja pendamping" in texts.lower()


def test_item_frames_match_the_files(kemitraan: Questionnaire) -> None:
    frame = kemitraan.items_frame()
    assert len(frame) == len(kemitraan.items) == 28
    assert frame["item_id"].is_unique
    assert set(frame.loc[frame["reverse"], "item_id"]) == {"kes7", "tra7", "man7", "rm7"}
    assert (frame["scale_min"] == 1).all() and (frame["scale_max"] == 5).all()


# --------------------------------------------------------------------------- nothing changed
# Issue 10 added total methods, min_items, gapped bands and respondent-level scores. For the
# two bundled questionnaires no number may change: the stored versions keep their content hash
# (so `questionnaire import` on an existing database is not refused), and every score and band
# equals what the rules before the change give, written out here by hand as they were.

HASHES_BEFORE_ISSUE_10 = {
    "kemitraan-sehat.v1.yaml": "059be17db47766ed33dc7bffcf7c848834327d36ec6160fd7592479f80ffe617",
    "pendampingan.v1.yaml": "7ee4c4bfe53c0bd0b37ea6f7eb79fe5222be6fbb755d83c42912706ca804eb4c",
}


@pytest.mark.parametrize("name", sorted(HASHES_BEFORE_ISSUE_10))
def test_bundled_content_hash_is_unchanged(name: str) -> None:
    assert load_questionnaire(FOLDER / name).content_hash() == HASHES_BEFORE_ISSUE_10[name]


def _legacy_band(bands: tuple[Any, ...], score: float) -> str | None:
    """The band rule before issue 10: shared edges, [min, max), the top band closed."""
    if math.isnan(score):
        return None
    score = round(score, 9)
    for index, band in enumerate(bands):
        top = index == len(bands) - 1
        if band.min <= score < band.max or (top and score == band.max):
            return band.id
    return None


def _legacy_scores(q: Questionnaire, answers: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Scores before issue 10: mean of answered reverse-coded items when at least
    max(min(2, m), ceil(0.5 m)) are answered; the total the mean of all dimensions."""
    out: dict[str, Any] = {}
    for rid, values in answers.items():
        dims = []
        for dim in q.dimensions:
            scale = q.scale(dim.items[0].scale)
            got = []
            for item in dim.items:
                x = values.get(item.id, math.nan)
                if not math.isnan(x):
                    got.append(scale.min_value + scale.max_value - x if item.reverse else x)
            m = len(dim.items)
            needed = max(min(2, m), math.ceil(0.5 * m - 1e-9), 1)
            score = sum(got) / len(got) if len(got) >= needed else math.nan
            dims.append(score)
            out[(rid, dim.id)] = (score, _legacy_band(dim.bands, score))
        total = math.nan if any(math.isnan(d) for d in dims) else sum(dims) / len(dims)
        out[(rid, "total")] = (total, _legacy_band(q.total.bands if q.total else (), total))
    return out


@pytest.mark.parametrize("name", sorted(HASHES_BEFORE_ISSUE_10))
def test_bundled_scores_and_bands_are_unchanged_on_seeded_answers(name: str) -> None:
    import pandas as pd

    from analysis.scoring import respondent_scores

    q = load_questionnaire(FOLDER / name)
    rng = np.random.default_rng(20261203)
    answers: dict[str, dict[str, float]] = {}
    for r in range(400):
        # A mix of complete, gappy and nearly empty respondents, "don't know" as missing.
        skip = rng.choice([0.0, 0.2, 0.5, 0.8])
        level = rng.uniform(1.2, 5.0)  # each respondent leans somewhere on the scale
        answers[f"r{r:03d}"] = {
            item.id: (
                math.nan
                if rng.random() < skip
                else float(np.clip(np.rint(rng.normal(level, 0.7)), 1, 5))
            )
            for item in q.items
        }
    frame = pd.DataFrame(
        [(rid, 1, f"p{int(rid[1:]) % 5}", item, value)
         for rid, values in answers.items() for item, value in values.items()],
        columns=["response_id", "round_id", "partner_id", "item_id", "value"],
    )
    bands = {d.id: [{"label": b.id, "min": b.min, "max": b.max} for b in d.bands]
             for d in q.dimensions}
    assert q.total is not None
    new = respondent_scores(
        frame, q.items_frame(), q.dimensions_frame(), total=q.total_options(), bands=bands,
        total_bands=[{"label": b.id, "min": b.min, "max": b.max} for b in q.total.bands],
    ).set_index("response_id")
    old = _legacy_scores(q, answers)
    changed = []
    for (rid, key), (score, band) in old.items():
        column, band_column = ("total", "total_band") if key == "total" else (
            f"score_{key}", f"band_{key}")
        got, got_band = new.loc[rid, column], new.loc[rid, band_column]
        same = (math.isnan(score) and math.isnan(got)) or abs(got - score) < 1e-12
        if not same or got_band != band:
            changed.append((rid, key, score, got, band, got_band))
    assert not changed, changed[:5]
    # The seed gives every case: scored and unscored dimensions, and totals in each band.
    assert new["total"].isna().any() and new["total"].notna().any()
    assert set(new["total_band"].dropna()) == {"masalah", "perlu_perhatian", "kekuatan"}


def test_bundled_band_edges_are_banded_as_before(kemitraan: Questionnaire) -> None:
    assert kemitraan.total is not None
    for score in (1.0, 2.999, 3.0, 3.5, 3.999999, 4.0, 5.0, 0.99, 5.01, 3.9999999999999996):
        new = kemitraan.total.band_for(score)
        assert (new.id if new else None) == _legacy_band(kemitraan.total.bands, score), score
