"""No questionnaire key is accepted and then ignored (issue 10).

The schema classes are walked by introspection. Every key they accept must appear in
``PROOFS`` with either

- a *proof*: a function that changes the key in a small questionnaire and shows that the
  output the key claims to change does change (a scoring result, the stored snapshot, a
  validation verdict), or
- ``presentation(...)``: the key only changes what people read, and the named test (which must
  exist) shows it on a page.

A key added to the schema later without an entry here fails
:func:`test_every_schema_key_has_a_proof`.
"""

from __future__ import annotations

import ast
import copy
import math
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from pydantic import BaseModel

from analysis.scoring import respondent_scores
from app.questionnaires import Questionnaire, QuestionnaireError, schema

ROOT = Path(__file__).resolve().parents[2]

BASE_YAML = """
slug: uji-kunci
version: 1
languages: [id, en]
title: {id: Uji kunci, en: Key test}
description: {id: Deskripsi, en: Description}
scales:
  - id: s5
    points:
      - {value: 1, label: {id: Satu, en: One}}
      - {value: 2, label: {id: Dua, en: Two}}
      - {value: 3, label: {id: Tiga, en: Three}}
      - {value: 4, label: {id: Empat, en: Four}}
      - {value: 5, label: {id: Lima, en: Five}}
    dont_know: {label: {id: Tidak tahu, en: "Don't know"}}
    favourable_min: 4
dimensions:
  - id: da
    title: {id: Dimensi A, en: Dimension A}
    description: {id: Tentang A, en: About A}
    scoring: mean
    min_answered: 0.5
    min_items: 2
    bands:
      - {id: low, label: {id: Rendah, en: Low}, min: 1, max: 3}
      - {id: high, label: {id: Tinggi, en: High}, min: 3, max: 5}
    discussion_prompts:
      - {id: "Mengapa?", en: "Why?"}
    items:
      - {id: a1, text: {id: Butir a1, en: Item a1}, scale: s5, reverse: false, required: true}
      - {id: a2, text: {id: Butir a2, en: Item a2}, scale: s5}
      - {id: a3, text: {id: Butir a3, en: Item a3}, scale: s5}
  - id: db
    title: {id: Dimensi B, en: Dimension B}
    items:
      - {id: b1, text: {id: Butir b1, en: Item b1}, scale: s5}
      - {id: b2, text: {id: Butir b2, en: Item b2}, scale: s5}
total:
  method: sum_of_items
  missing: prorate
  min_answered: 0.5
  min_items: 2
  bands:
    - {id: low, label: {id: Rendah, en: Low}, min: 5, max: 14}
    - {id: high, label: {id: Tinggi, en: High}, min: 15, max: 25}
open_questions:
  - {id: o1, text: {id: "Saran?", en: "Suggestions?"}, required: false, max_length: 500}
partner_ratings:
  - {id: pr1, text: {id: "Mitra ini?", en: "This partner?"}, scale: s5, dimension: da,
     required: false}
meta_perceptions:
  - {id: a1_meta, target: a1, text: {id: "Menurut mitra lain?", en: "Others' view?"},
     scale: s5, required: false}
"""

# One respondent: a1 = 5, a2 = 1, a3 unanswered; b1 = 2, b2 = 4.
ANSWERS = {"a1": 5.0, "a2": 1.0, "a3": math.nan, "b1": 2.0, "b2": 4.0}


def base() -> dict[str, Any]:
    return yaml.safe_load(BASE_YAML)


def build(data: dict[str, Any]) -> Questionnaire:
    return Questionnaire.from_dict(data)


def refused(data: dict[str, Any]) -> bool:
    try:
        build(data)
    except QuestionnaireError:
        return True
    return False


