"""``flask questionnaire``: validate, import and list questionnaire versions."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.db import new_session
from app.models import QuestionnaireVersion, Round
from app.questionnaires import QuestionnaireError, load_questionnaire
from app.services.questionnaires import ImportRefused, bundled_files, import_questionnaire

questionnaire_group = AppGroup("questionnaire", help="Validate, import and list questionnaires.")


def _paths_or_bundled(paths: tuple[Path, ...]) -> list[Path]:
    return list(paths) or bundled_files(current_app.config["QUESTIONNAIRE_DIR"])


@questionnaire_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check questionnaire files and print every problem with its line (default: bundled)."""
    failed = 0
    for path in _paths_or_bundled(paths):
        try:
            q = load_questionnaire(path)
        except QuestionnaireError as error:
            failed += 1
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{path}: {len(error.problems)} problem(s)", err=True)
            continue
        click.echo(f"{path}: ok ({q.slug} v{q.version}, {len(q.items)} items)")
    if failed:
        raise click.ClickException(f"{failed} file(s) have problems")


@questionnaire_group.command("import")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(paths: tuple[Path, ...]) -> None:
    """Import questionnaire files as new versions, all or nothing (default: bundled)."""
    files = _paths_or_bundled(paths)
    loaded = []
    problems = []
    for path in files:
        try:
            loaded.append(load_questionnaire(path))
        except QuestionnaireError as error:
            problems.extend(str(p) for p in error.problems)
    if problems:
        for line in problems:
            click.echo(line, err=True)
        raise click.ClickException("nothing imported: fix the problems above first")
    session = new_session()
    try:
        outcomes = [import_questionnaire(session, q) for q in loaded]
        session.commit()
    except ImportRefused as error:
        session.rollback()
        raise click.ClickException(f"nothing imported: {error}") from None
    finally:
        session.close()
    for outcome in outcomes:
        state = "imported" if outcome.created else "already present, unchanged"
        click.echo(f"{outcome.version.slug} v{outcome.version.version}: {state}")


@questionnaire_group.command("list")
def list_() -> None:
    """List imported questionnaire versions and how many rounds use each."""
    session = new_session(write=False)
    try:
        rows = session.execute(
            select(QuestionnaireVersion, func.count(Round.id))
            .outerjoin(Round, Round.questionnaire_version_id == QuestionnaireVersion.id)
            .group_by(QuestionnaireVersion.id)
            .order_by(QuestionnaireVersion.slug, QuestionnaireVersion.version)
        ).all()
    finally:
        session.close()
    if not rows:
        click.echo("No questionnaires imported yet (flask --app wsgi questionnaire import).")
        return
    for version, rounds in rows:
        click.echo(
            f"{version.slug}\tv{version.version}\t{version.content_hash[:12]}\t"
            f"{rounds} round(s)\t{version.title}"
        )
