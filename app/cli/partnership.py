"""``flask partnership export ID -o FILE`` and ``flask partnership import FILE``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.db import new_session
from app.services import partnership_io
from app.services.partnership_io import PartnershipImportError

partnership_group = AppGroup("partnership", help="Move a whole partnership between instances.")


@partnership_group.command("export")
@click.argument("partnership_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              required=True, help="The JSON file to write.")
def export_command(partnership_id: int, output: Path) -> None:
    """Write a partnership as canonical JSON (anonymous; no codes, drafts or snapshots)."""
    session = new_session(write=False)
    try:
        document = partnership_io.export_partnership(session, partnership_id)
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        session.close()
    output.write_text(partnership_io.dumps(document), encoding="utf-8")
    click.echo(f"Exported partnership {partnership_id} ({len(document['rounds'])} rounds, "
               f"{len(document['responses'])} responses) to {output}.")


@partnership_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rename", default=None,
              help="Import under this name (needed when the partnership's name exists here).")
def import_command(path: Path, rename: str | None) -> None:
    """Import a partnership file in one transaction: all of it, or nothing."""
    session = new_session()
    try:
        document = partnership_io.load_file(path)
        summary = partnership_io.import_partnership(session, document, file=str(path),
                                                    rename=rename)
        session.commit()
    except PartnershipImportError as error:
        session.rollback()
        raise click.ClickException(str(error)) from error
    finally:
        session.close()
    parts = ", ".join(f"{n} {table}" for table, n in sorted(summary.counts.items()) if n)
    click.echo(f"Imported {summary.name!r} as partnership {summary.partnership_id}: {parts}.")
    if summary.versions_imported:
        click.echo("Questionnaire versions added: " + ", ".join(summary.versions_imported))
