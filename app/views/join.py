"""Participants of a live room: type the room code, name a partner if they wish, answer.

No account and no access code: a phone is a random token in a signed, HttpOnly cookie scoped to
the room's path, and the database sees only a per-question hash of it (app.services.room).
Nothing here stores or logs an address, a user agent or a time. Pages are small and work
without JavaScript; a few lines of script ask every couple of seconds whether the question
changed (an ETag makes the usual answer an empty 304).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.auth.access import public
from app.db import discard_session, get_session
from app.extensions import shared_counters
from app.forms import Form
from app.formutil import choices
from app.models import QuestionKind, Room
from app.respond.limits import (
    TooManyAttempts,
    _network,
    check_entry_open,
    count_wrong_guess,
)
from app.respond.redact import install_request_log_filter
from app.services import room as service
from app.services.room import Participant, RoomError

bp = Blueprint("join", __name__)

COOKIE = "mitra_room"
_SALT = "mitra-room-participant"
NO_PARTNER = 0


@bp.record_once
def _check_settings(state: Any) -> None:
    """Refuse to start with room settings that do not parse, rather than fail on a phone."""
    config = state.app.config
    for name in ("ROOM_ANSWER_RATE_LIMIT", "ROOM_NETWORK_RATE_LIMIT"):
        try:
            parse_many(str(config[name]))
        except ValueError:
            raise ValueError(f"{name} (MITRA_{name}) must be a rate limit such as "
                             f"'30 per minute', got {config[name]!r}") from None
    for name, low in (("ROOM_POLL_SECONDS", 1), ("ROOM_COOKIE_MAX_AGE", 60)):
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} (MITRA_{name}) must be a whole number of at least {low}, "
                             f"got {value!r}")
    install_request_log_filter()
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _RoomRequestFilter) for f in logger.filters):
        logger.addFilter(_RoomRequestFilter())


class _RoomRequestFilter(logging.Filter):
    """Drop the development server's request lines for participants' routes (address, time)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return _PARTICIPANT_PATH.search(record.getMessage()) is None
        except (TypeError, ValueError):
            return True


_PARTICIPANT_PATH = re.compile(r"(?<![A-Z])(?:GET|POST|HEAD|PUT|DELETE|PATCH|OPTIONS) /j[/?\s]")


class CodeForm(Form):
    code = StringField(_l("Room code"), validators=[
        DataRequired(_l("Please type the code shown on the screen.")), Length(max=20)])


class JoinForm(Form):
    partner_id = SelectField(_l("Which partner are you from? (optional)"), coerce=int,
                             validators=[Optional()])


class AnswerForm(Form):
    question_id = HiddenField(validators=[InputRequired()])
    value = IntegerField(validators=[Optional()])
    note = TextAreaField(_l("Your note"), validators=[Optional(), Length(max=1000)])


# ----------------------------------------------------------------------------- the cookie


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _participant(room: Room) -> Participant | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("r") != room.id or not isinstance(
            data.get("t"), str):
        return None
    partner = data.get("p")
    return Participant(data["t"], partner if isinstance(partner, int) else None)


def _set_participant(response: Response, room: Room, participant: Participant) -> None:
    value = _serializer().dumps({"r": room.id, "t": participant.token,
                                 "p": participant.partner_id})
    response.set_cookie(COOKIE, value, max_age=current_app.config["ROOM_COOKIE_MAX_AGE"],
                        path=url_for("join.room", code=room.code), httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])


# ----------------------------------------------------------------------------- limits


