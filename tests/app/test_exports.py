"""Downloads: results tables, respondent-level answers and comments, and their safety rules."""

from __future__ import annotations

import csv
import io
import random

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.models import AuditEvent, OpenAnswer, Partner, Response, Round, RoundStatus
from app.services import exports
from app.services.exports import (
    FORMULA_TRIGGERS,
    Table,
    answers_table,
    comments_table,
    csv_cell,
    neutralise,
    restore,
    to_csv,
    to_xlsx,
    xlsx_text,
)
from app.text_hygiene import neutralise_invisible
from tests.app.export_helpers import ITEMS, RATING, build_results_world, reading, snapshot_of
from tests.app.job_helpers import get_through_job, job_files_in_tmp  # noqa: F401 (autouse)
from tests.app.staff_helpers import db, rows, signed_in_client


def _url(rw, dataset: str, fmt: str, round_id: int | None = None) -> str:
    return (f"/exports/partnerships/{rw.world.partnership}/rounds/"
            f"{round_id or rw.closed_round}/{dataset}.{fmt}")


def _snapshot(app, round_id: int) -> dict:
    return snapshot_of(app, round_id)


def _names(app, rw) -> dict[int, str]:
    with db(app) as session:
        return {p.id: p.name for p in session.scalars(select(Partner).where(
            Partner.partnership_id == rw.world.partnership))}


def _parse_csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def _sections(parsed: list[list[str]]) -> dict[str, list[list[str]]]:
    """Split a results CSV into its titled blocks: {title: [header, *rows]}."""
    blocks: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in parsed:
        if not line:
            current = None
        elif current is None:
            current = blocks.setdefault(line[0], [])
        else:
            current.append(line)
    return blocks


def _language(client, lang: str) -> None:
    assert client.post("/language", data={"lang": lang, "next": "/"}).status_code == 302


def _english(client) -> None:
    _language(client, "en")


# --------------------------------------------------------------------------- results tables