def scores(q: Questionnaire, answers: dict[str, float] = ANSWERS) -> dict[str, Any]:
    """The respondent-level scores (what the answers export and the results compute)."""
    frame = pd.DataFrame(
        [
            ("r", 1, "p", item, value)
            for item, value in answers.items()
            if item in {i.id for i in q.items}
        ],
        columns=["response_id", "round_id", "partner_id", "item_id", "value"],
    )
    bands = {
        d.id: [
            {"label": f"{b.id}:{b.label.get('en')}", "min": b.min, "max": b.max} for b in d.bands
        ]
        for d in q.dimensions
        if d.bands
    }
    total_bands = (
        [{"label": b.id, "min": b.min, "max": b.max} for b in q.total.bands]
        if q.total and q.total.bands
        else None
    )
    out = respondent_scores(
        frame,
        q.items_frame(),
        q.dimensions_frame(),
        total=q.total_options(),
        bands=bands,
        total_bands=total_bands,
    )
    return {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in out.iloc[0].to_dict().items()
    }


def changes(
    mutate: Callable[[dict[str, Any]], None], output: Callable[[Questionnaire], Any] = scores
) -> None:
    """Assert that ``mutate`` (a valid edit) changes ``output``."""
    data = base()
    before = output(build(data))
    edited = copy.deepcopy(data)
    mutate(edited)
    after = output(build(edited))
    assert before != after, "the key changed nothing it claims to change"


# --------------------------------------------------------------------------- proofs


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        parts = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value

    return mutate


def _hash(q: Questionnaire) -> str:
    return q.content_hash()


def prove_languages() -> None:
    data = base()
    data["languages"] = ["id"]
    assert refused(data)  # the English texts are now undeclared languages


def prove_scales() -> None:
    data = base()
    data["scales"] = []
    assert refused(data)


def prove_scale_id() -> None:
    changes(
        lambda d: (
            _set("scales.0.id", "t5")(d),
            [i.update(scale="t5") for dim in d["dimensions"] for i in dim["items"]],
            d["partner_ratings"][0].update(scale="t5"),
            d["meta_perceptions"][0].update(scale="t5"),
        ),
        _hash,
    )
    data = base()
    data["scales"][0]["id"] = "t5"
    assert refused(data)  # items now name an unknown scale


def prove_points() -> None:
    def four_points(d: dict[str, Any]) -> None:
        d["scales"][0]["points"].pop()  # 1-4
        d["dimensions"][0]["bands"][1]["max"] = 4
        d["total"]["bands"] = []

    changes(four_points, lambda q: q.total_range())  # 5-25 -> 5-20


def prove_point_value() -> None:
    def shift(d: dict[str, Any]) -> None:
        for p in d["scales"][0]["points"]:
            p["value"] -= 1  # 0-4
        d["scales"][0]["favourable_min"] = 3
        d["dimensions"][0]["bands"][0]["min"] = 0
        d["dimensions"][0]["bands"][1]["max"] = 4
        d["total"]["bands"][0]["min"] = 0
        d["total"]["bands"][1]["max"] = 20

    data = base()
    shift(data)
    q = build(data)
    assert q.total_range() == (0.0, 20.0)
    changes(shift, lambda q: q.total_range())


def prove_favourable_min() -> None:
    from app.services.results import questionnaire_inputs

    changes(_set("scales.0.favourable_min", 5), lambda q: questionnaire_inputs([q]).favourable_min)


def prove_dimensions() -> None:
    def one_dimension(d: dict[str, Any]) -> None:
        d["dimensions"].pop()
        d["total"]["bands"] = []

    changes(one_dimension, lambda q: sorted(scores(q)))


def prove_dimension_id() -> None:
    changes(_set("dimensions.1.id", "dc"), lambda q: sorted(scores(q)))


def prove_scoring() -> None:
    changes(lambda d: _set("dimensions.1.scoring", "sum")(d), scores)  # b: 3 -> 6


def prove_min_answered() -> None:
    # a: 2 of 3 answered; a share of 0.9 needs 3.
    changes(_set("dimensions.0.min_answered", 0.9), scores)


