"""What the printable reports show: the published snapshots, charts as embedded SVG, prompts.

The round report and the over-time report print *only* figures from the snapshot dictionaries
of :mod:`app.services.results` (``round_results_for``, ``over_time_for``), so a partner hidden
on the results pages is hidden in print too, in the same tables. Text that is not a result
(discussion prompts, dimension descriptions, scale ends) comes from the round's immutable
questionnaire version. Open-text answers are never part of a report: their threshold and
shuffling belong to the results page.

Charts are drawn by :mod:`analysis.charts`, written as SVG by :mod:`app.charts` (cached) and
embedded as ``data:`` URIs, so the printed page and the server-side PDF need no further
request. Each report has a key (:func:`report_key`): a hash of the snapshot it shows, the
names it prints, the questionnaire version and the language. The PDF cache and the chart
cache use it, so a new snapshot or a renamed partnership is a new document.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from matplotlib.figure import Figure
from sqlalchemy.orm import Session

from analysis import charts
from analysis.language import format_number, format_p
from analysis.results import TOTAL
from app.charts import cached_svg
from app.models import Partnership, Round
from app.questionnaires import Questionnaire
from app.services.questionnaires import definition_of
from app.services.results import over_time_for, response_count, round_results_for

__all__ = [
    "REPORT_LAYOUT_VERSION",
    "Chart",
    "Formatter",
    "OverTimeReport",
    "RoundReport",
    "Snapshot",
    "chart_labels",
    "over_time_report",
    "over_time_snapshot",
    "report_key",
    "round_report",
    "round_snapshot",
]

#: Bump when the report's layout changes what a cached PDF would show.
REPORT_LAYOUT_VERSION = 1
#: How many item-level perception gaps the report lists (the widest first).
ITEM_GAPS_SHOWN = 8


# --------------------------------------------------------------------------- formatting


@dataclass(frozen=True)
class Formatter:
    """Numbers as the report's reader writes them (decimal comma in Indonesian).

    Every method takes None (a hidden or missing figure) and returns an empty string for it,
    so a template never prints "None".
    """

    language: str

    def num(self, value: float | None, decimals: int = 1) -> str:
        return "" if value is None else format_number(value, self.language, decimals)

    def count(self, value: int | None) -> str:
        return "" if value is None else format_number(value, self.language, 0)

    def pct(self, share: float | None) -> str:
        return "" if share is None else format_number(100 * share, self.language, 0) + "%"

    def p(self, value: float | None) -> str:
        return "" if value is None else format_p(value, self.language)

    def ci(self, low: float | None, high: float | None) -> str:
        if low is None or high is None:
            return ""
        return f"{self.num(low)}\u2013{self.num(high)}"

    def text(self, value: Mapping[str, str] | str | None) -> str:
        """A ``{"id", "en"}`` text of the snapshot in the reader's language."""
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        return value.get(self.language) or next(iter(value.values()), "")

    def day(self, value: date | str | None) -> str:
        if not value:
            return ""
        return format_date(date.fromisoformat(value) if isinstance(value, str) else value,
                           format="long")

    def period(self, start: date | str | None, end: date | str | None) -> str:
        """``1 Maret 2025 – 31 Maret 2025``; one end alone when the other is not set."""
        return " \u2013 ".join(day for day in (self.day(start), self.day(end)) if day)


def current_language() -> str:
    return get_locale().language if get_locale() is not None else "id"


# --------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class Chart:
    """A chart ready for an ``<img>``: SVG as a data URI, and its text alternative."""

    src: str
    alt: str


