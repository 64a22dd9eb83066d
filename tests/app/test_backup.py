"""``flask backup`` / ``flask restore`` on the test database (SQLite, or PostgreSQL when
``MITRA_TEST_DATABASE_URL`` is set): round trips, the open-fieldwork refusal and the scrub."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from app.models import Partnership, Response, Round, RoundStatus
from app.services import backup as backups
from tests.app.export_helpers import add_responses, build_results_world
from tests.app.staff_helpers import db
from tests.conftest import is_postgres


def _invoke(runner, *args: str):
    return runner.invoke(args=list(args))


def _export(runner, round_id: int, output: Path) -> bytes:
    result = _invoke(runner, "results", "export", str(round_id), "--format", "csv",
                     "--output", str(output))
    assert result.exit_code == 0, result.output
    return output.read_bytes()


def _responses(app) -> int:
    with db(app) as session:
        return session.scalar(select(func.count()).select_from(Response))


def test_round_trip_brings_the_data_and_the_results_back(app, runner, tmp_path):
    rw = build_results_world(app)
    before = _export(runner, rw.closed_round, tmp_path / "before.csv")
    count = _responses(app)
    target = tmp_path / "mitra.backup"

    result = _invoke(runner, "backup", str(target), "--accept-open-fieldwork")
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    assert "Warning: open fieldwork" in result.output  # build_world has open rounds
    assert target.read_bytes()[:5] in {b"SQLit", b"PGDMP"}
    assert target.stat().st_mode & 0o077 == 0, "backups hold answers: owner-only"

    with db(app) as session:  # lose data after the backup
        session.execute(delete(Response).where(Response.round_id == rw.closed_round))
        session.execute(delete(Partnership).where(Partnership.id == rw.world.other_partnership))
        session.commit()
    assert _responses(app) < count

    refused = _invoke(runner, "restore", str(target))
    assert refused.exit_code != 0
    assert "not empty" in refused.output and "partnerships" in refused.output
    assert "--yes" in refused.output

    result = _invoke(runner, "restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert _responses(app) == count
    with db(app) as session:
        assert session.get(Partnership, rw.world.other_partnership) is not None
    assert _export(runner, rw.closed_round, tmp_path / "after.csv") == before


def test_backup_refuses_during_open_fieldwork_and_names_the_rounds(app, runner, tmp_path):
    rw = build_results_world(app)
    target = tmp_path / "mitra.backup"
    result = _invoke(runner, "backup", str(target))
    assert result.exit_code != 0
    assert "Putaran buka" in result.output and "Putaran B" in result.output
    assert "--scrub" in result.output and "--accept-open-fieldwork" in result.output
    assert not target.exists()
    assert not list(tmp_path.glob(".mitra-backup-*")), "no half-written copy left behind"

    with db(app) as session:  # once every round is closed, no flag is needed
        for round_ in session.scalars(select(Round).where(Round.status == RoundStatus.OPEN)):
            round_.status = RoundStatus.CLOSED
        session.commit()
    result = _invoke(runner, "backup", str(target))
    assert result.exit_code == 0, result.output
    assert "open fieldwork" not in result.output
    assert rw.closed_round


def _submitted_in_order(app, n: int = 30) -> tuple[int, list[str], list[str]]:
    """Responses stored one transaction at a time into the open round, as fieldwork does;
    returns the round, the response ids and the open answers' texts in submission order."""
    rw = build_results_world(app)
    round_id = rw.world.open_round
    ids: list[str] = []
    texts = [f"komentar-{i:03d}" for i in range(n)]
    for i in range(n):
        with db(app) as session:
            partner = rw.world.partners[i % 2]
            others = [p for p in rw.world.partners if p != partner]
            ids += add_responses(session, round_id, partner, 1, others=others, seed=i,
                                 comments=[texts[i]])
            session.commit()
    return round_id, ids, texts


def _dump_order(path: Path, table: str, column: str) -> list[str]:
    """The order of ``column`` in the table's COPY data: heap order, which a restore keeps."""
    script = subprocess.run(["pg_restore", "--data-only", "--table", table, "--file", "-",
                             str(path)], capture_output=True, text=True, check=True).stdout
    lines = script.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.startswith("COPY ") and f".{table} " in line)
    header = lines[start][lines[start].index("(") + 1:lines[start].index(")")]
    position = [name.strip() for name in header.split(",")].index(column)
    values = []
    for line in lines[start + 1:]:
        if line == "\\.":
            break
        values.append(line.split("\t")[position])
    return values


def _sqlite_allocation_order(path: Path, table: str, values: list[str]) -> list[str]:
    """The order in which SQLite laid these values out in the table's single b-tree page.

    The tables of answers are WITHOUT ROWID (ordered by random keys), but inside a page SQLite
    allocates each new cell below the previous one, so the cells' byte offsets still tell the
    order of insertion: that is the trace a plain page-by-page copy would keep.
    """
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the live file, up to date
        root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                                  (table,)).fetchone()[0]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    page = path.read_bytes()[(root - 1) * page_size:root * page_size]
    assert page[100 if root == 1 else 0] == 0x0A, f"{table} must fit one leaf page here"
    offsets = {value: page.find(value.encode()) for value in values}
    assert all(offset > 0 for offset in offsets.values()), f"not all rows in {table}'s page"
    return sorted(values, key=lambda value: -offsets[value])


def _file_order(path: Path, table: str, column: str, values: list[str]) -> list[str]:
    if path.read_bytes()[:5] == b"PGDMP":
        wanted = set(values)
        return [v for v in dict.fromkeys(_dump_order(path, table, column)) if v in wanted]
    return _sqlite_allocation_order(path, table, values)


