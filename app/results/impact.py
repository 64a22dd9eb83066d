"""Action impact: what happened to an action's dimension by the next closed round.

Nothing is computed here. The change of a dimension between two consecutive closed rounds
(estimate, effect size, p adjusted across the partnership's comparisons, and the per-partner
changes where both rounds pass k) is a row of the published over-time snapshot
(:func:`app.results.snapshots.over_time_snapshot`, from :func:`analysis.rounds.compare_rounds`);
each round's mean and confidence interval are its series entry. This module picks the rows
that belong to an action and words them honestly:

- a change is not proof that the action caused it (other things happen between rounds);
- no evidence of change is reported as exactly that, not as failure;
- a group below k, or a change the snapshot withholds, shows "fewer than k responses" and no
  figure;
- an action whose dimension (or question) the next questionnaire version dropped is flagged,
  never lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from app.models import Action, Partnership, Round, RoundStatus
from app.questionnaires import Questionnaire
from app.results.numbers import Numbers, is_missing
from app.results.rounds import order_key, ordered
from app.results.snapshots import over_time_snapshot
from app.results.words import suppressed, text

__all__ = ["EVIDENCE_LEVEL", "Impact", "PartnerChange", "action_impacts"]

#: An adjusted p below this is "evidence of a change" in the impact line.
EVIDENCE_LEVEL = 0.05

MEASURED = "measured"  # both rounds closed, the change is in the snapshot
AWAITING = "awaiting"  # no later closed round yet
NOT_CLOSED = "not_closed"  # the action's own round is not closed (no comparison base)
DROPPED = "dropped"  # the next questionnaire no longer measures the dimension
HIDDEN = "hidden"  # the snapshot withholds the change (fewer than k)


@dataclass(frozen=True)
class PartnerChange:
    """One owning partner's change, or the notice that stands in for it."""

    name: str
    shown: bool
    stats: str
    sentence: str


@dataclass(frozen=True)
class Impact:
    """An action's impact line, ready to print."""

    state: str
    round_from: str | None
    round_to: str | None
    headline: str  # one sentence: what happened (or why nothing can be shown)
    caveat: str  # how (not) to read it
    stats: str = ""  # estimate, intervals, effect size, adjusted p, n
    evidence: bool | None = None  # True: p adjusted < EVIDENCE_LEVEL; None: not tested
    direction: int = 0  # +1 rose, -1 fell, 0 no figure or no change
    item_note: str = ""  # the action addresses a question: its dimension's change is shown
    partners: list[PartnerChange] = field(default_factory=list)


def _questionnaire(round_: Round) -> Questionnaire:
    return Questionnaire.from_dict(round_.questionnaire_version.definition)


def _measures(questionnaire: Questionnaire, action: Action) -> tuple[bool, bool]:
    """Whether the questionnaire still has the action's dimension, and its item (if any)."""
    dims = {d.id for d in questionnaire.dimensions}
    items = {i.id for i in questionnaire.items}
    return action.dimension_id in dims, action.item_id is None or action.item_id in items


def _round_point(series: Mapping[str, Any] | None, round_id: int,
                 partner_id: int | None = None) -> Mapping[str, Any] | None:
    if series is None:
        return None
    points = series["partnership"] if partner_id is None else next(
        (p["rounds"] for p in series["partners"] if p["partner_id"] == partner_id), [])
    return next((p for p in points if p["round_id"] == round_id), None)


def _interval(fmt: Numbers, point: Mapping[str, Any] | None, mean: Any) -> str:
    """``3,1 (95% CI 2,8–3,4)``; the mean alone when the interval is missing."""
    if point is None or point.get("suppressed") or is_missing(point.get("ci_low")):
        return fmt.num(mean)
    return gettext("%(mean)s (95%% CI %(ci)s)", mean=fmt.num(mean),
                   ci=fmt.ci(point["ci_low"], point["ci_high"]))


