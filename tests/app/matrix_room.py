"""URL values of the live-room routes for the route x role matrix (tests/app/test_access_matrix.py).

A room, a question and a sticky note in partnership A (``own``) or B: another tenant's room
addressed under A's partnership id must be a 404.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.models import (
    Partnership,
    QuestionKind,
    Room,
    RoomNote,
    RoomQuestion,
    RoomStatus,
    Workshop,
)
from tests.app.staff_helpers import World

CROSS_TENANT_BLUEPRINTS = {"room"}
OBJECT_PARTS = {"room_id", "question_id", "note_id"}


def url_values(session: Session, world: World, own: bool) -> dict:
    partnership = session.get(Partnership, world.partnership if own else world.other_partnership)
    round_id = world.open_round if own else world.other_round
    workshop = Workshop(round_id=round_id, held_on=date(2026, 12, 3), notes="")
    session.add(workshop)
    session.flush()
    room = Room(partnership_id=partnership.id, workshop_id=workshop.id,
                code="MTX" + ("AAA" if own else "BBB"), status=RoomStatus.OPEN, version=0)
    session.add(room)
    session.flush()
    question = RoomQuestion(room_id=room.id, position=1, kind=QuestionKind.STICKY_NOTE,
                            prompt="Satu kata?", options=[], budget=1, option_cap=1,
                            max_chars=140)
    session.add(question)
    session.flush()
    note = RoomNote(question_id=question.id, text="catatan")
    session.add(note)
    session.flush()
    return {"room_id": room.id, "question_id": question.id, "note_id": note.id}
