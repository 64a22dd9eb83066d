"""Results pages: a round, one partner's own view, the partnership over time, and their charts.

Every route is parse → call → render: it loads the round and its published snapshot
(:mod:`app.results.snapshots`), reads the filters, asks the presentation layer
(:mod:`app.results`) for the panels and renders them with the one macro library. Nothing here
formats, words, selects or thresholds a figure. Open answers are the one thing read from the
database here, handed to :func:`app.results.panels.open_answer_groups`, which shows them only
for groups at the comment threshold and only once the round is closed.

Charts are SVG images drawn by :mod:`analysis.charts` and served through :mod:`app.charts`,
cached by round, results version, chart, language and filters. A page and its chart endpoint
build the same :class:`~app.results.charts.ChartSpec`, so the ``alt`` text on the page is the
SVG's ``<desc>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from sqlalchemy import select

from app.auth.access import ALL_ROLES, partnership_role
from app.charts import cached_svg, svg_response
from app.db import get_session
from app.i18n import select_locale
from app.jobs.tasks import preparing
from app.models import OpenAnswer, Partner, Role, Round, RoundStatus
from app.questionnaires import Questionnaire
from app.results import charts, panels
from app.results.charts import ChartSpec
from app.results.context import Filters, OverTimeView, RoundView, partner_rows
from app.results.rounds import closed_rounds, result_rounds
from app.results.snapshots import over_time_snapshot, round_snapshot
from app.results.templating import display_context
from app.services.fieldwork import MIN_CODES_FOR_RATE, fieldwork_summary

bp = Blueprint("results", __name__)

LANGUAGES = ("id", "en")


# --------------------------------------------------------------------------- loading


def _round_or_404(round_id: int) -> Round:
    """A non-draft round of ``g.partnership`` (drafts have no results), else 404."""
    round_ = get_session().get(Round, round_id)
    if round_ is None or round_.partnership_id != g.partnership.id:
        abort(404)
    if round_.status is RoundStatus.DRAFT:
        abort(404)
    return round_


def _partner_or_404(partner_id: int) -> Partner:
    partner = get_session().get(Partner, partner_id)
    if partner is None or partner.partnership_id != g.partnership.id:
        abort(404)
    return partner


def _own_partner_id() -> int | None:
    """The partner an observer is tied to (they see only that partner's own view)."""
    membership = g.get("membership")
    if g.role is Role.OBSERVER and membership is not None:
        return membership.partner_id
    return None


def _own_partner() -> Partner | None:
    own = _own_partner_id()
    return get_session().get(Partner, own) if own is not None else None


def _may_open_partner(partner_id: Any) -> bool:
    own = _own_partner_id()
    return own is None or own == partner_id


def _questionnaire(round_: Round) -> Questionnaire:
    return Questionnaire.from_dict(round_.questionnaire_version.definition)


def _open_answers(round_: Round) -> list[tuple[str, Any, str, str]]:
    return [tuple(row) for row in get_session().execute(
        select(OpenAnswer.question_id, OpenAnswer.partner_id, OpenAnswer.language,
               OpenAnswer.text).where(OpenAnswer.round_id == round_.id)).all()]


def _round_view(round_: Round, snap: dict[str, Any], lang: str,
                filters: Filters | None = None) -> RoundView:
    rows = partner_rows(snap, [p.id for p in round_.partners])
    if filters is None:
        filters = Filters.parse(request.args, rows, [t["dimension"] for t in snap["scores"]])

    def chart_url(chart: str, **params: Any) -> str:
        return url_for("results.round_chart", partnership_id=g.partnership.id,
                       round_id=round_.id, chart=chart, lang=lang, v=round_.results_version,
                       **params)

    return RoundView(round_.id, round_.status is RoundStatus.CLOSED, snap, _questionnaire(round_),
                     lang, rows, filters, chart_url)


def _over_time_view(data: dict[str, Any], lang: str) -> OverTimeView:
    partnership = g.partnership
    rows = [{"partner_id": p.id, "name": p.name, "sector": p.sector.value}
            for p in partnership.partners]
    filters = Filters.parse(request.args, rows, [s["dimension"] for s in data["series"]])
    rounds = closed_rounds(partnership)
    version = "-".join(f"{r.id}.{r.results_version}" for r in rounds)

    def chart_url(chart: str, **params: Any) -> str:
        return url_for("results.over_time_chart", partnership_id=partnership.id, chart=chart,
                       lang=lang, v=version, **params)

    return OverTimeView(data, _questionnaire(rounds[-1]), lang, rows, filters, chart_url)


def _item_texts(rounds: Sequence[Round], lang: str) -> dict[str, str]:
    """Item id -> text over the rounds' questionnaire versions (the newest text wins)."""
    versions = {r.questionnaire_version_id: r.questionnaire_version for r in rounds}
    texts: dict[str, str] = {}
    for version in sorted(versions.values(), key=lambda v: v.id):
        for item in Questionnaire.from_dict(version.definition).items:
            texts[item.id] = item.text.get(lang)
    return texts


def _screen_or_404() -> str:
    """The screen a chart is drawn for (``?screen=page|slide|phone``); 404 for any other."""
    screen = charts.parse_screen(request.args.get("screen"))
    if screen is None:
        abort(404)
    return screen


def _serve(spec: ChartSpec | None, key: tuple, screen: str = "page") -> Response:
    """The chart as cached SVG for ``screen``; 204 when these results have nothing to draw."""
    if spec is None:
        return Response(status=204)
    spec = spec.at(screen)
    svg = cached_svg(key, spec.draw, title=spec.title, description=spec.description)
    return svg_response(svg)


def _chart_language() -> str:
    lang = request.args.get("lang")
    return lang if lang in LANGUAGES else select_locale()


def _chart_params() -> tuple:
    return tuple(sorted((k, v) for k, v in request.args.items() if k not in {"v", "lang"}))


# --------------------------------------------------------------------------- routes: round


@bp.get("/partnerships/<int:partnership_id>", endpoint="partnership")
@partnership_role(*ALL_ROLES)
def partnership_index(partnership_id: int):
    """The partnership's rounds with results, and the way to the over-time view."""
    return render_template("results/index.html", partnership=g.partnership,
                           rounds=result_rounds(g.partnership),
                           closed=closed_rounds(g.partnership), own_partner=_own_partner())


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>", endpoint="round")
@partnership_role(*ALL_ROLES)
def round_page(partnership_id: int, round_id: int):
    """A round's results; ``?partial=1`` returns only the panels (for results.js)."""
    round_ = _round_or_404(round_id)
    chosen = request.args.get("round", type=int)
    if chosen is not None and chosen != round_.id:
        target = _round_or_404(chosen)
        args = {k: v for k, v in request.args.items() if v and k not in {"round", "partial"}}
        return redirect(url_for("results.round", partnership_id=partnership_id,
                                round_id=target.id, **args))
    job = preparing(get_session(), round_)
    if job is not None:  # the results are being published by a background job right now
        return render_template("jobs/preparing_page.html", partnership=g.partnership,
                               round=round_, preparing_job=job)
    lang = select_locale()
    snap = round_snapshot(get_session(), round_)
    coordinator = g.role is Role.COORDINATOR
    context: dict[str, Any] = {"partnership": g.partnership, "round": round_,
                               "rounds": result_rounds(g.partnership),
                               "own_partner": _own_partner(), "snap": snap,
                               "can_export": coordinator,
                               "can_present": g.role in (Role.COORDINATOR, Role.FACILITATOR),
                               **display_context(lang)}
    if snap is not None:
        view = _round_view(round_, snap, lang)
        status, questions = panels.open_answer_groups(view, _open_answers(round_))
        fieldwork = ({row.partner.id: row for row in
                      fieldwork_summary(get_session(), round_).rows} if coordinator else None)
        context.update(
            panels.round_panels(view), ctx=view, filters=view.filters, k=view.k,
            is_coordinator=coordinator, responses=panels.response_rows(view, fieldwork),
            open_status=status, open_questions=questions, min_codes=MIN_CODES_FOR_RATE,
            openable=[row["partner_id"] for row in view.partner_rows
                      if not row["suppressed"] and _may_open_partner(row["partner_id"])])
    if request.args.get("partial") == "1":
        return render_template("results/_round_panels.html", **context)
    return render_template("results/round.html", **context)


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>/charts/<chart>.svg",
        endpoint="round_chart")
