"""Results pages: a round, one partner's own view, the partnership over time, and their charts.

Every figure on these pages comes from the published snapshot dictionaries of
:mod:`app.services.results` (computed and anonymity-checked once, in ``analysis.results``).
The views only *select* rows of them: a filter (partner, dimension, sector) never computes a
new group, so it cannot create a cell smaller than ``k``. Open answers are the one thing read
from the database here; they are shown per partner only for groups of at least the comment
threshold, and only once the round is closed (an open round would show them one by one).

Charts are SVG images drawn by :mod:`analysis.charts` and served through :mod:`app.charts`,
cached by round, results version, chart, language and filters. A page and its chart endpoint
build the same :class:`ChartSpec`, so the ``alt`` text on the page is the SVG's ``<desc>``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import force_locale, format_decimal, format_percent, gettext
from matplotlib.figure import Figure
from sqlalchemy import func, select

from analysis.charts import (
    chart_alt_text,
    diverging_likert_chart,
    heatmap_chart,
    heatmap_chart_inputs,
    likert_chart_inputs,
    over_time_chart,
    over_time_chart_inputs,
    partner_scores_chart,
    rating_matrix_chart,
    rating_matrix_chart_inputs,
    score_chart_inputs,
)
from app.auth.access import ALL_ROLES, partnership_role
from app.charts import cached_svg, svg_response
from app.db import get_session
from app.i18n import select_locale
from app.models import OpenAnswer, Partner, Partnership, Role, Round, RoundStatus
from app.models import Response as SurveyResponse
from app.questionnaires import Questionnaire
from app.respond.privacy import comment_threshold
from app.services import results as results_service
from app.services.fieldwork import MIN_CODES_FOR_RATE, fieldwork_summary

bp = Blueprint("results", __name__)

TOTAL = "total"
#: How many item-level perception gaps the gap panel lists (the widest first).
TOP_ITEM_GAPS = 5
#: over_time_chart draws at most this many lines (one colour and marker each).
MAX_SERIES = 8
LANGUAGES = ("id", "en")


# --------------------------------------------------------------------------- formatting


def tr(value: Any, lang: str | None = None) -> str:
    """A ``{"id": ..., "en": ...}`` text from a snapshot in the reader's language."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    lang = lang or select_locale()
    return value.get(lang) or value.get("id") or next(iter(value.values()), "")


def num(value: Any, places: int = 1) -> str:
    """A number in the reader's locale (``3,8`` in Indonesian), a dash when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format_decimal(value, format="0." + "0" * places if places else "0")


def pct(value: Any) -> str:
    if value is None:
        return "–"
    return format_percent(value, format="0%")


def pval(value: Any) -> str:
    """A p-value as people read it: ``< 0.001``, three decimals below 0.01, else two."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if value < 0.001:
        return "< " + format_decimal(0.001, format="0.000")
    return format_decimal(value, format="0.000" if value < 0.01 else "0.00")


def band_tone(band: Mapping[str, Any] | None, low: Any = None, high: Any = None) -> str:
    """"low", "mid" or "high": where a band sits on its scale, for its colour (text says it)."""
    if not band or low is None or high is None or high <= low:
        return "neutral"
    if band["min"] <= low:
        return "low"
    return "high" if band["max"] >= high else "mid"


def suppressed_text(k: int) -> str:
    return gettext("fewer than %(k)d responses", k=k)


def _chart_words(k: int, lang: str) -> dict[str, str]:
    """The words a chart prints, in the reader's language (keys of analysis.charts labels)."""
    return {
        "score": gettext("Mean score"),
        "mean": gettext("Mean"),
        "ci": gettext("%(level)s confidence interval", level="95%"),
        "overall": gettext("Partnership as a whole"),
        "suppressed": suppressed_text(k),
        "no_data": gettext("no responses"),
        "percent_valid": gettext("Share of valid answers"),
        "percent_all": gettext("Share of all answers"),
        "round": gettext("Round"),
        "rater": gettext("Rated by"),
        "ratee": gettext("Partner rated"),
        "gap_note": gettext("A gap in a line: that round's figure is hidden to protect "
                            "anonymity."),
        "decimal": "," if lang == "id" else ".",
        "alt_scores": gettext("Mean scores on a {min} to {max} scale with confidence "
                              "intervals: {items}."),
        "alt_heatmap": gettext("Mean scores on a {min} to {max} scale. {items}."),
        "alt_rating": gettext("How each partner rated the others, on a {min} to {max} scale. "
                              "{items}."),
        "alt_likert": gettext("Answers as a share of valid answers. {items}."),
        "alt_over_time": gettext("Mean score per round on a {min} to {max} scale. {items}."),
    }


@bp.app_context_processor
def _formatters() -> dict[str, Any]:
    """Formatting helpers for the results templates (names prefixed so nothing collides)."""
    return {"res_tr": tr, "res_num": num, "res_pct": pct, "res_p": pval,
            "res_suppressed": suppressed_text, "res_band_tone": band_tone}


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


def _may_open_partner(partner_id: int) -> bool:
    own = _own_partner_id()
    return own is None or own == partner_id


def _has_responses(round_: Round) -> bool:
    return bool(get_session().scalar(
        select(func.count()).select_from(SurveyResponse)
        .where(SurveyResponse.round_id == round_.id)))


def _round_snapshot(round_: Round) -> dict[str, Any] | None:
    """The published results of a round, or None while it has no response."""
    if not _has_responses(round_):
        return None
    return results_service.round_results_for(get_session(), round_)


def _questionnaire(round_: Round) -> Questionnaire:
    return Questionnaire.from_dict(round_.questionnaire_version.definition)


