"""Follow-up pages: workshops of a round, their actions, the action and commitments registers.

Facilitators and coordinators record and edit; observers read. Every route is parse → call a
service (:mod:`app.services.workshops`, :mod:`app.services.actions`,
:mod:`app.services.commitments`) → render; impact lines come from
:mod:`app.results.impact`, which reads the published over-time snapshot.

Quick action entry works as a plain form POST (the page reloads with the new row); with
``app/static/followup.js`` the same POST is sent by ``fetch`` with the CSRF token and answers
with the rendered row as JSON, so a facilitator keeps typing without a reload.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.access import ALL_ROLES, partnership_role
from app.db import get_session
from app.forms import Form
from app.formutil import choices
from app.i18n import select_locale
from app.models import (
    Action,
    ActionStatus,
    Membership,
    Partnership,
    Role,
    Round,
    RoundStatus,
    User,
    Workshop,
)
from app.results.impact import action_impacts
from app.results.templating import display_context
from app.services import actions as action_service
from app.services import commitments as commitment_service
from app.services import followup_export
from app.services import workshops as workshop_service
from app.services.actions import ActionInput, RegisterFilters
from app.services.commitments import CommitmentInput
from app.services.followup import (
    ACTION_STATUS_LABELS,
    COMMITMENT_KIND_LABELS,
    DELIVERY_STATUS_LABELS,
    MAX_CHECKLIST_TEXT,
    MAX_NOTES,
    MAX_SHORT,
    MAX_TEXT,
    OWNER_ROLE_LABELS,
    REVIEW_STATUSES,
    FollowupError,
    previous_round,
    questionnaire_of,
    round_order,
    target_label,
    targets,
)
from app.services.followup_ratings import commitment_ratings
from app.views.admin._helpers import actor, round_or_404

bp = Blueprint("followup", __name__)

EDITORS = (Role.COORDINATOR, Role.FACILITATOR)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"ACTION_STATUS_LABELS": ACTION_STATUS_LABELS,
            "COMMITMENT_KIND_LABELS": COMMITMENT_KIND_LABELS,
            "DELIVERY_STATUS_LABELS": DELIVERY_STATUS_LABELS,
            "OWNER_ROLE_LABELS": OWNER_ROLE_LABELS}


# --------------------------------------------------------------------------- forms


class WorkshopForm(Form):
    held_on = DateField(_l("Date"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=MAX_SHORT)])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=MAX_SHORT)])
    facilitator_id = SelectField(_l("Facilitator"), coerce=int, validate_choice=True)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=MAX_NOTES)])


def _workshop_form(round_: Round, workshop: Workshop | None = None) -> WorkshopForm:
    """The workshop form with one attendance count per participating partner."""

    class Bound(WorkshopForm):
        pass

    for partner in round_.partners:
        setattr(Bound, f"attendance_{partner.id}", IntegerField(
            partner.name, validators=[Optional(), NumberRange(min=0, max=100000)]))
    form = Bound(obj=workshop)
    staff = get_session().scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.partnership_id == round_.partnership_id,
               Membership.role != Role.OBSERVER).order_by(User.name))
    form.facilitator_id.choices = choices([(0, _l("Not recorded")),
                                           *((u.id, u.name) for u in staff)])
    if request.method == "GET":
        form.facilitator_id.data = (workshop.facilitator_id if workshop is not None
                                    else current_user.id) or 0
        counts = {row.partner_id: row.count for row in (workshop.attendance if workshop else [])}
        for partner in round_.partners:
            getattr(form, f"attendance_{partner.id}").data = counts.get(partner.id)
    return form


def _attendance(form: WorkshopForm, round_: Round) -> dict[int, int | None]:
    return {p.id: getattr(form, f"attendance_{p.id}").data for p in round_.partners}


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuickActionForm(Form):
    """What is typed during a session: what, aimed at which dimension or question, by whom."""

    description = TextAreaField(_l("What will be done"),
                                validators=[DataRequired(), Length(max=MAX_TEXT)])
    target = SelectField(_l("Dimension or question it addresses"), validate_choice=True)
    owner_ids = MultiCheckbox(_l("Owning partners"), coerce=int)
    co_owner_ids = MultiCheckbox(_l("Co-owners"), coerce=int)
    due_on = DateField(_l("Due date"), validators=[Optional()])


class ChecklistEntry(PlainForm):
    """One checklist step (a sub-form: the outer form carries the CSRF token)."""

    text = StringField(_l("Step"), validators=[Optional(), Length(max=MAX_CHECKLIST_TEXT)])
    done = BooleanField(_l("Done"))


class ActionForm(QuickActionForm):
    status = SelectField(_l("Status"), choices=choices(ACTION_STATUS_LABELS.items()))
    progress = IntegerField(_l("Progress (%)"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=100)])
    drop_reason = TextAreaField(_l("Why it is dropped"),
                                validators=[Optional(), Length(max=MAX_TEXT)])
    review_note = TextAreaField(_l("Review note"), validators=[Optional(), Length(max=MAX_TEXT)])
    checklist = FieldList(FormField(ChecklistEntry), min_entries=0, max_entries=40)


def _target_value(dimension_id: str | None, item_id: str | None) -> str:
    return f"item:{item_id}" if item_id else f"dimension:{dimension_id or ''}"


def _parse_target(value: str | None) -> tuple[str | None, str | None]:
    kind, _, ident = (value or "").partition(":")
    if kind == "item":
        return None, ident or None
    return ident or None, None


def _fill_choices(form: QuickActionForm, round_: Round, language: str) -> None:
    options = [("", _l("Choose…"))]
    for target in targets(questionnaire_of(round_), language):
        label = target.label if target.item_id is None else f"— {target.label}"
        options.append((_target_value(target.dimension_id, target.item_id), label))
    form.target.choices = choices(options)
    partners = [(p.id, p.name) for p in round_.partnership.partners]
    form.owner_ids.choices = choices(partners)
    form.co_owner_ids.choices = choices(partners)


def _action_input(form: QuickActionForm) -> ActionInput:
    dimension_id, item_id = _parse_target(form.target.data)
    data = ActionInput(description=form.description.data or "", dimension_id=dimension_id,
                       item_id=item_id, owner_ids=list(form.owner_ids.data or []),
                       co_owner_ids=list(form.co_owner_ids.data or []),
                       due_on=form.due_on.data)
    if isinstance(form, ActionForm):
        data.status = form.status.data or ActionStatus.PLANNED.value
        data.progress = form.progress.data
        data.drop_reason = form.drop_reason.data
        data.review_note = form.review_note.data or ""
    return data


class CommitmentForm(Form):
    partner_id = SelectField(_l("Partner"), coerce=int, validate_choice=True)
    kind = SelectField(_l("Kind of contribution"), choices=choices(COMMITMENT_KIND_LABELS.items()))
    description = TextAreaField(_l("What was pledged"),
                                validators=[DataRequired(), Length(max=MAX_TEXT)])
    round_id = SelectField(_l("Counts from round"), coerce=int, validate_choice=True)
    starts_on = DateField(_l("Period starts"), validators=[Optional()])
    ends_on = DateField(_l("Period ends"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_TEXT)])


def _commitment_form(partnership: Partnership, commitment=None) -> CommitmentForm:
    form = CommitmentForm(obj=commitment)
    form.partner_id.choices = choices((p.id, p.name) for p in partnership.partners)
    form.round_id.choices = choices((r.id, r.name) for r in round_order(partnership))
    if commitment is not None and request.method == "GET":
        form.kind.data = commitment.kind.value
    return form


class ReviewForm(Form):
    status = SelectField(_l("Delivered?"), choices=choices(
        (s.value, DELIVERY_STATUS_LABELS[s.value]) for s in REVIEW_STATUSES))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_TEXT)])


# --------------------------------------------------------------------------- loading


def _workshop_or_404(workshop_id: int) -> Workshop:
    workshop = workshop_service.workshop_in(get_session(), g.partnership, workshop_id)
    if workshop is None:
        abort(404)
    return workshop


def _action_or_404(action_id: int) -> Action:
    action = action_service.action_in(get_session(), g.partnership, action_id)
    if action is None:
        abort(404)
    return action


def _commitment_or_404(commitment_id: int):
    commitment = commitment_service.commitment_in(get_session(), g.partnership, commitment_id)
    if commitment is None:
        abort(404)
    return commitment


def _can_edit() -> bool:
    return g.role in EDITORS


def _labels_for(actions: list[Action], language: str) -> dict[int, str]:
    """Action id -> its target in words, from the questionnaire it was agreed on."""
    out = {}
    cache: dict[int, Any] = {}
    for action in actions:
        round_ = action.workshop.round
        questionnaire = cache.setdefault(round_.questionnaire_version_id,
                                         questionnaire_of(round_))
        out[action.id] = target_label(questionnaire, action.dimension_id, action.item_id,
                                      language)
    return out


def _today() -> date:
    return date.today()


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _errors(form: Form) -> list[str]:
    """The form's messages as plain strings (sub-forms' messages flattened)."""
    out: list[str] = []
    for messages in form.errors.values():
        for message in messages if isinstance(messages, list) else [messages]:
            if not isinstance(message, dict | list):
                out.append(str(message))
    return out


# --------------------------------------------------------------------------- workshops


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>/workshops")
@partnership_role(*ALL_ROLES)
def workshops(partnership_id: int, round_id: int):
    """A round's workshops and the way to record one."""
    round_ = round_or_404(round_id)
    return render_template("followup/workshops.html", partnership=g.partnership, round=round_,
                           workshops=workshop_service.workshops_of(get_session(), round_),
                           can_edit=_can_edit() and round_.status is not RoundStatus.DRAFT)