def _stats(fmt: Numbers, row: Mapping[str, Any], series: Mapping[str, Any] | None,
           partner_id: int | None) -> str:
    start = _interval(fmt, _round_point(series, row["round_from"], partner_id), row["mean_from"])
    end = _interval(fmt, _round_point(series, row["round_to"], partner_id), row["mean_to"])
    return gettext("Change %(diff)s: %(start)s, then %(end)s; effect size r = %(r)s; "
                   "adjusted p = %(p)s; n = %(n1)s, then %(n2)s",
                   diff=fmt.signed(row["mean_difference"]), start=start, end=end,
                   r=fmt.num(row["rank_biserial"], 2), p=fmt.p(row["p_adjusted"]),
                   n1=fmt.count(row["n_from"]), n2=fmt.count(row["n_to"]))


def _shown(row: Mapping[str, Any] | None) -> bool:
    """Whether a change row carries figures (tested, and not withheld for anonymity)."""
    return (row is not None and row.get("reason") is None
            and not is_missing(row.get("p_adjusted"))
            and not is_missing(row.get("mean_difference")))


def _direction(fmt: Numbers, row: Mapping[str, Any]) -> int:
    value = fmt.rounded(row["mean_difference"])
    return 1 if value > 0 else -1 if value < 0 else 0


def _headline(label: str, row: Mapping[str, Any], fmt: Numbers, from_name: str,
              to_name: str) -> tuple[str, bool, int]:
    evidence = row["p_adjusted"] < EVIDENCE_LEVEL
    direction = _direction(fmt, row)
    values = {"dim": label, "diff": fmt.num(abs(row["mean_difference"])),
              "a": from_name, "b": to_name}
    if not evidence:
        return (gettext("%(dim)s: no evidence of a change between %(a)s and %(b)s.", **values),
                False, direction)
    if direction > 0:
        return (gettext("%(dim)s rose by %(diff)s points between %(a)s and %(b)s, more than "
                        "chance alone would explain.", **values), True, direction)
    if direction < 0:
        return (gettext("%(dim)s fell by %(diff)s points between %(a)s and %(b)s, more than "
                        "chance alone would explain.", **values), True, direction)
    return (gettext("%(dim)s: no evidence of a change between %(a)s and %(b)s.", **values),
            False, 0)


def _caveat(evidence: bool, direction: int) -> str:
    if not evidence:
        return gettext("No evidence of a change is not evidence that the action failed: its "
                       "effect may take longer than one round to show, or be too small to "
                       "detect with this many responses.")
    if direction > 0:
        return gettext("The change fits the action's aim, but it does not prove the action "
                       "caused it: other things also changed between the rounds.")
    return gettext("The fall does not mean the action made things worse: other things also "
                   "changed between the rounds. It is worth discussing in the workshop.")


def _partner_changes(action: Action, changes: Iterable[Mapping[str, Any]],
                     series: Mapping[str, Any] | None, fmt: Numbers, k: int, pair: tuple[int, int],
                     language: str) -> list[PartnerChange]:
    rows = {c["partner_id"]: c for c in changes
            if c["partner_id"] is not None and c["dimension"] == action.dimension_id
            and (c["round_from"], c["round_to"]) == pair}
    out = []
    for link in sorted(action.owner_links, key=lambda lk: (lk.role.value, lk.partner.name)):
        row = rows.get(link.partner_id)
        if _shown(row):
            assert row is not None
            out.append(PartnerChange(link.partner.name, True,
                                     _stats(fmt, row, series, link.partner_id),
                                     text(row.get("sentence"), language)))
        else:
            out.append(PartnerChange(link.partner.name, False, suppressed(k), ""))
    return out


def action_impacts(session: Session, partnership: Partnership, actions: Iterable[Action],
                   language: str) -> dict[int, Impact]:
    """Action id -> its impact line in ``language``, read from the published over-time
    snapshot (computed at most once for all the actions)."""
    actions = list(actions)
    if not actions:
        return {}
    with force_locale(language):
        return _impacts(session, partnership, actions, language)