def _over_limit(participant: Participant) -> int | None:
    """Count one answer; the seconds to wait when this phone or its network is over its limit.

    Keys are HMACs: neither the token nor the address reaches the counters' storage.
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    secret = current_app.config["SECRET_KEY"].encode("utf-8")

    def key(label: str, value: str) -> str:
        return hmac.new(secret, f"{label}\x1f{value}".encode(), hashlib.sha256).hexdigest()[:32]

    counters = shared_counters()
    budgets = ((current_app.config["ROOM_ANSWER_RATE_LIMIT"], key("phone", participant.token)),
               (current_app.config["ROOM_NETWORK_RATE_LIMIT"],
                key("network", _network(request.remote_addr))))
    waits = []
    for limit, identifier in budgets:
        for item in parse_many(str(limit)):
            if not counters.hit(item, "room-answer", identifier):
                waits.append(counters.remaining(item, "room-answer", identifier)[1])
    return max(waits) if waits else None


# ----------------------------------------------------------------------------- views


def _room_or_none(code: str) -> Room | None:
    return service.open_room_by_code(get_session(), service.normalise_code(code))


@bp.route("/j", methods=["GET", "POST"])
@public
def enter():
    """Type the room code from the screen."""
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        code = service.normalise_code(form.code.data)
        try:
            check_entry_open()
            room = _room_or_none(code)
            if room is None:
                count_wrong_guess()
                form.code.errors.append(_("No open room has this code. Check the code on the "
                                          "screen and type it again."))
            else:
                return redirect(url_for("join.room", code=room.code))
        except TooManyAttempts as error:
            form.code.errors.append(_("Too many wrong codes from this network. Please wait "
                                      "%(seconds)d seconds.", seconds=error.retry_after))
            status = 429
    if form.errors:
        status = max(status, 400)
    return render_template("join/enter.html", form=form), status


@bp.get("/j/<code>")
@public
def room(code: str):
    """The room on a phone: the join step, the open question, or "wait for the next one"."""
    room = _room_or_none(code)
    if room is None:
        return _no_room(code)
    if code != room.code:
        return redirect(url_for("join.room", code=room.code))
    participant = _participant(room)
    if participant is None or request.args.get("change") == "partner":
        return _join_page(room, participant)
    question = service.open_question(room)
    return _question_page(room, participant, question, AnswerForm() if question else None)


def _no_room(code: str):
    form = CodeForm(formdata=None, code=code[:20])
    form.code.errors = [_("No open room has this code. The session may have ended.")]
    return render_template("join/enter.html", form=form), 404


def _join_page(room: Room, participant: Participant | None, form: JoinForm | None = None):
    form = form or JoinForm(formdata=None)
    form.partner_id.choices = choices(_partner_choices(room))
    if participant is not None and form.partner_id.data is None:
        form.partner_id.data = participant.partner_id or NO_PARTNER
    return render_template("join/join.html", room=room, form=form, k=service.room_k(
        get_session(), room), code_text=service.format_code(room.code))


def _partner_choices(room: Room) -> list[tuple[int, str]]:
    partners = service.room_partners(get_session(), room)
    return [(NO_PARTNER, _("I prefer not to say")), *((p.id, p.name) for p in partners)]


@bp.post("/j/<code>/join")
@public
def join(code: str):
    """Start (or change the partner of) this phone's anonymous place in the room."""
    room = _room_or_none(code)
    if room is None:
        return _no_room(code)
    participant = _participant(room)
    form = JoinForm()
    form.partner_id.choices = choices(_partner_choices(room))
    if not form.validate_on_submit():
        return _join_page(room, participant, form), 400
    partner_id = form.partner_id.data or None
    token = participant.token if participant else service.new_participant_token()
    response = redirect(url_for("join.room", code=room.code))
    _set_participant(response, room, Participant(token, partner_id))
    return response


def _question_page(room: Room, participant: Participant, question, form: AnswerForm | None,
                   error: str | None = None, draft: Any = None, status: int = 200):
    db = get_session()
    mine = None
    if question is not None:
        key = service.voter_hash(current_app.config["SECRET_KEY"], participant.token,
                                 question.id)
        mine = service.my_answer(db, question, key)
        if form is not None:
            form.question_id.data = str(question.id)
            if question.kind is QuestionKind.STICKY_NOTE and draft is None and mine:
                form.note.data = mine
    partner_names = dict(_partner_choices(room))
    return render_template(
        "join/question.html", room=room, question=question, form=form, mine=mine,
        draft=draft if draft is not None else mine, error=error,
        labels=[str(label) for label in service.AGREEMENT_LABELS],
        partner_name=partner_names.get(participant.partner_id or NO_PARTNER),
        poll_seconds=current_app.config["ROOM_POLL_SECONDS"],
        version=_state_version(room)), status