def prove_min_items() -> None:
    answers = {**ANSWERS, "a2": math.nan}  # a: 1 of 3 answered
    changes(
        lambda d: (_set("dimensions.0.min_items", 1)(d), _set("dimensions.0.min_answered", 0.3)(d)),
        lambda q: scores(q, answers)["score_da"],
    )


def prove_dimension_bands() -> None:
    changes(_set("dimensions.0.bands", []), lambda q: scores(q).get("band_da"))


def prove_band_id() -> None:
    changes(_set("dimensions.0.bands.1.id", "top"), lambda q: scores(q)["band_da"])


def prove_band_min() -> None:
    # a = (5 + 1) / 2 = 3: in "high" from 3, in "low" when the edge moves to 3.5.
    changes(
        lambda d: (
            _set("dimensions.0.bands.0.max", 3.5)(d),
            _set("dimensions.0.bands.1.min", 3.5)(d),
        ),
        lambda q: scores(q)["band_da"],
    )


def prove_band_max() -> None:
    prove_band_min()  # the same shared edge: moving max and min together moves the score


def prove_items() -> None:
    def fewer_items(d: dict[str, Any]) -> None:
        d["dimensions"][1]["items"].pop()  # b: (2 + 4) / 2 = 3 -> 2
        d["total"]["bands"] = []

    changes(fewer_items, lambda q: scores(q)["score_db"])


def prove_item_id() -> None:
    changes(
        lambda d: (_set("dimensions.0.items.0.id", "a9")(d),
                   _set("meta_perceptions.0.target", "a9")(d)),
        lambda q: list(q.items_frame()["item_id"]),
    )


def prove_item_scale() -> None:
    def other_scale(d: dict[str, Any]) -> None:
        scale = copy.deepcopy(d["scales"][0])
        scale["id"] = "s7"
        scale["points"] += [
            {"value": 6, "label": {"id": "Enam", "en": "Six"}},
            {"value": 7, "label": {"id": "Tujuh", "en": "Seven"}},
        ]
        d["scales"].append(scale)
        for item in d["dimensions"][1]["items"]:
            item["scale"] = "s7"
        d["total"]["bands"][1]["max"] = 29

    changes(other_scale, lambda q: q.total_range())


def prove_reverse() -> None:
    changes(_set("dimensions.0.items.0.reverse", True), scores)  # a1: 5 -> 1


def prove_total() -> None:
    changes(lambda d: d.pop("total"), scores)


def prove_total_method() -> None:
    def mean_of_items(d: dict[str, Any]) -> None:
        d["total"]["method"] = "mean_of_items"  # 15 -> 12 / 4 = 3
        d["total"]["bands"][0].update(min=1, max=3)
        d["total"]["bands"][1].update(min=3, max=5)

    changes(mean_of_items, lambda q: scores(q)["total"])


def prove_total_missing() -> None:
    changes(_set("total.missing", "refuse"), lambda q: scores(q)["total"])


def prove_total_min_answered() -> None:
    changes(_set("total.min_answered", 1.0), lambda q: scores(q)["total"])


def prove_total_min_items() -> None:
    changes(_set("total.min_items", 5), lambda q: scores(q)["total"])


def prove_total_bands() -> None:
    # total = (5 + 1 + 2 + 4) * 5 / 4 = 15 -> "high"; with the edge at 16 -> "low".
    assert scores(build(base()))["total"] == 15.0
    changes(
        lambda d: (_set("total.bands.0.max", 16)(d), _set("total.bands.1.min", 16)(d)),
        lambda q: scores(q)["total_band"],
    )


def prove_identity(key: str) -> Callable[[], None]:
    def proof() -> None:
        changes(_set(key, 2 if key == "version" else "uji-lain"), _hash)

    return proof


def prove_open_question_id() -> None:
    changes(_set("open_questions.0.id", "o9"), _hash)


def prove_partner_rating_id() -> None:
    changes(_set("partner_ratings.0.id", "pr9"), _hash)


def prove_partner_rating_scale() -> None:
    data = base()
    data["partner_ratings"][0]["scale"] = "nope"
    assert refused(data)


