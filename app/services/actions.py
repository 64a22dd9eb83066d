"""Follow-up actions (tindak lanjut): agree, edit, drop, carry over, and the action register.

An action addresses a dimension or one item of its round's questionnaire (that is what the
next round measures), is owned by one or more partners (co-owners contribute), and moves
planned -> in progress -> done, or is dropped with a reason. Open actions are carried into a
later round's workshop explicitly, by the facilitator: the carried copy points back to the
original, which stays as it was agreed. The register lists a partnership's actions with
filters and counts per partner what they took on and what became of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import (
    Action,
    ActionChecklistItem,
    ActionOwner,
    ActionStatus,
    OwnerRole,
    Partner,
    Partnership,
    Round,
    User,
    Workshop,
)
from app.results.rounds import order_key
from app.services.audit import record
from app.services.followup import (
    MAX_CHECKLIST_TEXT,
    MAX_TEXT,
    FollowupError,
    clean_text,
    partners_of,
    previous_round,
    questionnaire_of,
    resolve_target,
)

__all__ = ["ActionInput", "FollowThrough", "RegisterFilters", "RegisterRow", "action_in",
           "actions_of_round", "carry_over", "create_action", "follow_through",
           "previous_actions", "register", "set_checklist", "update_action"]

MAX_CHECKLIST = 30


@dataclass
class ActionInput:
    """What a person enters for an action (quick entry gives the first four)."""

    description: str
    dimension_id: str | None = None
    item_id: str | None = None
    owner_ids: Sequence[int] = ()
    co_owner_ids: Sequence[int] = ()
    due_on: date | None = None
    status: ActionStatus | str = ActionStatus.PLANNED
    progress: int | None = 0
    drop_reason: str | None = None
    review_note: str = ""


def action_in(session: Session, partnership: Partnership, action_id: int) -> Action | None:
    """An action only if it belongs to ``partnership`` (the caller answers 404 otherwise)."""
    return session.scalar(
        select(Action).join(Workshop, Workshop.id == Action.workshop_id)
        .join(Round, Round.id == Workshop.round_id)
        .where(Action.id == action_id, Round.partnership_id == partnership.id))


@dataclass(frozen=True)
class _Checked:
    description: str
    dimension_id: str
    item_id: str | None
    owners: list[Partner]
    co_owners: list[Partner]
    due_on: date | None
    status: ActionStatus
    progress: int
    drop_reason: str | None
    review_note: str


def _check(session: Session, round_: Round, data: ActionInput) -> _Checked:
    """Validate everything an action says before anything is changed."""
    description = clean_text(data.description, MAX_TEXT,
                             required=_l("Say what will be done."))
    dimension_id, item_id = resolve_target(questionnaire_of(round_), data.dimension_id,
                                           data.item_id)
    partnership = round_.partnership
    owners = partners_of(session, partnership, list(data.owner_ids))
    co_owners = partners_of(session, partnership, list(data.co_owner_ids))
    if not owners:
        raise FollowupError(_l("Choose at least one partner that owns the action."))
    if {p.id for p in owners} & {p.id for p in co_owners}:
        raise FollowupError(_l("A partner is either an owner or a co-owner, not both."))
    try:
        status = ActionStatus(data.status)
    except ValueError:
        raise FollowupError(_l("Choose a status of the list.")) from None
    progress = 0 if data.progress is None else int(data.progress)
    if not 0 <= progress <= 100:
        raise FollowupError(_l("Progress is a percentage from 0 to 100."))
    if status is ActionStatus.DONE:
        progress = 100
    reason = clean_text(data.drop_reason, MAX_TEXT) or None
    if status is ActionStatus.DROPPED and reason is None:
        raise FollowupError(_l("Say why the action is dropped."))
    if status is not ActionStatus.DROPPED:
        reason = None
    return _Checked(description, dimension_id, item_id, owners, co_owners, data.due_on, status,
                    progress, reason, clean_text(data.review_note, MAX_TEXT))


def _owner_links(checked: _Checked) -> list[ActionOwner]:
    return ([ActionOwner(partner_id=p.id, role=OwnerRole.OWNER) for p in checked.owners]
            + [ActionOwner(partner_id=p.id, role=OwnerRole.CO_OWNER) for p in checked.co_owners])


def create_action(session: Session, actor: User, workshop: Workshop, data: ActionInput) -> Action:
    """Agree a new action in ``workshop``."""
    round_ = workshop.round
    checked = _check(session, round_, data)
    action = Action(workshop_id=workshop.id, description=checked.description,
                    questionnaire_version_id=round_.questionnaire_version_id,
                    dimension_id=checked.dimension_id, item_id=checked.item_id,
                    due_on=checked.due_on, status=checked.status, progress=checked.progress,
                    drop_reason=checked.drop_reason, review_note=checked.review_note)
    action.owner_links = _owner_links(checked)
    session.add(action)
    session.flush()
    record(session, actor.id, "action.create", action, partnership_id=round_.partnership_id,
           workshop_id=workshop.id, dimension=checked.dimension_id, item=checked.item_id,
           owner_ids=[p.id for p in checked.owners],
           co_owner_ids=[p.id for p in checked.co_owners], due_on=checked.due_on)
    session.flush()
    return action


def update_action(session: Session, actor: User, action: Action, data: ActionInput) -> None:
    """Change an action; a status change is audited with where it came from and went."""
    round_ = action.workshop.round
    checked = _check(session, round_, data)
    changed: dict[str, object] = {}
    for key in ("description", "dimension_id", "item_id", "due_on", "progress", "drop_reason",
                "review_note"):
        value = getattr(checked, key)
        if getattr(action, key) != value:
            setattr(action, key, value)
            changed[key] = value
    before = {(link.partner_id, link.role) for link in action.owner_links}
    after = {(link.partner_id, link.role) for link in _owner_links(checked)}
    if before != after:
        action.owner_links = _owner_links(checked)
        changed["owner_ids"] = [p.id for p in checked.owners]
        changed["co_owner_ids"] = [p.id for p in checked.co_owners]
    previous = action.status
    if previous is not checked.status:
        action.status = checked.status
        changed.pop("drop_reason", None)  # the status event carries the reason
    if "dimension_id" in changed or "item_id" in changed:
        action.questionnaire_version_id = round_.questionnaire_version_id
    session.flush()
    if previous is not checked.status:
        details: dict[str, object] = {"from": previous.value, "to": checked.status.value}
        if checked.drop_reason:
            details["reason"] = checked.drop_reason
        record(session, actor.id, "action.status", action,
               partnership_id=round_.partnership_id, **details)
    if changed:
        shown = {k: v for k, v in changed.items()
                 if k not in {"description", "review_note", "drop_reason"}}
        record(session, actor.id, "action.update", action, partnership_id=round_.partnership_id,
               fields=sorted(changed), **shown)
    session.flush()


def set_checklist(session: Session, actor: User, action: Action,
                  entries: Iterable[tuple[str, bool]]) -> None:
    """Replace the action's checklist by ``entries`` (text, done) in order; blanks dropped."""
    cleaned = []
    for text, done in entries:
        text = clean_text(text, MAX_CHECKLIST_TEXT)
        if text:
            cleaned.append((text, bool(done)))
    if len(cleaned) > MAX_CHECKLIST:
        raise FollowupError(_l("A checklist holds at most %(n)d steps.", n=MAX_CHECKLIST))
    current = [(item.text, item.done) for item in action.checklist]
    if current == cleaned:
        return
    action.checklist = [ActionChecklistItem(text=text, done=done, position=i)
                        for i, (text, done) in enumerate(cleaned)]
    session.flush()
    record(session, actor.id, "action.checklist", action,
           partnership_id=action.workshop.round.partnership_id, count=len(cleaned),
           done=sum(1 for _, done in cleaned if done))
    session.flush()