@bp.route("/partnerships/<int:partnership_id>/rounds/<int:round_id>/workshops/new",
          methods=["GET", "POST"])
@partnership_role(*EDITORS)
def new_workshop(partnership_id: int, round_id: int):
    round_ = round_or_404(round_id)
    form = _workshop_form(round_)
    if form.validate_on_submit():
        db = get_session()
        try:
            workshop = workshop_service.create_workshop(
                db, actor(), round_, **_workshop_fields(form, round_))
        except FollowupError as error:
            db.rollback()
            form.held_on.errors.append(str(error))
        else:
            db.commit()
            flash(_l("The workshop has been recorded."))
            return redirect(url_for("followup.workshop", partnership_id=partnership_id,
                                    workshop_id=workshop.id))
    return render_template("followup/workshop_form.html", form=form, partnership=g.partnership,
                           round=round_, workshop=None), 400 if form.errors else 200


def _workshop_fields(form: WorkshopForm, round_: Round) -> dict[str, Any]:
    """The workshop form's values as the workshop service takes them (create and edit alike)."""
    return {"held_on": form.held_on.data, "title": form.title.data or "",
            "place": form.place.data or "", "facilitator_id": form.facilitator_id.data or None,
            "notes": form.notes.data or "", "attendance": _attendance(form, round_)}


