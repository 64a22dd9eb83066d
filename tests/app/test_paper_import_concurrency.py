"""Respondents keep submitting while a paper file is being checked."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.models import Response
from tests.app.paper_helpers import import_held_halfway
from tests.app.respond_helpers import arrange, complete_flow, english_client
from tests.app.staff_helpers import rows
from tests.app.test_paper_import import _bundled_csv


def test_a_respondent_submits_while_an_import_is_checking_its_file(app, runner, tmp_path):
    """The import reads its file from a pipe and is held halfway through checking it.

    Meanwhile a respondent goes through the whole questionnaire and submits (every step a
    write). Checking holds no transaction, so each step goes through at once; then the rest
    of the file arrives and the import stores all its rows, next to the respondent's.
    """
    fieldwork = arrange(app, codes=1)
    content = _bundled_csv(fieldwork, 200)
    outcome: dict[str, object] = {}
    with import_held_halfway(runner, fieldwork.round_id, content, tmp_path) as held:
        client = english_client(app)
        respondent = threading.Thread(target=lambda: outcome.setdefault(
            "submitted", complete_flow(client, fieldwork, fieldwork.codes[0])))
        respondent.start()
        respondent.join(timeout=60)
        assert not respondent.is_alive(), "the respondent waited for the paper import"
        submitted = outcome["submitted"]
        assert submitted.status_code == 303, submitted.get_data(as_text=True)[:500]
        assert held.thread.is_alive(), "the import should still be waiting for its file"
        assert _responses(app, fieldwork.round_id) == 1  # the submission, stored on its own
    result = held.outcome["import"]
    assert result.exit_code == 0, result.output
    assert _responses(app, fieldwork.round_id) == 1 + 200 * len(fieldwork.partner_ids)
    papers = rows(app, select(func.count()).select_from(Response).where(
        Response.round_id == fieldwork.round_id, Response.source == "paper"))
    assert papers == [200 * len(fieldwork.partner_ids)]


def _responses(app, round_id: int) -> int:
    return rows(app, select(func.count()).select_from(Response)
                .where(Response.round_id == round_id))[0]
