"""Display-ready panels of a round and of a partnership over time.

Each function selects and orders rows of the published snapshot for one panel (a dimension's
scores, the widest gaps, agreement, reliability, ratings, open answers, prompts) and pairs
them with their chart. The results pages, the printable report and, next, the workshop
slides and the one-page summary print these panels with the one macro library
(``templates/results/_macros.html``); none of them selects, orders or thresholds rows
itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from analysis import language as sentences
from analysis.privacy import comment_groups, comment_threshold
from app.results import charts
from app.results.context import TOTAL, OverTimeView, RoundView

__all__ = [
    "ITEM_GAPS_SHOWN",
    "OpenGroup",
    "PromptGroup",
    "agreement_matrix",
    "agreement_rows",
    "dimension_description",
    "dimension_gaps",
    "distribution_rows",
    "item_notes",
    "meta_perception_rows",
    "open_answer_groups",
    "ordered_scores",
    "over_time_panels",
    "p_method_notes",
    "partner_panel",
    "prompt_groups",
    "prompts",
    "rating_panels",
    "reliability_rows",
    "response_rows",
    "round_panels",
    "scale_points",
    "score_panels",
    "widest_item_gaps",
]

#: How many item-level perception gaps a gap panel lists (the widest first).
ITEM_GAPS_SHOWN = 5


def ordered_scores(scores: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Score tables with the health index first, then the dimensions in questionnaire order."""
    return sorted(scores, key=lambda t: t["dimension"] != TOTAL)


def _selected(view: RoundView | OverTimeView, tables: Iterable[Mapping[str, Any]]
              ) -> list[Mapping[str, Any]]:
    """The score tables (or series) the dimension filter keeps, the health index first."""
    chosen = view.filters.dimension
    return [t for t in ordered_scores(tables) if not chosen or t["dimension"] == chosen]


# --------------------------------------------------------------------------- rows


def dimension_gaps(view: RoundView) -> list[dict[str, Any]]:
    """Perception gaps per dimension, the widest first (untested ones last)."""
    rows = view.snap["perception_gaps"]["dimensions"]
    if view.filters.dimension:
        rows = [r for r in rows if r["dimension"] == view.filters.dimension]
    return sorted(rows, key=lambda r: -(r["gap"] if r["gap"] is not None else -1))


def widest_item_gaps(view: RoundView, limit: int = ITEM_GAPS_SHOWN) -> list[dict[str, Any]]:
    """The tested item-level gaps, the widest first."""
    rows = [r for r in view.snap["perception_gaps"]["items"]
            if r.get("reason") is None and r.get("gap") is not None]
    if view.filters.dimension:
        rows = [r for r in rows if r.get("dimension") == view.filters.dimension]
    return sorted(rows, key=lambda r: -r["gap"])[:limit]


def agreement_rows(view: RoundView) -> list[dict[str, Any]]:
    """Agreement of the shown partners: split partners first, then partner and dimension."""
    ids = set(view.shown_ids)
    rows = [r for r in view.snap["agreement"] if r["partner_id"] in ids]
    if view.filters.dimension:
        rows = [r for r in rows if r["dimension"] == view.filters.dimension]
    order = {pid: i for i, pid in enumerate(view.shown_ids)}
    dims = {d: i for i, d in enumerate(view.dimension_ids())}
    return sorted(rows, key=lambda r: (not r["split"], order[r["partner_id"]],
                                       dims.get(r["dimension"], 99)))


def agreement_matrix(view: RoundView) -> tuple[list[Mapping[str, Any]], list[dict[str, Any]]]:
    """Agreement as (dimensions, partner rows with one cell per dimension) for a table."""
    rows: dict[Any, dict[str, Any]] = {}
    for row in view.snap["agreement"]:
        if row["partner_id"] in set(view.shown_ids):
            entry = rows.setdefault(row["partner_id"], {"name": row["name"], "cells": {}})
            entry["cells"][row["dimension"]] = row
    dimensions = [d for d in view.snap["meta"]["dimensions"]
                  if any(d["dimension"] in r["cells"] for r in rows.values())]
    return dimensions, list(rows.values())


def reliability_rows(view: RoundView) -> list[dict[str, Any]]:
    """Reliability per dimension, each with the sentence on whether to read alpha or omega."""
    rows = view.snap["reliability"]
    if view.filters.dimension:
        rows = [r for r in rows if r["dimension"] == view.filters.dimension]
    return [{**r, "choice": sentences.reliability_choice_sentence(r)} for r in rows]


