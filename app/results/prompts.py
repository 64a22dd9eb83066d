"""Discussion prompts generated from a round's published results, each citing its figure.

The rows come from the snapshot exactly as the results pages show them (the widest gaps of
:func:`app.results.panels.dimension_gaps`, the split partners of
:func:`app.results.panels.agreement_rows`, the partnership's changes of the over-time
snapshot, the impact lines of :mod:`app.results.impact`); the sentences are written in both
languages by :mod:`analysis.prompts`, and this module picks the reader's. Nothing here
computes a statistic, and a group below k has no row to prompt from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import prompts as words
from app.models import Action, Round, RoundStatus, Workshop
from app.results import panels
from app.results.context import OverTimeView, RoundView
from app.results.rounds import order_key

__all__ = ["PER_KIND", "DiscussionPrompt", "generated_prompts", "stalled_actions"]

#: How many prompts of each kind are generated (the strongest first).
PER_KIND = 2
#: A question is prompted about from this share of disagreeing valid answers on.
LOW_SHARE = 0.2


@dataclass(frozen=True)
class DiscussionPrompt:
    """One question for the room and the figure it came from, in the reader's language."""

    kind: str  # gap, low_item, split, change, action
    question: str
    source: str
    dimension: str | None = None


def _prompt(view: RoundView, kind: str, built: Mapping[str, Mapping[str, str]],
            dimension: str | None) -> DiscussionPrompt:
    return DiscussionPrompt(kind, view.text(built["question"]), view.text(built["source"]),
                            dimension)


def _gap_prompts(view: RoundView) -> list[DiscussionPrompt]:
    out = []
    for row in panels.dimension_gaps(view):
        if row["reason"] is not None or row["gap"] is None:
            continue
        high, low = view.names.get(row["high_group"]), view.names.get(row["low_group"])
        if high is None or low is None:
            continue
        out.append(_prompt(view, "gap", words.gap_prompt(
            row["label"], high, row["high_mean"], low, row["low_mean"], row["gap"],
            row.get("p_adjusted")), row["dimension"]))
    return out[:PER_KIND]


def _low_item_prompts(view: RoundView) -> list[DiscussionPrompt]:
    """Questions most answered unfavourably; reverse-worded ones are left out (agreeing with
    them is the unfavourable side, which the sentence would misstate)."""
    found = []
    for entry in view.snap["distributions"]:
        block = entry.get("partnership")
        if entry["reverse"] or not block or block["suppressed"] or not block.get("counts"):
            continue
        share = words.disagreement_share(block["counts"])
        if share is not None and share >= LOW_SHARE:
            found.append((share, entry, sum(block["counts"])))
    found.sort(key=lambda f: -f[0])
    return [_prompt(view, "low_item", words.low_item_prompt(entry["label"], share, n),
                    entry["dimension"]) for share, entry, n in found[:PER_KIND]]


def _split_prompts(view: RoundView) -> list[DiscussionPrompt]:
    rows = [r for r in panels.agreement_rows(view) if r.get("split")]
    rows.sort(key=lambda r: r["rwg_j"] if r["rwg_j"] is not None else 1.0)
    return [_prompt(view, "split", words.split_prompt(
        r["name"], r["label"], r["rwg_j"], r["share_low"], r["share_high"], r["n"]),
        r["dimension"]) for r in rows[:PER_KIND]]


def _change_prompts(view: RoundView, over_time: OverTimeView | None) -> list[DiscussionPrompt]:
    if over_time is None:
        return []
    labels = {s["dimension"]: s["label"] for s in over_time.data["series"]}
    names = over_time.round_labels
    rows = [c for c in over_time.data["changes"]
            if c["partner_id"] is None and c["round_to"] == view.round_id
            and c["reason"] is None and c["mean_difference"] is not None]
    rows.sort(key=lambda c: -abs(c["mean_difference"]))
    return [_prompt(view, "change", words.change_prompt(
        labels.get(c["dimension"], c["dimension"]), c["mean_from"], c["mean_to"],
        c["mean_difference"], c.get("p_adjusted"), names.get(c["round_from"], ""),
        names.get(c["round_to"], "")), c["dimension"]) for c in rows[:PER_KIND]]


def generated_prompts(view: RoundView, over_time: OverTimeView | None = None,
                      stalled: Iterable[tuple[str, Any, str, str | None]] = ()
                      ) -> list[DiscussionPrompt]:
    """Prompts from the widest gaps, the lowest questions, split partners, the biggest
    changes since the last round and ``stalled`` actions ((description, dimension label,
    impact sentence, dimension id) from :func:`stalled_actions`), in that order."""
    out = [*_gap_prompts(view), *_low_item_prompts(view), *_split_prompts(view),
           *_change_prompts(view, over_time)]
    for description, label, sentence, dimension in stalled:
        built = words.action_prompt(description, label, {view.language: sentence})
        out.append(_prompt(view, "action", built, dimension))
    return out


def stalled_actions(session: Session, round_: Round, language: str
                    ) -> list[tuple[str, Any, str, str | None]]:
    """Actions agreed at the previous closed round's workshops whose dimension did not move
    by this round: measured by the over-time snapshot without evidence of a rise."""
    try:
        from app.results.impact import MEASURED, action_impacts
    except ImportError:  # the follow-up area is not installed: no actions to ask about
        return []
    earlier = [r for r in round_.partnership.rounds if r.status is RoundStatus.CLOSED
               and order_key(r) < order_key(round_)]
    if not earlier or round_.status is not RoundStatus.CLOSED:
        return []
    previous = max(earlier, key=order_key)
    actions = list(session.scalars(select(Action).join(Workshop).where(
        Workshop.round_id == previous.id, Action.dimension_id.is_not(None))))
    impacts = action_impacts(session, round_.partnership, actions, language)
    out = []
    for action in actions:
        impact = impacts.get(action.id)
        if impact is None or impact.state != MEASURED or impact.round_to != round_.name:
            continue
        if impact.evidence and impact.direction > 0:
            continue  # it moved: nothing stalled to ask about
        label = _dimension_title(round_, action.dimension_id)
        out.append((action.description, label, impact.headline, action.dimension_id))
    return out


def _dimension_title(round_: Round, dimension: str | None) -> Any:
    from app.questionnaires import Questionnaire

    try:
        q = Questionnaire.from_dict(round_.questionnaire_version.definition)
        return q.dimension(dimension or "").title.to_dict()
    except (KeyError, ValueError):
        return dimension or ""