def _result_rounds(partnership: Partnership) -> list[Round]:
    """Rounds that have (or will have) results, oldest first."""
    rounds = [r for r in partnership.rounds if r.status is not RoundStatus.DRAFT]
    return sorted(rounds, key=lambda r: (r.opens_on or r.created_at.date(), r.id))


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the page to; each only selects published rows."""

    partner: int | None = None
    dimension: str | None = None
    sector: str | None = None

    def args(self) -> dict[str, Any]:
        values = {"partner": self.partner, "dimension": self.dimension, "sector": self.sector}
        return {key: value for key, value in values.items() if value not in (None, "")}

    @property
    def active(self) -> bool:
        return bool(self.args())


def _read_filters(partners: Sequence[Mapping[str, Any]], dimensions: Sequence[str]) -> Filters:
    """Read the GET filters; a value that names nothing on this page is ignored."""
    args = request.args
    partner = args.get("partner", type=int)
    if partner not in {p["partner_id"] for p in partners}:
        partner = None
    dimension = args.get("dimension") or None
    if dimension not in dimensions:
        dimension = None
    sector = args.get("sector") or None
    if sector not in {p["sector"] for p in partners}:
        sector = None
    return Filters(partner, dimension, sector)


def _select_partners(rows: Sequence[Mapping[str, Any]], filters: Filters) -> list[Any]:
    out = []
    for row in rows:
        if filters.sector and row["sector"] != filters.sector:
            continue
        if filters.partner and row["partner_id"] != filters.partner:
            continue
        out.append(row)
    return out


# --------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class ChartSpec:
    """One chart: its name and text alternative, how to draw it, and where it is served."""

    title: str
    description: str
    draw: Callable[[], Figure]
    url: str


@dataclass
class RoundContext:
    """What every panel and chart of a round page is built from."""

    partnership: Partnership
    round: Round
    snap: dict[str, Any]
    questionnaire: Questionnaire
    lang: str
    filters: Filters
    partner_rows: list[dict[str, Any]]  # participating partners, display order
    words: dict[str, str] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.snap["meta"]["k"])

    @property
    def shown(self) -> list[dict[str, Any]]:
        return _select_partners(self.partner_rows, self.filters)

    @property
    def shown_ids(self) -> list[Any]:
        return [row["partner_id"] for row in self.shown]

    @property
    def names(self) -> dict[Any, str]:
        return {row["partner_id"]: row["name"] for row in self.partner_rows}

    def table(self, dimension: str) -> dict[str, Any] | None:
        return next((t for t in self.snap["scores"] if t["dimension"] == dimension), None)

    def chart_url(self, chart: str, **params: Any) -> str:
        query = {**self.filters.args(), **{k: v for k, v in params.items() if v is not None}}
        return url_for("results.round_chart", partnership_id=self.partnership.id,
                       round_id=self.round.id, chart=chart, lang=self.lang,
                       v=self.round.results_version, **query)


def _spec(ctx_words: dict[str, str], url: str, title: str, alt_kind: str,
          draw: Callable[..., Figure], data: Any, **options: Any) -> ChartSpec:
    description = chart_alt_text(alt_kind, data, ctx_words, **options)
    return ChartSpec(title, description, partial(draw, data, labels=ctx_words, **options), url)


def _bands(questionnaire: Questionnaire, dimension: str, lang: str) -> list[dict] | None:
    """A dimension's score bands in ``lang`` (None without bands or without the dimension)."""
    if dimension == TOTAL:
        bands = questionnaire.total.bands if questionnaire.total else ()
    else:
        try:
            bands = questionnaire.dimension(dimension).bands
        except KeyError:
            return None
    return [{"label": b.label.get(lang), "min": b.min, "max": b.max} for b in bands] or None


def heatmap_spec(ctx: RoundContext) -> ChartSpec | None:
    heatmap = ctx.snap["heatmap"]
    if heatmap["scale_min"] is None or not heatmap["dimensions"]:
        return None
    keep = [i for i, pid in enumerate(heatmap["partners"]) if pid in set(ctx.shown_ids)]
    subset = {**heatmap, **{key: [heatmap[key][i] for i in keep]
                            for key in ("partners", "names", "mean", "n", "suppressed")}}
    if not keep and all(v is None for v in heatmap["partnership"] or [None]):
        return None
    inputs = heatmap_chart_inputs(subset, language=ctx.lang,
                                  partnership_label=gettext("Partnership"))
    matrix = inputs.pop("matrix")
    return _spec(ctx.words, ctx.chart_url("heatmap"), gettext("Scores of partners by dimension"),
                 "heatmap", heatmap_chart, matrix, suppressed_label=ctx.words["suppressed"],
                 **inputs)


def scores_spec(ctx: RoundContext, dimension: str, partner_ids: Sequence[Any] | None = None,
                *, url: str | None = None) -> ChartSpec | None:
    """A dot plot of one dimension: the chosen partners, then both partnership figures."""
    table = ctx.table(dimension)
    if table is None or table["scale_min"] is None:
        return None
    ids = set(ctx.shown_ids if partner_ids is None else partner_ids)
    subset = {**table, "partners": [p for p in table["partners"] if p["partner_id"] in ids]}
    bands = _bands(ctx.questionnaire, dimension, ctx.lang)
    inputs = score_chart_inputs(subset, language=ctx.lang, bands=bands,
                                partnership_label=gettext("Partnership, each partner equal"))
    pooled = score_chart_inputs({**subset, "partners": []}, language=ctx.lang,
                                partnership="respondent_weighted",
                                partnership_label=gettext("Partnership, each respondent equal"))
    rows = [*inputs.pop("rows"), *pooled["rows"]]
    title = gettext("Scores: %(dimension)s", dimension=tr(table["label"], ctx.lang))
    return _spec(ctx.words, url or ctx.chart_url("scores", dimension=dimension), title,
                 "partner_scores", partner_scores_chart, rows, **inputs)


