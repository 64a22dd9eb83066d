"""Benchmark `flask responses import` on a large paper-answers file.

Generates a CSV (default 50 MB) for the bundled ``kemitraan-sehat`` questionnaire, five partners,
every item, both open questions (about a third of the rows hold text) and the ratings of the
other partners, into a fresh SQLite database (or ``--database-url`` / ``MITRA_BENCH_DATABASE_URL``
for PostgreSQL), then runs, each in its own child process so that peak RSS is its own:

- the baseline: reading the file and splitting it with the ``csv`` module, nothing else;
- the import, through the CLI command exactly as an operator runs it.

It prints, for the import: total time; the time the write transaction held the write lock
(from ``BEGIN IMMEDIATE`` or the first write until ``COMMIT`` returned, measured by engine
events; the COMMIT includes SQLite's automatic checkpoint, which no longer blocks writers) and
the importing thread's CPU time in that stretch, which other load on the machine does not
inflate; on SQLite the longest wait of a concurrent writer (a thread inserting a row every
0.5 s, as a respondent's submission would, with a 10-minute busy timeout so that it waits
instead of failing: its longest wait is how long writers were really blocked; the app gives up
after 30 s); rows per second; peak RSS; the ratios to the baseline measured in the same run;
then whether the goals hold (write lock < 30 s, aim < 10 s; peak RSS < 300 MiB). Nothing here
runs in the test suite.

    .venv/bin/python bench/paper_import.py                 # 50 MB, SQLite
    .venv/bin/python bench/paper_import.py --size-mb 5     # quicker
    MITRA_BENCH_DATABASE_URL=postgresql://127.0.0.1:5432/test .venv/bin/python bench/paper_import.py
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARTNERS = ("Dinas Kesehatan Kabupaten", "PT Pangan Nusantara", "Yayasan Anak Sehat",
            "Kelompok Posyandu Melati", "Universitas Sukamaju")
TEXTS = ("Rapat koordinasi bulanan sangat membantu, tetapi notulen sering terlambat dibagikan.",
         "Kelompok masyarakat perlu dilibatkan sejak perencanaan, bukan hanya saat pelaksanaan.",
         "Laporan keuangan bersama sebaiknya dibuka untuk semua mitra.",
         "The joint monitoring visits built trust between the partners.")


def _app(database_url: str) -> Any:
    from app import create_app

    return create_app({"DATABASE_URL": database_url, "ENV_NAME": "testing",
                       "SECRET_KEY": "bench-secret-key-" + "x" * 32, "RATELIMIT_ENABLED": False,
                       "RATELIMIT_STORAGE_URI": "memory://"})


def set_up(database_url: str) -> tuple[int, list[str]]:
    """Create the schema, the bundled questionnaire, a partnership and an open round."""
    from sqlalchemy import text

    from app.db import Base, new_session
    from app.models import Partner, Partnership, Round, RoundStatus, Sector
    from app.questionnaires import load_questionnaire
    from app.services.questionnaires import import_questionnaire

    app = _app(database_url)
    with app.app_context():
        Base.metadata.create_all(app.extensions["mitra.engine"])
        session = new_session()
        questionnaire = load_questionnaire(ROOT / "questionnaires" / "kemitraan-sehat.v1.yaml")
        version = import_questionnaire(session, questionnaire).version
        partnership = Partnership(name=f"Bench {uuid.uuid4().hex[:8]}", description="",
                                  min_group_size=5, default_language="id")
        partners = [Partner(partnership=partnership, name=name, sector=Sector.NGO)
                    for name in PARTNERS]
        round_ = Round(partnership=partnership, name="Kertas", questionnaire_version=version,
                       opens_on=date(2026, 1, 1), closes_on=date(2026, 12, 31),
                       status=RoundStatus.OPEN, partners=partners)
        session.add_all([partnership, *partners, round_])
        session.commit()
        if app.extensions["mitra.engine"].dialect.name == "sqlite":
            # The concurrent writer's table: stands in for a respondent's submission.
            session.execute(text("CREATE TABLE bench_probe (at REAL)"))
            session.commit()
        header = (["partner", "language"] + [item.id for item in questionnaire.items]
                  + [q.id for q in questionnaire.open_questions]
                  + [f"{r.id}@{name}" for r in questionnaire.partner_ratings for name in PARTNERS])
        round_id = round_.id
        session.close()
        app.extensions["mitra.engine"].dispose()
    return round_id, header


def generate(path: Path, header: list[str], size_mb: float, seed: int = 7) -> int:
    """Write valid rows until the file reaches ``size_mb``; return the number of rows."""
    rng = random.Random(seed)
    limit = int(size_mb * 1024 * 1024)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        while handle.tell() < limit:
            for _ in range(1000):
                partner = rng.choice(PARTNERS)
                row = []
                for name in header:
                    if name == "partner":
                        row.append(partner)
                    elif name == "language":
                        row.append(rng.choice(("id", "id", "en")))
                    elif name.startswith("terbuka_"):
                        row.append(rng.choice(TEXTS) if rng.random() < 0.17 else "")
                    elif "@" in name:
                        row.append("" if name.endswith("@" + partner) or rng.random() < 0.1
                                   else str(rng.randint(1, 5)))
                    else:
                        row.append("dk" if rng.random() < 0.03 else str(rng.randint(1, 5)))
                writer.writerow(row)
                rows += 1
    return rows


# --------------------------------------------------------------------------- child runs


def _peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM): unlike ``ru_maxrss`` it restarts at exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_parse(path: str) -> dict[str, Any]:
    """The baseline: read and csv-split the file, keeping nothing."""
    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    rows = 0
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for _ in csv.reader(handle):
            rows += 1
    return {"seconds": time.perf_counter() - started, "rows": rows - 1,
            "peak_rss_mib": _peak_rss_mib(), "rss_before_mib": rss_before}


class _LockTimer:
    """Time every write transaction, from when it took the write lock until COMMIT returned.

    Wall-clock time is what other writers wait; the thread's CPU time in the same stretch is
    the work done under the lock, which other load on the machine does not inflate.
    """

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.sqlite = engine.dialect.name == "sqlite"
        self.started: dict[int, tuple[float, float] | None] = {}
        self.held: list[float] = []
        self.cpu: list[float] = []
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "before_cursor_execute", self._statement)
        dialect = engine.dialect
        for name in ("do_commit", "do_rollback"):
            original = getattr(dialect, name)
            setattr(dialect, name, self._ending(original))

    @staticmethod
    def _key(conn: Any) -> int:
        return id(conn.connection.dbapi_connection)

    def _begin(self, conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE"
        self.started[self._key(conn)] = ((time.perf_counter(), time.thread_time())
                                         if immediate and self.sqlite else None)

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        key = self._key(conn)
        if self.started.get(key) is None and statement.lstrip()[:6].upper() in {
                "INSERT", "UPDATE", "DELETE"}:
            self.started[key] = (time.perf_counter(), time.thread_time())

    def _ending(self, original: Any) -> Any:
        def end(connection: Any) -> None:  # the pool's proxy of the DBAPI connection
            original(connection)
            raw = getattr(connection, "dbapi_connection", connection)
            began = self.started.pop(id(raw), None)
            if began is not None:
                self.held.append(time.perf_counter() - began[0])
                self.cpu.append(time.thread_time() - began[1])
        return end


# The app's SQLite busy timeout (app.db): a request waiting longer than this fails.
APP_BUSY_TIMEOUT = 30.0
PROBE_INTERVAL = 0.5


class _WriterProbe(threading.Thread):
    """A concurrent writer on SQLite: insert a row every 0.5 s and note how long each waited.

    Its busy timeout is far longer than the app's, so a wait the app would not survive is
    measured instead of cut short.
    """

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.stop = threading.Event()
        self.waits: list[float] = []
        self.failed = 0

    def run(self) -> None:
        connection = sqlite3.connect(self.database, timeout=600, isolation_level=None)
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO bench_probe (at) VALUES (?)", (started,))
                connection.execute("COMMIT")
            except sqlite3.OperationalError:
                self.failed += 1
            self.waits.append(time.perf_counter() - started)
            self.stop.wait(PROBE_INTERVAL)
        connection.close()


def child_import(database_url: str, round_id: int, path: str) -> dict[str, Any]:
    """Run the CLI command as an operator would and time it."""
    app = _app(database_url)
    engine = app.extensions["mitra.engine"]
    timer = _LockTimer(engine)
    probe = None
    if engine.dialect.name == "sqlite":
        probe = _WriterProbe(engine.url.database)
        probe.start()
    rss_before = _peak_rss_mib()
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["responses", "import", str(round_id), path])
    seconds = time.perf_counter() - started
    if probe is not None:
        probe.stop.set()
        probe.join()
    return {"seconds": seconds, "exit_code": result.exit_code,
            "output": result.output.strip().splitlines()[-3:],
            "lock_seconds": sum(timer.held), "transactions": len(timer.held),
            "lock_cpu_seconds": sum(timer.cpu),
            "longest_lock": max(timer.held, default=0.0),
            "probe_longest_wait": max(probe.waits, default=0.0) if probe else None,
            "probe_over_timeout": (sum(w > APP_BUSY_TIMEOUT for w in probe.waits) + probe.failed
                                   if probe else None),
            "probe_inserts": len(probe.waits) if probe else None,
            "peak_rss_mib": _peak_rss_mib(), "rss_before_mib": rss_before}


def _count_stored(database_url: str, round_id: int) -> dict[str, int]:
    from sqlalchemy import func, select

    from app.db import new_session
    from app.models import Answer, OpenAnswer, PartnerRating, Response

    app = _app(database_url)
    with app.app_context():
        session = new_session(write=False)
        try:
            responses = session.scalar(select(func.count()).select_from(Response)
                                       .where(Response.round_id == round_id))
            answers = session.scalar(select(func.count()).select_from(Answer))
            ratings = session.scalar(select(func.count()).select_from(PartnerRating))
            texts = session.scalar(select(func.count()).select_from(OpenAnswer)
                                   .where(OpenAnswer.round_id == round_id))
        finally:
            session.close()
    return {"responses": responses or 0, "answers": answers or 0, "ratings": ratings or 0,
            "open_answers": texts or 0}


def _run_child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=50.0)
    parser.add_argument("--database-url", default=os.environ.get("MITRA_BENCH_DATABASE_URL"))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        figures = child_parse(rest[0]) if kind == "parse" else child_import(
            rest[0], int(rest[1]), rest[2])
        print(json.dumps(figures))
        return

    with tempfile.TemporaryDirectory(prefix="mitra-bench-") as tmp:
        database_url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        round_id, header = set_up(database_url)
        path = Path(tmp) / "kertas.csv"
        started = time.perf_counter()
        rows = generate(path, header, args.size_mb)
        size = path.stat().st_size / 1024 / 1024
        print(f"file: {size:.1f} MiB, {rows:,} rows x {len(header)} columns "
              f"(generated in {time.perf_counter() - started:.1f} s); database: "
              f"{database_url.split('://')[0]}")
        parse = _run_child("parse", str(path))
        run = _run_child("import", database_url, str(round_id), str(path))
        stored = _count_stored(database_url, round_id)
    if run["exit_code"] != 0:
        print("import failed:", *run["output"], sep="\n  ")
    stored_rows = sum(stored.values())
    print(f"stored: {stored['responses']:,} responses, {stored['answers']:,} answers, "
          f"{stored['ratings']:,} ratings, {stored['open_answers']:,} open answers")
    lines = [
        ("baseline: read + csv-split", f"{parse['seconds']:.2f} s",
         f"peak RSS {parse['peak_rss_mib']:.0f} MiB"),
        ("import, total (CLI)", f"{run['seconds']:.2f} s",
         f"{run['seconds'] / parse['seconds']:.1f}x the baseline"),
        ("write lock held", f"{run['lock_seconds']:.2f} s",
         f"{run['lock_seconds'] / parse['seconds']:.1f}x the baseline, "
         f"{run['lock_seconds'] / run['seconds']:.0%} of the import, "
         f"{run['transactions']} write transaction(s)"),
        ("  of which CPU", f"{run['lock_cpu_seconds']:.2f} s",
         "the importer's own work under the lock, not inflated by other load"),
        ("rows per second", f"{rows / run['seconds']:,.0f} file rows/s",
         f"{stored_rows / max(run['lock_seconds'], 1e-9):,.0f} stored rows/s while locked"),
        ("peak RSS, import process", f"{run['peak_rss_mib']:.0f} MiB",
         f"{run['rss_before_mib']:.0f} MiB before the import started (app loaded)"),
    ]
    lines.insert(4, ("checking, outside the lock", f"{run['seconds'] - run['lock_seconds']:.2f} s",
                     "read, check and stage every row; no transaction open"))
    if run["probe_longest_wait"] is not None:
        lines.append(("concurrent writer, waited", f"{run['probe_longest_wait']:.2f} s",
                      f"longest of {run['probe_inserts']} inserts every {PROBE_INTERVAL} s; "
                      f"{run['probe_over_timeout']} would have failed "
                      f"(> {APP_BUSY_TIMEOUT:.0f} s)"))
    for label, figure, note in lines:
        print(f"{label:<28} {figure:>18}   {note}")
    print(f"machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    # What writers really waited, where a probe measured it; else the transaction's length.
    lock = run["probe_longest_wait"] if run["probe_longest_wait"] is not None else (
        run["longest_lock"])
    print(f"goal: write lock < {APP_BUSY_TIMEOUT:.0f} s (aim < 10 s): {lock:.1f} s -> "
          f"{'met' if lock < APP_BUSY_TIMEOUT else 'NOT met'}"
          f"{'' if lock < 10 else ' (above the aim)'}; peak RSS < 300 MiB: "
          f"{run['peak_rss_mib']:.0f} MiB -> {'met' if run['peak_rss_mib'] < 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
