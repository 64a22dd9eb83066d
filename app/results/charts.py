"""Chart specifications: which chart of a snapshot to draw, with its title and text alternative.

A :class:`ChartSpec` is built from a :class:`~app.results.context.RoundView` or an
:class:`~app.results.context.OverTimeView`: the pages serve it as cached SVG at its URL
(``spec.url``), the report embeds it as a ``data:`` URI (:func:`embed`), and both show the
same ``alt`` text, which is also the SVG's ``<desc>``. The figures are drawn by
:mod:`analysis.charts` in the words of :func:`app.results.words.chart_words`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask_babel import gettext
from matplotlib.figure import Figure

from analysis import charts as draw
from analysis.privacy import comment_threshold
from app.charts import cached_svg
from app.results.bands import dimension_bands, shared_bands
from app.results.context import OverTimeView, RoundView
from app.results.words import suppressed

__all__ = ["MAX_SERIES", "OVER_TIME_CHARTS", "ROUND_CHARTS", "SCREENS", "ChartSpec", "embed",
           "over_time_chart", "parse_screen", "round_chart"]

#: The screens a chart can be drawn for (``?screen=`` of a chart URL); "page" by default.
SCREENS = frozenset(draw.SCREENS)

#: over_time_chart draws at most this many lines (one colour and marker each).
MAX_SERIES = 8


@dataclass(frozen=True)
class ChartSpec:
    """One chart: its name and parameters, title and text alternative, and how to draw it."""

    name: str
    title: str
    description: str
    draw: Callable[[], Figure]
    url: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    screen: str = "page"

    def at(self, screen: str) -> ChartSpec:
        """The same chart drawn for another screen (:data:`SCREENS`): its own size and URL."""
        if screen not in SCREENS:
            raise ValueError(f"unknown screen {screen!r}")
        if screen == self.screen:
            return self
        url = self.url
        if url is not None:
            parts = urlsplit(url)
            query = [(k, v) for k, v in parse_qsl(parts.query) if k != "screen"]
            if screen != "page":
                query.append(("screen", screen))
            url = urlunsplit(parts._replace(query=urlencode(query)))
        params = {k: v for k, v in self.params.items() if k != "screen"}
        if screen != "page":
            params["screen"] = screen
        return replace(self, draw=partial(self.draw, screen=screen), url=url, params=params,
                       screen=screen)

    @property
    def src(self) -> str | None:
        """Where an ``<img>`` finds the picture: its URL (pages) or embedded SVG (report)."""
        return self.url

    @property
    def key(self) -> tuple[Any, ...]:
        """Names the picture among the charts of one snapshot, language and filters."""
        return (self.name, tuple(sorted((k, str(v)) for k, v in self.params.items())))


@dataclass(frozen=True)
class EmbeddedChart:
    """A chart as an ``<img>`` of a printed page: SVG as a data URI, and its alt text."""

    src: str
    description: str
    title: str


def embed(spec: ChartSpec | None, key: Any) -> EmbeddedChart | None:
    """Draw (or take from the chart cache) a chart as a data URI; ``key`` names the document."""
    if spec is None:
        return None
    svg = cached_svg((key, *spec.key), spec.draw, title=spec.title,
                     description=spec.description)
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return EmbeddedChart(uri, spec.description, spec.title)


def parse_screen(value: str | None) -> str | None:
    """The screen a ``?screen=`` value names ("page" when absent); None for anything else."""
    if value is None or value == "":
        return "page"
    return value if value in SCREENS else None


def _spec(view: RoundView | OverTimeView, words: Mapping[str, str], name: str, title: str,
          alt_kind: str, chart: Callable[..., Figure], data: Any, *,
          params: Mapping[str, Any] | None = None, **options: Any) -> ChartSpec:
    params = {k: v for k, v in (params or {}).items() if v is not None}
    description = draw.chart_alt_text(alt_kind, data, words, **options)
    return ChartSpec(name, title, description, partial(chart, data, labels=dict(words), **options),
                     view.url(name, **params), params)


# --------------------------------------------------------------------------- a round


def heatmap_spec(view: RoundView) -> ChartSpec | None:
    """Every shown partner's score on every dimension, and the partnership's."""
    heatmap = view.snap["heatmap"]
    if heatmap["scale_min"] is None or not heatmap["dimensions"]:
        return None
    keep = [i for i, pid in enumerate(heatmap["partners"]) if pid in set(view.shown_ids)]
    subset = {**heatmap, **{key: [heatmap[key][i] for i in keep]
                            for key in ("partners", "names", "mean", "n", "suppressed")}}
    if not keep and all(v is None for v in heatmap["partnership"] or [None]):
        return None
    inputs = draw.heatmap_chart_inputs(subset, language=view.language,
                                       partnership_label=gettext("Partnership"))
    matrix = inputs.pop("matrix")
    return _spec(view, view.words, "heatmap", gettext("Scores of partners by dimension"),
                 "heatmap", draw.heatmap_chart, matrix,
                 suppressed_label=view.words["suppressed"], **inputs)


def scores_spec(view: RoundView, dimension: str) -> ChartSpec | None:
    """A dot plot of one dimension: the shown partners, then both partnership figures."""
    table = view.table(dimension)
    if table is None or table["scale_min"] is None:
        return None
    ids = set(view.shown_ids)
    subset = {**table, "partners": [p for p in table["partners"] if p["partner_id"] in ids]}
    bands = dimension_bands(view.questionnaire, dimension, view.language)
    inputs = draw.score_chart_inputs(subset, language=view.language, bands=bands,
                                     partnership_label=gettext("Partnership, each partner equal"))
    pooled = draw.score_chart_inputs(
        {**subset, "partners": []}, language=view.language, partnership="respondent_weighted",
        partnership_label=gettext("Partnership, each respondent equal"))
    rows = [*inputs.pop("rows"), *pooled["rows"]]
    title = gettext("Scores: %(dimension)s", dimension=view.text(table["label"]))
    return _spec(view, view.words, "scores", title, "partner_scores", draw.partner_scores_chart,
                 rows, params={"dimension": dimension}, **inputs)


def scale_labels(view: RoundView, item_id: str) -> tuple[list[str], str] | None:
    """The point labels of an item's scale and its "don't know" label, in the view's language."""
    try:
        scale = view.questionnaire.scale(view.questionnaire.item(item_id).scale)
    except (KeyError, ValueError):
        return None
    dont_know = scale.dont_know.get(view.language) if scale.dont_know else gettext("Don't know")
    return [p.label.get(view.language) for p in scale.points], dont_know


