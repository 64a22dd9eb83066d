"""The facilitator's side of the live room: open it, ask, moderate, reveal, and the projector.

Coordinators and facilitators of the partnership only. The facilitator sees how many people
answered, never what they answered, until a closed question is revealed; the service refuses a
reveal below the partnership's k (app.services.room holds every rule).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.auth.access import partnership_role
from app.db import get_session
from app.forms import Form
from app.formutil import choices
from app.models import (
    NoteStatus,
    QuestionKind,
    Role,
    Room,
    RoomQuestion,
    Workshop,
)
from app.results.numbers import Numbers
from app.services import room as service
from app.services.respondent_access import local_today
from app.services.room import RoomError
from app.views.admin._helpers import actor, round_or_404

bp = Blueprint("room", __name__)

RUNS_ROOMS = (Role.COORDINATOR, Role.FACILITATOR)
NEW_WORKSHOP = 0


class OpenRoomForm(Form):
    round_id = SelectField(_l("Round whose results the workshop discusses"), coerce=int,
                           validators=[InputRequired()])
    workshop_id = SelectField(_l("Workshop record"), coerce=int, validators=[Optional()])


class QuestionForm(Form):
    kind = SelectField(_l("Kind of question"),
                       choices=choices((kind.value, label)
                                       for kind, label in service.KIND_LABELS.items()),
                       validators=[InputRequired()])
    prompt = StringField(_l("Question"), validators=[
        DataRequired(_l("Write the question.")), Length(max=service.MAX_PROMPT_CHARS)])
    options = TextAreaField(_l("Options (dot vote), one per line"),
                            validators=[Optional(), Length(max=2000)])
    budget = IntegerField(_l("Dots per person"), default=3,
                          validators=[Optional(), NumberRange(1, service.MAX_BUDGET)])
    option_cap = IntegerField(_l("Most dots one person may put on one option"), default=2,
                              validators=[Optional(), NumberRange(1, service.MAX_BUDGET)])
    max_chars = IntegerField(_l("Longest note, in characters"), default=140,
                             validators=[Optional(), NumberRange(*service.NOTE_CHARS)])


class ActionForm(Form):
    """Only the CSRF token: the action is in the URL."""


class ModerateForm(Form):
    decision = SelectField(choices=choices((s.value, s.value) for s in (
        NoteStatus.APPROVED, NoteStatus.REJECTED, NoteStatus.HIDDEN)),
        validators=[InputRequired()])


class BlocklistForm(Form):
    words = TextAreaField(_l("Words and phrases that flag a note, one per line"),
                          validators=[Optional(), Length(max=30_000)])


def _room_or_404(room_id: int) -> Room:
    room = service.room_in(get_session(), g.partnership, room_id)
    if room is None:
        abort(404)
    return room


def _question_or_404(room: Room, question_id: int) -> RoomQuestion:
    question = service.question_in(room, question_id)
    if question is None:
        abort(404)
    return question


def _control_url(room: Room) -> str:
    return url_for("room.control", partnership_id=room.partnership_id, room_id=room.id)


def _join_url(room: Room) -> str:
    return url_for("join.room", code=room.code, _external=True) if room.code else ""


# ----------------------------------------------------------------------------- rooms


@bp.get("/partnerships/<int:partnership_id>")
@partnership_role(*RUNS_ROOMS)
def index(partnership_id: int):
    """The partnership's rooms, and a form to open one for a round."""
    db = get_session()
    form = OpenRoomForm(formdata=None)
    _fill_open_form(form)
    return render_template("room/index.html", partnership=g.partnership, form=form,
                           rooms=service.rooms_of(db, g.partnership),
                           rounds={r.id: r for r in g.partnership.rounds},
                           workshops=_workshops_by_id())


def _workshops_by_id() -> dict[int, Workshop]:
    round_ids = [r.id for r in g.partnership.rounds]
    if not round_ids:
        return {}
    return {w.id: w for w in get_session().scalars(
        select(Workshop).where(Workshop.round_id.in_(round_ids)))}


def _fill_open_form(form: OpenRoomForm) -> None:
    rounds = sorted(g.partnership.rounds, key=lambda r: r.id, reverse=True)
    form.round_id.choices = choices((r.id, r.name) for r in rounds)
    names = {r.id: r.name for r in rounds}
    workshops = sorted(_workshops_by_id().values(), key=lambda w: (w.held_on, w.id),
                       reverse=True)
    form.workshop_id.choices = choices(
        [(NEW_WORKSHOP, _("A new workshop record, held today"))]
        + [(w.id, _("%(round)s, workshop of %(day)s", round=names[w.round_id],
                    day=format_date(w.held_on, format="long"))) for w in workshops])


