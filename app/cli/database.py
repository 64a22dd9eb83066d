"""``flask db``: schema migrations through Alembic."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app import migrate

db_group = AppGroup("db", help="Create and migrate the database schema.")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    migrate.upgrade(revision)
    click.echo(f"Database at {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    migrate.downgrade(revision)
    click.echo(f"Database at {revision}.")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the schema change does.")
def revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    migrate.revision(message)