def _ascents(order: list[str], submitted: list[str]) -> int:
    """How many neighbours in the file are in submission order (n - 1 when all are)."""
    rank = {value: index for index, value in enumerate(submitted)}
    ranks = [rank[value] for value in order]
    assert sorted(ranks) == list(range(len(submitted))), "rows missing from the file"
    return sum(1 for a, b in itertools.pairwise(ranks) if b > a)


def _live_order(app, round_id: int, ids: list[str]) -> list[str]:
    url = app.config["DATABASE_URL"]
    if not is_postgres(url):
        return _sqlite_allocation_order(Path(url.removeprefix("sqlite:///")), "responses", ids)
    from sqlalchemy import text

    with db(app) as session:
        return list(session.scalars(text(
            "SELECT id FROM responses WHERE round_id = :r ORDER BY ctid"), {"r": round_id}))


def test_open_fieldwork_leaves_the_submission_order_in_the_data(app, runner, tmp_path):
    """The premise of the scrub, and proof that the measure below can see the link: the live
    database (and, on PostgreSQL, a dump taken without --scrub) holds responses and open answers
    in the order they were submitted."""
    round_id, ids, _ = _submitted_in_order(app)
    assert _live_order(app, round_id, ids) == ids
    if is_postgres(app.config["DATABASE_URL"]):
        target = tmp_path / "plain.backup"
        result = _invoke(runner, "backup", str(target), "--accept-open-fieldwork")
        assert result.exit_code == 0, result.output
        assert _file_order(target, "responses", "id", ids) == ids


def test_scrub_breaks_the_order_link_in_the_copy_only(app, runner, tmp_path):
    round_id, ids, texts = _submitted_in_order(app)
    target = tmp_path / "scrubbed.backup"
    result = _invoke(runner, "backup", str(target), "--scrub")
    assert result.exit_code == 0, result.output
    assert "shuffled in the copy" in result.output and "Putaran buka" in result.output

    # A random order of 30 has 14.5 ascents on average; the submission order has 29.
    # 23 or more by chance has a probability below 1e-3 (Eulerian numbers).
    n = len(ids)
    assert _ascents(_file_order(target, "responses", "id", ids), ids) < n - 7
    assert _ascents(_file_order(target, "open_answers", "text", texts), texts) < n - 7
    if is_postgres(app.config["DATABASE_URL"]):  # answers span several pages on SQLite
        answers = _file_order(target, "answers", "response_id", ids)
        assert _ascents(answers, ids) < n - 7

    # The live database is untouched: still in submission order, with every row.
    assert _live_order(app, round_id, ids) == ids
    count = _responses(app)
    assert _invoke(runner, "restore", str(target), "--yes").exit_code == 0
    assert _responses(app) == count
    with db(app) as session:
        assert session.get(Round, round_id).status is RoundStatus.OPEN


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path):
    build_results_world(app)
    stray = tmp_path / "notes.txt"
    stray.write_text("not a backup\n")
    result = _invoke(runner, "restore", str(stray), "--yes")
    assert result.exit_code != 0
    assert "not a backup made by flask backup" in result.output
    assert _responses(app) > 0


def test_restore_refuses_a_backup_of_the_other_database_kind(app, runner, tmp_path):
    build_results_world(app)
    other = tmp_path / "other.backup"
    other.write_bytes(b"SQLite format 3\x00" if is_postgres(app.config["DATABASE_URL"])
                      else b"PGDMP" + b"\x00" * 64)
    result = _invoke(runner, "restore", str(other), "--yes")
    assert result.exit_code != 0
    assert "backup but the database is" in result.output


def test_missing_pg_dump_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no PostgreSQL client tools here
    with pytest.raises(backups.BackupError, match=r"pg_dump was not found.*postgresql-client"):
        backups.backup("postgresql://127.0.0.1:1/mitra", tmp_path / "x.dump")


def test_missing_pg_dump_through_the_command(app, runner, tmp_path, monkeypatch):
    if not is_postgres(app.config["DATABASE_URL"]):
        pytest.skip("the PostgreSQL tools are only used on PostgreSQL")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = _invoke(runner, "backup", str(tmp_path / "x.dump"), "--accept-open-fieldwork")
    assert result.exit_code != 0
    assert "pg_dump was not found" in result.output


def test_sqlite_backup_is_consistent_while_the_app_writes(app, runner, tmp_path):
    """A writer committing throughout the copy: the copy passes an integrity check and holds
    whole responses only (every response with all its answers)."""
    if is_postgres(app.config["DATABASE_URL"]):
        pytest.skip("pg_dump's snapshot consistency is PostgreSQL's own")
    import threading

    rw = build_results_world(app)
    stop = threading.Event()

    def write() -> None:
        i = 0
        while not stop.is_set():
            with db(app) as session:
                add_responses(session, rw.world.open_round, rw.world.partners[0], 1, seed=i)
                session.commit()
            i += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for number in range(3):
            target = tmp_path / f"busy{number}.backup"
            result = _invoke(runner, "backup", str(target), "--accept-open-fieldwork")
            assert result.exit_code == 0, result.output
            connection = sqlite3.connect(target)
            try:
                assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                partial = connection.execute(
                    "SELECT count(*) FROM responses r WHERE (SELECT count(*) FROM answers a "
                    "WHERE a.response_id = r.id) = 0").fetchone()[0]
                assert partial == 0
            finally:
                connection.close()
    finally:
        stop.set()
        writer.join()
