"""What each kind of background job does, and how the views start one.

Every task reads what it needs through ``context.session`` (a reading session), reports
progress, and either saves one file or says what it did (``context.outcome``). A task is
deterministic for its job: run again after a crash, it makes the same file (answer rows are
shuffled with a seed derived from the job, not drawn afresh).

Kinds:

* ``report.round`` / ``report.over_time``: the printable report as a PDF (WeasyPrint),
  rendered from the same template as the report page, in the language it was asked in;
* ``export``: a results, answers or comments download (:mod:`app.services.exports`);
* ``paper.store``: storing a confirmed paper-answer upload, checked again against the round
  as it is now, with the job marked done in the transaction that stores the answers;
* ``results.snapshot``: publishing a round's results (and the partnership's results over
  time) right after the round closes, so the first reader does not wait for them.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import Flask, g, render_template, session, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from app.db import new_session
from app.jobs.queue import active_job, enqueue, start
from app.jobs.runner import JobContext, JobFailed
from app.models import Job, PaperUpload, Partnership, Round, RoundStatus, User
from app.results.rounds import closed_rounds
from app.results.templating import display_context
from app.services import exports, paper_import
from app.services.reports import (
    REPORT_LAYOUT_VERSION,
    OverTimeReport,
    RoundReport,
    over_time_report,
    over_time_snapshot_for_report,
    round_report,
    round_snapshot_for_report,
)
from app.services.results import ANALYSIS_VERSION, over_time_for, response_count, round_results_for

REPORT_ROUND = "report.round"
REPORT_OVER_TIME = "report.over_time"
EXPORT = "export"
PAPER_STORE = "paper.store"
SNAPSHOT = "results.snapshot"

TITLES = {
    REPORT_ROUND: _l("Round report as PDF"),
    REPORT_OVER_TIME: _l("Report over time as PDF"),
    EXPORT: _l("Download"),
    PAPER_STORE: _l("Storing paper answers"),
    SNAPSHOT: _l("Preparing the round's results"),
}
GONE = _l("This upload has expired, was replaced by a newer one or was already imported. "
          "Nothing was stored: upload the file again to see what it holds.")
CHANGED = _l("The responses of this round changed since the preview, so nothing was stored. "
             "Upload the file again to see the new figures and confirm them.")
NO_ROUND = _l("This round no longer exists.")
PROBLEMS_LISTED = 5


# --------------------------------------------------------------------------- report pages


def download_name(*parts: str) -> str:
    """A download name made here from the names (ASCII only), never taken from the request."""
    slug = secure_filename("-".join(parts)).lower().replace("_", "-")
    return f"mitra-sehat-{slug or 'report'}.pdf"


def round_report_html(partnership: Partnership, round_: Round, report: RoundReport, *,
                      for_pdf: bool) -> str:
    """The round report, for the page or (``for_pdf``, no screen toolbar) the PDF."""
    return render_template("reports/round.html", partnership=partnership, round=round_,
                           report=report, results=report.results, for_pdf=for_pdf,
                           **report.panels, ctx=report.view, k=report.k,
                           **display_context(report.language))


def over_time_report_html(partnership: Partnership, report: OverTimeReport, *,
                          for_pdf: bool) -> str:
    """The over-time report, for the page or (``for_pdf``) the PDF."""
    return render_template("reports/over_time.html", partnership=partnership, report=report,
                           results=report.results, for_pdf=for_pdf, **report.panels,
                           k=report.k, **display_context(report.language))


def _partners(partnership: Partnership) -> list[list[Any]]:
    return [[p.id, p.name, p.sector.value] for p in partnership.partners]


def round_report_parameters(partnership: Partnership, round_: Round, *, language: str,
                            base_url: str) -> dict[str, Any]:
    """Everything the round report depends on, read without computing any result."""
    return {"round_id": round_.id, "language": language, "base_url": base_url,
            "round": [round_.name, round_.results_version, round_.questionnaire_version_id,
                      round_.status.value],
            "partnership": partnership.name, "k": partnership.min_group_size,
            "partners": _partners(partnership),
            "versions": [ANALYSIS_VERSION, REPORT_LAYOUT_VERSION]}


def over_time_report_parameters(partnership: Partnership, *, language: str,
                                base_url: str) -> dict[str, Any]:
    """Everything the over-time report depends on: the closed rounds and the names."""
    return {"language": language, "base_url": base_url,
            "rounds": [[r.id, r.name, r.results_version, r.questionnaire_version_id]
                       for r in closed_rounds(partnership)],
            "partnership": partnership.name, "k": partnership.min_group_size,
            "partners": _partners(partnership),
            "versions": [ANALYSIS_VERSION, REPORT_LAYOUT_VERSION]}


# --------------------------------------------------------------------------- starting jobs


def start_report(partnership: Partnership, user: User, parameters: Mapping[str, Any], *,
                 over_time: bool) -> str:
    """Start (or reuse) a PDF report job; returns the job's public id."""
    return start(kind=REPORT_OVER_TIME if over_time else REPORT_ROUND, parameters=parameters,
                 partnership_id=partnership.id, user=user)