def _scale_labels(ctx: RoundContext, item_id: str) -> tuple[list[str], str]:
    scale = ctx.questionnaire.scale(ctx.questionnaire.item(item_id).scale)
    dont_know = scale.dont_know.get(ctx.lang) if scale.dont_know else gettext("Don't know")
    return [p.label.get(ctx.lang) for p in scale.points], dont_know


def likert_spec(ctx: RoundContext, dimension: str, partner_id: Any = None) -> ChartSpec | None:
    """Diverging stacked bars of a dimension's items, for the partnership or one partner."""
    items = [d for d in ctx.snap["distributions"] if d["dimension"] == dimension]
    if not items or any(d["values"] != items[0]["values"] for d in items):
        return None
    inputs = likert_chart_inputs(items, language=ctx.lang, partner_id=partner_id)
    point_labels, dont_know = _scale_labels(ctx, items[0]["item_id"])
    if len(point_labels) != len(inputs["points"]):
        return None
    label = tr(ctx.table(dimension)["label"], ctx.lang) if ctx.table(dimension) else dimension
    title = gettext("Answers: %(dimension)s", dimension=label)
    url = ctx.chart_url("likert", dimension=dimension, partner=partner_id)
    data = inputs.pop("distributions")
    return _spec(ctx.words, url, title, "diverging_likert", diverging_likert_chart, data,
                 point_labels=point_labels, dont_know_label=dont_know, **inputs)


def gaps_spec(ctx: RoundContext) -> ChartSpec | None:
    """Per dimension the highest and the lowest partner, with their intervals."""
    rows, scale = [], None
    for gap in _dimension_gaps(ctx):
        table = ctx.table(gap["dimension"])
        if gap["reason"] is not None or table is None:
            continue
        if scale not in (None, (table["scale_min"], table["scale_max"])):
            return None
        scale = (table["scale_min"], table["scale_max"])
        by_id = {p["partner_id"]: p for p in table["partners"]}
        for group in (gap["high_group"], gap["low_group"]):
            partner = by_id.get(group)
            if partner is None or partner["suppressed"]:
                continue
            rows.append({"label": f"{tr(gap['label'], ctx.lang)}: {partner['name']}",
                         **{key: partner[key] for key in ("mean", "ci_low", "ci_high", "n")}})
    if not rows or scale is None or None in scale:
        return None
    return _spec(ctx.words, ctx.chart_url("gaps"), gettext("Widest gaps between partners"),
                 "partner_scores", partner_scores_chart, rows, scale_min=scale[0],
                 scale_max=scale[1])


def agreement_spec(ctx: RoundContext) -> ChartSpec | None:
    rows = _agreement_rows(ctx)
    if not rows:
        return None
    partners = [pid for pid in ctx.shown_ids if any(r["partner_id"] == pid for r in rows)]
    dims = [d for d in _dimension_ids(ctx) if any(r["dimension"] == d for r in rows)]
    value = {(r["partner_id"], r["dimension"]): r["rwg_j"] for r in rows}
    matrix = [[value.get((p, d)) for d in dims] for p in partners]
    if not partners or any(v is not None and not 0 <= v <= 1 for row in matrix for v in row):
        return None
    words = {**ctx.words, "score": gettext("Agreement index, 0 (split) to 1 (agreed)")}
    labels = {t["dimension"]: tr(t["label"], ctx.lang) for t in ctx.snap["scores"]}
    return _spec(words, ctx.chart_url("agreement"), gettext("Agreement within each partner"),
                 "heatmap", heatmap_chart, matrix, row_labels=[ctx.names[p] for p in partners],
                 col_labels=[labels[d] for d in dims], scale_min=0, scale_max=1,
                 suppressed_label=gettext("not computed"))


def reliability_spec(ctx: RoundContext) -> ChartSpec | None:
    rows = []
    for row in _reliability_rows(ctx):
        rows.append({"label": tr(row["label"], ctx.lang), "mean": row["alpha"],
                     "ci_low": row["ci_low"], "ci_high": row["ci_high"], "n": row["n"]})
    values = [r[key] for r in rows for key in ("mean", "ci_low", "ci_high") if r[key] is not None]
    if not values:
        return None
    low = min(0.0, math.floor(min(values) * 2) / 2)
    words = {**ctx.words, "score": gettext("Cronbach's alpha"), "mean": gettext("Alpha"),
             "no_data": gettext("not computed")}
    return _spec(words, ctx.chart_url("reliability"), gettext("Reliability of each dimension"),
                 "partner_scores", partner_scores_chart, rows, scale_min=low, scale_max=1.0)


def ratings_spec(ctx: RoundContext, item_id: str) -> ChartSpec | None:
    entry = next((e for e in ctx.snap["rating_matrix"] if e["item_id"] == item_id), None)
    if entry is None:
        return None
    try:
        rating = ctx.questionnaire.partner_rating(item_id)
        scale = ctx.questionnaire.scale(rating.scale)
    except KeyError:
        return None
    everyone = {row["partner_id"]: row["name"] for row in ctx.partner_rows}
    inputs = rating_matrix_chart_inputs(entry, partners=everyone)
    raters = set(ctx.shown_ids)
    keep = [i for i, pid in enumerate(everyone) if pid in raters]
    if not keep:
        return None
    matrix = [inputs["matrix"][i] for i in keep]
    counts = [inputs["n"][i] for i in keep]
    title = gettext("Ratings: %(item)s", item=tr(entry["label"], ctx.lang))
    return _spec(ctx.words, ctx.chart_url("ratings", item=item_id), title, "rating_matrix",
                 rating_matrix_chart, matrix, n=counts,
                 rater_labels=[inputs["rater_labels"][i] for i in keep],
                 ratee_labels=inputs["ratee_labels"], scale_min=float(scale.min_value),
                 scale_max=float(scale.max_value), suppressed_label=ctx.words["suppressed"])