@partnership_role(*ALL_ROLES)
def round_chart(partnership_id: int, round_id: int, chart: str):
    """One chart of a round as SVG, cached per results version, language and parameters."""
    if chart not in charts.ROUND_CHARTS:
        abort(404)
    screen = _screen_or_404()
    round_ = _round_or_404(round_id)
    snap = round_snapshot(get_session(), round_)
    if snap is None:
        return Response(status=204)
    lang = _chart_language()
    with force_locale(lang):
        view = _round_view(round_, snap, lang)
        spec = charts.round_chart(view, chart, request.args, _may_open_partner)
        return _serve(spec, (round_.id, round_.results_version, chart, lang, _chart_params()),
                      screen)


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>/partners/<int:partner_id>",
        endpoint="partner")
@partnership_role(*ALL_ROLES)
def partner_page(partnership_id: int, round_id: int, partner_id: int):
    """One partner's scores against the partnership's (observers: only their own partner)."""
    round_ = _round_or_404(round_id)
    partner = _partner_or_404(partner_id)
    if not _may_open_partner(partner.id):
        abort(403)
    lang = select_locale()
    snap = round_snapshot(get_session(), round_)
    context: dict[str, Any] = {"partnership": g.partnership, "round": round_, "partner": partner,
                               "snap": snap, "own_partner": _own_partner(),
                               **display_context(lang)}
    if snap is not None:
        view = _round_view(round_, snap, lang, Filters())
        row = next((r for r in snap["response_counts"]["partners"]
                    if r["partner_id"] == partner.id), None)
        context.update(ctx=view, k=view.k, row=row,
                       others=[r for r in view.partner_rows if r["partner_id"] != partner.id]
                       if _own_partner_id() is None else [])
        if row is not None and not row["suppressed"] and row["n"]:
            status, questions = panels.open_answer_groups(view, _open_answers(round_),
                                                          only_partner=partner.id)
            context.update(panels.partner_panel(view, partner.id), open_status=status,
                           open_questions=questions)
    return render_template("results/partner.html", **context)


