"""Checked paper answers staged in a private SQLite file, then copied in one short transaction.

Checking a large file takes a while (every cell is read in Python); storing it must not. So
:func:`app.services.paper_import.check_paper_file` writes each valid row here, already in the
shape it will be stored in, outside any transaction of the application's database, and
storing is a handful of set-based statements:

- on SQLite the staging file is ``ATTACH``-ed to the writing connection before its
  transaction begins (SQLite refuses ``ATTACH`` inside one), and ``INSERT ... SELECT`` copies
  every table inside SQLite, in key order, without a Python object per row;
- on PostgreSQL the rows are streamed from the staging file with ``COPY``;
- when the writing session's transaction had already begun before the staging file could be
  attached (a caller that read first), rows are streamed with ``executemany`` instead: slower,
  equally correct, and only small web uploads take that path.

Random ids are drawn as rows are staged, and every table is copied in the order of its random
primary key, so neither the stored ids nor the order of insertion follows the pile of forms.
Open answers get ids of their own and carry no response id, as web answers do.
"""

from __future__ import annotations

import contextvars
import secrets
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from app.models import Answer, OpenAnswer, PartnerRating, Response

# Compact code of a "don't know" cell in the staging file (scale values lie within
# -1000..1000, see the questionnaire schema); a blank cell is NULL and is not stored.
DONT_KNOW_CODE = -32767
# Rows per executemany while staging or streaming: amortises round trips, bounds memory.
CHUNK = 2000
# SQLite allows 2000 columns in a table; the staging table has three besides the cells.
MAX_CLOSED_COLUMNS = 1990
ALIAS = "paper_staging"

_PAGE_CACHE_KIB = 8192  # of the staging writer: random-key inserts, kept off the disk


class RandomSource(Protocol):
    """What staging needs of a random source: ``random.Random`` has it (tests pass one)."""

    def randbytes(self, n: int, /) -> bytes: ...


@dataclass(frozen=True)
class ClosedColumn:
    """A staged closed cell's destination: an item (``ratee`` None) or a partner rating."""

    item_id: str
    ratee_id: int | None


@dataclass(frozen=True)
class StagedCounts:
    """Aggregates of what was staged, for the preview, read once when staging ends."""

    responses: int
    by_partner: dict[int, int]
    by_language: dict[str, int]
    answered: list[int]  # per closed column
    dont_know: list[int]  # per closed column
    texts: dict[str, int]  # open answers per question id


def random_ids(count: int, rng: RandomSource | None = None) -> list[str]:
    """``count`` random 32-hex ids in the layout of a version-4 UUID (as web answers get)."""
    raw = rng.randbytes(16 * count) if rng is not None else secrets.token_bytes(16 * count)
    ids = []
    for start in range(0, 16 * count, 16):
        one = bytearray(raw[start:start + 16])
        one[6] = (one[6] & 0x0F) | 0x40
        one[8] = (one[8] & 0x3F) | 0x80
        ids.append(one.hex())
    return ids