def compare_spec(ctx: RoundContext, partner_id: Any) -> ChartSpec | None:
    """One partner's score on every dimension next to the partnership's (pooled, with CI)."""
    rows, scale = [], None
    name = ctx.names.get(partner_id)
    for table in ctx.snap["scores"]:
        if scale not in (None, (table["scale_min"], table["scale_max"])):
            return None
        scale = (table["scale_min"], table["scale_max"])
        label = tr(table["label"], ctx.lang)
        partner = next((p for p in table["partners"] if p["partner_id"] == partner_id), None)
        if partner is None or partner["suppressed"]:
            return None
        rows.append({"label": f"{label}: {name}",
                     **{key: partner[key] for key in ("mean", "ci_low", "ci_high", "n")}})
        block = table["partnership"]
        pooled = None if block["suppressed"] else block["respondent_weighted"]
        if pooled is None:
            rows.append({"label": f"{label}: {gettext('Partnership')}", "suppressed": True})
        else:
            rows.append({"label": f"{label}: {gettext('Partnership')}",
                         **{key: pooled[key] for key in ("mean", "ci_low", "ci_high", "n")}})
    if not rows or scale is None or None in scale:
        return None
    title = gettext("%(partner)s compared with the partnership", partner=name)
    return _spec(ctx.words, ctx.chart_url("compare", partner=partner_id), title,
                 "partner_scores", partner_scores_chart, rows, scale_min=scale[0],
                 scale_max=scale[1], bands=_shared_bands(ctx))


def _shared_bands(ctx: RoundContext) -> list[dict] | None:
    """The bands every table uses, when they all use the same ones (else no shading)."""
    found = [_bands(ctx.questionnaire, t["dimension"], ctx.lang) for t in ctx.snap["scores"]]
    return found[0] if found and all(b == found[0] for b in found) else None


def _round_chart(ctx: RoundContext, chart: str) -> ChartSpec | None:
    """The chart a chart URL names (parameters from the query string), or None."""
    args = request.args
    dimension = ctx.filters.dimension or args.get("dimension")
    if chart == "heatmap":
        return heatmap_spec(ctx)
    if chart == "scores" and dimension:
        return scores_spec(ctx, dimension)
    if chart == "likert" and dimension:
        partner = args.get("partner", type=int)
        if partner is not None and partner not in ctx.names:
            return None
        return likert_spec(ctx, dimension, partner)
    if chart == "gaps":
        return gaps_spec(ctx)
    if chart == "agreement":
        return agreement_spec(ctx)
    if chart == "reliability":
        return reliability_spec(ctx)
    if chart == "ratings" and args.get("item"):
        return ratings_spec(ctx, args["item"])
    if chart == "compare":
        partner = args.get("partner", type=int)
        if partner is None or partner not in ctx.names or not _may_open_partner(partner):
            return None
        return compare_spec(ctx, partner)
    return None


ROUND_CHARTS = frozenset({"heatmap", "scores", "likert", "gaps", "agreement", "reliability",
                          "ratings", "compare"})
OVER_TIME_CHARTS = frozenset({"scores", "partners"})


def _serve(spec: ChartSpec | None, key: tuple) -> Response:
    """The chart as cached SVG; 204 when these results have nothing to draw."""
    if spec is None:
        return Response(status=204)
    svg = cached_svg(key, spec.draw, title=spec.title, description=spec.description)
    return svg_response(svg)


def _chart_language() -> str:
    lang = request.args.get("lang")
    return lang if lang in LANGUAGES else select_locale()


# --------------------------------------------------------------------------- round page model


def _dimension_ids(ctx: RoundContext) -> list[str]:
    return [t["dimension"] for t in ctx.snap["scores"] if t["dimension"] != TOTAL]


def _dimension_gaps(ctx: RoundContext) -> list[dict[str, Any]]:
    rows = ctx.snap["perception_gaps"]["dimensions"]
    if ctx.filters.dimension:
        rows = [r for r in rows if r["dimension"] == ctx.filters.dimension]
    return sorted(rows, key=lambda r: -(r["gap"] if r["gap"] is not None else -1))


def _agreement_rows(ctx: RoundContext) -> list[dict[str, Any]]:
    ids = set(ctx.shown_ids)
    rows = [r for r in ctx.snap["agreement"] if r["partner_id"] in ids]
    if ctx.filters.dimension:
        rows = [r for r in rows if r["dimension"] == ctx.filters.dimension]
    order = {pid: i for i, pid in enumerate(ctx.shown_ids)}
    dims = {d: i for i, d in enumerate(_dimension_ids(ctx))}
    return sorted(rows, key=lambda r: (not r["split"], order[r["partner_id"]],
                                       dims.get(r["dimension"], 99)))


def _reliability_rows(ctx: RoundContext) -> list[dict[str, Any]]:
    rows = ctx.snap["reliability"]
    if ctx.filters.dimension:
        rows = [r for r in rows if r["dimension"] == ctx.filters.dimension]
    return rows


def _partner_rows(snap: Mapping[str, Any], round_: Round) -> list[dict[str, Any]]:
    """The round's participating partners as the snapshot lists them (with n or hidden)."""
    participants = {p.id for p in round_.partners}
    return [row for row in snap["response_counts"]["partners"]
            if row["partner_id"] in participants or row["suppressed"] or row["n"]]