@bp.post("/j/<code>/answer")
@public
def answer(code: str):
    """Store this phone's answer to the open question, then show the room again."""
    room = _room_or_none(code)
    if room is None:
        return _no_room(code)
    participant = _participant(room)
    if participant is None:
        flash(_("Join the room first."), "error")
        return redirect(url_for("join.room", code=room.code))
    question = service.open_question(room)
    form = AnswerForm()
    valid = form.validate_on_submit()
    if question is None or form.question_id.data != str(question.id):
        flash(_("That question was closed before your answer arrived. Here is the room now."),
              "error")
        return redirect(url_for("join.room", code=room.code))
    wait = _over_limit(participant)
    if wait is not None:
        return _question_page(room, participant, question, form, status=429, error=_(
            "Too many answers from this phone or network. Please wait %(seconds)d seconds.",
            seconds=wait))
    draft, error = _read_answer(question, form, valid)
    if error is None:
        error = _store(room.id, question.id, participant, draft)
        if error is None:  # the page says "your answer is saved" from the database
            return redirect(url_for("join.room", code=room.code))
        room = _room_or_none(code)
        if room is None:
            return _no_room(code)
        question = service.open_question(room)
        if question is None:
            return redirect(url_for("join.room", code=code))
    return _question_page(room, participant, question, form, error=error, draft=draft,
                          status=400)


def _read_answer(question, form: AnswerForm, valid: bool) -> tuple[Any, str | None]:
    """The posted answer in the service's terms, or a message saying what is wrong with it."""
    if question.kind is QuestionKind.STICKY_NOTE:
        text = form.note.data or ""
        if not valid and form.note.errors:
            return text, " ".join(str(e) for e in form.note.errors)
        return text, None
    if question.kind is QuestionKind.AGREEMENT or question.budget == 1:
        value = form.value.data if valid else None
        if value is None:
            return None, _("Choose one answer.")
        if question.kind is QuestionKind.AGREEMENT:
            return value, None
        if not 0 <= value < len(question.options):
            return None, _("Choose one of the options listed.")
        dots = [0] * len(question.options)
        dots[value] = 1
        return dots, None
    dots = []
    for index in range(len(question.options)):
        raw = (request.form.get(f"dots-{index}") or "0").strip() or "0"
        if not raw.isdigit() or len(raw) > 3:
            return None, _("Dots are whole numbers from 0 to %(n)d.", n=question.option_cap)
        dots.append(int(raw))
    return dots, None


def _store(room_id: int, question_id: int, participant: Participant, draft: Any) -> str | None:
    """Save the answer in one transaction; a double tap racing itself is saved once."""
    for attempt in range(2):
        db = get_session()
        room = db.get(Room, room_id)
        question = service.question_in(room, question_id) if room else None
        if room is None or question is None:
            return _("This room is closed.")
        try:
            service.submit_answer(db, current_app.config["SECRET_KEY"], room, question,
                                  participant, draft)
            db.commit()
            return None
        except RoomError as error:
            db.rollback()
            return str(error)
        except IntegrityError:
            # The same phone's other request inserted first: try again as an update.
            discard_session()
            if attempt:
                raise
    return None


def _state_version(room: Room) -> str:
    question = service.open_question(room)
    return f"{room.id}.{question.id if question else 0}"


@bp.get("/j/<code>/state.json")
@public
def state(code: str):
    """Which question is open, for the phone's few lines of script (304 when unchanged)."""
    room = _room_or_none(code)
    if room is None:
        response = jsonify({"open": False, "version": "closed"})
        response.status_code = 404
        return response
    version = _state_version(room)
    etag = f'"{version}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = Response(status=304)
    else:
        question = service.open_question(room)
        response = jsonify({"open": True, "version": version,
                            "question": question.id if question else None})
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response