@bp.route("/partnerships/<int:partnership_id>/workshops/<int:workshop_id>/edit",
          methods=["GET", "POST"])
@partnership_role(*EDITORS)
def edit_workshop(partnership_id: int, workshop_id: int):
    workshop = _workshop_or_404(workshop_id)
    round_ = workshop.round
    form = _workshop_form(round_, workshop)
    if form.validate_on_submit():
        db = get_session()
        try:
            workshop_service.update_workshop(
                db, actor(), workshop, **_workshop_fields(form, round_))
        except FollowupError as error:
            db.rollback()
            form.held_on.errors.append(str(error))
        else:
            db.commit()
            flash(_l("The workshop record has been saved."))
            return redirect(url_for("followup.workshop", partnership_id=partnership_id,
                                    workshop_id=workshop.id))
    return render_template("followup/workshop_form.html", form=form, partnership=g.partnership,
                           round=round_, workshop=workshop), 400 if form.errors else 200


@bp.get("/partnerships/<int:partnership_id>/workshops/<int:workshop_id>")
@partnership_role(*ALL_ROLES)
def workshop(partnership_id: int, workshop_id: int):
    """The workshop: first the previous round's actions and what happened since, then the
    actions agreed here (with quick entry for facilitators and coordinators)."""
    workshop = _workshop_or_404(workshop_id)
    form = QuickActionForm()
    return _workshop_page(workshop, form)


