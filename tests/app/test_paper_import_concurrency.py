"""Respondents keep submitting while a paper file is being checked."""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import func, select

from app.models import Response
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
    pipe = tmp_path / "kertas.csv"
    os.mkfifo(pipe)
    outcome: dict[str, object] = {}
    importer = threading.Thread(target=lambda: outcome.setdefault(
        "import", runner.invoke(args=["responses", "import", str(fieldwork.round_id),
                                      str(pipe)])))
    importer.start()
    deadline = time.monotonic() + 30
    fd = None
    try:
        while fd is None:  # opening for writing succeeds once the import opened the file
            try:
                fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                assert time.monotonic() < deadline and importer.is_alive(), outcome
                time.sleep(0.01)
        os.set_blocking(fd, True)
        half = len(content) // 2
        os.write(fd, content[:half])
        client = english_client(app)
        respondent = threading.Thread(target=lambda: outcome.setdefault(
            "submitted", complete_flow(client, fieldwork, fieldwork.codes[0])))
        respondent.start()
        respondent.join(timeout=60)
        assert not respondent.is_alive(), "the respondent waited for the paper import"
        submitted = outcome["submitted"]
        assert submitted.status_code == 303, submitted.get_data(as_text=True)[:500]
        assert importer.is_alive(), "the import should still be waiting for its file"
        assert _responses(app, fieldwork.round_id) == 1  # the submission, stored on its own
        os.write(fd, content[half:])
    finally:
        if fd is not None:
            os.close(fd)
        importer.join(timeout=120)
    result = outcome["import"]
    assert result.exit_code == 0, result.output
    assert _responses(app, fieldwork.round_id) == 1 + 200 * len(fieldwork.partner_ids)
    papers = rows(app, select(func.count()).select_from(Response).where(
        Response.round_id == fieldwork.round_id, Response.source == "paper"))
    assert papers == [200 * len(fieldwork.partner_ids)]


def _responses(app, round_id: int) -> int:
    return rows(app, select(func.count()).select_from(Response)
                .where(Response.round_id == round_id))[0]
