"""Engine, session-per-request and the declarative base.

SQLite is the embedded default, so it gets the settings that make concurrent submissions safe:
WAL, a busy timeout and ``BEGIN IMMEDIATE`` for writing requests, which takes the write lock up
front instead of failing with "database is locked" when a deferred read upgrades to a write.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can diff and drop on every backend."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalise_url(url: str) -> str:
    """Route plain ``postgresql://`` URLs to psycopg 3, the driver we install."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def build_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine with the per-backend settings this app relies on.

    Statement parameters are hidden from error messages and logs: they can hold code hashes and
    respondents' open answers.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, hide_parameters=True,
                               connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite otherwise defers it until the first write).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def init_app(app: Flask) -> None:
    """Bind an engine and session factories to the app and close sessions after each request."""
    engine = build_engine(app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"])
    write_bind = engine.execution_options(sqlite_begin="IMMEDIATE")
    app.extensions["mitra.engine"] = engine
    app.extensions["mitra.read_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["mitra.write_sessions"] = sessionmaker(write_bind, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def get_engine() -> Engine:
    return current_app.extensions["mitra.engine"]


def get_session() -> Session:
    """Return this request's session, opening a write (IMMEDIATE) one for state-changing verbs."""
    if "db_session" not in g:
        write = not has_request_context() or request.method in WRITE_METHODS
        factory = current_app.extensions["mitra.write_sessions" if write else "mitra.read_sessions"]
        g.db_session = factory()
    return g.db_session


def new_session(write: bool = True) -> Session:
    """Open a session outside the request cycle (CLI, background work); the caller closes it."""
    key = "mitra.write_sessions" if write else "mitra.read_sessions"
    return current_app.extensions[key]()


def close_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def discard_session() -> None:
    """Drop this request's session without another statement, e.g. before an error page.

    After a failed statement PostgreSQL refuses everything but ROLLBACK in that transaction,
    and an explicit rollback would expire every loaded object, so the next attribute read
    (the signed-in user, in the page header) would query again. Closing hands the connection
    back to the pool, which rolls it back (or drops it when the connection itself died), and
    leaves loaded objects detached with the values they had.
    """
    session: Session | None = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.close()
    except SQLAlchemyError:
        session.invalidate()