def _workshop_page(workshop: Workshop, form: QuickActionForm, status: int = 200):
    db = get_session()
    language = select_locale()
    _fill_choices(form, workshop.round, language)
    before, reviewed = action_service.previous_actions(db, workshop)
    agreed = list(workshop.actions)
    carried = action_service.carried_ids(db, [a.id for a in reviewed])
    impacts = action_impacts(db, g.partnership, reviewed, language)
    return render_template(
        "followup/workshop.html", partnership=g.partnership, workshop=workshop,
        round=workshop.round, previous=before, reviewed=reviewed, carried=carried,
        impacts=impacts, agreed=agreed, labels=_labels_for(reviewed + agreed, language),
        form=form, can_edit=_can_edit(), today=_today(), **display_context(language),
    ), status


@bp.post("/partnerships/<int:partnership_id>/workshops/<int:workshop_id>/actions")
@partnership_role(*EDITORS)
def add_action(partnership_id: int, workshop_id: int):
    """Quick entry: JSON for followup.js (the new row), a redirect for a plain form."""
    workshop = _workshop_or_404(workshop_id)
    form = QuickActionForm()
    language = select_locale()
    _fill_choices(form, workshop.round, language)
    db = get_session()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            action = action_service.create_action(db, actor(), workshop, _action_input(form))
        except FollowupError as error:
            db.rollback()
            errors.append(str(error))
        else:
            db.commit()
            if _wants_json():
                row = render_template("followup/_action_row.html", action=action,
                                      labels=_labels_for([action], language),
                                      partnership=g.partnership, can_edit=True,
                                      today=_today(), **display_context(language))
                return jsonify({"ok": True, "id": action.id, "row": row,
                                "message": str(_l("Action added."))}), 201
            flash(_l("Action added."))
            return redirect(url_for("followup.workshop", partnership_id=partnership_id,
                                    workshop_id=workshop.id) + "#agreed")
    else:
        errors.extend(_errors(form))
    if _wants_json():
        return jsonify({"ok": False, "errors": errors or [str(_l("Check the form."))]}), 400
    if errors and not form.errors:
        form.description.errors = [*form.description.errors, *errors]
    return _workshop_page(workshop, form, 400)


@bp.post("/partnerships/<int:partnership_id>/workshops/<int:workshop_id>/carry/<int:action_id>")
@partnership_role(*EDITORS)
def carry_over(partnership_id: int, workshop_id: int, action_id: int):
    """Carry an open action of the previous round into this workshop."""
    workshop = _workshop_or_404(workshop_id)
    action = _action_or_404(action_id)
    db = get_session()
    if not Form().validate_on_submit():
        abort(400)
    try:
        action_service.carry_over(db, actor(), action, workshop)
    except FollowupError as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
        flash(_l("The action has been carried over into this workshop."))
    return redirect(url_for("followup.workshop", partnership_id=partnership_id,
                            workshop_id=workshop.id) + "#review")


# --------------------------------------------------------------------------- actions


@bp.route("/partnerships/<int:partnership_id>/actions/<int:action_id>", methods=["GET", "POST"])
@partnership_role(*EDITORS)
def edit_action(partnership_id: int, action_id: int):
    """Edit an action: what, target, owners, due date, status, progress, checklist."""
    action = _action_or_404(action_id)
    round_ = action.workshop.round
    language = select_locale()
    form = ActionForm(obj=None if request.method == "POST" else action)
    _fill_choices(form, round_, language)
    if request.method == "GET":
        form.target.data = _target_value(action.dimension_id, action.item_id)
        form.owner_ids.data = [p.id for p in action.owners]
        form.co_owner_ids.data = [p.id for p in action.co_owners]
        form.status.data = action.status.value
        while len(form.checklist):
            form.checklist.pop_entry()
        for item in action.checklist:
            form.checklist.append_entry({"text": item.text, "done": item.done})
        for _ in range(3):
            form.checklist.append_entry()
    if form.validate_on_submit():
        db = get_session()
        try:
            action_service.update_action(db, actor(), action, _action_input(form))
            action_service.set_checklist(
                db, actor(), action,
                [(entry.form.text.data or "", bool(entry.form.done.data))
                 for entry in form.checklist])
        except FollowupError as error:
            db.rollback()
            action = _action_or_404(action_id)
            form.description.errors = [*form.description.errors, str(error)]
        else:
            db.commit()
            flash(_l("The action has been saved."))
            return redirect(url_for("followup.workshop", partnership_id=partnership_id,
                                    workshop_id=action.workshop_id) + f"#action-{action.id}")
    return render_template("followup/action_form.html", form=form, partnership=g.partnership,
                           action=action, round=round_,
                           label=_labels_for([action], language)[action.id],
                           ), 400 if form.errors else 200


