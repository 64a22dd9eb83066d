"""The follow-up loop through the round lifecycle: workshops, actions, carry-over, impact."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask

from app.models import (
    Action,
    ActionStatus,
    Partnership,
    Round,
    RoundStatus,
    User,
    Workshop,
)
from app.questionnaires import parse_questionnaire
from app.services import actions as action_service
from app.services import rounds as round_service
from app.services import workshops as workshop_service
from app.services.actions import ActionInput
from app.services.followup import FollowupError
from app.services.questionnaires import import_questionnaire
from tests.app.export_helpers import ResultsWorld, add_responses, build_results_world, reading
from tests.app.staff_helpers import BILINGUAL_YAML, audit_actions, db

# Version 2 of the staff questionnaire: "transparansi" is dropped, kes1/kes2 kept by id.
VERSION_2 = BILINGUAL_YAML.replace("version: 1", "version: 2").replace(
    """  - id: transparansi
    title: {id: Transparansi, en: Transparency}
    items:
      - id: tra1
        text: {id: Informasi keuangan dibagikan., en: Financial information is shared.}
        scale: setuju4
""", "")


@dataclass
class Loop:
    """A closed first round with a workshop, and a second round of partnership A."""

    results: ResultsWorld
    first: int
    second: int
    workshop: int


@contextmanager
def english_request(app):
    """A request context whose messages read in English (the app's default is Indonesian)."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


def in_app(app: Flask):
    """A writing session inside a request context (services audit 'via web' there)."""
    return db(app)


def make_loop(app: Flask, *, second_status: RoundStatus = RoundStatus.CLOSED,
              second_yaml: str | None = None, counts=(20, 14, 3),
              shift: int = 2) -> Loop:
    """Round 1 (closed, answered) + workshop; round 2 answered ``counts`` with ``shift``."""
    results = build_results_world(app, counts)
    world = results.world
    with db(app) as session, english_request(app):
        partnership = session.get(Partnership, world.partnership)
        first = session.get(Round, results.closed_round)
        version = world.version
        if second_yaml is not None:
            version = import_questionnaire(
                session, parse_questionnaire(second_yaml, "uji-staf.v2.yaml")).version.id
        second = Round(partnership=partnership, name="Putaran dua",
                       questionnaire_version_id=version,
                       opens_on=date(2026, 6, 1), closes_on=date(2026, 6, 30),
                       status=second_status, partners=list(partnership.partners))
        session.add(second)
        session.flush()
        ids = [p.id for p in partnership.partners]
        for index, (pid, n) in enumerate(zip(ids, counts, strict=False)):
            add_responses(session, second.id, pid, n, seed=index + shift)
        coordinator = session.get(User, world.coordinator)
        workshop = workshop_service.create_workshop(
            session, coordinator, first, held_on=date(2026, 2, 10), title="Lokakarya refleksi",
            place="Kupang", attendance={ids[0]: 6, ids[1]: 4})
        session.commit()
        return Loop(results, first.id, second.id, workshop.id)


def add_action(app: Flask, loop: Loop, **fields) -> int:
    world = loop.results.world
    with db(app) as session, english_request(app):
        workshop = session.get(Workshop, loop.workshop)
        data = ActionInput(description=fields.pop("description", "Bagikan laporan keuangan"),
                           owner_ids=fields.pop("owner_ids", [world.partners[0]]), **fields)
        action = action_service.create_action(session, session.get(User, world.coordinator),
                                              workshop, data)
        session.commit()
        return action.id


def test_an_action_needs_a_dimension_or_item_of_the_rounds_questionnaire(app):
    loop = make_loop(app)
    for fields, message in (({}, "dimension or the question"),
                            ({"dimension_id": "nope"}, "not in the round"),
                            ({"item_id": "zzz"}, "not in the round"),
                            ({"dimension_id": "transparansi", "item_id": "kes1"},
                             "another dimension")):
        with pytest.raises(FollowupError, match=message):
            add_action(app, loop, **fields)
    item_action = add_action(app, loop, item_id="kes2")
    with db(app) as session:
        action = session.get(Action, item_action)
        assert (action.dimension_id, action.item_id) == ("kesetaraan", "kes2")
        assert action.questionnaire_version_id == loop.results.world.version


def test_dropping_needs_a_reason_and_every_change_is_audited(app):
    loop = make_loop(app)
    action_id = add_action(app, loop, dimension_id="kesetaraan")
    world = loop.results.world
    with db(app) as session, english_request(app):
        action = session.get(Action, action_id)
        actor = session.get(User, world.facilitator)
        base = {"description": action.description, "dimension_id": "kesetaraan",
                "owner_ids": [world.partners[0]]}
        with pytest.raises(FollowupError, match="why"):
            action_service.update_action(session, actor, action,
                                         ActionInput(**base, status="dropped"))
        session.rollback()
        action = session.get(Action, action_id)
        action_service.update_action(session, actor, action, ActionInput(
            **base, status="dropped", drop_reason="Dana tidak tersedia"))
        session.commit()
    with db(app) as session:
        action = session.get(Action, action_id)
        assert action.status is ActionStatus.DROPPED
        assert action.drop_reason == "Dana tidak tersedia"
    assert audit_actions(app, object_type="Action") == ["action.create", "action.status"]
    assert "workshop.create" in audit_actions(app)


def test_done_sets_progress_to_100_and_owner_cannot_be_co_owner(app):
    loop = make_loop(app)
    world = loop.results.world
    with pytest.raises(FollowupError, match="not both"):
        add_action(app, loop, dimension_id="kesetaraan", co_owner_ids=[world.partners[0]])
    action_id = add_action(app, loop, dimension_id="kesetaraan", status="done", progress=40,
                           co_owner_ids=[world.partners[1]])
    with db(app) as session:
        action = session.get(Action, action_id)
        assert action.progress == 100
        assert [p.id for p in action.co_owners] == [world.partners[1]]


def test_actions_survive_reopening_and_closing_the_round(app):
    loop = make_loop(app)
    action_id = add_action(app, loop, dimension_id="kesetaraan")
    world = loop.results.world
    with db(app) as session, english_request(app):
        first = session.get(Round, loop.first)
        actor = session.get(User, world.coordinator)
        round_service.change_status(session, actor, first, RoundStatus.OPEN, "Jawaban kertas")
        session.commit()
        round_service.change_status(session, actor, session.get(Round, loop.first),
                                    RoundStatus.CLOSED)
        session.commit()
    with db(app) as session:
        action = session.get(Action, action_id)
        assert action.workshop.round_id == loop.first
        assert action.owners[0].id == world.partners[0]


def test_carry_over_copies_an_open_action_into_the_next_rounds_workshop(app):
    loop = make_loop(app, second_status=RoundStatus.OPEN)
    action_id = add_action(app, loop, dimension_id="kesetaraan", status="in_progress",
                           progress=30)
    world = loop.results.world
    with db(app) as session, english_request(app):
        actor = session.get(User, world.facilitator)
        later = workshop_service.create_workshop(session, actor, session.get(Round, loop.second),
                                                 held_on=date(2026, 7, 1))
        action = session.get(Action, action_id)
        action_service.set_checklist(session, actor, action, [("Draf", True), ("Kirim", False)])
        copy = action_service.carry_over(session, actor, action, later)
        assert copy.carried_over_from_id == action_id
        assert [(c.text, c.done) for c in copy.checklist] == [("Draf", True), ("Kirim", False)]
        with pytest.raises(FollowupError, match="already"):
            action_service.carry_over(session, actor, action, later)
        before, reviewed = action_service.previous_actions(session, later)
        assert before.id == loop.first and [a.id for a in reviewed] == [action_id]
        session.commit()
    assert "action.carry_over" in audit_actions(app)


def test_register_filters_and_follow_through(app):
    loop = make_loop(app)
    world = loop.results.world
    a = add_action(app, loop, dimension_id="kesetaraan", due_on=date(2026, 3, 1))
    b = add_action(app, loop, dimension_id="transparansi", owner_ids=[world.partners[1]],
                   status="done")
    add_action(app, loop, item_id="tra1", owner_ids=[world.partners[1]], status="dropped",
               drop_reason="Tidak relevan")
    today = date(2026, 5, 1)
    with db(app) as session:
        partnership = session.get(Partnership, world.partnership)
        F = action_service.RegisterFilters

        def ids(filters: action_service.RegisterFilters) -> list[int]:
            return [r.action.id for r in action_service.register(session, partnership,
                                                                 filters, today)]

        assert sorted(ids(F())) == sorted([a, b, a + 2])
        assert ids(F(partner_id=world.partners[0])) == [a]
        assert sorted(ids(F(dimension_id="transparansi"))) == [b, b + 1]
        assert ids(F(status=ActionStatus.DONE)) == [b]
        assert ids(F(overdue=True)) == [a]
        rows = {r.partner.id: r for r in action_service.follow_through(session, partnership,
                                                                         today)}
        assert (rows[world.partners[0]].created, rows[world.partners[0]].overdue) == (1, 1)
        assert (rows[world.partners[1]].created, rows[world.partners[1]].done,
                rows[world.partners[1]].dropped) == (2, 1, 1)


def test_impact_reads_the_change_from_the_over_time_snapshot(app):
    from app.results.impact import MEASURED, action_impacts

    loop = make_loop(app)
    action_id = add_action(app, loop, dimension_id="kesetaraan",
                           co_owner_ids=[loop.results.world.partners[2]])
    with english_request(app), reading(app) as session:
        partnership = session.get(Partnership, loop.results.world.partnership)
        action = session.get(Action, action_id)
        impact = action_impacts(session, partnership, [action], "en")[action_id]
    assert impact.state == MEASURED
    assert impact.round_to == "Putaran dua"
    assert "adjusted p" in impact.stats and "95% CI" in impact.stats
    assert "prove" in impact.caveat or "not evidence that the action failed" in impact.caveat
    shown = {p.name: p.shown for p in impact.partners}
    # partner 3 answered 3 times (< k = 5): no figure for it
    assert shown == {"Dinas Kesehatan": True, "Kelompok Tani": False}
    hidden = next(p for p in impact.partners if not p.shown)
    assert hidden.stats == "fewer than 5 responses"


def test_a_dimension_the_next_version_dropped_is_flagged_not_lost(app):
    from app.results.impact import DROPPED, action_impacts

    loop = make_loop(app, second_yaml=VERSION_2)
    kept = add_action(app, loop, dimension_id="kesetaraan")
    dropped = add_action(app, loop, dimension_id="transparansi")
    with english_request(app), reading(app) as session:
        partnership = session.get(Partnership, loop.results.world.partnership)
        actions = [session.get(Action, kept), session.get(Action, dropped)]
        impacts = action_impacts(session, partnership, actions, "en")
        register = action_service.register(session, partnership,
                                           action_service.RegisterFilters(), date(2026, 7, 1))
    assert impacts[dropped].state == DROPPED
    assert "no longer measures Transparency" in impacts[dropped].headline
    assert impacts[kept].state != DROPPED
    assert dropped in [r.action.id for r in register]