def test_results_csv_writes_hidden_figures_as_text_and_shown_ones_from_the_snapshot(app):
    rw = build_results_world(app)
    snapshot = _snapshot(app, rw.closed_round)
    hidden = {p["name"] for p in snapshot["response_counts"]["partners"] if p["suppressed"]}
    shown = {p["name"]: p["n"] for p in snapshot["response_counts"]["partners"]
             if not p["suppressed"]}
    assert hidden and shown, "the arrangement must hide some partners and show others"
    client = signed_in_client(app, "coordinator")
    _english(client)
    response = get_through_job(app, client, _url(rw, "results", "csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="mitra-sehat-round-{rw.closed_round}-results.csv"')
    blocks = _sections(_parse_csv(response.data))
    counts = {row[0]: row[2] for row in blocks["Responses"][1:]}
    for name in hidden:
        assert counts[name] == "fewer than 5 responses"
    for name, n in shown.items():
        assert counts[name] == str(n)
    header, *score_rows = blocks["Scores"]
    numeric = [header.index(c) for c in ("Responses", "Mean", "CI low", "CI high")]
    by_partner = {}
    for row in score_rows:
        if row[1] in hidden:
            assert all(row[i] == "fewer than 5 responses" for i in numeric), row
        by_partner.setdefault((row[0], row[1]), row)
    equality = snapshot["scores"][0]
    for partner in equality["partners"]:
        if not partner["suppressed"]:
            row = by_partner[(equality["label"]["en"], partner["name"])]
            # CSV decimals are written to CSV_DECIMALS places (app.services.exports.csv_cell)
            assert float(row[header.index("Mean")]) == pytest.approx(partner["mean"], abs=5e-5)
            assert float(row[header.index("CI low")]) == pytest.approx(partner["ci_low"],
                                                                       abs=5e-5)
    assert set(blocks) >= {"Responses", "Scores", "Partner differences", "Perception gaps",
                           "Agreement within partners", "Reliability"}


def test_hidden_cells_read_in_the_users_language(app):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    _language(client, "id")
    body = get_through_job(app, client, _url(rw, "results", "csv")).data.decode("utf-8-sig")
    assert "kurang dari 5 tanggapan" in body and "Skor" in body
    assert "fewer than 5 responses" not in body
    _language(client, "en")
    body = get_through_job(app, client, _url(rw, "results", "csv")).data.decode("utf-8-sig")
    assert "fewer than 5 responses" in body and "kurang dari" not in body


def test_results_xlsx_has_a_sheet_per_table_with_numbers_as_numbers(app):
    rw = build_results_world(app)
    snapshot = _snapshot(app, rw.closed_round)
    client = signed_in_client(app, "coordinator")
    _english(client)
    response = get_through_job(app, client, _url(rw, "results", "xlsx"))
    assert response.status_code == 200
    assert response.mimetype == exports.MIMETYPES["xlsx"]
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert "Scores" in workbook.sheetnames and "Responses" in workbook.sheetnames
    sheet = workbook["Responses"]
    values = {row[0]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    for partner in snapshot["response_counts"]["partners"]:
        if partner["suppressed"]:
            assert values[partner["name"]] == "fewer than 5 responses"
        else:
            assert values[partner["name"]] == partner["n"]
            assert isinstance(values[partner["name"]], int)


def test_results_of_an_open_round_follow_its_published_snapshot(app):
    rw = build_results_world(app, status=RoundStatus.OPEN)
    client = signed_in_client(app, "coordinator")
    assert get_through_job(app, client, _url(rw, "results", "csv")).status_code == 200


# --------------------------------------------------------------------------- answers


def test_answers_hold_only_shown_partners_shuffled_without_response_ids(app):
    rw = build_results_world(app)
    snapshot = _snapshot(app, rw.closed_round)
    shown = exports.shown_partner_ids(snapshot)
    names = _names(app, rw)
    assert shown and shown != set(rw.counts)
    client = signed_in_client(app, "coordinator")
    response = get_through_job(app, client, _url(rw, "answers", "csv"))
    assert response.status_code == 200
    parsed = _parse_csv(response.data)
    header, *data = parsed
    assert header[:2] == ["row", "partner"]
    assert set(ITEMS) <= set(header)
    assert {f"{RATING}@{name}" for name in names.values()} <= set(header)
    assert sorted(int(row[0]) for row in data) == list(range(1, len(data) + 1))
    assert {row[1] for row in data} == {names[pid] for pid in shown}
    assert len(data) == sum(rw.counts[pid] for pid in shown)
    body = response.data.decode("utf-8-sig")
    for response_id in rows(app, select(Response.id)):
        assert response_id not in body
    answer_columns = [i for i, name in enumerate(header)
                      if i >= 2 and not name.startswith(("score_", "band_", "total"))]
    cells = {row[i] for row in data for i in answer_columns}
    assert "dk" in cells and cells <= {"", "dk", "1", "2", "3", "4"}


def test_answers_rows_match_the_stored_answers_of_shown_partners(app):
    rw = build_results_world(app)
    snapshot = _snapshot(app, rw.closed_round)
    with reading(app) as session:
        round_ = session.get(Round, rw.closed_round)
        table = answers_table(session, round_, snapshot, rng=random.Random(3))
        stored = []
        for response in session.scalars(select(Response).where(
                Response.round_id == round_.id,
                Response.partner_id.in_(exports.shown_partner_ids(snapshot)))):
            values = {a.item_id: ("dk" if a.value is None else a.value)
                      for a in response.answers}
            stored.append(tuple(values.get(item) for item in ITEMS))
    positions = [table.columns.index(item) for item in ITEMS]
    exported = [tuple(row[i] for i in positions) for row in table.rows]
    assert sorted(exported, key=repr) == sorted(stored, key=repr)


def test_answer_rows_are_shuffled_by_the_random_source_not_stored_order(app):
    rw = build_results_world(app)
    snapshot = _snapshot(app, rw.closed_round)
    with reading(app) as session:
        round_ = session.get(Round, rw.closed_round)
        first = answers_table(session, round_, snapshot, rng=random.Random(1)).rows
        second = answers_table(session, round_, snapshot, rng=random.Random(2)).rows
    assert [row[2:] for row in first] != [row[2:] for row in second]
    assert sorted(map(repr, (r[1:] for r in first))) == sorted(map(repr, (r[1:] for r in second)))


def test_answers_and_comments_wait_for_the_round_to_close(app):
    rw = build_results_world(app, status=RoundStatus.OPEN)
    client = signed_in_client(app, "coordinator")
    for dataset in ("answers", "comments"):
        response = get_through_job(app, client, _url(rw, dataset, "csv"))
        assert response.status_code == 302
        assert response.headers["Location"].endswith(
            f"/exports/partnerships/{rw.world.partnership}")
    page = client.get(f"/exports/partnerships/{rw.world.partnership}").get_data(as_text=True)
    assert "kurang dari" not in page.split("<main", 1)[1].split("Putaran tutup")[0]
    assert rows(app, select(AuditEvent.action).where(AuditEvent.action.like("export.%"))) == []


def test_a_round_without_responses_offers_nothing(app):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    response = get_through_job(app, client,
                               _url(rw, "results", "csv", round_id=rw.world.open_round))
    assert response.status_code == 302


# --------------------------------------------------------------------------- comments


def _comments(app, counts, comments, dont_know_every=7, lang="en"):
    rw = build_results_world(app, counts, comments=comments, dont_know_every=dont_know_every)
    snapshot = _snapshot(app, rw.closed_round)
    with reading(app) as session:
        table = comments_table(session, session.get(Round, rw.closed_round), snapshot, lang)
    return rw, snapshot, table


def test_comments_name_big_shown_partners_and_pool_the_rest(app):
    texts = (["besar satu", "besar dua"], ["tersembunyi"], ["kecil"])
    _, snapshot, table = _comments(app, (20, 14, 3), texts)
    hidden = {p["name"] for p in snapshot["response_counts"]["partners"] if p["suppressed"]}
    assert hidden == {"Kelompok Tani", "Yayasan Sehat"}  # the arrangement this test needs
    labels = {row[3]: row[2] for row in table.rows}
    assert labels["besar satu"] == labels["besar dua"] == "Dinas Kesehatan"
    # Kelompok Tani has 14 >= 8 responses but is hidden: naming it would bound its count.
    assert labels["tersembunyi"] == labels["kecil"] == "Other partners, pooled"
    assert table.columns == ("Question", "Question text", "Partner", "Comment")
    assert "row" not in table.columns


def test_comments_of_a_pool_below_the_threshold_are_left_out(app):
    texts = (["dari yang besar"], ["dari yang kecil"], [])
    _, snapshot, table = _comments(app, (20, 6, 0), texts, dont_know_every=0)
    assert not any(p["suppressed"] for p in snapshot["response_counts"]["partners"])
    assert [row[3] for row in table.rows] == ["dari yang besar"]  # 6 < max(k, 8)


def test_comments_file_shares_no_key_with_the_answers_file(app):
    rw = build_results_world(app, comments=(["a", "b"], ["c"], ["d"]))
    client = signed_in_client(app, "coordinator")
    answers = _parse_csv(get_through_job(app, client, _url(rw, "answers", "csv")).data)
    comments = _parse_csv(get_through_job(app, client, _url(rw, "comments", "csv")).data)
    answer_keys = {row[0] for row in answers[1:]}
    comment_cells = {cell for row in comments for cell in row}
    assert not answer_keys & comment_cells
    open_ids = set(rows(app, select(OpenAnswer.id)))
    assert open_ids and not open_ids & comment_cells


# --------------------------------------------------------------------------- formula injection


TEXT_CELLS = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "\x00x", "'=x", "''", "＝1", "=", "'",
     "\u202e=1", "=\u200b1", "\u2066x\u2069"])


def _assert_safe(cell: str, original: str) -> None:
    assert not cell.startswith(FORMULA_TRIGGERS), repr(cell)
    # Bidi controls and zero-width characters come back as visible <U+202E> tags.
    assert restore(cell) == neutralise_invisible(original)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT_CELLS, min_size=1, max_size=6),
       numbers=st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
                        min_size=1, max_size=3))
