"""Printable reports: a round's results and a partnership's results over time, for A4.

Each report is one HTML page that prints cleanly from the browser (``report.css``) and the
same template rendered to PDF on the server (:mod:`app.services.pdf`) by a background job
(:mod:`app.jobs`): the PDF links start the job (or find the one already made) and send the
reader to its page, so no request waits seconds for WeasyPrint. Everything printed
comes from the published snapshots, laid out by the presentation layer (:mod:`app.results`,
through :mod:`app.services.reports`) and printed with the same macros as the results pages.
Coordinators, facilitators and observers of the partnership may read them, as they may read
the results pages.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.access import partnership_role
from app.db import get_session
from app.jobs import tasks
from app.jobs.tasks import download_name, over_time_report_html, round_report_html
from app.models import Role, Round, RoundStatus
from app.results.rounds import closed_rounds
from app.results.snapshots import has_results
from app.services.reports import current_language, over_time_report, round_report
from app.views.admin._helpers import actor, round_or_404

bp = Blueprint("reports", __name__)

READERS = (Role.COORDINATOR, Role.FACILITATOR, Role.OBSERVER)
__all__ = ["bp", "download_name"]


def _reported_round(round_id: int) -> Round:
    """A round of ``g.partnership`` that has been opened (a draft has no results)."""
    round_ = round_or_404(round_id)
    if round_.status is RoundStatus.DRAFT:
        abort(404)
    return round_


def _job_page(public_id: str):
    return redirect(url_for("jobs.show", partnership_id=g.partnership.id, job_id=public_id))


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>", endpoint="round")
@partnership_role(*READERS)
def round_report_page(partnership_id: int, round_id: int):
    """The round report, ready for the browser's print command."""
    round_ = _reported_round(round_id)
    db = get_session()
    preparing = tasks.preparing(db, round_)
    if preparing is not None:  # the round just closed: its results are being published
        return render_template("jobs/preparing_page.html", partnership=g.partnership,
                               round=round_, preparing_job=preparing)
    report = round_report(db, g.partnership, round_)
    return round_report_html(g.partnership, round_, report, for_pdf=False)


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>/report.pdf",
        endpoint="round_pdf")
@partnership_role(*READERS)
def round_report_pdf(partnership_id: int, round_id: int):
    """Start (or reuse) the job making the round report's PDF and show its progress."""
    round_ = _reported_round(round_id)
    db = get_session()
    if not has_results(db, round_):
        flash(_("This round has no results to print yet."), "info")
        return redirect(url_for("reports.round", partnership_id=partnership_id,
                                round_id=round_id))
    parameters = tasks.round_report_parameters(g.partnership, round_,
                                               language=current_language(),
                                               base_url=request.url_root)
    db.commit()  # end the read; the job is written in a transaction of its own
    return _job_page(tasks.start_report(g.partnership, actor(), parameters, over_time=False))


@bp.get("/partnerships/<int:partnership_id>/over-time", endpoint="over_time")
@partnership_role(*READERS)
def over_time_page(partnership_id: int):
    """The partnership's results across its closed rounds, ready for print."""
    report = over_time_report(get_session(), g.partnership)
    return over_time_report_html(g.partnership, report, for_pdf=False)


@bp.get("/partnerships/<int:partnership_id>/over-time/report.pdf", endpoint="over_time_pdf")
@partnership_role(*READERS)
def over_time_pdf(partnership_id: int):
    """Start (or reuse) the job making the over-time report's PDF and show its progress."""
    db = get_session()
    answered = [r for r in closed_rounds(g.partnership) if has_results(db, r)]
    if len(answered) < 2:
        flash(_("A report over time needs at least two closed rounds."), "info")
        return redirect(url_for("reports.over_time", partnership_id=partnership_id))
    parameters = tasks.over_time_report_parameters(g.partnership, language=current_language(),
                                                   base_url=request.url_root)
    db.commit()
    return _job_page(tasks.start_report(g.partnership, actor(), parameters, over_time=True))
