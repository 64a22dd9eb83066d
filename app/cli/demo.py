"""``flask demo seed``: a demo partnership to explore, with logins printed once."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import new_session
from app.questionnaires import load_questionnaire
from app.services.demo import reset_demo_passwords, seed_demo
from app.services.questionnaires import import_questionnaire

demo_group = AppGroup("demo", help="Demo data.")

DEMO_QUESTIONNAIRE = "kemitraan-sehat.v1.yaml"


@demo_group.command("seed")
@click.option("--if-empty", is_flag=True,
              help="When the demo already exists, only give its accounts new passwords.")
def seed(if_empty: bool) -> None:
    """Create the demo partnership, staff accounts and two rounds of simulated answers."""
    path = Path(current_app.config["QUESTIONNAIRE_DIR"]) / DEMO_QUESTIONNAIRE
    questionnaire = load_questionnaire(path)
    session = new_session()
    try:
        version = import_questionnaire(session, questionnaire).version
        try:
            logins = seed_demo(session, questionnaire, version)
        except ValueError as error:
            session.rollback()
            if not if_empty:
                raise click.ClickException(str(error)) from None
            logins = reset_demo_passwords(session)
            click.echo("The demo partnership exists already; its accounts got new passwords.")
        session.commit()
    finally:
        session.close()
    click.echo("Demo logins (shown once; run again to get new ones):")
    for login in logins:
        click.echo(f"  {login.role:<12} {login.email:<36} {login.password}")
