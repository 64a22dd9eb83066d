"""A partnership exported as canonical JSON and imported into another instance.

The round trip is built on SQLite and imported into the ``app`` fixture's database, which is
PostgreSQL when ``MITRA_TEST_DATABASE_URL`` is set: the results exports of the two instances
must then be byte for byte the same.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import Base
from app.models import AccessCode, Partnership, Response, Round
from app.models.workshops import Action, Workshop
from app.services import partnership_io
from tests.app.export_helpers import build_results_world
from tests.app.staff_helpers import db


def _source_app(tmp_path: Path, app_config: dict) -> Flask:
    from app import create_app

    config = {**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'source.db'}"}
    source = create_app(config)
    Base.metadata.create_all(source.extensions["mitra.engine"])
    return source


def _export(app: Flask, partnership_id: int, path: Path) -> str:
    result = app.test_cli_runner().invoke(
        args=["partnership", "export", str(partnership_id), "-o", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8")


def _results(app: Flask, round_id: int, fmt: str) -> str:
    result = app.test_cli_runner().invoke(
        args=["results", "export", str(round_id), "--format", fmt, "--language", "en"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _closed_round(app: Flask, name: str) -> int:
    with db(app) as session:
        partnership = session.scalar(select(Partnership).where(Partnership.name == name))
        return next(r.id for r in partnership.rounds if r.name == "Putaran tutup")


@pytest.fixture
def source(tmp_path, app_config):
    app = _source_app(tmp_path, app_config)
    rw = build_results_world(app, counts=(20, 14, 9))
    with db(app) as session:
        workshop = Workshop(round_id=rw.closed_round, held_on=date(2026, 2, 3),
                            title="Refleksi", notes="Catatan")
        session.add(workshop)
        session.flush()
        first = Action(workshop_id=workshop.id, description="Rapat bulanan",
                       questionnaire_version_id=rw.world.version, dimension_id="kesetaraan")
        session.add(first)
        session.flush()
        session.add(Action(workshop_id=workshop.id, description="Lanjutan",
                           questionnaire_version_id=rw.world.version, item_id="kes1",
                           carried_over_from_id=first.id))
        session.commit()
    yield app, rw
    app.extensions["mitra.engine"].dispose()


def test_export_is_canonical_and_anonymous(source, tmp_path) -> None:
    app, rw = source
    text = _export(app, rw.world.partnership, tmp_path / "a.json")
    again = _export(app, rw.world.partnership, tmp_path / "b.json")
    assert text == again  # the same database exports the same bytes
    document = json.loads(text)
    assert text == partnership_io.dumps(document)  # sorted keys, one canonical layout
    assert document["format"] == partnership_io.FORMAT
    assert document["schema_version"] == partnership_io.SCHEMA_VERSION
    assert len(document["responses"]) == 43
    response = document["responses"][0]
    assert set(response) == {"id", "round_id", "partner_id", "language", "submitted_on",
                             "source", "answers", "ratings"}
    with db(app) as session:
        codes = list(session.scalars(select(AccessCode.code_hash)))
    assert not any(code and code in text for code in codes)
    assert "created_at" not in text and "result_snapshots" not in text
    workshops = document["workshops"]
    assert [a["description"] for a in workshops["actions"]] == ["Rapat bulanan", "Lanjutan"]
    assert workshops["actions"][1]["carried_over_from_id"] == workshops["actions"][0]["ref"]


def test_round_trip_gives_byte_identical_results_exports(source, app, tmp_path) -> None:
    """Built on SQLite, imported into the app fixture's database (PostgreSQL when set)."""
    src, rw = source
    path = tmp_path / "partnership.json"
    _export(src, rw.world.partnership, path)
    result = app.test_cli_runner().invoke(args=["partnership", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Questionnaire versions added" in result.output
    source_round = rw.closed_round
    target_round = _closed_round(app, "Kemitraan A")
    for fmt in ("csv", "json"):
        before, after = _results(src, source_round, fmt), _results(app, target_round, fmt)
        if fmt == "json":  # ids are the instance's own; everything else must match exactly
            before, after = (_without_ids(json.loads(t)) for t in (before, after))
        assert before == after, fmt
    # Exporting the imported partnership gives the very same file.
    with db(app) as session:
        new_id = session.scalar(select(Partnership.id).where(Partnership.name == "Kemitraan A"))
    assert _export(app, new_id, tmp_path / "again.json") == path.read_text(encoding="utf-8")
    with db(app) as session:
        actions = session.scalars(select(Action).order_by(Action.id)).all()
        assert actions[1].carried_over_from_id == actions[0].id


def _without_ids(payload: dict) -> str:
    """The results JSON with the instance's database ids replaced by their position."""
    text = json.dumps(payload, sort_keys=True)
    partners = [p["partner_id"] for p in payload["response_counts"]["partners"]]
    round_id = payload["meta"]["round_id"]
    for position, pid in enumerate(partners):
        text = text.replace(f'"partner_id": {pid},', f'"partner_id": "P{position}",')
    text = text.replace(f'"round_id": {round_id},', '"round_id": "R",')
    return text.replace(f'"id": {round_id},', '"id": "R",')


def test_import_refuses_an_existing_name_unless_renamed(source, tmp_path) -> None:
    app, rw = source
    path = tmp_path / "p.json"
    _export(app, rw.world.partnership, path)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["partnership", "import", str(path)])
    assert refused.exit_code != 0
    assert "Kemitraan A" in refused.output and "--rename" in refused.output
    renamed = runner.invoke(args=["partnership", "import", str(path), "--rename", "Salinan A"])
    assert renamed.exit_code == 0, renamed.output
    assert "Questionnaire versions added" not in renamed.output  # matched by slug + version
    with db(app) as session:
        copy = session.scalar(select(Partnership).where(Partnership.name == "Salinan A"))
        assert copy is not None and len(copy.rounds) == 3
        n = session.scalar(select(func.count()).select_from(Response).join(Round).where(
            Round.partnership_id == copy.id))
        assert n == 43


@pytest.mark.parametrize(
    ("change", "path_text", "reason"),
    [
        (lambda d: d.update(schema_version=99), "$.schema_version", "not supported"),
        (lambda d: d.update(format="other"), "$.format", "not a partnership file"),
        (lambda d: d["responses"][3].update(partner_id=999), "$.responses[3].partner_id",
         "refers to no partner"),
        (lambda d: d["rounds"][0].update(status="sideways"), "$.rounds[0].status",
         "status"),
        (lambda d: d["responses"][0]["answers"].append(["x"]), "$.responses[0].answers[",
         "must be [item_id, value]"),
        (lambda d: d["questionnaire_versions"][0].update(content_hash="0" * 64),
         "$.questionnaire_versions[0]", "other content"),
    ],
)
def test_import_refuses_bad_files_whole(source, tmp_path, change, path_text, reason) -> None:
    app, rw = source
    document = json.loads(_export(app, rw.world.partnership, tmp_path / "p.json"))
    change(document)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    with db(app) as session:
        before = session.scalar(select(func.count()).select_from(Partnership))
    result = app.test_cli_runner().invoke(
        args=["partnership", "import", str(bad), "--rename", "Baru"]
    )
    assert result.exit_code != 0
    assert str(bad) in result.output and path_text in result.output and reason in result.output
    with db(app) as session:  # one transaction: nothing of it stayed
        assert session.scalar(select(func.count()).select_from(Partnership)) == before


def test_import_refuses_a_file_that_is_not_json(app, tmp_path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": ', encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["partnership", "import", str(bad)])
    assert result.exit_code != 0
    assert "broken.json" in result.output and "not JSON" in result.output


def test_export_of_an_unknown_partnership_is_a_clear_error(app, tmp_path) -> None:
    result = app.test_cli_runner().invoke(
        args=["partnership", "export", "4242", "-o", str(tmp_path / "x.json")]
    )
    assert result.exit_code != 0 and "no partnership with id 4242" in result.output
