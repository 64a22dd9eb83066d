"""``flask responses import ROUND_ID FILE.csv``: answers collected on paper."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from app.db import new_session
from app.models import Round
from app.services.paper_import import ImportRefused, PaperImportError, import_paper_responses

responses_group = AppGroup("responses", help="Import answers collected on paper.")


@responses_group.command("import")
@click.argument("round_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", default=None,
              help="Language of rows without a 'language' cell (default: the partnership's).")
@click.option("--again", is_flag=True,
              help="Import a file although it was imported into this round before.")
def import_(round_id: int, file: Path, language: str | None, again: bool) -> None:
    """Check every cell of FILE against the round's questionnaire, then store all rows or none.

    One row per respondent: a 'partner' column (name or id), item ids as columns, open
    questions as text columns, ratings of other partners as '<item>@<partner name or id>';
    blank for not answered, 'dk' for don't know.
    """
    session = new_session()
    try:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.ClickException(f"nothing imported: there is no round {round_id}")
        try:
            summary = import_paper_responses(
                session, round_, file.read_bytes(), today=date.today(), filename=file.name,
                default_language=language, again=again)
        except PaperImportError as error:
            session.rollback()
            for problem in error.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"nothing imported: {error}") from None
        except ImportRefused as error:
            session.rollback()
            raise click.ClickException(f"nothing imported: {error}") from None
        session.commit()
        click.echo(f"Imported {summary.responses} paper response(s) into round {round_.id} "
                   f"({round_.name}).")
    finally:
        session.close()
