"""Command-line interface: ``flask --app wsgi <group> <command>``."""

from __future__ import annotations

from flask import Flask

from app.cli import (
    backup,
    database,
    demo,
    jobs,
    partnership,
    questionnaire,
    responses,
    results,
    translate,
    users,
)


def register_cli(app: Flask) -> None:
    for group in (database.db_group, questionnaire.questionnaire_group, users.user_group,
                  demo.demo_group, translate.translate_group, responses.responses_group,
                  results.results_group, backup.backup_command, backup.restore_command,
                  jobs.jobs_group, partnership.partnership_group):
        app.cli.add_command(group)