def chart_labels(language: str, k: int) -> dict[str, str]:
    """The words a chart prints, in the reader's language (keys of DEFAULT_LABELS)."""
    return {
        "score": _("Mean score"),
        "mean": _("Mean"),
        "ci": _("Confidence interval (95%)"),
        "overall": _("Partnership as a whole"),
        "suppressed": _("fewer than %(k)s responses", k=k),
        "no_data": _("no responses"),
        "percent_valid": _("Percent of valid answers"),
        "percent_all": _("Percent of all answers"),
        "round": _("Round"),
        "rater": _("Rated by"),
        "ratee": _("Partner rated"),
        "gap_note": _("A gap in a line: that round's figure is hidden to protect anonymity."),
        "decimal": "," if language == "id" else ".",
        "alt_scores": _("Mean scores on a {min} to {max} scale with confidence intervals "
                        "(95%): {items}."),
        "alt_heatmap": _("Mean scores on a {min} to {max} scale. {items}."),
        "alt_rating": _("How each partner rated the others, on a {min} to {max} scale. {items}."),
        "alt_likert": _("Answers as a share of valid answers. {items}."),
        "alt_over_time": _("Mean score per round on a {min} to {max} scale. {items}."),
    }


def _svg_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _chart(key: str, name: str, kind: str, draw: Callable[..., Figure], data: Any,
           labels: Mapping[str, str], title: str, **options: Any) -> Chart:
    """Draw (or take from the chart cache) one chart and describe it in words."""
    alt = charts.chart_alt_text(kind, data, labels, **options)
    svg = cached_svg((key, name), lambda: draw(data, labels=labels, **options),
                     title=title, description=alt)
    return Chart(src=_svg_uri(svg), alt=alt)


# --------------------------------------------------------------------------- keys


def report_key(kind: str, payload: Mapping[str, Any], *, language: str,
               names: Mapping[str, Any]) -> str:
    """Identity of one rendered report: what it shows, in which words and layout."""
    blob = json.dumps(
        {"kind": kind, "layout": REPORT_LAYOUT_VERSION, "language": language,
         "names": names, "payload": payload},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return f"report:{kind}:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- round report


@dataclass(frozen=True)
class ScoreSection:
    """One dimension (or the health index) of a round: its table, chart and texts."""

    table: Mapping[str, Any]
    chart: Chart
    description: str
    distribution_charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True)
class PromptGroup:
    label: str
    score: float | None
    prompts: list[str]


@dataclass(frozen=True)
class RoundReport:
    """Everything the round report template prints."""

    key: str
    language: str
    partnership_name: str
    results: Mapping[str, Any] | None  # None: nobody has answered yet
    k: int
    has_results: bool
    prompts: list[PromptGroup]
    names: dict[Any, str] = field(default_factory=dict)
    overview: Chart | None = None
    sections: list[ScoreSection] = field(default_factory=list)
    rating_charts: list[tuple[Mapping[str, Any], Chart, list[Mapping[str, Any]]]] = field(
        default_factory=list)
    item_gaps: list[Mapping[str, Any]] = field(default_factory=list)
    agreement_rows: list[dict[str, Any]] = field(default_factory=list)
    agreement_dimensions: list[Mapping[str, Any]] = field(default_factory=list)
    split_groups: list[Mapping[str, Any]] = field(default_factory=list)
    scale_min: float | None = None
    scale_max: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """A published snapshot as one report shows it: ``key`` names the rendered document."""

    results: Mapping[str, Any] | None  # None: nothing published (no responses, < 2 rounds)
    key: str
    language: str

    @property
    def has_results(self) -> bool:
        """Whether there is anything to print: the round's total is not hidden."""
        if self.results is None:
            return False
        meta = self.results["meta"]
        return "n_responses" not in meta or bool(meta["n_responses"])


def round_snapshot(session: Session, partnership: Partnership, round_: Round) -> Snapshot:
    """The round's published results and the report's key; cheap once published."""
    language = current_language()
    if response_count(session, round_) == 0:  # the analysis needs at least one response
        return Snapshot(None, "", language)
    results = round_results_for(session, round_)
    key = report_key("round", results, language=language,
                     names={"partnership": partnership.name, "round": round_.name,
                            "version": round_.questionnaire_version_id})
    return Snapshot(results, key, language)


