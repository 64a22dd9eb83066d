"""The one-page summary of a round: a print page for A4 and its PDF, made by a background job.

Parse, call :mod:`app.services.summary`, render. The page prints from the browser
(``summary.css``: ``@page`` A4, one sheet); the PDF links start (or find) the job that
renders the same template with WeasyPrint, in Indonesian or English, and send the reader to
the job's page. Readers are the partnership's coordinators, facilitators and observers, as
for the printable report.

Coordinators share the page back with the respondents (:mod:`app.services.summary_sharing`):
the public copy is ``/summary/s?token=...`` (a query string, because the access logs keep
paths only, so the token never reaches a log) and, for a respondent whose code or partner
link named a shared round, ``/summary/s/round`` (the round is in the session, nothing else).
Both paths count as respondent paths for the logs (no address is written) and are never
cached.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from app.auth.access import partnership_role, public
from app.db import get_session
from app.models import Role, Round, RoundStatus
from app.services.reports import current_language
from app.services.summary import (
    register_summary_job,
    round_summary,
    start_summary_pdf,
    summary_html,
    summary_parameters,
)
from app.services.summary_sharing import (
    RESPONDENT_SESSION_KEY,
    make_link,
    revoke_link,
    set_sharing,
    shared_round,
    shared_round_by_token,
)
from app.views.admin._helpers import actor, round_or_404
from app.views.admin.forms import ConfirmForm

bp = Blueprint("summary", __name__)

READERS = (Role.COORDINATOR, Role.FACILITATOR, Role.OBSERVER)
LANGUAGES = ("id", "en")


@bp.record_once
def _register_job(_state: Any) -> None:
    """The PDF job's task lives with the summary; the job system learns it here."""
    register_summary_job()


def _summarised_round(round_id: int) -> Round:
    """A round of ``g.partnership`` that has been opened (a draft has nothing to sum up)."""
    round_ = round_or_404(round_id)
    if round_.status is RoundStatus.DRAFT:
        abort(404)
    return round_


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>", endpoint="round")
@partnership_role(*READERS)
def round_page(partnership_id: int, round_id: int):
    """The one-page summary, ready for the browser's print command."""
    round_ = _summarised_round(round_id)
    summary = round_summary(get_session(), round_, current_language())
    return summary_html(summary, for_pdf=False, form=ConfirmForm(),
                        can_share=g.role is Role.COORDINATOR)


def _back(round_: Round):
    return redirect(url_for(".round", partnership_id=g.partnership.id, round_id=round_.id), 303)


def _checked_form() -> bool:
    form = ConfirmForm()
    if form.validate_on_submit():
        return True
    flash(_("The form had expired. Please try again."), "error")
    return False


@bp.post("/partnerships/<int:partnership_id>/rounds/<int:round_id>/share", endpoint="share")
@partnership_role(Role.COORDINATOR)
def share(partnership_id: int, round_id: int):
    """Turn sharing with the respondents on."""
    round_ = _summarised_round(round_id)
    if _checked_form() and set_sharing(get_session(), round_, actor(), True, date.today()):
        get_session().commit()
        flash(_("The summary is now shared with the respondents."), "success")
    return _back(round_)


@bp.post("/partnerships/<int:partnership_id>/rounds/<int:round_id>/unshare",
         endpoint="unshare")
@partnership_role(Role.COORDINATOR)
def unshare(partnership_id: int, round_id: int):
    """Turn sharing off: codes, partner links and the public link stop showing the summary."""
    round_ = _summarised_round(round_id)
    if _checked_form() and set_sharing(get_session(), round_, actor(), False,
                                             date.today()):
        get_session().commit()
        flash(_("The summary is no longer shared."), "success")
    return _back(round_)


@bp.post("/partnerships/<int:partnership_id>/rounds/<int:round_id>/link", endpoint="link")
@partnership_role(Role.COORDINATOR)
def link(partnership_id: int, round_id: int):
    """Make (or replace) the public link and show it this once."""
    round_ = _summarised_round(round_id)
    if not _checked_form():
        return _back(round_)
    token = make_link(get_session(), round_, actor())
    get_session().commit()
    # A page of its own, not the summary: nothing is computed in this write request.
    response = make_response(render_template(
        "summary/new_link.html", partnership=g.partnership, round=round_,
        new_link=url_for(".shared_link", token=token, _external=True)))
    response.headers["Cache-Control"] = "no-store"  # the token is shown this once
    return response


@bp.post("/partnerships/<int:partnership_id>/rounds/<int:round_id>/link/revoke",
         endpoint="revoke_link")
@partnership_role(Role.COORDINATOR)
def revoke(partnership_id: int, round_id: int):
    """Stop the public link; codes and partner links keep working while sharing is on."""
    round_ = _summarised_round(round_id)
    if _checked_form() and revoke_link(get_session(), round_, actor()):
        get_session().commit()
        flash(_("The public link has been revoked."), "success")
    return _back(round_)


# --------------------------------------------------------------------------- respondents


def _shared_page(round_: Round | None):
    if round_ is None:
        abort(404)
    summary = round_summary(get_session(), round_, current_language())
    response = make_response(summary_html(summary, for_pdf=False,
                                          template="summary/shared.html"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/s", endpoint="shared_link")
@public
def shared_link():
    """The public copy, for anyone with the link the coordinator made (``?token=``)."""
    return _shared_page(shared_round_by_token(get_session(), request.args.get("token")))


@bp.get("/s/round", endpoint="shared_round")
@public
def shared_for_respondent():
    """The copy a respondent reaches from their code or partner link (the session names
    the round, set by the respondent pages; nothing names the code or an answer)."""
    return _shared_page(shared_round(get_session(), session.get(RESPONDENT_SESSION_KEY)))


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>/summary.pdf",
        endpoint="pdf")
@partnership_role(*READERS)
def round_pdf(partnership_id: int, round_id: int):
    """Start (or reuse) the job making the summary's PDF (``?lang=id|en``); show its page."""
    round_ = _summarised_round(round_id)
    language = request.args.get("lang")
    if language not in LANGUAGES:
        language = current_language()
    db = get_session()
    parameters = summary_parameters(db, round_, language=language, base_url=request.url_root)
    db.commit()  # end the read; the job is written in a transaction of its own
    job_id = start_summary_pdf(round_, actor(), parameters)
    return redirect(url_for("jobs.show", partnership_id=g.partnership.id, job_id=job_id))