def likert_spec(view: RoundView, dimension: str, partner_id: Any = None,
                item_ids: Sequence[str] | None = None) -> ChartSpec | None:
    """Diverging stacked bars of a dimension's items, for the partnership or one partner.

    ``item_ids`` keeps only those items of the dimension (a slide shows a few at a time);
    an id that is not one of the dimension's items gives None.
    """
    items = [d for d in view.snap["distributions"] if d["dimension"] == dimension]
    if item_ids is not None:
        by_id = {d["item_id"]: d for d in items}
        if not item_ids or any(i not in by_id for i in item_ids):
            return None
        items = [by_id[i] for i in dict.fromkeys(item_ids)]
    if not items or any(d["values"] != items[0]["values"] for d in items):
        return None
    inputs = draw.likert_chart_inputs(items, language=view.language, partner_id=partner_id)
    labels = scale_labels(view, items[0]["item_id"])
    if labels is None or len(labels[0]) != len(inputs["points"]):
        return None
    table = view.table(dimension)
    label = view.text(table["label"]) if table else dimension
    title = gettext("Answers: %(dimension)s", dimension=label)
    # A distribution is hidden below the comment threshold, not below k: say that number.
    words = {**view.words, "suppressed": suppressed(comment_threshold(view.k))}
    return _spec(view, words, "likert", title, "diverging_likert", draw.diverging_likert_chart,
                 inputs.pop("distributions"),
                 params={"dimension": dimension, "partner": partner_id,
                         "items": ",".join(d["item_id"] for d in items)
                         if item_ids is not None else None},
                 point_labels=labels[0], dont_know_label=labels[1], **inputs)


def _same_scale(tables: Sequence[Mapping[str, Any]]) -> tuple[float, float] | None:
    scales = {(t["scale_min"], t["scale_max"]) for t in tables}
    if len(scales) != 1:
        return None
    scale = scales.pop()
    return None if None in scale else scale


def gaps_spec(view: RoundView, gaps: Sequence[Mapping[str, Any]]) -> ChartSpec | None:
    """Per dimension the highest and the lowest partner, with their intervals."""
    rows, tables = [], []
    for gap in gaps:
        table = view.table(gap["dimension"])
        if gap["reason"] is not None or table is None:
            continue
        tables.append(table)
        by_id = {p["partner_id"]: p for p in table["partners"]}
        for group in (gap["high_group"], gap["low_group"]):
            partner = by_id.get(group)
            if partner is None or partner["suppressed"]:
                continue
            rows.append({"label": f"{view.text(gap['label'])}: {partner['name']}",
                         **{key: partner[key] for key in ("mean", "ci_low", "ci_high", "n")}})
    scale = _same_scale(tables)
    if not rows or scale is None:
        return None
    return _spec(view, view.words, "gaps", gettext("Widest gaps between partners"),
                 "partner_scores", draw.partner_scores_chart, rows, scale_min=scale[0],
                 scale_max=scale[1])


