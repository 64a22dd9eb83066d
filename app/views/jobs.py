"""Job pages: the progress of a background job, then its file or what it did.

A job is shown only to the person who started it and to site administrators (a job the
system started, such as publishing a closed round's results, to every reader of the
partnership); to anyone else it does not exist (404). Each page answers at once: the work
runs elsewhere (:mod:`app.jobs`). The page polls :func:`status` every second with a small
script, or refreshes itself without JavaScript.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import partnership_role
from app.db import get_session
from app.jobs import files, queue, tasks
from app.models import Job, JobState, Role, Round
from app.services import exports
from app.views.admin._helpers import actor

bp = Blueprint("jobs", __name__)

READERS = (Role.COORDINATOR, Role.FACILITATOR, Role.OBSERVER)


def _job_or_404(job_id: str) -> Job:
    job = queue.job_in(get_session(), g.partnership.id, job_id)
    if job is None or not queue.may_see(job, current_user):
        abort(404)
    return job


def _has_file(job: Job) -> bool:
    return job.state is JobState.DONE and job.result_file is not None and \
        files.path_of(job.result_file).is_file()


def _links(job: Job) -> dict[str, str | None]:
    """Where the job came from ("back") and how to ask for it again ("again")."""
    p, params = g.partnership.id, job.parameters or {}
    round_id = params.get("round_id")
    if job.kind == tasks.REPORT_ROUND:
        return {"back": url_for("reports.round", partnership_id=p, round_id=round_id),
                "again": url_for("reports.round_pdf", partnership_id=p, round_id=round_id)}
    if job.kind == tasks.REPORT_OVER_TIME:
        return {"back": url_for("reports.over_time", partnership_id=p),
                "again": url_for("reports.over_time_pdf", partnership_id=p)}
    if job.kind == tasks.EXPORT:
        style = {} if params.get("style") in (None, "standard") else {"style": params["style"]}
        return {"back": url_for("exports.index", partnership_id=p),
                "again": url_for("exports.download", partnership_id=p, round_id=round_id,
                                 dataset=params.get("dataset"), fmt=params.get("fmt"),
                                 **style)}
    if job.kind == tasks.PAPER_STORE:
        return {"back": url_for("fieldwork.round", partnership_id=p, round_id=round_id),
                "again": url_for("paper.upload", partnership_id=p, round_id=round_id)}
    return {"back": url_for("results.round", partnership_id=p, round_id=round_id),
            "again": None}


def _status(job: Job) -> dict[str, Any]:
    return {"state": job.state.value, "progress": 100 if job.state is JobState.DONE
            else job.progress, "finished": job.finished}


@bp.get("/partnerships/<int:partnership_id>/<job_id>", endpoint="show")
@partnership_role(*READERS)
def show(partnership_id: int, job_id: str):
    """The job's progress; when done, its file (or what it did); when failed, why."""
    job = _job_or_404(job_id)
    if queue.is_stale(job):
        queue.maybe_sweep()
    round_ = get_session().get(Round, (job.parameters or {}).get("round_id") or 0)
    return render_template(
        "jobs/show.html", partnership=g.partnership, job=job, status=_status(job),
        title=tasks.TITLES.get(job.kind, _("Background job")), round=round_,
        has_file=_has_file(job), expired=job.state is JobState.DONE and not _has_file(job)
        and job.result_type is not None, links=_links(job), outcome=job.outcome or {})


@bp.get("/partnerships/<int:partnership_id>/<job_id>/status", endpoint="status")
@partnership_role(*READERS)
def status(partnership_id: int, job_id: str):
    """The job's state and progress as JSON, for the page's script."""
    job = _job_or_404(job_id)
    if queue.is_stale(job):
        queue.maybe_sweep()
    response = jsonify(_status(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/partnerships/<int:partnership_id>/<job_id>/file", endpoint="download")
@partnership_role(*READERS)
def download(partnership_id: int, job_id: str):
    """Send the job's file; downloads of answers and results are noted in the audit log."""
    job = _job_or_404(job_id)
    if not _has_file(job):
        if job.state is JobState.DONE:
            flash(_("This file has expired. Ask for it again to make a new one."), "info")
        elif not job.finished:
            flash(_("The file is not ready yet."), "info")
        return redirect(url_for("jobs.show", partnership_id=partnership_id, job_id=job_id))
    path = files.path_of(job.result_file)  # type: ignore[arg-type]
    if job.kind == tasks.EXPORT:
        _record_download(job)
    response = send_file(path, mimetype=job.result_type, as_attachment=True,
                         download_name=job.result_name, max_age=0, conditional=False)
    name = job.result_name or ""
    if name.isascii() and not any(ch in name for ch in '"\\/\r\n;'):
        # Names are made by the server from ids and ASCII slugs: quote them as before.
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _record_download(job: Job) -> None:
    db = get_session()
    params, outcome = job.parameters or {}, job.outcome or {}
    round_ = db.get(Round, params.get("round_id") or 0)
    db.commit()  # end the read transaction; the audit event gets a fresh one
    if round_ is None:
        return
    exports.record_export(db, actor(), round_, params.get("dataset", ""), params.get("fmt", ""),
                          int(outcome.get("rows", 0)))
    db.commit()
