"""Shared fixtures: a fresh app and database per test, on SQLite or PostgreSQL.

Set ``MITRA_TEST_DATABASE_URL`` to a PostgreSQL URL to run the suite there; every test then
gets a schema of its own (new, or emptied after an earlier test: see ``database_url``), so
tests can commit for real (the concurrency and anonymity tests must) and still never see each
other's rows. That run keeps
only the tests that use the database (through the ``database_url`` fixture): the others, such
as the statistics of ``analysis/`` and the load suites, which choose their own databases, do
exactly the same on both runs. ``MITRA_TEST_EVERYTHING=1`` keeps them all.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ENV = "MITRA_TEST_DATABASE_URL"


def _pg_base_url() -> str | None:
    url = os.environ.get(PG_ENV, "").strip()
    return url or None


@pytest.fixture(scope="session")
def pg_admin_engine():
    url = _pg_base_url()
    if url is None:
        yield None
        return
    from app.db import normalise_url

    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # pragma: no cover - depends on the machine
        message = f"{PG_ENV} is set but PostgreSQL is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield engine
    engine.dispose()


# Schemas whose tables exist and are empty, ready for the next test of this worker process.
_SCHEMA_POOL: list[str] = []
_READY_URLS: set[str] = set()
_SEQUENCES: list[str] = []


@pytest.fixture
def database_url(request, tmp_path, pg_admin_engine) -> Iterator[str]:
    """A database for one test: a SQLite file, or a PostgreSQL schema of its own.

    On PostgreSQL, creating and dropping a schema with its 34 tables cost about 0.2 s a test,
    a third of the PostgreSQL run. A test that uses the ``app`` fixture (whose tables are
    those of ``Base.metadata``) therefore gets a schema from this worker's pool: emptied
    after the previous test, its sequences reset, so it is indistinguishable from a new one.
    A schema that cannot be emptied in a few seconds, or whose relations changed, is dropped
    instead. Tests that build the schema themselves (the migrations) get a new, empty one.
    """
    if pg_admin_engine is None:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    pooled = "app" in request.fixturenames
    if pooled and _SCHEMA_POOL:
        schema = _SCHEMA_POOL.pop()
    else:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        with pg_admin_engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    base = make_url(pg_admin_engine.url.render_as_string(hide_password=False))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)
    try:
        yield url
    finally:
        if pooled and _emptied(pg_admin_engine, schema):
            _READY_URLS.add(url)
            _SCHEMA_POOL.append(schema)
        else:
            _READY_URLS.discard(url)
            _drop_schema(pg_admin_engine, schema)


@pytest.fixture(scope="session", autouse=True)
def _drop_pooled_schemas(pg_admin_engine) -> Iterator[None]:
    yield
    while _SCHEMA_POOL:
        _drop_schema(pg_admin_engine, _SCHEMA_POOL.pop())


def _emptied(engine, schema: str) -> bool:
    """Empty a pooled schema for the next test; False if it must be dropped instead."""
    from sqlalchemy.exc import DBAPIError

    from app.db import Base

    tables = Base.metadata.sorted_tables
    try:
        with engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '5s'"))
            namespace = conn.execute(text(
                "SELECT oid FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
            ).scalar_one()
            names = {row[0]: row[1] for row in conn.execute(text(
                "SELECT relname, relkind FROM pg_class WHERE relnamespace = :ns "
                "AND relkind IN ('r', 'S')"), {"ns": namespace})}
            if sorted(n for n, kind in names.items() if kind == "r") != sorted(
                    t.name for t in tables):
                return False  # never given its tables, or a test changed them
            if not _SEQUENCES:
                _SEQUENCES.extend(sorted(n for n, kind in names.items() if kind == "S"))
            # One simple query: PostgreSQL runs its statements as one implicit transaction.
            conn.exec_driver_sql(";".join(
                [f'DELETE FROM "{schema}"."{table.name}"' for table in reversed(tables)]
                + ["SELECT " + ", ".join(f"setval('\"{schema}\".\"{sequence}\"', 1, false)"
                                         for sequence in _SEQUENCES)] * bool(_SEQUENCES)))
        return True
    except DBAPIError:
        return False


def _drop_schema(engine, schema: str) -> None:
    """Drop a test's schema, even past a connection a test leaked idle in a transaction.

    Such a connection (a session a background thread never closed) holds its locks for ever
    and the DROP would wait with it, hanging the whole run; after 30 s of waiting, connections
    idle in a transaction for 30 s or more are ended and the DROP is tried again.
    """
    from sqlalchemy.exc import OperationalError

    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '30s'"))
            try:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                return
            except OperationalError:
                pass
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state = 'idle in transaction'"
                " AND state_change < now() - interval '30 seconds'"))
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def pytest_collection_modifyitems(config, items) -> None:
    """On the PostgreSQL run, leave out the tests that never touch the test database."""
    if _pg_base_url() is None or os.environ.get("MITRA_TEST_EVERYTHING") == "1":
        return
    kept, left = [], []
    for item in items:
        (kept if "database_url" in getattr(item, "fixturenames", ()) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    return {
        "TESTING": True,
        "ENV_NAME": "testing",
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Background jobs' files go with the test, not into instance/.
        "JOB_FILES_DIR": str(tmp_path / "job-files"),
    }


@pytest.fixture
def app(app_config) -> Iterator[Flask]:
    from app import create_app
    from app.db import Base

    application = create_app(app_config)
    engine = application.extensions["mitra.engine"]
    if app_config["DATABASE_URL"] not in _READY_URLS:  # a pooled schema has its tables
        Base.metadata.create_all(engine)
    yield application
    from app.jobs import queue

    queue.drain(application, timeout=30)  # background jobs finish before their database goes
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def db_session(app: Flask):
    """A session for arranging and inspecting data; tests commit explicitly.

    It is opened without pushing an app context (a context held open for the whole test would be
    reused by test-client requests, sharing their ``g`` and session), and it begins transactions
    DEFERRED on SQLite so that merely reading never holds the write lock the code under test needs.
    """
    session = app.extensions["mitra.read_sessions"]()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def url_quote(value: str) -> str:
    return quote(value, safe="")
