"""Error pages in the user's language, never a stack trace.

A server error page must render even when the database is what failed: on PostgreSQL a failed
statement leaves the request's transaction refusing every further query, and a page header
that loads the signed-in user would fail again and turn into a bare "Internal Server Error".
So the request's session is discarded first and the page is drawn without any database
access: the language comes from what is already in memory, and the header is the anonymous
one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request, session
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from werkzeug.exceptions import HTTPException

from app.db import discard_session
from app.request_hygiene import ControlCharacterRefused, MalformedQueryRefused
from app.respond.redact import install_error_log_filter, is_respondent_path, log_respondent_error

bp = Blueprint("errors", __name__)

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please go back and try again."),
    ),
    403: (_l("Not allowed"), _l("Your role does not allow this page.")),
    404: (_l("Not found"), _l("This page does not exist, or you do not have access to it.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("Too large"), _l("The file or form you sent is too large.")),
    429: (_l("Too many attempts"), _l("Please wait a minute before trying again.")),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error happened. Please try again in a moment."),
    ),
}


@bp.record_once
def _keep_time_of_day_out_of_respondent_errors(state: Any) -> None:
    install_error_log_filter(state.app)


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    if request.path.startswith("/api/"):
        # URLs the router could not match never reach the API blueprint's own handlers.
        from app.views.api import json_http_error

        return json_http_error(error)
    code = error.code or 500
    title, message = MESSAGES.get(code, (error.name, error.description))
    if isinstance(error, ControlCharacterRefused | MalformedQueryRefused):
        message = error.message()
    if code >= 500:
        return _server_error_page(code, title, message)
    return render_template("errors/error.html", code=code, title=title, message=message), code


@bp.app_errorhandler(Exception)
def unexpected_error(error: Exception):
    if isinstance(error, HTTPException):
        return http_error(error)
    if is_respondent_path(request.path):
        log_respondent_error(error)
    else:
        current_app.logger.exception("Unhandled error")
    title, message = MESSAGES[500]
    return _server_error_page(500, title, message)


def _server_error_page(code: int, title: Any, message: Any):
    """Render the error page with no database access at all (see the module docstring)."""
    language = _language_in_memory()
    discard_session()
    # Flask-Login loads the user on first use of current_user; an anonymous one never queries.
    g._login_user = current_app.login_manager.anonymous_user()
    with force_locale(language):
        page = render_template("errors/error.html", code=code, title=title, message=message,
                               page_language=language)
    return page, code


def _language_in_memory() -> str:
    """The page language as the locale selector would pick it, from memory only.

    The session's choice first, then the signed-in user's profile language if the user was
    already loaded during the request (read from the loaded state, never from the database).
    """
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    if state is not None:
        language = state.dict.get("language")
        if language in languages:
            return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]
