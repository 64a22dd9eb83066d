"""What the printable reports show: the published snapshots, as the presentation layer lays
them out, with charts embedded as SVG.

The round report and the over-time report print *only* the panels of :mod:`app.results`
built from the snapshot dictionaries of :mod:`app.services.results`, the same panels and
tables (``templates/results/_macros.html``) as the results pages, so a partner hidden on the
pages is hidden in print too and every figure reads the same. Open-text answers are never
part of a report: their threshold and shuffling belong to the results page.

Charts are the pages' chart specifications, written as SVG by :mod:`app.charts` (cached) and
embedded as ``data:`` URIs, so the printed page and the server-side PDF need no further
request. Each report has a key (:func:`report_key`): a hash of the snapshot it shows, the
names it prints, the questionnaire version and the language. The PDF cache and the chart
cache use it, so a new snapshot or a renamed partnership is a new document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale
from sqlalchemy.orm import Session

from app.models import Partnership, Round
from app.results import charts, panels
from app.results.context import OverTimeView, RoundView, partner_rows
from app.results.rounds import closed_rounds
from app.results.snapshots import over_time_snapshot, round_snapshot, shows_figures
from app.services.questionnaires import definition_of

__all__ = [
    "REPORT_LAYOUT_VERSION",
    "OverTimeReport",
    "RoundReport",
    "Snapshot",
    "over_time_report",
    "over_time_snapshot_for_report",
    "report_key",
    "round_report",
    "round_snapshot_for_report",
]

#: Bump when the report's layout changes what a cached PDF would show.
REPORT_LAYOUT_VERSION = 2
#: How many item-level perception gaps the report lists (the widest first).
ITEM_GAPS_SHOWN = 8


def current_language() -> str:
    return get_locale().language if get_locale() is not None else "id"


def report_key(kind: str, payload: Mapping[str, Any], *, language: str,
               names: Mapping[str, Any]) -> str:
    """Identity of one rendered report: what it shows, in which words and layout."""
    blob = json.dumps(
        {"kind": kind, "layout": REPORT_LAYOUT_VERSION, "language": language,
         "names": names, "payload": payload},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return f"report:{kind}:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """A published snapshot as one report shows it: ``key`` names the rendered document."""

    results: dict[str, Any] | None  # None: nothing published (no responses, < 2 rounds)
    key: str
    language: str

    @property
    def has_results(self) -> bool:
        """Whether there is anything to print (:func:`app.results.snapshots.shows_figures`)."""
        return shows_figures(self.results)


def round_snapshot_for_report(session: Session, partnership: Partnership,
                              round_: Round) -> Snapshot:
    """The round's published results and the report's key; cheap once published."""
    language = current_language()
    results = round_snapshot(session, round_)
    if results is None:
        return Snapshot(None, "", language)
    key = report_key("round", results, language=language,
                     names={"partnership": partnership.name, "round": round_.name,
                            "version": round_.questionnaire_version_id})
    return Snapshot(results, key, language)


def over_time_snapshot_for_report(session: Session, partnership: Partnership) -> Snapshot:
    """The partnership's published over-time results and the report's key."""
    language = current_language()
    results = over_time_snapshot(session, partnership)
    if results is None:
        return Snapshot(None, "", language)
    key = report_key("over_time", results, language=language,
                     names={"partnership": partnership.name})
    return Snapshot(results, key, language)


# --------------------------------------------------------------------------- round report


@dataclass(frozen=True)
class RoundReport:
    """Everything the round report template prints."""

    key: str
    language: str
    partnership_name: str
    results: dict[str, Any] | None  # None: nobody has answered yet
    k: int
    has_results: bool
    view: RoundView | None = None
    panels: dict[str, Any] = field(default_factory=dict)
    overview: charts.EmbeddedChart | None = None
    sections: list[dict[str, Any]] = field(default_factory=list)
    rating_charts: list[charts.EmbeddedChart | None] = field(default_factory=list)
    scale_min: float | None = None
    scale_max: float | None = None

    @property
    def names(self) -> dict[Any, str]:
        return self.view.names if self.view is not None else {}


def round_report(session: Session, partnership: Partnership, round_: Round,
                 snapshot: Snapshot | None = None) -> RoundReport:
    """Build the round report (charts embedded) from the round's published snapshot."""
    snapshot = snapshot or round_snapshot_for_report(session, partnership, round_)
    language, results, key = snapshot.language, snapshot.results, snapshot.key
    if results is None:
        return RoundReport(key="", language=language, partnership_name=partnership.name,
                           results=None, k=partnership.min_group_size, has_results=False)
    view = RoundView(round_.id, False, results, definition_of(round_.questionnaire_version),
                     language, partner_rows(results, [p.id for p in round_.partners]))
    laid_out = panels.round_panels(view, item_gaps=ITEM_GAPS_SHOWN)
    has_results = snapshot.has_results
    sections = []
    for panel in laid_out["score_panels"] if has_results else []:
        sections.append({**panel, "chart": charts.embed(panel["chart"], key),
                         "likert": charts.embed(panel["likert"], key)})
    scales = {(d["scale_min"], d["scale_max"]) for d in results["meta"]["dimensions"]}
    scale_min, scale_max = next(iter(scales)) if len(scales) == 1 else (None, None)
    return RoundReport(
        key=key, language=language, partnership_name=partnership.name, results=results,
        k=view.k, has_results=has_results, view=view, panels=laid_out,
        overview=charts.embed(laid_out["heatmap"], key) if has_results else None,
        sections=sections,
        rating_charts=[charts.embed(p["chart"], key) for p in laid_out["ratings"]]
        if has_results else [],
        scale_min=scale_min, scale_max=scale_max)


# --------------------------------------------------------------------------- over time


@dataclass(frozen=True)
class OverTimeReport:
    """Everything the over-time report template prints; ``results`` None: too few rounds."""

    key: str
    language: str
    partnership_name: str
    results: dict[str, Any] | None
    k: int
    panels: dict[str, Any] = field(default_factory=dict)
    overview: charts.EmbeddedChart | None = None
    charts: list[charts.EmbeddedChart | None] = field(default_factory=list)

    @property
    def rounds(self) -> list[Mapping[str, Any]]:
        return list(self.results["rounds"]) if self.results else []


def over_time_report(session: Session, partnership: Partnership,
                     snapshot: Snapshot | None = None) -> OverTimeReport:
    """Build the over-time report (charts embedded) from the published over-time snapshot."""
    snapshot = snapshot or over_time_snapshot_for_report(session, partnership)
    language, results, key = snapshot.language, snapshot.results, snapshot.key
    if results is None:
        return OverTimeReport(key="", language=language, partnership_name=partnership.name,
                              results=None, k=partnership.min_group_size)
    rows = [{"partner_id": p.id, "name": p.name, "sector": p.sector.value}
            for p in partnership.partners]
    latest = closed_rounds(partnership)[-1]
    view = OverTimeView(results, definition_of(latest.questionnaire_version), language, rows)
    laid_out = panels.over_time_panels(view)
    return OverTimeReport(
        key=key, language=language, partnership_name=partnership.name, results=results,
        k=view.k, panels=laid_out, overview=charts.embed(laid_out["overview"], key),
        charts=[charts.embed(p["chart"], key) for p in laid_out["panels"]])