def _impacts(session: Session, partnership: Partnership, actions: list[Action],
             language: str) -> dict[int, Impact]:
    fmt = Numbers(language)
    rounds = ordered(partnership.rounds)
    data = None
    loaded = False
    questionnaires: dict[int, Questionnaire] = {}
    out: dict[int, Impact] = {}
    for action in actions:
        own = action.workshop.round
        later = [r for r in rounds if order_key(r) > order_key(own)
                 and r.status is not RoundStatus.DRAFT]
        next_closed = next((r for r in later if r.status is RoundStatus.CLOSED), None)
        label = _dimension_label(action, own, later, questionnaires, language)
        following = next_closed or (later[0] if later else None)
        item_note = ""
        if following is not None:
            version = questionnaires.setdefault(following.questionnaire_version_id,
                                                _questionnaire(following))
            has_dimension, has_item = _measures(version, action)
            if not has_dimension:
                out[action.id] = Impact(
                    DROPPED, own.name, following.name,
                    gettext("%(round)s's questionnaire no longer measures %(dim)s, so its "
                            "change cannot be shown.", round=following.name, dim=label),
                    gettext("The action stays in the register; review it by its status and "
                            "progress."))
                continue
            if action.item_id is not None:
                item_note = (gettext("The action addresses one question; the change shown is "
                                     "that of its dimension, %(dim)s.", dim=label) if has_item
                             else gettext("%(round)s's questionnaire no longer asks the "
                                          "question this action addresses; the change shown "
                                          "is that of its dimension, %(dim)s.",
                                          round=following.name, dim=label))
        if own.status is not RoundStatus.CLOSED:
            out[action.id] = Impact(NOT_CLOSED, own.name, None, gettext(
                "The change can be shown once %(round)s is closed and a later round has been "
                "answered.", round=own.name), "", item_note=item_note)
            continue
        if next_closed is None:
            out[action.id] = Impact(AWAITING, own.name, None, gettext(
                "The next closed round will show whether %(dim)s changed.", dim=label), "",
                item_note=item_note)
            continue
        if not loaded:
            data, loaded = over_time_snapshot(session, partnership), True
        pair = (own.id, next_closed.id)
        changes = data["changes"] if data is not None else []
        k = int(data["meta"]["k"]) if data is not None else partnership.min_group_size
        row = next((c for c in changes if c["partner_id"] is None
                    and c["dimension"] == action.dimension_id
                    and (c["round_from"], c["round_to"]) == pair), None)
        series = next((s for s in (data["series"] if data is not None else [])
                       if s["dimension"] == action.dimension_id), None)
        partners = _partner_changes(action, changes, series, fmt, k, pair, language)
        if not _shown(row):
            out[action.id] = Impact(
                HIDDEN, own.name, next_closed.name,
                gettext("%(dim)s between %(a)s and %(b)s: %(notice)s, so no change can be "
                        "shown.", dim=label, a=own.name, b=next_closed.name,
                        notice=suppressed(k)),
                gettext("Too few responses is not evidence either way."),
                item_note=item_note, partners=partners)
            continue
        assert row is not None
        headline, evidence, direction = _headline(label, row, fmt, own.name, next_closed.name)
        out[action.id] = Impact(MEASURED, own.name, next_closed.name, headline,
                                _caveat(evidence, direction), _stats(fmt, row, series, None),
                                evidence, direction, item_note, partners)
    return out


def _dimension_label(action: Action, own: Round, later: list[Round],
                     questionnaires: dict[int, Questionnaire], language: str) -> str:
    """The dimension's title from the action's questionnaire, else a later one, else its id."""
    for round_ in [own, *later]:
        version = questionnaires.setdefault(round_.questionnaire_version_id,
                                            _questionnaire(round_))
        dimension = next((d for d in version.dimensions if d.id == action.dimension_id), None)
        if dimension is not None:
            return dimension.title.get(language)
    return action.dimension_id or ""