def _response_rows(ctx: RoundContext, with_rates: bool) -> list[dict[str, Any]]:
    """Response counts, and for coordinators codes issued and the response rate."""
    fieldwork = {}
    if with_rates:
        summary = fieldwork_summary(get_session(), ctx.round)
        fieldwork = {row.partner.id: row for row in summary.rows}
    out = []
    for row in ctx.shown:
        work = fieldwork.get(row["partner_id"])
        rate = None
        if (work is not None and not row["suppressed"] and row["n"] is not None
                and work.links == 0 and work.codes_issued >= MIN_CODES_FOR_RATE):
            rate = row["n"] / work.codes_issued
        out.append({**row, "codes": None if work is None else work.codes_issued,
                    "links": None if work is None else work.links, "rate": rate})
    return out


def _distribution_rows(ctx: RoundContext, dimension: str) -> list[dict[str, Any]]:
    """Per item of a dimension: the partnership's and the shown partners' distributions."""
    ids = ctx.shown_ids
    out = []
    for entry in ctx.snap["distributions"]:
        if entry["dimension"] != dimension:
            continue
        by_id = {p["partner_id"]: p for p in entry.get("partners") or []}
        out.append({**entry, "shown_partners": [(pid, by_id.get(pid)) for pid in ids]})
    return out


def _prompts(ctx: RoundContext, dimension: str) -> list[str]:
    try:
        dim = ctx.questionnaire.dimension(dimension)
    except KeyError:
        return []
    return [prompt.get(ctx.lang) for prompt in dim.discussion_prompts]


def _score_panels(ctx: RoundContext) -> list[dict[str, Any]]:
    differences = {row["dimension"]: row for row in ctx.snap["partner_differences"]}
    hidden = {row["partner_id"] for row in ctx.partner_rows if row["suppressed"]}
    panels = []
    tables = sorted(ctx.snap["scores"], key=lambda t: t["dimension"] != TOTAL)
    for table in tables:
        dim = table["dimension"]
        if ctx.filters.dimension and dim != ctx.filters.dimension:
            continue
        ids = set(ctx.shown_ids)
        panels.append({
            "dimension": dim,
            "table": table,
            "partners": [p for p in table["partners"] if p["partner_id"] in ids],
            "chart": scores_spec(ctx, dim),
            "difference": differences.get(dim),
            "distributions": [] if dim == TOTAL else _distribution_rows(ctx, dim),
            "likert": None if dim == TOTAL else likert_spec(ctx, dim, ctx.filters.partner),
            "prompts": [] if dim == TOTAL else _prompts(ctx, dim),
            "scale": _scale_points(ctx, dim),
            "hidden_in_partnership": bool(hidden),
        })
    return panels


def _scale_points(ctx: RoundContext, dimension: str) -> list[tuple[Any, str]]:
    """(value, label) of the scale a dimension's items use, for the distribution table."""
    entry = next((d for d in ctx.snap["distributions"] if d["dimension"] == dimension), None)
    if entry is None:
        return []
    labels, _ = _scale_labels(ctx, entry["item_id"])
    if len(labels) != len(entry["values"]):
        return [(value, num(value, 0)) for value in entry["values"]]
    return list(zip(entry["values"], labels, strict=True))


def _gap_panel(ctx: RoundContext) -> dict[str, Any]:
    differences = {row["dimension"]: row for row in ctx.snap["partner_differences"]}
    items = [r for r in ctx.snap["perception_gaps"]["items"] if r["reason"] is None]
    if ctx.filters.dimension:
        items = [r for r in items if r.get("dimension") == ctx.filters.dimension]
    items.sort(key=lambda r: -r["gap"])
    dims = _dimension_gaps(ctx)
    lead = next((r for r in dims if r["reason"] is None), None)
    return {"dimensions": dims, "items": items[:TOP_ITEM_GAPS], "differences": differences,
            "lead": lead, "chart": gaps_spec(ctx)}


def _rating_panels(ctx: RoundContext) -> list[dict[str, Any]]:
    ids = ctx.shown_ids
    panels = []
    for entry in ctx.snap["rating_matrix"]:
        cells = {(c["rater_partner_id"], c["ratee_partner_id"]): c for c in entry["cells"]}
        asymmetries = [a for a in ctx.snap["asymmetries"] if a["item_id"] == entry["item_id"]
                       and (a["rater"] in ids or a["ratee"] in ids)]
        asymmetries.sort(key=lambda a: a["difference"])
        panels.append({"entry": entry, "cells": cells, "raters": ids,
                       "ratees": [row["partner_id"] for row in ctx.partner_rows],
                       "asymmetries": asymmetries, "chart": ratings_spec(ctx, entry["item_id"])})
    return panels


@dataclass(frozen=True)
class OpenGroup:
    """Open answers to one question from one shown partner, or from the other partners."""

    label: str | None  # None: the pooled group of partners too small to name
    partner_id: Any
    answers: list[tuple[str, str]]  # (language, text), shuffled


def _shuffled(rows: Sequence[tuple[str, str]], round_id: int) -> list[tuple[str, str]]:
    """A stable shuffle: order by a hash of the text, never by arrival."""
    return sorted(rows, key=lambda row: hashlib.sha256(
        f"{round_id}\x00{row[1]}".encode()).hexdigest())


