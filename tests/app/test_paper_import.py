"""`flask responses import ROUND FILE.csv`: every cell checked, all rows stored or none."""

from __future__ import annotations

import csv
import io
import os
import random
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import (
    Answer,
    AuditEvent,
    OpenAnswer,
    Partner,
    PartnerRating,
    Partnership,
    Response,
    Round,
    RoundStatus,
)
from app.questionnaires import load_questionnaire
from app.services.paper_import import (
    MAX_PROBLEMS,
    ClosedRoundNotConfirmed,
    ImportRefused,
    PaperImportError,
    check_paper_file,
    import_paper_responses,
    load_import_target,
    paper_date,
    revision_of,
    store_paper_responses,
)
from tests.app.paper_helpers import import_held_halfway
from tests.app.respond_helpers import arrange, english_client, enter_code
from tests.app.staff_helpers import (
    World,
    build_world,
    db,
    fresh,
    import_test_questionnaire,
    rows,
)
from tests.factories import BUNDLED

HEADER = ["partner", "kes1", "kes2", "tra1", "saran", "komitmen@Yayasan Sehat",
          "komitmen@Kelompok Tani", "komitmen@Dinas Kesehatan"]
GOOD = [
    ["Dinas Kesehatan", "4", "dk", "2", "Rapat lebih sering", "3", "", ""],
    ["yayasan sehat ", "1", "2", "DK", "", "", "4", "2"],
    ["Kelompok Tani", "3", "3", "3", "", "1", "", ""],
]

# A questionnaire whose scale has no "don't know", with a required, short open question and
# a required rating of the other partners.
STRICT_YAML = """\
slug: uji-kertas
version: 1
languages: [id, en]
title: {id: Uji kertas, en: Paper test}
scales:
  - id: nilai3
    points:
      - {value: 0, label: {id: Tidak, en: "No"}}
      - {value: 1, label: {id: Sebagian, en: Partly}}
      - {value: 2, label: {id: Ya, en: "Yes"}}
dimensions:
  - id: kesetaraan
    title: {id: Kesetaraan, en: Equality}
    items:
      - id: a1
        text: {id: Semua didengar., en: All are heard.}
        scale: nilai3
      - id: a2
        text: {id: Keputusan bersama., en: Decisions are joint.}
        scale: nilai3
        required: false
open_questions:
  - id: catatan
    text: {id: Catatan, en: Notes}
    required: true
    max_length: 20
partner_ratings:
  - id: tepat
    text: {id: Tepat janji., en: Keeps promises.}
    scale: nilai3
    required: true
"""