def meta_output(q: Questionnaire) -> list[tuple[Any, ...]]:
    """Predicted against actual per partner (what the meta-perception table shows)."""
    from analysis.metaperception import meta_perception

    rows = []
    for p, (own, predicted) in {"A": (5.0, 2.0), "B": (2.0, 4.0)}.items():
        for r in range(3):
            rid = f"{p}{r}"
            rows += [(rid, 1, p, "a1", own), (rid, 1, p, "a2", own - 1), (rid, 1, p, "a3", own),
                     (rid, 1, p, "b1", 3.0), (rid, 1, p, "b2", 3.0)]
            rows += [(rid, 1, p, m.id, predicted) for m in q.meta_perceptions]
    frame = pd.DataFrame(rows, columns=["response_id", "round_id", "partner_id", "item_id",
                                        "value"])
    out = meta_perception(frame, q.items_frame(), q.meta_frame(), k=3,
                          dimensions=q.dimensions_frame())
    return [tuple(r) for r in out[["meta_id", "partner_id", "predicted_mean", "actual_mean"]]
            .round(9).astype(object).itertuples(index=False)]


def prove_meta_perceptions() -> None:
    changes(lambda d: d.pop("meta_perceptions"), meta_output)


def prove_meta_id() -> None:
    changes(_set("meta_perceptions.0.id", "a9_meta"), meta_output)


def prove_meta_target() -> None:
    # Target a1 (the others answered 2 or 5) -> dimension da (scores 1.67 or 4.67).
    changes(_set("meta_perceptions.0.target", "da"), meta_output)


def prove_meta_scale() -> None:
    data = base()
    data["meta_perceptions"][0]["scale"] = "nope"
    assert refused(data)


def presentation(test: str) -> str:
    """Mark a key as changing only what people read, shown by ``test`` (path::name)."""
    return test


PREVIEW = (
    "tests/app/test_admin_questionnaires.py::test_preview_shows_both_languages_with_staff_notes"
)
ROUND_PAGE = (
    "tests/app/test_results_pages.py::test_round_page_has_every_panel_in_english_and_indonesian"
)
REQUIRED = "tests/app/test_respond_flow.py::test_required_items_are_enforced_with_messages"
OPTIONAL = "tests/app/test_respond_flow.py::test_optional_questions_may_be_skipped"
PAPER = (
    "tests/app/test_paper_import.py::"
    "test_dont_know_only_where_the_scale_offers_it_and_required_ratings_and_texts"
)

META_PAGE = (
    "tests/app/test_metaperception.py::"
    "test_round_page_shows_meta_perception_omega_p_methods_and_rating_dimension"
)