def open_answer_groups(ctx: RoundContext, only_partner: Any = None
                       ) -> tuple[str, list[tuple[str, list[OpenGroup]]]]:
    """Open answers by question, grouped so no group has fewer than the comment threshold.

    A partner's answers are named when the snapshot shows it with at least
    ``comment_threshold(k)`` responses. The other partners' answers are pooled, unnamed, when
    together they hold at least that many responses (partnership total minus the named ones);
    otherwise they are left out. Returns a status (``"closed"``, ``"open_round"``,
    ``"none"``) and the groups per question text.
    """
    if ctx.round.status is not RoundStatus.CLOSED:
        return "open_round", []
    threshold = comment_threshold(ctx.k)
    total = ctx.snap["response_counts"]["partnership"]["n"]
    named = {row["partner_id"]: row["name"] for row in ctx.partner_rows
             if not row["suppressed"] and (row["n"] or 0) >= threshold}
    named_n = sum(row["n"] for row in ctx.partner_rows if row["partner_id"] in named)
    pooled_ok = total is not None and total - named_n >= threshold
    rows = get_session().execute(
        select(OpenAnswer.question_id, OpenAnswer.partner_id, OpenAnswer.language,
               OpenAnswer.text).where(OpenAnswer.round_id == ctx.round.id)).all()
    shown = set(ctx.shown_ids)
    questions = []
    for question in ctx.questionnaire.open_questions:
        per_partner: dict[Any, list[tuple[str, str]]] = {}
        pooled: list[tuple[str, str]] = []
        for qid, partner_id, language, text in rows:
            if qid != question.id or not text.strip():
                continue
            if partner_id in named:
                per_partner.setdefault(partner_id, []).append((language, text))
            else:
                pooled.append((language, text))
        groups = [OpenGroup(named[pid], pid, _shuffled(per_partner[pid], ctx.round.id))
                  for pid in named if pid in per_partner and pid in shown
                  and (only_partner is None or pid == only_partner)]
        if pooled and pooled_ok and only_partner is None and not ctx.filters.active:
            groups.append(OpenGroup(None, None, _shuffled(pooled, ctx.round.id)))
        questions.append((question.text.get(ctx.lang), groups))
    return ("closed" if rows else "none"), questions


def _round_context(round_: Round, snap: dict[str, Any], lang: str, filters: Filters | None = None
                   ) -> RoundContext:
    rows = _partner_rows(snap, round_)
    questionnaire = _questionnaire(round_)
    if filters is None:
        dims = [t["dimension"] for t in snap["scores"]]
        filters = _read_filters(rows, dims)
    ctx = RoundContext(g.partnership, round_, snap, questionnaire, lang, filters, rows)
    ctx.words = _chart_words(ctx.k, lang)
    return ctx


# --------------------------------------------------------------------------- routes: round


@bp.get("/partnerships/<int:partnership_id>", endpoint="partnership")
@partnership_role(*ALL_ROLES)
def partnership_index(partnership_id: int):
    """The partnership's rounds with results, and the way to the over-time view."""
    rounds = _result_rounds(g.partnership)
    closed = [r for r in rounds if r.status is RoundStatus.CLOSED]
    return render_template("results/index.html", partnership=g.partnership, rounds=rounds,
                           closed=closed, own_partner=_own_partner())


def _own_partner() -> Partner | None:
    own = _own_partner_id()
    return get_session().get(Partner, own) if own is not None else None


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
    lang = select_locale()
    snap = _round_snapshot(round_)
    context: dict[str, Any] = {"partnership": g.partnership, "round": round_,
                               "rounds": _result_rounds(g.partnership),
                               "own_partner": _own_partner(), "snap": snap}
    if snap is not None:
        ctx = _round_context(round_, snap, lang)
        status, questions = open_answer_groups(ctx)
        context.update(
            ctx=ctx, filters=ctx.filters, k=ctx.k, lang=lang,
            is_coordinator=g.role is Role.COORDINATOR,
            responses=_response_rows(ctx, g.role is Role.COORDINATOR),
            heatmap=heatmap_spec(ctx), score_panels=_score_panels(ctx), gaps=_gap_panel(ctx),
            agreement=_agreement_rows(ctx), agreement_chart=agreement_spec(ctx),
            reliability=_reliability_rows(ctx), reliability_chart=reliability_spec(ctx),
            ratings=_rating_panels(ctx), open_status=status, open_questions=questions,
            comment_threshold=comment_threshold(ctx.k), min_codes=MIN_CODES_FOR_RATE,
            openable=[row["partner_id"] for row in ctx.partner_rows
                      if not row["suppressed"] and _may_open_partner(row["partner_id"])],
            item_labels={d["item_id"]: d["label"] for d in snap["distributions"]},
            reverse_items={d["item_id"] for d in snap["distributions"] if d["reverse"]},
            sectors=sorted({row["sector"] for row in ctx.partner_rows}),
            dimensions=[(t["dimension"], t["label"]) for t in snap["scores"]],
        )
    if request.args.get("partial") == "1":
        return render_template("results/_round_panels.html", **context)
    return render_template("results/round.html", **context)


@bp.get("/partnerships/<int:partnership_id>/rounds/<int:round_id>/charts/<chart>.svg",
        endpoint="round_chart")
@partnership_role(*ALL_ROLES)
def round_chart(partnership_id: int, round_id: int, chart: str):
    """One chart of a round as SVG, cached per results version, language and parameters."""
    if chart not in ROUND_CHARTS:
        abort(404)
    round_ = _round_or_404(round_id)
    snap = _round_snapshot(round_)
    if snap is None:
        return Response(status=204)
    lang = _chart_language()
    with force_locale(lang):
        ctx = _round_context(round_, snap, lang)
        spec = _round_chart(ctx, chart)
        params = tuple(sorted((k, v) for k, v in request.args.items() if k not in {"v", "lang"}))
        return _serve(spec, (round_.id, round_.results_version, chart, lang, params))


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
    snap = _round_snapshot(round_)
    context: dict[str, Any] = {"partnership": g.partnership, "round": round_, "partner": partner,
                               "snap": snap, "own_partner": _own_partner()}
    if snap is not None:
        ctx = _round_context(round_, snap, lang, Filters())
        row = next((r for r in snap["response_counts"]["partners"]
                    if r["partner_id"] == partner.id), None)
        context.update(ctx=ctx, k=ctx.k, lang=lang, row=row,
                       others=[r for r in ctx.partner_rows if r["partner_id"] != partner.id]
                       if _own_partner_id() is None else [])
        if row is not None and not row["suppressed"] and row["n"]:
            context.update(_partner_view(ctx, partner.id))
    return render_template("results/partner.html", **context)


