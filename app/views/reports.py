"""Printable reports: a round's results and a partnership's results over time, for A4.

Each report is one HTML page that prints cleanly from the browser (``report.css``) and the
same template rendered to PDF on the server (:mod:`app.services.pdf`). Everything printed
comes from the published snapshots, laid out by the presentation layer (:mod:`app.results`,
through :mod:`app.services.reports`) and printed with the same macros as the results pages.
Coordinators, facilitators and observers of the partnership may read them, as they may read
the results pages.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from app.auth.access import partnership_role
from app.db import get_session
from app.models import Role, Round, RoundStatus
from app.results.templating import display_context
from app.services.reports import (
    OverTimeReport,
    RoundReport,
    over_time_report,
    over_time_snapshot_for_report,
    round_report,
    round_snapshot_for_report,
)
from app.views.admin._helpers import round_or_404

bp = Blueprint("reports", __name__)

READERS = (Role.COORDINATOR, Role.FACILITATOR, Role.OBSERVER)


def _reported_round(round_id: int) -> Round:
    """A round of ``g.partnership`` that has been opened (a draft has no results)."""
    round_ = round_or_404(round_id)
    if round_.status is RoundStatus.DRAFT:
        abort(404)
    return round_


def download_name(*parts: str) -> str:
    """A download name made here from the names (ASCII only), never taken from the request."""
    slug = secure_filename("-".join(parts)).lower().replace("_", "-")
    return f"mitra-sehat-{slug or 'report'}.pdf"


def _render_round(round_: Round, report: RoundReport, *, for_pdf: bool) -> str:
    return render_template("reports/round.html", partnership=g.partnership, round=round_,
                           report=report, results=report.results, for_pdf=for_pdf,
                           **report.panels, ctx=report.view, k=report.k,
                           **display_context(report.language))


def _render_over_time(report: OverTimeReport, *, for_pdf: bool) -> str:
    return render_template("reports/over_time.html", partnership=g.partnership, report=report,
                           results=report.results, for_pdf=for_pdf, **report.panels,
                           k=report.k, **display_context(report.language))


def _pdf_response(key: str, html: Callable[[], str], filename: str) -> Response:
    """The cached PDF of ``html()`` as a download. WeasyPrint (and the Pango library under it)
    loads with the first PDF, not when the app starts: 0.65 s and a system library that
    pages do not need."""
    from app.services import pdf

    data = pdf.cached_pdf(key, html, base_url=request.url_root,
                          static_url_path=url_for("static", filename=""))
    return pdf.pdf_response(data, filename)


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>", endpoint="round")
@partnership_role(*READERS)
def round_report_page(partnership_id: int, round_id: int):
    """The round report, ready for the browser's print command."""
    round_ = _reported_round(round_id)
    report = round_report(get_session(), g.partnership, round_)
    return _render_round(round_, report, for_pdf=False)


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>/report.pdf",
        endpoint="round_pdf")
@partnership_role(*READERS)
def round_report_pdf(partnership_id: int, round_id: int):
    """The round report as a PDF made on the server (cached per snapshot and language).

    The report and its charts are built only when the PDF is not in the cache yet.
    """
    round_ = _reported_round(round_id)
    snapshot = round_snapshot_for_report(get_session(), g.partnership, round_)
    if not snapshot.has_results:
        flash(_("This round has no results to print yet."), "info")
        return redirect(url_for("reports.round", partnership_id=partnership_id,
                                round_id=round_id))
    return _pdf_response(snapshot.key, lambda: _render_round(
        round_, round_report(get_session(), g.partnership, round_, snapshot), for_pdf=True),
        download_name(g.partnership.name, round_.name))


@bp.get("/partnerships/<int:partnership_id>/over-time", endpoint="over_time")
@partnership_role(*READERS)
def over_time_page(partnership_id: int):
    """The partnership's results across its closed rounds, ready for print."""
    report = over_time_report(get_session(), g.partnership)
    return _render_over_time(report, for_pdf=False)


@bp.get("/partnerships/<int:partnership_id>/over-time/report.pdf", endpoint="over_time_pdf")
@partnership_role(*READERS)
def over_time_pdf(partnership_id: int):
    """The over-time report as a PDF made on the server (cached like the round report)."""
    snapshot = over_time_snapshot_for_report(get_session(), g.partnership)
    if not snapshot.has_results:
        flash(_("A report over time needs at least two closed rounds."), "info")
        return redirect(url_for("reports.over_time", partnership_id=partnership_id))
    return _pdf_response(snapshot.key, lambda: _render_over_time(
        over_time_report(get_session(), g.partnership, snapshot), for_pdf=True),
        download_name(g.partnership.name, _("over time")))
