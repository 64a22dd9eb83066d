"""Whole-database backups and restores, with the open-fieldwork order link scrubbed on request.

SQLite is copied through its online backup API, which gives a consistent snapshot while the app
keeps writing; PostgreSQL through ``pg_dump -Fc`` and ``pg_restore``. A backup made while a round
is open carries a link between responses and the access codes they used: rows sit in the file
in the order respondents submitted (SQLite's rowid order, PostgreSQL's heap order, which ``COPY``
in a dump follows). ``xmin``, the other PostgreSQL trace, never reaches a dump: restored rows all
carry the restoring transaction's id. Scrubbing applies the round-close reshuffle
(``app.services.anonymity.reshuffle_round``) to the open rounds of the *copy*, never of the live
database, so the backup keeps every answer but not the order they came in.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.db import normalise_url
from app.models import Partnership, Round, RoundStatus
from app.services.anonymity import reshuffle_round

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# What a restore reports it would replace, in this order.
COUNTED_TABLES = (("partnerships", "partnerships"), ("rounds", "rounds"),
                  ("responses", "responses"), ("access_codes", "access codes"),
                  ("users", "staff accounts"))


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class OpenRound:
    id: int
    name: str
    partnership: str

    def describe(self) -> str:
        return f"round {self.id} \"{self.name}\" ({self.partnership})"


@dataclass
class BackupResult:
    path: Path
    backend: str
    open_rounds: list[OpenRound] = field(default_factory=list)
    scrubbed: bool = False


def backend_of(url: str) -> str:
    """Return "sqlite" or "postgresql" for a database URL, refusing anything else."""
    name = make_url(normalise_url(url)).get_backend_name()
    if name not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def open_rounds(session: Session) -> list[OpenRound]:
    """List the rounds whose fieldwork is open, whose rows still keep their arrival order."""
    rows = session.execute(
        select(Round.id, Round.name, Partnership.name)
        .join(Partnership, Partnership.id == Round.partnership_id)
        .where(Round.status == RoundStatus.OPEN).order_by(Round.id))
    return [OpenRound(id_, name, partnership) for id_, name, partnership in rows]


def _open_rounds_of(engine: Engine) -> list[OpenRound]:
    if "rounds" not in inspect(engine).get_table_names():
        return []
    with Session(engine) as session:
        return open_rounds(session)


def database_contents(engine: Engine) -> dict[str, int]:
    """Count the rows a restore would replace (only tables that exist and hold rows)."""
    existing = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table, label in COUNTED_TABLES:
            if table in existing:
                number = conn.execute(select(func.count()).select_from(text(table))).scalar_one()
                if number:
                    counts[label] = number
        if not counts:  # some other table with rows still makes the database non-empty
            for table in existing - {"alembic_version"}:
                if conn.execute(select(func.count()).select_from(text(f'"{table}"'))
                                ).scalar_one():
                    counts[f"{table} rows"] = 1
                    break
    return counts


def _scrub(engine: Engine, rounds: list[OpenRound]) -> None:
    """Apply the round-close reshuffle to these rounds in the database behind ``engine``."""
    with sessionmaker(engine)() as session:
        for round_ in rounds:
            reshuffle_round(session, round_.id)
        session.commit()


def _check_open_fieldwork(rounds: list[OpenRound], scrub: bool, accept: bool) -> None:
    if rounds and not scrub and not accept:
        raise BackupError(open_fieldwork_message(rounds))


def open_fieldwork_message(rounds: list[OpenRound]) -> str:
    names = "; ".join(round_.describe() for round_ in rounds)
    return (
        f"fieldwork is open in {names}. A backup taken now keeps these rounds' responses and "
        "answers in the order they were submitted, which can link each response to the access "
        "code that was used for it. Choose one:\n"
        "  --scrub                   shuffle the open rounds' rows in the backup copy, as closing "
        "a round does (the live database is not touched; unsent drafts of these rounds are left "
        "out of the copy)\n"
        "  --accept-open-fieldwork   keep the order (store the file as carefully as the live "
        "database)")


def _private_temp(directory: Path, suffix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=".mitra-backup-", suffix=suffix, dir=directory)
    os.close(handle)
    os.chmod(name, 0o600)  # the copy holds code hashes and answers
    return Path(name)


def backup(url: str, path: Path, *, scrub: bool = False,
           accept_open_fieldwork: bool = False) -> BackupResult:
    """Write a backup of the database at ``url`` to ``path``, atomically.

    Refuses while a round is open unless the caller chose to scrub or accepted the order link.
    """
    backend = backend_of(url)
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise BackupError(f"the directory {path.parent} does not exist")
    if backend == "sqlite":
        return _backup_sqlite(url, path, scrub, accept_open_fieldwork)
    return _backup_postgres(url, path, scrub, accept_open_fieldwork)


def restore(url: str, path: Path) -> None:
    """Replace the database at ``url`` with the backup at ``path`` (all or nothing)."""
    backend = backend_of(url)
    kind = backup_kind(Path(path))
    if kind != backend:
        raise BackupError(
            f"{path} is a {kind} backup but the database is {backend}; restore it into a "
            f"{kind} database")
    if backend == "sqlite":
        _restore_sqlite(url, Path(path))
    else:
        _restore_postgres(url, Path(path))


def backup_kind(path: Path) -> str:
    """Tell a SQLite backup from a ``pg_dump`` archive by the file's first bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror}") from error
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup made by flask backup")


