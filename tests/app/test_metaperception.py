"""Meta-perception end to end: schema, respondent page, snapshot, pages, report, exports, API.

Also the reliability choice (omega beside alpha), the p-value method notes and the dimension
of partner ratings, which are shown on the same pages.
"""

from __future__ import annotations

import csv
import io
import random

import pytest
from sqlalchemy import select

from app.api.openapi import openapi_document
from app.models import Answer, Response, Round
from app.questionnaires import QuestionnaireError, load_questionnaire, parse_questionnaire
from app.respond.items import MetaPerceptionQuestion, StorageContext
from app.respond.pages import plan_pages
from app.services.exports import build_export
from app.services.questionnaires import import_questionnaire
from tests.app.export_helpers import make_token, reading, snapshot_of
from tests.app.staff_helpers import db
from tests.app.test_results_pages import (
    RESULTS_YAML,
    Scene,
    admin_client,
    build_scene,
    round_url,
)
from tests.factories import BUNDLED

META_YAML = RESULTS_YAML.replace("version: 1", "version: 7", 1).replace(
    "slug: uji-hasil", "slug: uji-meta", 1
) + """
meta_perceptions:
  - id: tra_meta
    target: transparansi
    text: {id: "Menurut Anda, bagaimana mitra lain menilai transparansi?",
           en: "How do you think the other partners rate transparency?"}
    scale: setuju4
  - id: kes1_meta
    target: kes1
    text: {id: "Bagaimana mitra lain menanggapi kes1?", en: "How do the others answer kes1?"}
    scale: setuju4
    required: true
"""


def _meta_yaml_with_rating_dimension() -> str:
    return META_YAML.replace(
        "    text: {id: Mitra ini menepati komitmennya., en: This partner keeps its commitments.}",
        "    text: {id: Mitra ini menepati komitmennya., en: This partner keeps its commitments.}"
        "\n    dimension: transparansi",
    )


def _scene(app, sizes: dict[str, int], k: int = 5) -> Scene:
    with db(app) as session:
        version = import_questionnaire(
            session, parse_questionnaire(_meta_yaml_with_rating_dimension(), "uji-meta.yaml")
        ).version
        scene = build_scene(session, sizes, k=k, version=version)
        rng = random.Random(5)
        round_ = session.get(Round, scene.round)
        for name, pid in scene.partners.items():
            lean = 1 if name == "Dinas" else 0  # Dinas expects to be seen better
            for rid in session.scalars(select(Response.id).where(
                    Response.round_id == round_.id, Response.partner_id == pid)):
                for meta in ("tra_meta", "kes1_meta"):
                    value = min(4, rng.randint(2, 3) + lean)
                    session.add(Answer(response_id=rid, item_id=meta, value=value))
        round_.results_version += 1
        session.commit()
    return scene


def test_schema_refuses_a_meta_perception_it_cannot_compare() -> None:
    base = META_YAML
    cases = {
        "target: transparansi": ("target: nowhere", "unknown target 'nowhere'"),
        "target: kes1": ("target: transparansi", "already has a meta-perception"),
    }
    for old, (new, message) in cases.items():
        with pytest.raises(QuestionnaireError) as caught:
            parse_questionnaire(base.replace(old, new, 1), "m.yaml")
        assert any(message in p.message for p in caught.value.problems), caught.value
    five = base.replace("scale: setuju4\n  - id: kes1_meta", "scale: lima\n  - id: kes1_meta")
    five = five.replace("scales:\n", "scales:\n  - id: lima\n    points:\n" + "".join(
        f"      - {{value: {v}, label: {{id: L{v}, en: L{v}}}}}\n" for v in range(1, 6)), 1)
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(five, "m.yaml")
    (problem,) = caught.value.problems
    assert problem.path == "meta_perceptions[0].scale" and problem.line is not None
    assert "runs 1 to 5, but 'transparansi' is rated 1 to 4" in problem.message
    # Bilingual: the same problem in Indonesian through the catalogue's gettext.
    assert problem.text is not None and problem.text.msgid.startswith("scale '%(scale)s' runs")


def test_bundled_v2_asks_on_the_transparency_page_and_v1_is_unchanged() -> None:
    v2 = load_questionnaire(BUNDLED / "kemitraan-sehat.v2.yaml")
    v1 = load_questionnaire(BUNDLED / "kemitraan-sehat.v1.yaml")
    assert v1.meta_perceptions == () and "meta_perceptions" not in v1.to_dict()
    assert v2.items == v1.items and v2.dimensions == v1.dimensions
    assert {m.target for m in v2.meta_perceptions} == {"transparansi", "tra1"}
    plan = plan_pages(v2, [(1, "Dinas"), (2, "Yayasan")], own_partner_id=1)
    pages = {p.dimension.id: p for p in plan.pages if p.dimension is not None}
    assert [q.id for q in pages["transparansi"].meta] == ["tra_meta", "tra1_meta"]
    assert all(not p.meta for d, p in pages.items() if d != "transparansi")
    # Alone in the round there is nobody else to predict.
    alone = plan_pages(v2, [(1, "Dinas")], own_partner_id=1)
    assert all(not p.meta for p in alone.pages)
    question = pages["transparansi"].meta[0]
    assert isinstance(question, MetaPerceptionQuestion) and question.kind == "meta_perception"
    (row,) = question.rows(3, StorageContext(round_id=1, partner_id=1, language="id"))
    assert isinstance(row, Answer) and (row.item_id, row.value) == ("tra_meta", 3)
    assert question.rows(None, StorageContext(1, 1, "id"))[0].value is None  # don't know