@bp.post("/partnerships/<int:partnership_id>/rooms")
@partnership_role(*RUNS_ROOMS)
def open_room(partnership_id: int):
    """Open a room (with its code) for a round's workshop."""
    db = get_session()
    form = OpenRoomForm()
    _fill_open_form(form)
    if not form.validate_on_submit():
        flash(_("Choose the round and the workshop record."), "error")
        return redirect(url_for("room.index", partnership_id=partnership_id))
    round_ = round_or_404(form.round_id.data)
    workshop = None
    if form.workshop_id.data:
        workshop = db.get(Workshop, form.workshop_id.data)
        if workshop is None or workshop.round_id not in {r.id for r in g.partnership.rounds}:
            abort(404)
    try:
        room = service.open_room(db, actor(), g.partnership, round_, workshop,
                                 today=local_today(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    except RoomError as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(url_for("room.index", partnership_id=partnership_id))
    db.commit()
    flash(_("The room is open. Its code is %(code)s.", code=service.format_code(room.code)))
    return redirect(_control_url(room))


@bp.get("/partnerships/<int:partnership_id>/rooms/<int:room_id>")
@partnership_role(*RUNS_ROOMS)
def control(partnership_id: int, room_id: int):
    """Questions with their state and answer counts (never values), and what to do next."""
    db = get_session()
    room = _room_or_404(room_id)
    k = service.room_k(db, room)
    pending = sum(1 for _q, notes in service.notes_for_moderation(db, room)
                  for note in notes if note.status is NoteStatus.PENDING)
    return render_template(
        "room/control.html", partnership=g.partnership, room=room, k=k,
        round=service.room_round(db, room), counts=service.control_counts(db, room),
        results={q.id: service.question_results(db, q, k) for q in room.questions},
        form=QuestionForm(formdata=None), action_form=ActionForm(), pending=pending,
        join_url=_join_url(room), code_text=service.format_code(room.code),
        kind_labels=service.KIND_LABELS, state_labels=service.STATE_LABELS,
        fmt=Numbers(_language()), poll_seconds=current_app.config["ROOM_POLL_SECONDS"])


def _language() -> str:
    from app.i18n import select_locale

    return select_locale()


@bp.post("/partnerships/<int:partnership_id>/rooms/<int:room_id>/questions")
@partnership_role(*RUNS_ROOMS)
def add_question(partnership_id: int, room_id: int):
    db = get_session()
    room = _room_or_404(room_id)
    form = QuestionForm()
    if form.validate_on_submit():
        kind = QuestionKind(form.kind.data)
        spec = service.QuestionSpec(
            kind=kind, prompt=form.prompt.data or "",
            options=(form.options.data or "").splitlines(),
            budget=form.budget.data or 1, option_cap=form.option_cap.data or 1,
            max_chars=form.max_chars.data or 140)
        try:
            service.add_question(db, actor(), room, spec)
        except RoomError as error:
            db.rollback()
            flash(str(error), "error")
        else:
            db.commit()
            flash(_("Question added."))
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    return redirect(_control_url(room) + "#questions")


def _question_action(room_id: int, question_id: int, operation, done: str):
    db = get_session()
    room = _room_or_404(room_id)
    question = _question_or_404(room, question_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        operation(db, actor(), room, question)
    except RoomError as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
        flash(done)
    return redirect(_control_url(room) + f"#question-{question_id}")


@bp.post("/partnerships/<int:partnership_id>/rooms/<int:room_id>/questions/<int:question_id>"
         "/open")
@partnership_role(*RUNS_ROOMS)
def open_question(partnership_id: int, room_id: int, question_id: int):
    return _question_action(room_id, question_id, service.start_question,
                            _("The question is open on the phones."))


@bp.post("/partnerships/<int:partnership_id>/rooms/<int:room_id>/questions/<int:question_id>"
         "/close")
@partnership_role(*RUNS_ROOMS)
def close_question(partnership_id: int, room_id: int, question_id: int):
    return _question_action(room_id, question_id, service.stop_question,
                            _("The question is closed."))


@bp.post("/partnerships/<int:partnership_id>/rooms/<int:room_id>/questions/<int:question_id>"
         "/reveal")
@partnership_role(*RUNS_ROOMS)
def reveal_question(partnership_id: int, room_id: int, question_id: int):
    return _question_action(room_id, question_id, service.reveal_question,
                            _("The results are on the screen."))


@bp.post("/partnerships/<int:partnership_id>/rooms/<int:room_id>/questions/<int:question_id>"
         "/show")
@partnership_role(*RUNS_ROOMS)
def show_question(partnership_id: int, room_id: int, question_id: int):
    return _question_action(
        room_id, question_id,
        lambda db, _user, room, question: service.show_on_screen(db, room, question),
        _("The screen shows this question."))


@bp.post("/partnerships/<int:partnership_id>/rooms/<int:room_id>/screen/clear")
@partnership_role(*RUNS_ROOMS)
def clear_screen(partnership_id: int, room_id: int):
    """Show only the join code on the projector."""
    db = get_session()
    room = _room_or_404(room_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.show_on_screen(db, room, None)
    except RoomError as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
    return redirect(_control_url(room))


@bp.post("/partnerships/<int:partnership_id>/rooms/<int:room_id>/close")
@partnership_role(*RUNS_ROOMS)
def close_room(partnership_id: int, room_id: int):
    """End the session: only counts and approved notes stay, with the workshop record."""
    db = get_session()
    room = _room_or_404(room_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.close_room(db, actor(), room)
    except RoomError as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
        flash(_("The room is closed. Its counts and approved notes stay with the workshop "
                "record."))
    return redirect(_control_url(room))


@bp.get("/partnerships/<int:partnership_id>/rooms/<int:room_id>/counts.json")
@partnership_role(*RUNS_ROOMS)
def counts(partnership_id: int, room_id: int):
    """Answers so far per question, for the facilitator's page: counts, never values."""
    db = get_session()
    room = _room_or_404(room_id)
    response = jsonify({"counts": {str(k): v for k, v in
                                   service.control_counts(db, room).items()},
                        "version": service.screen_version(db, room)})
    response.headers["Cache-Control"] = "no-store"
    return response


# ----------------------------------------------------------------------------- moderation


@bp.get("/partnerships/<int:partnership_id>/rooms/<int:room_id>/notes")
@partnership_role(*RUNS_ROOMS)
def moderation(partnership_id: int, room_id: int):
    """Every sticky note, waiting ones and blocklist matches first, then by text."""
    db = get_session()
    room = _room_or_404(room_id)
    queue = service.notes_for_moderation(db, room)
    words = service.blocklist_words(db, room.partnership_id)
    matches = {note.id: service.blocked_words(note.text, words)
               for _q, notes in queue for note in notes if note.flagged}
    return render_template("room/moderation.html", partnership=g.partnership, room=room,
                           queue=queue, matches=matches, action_form=ActionForm(),
                           note_labels=service.NOTE_LABELS, state_labels=service.STATE_LABELS)


@bp.post("/partnerships/<int:partnership_id>/rooms/<int:room_id>/notes/<note_id>")
@partnership_role(*RUNS_ROOMS)
def moderate(partnership_id: int, room_id: int, note_id: str):
    db = get_session()
    room = _room_or_404(room_id)
    note = service.note_in(db, room, note_id[:32])
    if note is None:
        abort(404)
    form = ModerateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.moderate_note(db, actor(), room, note, NoteStatus(form.decision.data))
    except RoomError as error:
        db.rollback()
        flash(str(error), "error")
    else:
        db.commit()
    return redirect(url_for("room.moderation", partnership_id=partnership_id, room_id=room.id))


@bp.route("/partnerships/<int:partnership_id>/blocklist", methods=["GET", "POST"])
@partnership_role(*RUNS_ROOMS)
def blocklist(partnership_id: int):
    """The partnership's words that flag a sticky note for a second look."""
    db = get_session()
    form = BlocklistForm()
    if request.method == "GET":
        form.words.data = "\n".join(service.blocklist_words(db, g.partnership.id))
    elif form.validate_on_submit():
        try:
            size = service.save_blocklist(db, actor(), g.partnership, form.words.data or "")
        except RoomError as error:
            db.rollback()
            form.words.errors.append(str(error))
        else:
            db.commit()
            flash(_("The list is saved: %(n)d words or phrases.", n=size))
            return redirect(url_for("room.blocklist", partnership_id=partnership_id))
    return render_template("room/blocklist.html", partnership=g.partnership, form=form,
                           back=request.args.get("room", type=int)), \
        400 if form.errors else 200


# ----------------------------------------------------------------------------- the screen


def _panel_context(room_id: int) -> dict:
    return service.screen_context(get_session(), room_id)


@bp.get("/partnerships/<int:partnership_id>/rooms/<int:room_id>/screen")
@partnership_role(*RUNS_ROOMS)
def screen(partnership_id: int, room_id: int):
    """The projector: join code and QR, the question, revealed results in large type."""
    room = _room_or_404(room_id)
    return render_template("room/screen.html", partnership=g.partnership,
                           room=_panel_context(room.id), room_id=room.id,
                           data_url=url_for("room.screen_data", partnership_id=partnership_id,
                                            room_id=room.id),
                           control_url=_control_url(room),
                           poll_seconds=current_app.config["ROOM_POLL_SECONDS"])


@bp.get("/partnerships/<int:partnership_id>/rooms/<int:room_id>/screen.json")
@partnership_role(*RUNS_ROOMS)
def screen_data(partnership_id: int, room_id: int):
    """The screen panel as HTML in JSON, or 304 when nothing visible changed (ETag)."""
    db = get_session()
    room = _room_or_404(room_id)
    etag = f'"{service.screen_etag(db, room)}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = Response(status=304)
    else:
        context = _panel_context(room.id)
        html = render_template("room/_screen_panel.html", room=context)
        response = jsonify({"version": etag.strip('"'), "html": html})
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache, private"
    return response

