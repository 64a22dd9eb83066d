"""Error pages in the user's language, never a stack trace."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

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


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    if request.path.startswith("/api/"):
        # URLs the router could not match never reach the API blueprint's own handlers.
        from app.views.api import json_http_error

        return json_http_error(error)
    code = error.code or 500
    title, message = MESSAGES.get(code, (error.name, error.description))
    return render_template("errors/error.html", code=code, title=title, message=message), code


@bp.app_errorhandler(Exception)
def unexpected_error(error: Exception):
    from flask import current_app

    if isinstance(error, HTTPException):
        return http_error(error)
    current_app.logger.exception("Unhandled error")
    title, message = MESSAGES[500]
    return render_template("errors/error.html", code=500, title=title, message=message), 500