def carried_ids(session: Session, action_ids: Iterable[int]) -> dict[int, Action]:
    """Action id -> the action it was carried over into, for those that were."""
    ids = list(action_ids)
    if not ids:
        return {}
    successors = session.scalars(select(Action).where(Action.carried_over_from_id.in_(ids)))
    return {a.carried_over_from_id: a for a in successors if a.carried_over_from_id is not None}


def carry_over(session: Session, actor: User, action: Action, workshop: Workshop) -> Action:
    """Carry an open action into ``workshop`` of a later round, as a new action there."""
    source_round = action.workshop.round
    target_round = workshop.round
    if target_round.partnership_id != source_round.partnership_id:
        raise FollowupError(_l("Actions are carried over within one partnership."))
    if order_key(target_round) <= order_key(source_round):
        raise FollowupError(_l("An action is carried over into a later round."))
    if not action.status.is_open:
        raise FollowupError(_l("Only planned and ongoing actions are carried over."))
    if carried_ids(session, [action.id]):
        raise FollowupError(_l("This action has already been carried over."))
    copy = create_action(session, actor, workshop, ActionInput(
        description=action.description, dimension_id=action.dimension_id,
        item_id=action.item_id, owner_ids=[p.id for p in action.owners],
        co_owner_ids=[p.id for p in action.co_owners], due_on=action.due_on,
        status=action.status, progress=action.progress))
    copy.carried_over_from_id = action.id
    copy.checklist = [ActionChecklistItem(text=item.text, done=item.done, position=item.position)
                      for item in action.checklist]
    session.flush()
    record(session, actor.id, "action.carry_over", copy,
           partnership_id=target_round.partnership_id, from_action_id=action.id,
           from_round_id=source_round.id, round_id=target_round.id)
    session.flush()
    return copy