def _partner_view(ctx: RoundContext, partner_id: Any) -> dict[str, Any]:
    tables = sorted(ctx.snap["scores"], key=lambda t: t["dimension"] != TOTAL)
    rows = []
    for table in tables:
        mine = next(p for p in table["partners"] if p["partner_id"] == partner_id)
        rows.append({"table": table, "partner": mine})
    agreement = [r for r in ctx.snap["agreement"] if r["partner_id"] == partner_id]
    likerts = [(t["dimension"], t["label"], likert_spec(ctx, t["dimension"], partner_id))
               for t in ctx.snap["scores"] if t["dimension"] != TOTAL]
    ratings = []
    for entry in ctx.snap["rating_matrix"]:
        given = [c for c in entry["cells"] if c["rater_partner_id"] == partner_id]
        received = [c for c in entry["cells"] if c["ratee_partner_id"] == partner_id]
        asym = [a for a in ctx.snap["asymmetries"] if a["item_id"] == entry["item_id"]
                and partner_id in (a["rater"], a["ratee"])]
        ratings.append({"entry": entry, "given": given, "received": received,
                        "asymmetries": asym})
    status, questions = open_answer_groups(ctx, only_partner=partner_id)
    return {"rows": rows, "compare": compare_spec(ctx, partner_id), "agreement": agreement,
            "likerts": likerts, "ratings": ratings, "open_status": status,
            "open_questions": questions, "comment_threshold": comment_threshold(ctx.k)}


# --------------------------------------------------------------------------- over time


@dataclass
class OverTimeContext:
    partnership: Partnership
    data: dict[str, Any]
    lang: str
    filters: Filters
    partner_rows: list[dict[str, Any]]
    questionnaire: Questionnaire
    k: int
    words: dict[str, str] = field(default_factory=dict)

    @property
    def round_labels(self) -> dict[Any, str]:
        return {r["id"]: r["name"] for r in self.data["rounds"]}

    @property
    def shown_ids(self) -> list[Any]:
        return [row["partner_id"] for row in _select_partners(self.partner_rows, self.filters)]

    def chart_url(self, chart: str, **params: Any) -> str:
        query = {**self.filters.args(), **{k: v for k, v in params.items() if v is not None}}
        version = "-".join(f"{r.id}.{r.results_version}" for r in _closed_rounds(
            self.partnership))
        return url_for("results.over_time_chart", partnership_id=self.partnership.id,
                       chart=chart, lang=self.lang, v=version, **query)

    def scale(self, dimension: str | None) -> tuple[float, float] | None:
        q = self.questionnaire
        try:
            if dimension is None:
                ranges = {q.score_range(d.id) for d in q.dimensions} | {q.total_range()}
                return ranges.pop() if len(ranges) == 1 else None
            return q.total_range() if dimension == TOTAL else q.score_range(dimension)
        except KeyError:
            return None


def _closed_rounds(partnership: Partnership) -> list[Round]:
    return [r for r in _result_rounds(partnership) if r.status is RoundStatus.CLOSED]


def over_time_dimensions_spec(ctx: OverTimeContext) -> ChartSpec | None:
    """The partnership's pooled score (with its interval) per dimension and round."""
    scale = ctx.scale(None)
    series = ctx.data["series"]
    if ctx.filters.dimension:
        series = [s for s in series if s["dimension"] == ctx.filters.dimension]
        scale = ctx.scale(ctx.filters.dimension)
    if scale is None or not series or len(series) > MAX_SERIES:
        return None
    inputs = over_time_chart_inputs(series, language=ctx.lang, partnership="respondent_weighted")
    return _spec(ctx.words, ctx.chart_url("scores"), gettext("The partnership over time"),
                 "over_time", over_time_chart, inputs["rows"], round_labels=ctx.round_labels,
                 series_labels=inputs["series_labels"], scale_min=scale[0], scale_max=scale[1])


def over_time_partners_spec(ctx: OverTimeContext, dimension: str) -> ChartSpec | None:
    """Every shown partner's score on one dimension per round, with the partnership."""
    scale = ctx.scale(dimension)
    entry = next((s for s in ctx.data["series"] if s["dimension"] == dimension), None)
    if scale is None or entry is None:
        return None
    ids = set(ctx.shown_ids)
    inputs = over_time_chart_inputs(ctx.data["series"], language=ctx.lang, dimension=dimension)
    rows = [r for r in inputs["rows"] if r["series"] in ids]
    labels = {key: label for key, label in inputs["series_labels"].items() if key in ids}
    own = over_time_chart_inputs([entry], language=ctx.lang, partnership="respondent_weighted")
    rows += [{**r, "series": "partnership"} for r in own["rows"]]
    labels["partnership"] = gettext("Partnership")
    if len(labels) > MAX_SERIES:
        return None
    bands = _bands(ctx.questionnaire, dimension, ctx.lang)
    title = gettext("%(dimension)s over time", dimension=tr(entry["label"], ctx.lang))
    return _spec(ctx.words, ctx.chart_url("partners", dimension=dimension), title, "over_time",
                 over_time_chart, rows, round_labels=ctx.round_labels, series_labels=labels,
                 scale_min=scale[0], scale_max=scale[1], bands=bands)


