"""The live room: what phones may send, what the screen and the facilitator may see."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from app.models import (
    NoteStatus,
    QuestionState,
    Room,
    RoomBallot,
    RoomNote,
    RoomQuestion,
    RoomTally,
    Workshop,
)
from app.services import room as service
from tests.app.room_helpers import (
    act,
    add_question,
    answer,
    open_room,
    phone,
    screen_json,
)
from tests.app.staff_helpers import audit_actions, build_world, db, rows

K = 5  # tests.factories.make_partnership's default threshold


@pytest.fixture
def setup(app):
    return open_room(app, build_world(app))


def _agreement_round(app, setup, values, partners=None):
    question = add_question(app, setup)
    act(setup, question, "open")
    for index, value in enumerate(values):
        partner = partners[index] if partners else None
        assert answer(phone(app, setup.code, partner), setup.code, question,
                      value=value).status_code == 302
    return question


def test_opening_a_room_makes_a_workshop_record_and_a_readable_code(app, setup):
    assert re.fullmatch(f"[{service.CODE_ALPHABET}]{{6}}", setup.code)
    with db(app) as session:
        room = session.get(Room, setup.room_id)
        workshop = session.get(Workshop, room.workshop_id)
        assert workshop.round_id == setup.world.open_round
        assert workshop.facilitator_id == setup.world.facilitator
    assert "room.open" in audit_actions(app)


def test_a_second_room_can_attach_to_the_same_workshop(app, setup):
    with db(app) as session:
        workshop_id = session.get(Room, setup.room_id).workshop_id
    response = setup.staff.post(f"/room/partnerships/{setup.world.partnership}/rooms",
                                data={"round_id": setup.world.open_round,
                                      "workshop_id": workshop_id})
    assert response.status_code == 302
    assert len(rows(app, select(Room).where(Room.workshop_id == workshop_id))) == 2


def test_another_partnerships_round_cannot_get_a_room(app, setup):
    response = setup.staff.post(f"/room/partnerships/{setup.world.partnership}/rooms",
                                data={"round_id": setup.world.other_round, "workshop_id": 0})
    assert response.status_code in {302, 404}
    assert len(rows(app, select(Room))) == 1


def test_nothing_is_shown_below_k_and_a_reveal_below_k_is_refused(app, setup):
    question = _agreement_round(app, setup, [1, 2, 3, 4])
    data = screen_json(setup)
    text = re.sub(r"<[^>]+>|data:[^\"]+", "", data["html"])
    # The join code is shown in groups of three and may itself hold a 4.
    text = text.replace(setup.code, "").replace(f"{setup.code[:3]} {setup.code[3:]}", "")
    assert "4" not in text
    assert "room-bar" not in data["html"]
    act(setup, question, "close")
    act(setup, question, "reveal")
    with db(app) as session:
        assert session.get(RoomQuestion, question).state is QuestionState.CLOSED
    html = screen_json(setup)["html"]
    assert "room-bar" not in html and "fewer than 5" in html.lower()


def test_the_facilitator_sees_the_count_but_never_the_values_before_the_reveal(app, setup):
    question = _agreement_round(app, setup, [1, 1, 5, 5, 5, 2])
    page = setup.staff.get(setup.url()).get_data(as_text=True)
    assert f'data-count-for="{question}">6<' in page
    assert "room-bar" not in page
    counts = setup.staff.get(setup.url("/counts.json")).get_json()
    assert counts["counts"] == {str(question): 6}
    act(setup, question, "close")
    assert "room-bar" not in screen_json(setup)["html"]  # closed, not revealed: no trickle


def test_a_reveal_shows_the_right_counts(app, setup):
    question = _agreement_round(app, setup, [1, 1, 5, 5, 5, 2])
    act(setup, question, "close")
    act(setup, question, "reveal")
    html = screen_json(setup)["html"]
    cells = re.findall(r'<td class="num">([^<]+)</td>', html)
    assert [c.split("·")[0].strip() for c in cells] == ["2", "1", "0", "0", "3"]
    with db(app) as session:
        result = service.question_results(session, session.get(RoomQuestion, question), K)
    assert result.answers == 6
    assert [bar.count for bar in result.total.bars] == [2, 1, 0, 0, 3]


def test_one_answer_per_phone_per_question(app, setup):
    question = add_question(app, setup)
    act(setup, question, "open")
    client = phone(app, setup.code)
    answer(client, setup.code, question, value=1)
    answer(client, setup.code, question, value=4)  # a change, not a second vote
    ballots = rows(app, select(RoomBallot))
    assert [(b.value) for b in ballots] == [4]
    with db(app) as session:
        duplicate = RoomBallot(question_id=question, voter_hash=ballots[0].voter_hash, value=2)
        session.add(duplicate)
        with pytest.raises(IntegrityError):
            session.flush()


def test_the_dot_vote_budget_and_cap_are_enforced_by_the_server(app, setup):
    question = add_question(app, setup, kind="dot_vote", prompt="Mana dulu?",
                            options="Satu\nDua\nTiga", budget=3, option_cap=2)
    act(setup, question, "open")
    client = phone(app, setup.code)
    over_budget = answer(client, setup.code, question, **{"dots-0": 2, "dots-1": 2})
    over_cap = answer(client, setup.code, question, **{"dots-0": 3})
    negative = answer(client, setup.code, question, **{"dots-0": "-1", "dots-1": 1})
    assert (over_budget.status_code, over_cap.status_code, negative.status_code) == (400,) * 3
    assert rows(app, select(RoomBallot)) == []
    assert answer(client, setup.code, question, **{"dots-0": 2, "dots-2": 1}).status_code == 302
    assert [b.allocation for b in rows(app, select(RoomBallot))] == [[2, 0, 1]]


def test_a_single_choice_is_a_dot_vote_with_one_dot(app, setup):
    question = add_question(app, setup, kind="dot_vote", prompt="Mana dulu?",
                            options="Satu\nDua", budget=1, option_cap=1)
    act(setup, question, "open")
    client = phone(app, setup.code)
    assert answer(client, setup.code, question, value=5).status_code == 400
    assert answer(client, setup.code, question, value=1).status_code == 302
    assert [b.allocation for b in rows(app, select(RoomBallot))] == [[0, 1]]


def test_ballots_carry_no_order_and_no_link_between_questions(app, setup):
    columns = {c["name"] for table in ("room_ballots", "room_notes", "room_tallies")
               for c in inspect(app.extensions["mitra.engine"]).get_columns(table)}
    assert not {name for name in columns if "at" in name.split("_") or "time" in name
                or name in {"created", "seq"}}
    first = add_question(app, setup)
    second = add_question(app, setup, prompt="Lagi?")
    client = phone(app, setup.code)
    act(setup, first, "open")
    answer(client, setup.code, first, value=3)
    hash_first = rows(app, select(RoomBallot.voter_hash))[0]
    act(setup, second, "open")  # closes the first: its ballots become counts
    answer(client, setup.code, second, value=3)
    remaining = rows(app, select(RoomBallot))
    assert [b.question_id for b in remaining] == [second]
    assert remaining[0].voter_hash != hash_first
    assert re.fullmatch("[0-9a-f]{32}", remaining[0].id)
    tallies = rows(app, select(RoomTally).where(RoomTally.question_id == first))
    assert [(t.answers, t.counts) for t in tallies] == [(1, [0, 0, 1, 0, 0])]


def test_a_closed_question_cannot_be_reopened(app, setup):
    question = add_question(app, setup)
    act(setup, question, "open")
    act(setup, question, "close")
    act(setup, question, "open")
    with db(app) as session:
        assert session.get(RoomQuestion, question).state is QuestionState.CLOSED


def test_partner_breakdown_only_for_partners_of_k_with_complementary_suppression(app, setup):
    a, b, c = setup.world.partners
    # A 5, B 5, C 2 and 3 who named no partner: C is below k; C plus the unnamed are 5.
    partners = [a] * 5 + [b] * 5 + [c] * 2 + [None] * 3
    question = _agreement_round(app, setup, [4] * 15, partners)
    act(setup, question, "close")
    act(setup, question, "reveal")
    with db(app) as session:
        result = service.question_results(session, session.get(RoomQuestion, question), K)
    assert sorted(g.answers for g in result.partners) == [5, 5]
    assert result.hidden_partners == 1


def test_a_lone_small_partner_hides_a_second_one(app, setup):
    a, b, _ = setup.world.partners
    question = _agreement_round(app, setup, [2] * 8, [a] * 6 + [b] * 2)
    act(setup, question, "close")
    act(setup, question, "reveal")
    with db(app) as session:
        result = service.question_results(session, session.get(RoomQuestion, question), K)
    # A alone shown would give B's 2 answers as the total minus A.
    assert result.partners == [] and result.hidden_partners == 2
    assert result.total.answers == 8


def test_only_approved_notes_reach_the_screen_and_a_hidden_one_leaves(app, setup):
    setup.staff.post(f"/room/partnerships/{setup.world.partnership}/blocklist",
                     data={"words": "bodoh\nkorupsi"})
    question = add_question(app, setup, kind="sticky_note", prompt="Satu kata?",
                            max_chars=60)
    act(setup, question, "open")
    texts = ["lebih terbuka", "Koruрsi", "KORUPSI di sini", "rapat rutin", "dana jelas",
             "saling percaya"]
    for text in texts:
        assert answer(phone(app, setup.code), setup.code, question,
                      note=text).status_code == 302
    too_long = answer(phone(app, setup.code), setup.code, question, note="x" * 61)
    assert too_long.status_code == 400
    notes = {n.text: n for n in rows(app, select(RoomNote))}
    assert notes["KORUPSI di sini"].flagged and not notes["lebih terbuka"].flagged
    act(setup, question, "close")
    assert all(n.voter_hash is None for n in rows(app, select(RoomNote)))
    for text in ("lebih terbuka", "rapat rutin", "dana jelas"):
        setup.staff.post(setup.url(f"/notes/{notes[text].id}"), data={"decision": "approved"})
    setup.staff.post(setup.url(f"/notes/{notes['KORUPSI di sini'].id}"),
                     data={"decision": "rejected"})
    assert "lebih terbuka" not in screen_json(setup)["html"]  # not revealed yet
    act(setup, question, "reveal")
    html = screen_json(setup)["html"]
    shown = re.findall(r"<li>([^<]+)</li>", html)
    assert shown == ["dana jelas", "lebih terbuka", "rapat rutin"]  # by text, not arrival
    setup.staff.post(setup.url(f"/notes/{notes['rapat rutin'].id}"), data={"decision": "hidden"})
    assert "rapat rutin" not in screen_json(setup)["html"]
    page = setup.staff.get(setup.url("/notes")).get_data(as_text=True)
    assert "KORUPSI di sini" in page and "korupsi" in page.lower()


def test_closing_the_room_keeps_only_aggregates_and_retires_the_code(app, setup):
    question = _agreement_round(app, setup, [3, 3, 3, 4, 5])
    notes = add_question(app, setup, kind="sticky_note", prompt="Kata?", max_chars=40)
    act(setup, notes, "open")
    answer(phone(app, setup.code), setup.code, notes, note="terbuka")
    assert setup.staff.post(setup.url("/close")).status_code == 302
    assert rows(app, select(RoomBallot)) == []
    assert [n.voter_hash for n in rows(app, select(RoomNote))] == [None]
    with db(app) as session:
        room = session.get(Room, setup.room_id)
        assert room.code is None
        assert sum(t.answers for t in session.scalars(select(RoomTally).where(
            RoomTally.question_id == question))) == 5
        record = service.workshop_record(session, room.workshop_id)
    assert [entry["state"] for entry in record] == ["closed", "closed"]
    assert app.test_client().get(f"/j/{setup.code}").status_code == 404
    assert "room.close" in audit_actions(app)


def test_workshop_record_cites_revealed_counts_only(app, setup):
    question = _agreement_round(app, setup, [5, 5, 5, 5, 4])
    act(setup, question, "close")
    act(setup, question, "reveal")
    setup.staff.post(setup.url("/close"))
    with db(app) as session:
        record = service.workshop_record(session, session.get(Room, setup.room_id).workshop_id)
    assert [bar.count for bar in record[0]["results"].total.bars] == [0, 0, 0, 1, 4]


def test_the_participant_cookie_is_signed_http_only_lax_and_scoped_to_the_room(app, setup):
    client = app.test_client()
    response = client.post(f"/j/{setup.code}/join", data={"partner_id": 0})
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert f"Path=/j/{setup.code}" in header
    client.set_cookie("mitra_room", "forged", path=f"/j/{setup.code}")
    page = client.get(f"/j/{setup.code}").get_data(as_text=True)
    assert f'action="/j/{setup.code}/join"' in page  # back to the join step


def test_room_code_entry_accepts_lower_case_and_spaces(app, setup):
    client = app.test_client()
    typed = f" {setup.code[:3].lower()} {setup.code[3:].lower()} "
    response = client.post("/j", data={"code": typed})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/j/{setup.code}")
    wrong = client.post("/j", data={"code": "ZZZZZZ"})
    assert wrong.status_code == 400


def test_pages_for_phones_are_indonesian_by_default(app, setup):
    page = app.test_client().get(f"/j/{setup.code}").get_data(as_text=True)
    assert '<html lang="id">' in page


def test_polling_answers_304_while_nothing_changed(app, setup):
    client = phone(app, setup.code)
    first = client.get(f"/j/{setup.code}/state.json")
    etag = first.headers["ETag"]
    assert client.get(f"/j/{setup.code}/state.json",
                      headers={"If-None-Match": etag}).status_code == 304
    question = add_question(app, setup)
    act(setup, question, "open")
    changed = client.get(f"/j/{setup.code}/state.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["question"] == question
    screen = setup.staff.get(setup.url("/screen.json"))
    again = setup.staff.get(setup.url("/screen.json"),
                            headers={"If-None-Match": screen.headers["ETag"]})
    assert again.status_code == 304


def test_answer_to_a_question_that_just_closed_is_not_stored(app, setup):
    question = add_question(app, setup)
    act(setup, question, "open")
    client = phone(app, setup.code)
    act(setup, question, "close")
    response = answer(client, setup.code, question, value=2)
    assert response.status_code == 302
    with db(app) as session:
        assert session.get(RoomQuestion, question).answer_count == 0


def test_the_note_queue_lists_waiting_notes_first_then_by_text(app, setup):
    question = add_question(app, setup, kind="sticky_note", prompt="Kata?", max_chars=40)
    act(setup, question, "open")
    for text in ("zebra", "apel", "mangga"):
        answer(phone(app, setup.code), setup.code, question, note=text)
    notes = {n.text: n for n in rows(app, select(RoomNote))}
    setup.staff.post(setup.url(f"/notes/{notes['apel'].id}"), data={"decision": "approved"})
    page = setup.staff.get(setup.url("/notes")).get_data(as_text=True)
    order = [page.index(t) for t in ("mangga", "zebra", "apel")]
    assert order == sorted(order)
    with db(app) as session:
        assert session.get(RoomNote, notes["apel"].id).status is NoteStatus.APPROVED


def test_blocked_words_match_whole_words_in_any_case_or_accent():
    words = ["bodoh", "dana hilang"]
    assert service.blocked_words("Dia BODOH sekali", words) == ["bodoh"]
    assert service.blocked_words("b0d0h", words) == ["bodoh"]
    assert service.blocked_words("kebodohan", words) == []
    assert service.blocked_words("Dana  hilang lagi", ["dana hilang"]) == []
    assert service.blocked_words("dana hilang lagi", words) == ["dana hilang"]