def _loaded(query):  # type: ignore[no-untyped-def]
    return query.options(selectinload(Action.owner_links).selectinload(ActionOwner.partner),
                         selectinload(Action.checklist))


def actions_of_round(session: Session, round_: Round) -> list[Action]:
    """The actions agreed in the round's workshops, in the order they were entered."""
    return list(session.scalars(_loaded(
        select(Action).join(Workshop, Workshop.id == Action.workshop_id)
        .where(Workshop.round_id == round_.id).order_by(Workshop.held_on, Action.id))))


def previous_actions(session: Session, workshop: Workshop) -> tuple[Round | None, list[Action]]:
    """The round before the workshop's round and the actions its workshops agreed."""
    before = previous_round(workshop.round)
    if before is None:
        return None, []
    return before, actions_of_round(session, before)


# --------------------------------------------------------------------------- register


@dataclass(frozen=True)
class RegisterFilters:
    """What the register is narrowed to; None (or False) keeps everything."""

    partner_id: int | None = None
    dimension_id: str | None = None
    status: ActionStatus | None = None
    overdue: bool = False
    round_id: int | None = None

    def args(self) -> dict[str, object]:
        values = {"partner": self.partner_id, "dimension": self.dimension_id,
                  "status": self.status.value if self.status else None,
                  "overdue": "1" if self.overdue else None, "round": self.round_id}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class RegisterRow:
    """One action as the register lists it."""

    action: Action
    round: Round
    overdue: bool
    carried_into: Round | None  # the later round it was carried into, if it was
    owners: list[Partner] = field(default_factory=list)
    co_owners: list[Partner] = field(default_factory=list)


def _partnership_actions(session: Session, partnership: Partnership) -> list[Action]:
    return list(session.scalars(_loaded(
        select(Action).join(Workshop, Workshop.id == Action.workshop_id)
        .join(Round, Round.id == Workshop.round_id)
        .where(Round.partnership_id == partnership.id)
        .options(selectinload(Action.workshop).selectinload(Workshop.round)))))


def _is_overdue(action: Action, carried: bool, today: date) -> bool:
    """Past due and open; an action carried over is followed in its later copy."""
    return not carried and action.is_overdue(today)


def register(session: Session, partnership: Partnership, filters: RegisterFilters,
             today: date) -> list[RegisterRow]:
    """The partnership's actions, newest round first, narrowed by ``filters``."""
    actions = _partnership_actions(session, partnership)
    successors = carried_ids(session, [a.id for a in actions])
    rows = []
    for action in actions:
        round_ = action.workshop.round
        partner_ids = {link.partner_id for link in action.owner_links}
        carried = successors.get(action.id)
        overdue = _is_overdue(action, carried is not None, today)
        if filters.partner_id is not None and filters.partner_id not in partner_ids:
            continue
        if filters.dimension_id and action.dimension_id != filters.dimension_id:
            continue
        if filters.status is not None and action.status is not filters.status:
            continue
        if filters.overdue and not overdue:
            continue
        if filters.round_id is not None and round_.id != filters.round_id:
            continue
        rows.append(RegisterRow(action, round_, overdue,
                                carried.workshop.round if carried is not None else None,
                                action.owners, action.co_owners))
    rows.sort(key=lambda r: (order_key(r.round), r.action.id), reverse=True)
    return rows


@dataclass(frozen=True)
class FollowThrough:
    """What a partner took on as owner and what became of it (carried-over copies once)."""

    partner: Partner
    created: int
    done: int
    in_progress: int
    dropped: int
    overdue: int
    co_owned: int

    @property
    def done_share(self) -> float | None:
        return self.done / self.created if self.created else None


def follow_through(session: Session, partnership: Partnership, today: date) -> list[FollowThrough]:
    """Per partner: actions owned (an action carried over counts once, as its latest copy),
    done, in progress, dropped, overdue; and actions co-owned."""
    actions = _partnership_actions(session, partnership)
    successors = carried_ids(session, [a.id for a in actions])
    latest = [a for a in actions if a.id not in successors]
    out = []
    for partner in partnership.partners:
        owned = [a for a in latest if any(link.partner_id == partner.id
                                          and link.role is OwnerRole.OWNER
                                          for link in a.owner_links)]
        co = [a for a in latest if any(link.partner_id == partner.id
                                       and link.role is OwnerRole.CO_OWNER
                                       for link in a.owner_links)]
        out.append(FollowThrough(
            partner, len(owned),
            sum(a.status is ActionStatus.DONE for a in owned),
            sum(a.status is ActionStatus.IN_PROGRESS for a in owned),
            sum(a.status is ActionStatus.DROPPED for a in owned),
            sum(a.is_overdue(today) for a in owned), len(co)))
    return out