def _register_filters(partnership: Partnership) -> RegisterFilters:
    """Read the register's filters; a value naming nothing here is ignored."""
    args = request.args
    partner = args.get("partner", type=int)
    if partner not in {p.id for p in partnership.partners}:
        partner = None
    round_id = args.get("round", type=int)
    if round_id not in {r.id for r in partnership.rounds}:
        round_id = None
    try:
        status = ActionStatus(args.get("status", ""))
    except ValueError:
        status = None
    dimension = (args.get("dimension") or "").strip()[:64] or None
    return RegisterFilters(partner, dimension, status, args.get("overdue") == "1", round_id)


def _dimension_choices(partnership: Partnership, language: str) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for round_ in round_order(partnership):
        for dimension in questionnaire_of(round_).dimensions:
            seen[dimension.id] = dimension.title.get(language)
    return list(seen.items())


@bp.get("/partnerships/<int:partnership_id>/actions")
@partnership_role(*ALL_ROLES)
def register(partnership_id: int):
    """Every action of the partnership, filtered; follow-through per partner."""
    db = get_session()
    language = select_locale()
    filters = _register_filters(g.partnership)
    today = _today()
    rows = action_service.register(db, g.partnership, filters, today)
    actions = [row.action for row in rows]
    return render_template(
        "followup/register.html", partnership=g.partnership, rows=rows, filters=filters,
        labels=_labels_for(actions, language),
        impacts=action_impacts(db, g.partnership, actions, language),
        follow=action_service.follow_through(db, g.partnership, today),
        dimensions=_dimension_choices(g.partnership, language),
        rounds=round_order(g.partnership), can_edit=_can_edit(), today=today,
        **display_context(language))