class Staging:
    """A private SQLite file holding one checked file's rows until they are stored.

    Created in a directory only this user can read (``mkdtemp``) and deleted by
    :meth:`close`, or when the object is garbage collected.
    """

    def __init__(self, columns: Sequence[ClosedColumn], rng: RandomSource | None = None
                 ) -> None:
        self.columns = list(columns)
        self.rng = rng
        self.directory = Path(tempfile.mkdtemp(prefix="mitra-paper-"))
        self.path = self.directory / "staging.sqlite"
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.directory, True)
        self._writer: sqlite3.Connection | None = sqlite3.connect(self.path,
                                                                   isolation_level=None)
        self._rows: list[tuple[Any, ...]] = []
        self._texts: list[tuple[Any, ...]] = []
        self._create()

    def _create(self) -> None:
        db = self._writer
        assert db is not None
        # A scratch file: a crash loses nothing that matters, so no journal and no syncing.
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(f"PRAGMA cache_size=-{_PAGE_CACHE_KIB}")
        cells = "".join(f", c{i} INTEGER" for i in range(len(self.columns)))
        db.execute("CREATE TABLE responses (id TEXT PRIMARY KEY, partner_id INTEGER NOT NULL, "
                   f"language TEXT NOT NULL{cells}) WITHOUT ROWID")
        db.execute("CREATE TABLE answer_columns (item_id TEXT PRIMARY KEY, "
                   "position INTEGER NOT NULL) WITHOUT ROWID")
        db.execute("CREATE TABLE rating_columns (item_id TEXT NOT NULL, "
                   "ratee_partner_id INTEGER NOT NULL, position INTEGER NOT NULL, "
                   "PRIMARY KEY (item_id, ratee_partner_id)) WITHOUT ROWID")
        db.execute("CREATE TABLE open_answers (id TEXT PRIMARY KEY, partner_id INTEGER NOT NULL,"
                   " question_id TEXT NOT NULL, language TEXT NOT NULL, text TEXT NOT NULL)"
                   " WITHOUT ROWID")
        db.executemany("INSERT INTO answer_columns VALUES (?, ?)",
                       [(c.item_id, i) for i, c in enumerate(self.columns) if c.ratee_id is None])
        db.executemany("INSERT INTO rating_columns VALUES (?, ?, ?)",
                       [(c.item_id, c.ratee_id, i) for i, c in enumerate(self.columns)
                        if c.ratee_id is not None])
        db.execute("BEGIN")
        placeholders = ", ".join("?" * (3 + len(self.columns)))
        self._insert_row = f"INSERT INTO responses VALUES ({placeholders})"

    def add(self, partner_id: int, language: str, codes: list[int | None],
            texts: Iterable[tuple[str, str]]) -> None:
        """Stage one response: its closed cells (None when blank) and its open answers."""
        self._rows.append((partner_id, language, codes))
        for question_id, text in texts:
            self._texts.append((partner_id, question_id, language, text))
        if len(self._rows) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        db = self._writer
        assert db is not None
        if self._rows:
            ids = random_ids(len(self._rows), self.rng)
            db.executemany(self._insert_row, [(rid, partner, language, *codes) for
                                              rid, (partner, language, codes)
                                              in zip(ids, self._rows, strict=True)])
            self._rows.clear()
        if self._texts:
            ids = random_ids(len(self._texts), self.rng)
            db.executemany("INSERT INTO open_answers VALUES (?, ?, ?, ?, ?)",
                           [(tid, *row) for tid, row in zip(ids, self._texts, strict=True)])
            self._texts.clear()

    def finish(self) -> StagedCounts:
        """Write what is buffered, end the staging writer and count what it holds."""
        self._flush()
        db = self._writer
        assert db is not None
        db.execute("COMMIT")
        count = db.execute("SELECT count(*) FROM responses").fetchone()[0]
        by_partner = dict(db.execute(
            "SELECT partner_id, count(*) FROM responses GROUP BY partner_id").fetchall())
        by_language = dict(db.execute(
            "SELECT language, count(*) FROM responses GROUP BY language").fetchall())
        answered: list[int] = []
        dont_know: list[int] = []
        # One scan per 500 columns keeps each result row within SQLite's column limit.
        for start in range(0, len(self.columns), 500):
            positions = range(start, min(start + 500, len(self.columns)))
            terms = ", ".join(f"count(c{i}), count(CASE WHEN c{i} = {DONT_KNOW_CODE} THEN 1 END)"
                              for i in positions)
            figures = db.execute(f"SELECT {terms} FROM responses").fetchone()
            answered += [int(n or 0) for n in figures[0::2]]
            dont_know += [int(n or 0) for n in figures[1::2]]
        texts = dict(db.execute(
            "SELECT question_id, count(*) FROM open_answers GROUP BY question_id").fetchall())
        db.close()
        self._writer = None
        return StagedCounts(count, by_partner, by_language, answered, dont_know, texts)

    def close(self) -> None:
        """Delete the staging file (idempotent)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._cleanup()

    # ------------------------------------------------------------------ copying

    def copy_into(self, session: Session, *, round_id: int, submitted_on: date,
                  source: str) -> None:
        """Insert every staged row in ``session``'s transaction (see the module docstring).

        The caller has called :func:`writing_connection` first, so on SQLite the staging file
        is attached when the transaction could still be shaped, and has checked, under the
        write lock, that the round and every staged partner still exist.
        """
        connection = session.connection()
        dialect = connection.dialect.name
        on_date = Response.__table__.c.submitted_on.type.bind_processor(connection.dialect)
        day = on_date(submitted_on) if on_date is not None else submitted_on.isoformat()
        constants = (round_id, day, source)
        if dialect == "sqlite" and connection.connection.info.get(ALIAS) == str(self.path):
            for copy in _copy_statements(self.columns, f"{ALIAS}."):
                connection.exec_driver_sql(copy.insert(),
                                           tuple(constants[i] for i in copy.constants))
            return
        reader = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        with closing(reader):
            driver = connection.connection.driver_connection
            for copy in _copy_statements(self.columns, ""):
                rows = reader.execute(copy.select, tuple(constants[i] for i in copy.constants))
                if dialect == "postgresql":
                    _copy_postgresql(driver, copy.table, copy.columns, rows)
                else:
                    _insert_chunks(driver, dialect, copy.table, copy.columns, rows)


@dataclass(frozen=True)
class _Copy:
    """One stored table's copy: its columns, the SELECT over the staging tables, constants."""

    table: str
    columns: tuple[str, ...]
    select: str
    constants: tuple[int, ...]  # which of (round, date, source) the SELECT binds, in order

    def insert(self) -> str:
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) {self.select}"


