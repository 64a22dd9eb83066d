"""The quick versions of the load and fault suites (``bench/load.py``, ``bench/faults.py``).

Each starts its own gunicorn on a loopback port, runs the respondent flow with locust for a
few seconds and checks the invariants in the database itself (responses == used codes, no
lost, duplicate or partial responses, no drafts left for used codes). These tests assert that
the suites ran, printed their figures and found the invariants intact; they assert no timing,
since the machine running the tests may be busy. The two suites run side by side to keep the
wall time near 20 s. ``make loadtest`` runs the full versions.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://127.0.0.1:5432/postgres"


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:  # any failure means "no PostgreSQL here"
        return False


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "bench" / script), "--quick", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _finish(process: subprocess.Popen) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail("the quick suite did not finish in 600 s:\n" + output[-3000:])
    return process.returncode, output


def _invariants(output: str) -> dict[str, int]:
    line = re.search(r"^invariants: (.*) -> (\S+)", output, re.MULTILINE)
    assert line, output[-3000:]
    assert line.group(2) == "OK", output[-3000:]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line.group(1))}


def test_quick_load_and_fault_suites_keep_every_response():
    faults_db = "postgres" if _postgres_reachable() else "sqlite"
    # One after the other: run together on two cores, the fault suite's respondents (with a
    # worker killed every 5 s) may not finish a single questionnaire in 20 s.
    load_code, load_out = _finish(_start("load.py", "--database", "sqlite"))
    faults_code, faults_out = _finish(_start("faults.py", "--database", faults_db))

    assert load_code == 0, load_out[-3000:]
    counts = _invariants(load_out)
    # A respondent cut off by the time limit after the submit reached the server has a stored
    # response nobody was told about: confirmed may be lower, never higher (lost == 0).
    assert counts["responses"] == counts["used_codes"] >= counts["confirmed"] > 0
    assert counts["lost"] == counts["duplicates"] == counts["partial"] == 0
    assert counts["drafts_left"] == 0
    for step in ("GET /r ", "POST /r (code)", "GET /r/page/N", "POST /r/page/N (draft save)",
                 "POST /r/review (submit)"):
        row = re.search(rf"^{re.escape(step)}\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+\d+$", load_out,
                        re.MULTILINE)
        assert row and int(row.group(1)) > 0, f"{step!r} missing:\n{load_out[-3000:]}"
    assert re.search(r"^bare-get \(probe, same run\)\s+p50 \d+ ms", load_out, re.MULTILINE)
    assert re.search(r"^  GET /r/page/N\s+\d+\.\d\dx$", load_out, re.MULTILINE)
    assert re.search(r"load generator CPU: \d+\.\d s", load_out)

    assert faults_code == 0, faults_out[-3000:]
    counts = _invariants(faults_out)
    assert counts["responses"] == counts["used_codes"] > 0
    assert counts["lost"] == counts["duplicates"] == counts["partial"] == 0
    assert counts["drafts_left"] == 0
    assert re.search(r"^kill -9 worker\s+\d+\.\d\s+\d+\.\d\d$", faults_out, re.MULTILINE), \
        faults_out[-3000:]
    assert re.search(r"^Redis started again\s+\d+\.\d\s+\d+\.\d\d$", faults_out, re.MULTILINE)
    assert "(app keeps serving: yes)" in faults_out
    if faults_db == "postgres":
        assert re.search(r"^pg_terminate_backend \(\d+ connections\)\s+\d+\.\d\s+\d+\.\d\d$",
                         faults_out, re.MULTILINE), faults_out[-3000:]