@bp.get("/partnerships/<int:partnership_id>/actions.<any(csv, xlsx):fmt>")
@partnership_role(*EDITORS)
def export_register(partnership_id: int, fmt: str):
    """The register (as filtered) as CSV or XLSX; the download is audited."""
    db = get_session()
    language = select_locale()
    filters = _register_filters(g.partnership)
    export = followup_export.register_export(db, actor(), g.partnership, filters, _today(),
                                             language, fmt, request.args.get("style"))
    db.commit()
    return Response(export.body, mimetype=export.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"'})


# --------------------------------------------------------------------------- commitments


@bp.get("/partnerships/<int:partnership_id>/commitments")
@partnership_role(*ALL_ROLES)
def commitments(partnership_id: int):
    """Pledges per partner with each round's review, beside how the others rate it."""
    db = get_session()
    language = select_locale()
    return render_template(
        "followup/commitments.html", partnership=g.partnership,
        register=commitment_service.commitments_register(db, g.partnership),
        ratings=commitment_ratings(db, g.partnership, language), can_edit=_can_edit(),
        **display_context(language))


@bp.route("/partnerships/<int:partnership_id>/commitments/new", methods=["GET", "POST"])
@partnership_role(*EDITORS)
def new_commitment(partnership_id: int):
    form = _commitment_form(g.partnership)
    if request.method == "GET" and request.args.get("partner", type=int):
        form.partner_id.data = request.args.get("partner", type=int)
    if form.validate_on_submit():
        db = get_session()
        try:
            commitment_service.create_commitment(db, actor(), g.partnership,
                                                 _commitment_input(form))
        except FollowupError as error:
            db.rollback()
            form.description.errors = [*form.description.errors, str(error)]
        else:
            db.commit()
            flash(_l("The commitment has been recorded."))
            return redirect(url_for("followup.commitments", partnership_id=partnership_id))
    return render_template("followup/commitment_form.html", form=form,
                           partnership=g.partnership, commitment=None), \
        400 if form.errors else 200


def _commitment_input(form: CommitmentForm) -> CommitmentInput:
    return CommitmentInput(partner_id=form.partner_id.data, kind=form.kind.data or "",
                           description=form.description.data or "",
                           round_id=form.round_id.data, starts_on=form.starts_on.data,
                           ends_on=form.ends_on.data, note=form.note.data or "")


@bp.route("/partnerships/<int:partnership_id>/commitments/<int:commitment_id>",
          methods=["GET", "POST"])
@partnership_role(*EDITORS)
def edit_commitment(partnership_id: int, commitment_id: int):
    """Edit a pledge and review it in each round of its period."""
    commitment = _commitment_or_404(commitment_id)
    form = _commitment_form(g.partnership, commitment)
    if form.validate_on_submit():
        db = get_session()
        try:
            commitment_service.update_commitment(db, actor(), commitment,
                                                 _commitment_input(form))
        except FollowupError as error:
            db.rollback()
            commitment = _commitment_or_404(commitment_id)
            form.description.errors = [*form.description.errors, str(error)]
        else:
            db.commit()
            flash(_l("The commitment has been saved."))
            return redirect(url_for("followup.commitments", partnership_id=partnership_id))
    reviews = {r.round_id: r for r in commitment.reviews}
    review_forms = []
    for round_ in commitment_service.rounds_of(commitment):
        existing = reviews.get(round_.id)
        review_form = ReviewForm(prefix=f"r{round_.id}", obj=existing,
                                 formdata=None)
        if existing is not None:
            review_form.status.data = existing.status.value
        review_forms.append((round_, review_form, existing))
    return render_template("followup/commitment_form.html", form=form,
                           partnership=g.partnership, commitment=commitment,
                           review_forms=review_forms), 400 if form.errors else 200


@bp.post("/partnerships/<int:partnership_id>/commitments/<int:commitment_id>/reviews/"
         "<int:round_id>")
@partnership_role(*EDITORS)
def review_commitment(partnership_id: int, commitment_id: int, round_id: int):
    """Record whether the pledge was delivered, as seen in one round."""
    commitment = _commitment_or_404(commitment_id)
    round_ = round_or_404(round_id)
    form = ReviewForm(prefix=f"r{round_.id}")
    db = get_session()
    if not form.validate_on_submit():
        flash(" ".join(_errors(form)) or _l("Check the form."), "error")
        return redirect(url_for("followup.edit_commitment", partnership_id=partnership_id,
                                commitment_id=commitment.id)), 303
    try:
        commitment_service.review_commitment(db, actor(), commitment, round_, form.status.data,
                                             form.note.data or "")
    except FollowupError as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
        flash(_l("The review has been saved."))
    return redirect(url_for("followup.edit_commitment", partnership_id=partnership_id,
                            commitment_id=commitment.id))


# --------------------------------------------------------------------------- results pages


@bp.app_template_global("followup_beside")
def followup_beside(partnership: Partnership, dimension: str,
                    round_: Round | None = None) -> list[dict[str, Any]]:
    """Actions that addressed ``dimension`` with their impact line, for the results pages.

    With a round: the actions agreed after the previous round (whose effect this round
    shows) and those agreed in this round's workshops. Without: every action on it.
    Computed once per request and page.
    """
    key = (partnership.id, round_.id if round_ is not None else None)
    cache = g.setdefault("_followup_beside", {})
    if key not in cache:
        cache[key] = _beside(partnership, round_)
    return cache[key].get(dimension, [])


def _beside(partnership: Partnership, round_: Round | None) -> dict[str, list[dict[str, Any]]]:
    db = get_session()
    language = select_locale()
    if round_ is None:
        actions = [row.action for row in action_service.register(
            db, partnership, RegisterFilters(), _today())]
    else:
        before = previous_round(round_)
        actions = (action_service.actions_of_round(db, before) if before is not None else []) \
            + action_service.actions_of_round(db, round_)
    impacts = action_impacts(db, partnership, actions, language)
    labels = _labels_for(actions, language)
    out: dict[str, list[dict[str, Any]]] = {}
    for action in actions:
        out.setdefault(action.dimension_id or "", []).append(
            {"action": action, "impact": impacts.get(action.id), "label": labels[action.id]})
    return out