# --- SQLite -----------------------------------------------------------------------------------

def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _backup_sqlite(url: str, path: Path, scrub: bool, accept: bool) -> BackupResult:
    live = _sqlite_file(url)
    if not live.exists():
        raise BackupError(f"there is no database at {live}")
    temp = _private_temp(path.parent, ".db")
    try:
        source = sqlite3.connect(live, timeout=30)
        target = sqlite3.connect(temp)
        try:
            # One consistent snapshot even while the app writes (pages=-1: all in one step).
            source.backup(target)
            # A single self-contained file: no WAL beside it.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
            source.close()
        engine = create_engine(f"sqlite:///{temp}")
        try:
            rounds = _open_rounds_of(engine)
            _check_open_fieldwork(rounds, scrub, accept)
            if scrub and rounds:
                _scrub(engine, rounds)
        finally:
            engine.dispose()
        # Rebuild the file: deleted rows (the pre-shuffle order, old drafts) stay in free pages
        # otherwise, readable by anyone with the file.
        connection = sqlite3.connect(temp, isolation_level=None)
        try:
            connection.execute("VACUUM")
        finally:
            connection.close()
        os.replace(temp, path)
    finally:
        with suppress(FileNotFoundError):
            temp.unlink()
    return BackupResult(path, "sqlite", rounds, scrubbed=scrub and bool(rounds))


def _restore_sqlite(url: str, path: Path) -> None:
    live = _sqlite_file(url)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            check = source.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is not a readable SQLite database: {error}") from error
        if check != "ok":
            raise BackupError(f"{path} is damaged: {check}")
        if "partnerships" not in tables:
            raise BackupError(f"{path} is a SQLite database but not a Mitra Sehat backup")
        target = sqlite3.connect(live, timeout=30)
        try:
            # The backup API replaces every page under the target's write lock, so other
            # connections see the old database or the new one, never a mixture.
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


# --- PostgreSQL -------------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH; install the PostgreSQL client tools of the "
            f"server's major version (Debian: apt-get install postgresql-client)")
    return found


