"""``flask responses import ROUND_ID FILE.csv``: answers collected on paper."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.db import new_session
from app.models import Round, RoundStatus
from app.services.paper_import import (
    ImportRefused,
    PaperImportError,
    PartnerChange,
    check_paper_file,
    load_import_target,
    partner_changes,
    revision_note_or_none,
    store_paper_responses,
)

responses_group = AppGroup("responses", help="Import answers collected on paper.")


@responses_group.command("import")
@click.argument("round_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", default=None,
              help="Language of rows without a 'language' cell (default: the partnership's).")
@click.option("--again", is_flag=True,
              help="Import a file although it was imported into this round before.")
@click.option("--yes", is_flag=True,
              help="Import into a closed round without asking (its published results change).")
@click.option("--note", default=None,
              help="Why a closed round's results are revised, shown beside its results.")
def import_(round_id: int, file: Path, language: str | None, again: bool, yes: bool,
            note: str | None) -> None:
    """Check every cell of FILE against the round's questionnaire, then store all rows or none.

    One row per respondent: a 'partner' column (name or id), item ids as columns, open
    questions as text columns, ratings of other partners as '<item>@<partner name or id>';
    blank for not answered, 'dk' for don't know. Importing into a closed round changes its
    published results: the command says how and asks first (--yes for scripts).
    """
    # Messages of the service are translatable for the site; the command line speaks English.
    with force_locale("en"):
        _import_file(round_id, file, language, again, yes, note)


def _import_file(round_id: int, file: Path, language: str | None, again: bool, yes: bool,
                 note: str | None) -> None:
    """Read the round, check the file outside any transaction, then store it in one."""
    try:
        note = revision_note_or_none(note)
    except ImportRefused as error:
        raise click.ClickException(f"nothing imported: {error}") from None
    # (1) A short read; it ends before the file is opened, so no lock or snapshot is held
    # while a large file is read and checked.
    read = new_session(write=False)
    try:
        round_ = read.get(Round, round_id)
        if round_ is None:
            raise click.ClickException(f"nothing imported: there is no round {round_id}")
        try:
            target = load_import_target(read, round_)
        except ImportRefused as error:
            raise click.ClickException(f"nothing imported: {error}") from None
        round_name = round_.name
        closed = round_.status is RoundStatus.CLOSED
    finally:
        read.close()
    # (2) Check the whole file, streamed, outside any transaction; the valid rows are staged
    # in a private file, so that storing them is a few set-based copies.
    progress = _ProgressLine()
    try:
        with file.open("rb") as stream, progress:
            checked = check_paper_file(target, stream, filename=file.name,
                                       default_language=language, progress=progress.show)
    except PaperImportError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        if error.not_shown:
            click.echo(f"... and {error.not_shown} more problem(s) not shown", err=True)
        raise click.ClickException(f"nothing imported: {error}") from None
    except ImportRefused as error:
        raise click.ClickException(f"nothing imported: {error}") from None
    except OSError as error:
        raise click.ClickException(f"nothing imported: cannot read {file.name}: "
                                   f"{error.strerror or error}") from None
    with checked:
        # (3) A closed round's published results change: say how, and ask.
        if closed:
            read = new_session(write=False)
            try:
                changes = partner_changes(read, checked)
            finally:
                read.close()
            _confirm_closed(round_id, round_name, changes, yes)
        # (4) One short write transaction.
        write = new_session()
        try:
            summary = store_paper_responses(write, checked, today=date.today(), again=again,
                                            confirm_closed=closed, revision_note=note)
            write.commit()
        except ImportRefused as error:
            write.rollback()
            raise click.ClickException(f"nothing imported: {error}") from None
        finally:
            write.close()
    click.echo(f"Imported {summary.responses} paper response(s) into round {round_id} "
               f"({round_name}).")
    if summary.revised:
        click.echo(f"Round {round_id} is marked as revised on {date.today().isoformat()}; its "
                   "published results are recomputed from all responses.")


def _confirm_closed(round_id: int, round_name: str, changes: tuple[PartnerChange, ...],
                    yes: bool) -> None:
    """Print what a closed round's import changes; go on only with --yes or a typed yes."""
    before = sum(c.before for c in changes)
    after = sum(c.after for c in changes)
    click.echo(f"Round {round_id} ({round_name}) is closed: its published results will be "
               "recomputed and marked as revised.")
    click.echo(f"Responses: {before} -> {after}")
    for change in changes:
        click.echo(f"  {change.name}: {change.before} -> {change.after}"
                   + (f" (+{change.added})" if change.added else ""))
    if yes:
        return
    if not _interactive():
        raise click.ClickException(
            "nothing imported: the round is closed and there is nobody to confirm; run again "
            "with --yes to change its published results as shown above")
    if not click.confirm("Change the published results of this closed round?", default=False):
        raise click.ClickException("nothing imported: not confirmed")


class _ProgressLine:
    """Rows checked so far, rewritten in place on a terminal; nothing in scripts and logs."""

    def __init__(self) -> None:
        self.show: Callable[[int], None] | None = self._show if sys.stderr.isatty() else None
        self.shown = False

    def _show(self, rows: int) -> None:
        click.echo(f"\rchecked {rows:,} rows", err=True, nl=False)
        self.shown = True

    def __enter__(self) -> _ProgressLine:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.shown:  # end the line before anything else is printed
            click.echo(err=True)


def _interactive() -> bool:
    """Whether someone at a terminal can answer a question (not a script or a pipe)."""
    return sys.stdin.isatty()