def round_report(session: Session, partnership: Partnership, round_: Round,
                 snapshot: Snapshot | None = None) -> RoundReport:
    """Build the round report (charts included) from the round's published snapshot."""
    snapshot = snapshot or round_snapshot(session, partnership, round_)
    questionnaire = definition_of(round_.questionnaire_version)
    language, results, key = snapshot.language, snapshot.results, snapshot.key
    if results is None:
        return RoundReport(key="", language=language, partnership_name=partnership.name,
                           results=None, k=partnership.min_group_size, has_results=False,
                           prompts=_prompts(questionnaire, {"scores": []}, Formatter(language)))
    k = int(results["meta"]["k"])
    names = {row["partner_id"]: row["name"] for row in results["response_counts"]["partners"]}
    has_results = snapshot.has_results
    labels = chart_labels(language, k)
    fmt = Formatter(language)
    sections = [_score_section(key, table, results, questionnaire, labels, fmt)
                for table in _ordered_scores(results["scores"])] if has_results else []
    dimensions = [d for d in results["meta"]["dimensions"]]
    scales = {(d["scale_min"], d["scale_max"]) for d in dimensions}
    scale_min, scale_max = next(iter(scales)) if len(scales) == 1 else (None, None)
    return RoundReport(
        key=key,
        language=language,
        partnership_name=partnership.name,
        results=results,
        k=k,
        has_results=has_results,
        names=names,
        overview=_overview_chart(key, results, labels, fmt) if has_results else None,
        sections=sections,
        rating_charts=_rating_charts(key, results, labels, fmt) if has_results else [],
        item_gaps=_widest_item_gaps(results["perception_gaps"]["items"]),
        agreement_rows=_agreement_rows(results),
        agreement_dimensions=[d for d in dimensions if any(
            row["dimension"] == d["dimension"] for row in results["agreement"])],
        split_groups=[row for row in results["agreement"] if row.get("split")],
        prompts=_prompts(questionnaire, results, fmt),
        scale_min=scale_min,
        scale_max=scale_max,
    )