def _csv(header, *data, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(data)
    return out.getvalue().encode("utf-8")


def _write(tmp_path, content: bytes, name: str = "kertas.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def _import(runner, round_id: int, path: str, *extra: str):
    return runner.invoke(args=["responses", "import", str(round_id), path, *extra])


def _count(app, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return rows(app, query)[0]


def _partner_ids(app, world: World) -> dict[str, int]:
    return {p.name: p.id for p in rows(app, select(Partner).where(
        Partner.partnership_id == world.partnership))}


# --------------------------------------------------------------------------- storing


def test_a_valid_file_is_stored_as_paper_responses(app, runner, tmp_path):
    world = build_world(app)
    ids = _partner_ids(app, world)
    before = fresh(app, Round, world.open_round).results_version
    result = _import(runner, world.open_round, _write(tmp_path, _csv(HEADER, *GOOD)))
    assert result.exit_code == 0, result.output
    assert "Imported 3 paper response(s)" in result.output
    responses = rows(app, select(Response).where(Response.round_id == world.open_round))
    assert len(responses) == 3 and {r.source for r in responses} == {"paper"}
    round_ = fresh(app, Round, world.open_round)
    assert {r.submitted_on for r in responses} == {paper_date(date.today(), round_)}
    assert round_.results_version == before + 1
    by_partner = {r.partner_id: r.id for r in responses}
    answers = {(a.response_id, a.item_id): a.value for a in rows(app, select(Answer))}
    dinas, yayasan = by_partner[ids["Dinas Kesehatan"]], by_partner[ids["Yayasan Sehat"]]
    assert answers[(dinas, "kes1")] == 4 and answers[(dinas, "kes2")] is None
    assert answers[(yayasan, "tra1")] is None  # "DK" is don't know too
    assert len(answers) == 9
    ratings = {(r.response_id, r.ratee_partner_id): r.value
               for r in rows(app, select(PartnerRating))}
    assert ratings == {(dinas, ids["Yayasan Sehat"]): 3,
                       (yayasan, ids["Kelompok Tani"]): 4,
                       (yayasan, ids["Dinas Kesehatan"]): 2,
                       (by_partner[ids["Kelompok Tani"]], ids["Yayasan Sehat"]): 1}
    (comment,) = rows(app, select(OpenAnswer))
    assert (comment.text, comment.partner_id, comment.question_id) == (
        "Rapat lebih sering", ids["Dinas Kesehatan"], "saran")
    with db(app) as session:
        event = session.scalar(select(AuditEvent).where(
            AuditEvent.action == "responses.import_paper"))
        assert event.details["responses"] == 3 and event.details["file"] == "kertas.csv"
        assert event.object_id == str(world.open_round)


def test_partners_by_id_semicolons_a_bom_and_a_language_column(app, runner, tmp_path):
    world = build_world(app)
    ids = _partner_ids(app, world)
    content = _csv(["Partner", "Language", "kes1", "kes2", "tra1"],
                   [str(ids["Kelompok Tani"]), "en", "1", "2", "3"],
                   ["", "", "", "", ""],  # blank lines are skipped
                   delimiter=";")
    result = _import(runner, world.open_round, _write(tmp_path, b"\xef\xbb\xbf" + content))
    assert result.exit_code == 0, result.output
    (response,) = rows(app, select(Response))
    assert (response.partner_id, response.language) == (ids["Kelompok Tani"], "en")


class DescendingIds(random.Random):
    """Hands out ids ff..., fe..., fd...: each next id sorts before the previous one."""

    def __init__(self) -> None:
        super().__init__()
        self.next = 255

    def randbytes(self, n):  # type: ignore[override]
        out = bytearray()
        for _ in range(n // 16):
            out += bytes([self.next]) * 16
            self.next -= 1
        return bytes(out)


def test_ids_and_stored_order_follow_the_random_source_not_the_file(app):
    """Rows are stored in the order of their random ids: reversed here, because the source is."""
    world = build_world(app)
    ids = _partner_ids(app, world)
    with db(app) as session:
        import_paper_responses(session, session.get(Round, world.open_round),
                               _csv(HEADER, *GOOD), today=date.today(), rng=DescendingIds())
        session.commit()
    stored = rows(app, select(Response).order_by(Response.id))
    file_order = [ids["Dinas Kesehatan"], ids["Yayasan Sehat"], ids["Kelompok Tani"]]
    assert [r.partner_id for r in stored] == file_order[::-1]
    # Random 32-hex ids in the layout of a version-4 UUID, like web answers' ids.
    assert all(len(r.id) == 32 and r.id[12] == "4" and r.id[16] in "89ab" for r in stored)
    (comment,) = rows(app, select(OpenAnswer))
    assert comment.id not in {r.id for r in stored}  # open answers have ids of their own


def test_without_a_test_source_every_import_draws_new_ids(app):
    world = build_world(app)
    for _ in range(2):
        with db(app) as session:
            import_paper_responses(session, session.get(Round, world.open_round),
                                   _csv(HEADER, *GOOD), today=date.today(), again=True)
            session.commit()
    stored = [r.id for r in rows(app, select(Response))]
    assert len(stored) == len(set(stored)) == 6


# --------------------------------------------------------------------------- all or nothing


def test_one_bad_cell_stores_nothing(app, runner, tmp_path):
    world = build_world(app)
    before = fresh(app, Round, world.open_round).results_version
    bad = [*GOOD, ["Kelompok Tani", "3", "3", "7", "Baik", "", "", ""]]
    result = _import(runner, world.open_round, _write(tmp_path, _csv(HEADER, *bad)))
    assert result.exit_code != 0
    assert "row 5, column tra1: 7 is not on the scale 1-4" in result.output
    assert result.output.strip().splitlines()[-1] == (
        "Error: nothing imported: 1 problem(s) in 1 row(s)")
    assert _count(app, Response) == 0 and _count(app, OpenAnswer) == 0
    assert _count(app, AuditEvent, action="responses.import_paper") == 0
    assert fresh(app, Round, world.open_round).results_version == before


def test_every_bad_cell_is_reported_with_its_row_and_column(app, runner, tmp_path):
    world = build_world(app)
    bad = [
        ["Dinas Kesehatan", "5", "dk", "2", "", "", "", "1"],
        ["", "", "", "", "", "", "", ""],
        ["Nobody", "1", "x", "", "", "9", "", ""],
    ]
    result = _import(runner, world.open_round, _write(tmp_path, _csv(HEADER, *bad)))
    assert result.exit_code != 0
    lines = set(result.output.splitlines())
    assert {
        "row 2, column kes1: 5 is not on the scale 1-4",
        "row 2, column komitmen@Dinas Kesehatan: a respondent does not rate their own "
        "partner: leave this cell blank",
        "row 4, column partner: 'Nobody' is not a partner of this partnership",
        "row 4, column kes2: x is not on the scale 1-4",
        "row 4, column tra1: an answer is required (write dk for don't know)",
        "row 4, column komitmen@Yayasan Sehat: 9 is not on the scale 1-4",
    } <= lines
    assert "Error: nothing imported: 6 problem(s) in 2 row(s)" in lines
    assert _count(app, Response) == 0


def _one_problem(app, round_id: int, header, *data) -> list[str]:
    with db(app) as session:
        with pytest.raises(PaperImportError) as caught:
            import_paper_responses(session, session.get(Round, round_id), _csv(header, *data),
                                   today=date.today())
        session.rollback()
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(("column", "cell", "message"), [
    ("kes1", "0", "row 2, column kes1: 0 is not on the scale 1-4"),
    ("kes1", "2.5", "row 2, column kes1: 2.5 is not on the scale 1-4"),
    ("kes1", "", "row 2, column kes1: an answer is required (write dk for don't know)"),
    ("partner", "", "row 2, column partner: missing: say which partner answered"),
    ("partner", "999", "row 2, column partner: '999' is not a partner of this partnership"),
    ("komitmen@Yayasan Sehat", "-1", "row 2, column komitmen@Yayasan Sehat: -1 is not on "
                                     "the scale 1-4"),
    ("komitmen@Dinas Kesehatan", "dk", "row 2, column komitmen@Dinas Kesehatan: a respondent "
                                       "does not rate their own partner: leave this cell blank"),
    ("saran", "x" * 2001, "row 2, column saran: 2001 characters, at most 2000 are allowed"),
])
def test_each_kind_of_bad_cell(app, column, cell, message):
    world = build_world(app)
    row = list(GOOD[0])
    row[HEADER.index(column)] = cell
    assert _one_problem(app, world.open_round, HEADER, row) == [message]


def test_an_unknown_language_is_a_bad_cell(app):
    world = build_world(app)
    problems = _one_problem(app, world.open_round, ["partner", "language", "kes1", "kes2",
                                                    "tra1"],
                            ["Dinas Kesehatan", "fr", "1", "1", "1"])
    assert problems == ["row 2, column language: fr is not a language of this questionnaire "
                        "(use one of id, en)"]


@pytest.mark.parametrize(("header", "message"), [
    (["partner", "kes1", "kes2", "tra1", "kes9"],
     "row 1, column kes9: unknown column: not an item, open question or 'partner' of this "
     "round"),
    (["partner", "kes1", "kes2", "tra1", "komitmen@Nobody"],
     "row 1, column komitmen@Nobody: 'Nobody' is not a partner of this partnership"),
    (["partner", "kes1", "kes2", "tra1", "saran@Yayasan Sehat"],
     "row 1, column saran@Yayasan Sehat: saran is not a question about other partners in "
     "this questionnaire"),
    (["partner", "kes1", "kes2", "tra1", "kes1"],
     "row 1, column kes1: the same answers as column kes1"),
    (["partner", "kes1", "kes2"],
     "row 1, column tra1: the column is missing and the item is required"),
    (["kes1", "kes2", "tra1"],
     "row 1, column partner: the column is missing: every row must say which partner "
     "answered"),
])
def test_header_problems_are_row_one(app, header, message):
    world = build_world(app)
    data = ["Dinas Kesehatan", "1", "1", "1", ""][:len(header)]
    assert message in _one_problem(app, world.open_round, header, data)


def test_the_same_partner_by_name_and_by_id_is_one_column_too_many(app):
    world = build_world(app)
    ids = _partner_ids(app, world)
    header = ["partner", "kes1", "kes2", "tra1", "komitmen@Yayasan Sehat",
              f"komitmen@{ids['Yayasan Sehat']}"]
    problems = _one_problem(app, world.open_round, header,
                            ["Dinas Kesehatan", "1", "1", "1", "2", "2"])
    assert problems == [f"row 1, column komitmen@{ids['Yayasan Sehat']}: the same answers as "
                        "column komitmen@Yayasan Sehat"]


def test_a_partner_outside_the_round(app):
    world = build_world(app)
    ids = _partner_ids(app, world)
    with db(app) as session:
        partnership = session.get(Partnership, world.partnership)
        two = [p for p in partnership.partners if p.name != "Kelompok Tani"]
        round_ = Round(partnership=partnership, name="Berdua",
                       questionnaire_version_id=world.version, status=RoundStatus.OPEN,
                       partners=two)
        session.add(round_)
        session.commit()
        round_id = round_.id
    problems = _one_problem(app, round_id, ["partner", "kes1", "kes2", "tra1"],
                            ["Kelompok Tani", "1", "1", "1"])
    assert problems == ["row 2, column partner: Kelompok Tani does not take part in this round"]
    problems = _one_problem(app, round_id,
                            ["partner", "kes1", "kes2", "tra1", f"komitmen@{ids['Kelompok Tani']}"],
                            ["Dinas Kesehatan", "1", "1", "1", "2"])
    assert problems == [f"row 1, column komitmen@{ids['Kelompok Tani']}: Kelompok Tani does "
                        "not take part in this round"]
    problems = _one_problem(app, round_id, ["partner", "kes1", "kes2", "tra1"],
                            [str(world.other_partners[0]), "1", "1", "1"])
    assert problems == [f"row 2, column partner: '{world.other_partners[0]}' is not a partner "
                        "of this partnership"]


def _open_round_of(app, world: World, questionnaire_yaml: str, name: str) -> int:
    """An open round of every partner of the world's partnership, on this questionnaire."""
    with db(app) as session:
        version = import_test_questionnaire(session, questionnaire_yaml)
        partnership = session.get(Partnership, world.partnership)
        round_ = Round(partnership=partnership, name=name, questionnaire_version=version,
                       status=RoundStatus.OPEN, partners=list(partnership.partners))
        session.add(round_)
        session.commit()
        return round_.id


def test_dont_know_only_where_the_scale_offers_it_and_required_ratings_and_texts(app):
    world = build_world(app)
    round_id = _open_round_of(app, world, STRICT_YAML, "Ketat")
    header = ["partner", "a1", "a2", "catatan", "tepat@Yayasan Sehat", "tepat@Kelompok Tani",
              "tepat@Dinas Kesehatan"]
    problems = _one_problem(app, round_id, header,
                            ["Dinas Kesehatan", "dk", "", "", "2", "", ""],
                            ["Yayasan Sehat", "0", "3", "cukup baik", "", "1", "2"],
                            ["Kelompok Tani", "", "1", "x" * 21, "2", "", "0"])
    assert problems == [
        "row 2, column a1: dk (don't know) is not an answer on this item's scale",
        "row 2, column catatan: an answer is required",
        "row 2, column tepat@Kelompok Tani: an answer is required",
        "row 3, column a2: 3 is not on the scale 0-2",
        "row 4, column a1: an answer is required",
        "row 4, column catatan: 21 characters, at most 20 are allowed",
    ]
    missing = _one_problem(app, round_id, ["partner", "a1", "catatan"],
                           ["Dinas Kesehatan", "1", "ok"])
    assert "row 1, column tepat@Yayasan Sehat: the column is missing and the question is " \
           "required" in missing


def test_extra_cells_beyond_the_header(app):
    world = build_world(app)
    problems = _one_problem(app, world.open_round, ["partner", "kes1", "kes2", "tra1"],
                            ["Dinas Kesehatan", "1", "1", "1", "", "oops"])
    assert problems == ["row 2: the row has 6 cells but the header names only 4 columns"]


# --------------------------------------------------------------------------- refusals


def test_importing_the_same_file_twice_needs_again(app, runner, tmp_path):
    world = build_world(app)
    path = _write(tmp_path, _csv(HEADER, *GOOD))
    assert _import(runner, world.open_round, path).exit_code == 0
    again = _import(runner, world.open_round, path)
    assert again.exit_code != 0 and "--again" in again.output
    assert _count(app, Response) == 3
    assert _import(runner, world.open_round, path, "--again").exit_code == 0
    assert _count(app, Response) == 6


def _close_round(app, round_id: int) -> None:
    with db(app) as session:
        round_ = session.get(Round, round_id)
        round_.status = RoundStatus.CLOSED
        round_.closes_on = date.today()
        session.commit()


def test_a_closed_round_without_a_terminal_or_yes_is_refused_saying_what_changes(
        app, runner, tmp_path):
    world = build_world(app)
    _close_round(app, world.open_round)
    result = _import(runner, world.open_round, _write(tmp_path, _csv(HEADER, *GOOD)))
    assert result.exit_code != 0
    assert "is closed: its published results will be recomputed and marked as revised" in (
        result.output)
    assert "Responses: 0 -> 3" in result.output
    assert "Dinas Kesehatan: 0 -> 1 (+1)" in result.output
    assert "--yes" in result.output.strip().splitlines()[-1]
    assert _count(app, Response) == 0
    assert fresh(app, Round, world.open_round).results_revised_on is None


def test_a_closed_round_with_yes_is_imported_marked_revised_and_audited(app, runner, tmp_path):
    world = build_world(app)
    _close_round(app, world.open_round)
    path = _write(tmp_path, _csv(HEADER, *GOOD))
    assert _import(runner, world.open_round, path, "--yes").exit_code == 0
    result = _import(runner, world.open_round, path, "--yes", "--again", "--note",
                     "Late forms from the field office")
    assert result.exit_code == 0, result.output
    assert "Responses: 3 -> 6" in result.output and "marked as revised" in result.output
    round_ = fresh(app, Round, world.open_round)
    assert round_.results_revised_on == date.today()
    assert round_.revision_note == "Late forms from the field office"
    events = rows(app, select(AuditEvent).where(AuditEvent.action == "responses.import_paper")
                  .order_by(AuditEvent.id))
    assert [(e.details["responses_before"], e.details["responses_after"]) for e in events] == [
        (0, 3), (3, 6)]
    assert events[-1].details["revision_note"] == "Late forms from the field office"
    assert events[-1].via == "cli"


@pytest.mark.parametrize(("note", "message"), [
    ("Late\x00forms", "the note contains a control character (U+0000, character 5)"),
    ("x" * 501, "501 characters long, at most 500"),
])
def test_a_bad_revision_note_is_refused_before_anything(app, runner, tmp_path, note, message):
    world = build_world(app)
    _close_round(app, world.open_round)
    result = _import(runner, world.open_round, _write(tmp_path, _csv(HEADER, *GOOD)), "--yes",
                     "--note", note)
    assert result.exit_code != 0 and message in result.output
    assert _count(app, Response) == 0
    assert fresh(app, Round, world.open_round).results_revised_on is None


@pytest.mark.parametrize(("answer", "stored"), [("n\n", 0), ("y\n", 3)])
def test_a_closed_round_asks_at_a_terminal(app, runner, tmp_path, monkeypatch, answer, stored):
    world = build_world(app)
    _close_round(app, world.open_round)
    monkeypatch.setattr("app.cli.responses._interactive", lambda: True)
    result = runner.invoke(args=["responses", "import", str(world.open_round),
                                 _write(tmp_path, _csv(HEADER, *GOOD))], input=answer)
    assert "Change the published results of this closed round?" in result.output
    assert (result.exit_code == 0) == bool(stored)
    assert _count(app, Response) == stored
    assert (fresh(app, Round, world.open_round).results_revised_on is not None) == bool(stored)


def test_storing_into_a_closed_round_needs_the_confirmation_in_the_service_too(app):
    world = build_world(app)
    _close_round(app, world.open_round)
    with db(app) as session:
        round_ = session.get(Round, world.open_round)
        with pytest.raises(ClosedRoundNotConfirmed):
            import_paper_responses(session, round_, _csv(HEADER, *GOOD), today=date.today())
        session.rollback()
    assert _count(app, Response) == 0
    assert revision_of(fresh(app, Round, world.open_round)) is None


@pytest.mark.parametrize(("content", "reason"), [
    (b"\xff\xfepartner", "not UTF-8"),
    (b"", "the file is empty"),
    (b"partner,kes1,kes2,tra1\r\n", "no answers below its header"),
])
def test_files_that_are_not_a_table_are_refused(app, runner, tmp_path, content, reason):
    world = build_world(app)
    result = _import(runner, world.open_round, _write(tmp_path, content))
    assert result.exit_code != 0 and reason in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: nothing imported")


def test_a_draft_round_or_a_missing_one_is_refused(app, runner, tmp_path):
    world = build_world(app)
    path = _write(tmp_path, _csv(HEADER, *GOOD))
    draft = _import(runner, world.draft_round, path)
    assert draft.exit_code != 0 and "draft" in draft.output
    missing = _import(runner, 999999, path)
    assert missing.exit_code != 0 and "there is no round 999999" in missing.output
    assert _count(app, Response) == 0
    with db(app) as session, pytest.raises(ImportRefused):
        import_paper_responses(session, session.get(Round, world.draft_round),
                               _csv(HEADER, *GOOD), today=date.today())


def test_paper_dates_stay_within_the_round(app):
    world = build_world(app)
    round_ = fresh(app, Round, world.open_round)  # 2026-01-01 .. 2026-12-31
    assert paper_date(date(2027, 3, 3), round_) == date(2026, 12, 31)
    assert paper_date(date(2025, 6, 6), round_) == date(2026, 1, 1)
    assert paper_date(date(2026, 5, 7), round_) == date(2026, 5, 4)  # that week's Monday


# --------------------------------------------------------------------------- hostile bytes


@pytest.mark.parametrize(("column", "cell", "message"), [
    ("saran", "Rapat\x00lebih", "row 2, column saran: contains a control character (U+0000, "
                                "character 6), which answers may not hold: remove it"),
    ("saran", "\x1b[31mmerah", "row 2, column saran: contains a control character (U+001B, "
                               "character 1), which answers may not hold: remove it"),
    ("kes1", "4\x00", "row 2, column kes1: contains a control character (U+0000, character 2), "
                      "which answers may not hold: remove it"),
    ("partner", "Dinas\x1bKesehatan", "row 2, column partner: contains a control character "
                                      "(U+001B, character 6), which answers may not hold: "
                                      "remove it"),
])
def test_control_characters_are_reported_with_row_and_column(app, runner, tmp_path, column,
                                                             cell, message):
    world = build_world(app)
    row = list(GOOD[0])
    row[HEADER.index(column)] = cell
    result = _import(runner, world.open_round, _write(tmp_path, _csv(HEADER, row, GOOD[1])))
    assert result.exit_code == 1
    assert message in result.output.splitlines()
    assert "Traceback" not in result.output and "\x00" not in result.output
    assert "\x1b" not in result.output
    assert _count(app, Response) == 0 and _count(app, OpenAnswer) == 0


def test_a_row_that_is_not_utf8_is_reported_and_nothing_is_stored(app, runner, tmp_path):
    world = build_world(app)
    content = _csv(HEADER, *GOOD).replace(b"Rapat lebih sering", b"Rapat \xff sering")
    result = _import(runner, world.open_round, _write(tmp_path, content))
    assert result.exit_code == 1
    assert ("row 2, column saran: is not UTF-8 text (byte 0xFF): save it as 'CSV UTF-8'"
            in result.output.splitlines())
    assert _count(app, Response) == 0


def test_bidi_and_zero_width_characters_are_stored_as_typed(app, runner, tmp_path):
    world = build_world(app)
    row = list(GOOD[0])
    row[HEADER.index("saran")] = "Rapat\u200b \u202eterbalik\u202c"
    result = _import(runner, world.open_round, _write(tmp_path, _csv(HEADER, row)))
    assert result.exit_code == 0, result.output
    (comment,) = rows(app, select(OpenAnswer))
    assert comment.text == "Rapat\u200b \u202eterbalik\u202c"


@pytest.mark.parametrize(("content", "reason"), [
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4, "an Excel workbook"),
    (b"%PDF-1.7\n" + bytes(range(256)) * 4, "a PDF document"),
    (bytes(range(256)) * 8, "not a CSV text file"),
    (b"partner\x00kes1\nx\n", "NUL bytes"),
    (b"partner\rkes1\r\"a\"b\"\r", "not a CSV table"),
])
def test_a_file_that_is_not_csv_is_refused_without_a_traceback(app, runner, tmp_path, content,
                                                               reason):
    world = build_world(app)
    result = _import(runner, world.open_round, _write(tmp_path, content))
    assert result.exit_code == 1, result.output
    assert reason in result.output and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: nothing imported")
    assert _count(app, Response) == 0


def test_many_problems_are_capped_and_counted(app, runner, tmp_path):
    world = build_world(app)
    bad = [["Dinas Kesehatan", "9", "9", "9", "", "", "", ""]] * 200
    result = _import(runner, world.open_round, _write(tmp_path, _csv(HEADER, *bad)))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert sum(line.startswith("row ") for line in lines) == MAX_PROBLEMS
    assert f"... and {600 - MAX_PROBLEMS} more problem(s) not shown" in lines
    assert lines[-1] == "Error: nothing imported: 600 problem(s) in 200 row(s)"


def test_the_checked_file_previews_what_will_be_stored(app):
    world = build_world(app)
    ids = _partner_ids(app, world)
    with db(app) as session:
        target = load_import_target(session, session.get(Round, world.open_round))
    with check_paper_file(target, io.BytesIO(_csv(HEADER, *GOOD))) as checked:
        assert checked.responses == 3
        assert checked.counts_by_partner() == {ids["Dinas Kesehatan"]: 1,
                                               ids["Yayasan Sehat"]: 1,
                                               ids["Kelompok Tani"]: 1}
        assert checked.answer_counts() == {"answers": 9, "ratings": 4, "open_answers": 1}
    assert _count(app, Response) == 0


def test_a_round_changed_between_check_and_store_is_refused(app):
    world = build_world(app)
    with db(app) as session:
        target = load_import_target(session, session.get(Round, world.open_round))
    with check_paper_file(target, io.BytesIO(_csv(HEADER, *GOOD))) as checked:
        with db(app) as session:
            round_ = session.get(Round, world.open_round)
            round_.partners = round_.partners[:2]
            session.commit()
        with db(app) as session, pytest.raises(ImportRefused, match="changed"):
            store_paper_responses(session, checked, today=date.today())
    assert _count(app, Response) == 0


# --------------------------------------------------------------------------- concurrency


def _bundled_csv(fieldwork, rows_per_partner: int) -> bytes:
    questionnaire = load_questionnaire(BUNDLED / "kemitraan-sehat.v1.yaml")
    names = list(fieldwork.partner_ids)
    header = (["partner"] + [item.id for item in questionnaire.items]
              + [f"{r.id}@{name}" for r in questionnaire.partner_ratings for name in names])
    data = []
    for index in range(rows_per_partner * len(names)):
        partner = names[index % len(names)]
        data.append([partner] + [str(1 + index % 5) for _ in questionnaire.items]
                    + ["" if name == partner else "3"
                       for _ in questionnaire.partner_ratings for name in names])
    return _csv(header, *data)


@pytest.mark.skipif(bool(os.environ.get("MITRA_TEST_DATABASE_URL")),
                    reason="the write lock that stalls the site is SQLite's")
def test_a_code_entry_is_not_blocked_while_a_file_is_read_and_checked(app, runner, tmp_path):
    """The file arrives through a pipe, so the import is caught in the middle of reading it.

    While it waits for the second half, a respondent enters a code (a write request). Had the
    import taken the write lock before reading (as it did), the code entry would wait for the
    whole import and then fail with "database is locked".
    """
    fieldwork = arrange(app, codes=1)
    content = _bundled_csv(fieldwork, 400)
    client = english_client(app)
    outcome: dict[str, object] = {}
    with import_held_halfway(runner, fieldwork.round_id, content, tmp_path, wait=20) as held:
        entry = threading.Thread(target=lambda: outcome.setdefault(
            "entry", enter_code(client, fieldwork.codes[0])))
        started = time.monotonic()
        entry.start()
        entry.join(timeout=5)
        waited = time.monotonic() - started
        assert not entry.is_alive(), "the code entry waited for the paper import"
        assert outcome["entry"].status_code == 303, waited
        assert held.thread.is_alive(), "the import should still be waiting for the file"
    result = held.outcome["import"]
    assert result.exit_code == 0, result.output
    assert _count(app, Response, round_id=fieldwork.round_id) == 1200


# --------------------------------------------------------------------------- meta-perception

META_YAML = STRICT_YAML.replace("slug: uji-kertas", "slug: uji-kertas-meta") + """\
meta_perceptions:
  - id: a1_meta
    target: a1
    text: {id: "Menurut Anda, jawaban mitra lain?", en: "What will the others answer?"}
    scale: nilai3
    required: true
"""


def test_meta_perception_answers_come_from_their_own_column(app):
    """A meta-perception is one more column on paper, stored as an answer under its id."""
    from app.services.paper_import import template_header

    round_id = _open_round_of(app, build_world(app), META_YAML, "Meta")
    with db(app) as session:
        header = template_header(load_import_target(session, session.get(Round, round_id)))
    assert header[:5] == ["partner", "language", "a1", "a2", "a1_meta"]
    ratings = ["tepat@Dinas Kesehatan", "tepat@Kelompok Tani", "tepat@Yayasan Sehat"]
    assert header[5:] == [*ratings, "catatan"]
    base = ["partner", "a1", "a1_meta", "catatan", *ratings]
    assert _one_problem(app, round_id, base, ["Dinas Kesehatan", "1", "", "ok", "", "1", "2"],
                        ["Yayasan Sehat", "1", "3", "ok", "2", "1", ""]) == [
        "row 2, column a1_meta: an answer is required",
        "row 3, column a1_meta: 3 is not on the scale 0-2",
    ]
    missing = _one_problem(app, round_id, ["partner", "a1", "catatan", *ratings],
                           ["Dinas Kesehatan", "1", "ok", "", "1", "2"])
    assert "row 1, column a1_meta: the column is missing and the item is required" in missing
    with db(app) as session:
        import_paper_responses(session, session.get(Round, round_id),
                               _csv(base, ["Dinas Kesehatan", "1", "2", "ok", "", "1", "2"]),
                               today=date.today())
        session.commit()
    (response,) = rows(app, select(Response).where(Response.round_id == round_id))
    answers = {a.item_id: a.value for a in rows(app, select(Answer).where(
        Answer.response_id == response.id))}
    assert answers == {"a1": 1, "a1_meta": 2}
