"""Shared pieces of the load and fault benchmarks: databases, seed, gunicorn, invariants.

Everything here stays on the loopback interface and starts and stops only the processes it
started itself (by their PID). The invariants are checked in the database, after the run, from
the plain codes the load generator was given: the codes are hashed with the instance's key the
same way the app hashes them, so the check needs no help from the app.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DEFAULT_PG = "postgresql://127.0.0.1:5432/postgres"
CODE_KEY = "bench-access-code-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------------- databases


def create_pg_database(admin_url: str, name: str) -> str:
    """A fresh, empty PostgreSQL database; returns its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def drop_pg_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_for(kind: str, workdir: Path, admin_url: str, name: str) -> str:
    """The URL of a fresh database of ``kind`` ("sqlite" or "postgres")."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / (name + '.db')}"
    return create_pg_database(admin_url, name)


def app_config(database_url: str, secret: str, redis_url: str | None = None) -> dict[str, str]:
    """Environment for the app under test (production-like, loopback, no real mail)."""
    env = {"MITRA_DATABASE_URL": database_url, "MITRA_SECRET_KEY": secret,
           "MITRA_ACCESS_CODE_KEY": CODE_KEY, "MITRA_ENV_NAME": "development"}
    if redis_url:
        env["MITRA_REDIS_URL"] = redis_url
    return env


@dataclass
class Seeded:
    round_id: int
    codes: list[str]
    items: int  # answers a complete response holds


def seed(database_url: str, secret: str, codes: int) -> Seeded:
    """Schema, one partnership with three partners, an open round and ``codes`` fresh codes."""
    from app import create_app
    from app.db import Base, new_session
    from app.models import Partner, Partnership, Round, RoundStatus, Sector
    from app.questionnaires import parse_questionnaire
    from app.services.access_codes import issue_codes
    from app.services.questionnaires import import_questionnaire
    from bench.results import DIMENSIONS, ITEMS_PER_DIMENSION, questionnaire_yaml

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secret,
                      "ACCESS_CODE_KEY": CODE_KEY})
    Base.metadata.create_all(app.extensions["mitra.engine"])
    plain: list[str] = []
    with app.app_context():
        session = new_session()
        version = import_questionnaire(
            session, parse_questionnaire(questionnaire_yaml(), "bench.yaml")).version
        partnership = Partnership(name="Kemitraan beban", description="", min_group_size=5)
        session.add(partnership)
        partners = [Partner(partnership=partnership, name=name, sector=Sector.NGO)
                    for name in ("Dinas", "Yayasan", "Kelompok")]
        session.add_all(partners)
        round_ = Round(partnership=partnership, name="Putaran 1", status=RoundStatus.OPEN,
                       questionnaire_version_id=version.id, partners=partners)
        session.add(round_)
        session.flush()
        for index in range(codes):
            plain += issue_codes(session, round_.id, partners[index % 3].id, 1)
        session.commit()
        round_id = round_.id
        session.close()
    app.extensions["mitra.engine"].dispose()
    return Seeded(round_id=round_id, codes=plain, items=len(DIMENSIONS) * ITEMS_PER_DIMENSION)


# ----------------------------------------------------------------------------- invariants


@dataclass
class Invariants:
    responses: int
    used_codes: int
    confirmed: int  # submits the generator saw end on the thanks page
    lost: int  # confirmed submits whose code is not used (the answers went missing)
    duplicates: int  # responses beyond one per used code, or codes used more than once
    partial: int  # responses without every answer
    drafts_left: int  # drafts still stored for used codes
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        state = "OK" if self.ok else "FAILED: " + "; ".join(self.problems)
        return (f"invariants: responses={self.responses} used_codes={self.used_codes} "
                f"confirmed={self.confirmed} lost={self.lost} duplicates={self.duplicates} "
                f"partial={self.partial} drafts_left={self.drafts_left} -> {state}")


def check_invariants(database_url: str, secret: str, seeded: Seeded,
                     confirmed: set[str]) -> Invariants:
    """Compare the database with what the generator was told (see the module docstring)."""
    from sqlalchemy import func, select

    from app import create_app
    from app.db import new_session
    from app.models import AccessCode, Answer, Draft, Response
    from app.services.access_codes import hash_code
    from app.services.drafts import draft_key_for_code

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": secret,
                      "ACCESS_CODE_KEY": CODE_KEY})
    with app.app_context():
        session = new_session()
        hashes = {hash_code(code): code for code in seeded.codes}
        uses = dict(session.execute(select(AccessCode.code_hash, AccessCode.uses).where(
            AccessCode.round_id == seeded.round_id)).all())
        responses = session.scalar(select(func.count()).select_from(Response).where(
            Response.round_id == seeded.round_id)) or 0
        per_response = session.execute(
            select(Response.id, func.count(Answer.item_id)).outerjoin(Answer)
            .where(Response.round_id == seeded.round_id).group_by(Response.id)).all()
        used = {code for digest, code in hashes.items() if uses.get(digest, 0) > 0}
        over_used = sum(1 for digest in hashes if uses.get(digest, 0) > 1)
        draft_keys = {draft_key_for_code(code) for code in used}
        drafts_left = session.scalar(select(func.count()).select_from(Draft).where(
            Draft.key_hash.in_(draft_keys))) if draft_keys else 0
        session.close()
    app.extensions["mitra.engine"].dispose()
    result = Invariants(
        responses=responses, used_codes=len(used), confirmed=len(confirmed),
        lost=len(confirmed - used),
        duplicates=max(responses - len(used), 0) + over_used,
        partial=sum(1 for _id, count in per_response if count != seeded.items),
        drafts_left=drafts_left or 0)
    if responses != len(used):
        result.problems.append(f"responses ({responses}) != used codes ({len(used)})")
    for name in ("lost", "duplicates", "partial", "drafts_left"):
        if getattr(result, name):
            result.problems.append(f"{name} = {getattr(result, name)}")
    return result


# ----------------------------------------------------------------------------- gunicorn


class Gunicorn:
    """A gunicorn with the repository's gunicorn.conf.py on a loopback port, stopped by PID."""

    def __init__(self, env: dict[str, str], port: int, module: str = "bench.bare_app:app",
                 workers: int = 2, wait: bool = True) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        full_env = dict(os.environ, **env)
        if "MITRA_REDIS_URL" not in env:
            full_env.pop("MITRA_REDIS_URL", None)
        command = [GUNICORN, "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
                   "--workers", str(workers), "--access-logfile", "/dev/null",
                   "--backlog", "2048", "--log-level", "warning"]
        from gunicorn.config import KNOWN_SETTINGS

        if any(setting.name == "control_socket" for setting in KNOWN_SETTINGS):
            # Newer gunicorn opens a control socket under ~/.gunicorn, shared by every server.
            self.socket_dir = tempfile.TemporaryDirectory()
            command += ["--control-socket", f"{self.socket_dir.name}/gunicorn.ctl"]
        command.append(module)
        # A pipe nobody reads would block gunicorn when full; the file lives as long as we do.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(command, cwd=ROOT, env=full_env,
                                        stdout=subprocess.DEVNULL, stderr=self.log)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait for /healthz (start-up may overlap the seed: it imports the app meanwhile)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start: " + self.log_text()[-2000:])

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def workers(self) -> list[int]:
        try:
            return [child.pid for child in psutil.Process(self.process.pid).children()]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        """CPU time of the master and its live workers (user + system)."""
        total = 0.0
        try:
            master = psutil.Process(self.process.pid)
            for proc in [master, *master.children()]:
                try:
                    times = proc.cpu_times()
                    total += times.user + times.system
                except psutil.NoSuchProcess:
                    pass
        except psutil.NoSuchProcess:
            pass
        return total

    def kill_worker(self) -> int | None:
        pids = self.workers()
        if not pids:
            return None
        pid = pids[0]
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
        return pid

    def kill(self) -> None:
        """kill -9 the whole server (master first, then its workers), as a crash would."""
        pids = [self.process.pid, *self.workers()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            workers = self.workers()
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def new_secret() -> str:
    return secrets.token_hex(24)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]
