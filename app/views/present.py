"""Presentation mode: a round's published results as slides for a reflection workshop.

Facilitators and coordinators (and site admins) open it from the round's results page. The
route is parse → call → render: it loads the round and its published snapshot (the one the
results page shows), asks :mod:`app.results.slides` for the slides and
:mod:`app.results.prompts` for the discussion prompts, and renders them. Observers, who see
only their own partner's view, have no presentation. Charts are the results page's chart
URLs drawn for a projector and for a phone (``?screen=slide|phone``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, render_template, url_for
from jinja2 import TemplateNotFound
from sqlalchemy import select

from analysis.privacy import comment_threshold
from app.auth.access import partnership_role
from app.db import get_session
from app.i18n import select_locale
from app.models import OpenAnswer, Role, Round, RoundStatus
from app.questionnaires import Questionnaire
from app.results import panels
from app.results.context import Filters, OverTimeView, RoundView, partner_rows
from app.results.prompts import generated_prompts, stalled_actions
from app.results.rounds import closed_rounds
from app.results.slides import round_slides
from app.results.snapshots import over_time_snapshot, round_snapshot
from app.results.templating import display_context

bp = Blueprint("present", __name__)

PRESENTERS = (Role.COORDINATOR, Role.FACILITATOR)
ROOM_PANEL = "room/_screen_panel.html"
WORKSHOP_ENDPOINT = "followup.new_workshop"


def _round_or_404(round_id: int) -> Round:
    round_ = get_session().get(Round, round_id)
    if round_ is None or round_.partnership_id != g.partnership.id:
        abort(404)
    if round_.status is RoundStatus.DRAFT:
        abort(404)
    return round_


def _round_view(round_: Round, snap: dict[str, Any], lang: str) -> RoundView:
    rows = partner_rows(snap, [p.id for p in round_.partners])

    def chart_url(chart: str, **params: Any) -> str:
        return url_for("results.round_chart", partnership_id=g.partnership.id,
                       round_id=round_.id, chart=chart, lang=lang, v=round_.results_version,
                       **params)

    questionnaire = Questionnaire.from_dict(round_.questionnaire_version.definition)
    return RoundView(round_.id, round_.status is RoundStatus.CLOSED, snap, questionnaire, lang,
                     rows, Filters(), chart_url)


def _over_time_view(round_: Round, lang: str) -> OverTimeView | None:
    """The over-time results when this round is a closed round after another one."""
    if round_.status is not RoundStatus.CLOSED:
        return None
    data = over_time_snapshot(get_session(), g.partnership)
    if data is None or round_.id not in {r["id"] for r in data["rounds"]}:
        return None
    rounds = closed_rounds(g.partnership)
    rows = [{"partner_id": p.id, "name": p.name, "sector": p.sector.value}
            for p in g.partnership.partners]
    return OverTimeView(data, Questionnaire.from_dict(
        rounds[-1].questionnaire_version.definition), lang, rows, Filters(), None)


def _open_answers(round_: Round) -> list[tuple[str, Any, str, str]]:
    return [tuple(row) for row in get_session().execute(
        select(OpenAnswer.question_id, OpenAnswer.partner_id, OpenAnswer.language,
               OpenAnswer.text).where(OpenAnswer.round_id == round_.id)).all()]


def _has_template(name: str) -> bool:
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return False
    return True


def _live_room(round_: Round) -> dict[str, Any] | None:
    """The open live room of this round's workshop, as its screen panel shows it, if any."""
    if not _has_template(ROOM_PANEL) or "room.screen_data" not in current_app.view_functions:
        return None
    from app.models import Room, RoomStatus, Workshop
    from app.services.room import screen_context

    room = get_session().scalar(select(Room).join(Workshop, Room.workshop_id == Workshop.id)
                                .where(Workshop.round_id == round_.id,
                                       Room.status == RoomStatus.OPEN)
                                .order_by(Room.id.desc()).limit(1))
    if room is None:
        return None
    return {"panel": screen_context(get_session(), room.id),
            "data_url": url_for("room.screen_data", partnership_id=g.partnership.id,
                                room_id=room.id),
            "poll_seconds": current_app.config.get("ROOM_POLL_SECONDS", 2)}


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>", endpoint="round")
@partnership_role(*PRESENTERS)
def present_round(partnership_id: int, round_id: int):
    """A round's results as slides: one at a time with JavaScript, a sequence without."""
    round_ = _round_or_404(round_id)
    lang = select_locale()
    snap = round_snapshot(get_session(), round_)
    context: dict[str, Any] = {"partnership": g.partnership, "round": round_, "snap": snap,
                               "slides": [], **display_context(lang)}
    if snap is not None:
        view = _round_view(round_, snap, lang)
        over_time = _over_time_view(round_, lang)
        prompts = generated_prompts(view, over_time,
                                    stalled_actions(get_session(), round_, lang))
        open_answers = panels.open_answer_groups(view, _open_answers(round_))
        slides = round_slides(view, over_time=over_time, prompts=prompts,
                              open_answers=open_answers, round_name=round_.name,
                              partnership_name=g.partnership.name)
        room = _live_room(round_)
        workshop_url = (url_for(WORKSHOP_ENDPOINT, partnership_id=partnership_id,
                                round_id=round_.id)
                        if WORKSHOP_ENDPOINT in current_app.view_functions else None)
        context.update(slides=slides, ctx=view, k=view.k, room=room, workshop_url=workshop_url,
                       comment_threshold=comment_threshold(view.k))
    return render_template("present/round.html", **context)
