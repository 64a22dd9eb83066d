"""`flask results export ROUND --format json|csv [--output PATH]`."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from app.models import AuditEvent
from tests.app.export_helpers import build_results_world, snapshot_of
from tests.app.staff_helpers import build_world, rows


def _export(runner, *args: str):
    return runner.invoke(args=["results", "export", *args])


def test_json_is_the_published_snapshot_as_it_is(app, runner):
    rw = build_results_world(app)
    result = _export(runner, str(rw.closed_round))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == snapshot_of(app, rw.closed_round)
    (event,) = rows(app, select(AuditEvent).where(AuditEvent.action == "export.results"))
    assert event.user_id is None and event.details == {"format": "json", "rows": 1,
                                                      "via": "cli"}


def test_csv_holds_the_results_tables_in_the_chosen_language(app, runner):
    rw = build_results_world(app)
    snapshot = snapshot_of(app, rw.closed_round)
    hidden = [p["name"] for p in snapshot["response_counts"]["partners"] if p["suppressed"]]
    assert hidden
    english = _export(runner, str(rw.closed_round), "--format", "csv", "--language", "en")
    assert english.exit_code == 0, english.output
    parsed = list(csv.reader(io.StringIO(english.stdout, newline="")))
    assert parsed[0] == ["Responses"]
    counts = {row[0]: row[2] for row in parsed[2:2 + 1 + len(hidden) + 1] if row}
    for name in hidden:
        assert counts[name] == "fewer than 5 responses"
    titles = {row[0] for index, row in enumerate(parsed) if index == 0 or
              (row and not parsed[index - 1])}
    assert {"Responses", "Scores", "Reliability", "Perception gaps"} <= titles
    indonesian = _export(runner, str(rw.closed_round), "--format", "csv")
    assert "kurang dari 5 tanggapan" in indonesian.stdout


def test_output_goes_to_a_file_when_asked(app, runner, tmp_path):
    rw = build_results_world(app)
    target = tmp_path / "hasil.json"
    result = _export(runner, str(rw.closed_round), "--output", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8")) == snapshot_of(app, rw.closed_round)
    sheet = tmp_path / "hasil.csv"
    assert _export(runner, str(rw.closed_round), "--format", "csv", "--output",
                   str(sheet)).exit_code == 0
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf\"")  # BOM, so Excel reads UTF-8


def test_rounds_without_results_fail_with_one_line(app, runner):
    world = build_world(app)
    for round_id, reason in ((999999, "there is no round 999999"),
                             (world.open_round, "has no responses yet"),
                             (world.draft_round, "has no responses yet")):
        result = _export(runner, str(round_id))
        assert result.exit_code != 0
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0]
    bad = _export(runner, str(world.open_round), "--format", "xml")
    assert bad.exit_code != 0
    language = _export(runner, str(world.open_round), "--language", "fr")
    assert language.exit_code != 0 and "--language" in language.output