def test_csv_text_cells_never_start_a_formula_and_round_trip(texts, numbers):
    table = Table("t", "=title", ("=col", *[f"c{i}" for i in range(len(texts) + len(numbers))]),
                  [[None, *texts, *numbers]])
    parsed = list(csv.reader(io.StringIO(to_csv([table], sections=True), newline="")))
    title, header, row = parsed
    _assert_safe(title[0], "=title")
    _assert_safe(header[0], "=col")
    for cell, original in zip(row[1:1 + len(texts)], texts, strict=True):
        _assert_safe(cell, original)
    for cell, number in zip(row[1 + len(texts):], numbers, strict=True):
        # numbers are never prefixed, negative ones included; decimals to CSV_DECIMALS places
        assert cell == (str(number) if isinstance(number, int) else csv_cell(number))
        assert not cell.startswith("'")


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(TEXT_CELLS, min_size=1, max_size=5),
       number=st.floats(min_value=-1e6, max_value=1e6) | st.integers(-10**6, 10**6))
def test_xlsx_text_cells_never_start_a_formula_and_round_trip(texts, number):
    table = Table("t", "Sheet", tuple(f"c{i}" for i in range(len(texts) + 1)),
                  [[*texts, number]])
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx([table]))).active
    *cells, value = next(sheet.iter_rows(min_row=2, values_only=True))
    for cell, original in zip(cells, texts, strict=True):
        expected = xlsx_text(original)
        if expected == "":
            assert cell is None
            continue
        _assert_safe(cell, expected)
    # Numbers stay numbers; XLSX keeps 15 significant digits, as Excel does.
    assert isinstance(value, int | float) and value == pytest.approx(number, rel=1e-14)