def agreement_spec(view: RoundView, rows: Sequence[Mapping[str, Any]]) -> ChartSpec | None:
    """The agreement index of each shown partner on each dimension, as a heatmap."""
    if not rows:
        return None
    partners = [pid for pid in view.shown_ids if any(r["partner_id"] == pid for r in rows)]
    dims = [d for d in view.dimension_ids() if any(r["dimension"] == d for r in rows)]
    value = {(r["partner_id"], r["dimension"]): r["rwg_j"] for r in rows}
    matrix = [[value.get((p, d)) for d in dims] for p in partners]
    if not partners or any(v is not None and not 0 <= v <= 1 for row in matrix for v in row):
        return None
    words = {**view.words, "score": gettext("Agreement index, 0 (split) to 1 (agreed)")}
    labels = {t["dimension"]: view.text(t["label"]) for t in view.snap["scores"]}
    return _spec(view, words, "agreement", gettext("Agreement within each partner"), "heatmap",
                 draw.heatmap_chart, matrix, row_labels=[view.names[p] for p in partners],
                 col_labels=[labels[d] for d in dims], scale_min=0, scale_max=1,
                 suppressed_label=gettext("not computed"))


def reliability_spec(view: RoundView, rows: Sequence[Mapping[str, Any]]) -> ChartSpec | None:
    """Cronbach's alpha of each dimension with its interval."""
    points = []
    for row in rows:
        low, high = row["ci_low"], row["ci_high"]
        if low is None or high is None or low > high:  # no usable interval (degenerate data)
            low = high = None
        points.append({"label": view.text(row["label"]), "mean": row["alpha"],
                       "ci_low": low, "ci_high": high, "n": row["n"]})
    values = [r[key] for r in points for key in ("mean", "ci_low", "ci_high")
              if r[key] is not None]
    if not values:
        return None
    low = min(0.0, math.floor(min(values) * 2) / 2)
    words = {**view.words, "score": gettext("Cronbach's alpha"), "mean": gettext("Alpha"),
             "no_data": gettext("not computed")}
    return _spec(view, words, "reliability", gettext("Reliability of each dimension"),
                 "partner_scores", draw.partner_scores_chart, points, scale_min=low,
                 scale_max=1.0)


def ratings_spec(view: RoundView, item_id: str) -> ChartSpec | None:
    """Who rates whom on one partner-rating item: shown raters by every rated partner."""
    entry = next((e for e in view.snap["rating_matrix"] if e["item_id"] == item_id), None)
    if entry is None:
        return None
    try:
        rating = view.questionnaire.partner_rating(item_id)
        scale = view.questionnaire.scale(rating.scale)
    except (KeyError, ValueError):
        return None
    everyone = view.names
    inputs = draw.rating_matrix_chart_inputs(entry, partners=everyone)
    raters = set(view.shown_ids)
    keep = [i for i, pid in enumerate(everyone) if pid in raters]
    if not keep:
        return None
    title = gettext("Ratings: %(item)s", item=view.text(entry["label"]))
    return _spec(view, view.words, "ratings", title, "rating_matrix", draw.rating_matrix_chart,
                 [inputs["matrix"][i] for i in keep], params={"item": item_id},
                 n=[inputs["n"][i] for i in keep],
                 rater_labels=[inputs["rater_labels"][i] for i in keep],
                 ratee_labels=inputs["ratee_labels"], scale_min=float(scale.min_value),
                 scale_max=float(scale.max_value), suppressed_label=view.words["suppressed"])


def _point(label: str, block: Mapping[str, Any] | None) -> dict[str, Any]:
    if block is None:
        return {"label": label, "suppressed": True}
    return {"label": label, **{key: block[key] for key in ("mean", "ci_low", "ci_high", "n")}}


def compare_spec(view: RoundView, partner_id: Any) -> ChartSpec | None:
    """One partner's score on every dimension next to the partnership's (pooled, with CI)."""
    rows = []
    name = view.names.get(partner_id)
    tables = view.snap["scores"]
    scale = _same_scale(tables)
    for table in tables:
        label = view.text(table["label"])
        partner = next((p for p in table["partners"] if p["partner_id"] == partner_id), None)
        if partner is None or partner["suppressed"]:
            return None
        rows.append(_point(f"{label}: {name}", partner))
        block = table["partnership"]
        rows.append(_point(f"{label}: {gettext('Partnership')}",
                           None if block["suppressed"] else block["respondent_weighted"]))
    if not rows or scale is None:
        return None
    bands = shared_bands(view.questionnaire, [t["dimension"] for t in tables], view.language)
    title = gettext("%(partner)s compared with the partnership", partner=name)
    return _spec(view, view.words, "compare", title, "partner_scores",
                 draw.partner_scores_chart, rows, params={"partner": partner_id},
                 scale_min=scale[0], scale_max=scale[1], bands=bands)