def _ordered_scores(scores: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The health index first, then the dimensions in questionnaire order."""
    return ([t for t in scores if t["dimension"] == TOTAL]
            + [t for t in scores if t["dimension"] != TOTAL])


def _bands(questionnaire: Questionnaire, dimension: str) -> list[dict[str, Any]] | None:
    if dimension == TOTAL:
        total = questionnaire.total
        bands = total.bands if total is not None else ()
    else:
        try:
            bands = questionnaire.dimension(dimension).bands
        except (KeyError, ValueError):  # a dimension of an earlier version only
            bands = ()
    return [band.to_dict() for band in bands] or None


def _description(questionnaire: Questionnaire, dimension: str, fmt: Formatter) -> str:
    if dimension == TOTAL:
        return _("The health index is the mean of a respondent's dimension scores: one "
                 "figure for the partnership's health as a whole.")
    try:
        text = questionnaire.dimension(dimension).description
    except (KeyError, ValueError):
        return ""
    return fmt.text(text.to_dict()) if text is not None else ""


def _score_section(key: str, table: Mapping[str, Any], results: Mapping[str, Any],
                   questionnaire: Questionnaire, labels: Mapping[str, str],
                   fmt: Formatter) -> ScoreSection:
    dimension = table["dimension"]
    title = fmt.text(table["label"])
    inputs = charts.score_chart_inputs(
        table, language=fmt.language, partnership_label=_("Partnership as a whole"),
        bands=_bands(questionnaire, dimension))
    chart = _chart(key, f"scores:{dimension}", "partner_scores", charts.partner_scores_chart,
                   inputs.pop("rows"), labels, title, **inputs)
    return ScoreSection(
        table=table, chart=chart, description=_description(questionnaire, dimension, fmt),
        distribution_charts=_distribution_charts(key, dimension, results, questionnaire,
                                                 labels, fmt),
    )


def _distribution_charts(key: str, dimension: str, results: Mapping[str, Any],
                         questionnaire: Questionnaire, labels: Mapping[str, str],
                         fmt: Formatter) -> list[Chart]:
    """The partnership's answers to the dimension's items, one chart per response scale."""
    if dimension == TOTAL:
        return []
    entries = [e for e in results["distributions"]
               if e["dimension"] == dimension and e.get("partnership") is not None]
    groups: list[list[Mapping[str, Any]]] = []
    for entry in entries:  # consecutive items on the same scale points share a chart
        if groups and list(groups[-1][0]["values"]) == list(entry["values"]):
            groups[-1].append(entry)
        else:
            groups.append([entry])
    out = []
    for index, group in enumerate(groups):
        scale = _scale_of(questionnaire, group[0]["item_id"])
        if scale is None:
            continue
        inputs = charts.likert_chart_inputs(group, language=fmt.language,
                                            item_ids=[e["item_id"] for e in group])
        title = _("Answers to each statement")
        out.append(_chart(
            key, f"likert:{dimension}:{index}", "diverging_likert", charts.diverging_likert_chart,
            inputs.pop("distributions"), labels, title,
            point_labels=[fmt.text(p.label.to_dict()) for p in scale.points],
            dont_know_label=(fmt.text(scale.dont_know.to_dict()) if scale.dont_know
                             else _("Don't know")),
            **inputs))
    return out


def _scale_of(questionnaire: Questionnaire, item_id: str):
    try:
        return questionnaire.scale(questionnaire.item(item_id).scale)
    except (KeyError, ValueError):
        return None


def _overview_chart(key: str, results: Mapping[str, Any], labels: Mapping[str, str],
                    fmt: Formatter) -> Chart | None:
    heatmap = results["heatmap"]
    if not heatmap.get("names") or heatmap.get("scale_min") is None:
        return None
    inputs = charts.heatmap_chart_inputs(heatmap, language=fmt.language,
                                         partnership_label=_("Partnership as a whole"))
    return _chart(key, "heatmap", "heatmap", charts.heatmap_chart, inputs.pop("matrix"),
                  labels, _("Scores of each partner on each dimension"),
                  suppressed_label=labels["suppressed"], **inputs)


def _rating_charts(key: str, results: Mapping[str, Any], labels: Mapping[str, str],
                   fmt: Formatter) -> list[tuple[Mapping[str, Any], Chart, list]]:
    partners = {row["partner_id"]: row["name"] for row in results["response_counts"]["partners"]}
    scale = results["heatmap"]
    out = []
    for entry in results["rating_matrix"]:
        if scale.get("scale_min") is None:
            break
        inputs = charts.rating_matrix_chart_inputs(entry, partners=partners)
        chart = _chart(key, f"ratings:{entry['item_id']}", "rating_matrix",
                       charts.rating_matrix_chart, inputs.pop("matrix"), labels,
                       fmt.text(entry["label"]), scale_min=scale["scale_min"],
                       scale_max=scale["scale_max"], suppressed_label=labels["suppressed"],
                       **inputs)
        asymmetries = [a for a in results["asymmetries"] if a["item_id"] == entry["item_id"]]
        out.append((entry, chart, asymmetries))
    return out


def _widest_item_gaps(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    tested = [row for row in rows if row.get("gap") is not None and row.get("reason") is None]
    return sorted(tested, key=lambda row: -row["gap"])[:ITEM_GAPS_SHOWN]


def _agreement_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Agreement as partner rows with one cell per dimension (None: not computed or hidden)."""
    rows: dict[Any, dict[str, Any]] = {}
    for row in results["agreement"]:
        entry = rows.setdefault(row["partner_id"], {"name": row["name"], "cells": {}})
        entry["cells"][row["dimension"]] = row
    return list(rows.values())


def _prompts(questionnaire: Questionnaire, results: Mapping[str, Any],
             fmt: Formatter) -> list[PromptGroup]:
    """Each dimension's workshop prompts, the lowest-scoring dimension first."""
    scores = {t["dimension"]: t for t in results["scores"]}
    groups = []
    for dimension in questionnaire.dimensions:
        prompts = [fmt.text(p.to_dict()) for p in dimension.discussion_prompts]
        if not prompts:
            continue
        table = scores.get(dimension.id)
        score = None
        if table is not None and not table["partnership"]["suppressed"]:
            score = (table["partnership"].get("partner_weighted") or {}).get("mean")
        groups.append(PromptGroup(fmt.text(dimension.title.to_dict()), score, prompts))
    return sorted(groups, key=lambda g: (g.score is None, g.score if g.score is not None else 0))


# --------------------------------------------------------------------------- over time


@dataclass(frozen=True)
class OverTimeReport:
    """Everything the over-time report template prints; ``results`` None: too few rounds."""

    key: str
    language: str
    partnership_name: str
    results: Mapping[str, Any] | None
    k: int
    rounds: list[Mapping[str, Any]]
    overview: Chart | None
    dimensions: list[tuple[Mapping[str, Any], Chart | None, list[Mapping[str, Any]]]]
    partnership_changes: list[Mapping[str, Any]]
    labels: dict[Any, Mapping[str, str]] = field(default_factory=dict)
    round_names: dict[Any, str] = field(default_factory=dict)


def over_time_snapshot(session: Session, partnership: Partnership) -> Snapshot:
    """The partnership's published over-time results and the report's key."""
    language = current_language()
    results = over_time_for(session, partnership)
    if results is None:
        return Snapshot(None, "", language)
    key = report_key("over_time", results, language=language,
                     names={"partnership": partnership.name})
    return Snapshot(results, key, language)


def over_time_report(session: Session, partnership: Partnership,
                     snapshot: Snapshot | None = None) -> OverTimeReport:
    """Build the over-time report (charts included) from the published over-time snapshot."""
    snapshot = snapshot or over_time_snapshot(session, partnership)
    language, results, key = snapshot.language, snapshot.results, snapshot.key
    if results is None:
        return OverTimeReport(key="", language=language, partnership_name=partnership.name,
                              results=None, k=partnership.min_group_size, rounds=[],
                              overview=None, dimensions=[], partnership_changes=[])
    k = int(results["meta"]["k"])
    fmt = Formatter(language)
    labels = chart_labels(language, k)
    round_names = {r["id"]: r["name"] for r in results["rounds"]}
    scale = _over_time_scale(partnership, results)
    overview = None
    dimensions = []
    if scale is not None:
        inputs = charts.over_time_chart_inputs(results["series"], language=language)
        overview = _chart(key, "over_time", "over_time", charts.over_time_chart,
                          inputs.pop("rows"), labels, _("Partnership scores per round"),
                          round_labels=round_names, scale_min=scale[0], scale_max=scale[1],
                          **inputs)
    for entry in results["series"]:
        chart = None
        if scale is not None and entry["partners"]:
            inputs = charts.over_time_chart_inputs(results["series"], language=language,
                                                   dimension=entry["dimension"])
            chart = _chart(key, f"over_time:{entry['dimension']}", "over_time",
                           charts.over_time_chart, inputs.pop("rows"), labels,
                           fmt.text(entry["label"]), round_labels=round_names,
                           scale_min=scale[0], scale_max=scale[1], **inputs)
        changes = [row for row in results["changes"]
                   if row["dimension"] == entry["dimension"] and row["partner_id"] is not None]
        dimensions.append((entry, chart, changes))
    return OverTimeReport(
        key=key, language=language, partnership_name=partnership.name, results=results, k=k,
        rounds=list(results["rounds"]), overview=overview, dimensions=dimensions,
        partnership_changes=[row for row in results["changes"] if row["partner_id"] is None],
        labels={entry["dimension"]: entry["label"] for entry in results["series"]},
        round_names=round_names,
    )


def _over_time_scale(partnership: Partnership, results: Mapping[str, Any]
                     ) -> tuple[float, float] | None:
    """The response scale's ends (from the latest round's questionnaire), if all items share
    one; an over-time chart needs them and the snapshot does not repeat them."""
    latest_id = results["rounds"][-1]["id"]
    latest = next((r for r in partnership.rounds if r.id == latest_id), None)
    if latest is None:
        return None
    questionnaire = definition_of(latest.questionnaire_version)
    ends = {(questionnaire.scale(item.scale).min_value, questionnaire.scale(item.scale).max_value)
            for item in questionnaire.items}
    if len(ends) != 1:
        return None
    low, high = next(iter(ends))
    return float(low), float(high)