def p_method_notes(view: RoundView) -> list[dict[str, str]]:
    """How the round's p-values were obtained, once per distinct method (exact, Monte Carlo).

    Read from the tests' own rows, so the note says what was done, not what was planned.
    """
    rows: list[Mapping[str, Any]] = [*view.snap["partner_differences"]]
    gaps = view.snap["perception_gaps"]
    rows += [*gaps.get("dimensions", []), *gaps.get("items", [])]
    for entry in view.snap.get("meta_perception") or []:
        rows += entry["partners"]
    notes: list[dict[str, str]] = []
    for row in rows:
        if row.get("p_value") is None:
            continue
        note = sentences.p_method_sentence(row)
        if note is not None and note not in notes:
            notes.append(note)
    return notes


def meta_perception_rows(view: RoundView) -> list[dict[str, Any]]:
    """Meta-perception questions (predicted against actual view), filtered by dimension."""
    entries = view.snap.get("meta_perception") or []
    if view.filters.dimension:
        items = {d["item_id"] for d in view.snap["distributions"]
                 if d["dimension"] == view.filters.dimension}
        entries = [e for e in entries
                   if e["target"] == view.filters.dimension or e["target"] in items]
    return list(entries)


def response_rows(view: RoundView, fieldwork: Mapping[Any, Any] | None = None
                  ) -> list[dict[str, Any]]:
    """Response counts of the shown partners; with ``fieldwork`` (partner id -> a row with
    ``codes_issued``, ``links`` and ``response_rate``), the codes issued and the rate too."""
    out = []
    for row in view.shown:
        work = (fieldwork or {}).get(row["partner_id"])
        rate = None
        if work is not None and not row["suppressed"] and row["n"] is not None:
            rate = work.response_rate
        out.append({**row, "codes": None if work is None else work.codes_issued,
                    "links": None if work is None else work.links, "rate": rate})
    return out


def distribution_rows(view: RoundView, dimension: str) -> list[dict[str, Any]]:
    """Per item of a dimension: the partnership's and the shown partners' distributions."""
    out = []
    for entry in view.snap["distributions"]:
        if entry["dimension"] != dimension:
            continue
        by_id = {p["partner_id"]: p for p in entry.get("partners") or []}
        out.append({**entry, "shown_partners": [(pid, by_id.get(pid))
                                                for pid in view.shown_ids]})
    return out


def scale_points(view: RoundView, dimension: str) -> list[tuple[Any, str]]:
    """(value, label) of the scale a dimension's items use, for the distribution table."""
    entry = next((d for d in view.snap["distributions"] if d["dimension"] == dimension), None)
    if entry is None:
        return []
    labels = charts.scale_labels(view, entry["item_id"])
    if labels is None or len(labels[0]) != len(entry["values"]):
        return [(value, view.numbers.count(value)) for value in entry["values"]]
    return list(zip(entry["values"], labels[0], strict=True))


# --------------------------------------------------------------------------- texts


def prompts(view: RoundView, dimension: str) -> list[str]:
    """A dimension's discussion prompts for the reflection workshop, in the view's language."""
    try:
        dim = view.questionnaire.dimension(dimension)
    except (KeyError, ValueError):
        return []
    return [prompt.get(view.language) for prompt in dim.discussion_prompts]


@dataclass(frozen=True)
class PromptGroup:
    """A dimension's prompts with its partnership score (None: hidden or not scored)."""

    dimension: str
    label: str
    score: float | None
    prompts: list[str]


def prompt_groups(view: RoundView) -> list[PromptGroup]:
    """Every dimension's prompts, the lowest-scoring dimension first (unscored ones last)."""
    groups = []
    for dimension in view.questionnaire.dimensions:
        texts = prompts(view, dimension.id)
        if not texts:
            continue
        table = view.table(dimension.id)
        score = None
        if table is not None and not table["partnership"]["suppressed"]:
            score = (table["partnership"].get("partner_weighted") or {}).get("mean")
        groups.append(PromptGroup(dimension.id, dimension.title.get(view.language), score,
                                  texts))
    return sorted(groups, key=lambda g: (g.score is None, g.score if g.score is not None else 0))


def dimension_description(view: RoundView, dimension: str) -> str:
    """What a dimension (or the health index) measures, from the questionnaire."""
    if dimension == TOTAL:
        return gettext("The health index is the mean of a respondent's dimension scores: one "
                       "figure for the partnership's health as a whole.")
    try:
        text = view.questionnaire.dimension(dimension).description
    except (KeyError, ValueError):
        return ""
    return text.get(view.language) if text is not None else ""


