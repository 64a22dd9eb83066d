"""A round's results as workshop slides, composed from the panels the results pages print.

Every slide holds rows of the published snapshot as :mod:`app.results.panels` selects them
and charts as :mod:`app.results.charts` specifies them, drawn for a projector (``slide``)
with a phone version (``phone``) beside; the templates print them with the one macro library
and the one number formatter. Nothing here computes, rounds or thresholds a figure, so a
slide shows exactly what the results page shows for the same snapshot.

A slide has ``steps``: parts revealed one by one (``data-step`` in the template). Without
JavaScript every part is shown and the slides read as one page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext

from app.results import charts, panels
from app.results.charts import ChartSpec
from app.results.context import TOTAL, OverTimeView, RoundView
from app.results.prompts import DiscussionPrompt

__all__ = ["ITEMS_PER_SLIDE", "PROMPTS_PER_SLIDE", "Slide", "SlideChart", "round_slides"]

#: Questions per answer-distribution slide: three long statements fill a 16:9 chart.
ITEMS_PER_SLIDE = 3
#: Generated prompts per slide (each revealed as a step).
PROMPTS_PER_SLIDE = 3
#: Questionnaire prompts per slide.
OWN_PROMPTS_PER_SLIDE = 4
#: Open-answer cards per slide, and the characters they may hold together.
CARDS_PER_SLIDE = 4
CARD_CHARS = 420


@dataclass(frozen=True)
class SlideChart:
    """A chart for the projector with its phone version (``<picture>``) and alt text."""

    slide: str | None
    phone: str | None
    description: str
    title: str


@dataclass
class Slide:
    """One slide: its kind (the template that prints it), title, steps and content."""

    kind: str
    title: str
    steps: int = 0
    dimension: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def slide_chart(spec: ChartSpec | None) -> SlideChart | None:
    """A chart as a slide shows it: drawn for the projector, and for a phone in the hand."""
    if spec is None:
        return None
    return SlideChart(spec.at("slide").url, spec.at("phone").url, spec.description, spec.title)


def _chunks(rows: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def _score_slide(view: RoundView, panel: dict[str, Any]) -> Slide:
    table = panel["table"]
    return Slide("scores", view.text(table["label"]), steps=1, dimension=panel["dimension"],
                 data={"panel": panel, "table": table,
                       "chart": slide_chart(panel["chart"]),
                       "description": panel["description"]})


def _answer_slides(view: RoundView, dimension: str, label: str) -> list[Slide]:
    items = [d["item_id"] for d in view.snap["distributions"] if d["dimension"] == dimension]
    count = -(-len(items) // ITEMS_PER_SLIDE)  # as few slides as fit, sharing items evenly
    groups = [items[round(i * len(items) / count):round((i + 1) * len(items) / count)]
              for i in range(count)]
    out = []
    first = 1
    for group in groups:
        spec = charts.likert_spec(view, dimension, None, list(group))
        start, first = first, first + len(group)
        if spec is None:
            continue
        title = gettext("Answers: %(dimension)s", dimension=label)
        if len(groups) > 1:
            title = gettext("Answers: %(dimension)s (questions %(first)d–%(last)d of %(n)d)",
                            dimension=label, first=start, last=start + len(group) - 1,
                            n=len(items))
        out.append(Slide("answers", title, dimension=dimension,
                         data={"chart": slide_chart(spec)}))
    return out


def _difference_slide(view: RoundView, panel: dict[str, Any], label: str) -> Slide | None:
    dimension = panel["dimension"]
    gap = next((g for g in panels.dimension_gaps(view) if g["dimension"] == dimension), None)
    split = [r for r in panels.agreement_rows(view)
             if r["dimension"] == dimension and r.get("split")]
    agreement = [r for r in panels.agreement_rows(view) if r["dimension"] == dimension]
    if panel["difference"] is None and gap is None and not agreement:
        return None
    return Slide("differences", gettext("%(dimension)s: where partners differ", dimension=label),
                 steps=2, dimension=dimension,
                 data={"difference": panel["difference"], "gap": gap, "split": split[:3],
                       "agreement": agreement})


def _change_slide(view: RoundView, over_time: OverTimeView | None, dimension: str,
                  label: str) -> Slide | None:
    if over_time is None:
        return None
    row = next((c for c in over_time.data["changes"] if c["partner_id"] is None
                and c["dimension"] == dimension and c["round_to"] == view.round_id), None)
    if row is None:
        return None
    return Slide("change", gettext("%(dimension)s: change since the last round",
                                   dimension=label), steps=1, dimension=dimension,
                 data={"change": row, "round_labels": over_time.round_labels})


def _prompt_slides(prompts: Sequence[DiscussionPrompt]) -> list[Slide]:
    groups = _chunks(prompts, PROMPTS_PER_SLIDE)
    return [Slide("prompts", gettext("Questions for the room") if len(groups) == 1 else
                  gettext("Questions for the room (%(i)d of %(n)d)", i=i + 1, n=len(groups)),
                  steps=len(group) - 1, data={"prompts": list(group)})
            for i, group in enumerate(groups)]


def _own_prompt_slides(view: RoundView) -> list[Slide]:
    out = []
    for group in panels.prompt_groups(view):
        for chunk in _chunks(group.prompts, OWN_PROMPTS_PER_SLIDE):
            out.append(Slide("own_prompts", gettext("From the questionnaire: %(dimension)s",
                                                    dimension=group.label),
                             steps=len(chunk) - 1, dimension=group.dimension,
                             data={"prompts": list(chunk), "score": group.score}))
    return out


def _card_slides(question: str, groups: Iterable[panels.OpenGroup]) -> list[Slide]:
    """Cards of one question, shuffled as the results page shuffles them, a few per slide."""
    cards = []
    for group in groups:
        label = group.label or gettext("Other partners, together")
        for language, text in group.answers:
            # names the card for "hide it for this session" without saying whose it is
            key = hashlib.sha256(f"{question}\x00{text}".encode()).hexdigest()[:16]
            cards.append({"id": key, "label": label, "language": language, "text": text})
    # interleave the groups so no partner's answers sit together on the screen
    by_group: dict[str, list[dict[str, Any]]] = {}
    for card in cards:
        by_group.setdefault(card["label"], []).append(card)
    mixed: list[dict[str, Any]] = []
    while any(by_group.values()):
        for rows in by_group.values():
            if rows:
                mixed.append(rows.pop(0))
    slides: list[list[dict[str, Any]]] = [[]]
    for card in mixed:
        current = slides[-1]
        used = sum(len(c["text"]) for c in current)
        if current and (len(current) >= CARDS_PER_SLIDE or used + len(card["text"]) > CARD_CHARS):
            slides.append([])
        slides[-1].append(card)
    return [Slide("cards", question, data={"cards": chunk, "part": i + 1, "parts": len(slides)})
            for i, chunk in enumerate(slides) if chunk]


def round_slides(view: RoundView, *, over_time: OverTimeView | None = None,
                 prompts: Sequence[DiscussionPrompt] = (),
                 open_answers: tuple[str, list[tuple[str, list[panels.OpenGroup]]]] = ("none", []),
                 round_name: str = "", partnership_name: str = "") -> list[Slide]:
    """Every slide of a round's results, in the order a reflection workshop takes them."""
    built = panels.round_panels(view)
    total = next((p for p in built["score_panels"] if p["dimension"] == TOTAL), None)
    slides = [Slide("title", round_name, data={"partnership": partnership_name,
                                               "n_responses": view.snap["meta"]["n_responses"],
                                               "k": view.k})]
    if total is not None:
        slides.append(_score_slide(view, total))
    heatmap = slide_chart(built["heatmap"])
    if heatmap is not None:
        slides.append(Slide("chart", gettext("Scores of partners by dimension"),
                            data={"chart": heatmap}))
    for panel in built["score_panels"]:
        if panel["dimension"] == TOTAL:
            continue
        label = view.text(panel["table"]["label"])
        slides.append(_score_slide(view, panel))
        slides.extend(_answer_slides(view, panel["dimension"], label))
        for extra in (_difference_slide(view, panel, label),
                      _change_slide(view, over_time, panel["dimension"], label)):
            if extra is not None:
                slides.append(extra)
    slides.extend(_prompt_slides(prompts))
    slides.extend(_own_prompt_slides(view))
    _status, questions = open_answers
    for question, groups in questions:
        slides.extend(_card_slides(question, groups))
    return slides
