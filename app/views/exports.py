"""Downloads of a partnership's rounds: results tables, answers and comments (coordinators).

Downloads are GET links so that they work as plain links, without JavaScript. Each one still
writes an audit event: the file is built from the published snapshot first (which may publish
a new snapshot in a short transaction of its own), the request's read transaction is then
ended, and the audit event is written and committed in a fresh transaction. On SQLite a read
transaction that outlived another connection's commit could not be turned into a write.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale

from app.auth.access import partnership_role
from app.db import get_session
from app.models import Role, RoundStatus
from app.respond.privacy import comment_threshold
from app.services import exports as service
from app.services.exports import ExportRefused
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
    """Send one file as an attachment and note the download in the audit log."""
    if fmt not in service.formats_for(dataset):
        abort(404)
    db = get_session()
    round_ = round_or_404(round_id)
    try:
        export = service.build_export(db, round_, dataset, fmt, str(get_locale() or "id"),
                                      style=_style())
    except ExportRefused as error:
        flash(str(error), "warning")
        return redirect(url_for("exports.index", partnership_id=partnership_id))
    db.commit()  # end the read transaction; the audit event gets a fresh one
    service.record_export(db, actor(), round_, dataset, fmt, export.rows)
    db.commit()
    return Response(export.body, content_type=export.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"'})


def _style() -> service.CsvStyle:
    """The CSV style asked for with ``?style=``; an unknown value is a 404, not a guess."""
    key = request.args.get("style") or service.STANDARD_CSV.key
    style = service.CSV_STYLES.get(key)
    if style is None:
        abort(404)
    return style