def _copy_statements(columns: Sequence[ClosedColumn], prefix: str) -> list[_Copy]:
    """The copy of every stored table, in the order they must be written.

    ``prefix`` names the staging schema (``paper_staging.`` when attached). Constants are
    numbered as in :meth:`Staging.copy_into`: 0 the round, 1 the date, 2 the source. Every
    SELECT yields its rows in the table's primary-key order (the nested loop runs over the
    staged ids in order, the inner loop over the columns in order), which makes each insert
    an append. Only integers are written into the SQL; every text is a bound value.
    """
    statements = [_Copy(
        Response.__tablename__,
        ("id", "round_id", "partner_id", "language", "submitted_on", "source"),
        f"SELECT id, ?, partner_id, language, ?, ? FROM {prefix}responses ORDER BY id",
        (0, 1, 2))]
    items = [i for i, c in enumerate(columns) if c.ratee_id is None]
    ratings = [i for i, c in enumerate(columns) if c.ratee_id is not None]
    if items:
        statements.append(_Copy(
            Answer.__tablename__, ("response_id", "item_id", "value"),
            f"SELECT response_id, item_id, NULLIF(code, {DONT_KNOW_CODE}) FROM ("
            f"SELECT r.id AS response_id, c.item_id AS item_id, {_case(items)} AS code "
            f"FROM {prefix}responses AS r CROSS JOIN {prefix}answer_columns AS c) "
            "WHERE code IS NOT NULL", ()))
    if ratings:
        statements.append(_Copy(
            PartnerRating.__tablename__,
            ("response_id", "item_id", "ratee_partner_id", "value"),
            f"SELECT response_id, item_id, ratee_partner_id, NULLIF(code, {DONT_KNOW_CODE}) "
            "FROM (SELECT r.id AS response_id, c.item_id AS item_id, "
            f"c.ratee_partner_id AS ratee_partner_id, {_case(ratings)} AS code "
            f"FROM {prefix}responses AS r CROSS JOIN {prefix}rating_columns AS c) "
            "WHERE code IS NOT NULL", ()))
    statements.append(_Copy(
        OpenAnswer.__tablename__,
        ("id", "round_id", "partner_id", "question_id", "language", "text"),
        f"SELECT id, ?, partner_id, question_id, language, text FROM {prefix}open_answers "
        "ORDER BY id", (0,)))
    return statements


