"""The questionnaires shipped in questionnaires/: they load, are fully translated, and their
content keeps the properties the analysis and the workshops rely on."""

from __future__ import annotations

import dataclasses
import itertools
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