PROOFS: dict[str, Callable[[], None] | str] = {
    "QuestionnaireSchema.slug": prove_identity("slug"),
    "QuestionnaireSchema.version": prove_identity("version"),
    "QuestionnaireSchema.languages": prove_languages,
    "QuestionnaireSchema.title": presentation(PREVIEW),
    "QuestionnaireSchema.description": presentation(PREVIEW),
    "QuestionnaireSchema.scales": prove_scales,
    "QuestionnaireSchema.dimensions": prove_dimensions,
    "QuestionnaireSchema.total": prove_total,
    "QuestionnaireSchema.open_questions": presentation(OPTIONAL),
    "QuestionnaireSchema.partner_ratings": presentation(
        "tests/app/test_respond_flow.py::test_partner_rating_rows_are_the_other_partners_only"
    ),
    "ScaleSchema.id": prove_scale_id,
    "ScaleSchema.points": prove_points,
    "ScaleSchema.dont_know": presentation(
        "tests/app/test_respond_flow.py::test_dont_know_is_stored_as_null"
    ),
    "ScaleSchema.favourable_min": prove_favourable_min,
    "ScalePointSchema.value": prove_point_value,
    "ScalePointSchema.label": presentation(PREVIEW),
    "DontKnowSchema.label": presentation(PREVIEW),
    "BandSchema.id": prove_band_id,
    "BandSchema.label": presentation(
        "tests/app/test_bundled_questionnaires.py::"
        "test_kemitraan_sehat_bands_put_edges_in_the_higher_band"
    ),
    "BandSchema.min": prove_band_min,
    "BandSchema.max": prove_band_max,
    "ItemSchema.id": prove_item_id,
    "ItemSchema.text": presentation(PREVIEW),
    "ItemSchema.scale": prove_item_scale,
    "ItemSchema.reverse": prove_reverse,
    "ItemSchema.required": presentation(REQUIRED),
    "DimensionSchema.id": prove_dimension_id,
    "DimensionSchema.title": presentation(PREVIEW),
    "DimensionSchema.description": presentation(ROUND_PAGE),
    "DimensionSchema.scoring": prove_scoring,
    "DimensionSchema.min_answered": prove_min_answered,
    "DimensionSchema.min_items": prove_min_items,
    "DimensionSchema.bands": prove_dimension_bands,
    "DimensionSchema.discussion_prompts": presentation(ROUND_PAGE),
    "DimensionSchema.items": prove_items,
    "TotalSchema.method": prove_total_method,
    "TotalSchema.missing": prove_total_missing,
    "TotalSchema.min_answered": prove_total_min_answered,
    "TotalSchema.min_items": prove_total_min_items,
    "TotalSchema.bands": prove_total_bands,
    "OpenQuestionSchema.id": prove_open_question_id,
    "OpenQuestionSchema.text": presentation(PREVIEW),
    "OpenQuestionSchema.required": presentation(OPTIONAL),
    "OpenQuestionSchema.max_length": presentation(
        "tests/app/test_respond_flow.py::test_open_answer_length_is_capped"
    ),
    "PartnerRatingSchema.id": prove_partner_rating_id,
    "PartnerRatingSchema.text": presentation(PREVIEW),
    "PartnerRatingSchema.scale": prove_partner_rating_scale,
    "PartnerRatingSchema.required": presentation(PAPER),
    # Shown with each rating on the results page and in the report ("Dimension: ...").
    "PartnerRatingSchema.dimension": presentation(META_PAGE),
    "QuestionnaireSchema.meta_perceptions": prove_meta_perceptions,
    "MetaPerceptionSchema.id": prove_meta_id,
    "MetaPerceptionSchema.target": prove_meta_target,
    "MetaPerceptionSchema.text": presentation(META_PAGE),
    "MetaPerceptionSchema.scale": prove_meta_scale,
    "MetaPerceptionSchema.required": presentation(
        "tests/app/test_metaperception.py::test_required_meta_perception_must_be_answered"
    ),
}