def start_export(round_: Round, user: User, *, dataset: str, fmt: str,
                 style: exports.CsvStyle, language: str) -> str:
    """Start (or reuse) a download job; returns the job's public id."""
    partnership = round_.partnership
    # Everything the file shows: a renamed partner or a new response is a new file.
    parameters = {"round_id": round_.id, "dataset": dataset, "fmt": fmt, "style": style.key,
                  "language": language, "results_version": round_.results_version,
                  "status": round_.status.value, "k": partnership.min_group_size,
                  "partners": _partners(partnership),
                  "versions": [ANALYSIS_VERSION, round_.questionnaire_version_id]}
    return start(kind=EXPORT, parameters=parameters, partnership_id=round_.partnership_id,
                 user=user)


def upload_identity(db: Session, upload_id: int) -> str | None:
    """What names a held upload for good: its token's hash (ids of deleted rows come back on
    SQLite; a random token's hash does not, so a later upload is never taken for an earlier,
    already stored one)."""
    return db.scalar(select(PaperUpload.token_hash).where(PaperUpload.id == upload_id))


def start_paper_store(round_: Round, user: User, *, upload_id: int, upload: str | None,
                      confirm_closed: bool, note: str | None, language: str) -> str:
    """Start (or reuse) storing a confirmed upload; a double click gets the same job."""
    token_hash = upload
    parameters = {"round_id": round_.id, "upload_id": upload_id, "upload": token_hash,
                  "confirm_closed": confirm_closed, "note": note or "", "language": language}
    return start(kind=PAPER_STORE, parameters=parameters, partnership_id=round_.partnership_id,
                 user=user)


def snapshot_parameters(round_: Round) -> dict[str, Any]:
    return {"round_id": round_.id, "results_version": round_.results_version}


def enqueue_snapshot(db: Session, round_: Round) -> Job:
    """Queue publishing the round's results; runs once the caller's transaction commits."""
    return enqueue(db, kind=SNAPSHOT, parameters=snapshot_parameters(round_),
                   partnership_id=round_.partnership_id)


def preparing(db: Session, round_: Round) -> Job | None:
    """The snapshot job still working on this round's current results, if there is one.

    A page showing this (instead of computing the results itself) says the results are being
    prepared; once it is done, or if it went silent, the page computes as before.
    """
    from app.jobs.queue import is_stale

    job = active_job(db, round_.partnership_id, SNAPSHOT, snapshot_parameters(round_))
    return None if job is None or is_stale(job) else job


# --------------------------------------------------------------------------- tasks


def _round(context: JobContext) -> tuple[Partnership, Round]:
    round_ = context.session.get(Round, context.parameters.get("round_id"))
    if round_ is None or round_.partnership_id != context.partnership_id:
        raise JobFailed(str(NO_ROUND))
    return round_.partnership, round_


@contextmanager
def _report_request(context: JobContext) -> Iterator[None]:
    """A request like the one that asked for the report: its address (links, static files),
    its language and its signed-in user, so the PDF is what the page would print."""
    with context.app.test_request_context("/", base_url=context.parameters["base_url"]):
        session["lang"] = context.language
        if context.user_id is not None:
            g._login_user = context.session.get(User, context.user_id)
        yield


def _render_pdf(context: JobContext, key: str, html: Callable[[], str]) -> bytes:
    from app.services import pdf  # WeasyPrint and Pango load in workers only

    return pdf.cached_pdf(key, html, base_url=context.parameters["base_url"],
                          static_url_path=url_for("static", filename=""))


def round_report_task(context: JobContext) -> None:
    partnership, round_ = _round(context)
    with _report_request(context):
        snapshot = round_snapshot_for_report(context.session, partnership, round_)
        if not snapshot.has_results:
            raise JobFailed(gettext("This round has no results to print yet."))
        context.progress(20)
        report = round_report(context.session, partnership, round_, snapshot)
        context.progress(50)
        data = _render_pdf(context, snapshot.key, lambda: round_report_html(
            partnership, round_, report, for_pdf=True))
    context.save(data, "pdf", "application/pdf", download_name(partnership.name, round_.name))


def over_time_report_task(context: JobContext) -> None:
    partnership = context.session.get(Partnership, context.partnership_id)
    if partnership is None:
        raise JobFailed(str(NO_ROUND))
    with _report_request(context):
        snapshot = over_time_snapshot_for_report(context.session, partnership)
        if not snapshot.has_results:
            raise JobFailed(gettext("A report over time needs at least two closed rounds."))
        context.progress(20)
        report = over_time_report(context.session, partnership, snapshot)
        context.progress(50)
        data = _render_pdf(context, snapshot.key, lambda: over_time_report_html(
            partnership, report, for_pdf=True))
    context.save(data, "pdf", "application/pdf",
                 download_name(partnership.name, gettext("over time")))


