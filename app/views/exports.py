"""Downloads of a partnership's rounds: results tables, answers and comments (coordinators).

Downloads are GET links so that they work as plain links, without JavaScript. A large round's
file takes seconds to build, so a link checks only that the download is available, starts a
background job (or finds the one already making the same file for this person) and sends the
reader to the job's page, which offers the file when it is ready (:mod:`app.views.jobs`).
Every download of the file is written to the audit log there.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.auth.access import partnership_role
from app.db import get_session
from app.jobs import tasks
from app.models import Role, RoundStatus
from app.respond.privacy import comment_threshold
from app.results.snapshots import has_results
from app.services import exports as service
from app.services.results import response_count
from app.views.admin._helpers import actor, round_or_404

bp = Blueprint("exports", __name__)

DATASET_CONVERTER = "any(" + ", ".join(service.DATASETS) + ")"
FORMAT_CONVERTER = "any(" + ", ".join(service.FORMATS) + ")"


@bp.get("/partnerships/<int:partnership_id>")
@partnership_role(Role.COORDINATOR)
def index(partnership_id: int):
    """List every round of the partnership with the downloads it offers."""
    db = get_session()
    rounds = [r for r in g.partnership.rounds if r.status is not RoundStatus.DRAFT]
    counts = {r.id: response_count(db, r) for r in rounds}
    return render_template(
        "exports/index.html", partnership=g.partnership, rounds=rounds, counts=counts,
        datasets=service.DATASETS, formats_for=service.formats_for,
        available=service.available, style=_style().key,
        k=g.partnership.min_group_size,
        comment_threshold=comment_threshold(g.partnership.min_group_size))


@bp.get(f"/partnerships/<int:partnership_id>/rounds/<int:round_id>/"
        f"<{DATASET_CONVERTER}:dataset>.<{FORMAT_CONVERTER}:fmt>")
@partnership_role(Role.COORDINATOR)
def download(partnership_id: int, round_id: int, dataset: str, fmt: str):
    """Start (or reuse) the job making this file and show its progress."""
    if fmt not in service.formats_for(dataset):
        abort(404)
    db = get_session()
    round_ = round_or_404(round_id)
    style = _style()
    language = str(get_locale() or "id")
    refused = _refused(db, round_, dataset)
    if refused:
        flash(refused, "warning")
        return redirect(url_for("exports.index", partnership_id=partnership_id))
    db.commit()  # end the read; the job is written in a transaction of its own
    job_id = tasks.start_export(round_, actor(), dataset=dataset, fmt=fmt, style=style,
                                language=language)
    return redirect(url_for("jobs.show", partnership_id=partnership_id, job_id=job_id))


def _refused(db, round_, dataset: str) -> str | None:
    """Why this download cannot be made now (the checks the job repeats), or None."""
    if not service.available(round_, dataset):
        return (_("Answers and comments can be downloaded once the round is closed.")
                if round_.status is not RoundStatus.DRAFT
                else _("A draft round has nothing to download yet."))
    if not has_results(db, round_):
        return _("This round has no responses yet.")
    return None


def _style() -> service.CsvStyle:
    """The CSV style asked for with ``?style=``; an unknown value is a 404, not a guess."""
    key = request.args.get("style") or service.STANDARD_CSV.key
    style = service.CSV_STYLES.get(key)
    if style is None:
        abort(404)
    return style
