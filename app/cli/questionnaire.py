"""``flask questionnaire``: validate, import and list questionnaire versions."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from app.db import new_session
from app.models import QuestionnaireVersion, Round
from app.questionnaires import Band, Problem, Questionnaire, QuestionnaireError, load_questionnaire
from app.services.questionnaires import ImportRefused, bundled_files, import_questionnaire

questionnaire_group = AppGroup("questionnaire", help="Validate, import and list questionnaires.")


def _paths_or_bundled(paths: tuple[Path, ...]) -> list[Path]:
    # Only the top folder: templates in questionnaires/library/ are imported by naming them.
    return list(paths) or bundled_files(current_app.config["QUESTIONNAIRE_DIR"])


_LANGUAGE_HELP = (
    "Language of the problem messages: id or en (default: from LANGUAGE, LC_ALL, LC_MESSAGES "
    "or LANG, else id)."
)


def _language(option: str | None) -> str:
    """Pick the messages' language: the option, then the environment's locale, then 'id'."""
    languages = tuple(current_app.config.get("LANGUAGES", ("id", "en")))
    if option is not None:
        if option not in languages:
            raise click.BadParameter(
                f"{option!r} is not one of {', '.join(languages)}", param_hint="--language"
            )
        return option
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        code = os.environ.get(variable, "").split(":")[0][:2].lower()
        if code in languages:
            return code
    return "id"


def _rendered(problems: tuple[Problem, ...], language: str) -> list[str]:
    """``file:line: field.path: message`` lines, the messages in ``language``."""
    with force_locale(language):
        return [str(problem.localized(gettext)) for problem in problems]


def _band_lines(q: Questionnaire) -> list[str]:
    """Say which scores fall in which band, gaps resolved (the validator's explanation)."""
    lines = []
    tables: list[tuple[str, tuple[Band, ...]]] = [(d.id, d.bands) for d in q.dimensions]
    if q.total is not None:
        tables.append(("total", q.total.bands))
    for name, bands in tables:
        if not bands:
            continue
        parts = []
        for index, band in enumerate(bands):
            low = band.min if index == 0 else (bands[index - 1].max + band.min) / 2
            if index == len(bands) - 1:
                parts.append(f"{band.id} {low:g} to {band.max:g}")
            else:
                parts.append(
                    f"{band.id} {low:g} to below {(band.max + bands[index + 1].min) / 2:g}"
                )
        lines.append(f"  {name} bands: " + "; ".join(parts))
    return lines


@questionnaire_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", default=None, help=_LANGUAGE_HELP)
@click.option(
    "--bands", "show_bands", is_flag=True, help="Also say which score falls in which band."
)
def validate(paths: tuple[Path, ...], language: str | None, show_bands: bool) -> None:
    """Check questionnaire files and print every problem with its line (default: bundled)."""
    lang = _language(language)
    failed = 0
    for path in _paths_or_bundled(paths):
        try:
            q = load_questionnaire(path)
        except QuestionnaireError as error:
            failed += 1
            for line in _rendered(error.problems, lang):
                click.echo(line, err=True)
            click.echo(f"{path}: {len(error.problems)} problem(s)", err=True)
            continue
        click.echo(f"{path}: ok ({q.slug} v{q.version}, {len(q.items)} items)")
        if show_bands:
            for line in _band_lines(q):
                click.echo(line)
    if failed:
        raise click.ClickException(f"{failed} file(s) have problems")


@questionnaire_group.command("import")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", default=None, help=_LANGUAGE_HELP)
def import_(paths: tuple[Path, ...], language: str | None) -> None:
    """Import questionnaire files as new versions, all or nothing (default: bundled).

    Templates in questionnaires/library/ are not part of the default: name them to import.
    """
    lang = _language(language)
    files = _paths_or_bundled(paths)
    loaded = []
    problems = []
    for path in files:
        try:
            loaded.append(load_questionnaire(path))
        except QuestionnaireError as error:
            problems.extend(_rendered(error.problems, lang))
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