def test_neutralise_leaves_numbers_and_plain_text_alone():
    assert neutralise(-3) == -3 and neutralise(-0.5) == -0.5
    assert neutralise("Kesetaraan") == "Kesetaraan"
    assert neutralise("-0.5") == "'-0.5"
    assert neutralise(None) is None
    with pytest.raises(TypeError):
        neutralise(True)


def test_a_malicious_comment_and_partner_name_download_as_text(app):
    rw = build_results_world(app, (20, 14, 3),
                             comments=(['=HYPERLINK("http://x.example","klik")'], [], []))
    shown = exports.shown_partner_ids(snapshot_of(app, rw.closed_round))
    with db(app) as session:
        partner = session.get(Partner, next(iter(shown)))
        partner.name = "@SUM(1+1)"
        session.commit()
    client = signed_in_client(app, "coordinator")
    for dataset in ("comments", "answers", "results"):
        parsed = _parse_csv(get_through_job(app, client, _url(rw, dataset, "csv")).data)
        cells = [cell for row in parsed for cell in row]
        assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)
                    and not _is_number(c)], dataset
        assert "'@SUM(1+1)" in cells
    comments = _parse_csv(get_through_job(app, client, _url(rw, "comments", "csv")).data)
    assert "'=HYPERLINK(\"http://x.example\",\"klik\")" in [c for r in comments for c in r]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- page, audit, access


