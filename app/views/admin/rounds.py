"""Rounds: create and edit, and move them draft -> open -> closed through a confirmation."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from app.auth.access import partnership_role
from app.db import get_session
from app.formutil import choices
from app.i18n import ROUND_STATUS_LABELS
from app.models import Role, RoundStatus
from app.services import rounds as service
from app.services.rounds import RoundError
from app.views.admin import bp
from app.views.admin._helpers import actor, round_or_404
from app.views.admin.forms import RoundForm, RoundScheduleForm, StatusForm


def _version_label(version) -> str:
    return f"{version.title} ({version.slug} v{version.version})"


def _round_form(round_=None) -> RoundForm | RoundScheduleForm:
    """A draft (or new) round gets the full form; a started one only name and dates."""
    if round_ is not None and round_.status is not RoundStatus.DRAFT:
        return RoundScheduleForm(obj=round_)
    form = RoundForm(obj=round_)
    form.questionnaire_version_id.choices = choices(
        (v.id, _version_label(v)) for v in service.questionnaire_versions(get_session()))
    form.partner_ids.choices = choices((p.id, p.name) for p in g.partnership.partners)
    if round_ is not None and request.method == "GET":
        form.partner_ids.data = [p.id for p in round_.partners]
    return form


@bp.route("/partnerships/<int:partnership_id>/rounds/new", methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def new_round(partnership_id: int):
    form = _round_form()
    if form.validate_on_submit():
        db = get_session()
        try:
            round_ = service.create_round(
                db, actor(), g.partnership, name=form.name.data,
                questionnaire_version_id=form.questionnaire_version_id.data,
                opens_on=form.opens_on.data, closes_on=form.closes_on.data,
                partner_ids=list(form.partner_ids.data or []))
        except RoundError as error:
            db.rollback()
            form.name.errors.append(str(error))
        else:
            db.commit()
            flash(_l("The round has been created as a draft."))
            return redirect(url_for("admin.round", partnership_id=partnership_id,
                                    round_id=round_.id))
    return render_template("admin/round_form.html", form=form, partnership=g.partnership,
                           round=None), 400 if form.errors else 200


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>", endpoint="round")
@partnership_role(Role.COORDINATOR)
def round_detail(partnership_id: int, round_id: int):
    """A round's settings, status and the status changes open to it."""
    round_ = round_or_404(round_id)
    return render_template("admin/round.html", partnership=g.partnership, round=round_,
                           targets=service.allowed_targets(round_))


@bp.route("/partnerships/<int:partnership_id>/rounds/<int:round_id>/edit",
          methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def edit_round(partnership_id: int, round_id: int):
    """Edit a round: everything while draft, only name and dates once it has opened."""
    round_ = round_or_404(round_id)
    form = _round_form(round_)
    if form.validate_on_submit():
        db = get_session()
        full = isinstance(form, RoundForm)
        try:
            service.update_round(
                db, actor(), round_, name=form.name.data, opens_on=form.opens_on.data,
                closes_on=form.closes_on.data,
                questionnaire_version_id=form.questionnaire_version_id.data if full else None,
                partner_ids=list(form.partner_ids.data or []) if full else None)
        except RoundError as error:
            db.rollback()
            form.name.errors.append(str(error))
        else:
            db.commit()
            flash(_l("The round has been saved."))
            return redirect(url_for("admin.round", partnership_id=partnership_id,
                                    round_id=round_id))
    return render_template("admin/round_form.html", form=form, partnership=g.partnership,
                           round=round_), 400 if form.errors else 200


@bp.route("/partnerships/<int:partnership_id>/rounds/<int:round_id>/status/<target>",
          methods=["GET", "POST"])
@partnership_role(Role.COORDINATOR)
def round_status(partnership_id: int, round_id: int, target: str):
    """Confirm a status change (GET shows what it means, POST does it)."""
    round_ = round_or_404(round_id)
    try:
        wanted = RoundStatus(target)
    except ValueError:
        abort(404)
    if wanted not in service.allowed_targets(round_):
        if request.method == "POST":
            flash(_l("This status change is not possible now. The round is: %(status)s.",
                     status=ROUND_STATUS_LABELS[round_.status.value]), "warning")
        return redirect(url_for("admin.round", partnership_id=partnership_id, round_id=round_id))
    form = StatusForm()
    reopening = round_.status is RoundStatus.CLOSED
    if form.validate_on_submit():
        db = get_session()
        try:
            service.change_status(db, actor(), round_, wanted, reason=form.reason.data or "")
        except RoundError as error:
            db.rollback()
            form.reason.errors.append(str(error))
        else:
            db.commit()
            flash(_l("The round's status has been changed."))
            return redirect(url_for("admin.round", partnership_id=partnership_id,
                                    round_id=round_id))
    return render_template("admin/round_status.html", form=form, partnership=g.partnership,
                           round=round_, target=wanted, reopening=reopening), \
        400 if form.errors else 200
