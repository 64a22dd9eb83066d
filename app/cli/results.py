"""``flask results export ROUND_ID``: a round's published results as JSON or CSV."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import new_session
from app.models import Round, RoundStatus
from app.services.exports import CSV_STYLES, record_export, results_tables, to_csv
from app.services.results import response_count, round_results_for

results_group = AppGroup("results", help="Export results.")


@results_group.command("export")
@click.argument("round_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True,
              help="json: the results snapshot as it is; csv: the results tables.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              default=None, help="Write to this file instead of standard output.")
@click.option("--language", default="id", show_default=True,
              help="Language of the CSV headings, labels and sentences.")
@click.option("--csv-style", type=click.Choice(sorted(CSV_STYLES)), default="standard",
              show_default=True,
              help="standard: comma and decimal point; excel-id: semicolon and decimal comma, "
                   "as Excel set to Indonesian reads them.")
def export(round_id: int, fmt: str, output: Path | None, language: str,
           csv_style: str) -> None:
    """Export the published (anonymity-checked) results of a round."""
    if language not in current_app.config["LANGUAGES"]:
        raise click.BadParameter(f"use one of {', '.join(current_app.config['LANGUAGES'])}",
                                 param_hint="--language")
    # A read session: computing a snapshot publishes it in a short write of its own.
    session = new_session(write=False)
    try:
        round_ = session.get(Round, round_id)
        if round_ is None:
            raise click.ClickException(f"there is no round {round_id}")
        if round_.status is RoundStatus.DRAFT or response_count(session, round_) == 0:
            raise click.ClickException(f"round {round_id} has no responses yet")
        snapshot = round_results_for(session, round_)
        if fmt == "json":
            text = json.dumps(snapshot, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
            rows = 1
        else:
            tables = results_tables(snapshot, language)
            text = to_csv(tables, style=CSV_STYLES[csv_style])
            rows = sum(len(table.rows) for table in tables)
        if output is None:
            click.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8",
                              newline="")
        session.commit()  # end the read; the audit event gets a transaction of its own
        record_export(session, None, round_, "results", fmt, rows, via="cli")
        session.commit()
    finally:
        session.close()