def _conninfo(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it.

    The password goes through ``PGPASSWORD`` so it never shows in the process list.
    """
    parts = {"host": url.host, "port": str(url.port) if url.port else None,
             "user": url.username, "dbname": url.database}
    for key, value in url.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]

    def quote(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    conninfo = " ".join(f"{key}={quote(value)}" for key, value in parts.items() if value)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _run(command: list[str], env: dict[str, str], what: str, **kwargs) -> None:
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                               **kwargs)
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else completed.returncode}")


def _schema_of(engine: Engine) -> str:
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    if schema is None:
        raise BackupError("no schema on the database's search_path exists; create it first")
    return schema


def _backup_postgres(url: str, path: Path, scrub: bool, accept: bool) -> BackupResult:
    pg_dump = _tool("pg_dump")
    if scrub:
        _tool("pg_restore")
    sa_url = make_url(normalise_url(url))
    engine = create_engine(sa_url)
    try:
        schema = _schema_of(engine)
        rounds = _open_rounds_of(engine)
    finally:
        engine.dispose()
    _check_open_fieldwork(rounds, scrub, accept)
    conninfo, env = _conninfo(sa_url)
    temp = _private_temp(path.parent, ".dump")
    try:
        # Only the app's schema (the first on its search path): the app owns nothing else.
        _run([pg_dump, "-Fc", "--schema", schema, "--file", str(temp), "--dbname", conninfo],
             env, "pg_dump")
        if scrub and rounds:
            _scrub_postgres_dump(sa_url, schema, temp, env)
        os.replace(temp, path)
    finally:
        with suppress(FileNotFoundError):
            temp.unlink()
    return BackupResult(path, "postgresql", rounds, scrubbed=scrub and bool(rounds))


@contextmanager
def _scratch_database(sa_url: URL) -> Iterator[URL]:
    """Create a throw-away database on the same server and drop it afterwards."""
    name = f"mitra_scrub_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sa_url.difference_update_query(["options"]),
                          isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as error:
            raise BackupError(
                "--scrub on PostgreSQL restores the dump into a scratch database to shuffle it "
                f"there, and this user cannot create one ({type(error).__name__}); grant "
                "CREATEDB to the backup user, or close the open rounds first") from error
        try:
            yield sa_url.difference_update_query(["options"]).set(database=name)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _scrub_postgres_dump(sa_url: URL, schema: str, dump: Path, env: dict[str, str]) -> None:
    """Shuffle the open rounds inside a scratch copy of the dump and dump the copy again.

    ``COPY`` writes rows in heap order; in the scratch copy the reshuffle deletes the open
    rounds' rows and re-inserts them in random order (the dead versions cannot be reused inside
    that transaction), so the second dump carries the random order only.
    """
    with _scratch_database(sa_url) as scratch:
        conninfo, _ = _conninfo(scratch)
        _run([_tool("pg_restore"), "--no-owner", "--no-acl", "--exit-on-error",
              "--single-transaction", "--dbname", conninfo, str(dump)], env,
             "pg_restore into the scratch database")
        engine = create_engine(scratch.update_query_dict(
            {"options": f"-csearch_path={schema}"}))
        try:
            _scrub(engine, _open_rounds_of(engine))
        finally:
            engine.dispose()
        _run([_tool("pg_dump"), "-Fc", "--schema", schema, "--file", str(dump),
              "--dbname", conninfo], env, "pg_dump of the scrubbed copy")


def _restore_postgres(url: str, path: Path) -> None:
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    sa_url = make_url(normalise_url(url))
    conninfo, env = _conninfo(sa_url)
    listing = subprocess.run([pg_restore, "--list", str(path)], env=env, capture_output=True,
                             text=True, check=False)
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a readable pg_dump archive")
    schemas = {line.split()[5] for line in listing.stdout.splitlines()
               if not line.startswith(";") and " SCHEMA - " in line}
    engine = create_engine(sa_url)
    try:
        schema = _schema_of(engine)
    finally:
        engine.dispose()
    if schemas != {schema}:
        raise BackupError(f"{path} holds the schema(s) {', '.join(sorted(schemas)) or 'none'}, "
                          f"but this database uses {schema}")
    # One transaction: drop the schema and recreate it from the archive, so a failure halfway
    # leaves the database as it was.
    script = subprocess.Popen([pg_restore, "--no-owner", "--no-acl", "--file", "-", str(path)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    loader = subprocess.Popen([psql, "--no-psqlrc", "--quiet", "--single-transaction",
                               "--set", "ON_ERROR_STOP=1", "--file", "-", "--dbname", conninfo],
                              env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    assert script.stdout is not None and loader.stdin is not None
    try:
        quoted = schema.replace('"', '""')
        loader.stdin.write(f'DROP SCHEMA IF EXISTS "{quoted}" CASCADE;\n'.encode())
        shutil.copyfileobj(script.stdout, loader.stdin, 1 << 20)
    except BrokenPipeError:
        pass
    finally:
        with suppress(BrokenPipeError):
            loader.stdin.close()
    script_error = script.stderr.read().decode(errors="replace") if script.stderr else ""
    script.wait()
    loader_error = loader.stderr.read().decode(errors="replace") if loader.stderr else ""
    loader.wait()
    if script.returncode != 0 or loader.returncode != 0:
        lines = (loader_error or script_error).strip().splitlines()
        raise BackupError(f"restore failed, nothing was changed: {lines[-1] if lines else ''}")
