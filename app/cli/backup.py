"""``flask backup PATH`` and ``flask restore PATH``: the whole database to a file and back."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.services import backup as backups
from app.services.backup import BackupError


def _database_url() -> str:
    return current_app.config["DATABASE_URL"]


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scrub", is_flag=True,
              help="While fieldwork is open: shuffle the open rounds' rows in the copy, as "
                   "closing a round does, so the file does not keep the order of submission.")
@click.option("--accept-open-fieldwork", is_flag=True,
              help="While fieldwork is open: back up without scrubbing, keeping the order that "
                   "can link responses to access codes.")
def backup_command(path: Path, scrub: bool, accept_open_fieldwork: bool) -> None:
    """Back up the whole database to PATH (SQLite file or pg_dump archive).

    Refuses while a round is open unless --scrub or --accept-open-fieldwork says how to treat
    the order in which its responses arrived.
    """
    try:
        result = backups.backup(_database_url(), path, scrub=scrub,
                                accept_open_fieldwork=accept_open_fieldwork)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if result.open_rounds:
        names = "; ".join(round_.describe() for round_ in result.open_rounds)
        if result.scrubbed:
            click.echo(f"Open fieldwork in {names}: shuffled in the copy.")
        else:
            click.echo(f"Warning: open fieldwork in {names}; the backup keeps the order of "
                       "submission, which can link responses to access codes. Store it as "
                       "carefully as the live database.", err=True)
    click.echo(f"Backed up the {result.backend} database to {result.path}.")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that already holds data.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the whole database with the backup at PATH."""
    from app.db import get_engine

    url = _database_url()
    try:
        backups.backup_kind(path)  # refuse a stray file before looking at the database
        contents = backups.database_contents(get_engine())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    if contents and not yes:
        held = ", ".join(f"{number} {label}" for label, number in contents.items())
        raise click.ClickException(
            f"the database is not empty: restoring {path} replaces everything in it ({held}). "
            "Run again with --yes to replace it.")
    get_engine().dispose()  # no pooled connection keeps the old schema cached
    try:
        backups.restore(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    get_engine().dispose()
    click.echo(f"Restored the database from {path}.")