def shuffle_seed(app: Flask, public_id: str) -> int:
    """The seed of a job's row order: fixed for the job (a retry makes the same file),
    unrelated between jobs, and not computable from the job's public id alone."""
    key = str(app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"export-rows:{public_id}".encode(), hashlib.sha256)
    return int.from_bytes(digest.digest()[:8], "big")


def export_task(context: JobContext) -> None:
    _, round_ = _round(context)
    parameters = context.parameters
    style = exports.CSV_STYLES.get(parameters["style"], exports.STANDARD_CSV)
    rows_order = random.Random(shuffle_seed(context.app, context.public_id))
    try:
        export = exports.build_export(
            context.session, round_, parameters["dataset"], parameters["fmt"],
            context.language, style=style, rng=rows_order)
    except exports.ExportRefused as error:
        raise JobFailed(str(error)) from None
    context.progress(80)
    context.save(export.body, parameters["fmt"], export.mimetype, export.filename)
    context.outcome = {"rows": export.rows, "round_id": round_.id,
                       "dataset": parameters["dataset"], "fmt": parameters["fmt"]}


def _problems(error: paper_import.PaperImportError) -> str:
    shown = [str(problem) for problem in error.problems[:PROBLEMS_LISTED]]
    total = error.total if error.total is not None else len(error.problems)
    head = ngettext("The file no longer fits this round: %(num)d problem. Nothing was stored.",
                    "The file no longer fits this round: %(num)d problems. Nothing was stored.",
                    total)
    return "\n".join([head, *shown])


def paper_store_task(context: JobContext) -> None:
    _, round_ = _round(context)
    parameters = context.parameters
    row = context.session.get(PaperUpload, parameters["upload_id"])
    if row is None or row.round_id != round_.id or row.user_id != context.user_id \
            or row.token_hash != parameters.get("upload"):
        raise JobFailed(str(GONE))
    held = paper_import.HeldUpload(row.id, row.data, row.filename, row.language, row.again,
                                   row.sha256, row.results_version)
    try:
        target = paper_import.load_import_target(context.session, round_)
    except paper_import.ImportRefused as error:
        raise JobFailed(str(error)) from None
    context.session.commit()  # nothing is locked while the file is checked
    context.progress(10)
    try:
        checked = paper_import.check_paper_file(target, io.BytesIO(held.data),
                                                filename=held.filename,
                                                default_language=held.language)
    except paper_import.PaperImportError as error:
        raise JobFailed(_problems(error)) from None
    except paper_import.ImportRefused as error:
        raise JobFailed(str(error)) from None
    context.progress(50)
    # A request context like the confirming request's, so the audit log says "web" as it
    # did when the answers were stored inside that request.
    with checked, context.app.test_request_context("/"), new_session(write=True) as writer:
        preview = paper_import.preview_import(writer, checked)
        if preview.closed and held.results_version != preview.results_version:
            raise JobFailed(str(CHANGED))
        confirm_closed = preview.closed and bool(parameters.get("confirm_closed"))
        if preview.closed and not confirm_closed:
            raise JobFailed(gettext(
                "Tick this box to change the published results of this closed round."))
        if not paper_import.release_upload(writer, held):
            raise JobFailed(str(GONE))
        try:
            summary = paper_import.store_paper_responses(
                writer, checked, today=date.today(), actor=writer.get(User, context.user_id),
                again=held.again, confirm_closed=confirm_closed,
                revision_note=parameters.get("note") or None if preview.closed else None)
        except paper_import.ImportRefused as error:
            raise JobFailed(str(error)) from None
        context.outcome = {"responses": summary.responses, "revised": summary.revised,
                           "round_id": round_.id}
        context.mark_done(writer)
        writer.commit()


def snapshot_task(context: JobContext) -> None:
    _, round_ = _round(context)
    if round_.status is RoundStatus.DRAFT or not response_count(context.session, round_):
        context.outcome = {"round_id": round_.id}
        return
    context.progress(10)
    round_results_for(context.session, round_)
    if round_.status is RoundStatus.CLOSED:
        context.progress(60)
        over_time_for(context.session, round_.partnership)
    context.outcome = {"round_id": round_.id}


TASKS: dict[str, Callable[[JobContext], None]] = {
    REPORT_ROUND: round_report_task,
    REPORT_OVER_TIME: over_time_report_task,
    EXPORT: export_task,
    PAPER_STORE: paper_store_task,
    SNAPSHOT: snapshot_task,
}