def _over_time_context(data: dict[str, Any], lang: str) -> OverTimeContext:
    partnership = g.partnership
    rows = [{"partner_id": p.id, "name": p.name, "sector": p.sector.value}
            for p in partnership.partners]
    dims = [s["dimension"] for s in data["series"]]
    filters = _read_filters(rows, dims)
    latest = _closed_rounds(partnership)[-1]
    ctx = OverTimeContext(partnership, data, lang, filters, rows, _questionnaire(latest),
                          int(data["meta"]["k"]))
    ctx.words = _chart_words(ctx.k, lang)
    return ctx


def _over_time_data() -> dict[str, Any] | None:
    """The over-time snapshot, or None while fewer than two closed rounds have responses."""
    closed = [r for r in _closed_rounds(g.partnership) if _has_responses(r)]
    if len(closed) < 2:
        return None
    return results_service.over_time_for(get_session(), g.partnership)


def _over_time_panels(ctx: OverTimeContext) -> list[dict[str, Any]]:
    ids = set(ctx.shown_ids)
    panels = []
    for entry in sorted(ctx.data["series"], key=lambda s: s["dimension"] != TOTAL):
        dim = entry["dimension"]
        if ctx.filters.dimension and dim != ctx.filters.dimension:
            continue
        partners = [p for p in entry["partners"] if p["partner_id"] in ids]
        changes = [c for c in ctx.data["changes"] if c["dimension"] == dim
                   and (c["partner_id"] is None or c["partner_id"] in ids)]
        trends = [t for t in ctx.data["trends"] if t["dimension"] == dim
                  and (t["partner_id"] is None or t["partner_id"] in ids)]
        panels.append({"entry": entry, "partners": partners, "changes": changes,
                       "trends": trends, "chart": over_time_partners_spec(ctx, dim)})
    return panels


@bp.get("/partnerships/<int:partnership_id>/over-time", endpoint="over_time")
@partnership_role(*ALL_ROLES)
def over_time_page(partnership_id: int):
    """Scores across closed rounds, the changes between them and what changed most."""
    lang = select_locale()
    data = _over_time_data()
    context: dict[str, Any] = {"partnership": g.partnership, "data": data,
                               "closed": _closed_rounds(g.partnership)}
    if data is not None:
        ctx = _over_time_context(data, lang)
        ids = set(ctx.shown_ids)
        context.update(
            ctx=ctx, filters=ctx.filters, k=ctx.k, lang=lang,
            overview=over_time_dimensions_spec(ctx), panels=_over_time_panels(ctx),
            largest=[c for c in data["largest_changes"]
                     if c["partner_id"] is None or c["partner_id"] in ids],
            round_labels=ctx.round_labels,
            sectors=sorted({row["sector"] for row in ctx.partner_rows}),
            partners=ctx.partner_rows,
            dimensions=[(s["dimension"], s["label"]) for s in data["series"]],
            item_notes=_item_notes(ctx),
        )
    if request.args.get("partial") == "1":
        return render_template("results/_over_time_panels.html", **context)
    return render_template("results/over_time.html", **context)


def _item_notes(ctx: OverTimeContext) -> list[dict[str, Any]]:
    """Notes on items that only some questionnaire versions have, with round names and texts."""
    names = ctx.round_labels
    texts = _item_texts(_closed_rounds(ctx.partnership), ctx.lang)
    out = []
    for note in ctx.data["notes"]:
        kind = note.get("note")
        if kind == "items_not_in_both_rounds":
            rounds = [note["round_from"], note["round_to"]]
        elif kind == "items_not_in_round":
            rounds = [note["round_id"]]
        elif kind == "items_not_in_all_rounds":
            rounds = list(note["rounds"])
        else:
            continue
        out.append({"kind": kind, "rounds": [names.get(r, str(r)) for r in rounds],
                    "items": [f"“{texts.get(i, i)}”" for i in note["items"]]})
    return out


def _item_texts(rounds: Sequence[Round], lang: str) -> dict[str, str]:
    """Item id -> text over the rounds' questionnaire versions (the newest text wins)."""
    versions = {r.questionnaire_version_id: r.questionnaire_version for r in rounds}
    texts: dict[str, str] = {}
    for version in sorted(versions.values(), key=lambda v: v.id):
        for item in Questionnaire.from_dict(version.definition).items:
            texts[item.id] = item.text.get(lang)
    return texts


@bp.get("/partnerships/<int:partnership_id>/over-time/charts/<chart>.svg",
        endpoint="over_time_chart")
@partnership_role(*ALL_ROLES)
def over_time_chart_svg(partnership_id: int, chart: str):
    """One over-time chart as SVG, cached per closed rounds' results versions."""
    if chart not in OVER_TIME_CHARTS:
        abort(404)
    data = _over_time_data()
    if data is None:
        return Response(status=204)
    lang = _chart_language()
    with force_locale(lang):
        ctx = _over_time_context(data, lang)
        dimension = ctx.filters.dimension or request.args.get("dimension")
        if chart == "scores":
            spec = over_time_dimensions_spec(ctx)
        else:
            spec = over_time_partners_spec(ctx, dimension) if dimension else None
        versions = tuple((r.id, r.results_version) for r in _closed_rounds(g.partnership))
        params = tuple(sorted((k, v) for k, v in request.args.items() if k not in {"v", "lang"}))
        return _serve(spec, ("over_time", g.partnership.id, versions, chart, lang, params))