# --------------------------------------------------------------------------- panels


def score_panels(view: RoundView, *, likert_partner: Any = None) -> list[dict[str, Any]]:
    """One panel per score table (health index first): table rows, chart, test, answers."""
    differences = {row["dimension"]: row for row in view.snap["partner_differences"]}
    ids = set(view.shown_ids)
    panels = []
    for table in _selected(view, view.snap["scores"]):
        dim = table["dimension"]
        panels.append({
            "dimension": dim,
            "table": table,
            "partners": [p for p in table["partners"] if p["partner_id"] in ids],
            "chart": charts.scores_spec(view, dim),
            "difference": differences.get(dim),
            "distributions": [] if dim == TOTAL else distribution_rows(view, dim),
            "likert": None if dim == TOTAL else charts.likert_spec(view, dim, likert_partner),
            "prompts": [] if dim == TOTAL else prompts(view, dim),
            "scale": scale_points(view, dim),
            "description": dimension_description(view, dim),
            "hidden_in_partnership": bool(view.hidden_ids),
        })
    return panels


def gap_panel(view: RoundView, limit: int = ITEM_GAPS_SHOWN) -> dict[str, Any]:
    """Where partners see it most differently: per dimension, the widest items, a chart."""
    differences = {row["dimension"]: row for row in view.snap["partner_differences"]}
    dims = dimension_gaps(view)
    return {"dimensions": dims, "items": widest_item_gaps(view, limit),
            "differences": differences,
            "lead": next((r for r in dims if r["reason"] is None), None),
            "chart": charts.gaps_spec(view, dims)}


def rating_panels(view: RoundView) -> list[dict[str, Any]]:
    """Per partner-rating item: who rates whom (shown raters), asymmetries, the chart."""
    ids = view.shown_ids
    panels = []
    for entry in view.snap["rating_matrix"]:
        cells = {(c["rater_partner_id"], c["ratee_partner_id"]): c for c in entry["cells"]}
        asymmetries = [a for a in view.snap["asymmetries"] if a["item_id"] == entry["item_id"]
                       and (a["rater"] in ids or a["ratee"] in ids)]
        asymmetries.sort(key=lambda a: a["difference"])
        dimension = entry.get("dimension")
        panels.append({"entry": entry, "cells": cells, "raters": ids,
                       "dimension": dimension,
                       "dimension_label": next((d["label"] for d in view.snap["meta"]["dimensions"]
                                                if d["dimension"] == dimension), None),
                       "ratees": [row["partner_id"] for row in view.partner_rows],
                       "asymmetries": asymmetries,
                       "chart": charts.ratings_spec(view, entry["item_id"])})
    return panels


def round_panels(view: RoundView, *, item_gaps: int = ITEM_GAPS_SHOWN) -> dict[str, Any]:
    """Every panel of a round's results, as the page and the report print them."""
    agreement = agreement_rows(view)
    reliability = reliability_rows(view)
    dimensions, matrix = agreement_matrix(view)
    return {
        "heatmap": charts.heatmap_spec(view),
        "score_panels": score_panels(view, likert_partner=view.filters.partner),
        "gaps": gap_panel(view, item_gaps),
        "agreement": agreement, "agreement_chart": charts.agreement_spec(view, agreement),
        "agreement_dimensions": dimensions, "agreement_matrix": matrix,
        "split_groups": [row for row in agreement if row.get("split")],
        "reliability": reliability,
        "reliability_chart": charts.reliability_spec(view, reliability),
        "ratings": rating_panels(view),
        "meta_perception": meta_perception_rows(view),
        "p_methods": p_method_notes(view),
        "prompt_groups": prompt_groups(view),
        "comment_threshold": comment_threshold(view.k),
        "item_labels": {d["item_id"]: d["label"] for d in view.snap["distributions"]},
        "reverse_items": {d["item_id"] for d in view.snap["distributions"] if d["reverse"]},
        "sectors": sorted({row["sector"] for row in view.partner_rows}),
        "dimensions": [(t["dimension"], t["label"]) for t in view.snap["scores"]],
    }