def test_snapshot_compares_each_partner_with_the_others(app) -> None:
    scene = _scene(app, {"Dinas": 9, "Tani": 8, "Yayasan": 10})
    snap = snapshot_of(app, scene.round)
    entries = {e["meta_id"]: e for e in snap["meta_perception"]}
    assert set(entries) == {"tra_meta", "kes1_meta"}
    tra = entries["tra_meta"]
    assert tra["target_kind"] == "dimension" and tra["scale_min"] == 1
    rows = {r["name"]: r for r in tra["partners"]}
    assert set(rows) == {"Dinas", "Tani", "Yayasan"}
    for row in rows.values():
        assert not row["suppressed"] and row["n_predicted"] == scene.sizes[row["name"]]
        assert row["difference"] == pytest.approx(row["predicted_mean"] - row["actual_mean"])
        assert row["p_method"] in {"exact", "monte_carlo", "asymptotic"}
        assert set(row["sentence"]) == {"id", "en"}
    assert rows["Dinas"]["direction"] == "over"
    # Scores and the rest of the snapshot ignore the meta answers (they are not items).
    assert {d["item_id"] for d in snap["distributions"]} == {"kes1", "kes2", "tra1", "tra2"}
    # partner_ratings[].dimension travels with the rating matrix.
    assert snap["rating_matrix"][0]["dimension"] == "transparansi"


def test_a_small_partner_is_hidden_with_a_complementary_one(app) -> None:
    scene = _scene(app, {"Dinas": 9, "Tani": 3, "Yayasan": 10})
    snap = snapshot_of(app, scene.round)
    hidden = {r["name"] for r in snap["response_counts"]["partners"] if r["suppressed"]}
    for entry in snap["meta_perception"]:
        rows = {r["name"]: r for r in entry["partners"]}
        for name in hidden:
            assert rows[name]["suppressed"] and rows[name]["predicted_mean"] is None
        for row in entry["partners"]:
            if not row["suppressed"]:
                assert row["n_predicted"] >= scene.k


def test_round_page_shows_meta_perception_omega_p_methods_and_rating_dimension(app) -> None:
    scene = _scene(app, {"Dinas": 9, "Tani": 8, "Yayasan": 10})
    html = admin_client(app, "en").get(round_url(scene)).get_data(as_text=True)
    for text in ("How partners think the others see it", "Predicted",
                 "Actual (other partners)", "overestimates how it is seen",
                 "McDonald's omega", "Which to trust", "How the p-values were computed:",
                 "Dimension: Transparency",
                 "How do you think the other partners rate transparency?"):
        assert text in html, text
    indonesian = admin_client(app, "id").get(round_url(scene)).get_data(as_text=True)
    assert "memperkirakan terlalu tinggi" in indonesian


def test_report_exports_and_api_carry_the_table(app) -> None:
    scene = _scene(app, {"Dinas": 9, "Tani": 8, "Yayasan": 10})
    client = admin_client(app, "en")
    report = client.get(
        f"/reports/partnerships/{scene.partnership}/rounds/{scene.round}"
    ).get_data(as_text=True)
    for text in ("How partners think the others see it", "McDonald's omega",
                 "Dimension: Transparency", "p-values"):
        assert text in report, text
    with reading(app) as session:
        round_ = session.get(Round, scene.round)
        results = build_export(session, round_, "results", "csv", "en").body.decode("utf-8-sig")
        answers = build_export(session, round_, "answers", "csv", "en").body.decode("utf-8-sig")
    assert "Meta-perception" in results and "McDonald's omega" in results
    assert "Which to trust" in results
    header = next(csv.reader(io.StringIO(answers)))
    assert "tra_meta" in header and "kes1_meta" in header and "score_transparansi" in header
    # The JSON API serves the snapshot as it is, and documents the table.
    token = make_token(app, world_admin(app))
    api = client.get(f"/api/v1/rounds/{scene.round}/results",
                     headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200, api.get_data(as_text=True)[:300]
    assert {e["meta_id"] for e in api.get_json()["meta_perception"]} == {"tra_meta", "kes1_meta"}
    schemas = openapi_document()["components"]["schemas"]
    assert "meta_perception" in schemas["RoundResults"]["properties"]


def world_admin(app) -> int:
    from app.models import User

    with db(app) as session:
        return session.scalar(select(User.id).where(User.email == "admin@example.org"))


def test_required_meta_perception_must_be_answered() -> None:
    from app.respond.items import AnswerSheet

    q = parse_questionnaire(META_YAML, "m.yaml")
    plan = plan_pages(q, [(1, "Dinas"), (2, "Tani")], own_partner_id=1)
    page = next(p for p in plan.pages if p.dimension and p.dimension.id == "kesetaraan")
    sheet = AnswerSheet(answers={"kes1": 3, "kes2": 2})
    assert [x.id for x in page.unanswered_required(sheet)] == ["kes1_meta"]
    optional = parse_questionnaire(META_YAML.replace("    required: true\n", ""), "m.yaml")
    page = next(p for p in plan_pages(optional, [(1, "D"), (2, "T")], 1).pages
                if p.dimension and p.dimension.id == "kesetaraan")
    assert page.unanswered_required(sheet) == []