def _case(positions: Sequence[int]) -> str:
    """The staged cell of the current column: positions are ints, nothing from the file."""
    return "CASE c.position " + " ".join(f"WHEN {i} THEN r.c{i}" for i in positions) + " END"


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        block = [row for _, row in zip(range(CHUNK), rows, strict=False)]
        if not block:
            return
        yield block


def _insert_chunks(driver: Any, dialect: str, table: str, names: tuple[str, ...],
                   rows: Iterator[tuple[Any, ...]]) -> None:
    """Stream rows with the driver's executemany, a chunk at a time."""
    marker = "?" if dialect == "sqlite" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join([marker] * len(names))})"
    cursor = driver.cursor()
    try:
        for block in _chunks(rows):
            cursor.executemany(sql, block)
    finally:
        cursor.close()


def _copy_postgresql(driver: Any, table: str, names: tuple[str, ...],
                     rows: Iterator[tuple[Any, ...]]) -> None:
    """Stream rows into PostgreSQL with COPY, in the session's transaction."""
    with driver.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
        for block in _chunks(rows):
            for row in block:
                copy.write_row(row)


# --------------------------------------------------------------------------- attaching

_FOREIGN_KEYS_OFF = "mitra_paper_foreign_keys_off"


@dataclass(frozen=True)
class _Attach:
    path: str
    foreign_keys: bool


_attach_next: contextvars.ContextVar[_Attach | None] = contextvars.ContextVar(
    "mitra_paper_staging", default=None)


def writing_connection(session: Session, staging: Staging, *,
                       foreign_keys: bool = True) -> Connection:
    """The session's connection, with the staging file attached if the transaction allows.

    SQLite refuses ``ATTACH`` inside a transaction, so it happens when the connection is
    taken from the pool, before the session's ``BEGIN``; it is detached when the connection
    goes back. When the session already holds a connection (its transaction began earlier),
    nothing is attached and :meth:`Staging.copy_into` streams the rows instead.

    ``foreign_keys=False`` also stops SQLite enforcing foreign keys for this transaction,
    which halves the time the copies hold the write lock (each copied answer would otherwise
    look its response up again). Only :func:`~app.services.paper_import.store_paper_responses`
    asks for it, for copies whose every key it has checked under the lock, and the pragma is
    restored before the connection serves anyone else.
    """
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return session.connection()
    _listen(session.get_bind())
    token = _attach_next.set(_Attach(str(staging.path), foreign_keys))
    try:
        return session.connection()
    finally:
        _attach_next.reset(token)


def _listen(bind: Engine | Connection) -> None:
    pool = bind.engine.pool
    if not event.contains(pool, "checkout", _attach_on_checkout):
        event.listen(pool, "checkout", _attach_on_checkout)
        event.listen(pool, "checkin", _detach_on_checkin)


def _attach_on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    attach = _attach_next.get()
    if attach is None:
        return
    if not attach.foreign_keys:
        record.info[_FOREIGN_KEYS_OFF] = True
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    record.info[ALIAS] = attach.path
    dbapi_connection.execute(f"ATTACH DATABASE ? AS {ALIAS}", (attach.path,))


def _detach_on_checkin(dbapi_connection: Any, record: Any) -> None:
    if record is None or dbapi_connection is None:
        return
    attached = record.info.pop(ALIAS, None)
    keys_off = record.info.pop(_FOREIGN_KEYS_OFF, None)
    if attached is None and keys_off is None:
        return
    try:
        if attached is not None:
            dbapi_connection.execute(f"DETACH DATABASE {ALIAS}")
        if keys_off is not None:
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error:
        # Never hand out a connection with a stranger's file attached or keys unenforced.
        record.invalidate()