# --------------------------------------------------------------------------- over time


def over_time_dimensions_spec(view: OverTimeView) -> ChartSpec | None:
    """The partnership's pooled score (with its interval) per dimension and round."""
    series = view.data["series"]
    scale = view.scale(None)
    if view.filters.dimension:
        series = [s for s in series if s["dimension"] == view.filters.dimension]
        scale = view.scale(view.filters.dimension)
    if scale is None or not series or len(series) > MAX_SERIES:
        return None
    inputs = draw.over_time_chart_inputs(series, language=view.language,
                                         partnership="respondent_weighted")
    return _spec(view, view.words, "scores", gettext("The partnership over time"), "over_time",
                 draw.over_time_chart, inputs["rows"], round_labels=view.round_labels,
                 series_labels=inputs["series_labels"], scale_min=scale[0],
                 scale_max=scale[1])


def over_time_partners_spec(view: OverTimeView, dimension: str) -> ChartSpec | None:
    """Every shown partner's score on one dimension per round, with the partnership."""
    scale = view.scale(dimension)
    entry = next((s for s in view.data["series"] if s["dimension"] == dimension), None)
    if scale is None or entry is None:
        return None
    ids = set(view.shown_ids)
    inputs = draw.over_time_chart_inputs(view.data["series"], language=view.language,
                                         dimension=dimension)
    rows = [r for r in inputs["rows"] if r["series"] in ids]
    labels = {key: label for key, label in inputs["series_labels"].items() if key in ids}
    own = draw.over_time_chart_inputs([entry], language=view.language,
                                      partnership="respondent_weighted")
    rows += [{**r, "series": "partnership"} for r in own["rows"]]
    labels["partnership"] = gettext("Partnership")
    if len(labels) > MAX_SERIES:
        return None
    bands = dimension_bands(view.questionnaire, dimension, view.language)
    title = gettext("%(dimension)s over time", dimension=view.text(entry["label"]))
    return _spec(view, view.words, "partners", title, "over_time", draw.over_time_chart, rows,
                 params={"dimension": dimension}, round_labels=view.round_labels,
                 series_labels=labels, scale_min=scale[0], scale_max=scale[1], bands=bands)


# --------------------------------------------------------------------------- by name


ROUND_CHARTS = frozenset({"heatmap", "scores", "likert", "gaps", "agreement", "reliability",
                          "ratings", "compare"})
OVER_TIME_CHARTS = frozenset({"scores", "partners"})


def round_chart(view: RoundView, chart: str, args: Mapping[str, Any],
                may_open_partner: Callable[[Any], bool] = lambda _: True) -> ChartSpec | None:
    """The chart a chart URL names, its parameters read from ``args``; None: nothing to draw."""
    from app.results import panels  # the rows the page shows are the rows charted

    dimension = view.filters.dimension or args.get("dimension")
    partner = _partner_arg(args)
    if chart == "heatmap":
        return heatmap_spec(view)
    if chart == "scores" and dimension:
        return scores_spec(view, dimension)
    if chart == "likert" and dimension:
        if partner is not None and partner not in view.names:
            return None
        items = args.get("items")
        return likert_spec(view, dimension, partner,
                           items.split(",") if isinstance(items, str) else None)
    if chart == "gaps":
        return gaps_spec(view, panels.dimension_gaps(view))
    if chart == "agreement":
        return agreement_spec(view, panels.agreement_rows(view))
    if chart == "reliability":
        return reliability_spec(view, panels.reliability_rows(view))
    if chart == "ratings" and args.get("item"):
        return ratings_spec(view, args["item"])
    if chart == "compare":
        if partner is None or partner not in view.names or not may_open_partner(partner):
            return None
        return compare_spec(view, partner)
    return None


def over_time_chart(view: OverTimeView, chart: str, args: Mapping[str, Any]
                    ) -> ChartSpec | None:
    """The over-time chart a chart URL names; None: nothing to draw."""
    if chart == "scores":
        return over_time_dimensions_spec(view)
    dimension = view.filters.dimension or args.get("dimension")
    if chart == "partners" and dimension:
        return over_time_partners_spec(view, dimension)
    return None


def _partner_arg(args: Mapping[str, Any]) -> int | None:
    try:
        return int(args.get("partner") or "")
    except ValueError:
        return None