def test_downloads_are_audited_with_who_what_and_format(app):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    assert get_through_job(app, client, _url(rw, "answers", "xlsx")).status_code == 200
    shown = exports.shown_partner_ids(snapshot_of(app, rw.closed_round))
    with db(app) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.answers"))
        assert event.user_id == rw.world.coordinator
        assert event.partnership_id == rw.world.partnership
        assert (event.object_type, event.object_id) == ("Round", str(rw.closed_round))
        assert event.details["format"] == "xlsx"
        assert event.details["rows"] == sum(rw.counts[pid] for pid in shown)
        assert event.details["via"] == "web"


def test_exports_page_lists_the_downloads_of_each_started_round(app):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    _english(client)
    page = client.get(f"/exports/partnerships/{rw.world.partnership}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for dataset in ("results", "answers", "comments"):
        for fmt in ("csv", "xlsx"):
            assert _url(rw, dataset, fmt) in html
    assert "Putaran draf" not in html  # drafts have nothing to download
    assert "No responses yet" in html  # the open round of the World


@pytest.mark.parametrize("who", ["facilitator", "observer"])
def test_only_coordinators_download(app, who):
    rw = build_results_world(app)
    client = signed_in_client(app, who)
    assert get_through_job(app, client, _url(rw, "results", "csv")).status_code == 403
    assert client.get(f"/exports/partnerships/{rw.world.partnership}").status_code == 403


def test_another_partnerships_round_is_not_found(app):
    rw = build_results_world(app)
    client = signed_in_client(app, "coordinator")
    response = get_through_job(app, client,
                               _url(rw, "results", "csv", round_id=rw.world.other_round))
    assert response.status_code == 404


# --------------------------------------------------------------------------- invisible characters


def test_bidi_overrides_and_zero_width_characters_come_out_visible(app):
    # A right-to-left override makes "txt.exe" read as "exe.txt"; a zero-width space hides
    # inside a word. Both must be visible in what a coordinator opens, in CSV and XLSX alike.
    tricky = "invoice\u202etxt.exe and pass\u200bword"
    rw = build_results_world(app, (20, 14, 3), comments=([tricky], [], []))
    client = signed_in_client(app, "coordinator")
    expected = "invoice<U+202E>txt.exe and pass<U+200B>word"
    csv_body = get_through_job(app, client, _url(rw, "comments", "csv")).data
    csv_cells = [c for r in _parse_csv(csv_body) for c in r]
    assert expected in csv_cells
    xlsx_body = get_through_job(app, client, _url(rw, "comments", "xlsx")).data
    book = openpyxl.load_workbook(io.BytesIO(xlsx_body))
    xlsx_cells = [c for sheet in book.worksheets
                  for row in sheet.iter_rows(values_only=True) for c in row]
    assert expected in xlsx_cells
    for cell in [*csv_cells, *(c for c in xlsx_cells if isinstance(c, str))]:
        assert "\u202e" not in cell and "\u200b" not in cell


def test_answers_carry_each_responses_scores_computed_by_hand(app):
    """Respondent-level scores sit in the same shuffled row; checked against a hand formula:
    equality = mean(kes1, 5 - kes2) (kes2 reverse-coded on 1-4), both answered."""
    rw = build_results_world(app)
    snapshot = _snapshot(app, rw.closed_round)
    with reading(app) as session:
        table = answers_table(session, session.get(Round, rw.closed_round), snapshot,
                              rng=random.Random(5))
    assert {"score_kesetaraan", "score_transparansi", "total"} <= set(table.columns)
    at = {name: table.columns.index(name) for name in table.columns}
    checked = 0
    for row in table.rows:
        kes1, kes2 = row[at["kes1"]], row[at["kes2"]]
        score = row[at["score_kesetaraan"]]
        if isinstance(kes1, int) and isinstance(kes2, int):
            assert score == pytest.approx((kes1 + (5 - kes2)) / 2)
            checked += 1
        else:
            assert score is None  # a "don't know" leaves one item: too few for a score
    assert checked > 10