# --------------------------------------------------------------------------- the walk


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    """Every pydantic model inside a field annotation (lists, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models(arg)
    origin = typing.get_origin(annotation)
    if origin is not None and origin not in (list, dict, typing.Union, types.UnionType):
        yield from _models(origin)


def schema_keys() -> list[str]:
    """``Model.key`` for every key of every schema class reachable from the top."""
    seen: set[type[BaseModel]] = set()
    keys: list[str] = []
    todo: list[type[BaseModel]] = [schema.QuestionnaireSchema]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            keys.append(f"{model.__name__}.{name}")
            todo.extend(_models(info.annotation))
    return sorted(keys)


def test_the_walk_finds_every_schema_class() -> None:
    found = {key.split(".")[0] for key in schema_keys()}
    assert found == {
        "QuestionnaireSchema",
        "ScaleSchema",
        "ScalePointSchema",
        "DontKnowSchema",
        "BandSchema",
        "ItemSchema",
        "DimensionSchema",
        "TotalSchema",
        "OpenQuestionSchema",
        "PartnerRatingSchema",
        "MetaPerceptionSchema",
    }


def test_every_schema_key_has_a_proof() -> None:
    missing = sorted(set(schema_keys()) - set(PROOFS))
    assert not missing, (
        f"keys accepted by the schema with no proof that they change anything: {missing}; "
        "add a proof (or a presentation test) to PROOFS, or refuse the key at validation"
    )
    assert not set(PROOFS) - set(schema_keys()), "PROOFS lists keys the schema no longer has"


def test_the_base_questionnaire_uses_every_key() -> None:
    """Each proof starts from a file that writes every key, so none is proven by default."""
    data = base()
    build(data)

    def written(node: Any, model: type[BaseModel], out: set[str]) -> None:
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            out.add(f"{model.__name__}.{key}")
            annotation = model.model_fields[key].annotation
            for sub in _models(annotation):
                for child in value if isinstance(value, list) else [value]:
                    written(child, sub, out)

    out: set[str] = set()
    written(data, schema.QuestionnaireSchema, out)
    assert set(schema_keys()) - out == set()


@pytest.mark.parametrize("key", sorted(k for k, v in PROOFS.items() if callable(v)))
def test_key_changes_its_output(key: str) -> None:
    proof = PROOFS[key]
    assert callable(proof)
    proof()


def _test_exists(reference: str) -> bool:
    path, name = reference.split("::")
    tree = ast.parse((ROOT / path).read_text("utf-8"))
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in tree.body)


@pytest.mark.parametrize(
    "key", sorted(k for k, v in PROOFS.items() if isinstance(v, str) and v != "GAP")
)
def test_presentation_key_names_an_existing_test(key: str) -> None:
    reference = PROOFS[key]
    assert isinstance(reference, str) and _test_exists(reference), reference


def test_partner_rating_dimension_is_shown() -> None:
    assert PROOFS["PartnerRatingSchema.dimension"] != "GAP"


def test_meta_perception_target_changes_the_actual_value() -> None:
    """The proof above, with the numbers: B predicts 4 for A's view of a1, then of da."""
    data = base()
    on_item = {(m, p): a for m, p, _, a in meta_output(build(data))}
    data["meta_perceptions"][0]["target"] = "da"
    on_dimension = {(m, p): a for m, p, _, a in meta_output(build(data))}
    assert on_item[("a1_meta", "A")] == 2.0  # B's own answers to a1
    assert on_dimension[("a1_meta", "A")] == pytest.approx(5 / 3)  # B's da scores


def test_the_results_service_passes_every_scoring_key() -> None:
    from app.services.results import questionnaire_inputs

    q = build(base())
    inputs = questionnaire_inputs([q])
    assert "min_items" in inputs.dimensions.columns
    assert getattr(inputs, "total", None) == q.total_options()


def test_total_keys_that_a_method_ignores_are_refused_with_line_and_reason() -> None:
    from app.questionnaires import parse_questionnaire

    text = BASE_YAML.replace("method: sum_of_items", "method: mean_of_dimensions")
    text = text.replace("min: 5, max: 14}", "min: 1, max: 3}").replace(
        "min: 15, max: 25}", "min: 3, max: 5}"
    )
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text, "kunci.yaml")
    lines = [str(p) for p in caught.value.problems]
    numbered = dict(enumerate(text.splitlines(), start=1))
    assert numbered[41].strip() == "min_answered: 0.5" and numbered[42].strip() == "min_items: 2"
    assert lines == [
        "kunci.yaml:41: total.min_answered: min_answered applies to the item methods "
        "(mean_of_items, sum_of_items) only; with method mean_of_dimensions each dimension's "
        "own rule decides, so remove it or set it on the dimensions",
        "kunci.yaml:42: total.min_items: min_items applies to the item methods "
        "(mean_of_items, sum_of_items) only; with method mean_of_dimensions each dimension's "
        "own rule decides, so remove it or set it on the dimensions",
    ]


def test_min_items_above_the_dimension_size_is_refused() -> None:
    data = base()
    data["dimensions"][1]["min_items"] = 3
    with pytest.raises(QuestionnaireError) as caught:
        build(data)
    (problem,) = caught.value.problems
    assert problem.path == "dimensions[1].min_items"
    assert "more than the dimension's 2 items" in problem.message