# --------------------------------------------------------------------------- over time


@bp.get("/partnerships/<int:partnership_id>/over-time", endpoint="over_time")
@partnership_role(*ALL_ROLES)
def over_time_page(partnership_id: int):
    """Scores across closed rounds, the changes between them and what changed most."""
    lang = select_locale()
    data = over_time_snapshot(get_session(), g.partnership)
    closed = closed_rounds(g.partnership)
    context: dict[str, Any] = {"partnership": g.partnership, "data": data, "closed": closed,
                               **display_context(lang)}
    if data is not None:
        view = _over_time_view(data, lang)
        context.update(panels.over_time_panels(view), ctx=view, filters=view.filters, k=view.k,
                       partners=view.partner_rows,
                       item_notes=panels.item_notes(view, _item_texts(closed, lang)))
    if request.args.get("partial") == "1":
        return render_template("results/_over_time_panels.html", **context)
    return render_template("results/over_time.html", **context)


@bp.get("/partnerships/<int:partnership_id>/over-time/charts/<chart>.svg",
        endpoint="over_time_chart")
@partnership_role(*ALL_ROLES)
def over_time_chart_svg(partnership_id: int, chart: str):
    """One over-time chart as SVG, cached per closed rounds' results versions."""
    if chart not in charts.OVER_TIME_CHARTS:
        abort(404)
    screen = _screen_or_404()
    data = over_time_snapshot(get_session(), g.partnership)
    if data is None:
        return Response(status=204)
    lang = _chart_language()
    with force_locale(lang):
        view = _over_time_view(data, lang)
        spec = charts.over_time_chart(view, chart, request.args)
        versions = tuple((r.id, r.results_version) for r in closed_rounds(g.partnership))
        return _serve(spec, ("over_time", g.partnership.id, versions, chart, lang,
                             _chart_params()), screen)