def partner_panel(view: RoundView, partner_id: Any) -> dict[str, Any]:
    """One partner's own view: its scores against the partnership's, answers, ratings."""
    rows = []
    for table in ordered_scores(view.snap["scores"]):
        mine = next(p for p in table["partners"] if p["partner_id"] == partner_id)
        rows.append({"table": table, "partner": mine})
    ratings = []
    for entry in view.snap["rating_matrix"]:
        ratings.append({
            "entry": entry,
            "given": [c for c in entry["cells"] if c["rater_partner_id"] == partner_id],
            "received": [c for c in entry["cells"] if c["ratee_partner_id"] == partner_id],
            "asymmetries": [a for a in view.snap["asymmetries"]
                            if a["item_id"] == entry["item_id"]
                            and partner_id in (a["rater"], a["ratee"])]})
    return {"rows": rows, "compare": charts.compare_spec(view, partner_id),
            "agreement": [r for r in view.snap["agreement"] if r["partner_id"] == partner_id],
            "likerts": [(t["dimension"], t["label"],
                         charts.likert_spec(view, t["dimension"], partner_id))
                        for t in view.snap["scores"] if t["dimension"] != TOTAL],
            "ratings": ratings, "comment_threshold": comment_threshold(view.k)}


# --------------------------------------------------------------------------- open answers


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


def open_answer_groups(view: RoundView, answers: Iterable[tuple[str, Any, str, str]],
                       only_partner: Any = None
                       ) -> tuple[str, list[tuple[str, list[OpenGroup]]]]:
    """Open answers by question, grouped so no group has fewer than the comment threshold.

    ``answers`` are the round's (question id, partner id, language, text) rows. A partner's
    answers are named when the snapshot shows it with at least ``comment_threshold(k)``
    responses. The other partners' answers are pooled, unnamed, when together they hold at
    least that many responses (partnership total minus the named ones); otherwise they are
    left out. Returns a status (``"closed"``, ``"open_round"``, ``"none"``) and the groups
    per question text.
    """
    if not view.closed:
        return "open_round", []
    counts = {r["partner_id"]: None if r["suppressed"] else r["n"] for r in view.partner_rows}
    named_ids, pooled_ok = comment_groups(
        counts, view.snap["response_counts"]["partnership"]["n"], view.k)
    named = {pid: view.names[pid] for pid in named_ids}
    rows = list(answers)
    shown = set(view.shown_ids)
    questions = []
    for question in view.questionnaire.open_questions:
        per_partner: dict[Any, list[tuple[str, str]]] = {}
        pooled: list[tuple[str, str]] = []
        for qid, partner_id, language, text in rows:
            if qid != question.id or not text.strip():
                continue
            if partner_id in named:
                per_partner.setdefault(partner_id, []).append((language, text))
            else:
                pooled.append((language, text))
        groups = [OpenGroup(named[pid], pid, _shuffled(per_partner[pid], view.round_id))
                  for pid in named if pid in per_partner and pid in shown
                  and (only_partner is None or pid == only_partner)]
        if pooled and pooled_ok and only_partner is None and not view.filters.active:
            groups.append(OpenGroup(None, None, _shuffled(pooled, view.round_id)))
        questions.append((question.text.get(view.language), groups))
    return ("closed" if rows else "none"), questions


# --------------------------------------------------------------------------- over time


def over_time_panels(view: OverTimeView) -> dict[str, Any]:
    """Every panel of the over-time results: what changed most, then one per dimension."""
    ids = set(view.shown_ids)

    def shown(row: Mapping[str, Any]) -> bool:
        return row["partner_id"] is None or row["partner_id"] in ids

    panels = []
    for entry in _selected(view, view.data["series"]):
        dim = entry["dimension"]
        panels.append({
            "entry": entry,
            "partners": [p for p in entry["partners"] if p["partner_id"] in ids],
            "changes": [c for c in view.data["changes"] if c["dimension"] == dim and shown(c)],
            "partnership_changes": [c for c in view.data["changes"]
                                    if c["dimension"] == dim and c["partner_id"] is None],
            "trends": [t for t in view.data["trends"] if t["dimension"] == dim and shown(t)],
            "chart": charts.over_time_partners_spec(view, dim)})
    return {"overview": charts.over_time_dimensions_spec(view), "panels": panels,
            "largest": [c for c in view.data["largest_changes"] if shown(c)],
            "partnership_changes": [c for c in view.data["changes"] if c["partner_id"] is None],
            "round_labels": view.round_labels,
            "sectors": sorted({row["sector"] for row in view.partner_rows}),
            "dimensions": [(s["dimension"], s["label"]) for s in view.data["series"]]}


def item_notes(view: OverTimeView, item_texts: Mapping[str, str]) -> list[dict[str, Any]]:
    """Notes on items only some questionnaire versions have, with round names and texts."""
    names = view.round_labels
    out = []
    for note in view.data["notes"]:
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
                    "items": [f"“{item_texts.get(i, i)}”" for i in note["items"]]})
    return out
