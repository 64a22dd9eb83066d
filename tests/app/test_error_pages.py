"""Error pages: drawn without the database after a database error, logged without time of day.

The database-error tests matter most on PostgreSQL (``MITRA_TEST_DATABASE_URL``): there a failed
statement leaves the transaction refusing everything else, which is what turned the error
page into a bare "Internal Server Error" when it loaded the signed-in user.
"""

from __future__ import annotations

import contextlib
import logging
import re

import pytest
from flask import Flask, current_app
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_session
from app.respond.redact import (
    RESPONDENT_ERROR_LOGGER,
    RespondentErrorFilter,
    redacted_traceback,
    scrub_paths,
)
from tests.app.respond_helpers import english_client
from tests.app.staff_helpers import build_world, sign_in

TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
SECRET_CODE = "KXP7W9QT"
WHEN = ":".join(["09", "14", "07"])  # not written out: source lines appear in tracebacks
ANSWER = " ".join(["answer", "text"])


class Boom(RuntimeError):
    """The failure of the test-only routes."""


def _add_failing_routes(app: Flask) -> None:
    """Test-only routes: a failed SQL statement, and plain exceptions on respondent paths."""

    def database_error():
        get_session().execute(text("SELECT * FROM no_such_table_here"))
        return "not reached"

    def database_error_caught():
        # The transaction stays failed on PostgreSQL.
        with contextlib.suppress(SQLAlchemyError):
            get_session().execute(text("SELECT * FROM no_such_table_here"))
        raise Boom("after a failed statement")

    def respondent_failure(code: str):
        raise Boom(f"the code {code} at {WHEN}")  # the traceback shows this line, not values

    def staff_failure():
        raise Boom("staff side")

    app.add_url_rule("/test/database-error", view_func=database_error)
    app.add_url_rule("/test/database-error-caught", view_func=database_error_caught)
    app.add_url_rule("/r/test-failure/<code>", view_func=respondent_failure)
    app.add_url_rule("/l/test-failure/<code>", view_func=respondent_failure)
    app.add_url_rule("/test/staff-failure", view_func=staff_failure)


@pytest.fixture
def failing_app(app):
    _add_failing_routes(app)
    return app


def _statements(app: Flask) -> list[str]:
    seen: list[str] = []

    @event.listens_for(app.extensions["mitra.engine"], "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    return seen


@pytest.mark.parametrize("path", ["/test/database-error", "/test/database-error-caught"])
def test_a_database_error_gives_a_full_page_without_touching_the_database(failing_app, path):
    app = failing_app
    build_world(app)
    client = app.test_client()
    assert sign_in(client, "coordinator").status_code == 302  # the header would load the user
    statements = _statements(app)
    response = client.get(path)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert body.startswith("<!doctype html>") and "</html>" in body
    assert "Terjadi kesalahan" in body  # "Something went wrong", Indonesian by default
    assert '<html lang="id">' in body
    assert "no_such_table_here" not in body
    # Nothing ran after the failed statement: the page loaded neither the user nor anything.
    assert statements and "no_such_table_here" in statements[-1]


def test_the_error_page_keeps_the_language_chosen_in_the_session(failing_app):
    client = english_client(failing_app)
    response = client.get("/test/database-error")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body and '<html lang="en">' in body


def test_the_error_page_uses_a_profile_language_already_in_memory(failing_app):
    app = failing_app
    build_world(app)  # staff profiles are English here

    def after_loading_the_user():
        from flask_login import current_user

        assert current_user.is_authenticated  # loaded before the failure
        get_session().execute(text("SELECT * FROM no_such_table_here"))

    app.add_url_rule("/test/after-user", view_func=after_loading_the_user)
    client = app.test_client()
    assert sign_in(client, "coordinator").status_code == 302
    response = client.get("/test/after-user")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)


def test_the_next_request_works_after_a_database_error(failing_app):
    client = failing_app.test_client()
    assert client.get("/test/database-error").status_code == 500
    assert client.get("/").status_code == 200


# --------------------------------------------------------------------------- the log


@pytest.mark.parametrize("path", [f"/r/test-failure/{SECRET_CODE}",
                                  f"/l/test-failure/{SECRET_CODE}"])
def test_a_respondent_error_is_logged_without_time_of_day_or_code(failing_app, path, capsys,
                                                                  caplog):
    caplog.set_level(logging.DEBUG)
    response = failing_app.test_client().get(path)
    assert response.status_code == 500
    assert "Terjadi kesalahan" in response.get_data(as_text=True)
    logged = capsys.readouterr().err
    assert "Traceback (most recent call last)" in logged
    assert "test_error_pages.Boom" in logged  # the exception's type
    assert "respondent_failure" in logged  # and where it happened
    assert SECRET_CODE not in logged and WHEN not in logged
    assert not TIME_OF_DAY.search(logged), logged
    # Nothing reached the handlers that stamp the time (the root logger, Flask's own).
    assert not [r for r in caplog.records if SECRET_CODE in r.getMessage()
                or (r.exc_info and SECRET_CODE in str(r.exc_info[1]))]
    assert not [r for r in caplog.records if r.name == failing_app.logger.name]


def test_a_staff_error_is_still_logged_by_the_app_logger(failing_app, caplog):
    caplog.set_level(logging.ERROR)
    assert failing_app.test_client().get("/test/staff-failure").status_code == 500
    assert any(r.name == failing_app.logger.name and r.exc_info for r in caplog.records)


def test_other_app_log_records_on_respondent_routes_are_rerouted(app, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    with app.test_request_context(f"/r/{SECRET_CODE}"):
        try:
            raise Boom(SECRET_CODE)
        except Boom:
            current_app.logger.exception("Exception on /r/%s [GET]", SECRET_CODE)
        current_app.logger.warning("limit reached for /r/%s", SECRET_CODE)
    logged = capsys.readouterr().err
    assert "Exception on [respondent path] [GET]" in logged
    assert "limit reached for [respondent path]" in logged
    assert SECRET_CODE not in logged and not TIME_OF_DAY.search(logged)
    assert not [r for r in caplog.records if r.name != RESPONDENT_ERROR_LOGGER
                and SECRET_CODE in r.getMessage()]


def test_the_filter_leaves_staff_requests_alone(app):
    with app.test_request_context("/admin/partnerships"):
        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "staff", None, None)
        assert RespondentErrorFilter().filter(record) is True


def test_a_redacted_traceback_holds_types_and_frames_but_no_messages():
    try:
        try:
            raise KeyError(SECRET_CODE)
        except KeyError as inner:
            raise Boom(ANSWER) from inner
    except Boom as error:
        shown = redacted_traceback(error)
    assert "KeyError (message withheld)" in shown
    assert "tests.app.test_error_pages.Boom (message withheld)" in shown
    assert "test_a_redacted_traceback_holds_types_and_frames_but_no_messages" in shown
    assert SECRET_CODE not in shown and ANSWER not in shown


def test_scrub_paths_removes_codes_of_every_respondent_route():
    assert scrub_paths("GET /r/ABC and /l/xyz?x=1 then /r") == \
        "GET [respondent path] and [respondent path] then [respondent path]"
    assert scrub_paths("/results/1 and /reports/2") == "/results/1 and /reports/2"


def test_a_bad_request_page_from_the_guard_says_what_was_wrong(app):
    from app.request_hygiene import init_app, refuse_control_characters

    if refuse_control_characters not in app.before_request_funcs.get(None, []):
        init_app(app)
    client = english_client(app)
    response = client.get("/", query_string={"partner": "a\x00"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Bad request" in body and "“partner”" in body and "U+0000" in body
