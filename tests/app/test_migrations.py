"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.db import Base, build_engine


@pytest.fixture
def migrated_app(app_config):
    """An app whose database was built by the migrations, not by create_all."""
    from app import create_app

    application = create_app(app_config)
    with application.app_context():
        from app import migrate

        migrate.upgrade()
    yield application
    application.extensions["mitra.engine"].dispose()


def _diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrated_schema_equals_the_models(migrated_app):
    engine = migrated_app.extensions["mitra.engine"]
    diff = _diff(engine)
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_table_is_created(migrated_app):
    engine = migrated_app.extensions["mitra.engine"]
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(migrated_app):
    from app import migrate

    engine = migrated_app.extensions["mitra.engine"]
    with migrated_app.app_context():
        migrate.downgrade("base")
        remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        migrate.upgrade()
    assert _diff(engine) == []


def test_cli_db_upgrade(app_config):
    from app import create_app

    application = create_app(app_config)
    result = application.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "head" in result.output
    engine = build_engine(app_config["DATABASE_URL"])
    assert "responses" in inspect(engine).get_table_names()
    engine.dispose()
    application.extensions["mitra.engine"].dispose()


def test_sqlite_connections_use_wal_and_a_busy_timeout(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_write_sessions_take_the_write_lock_up_front(tmp_path):
    """A write session holds RESERVED from BEGIN, so a second writer waits instead of failing."""
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    engine = build_engine(url)
    Base.metadata.create_all(engine)
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    with writer.connect() as first:
        first.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE happens here
        other = create_engine(url, connect_args={"timeout": 0})
        import sqlite3

        raw = sqlite3.connect(str(tmp_path / "lock.db"), timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            raw.execute("BEGIN IMMEDIATE")
        raw.close()
        other.dispose()
    engine.dispose()
