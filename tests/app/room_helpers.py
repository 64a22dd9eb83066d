"""Shared set-up for the live-room tests: a room opened by the facilitator, phones that join."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Room, RoomQuestion
from tests.app.staff_helpers import World, db, signed_in_client


@dataclass
class Setup:
    world: World
    staff: FlaskClient
    room_id: int
    code: str

    def url(self, rest: str = "") -> str:
        return f"/room/partnerships/{self.world.partnership}/rooms/{self.room_id}{rest}"


def open_room(app: Flask, world: World, who: str = "facilitator") -> Setup:
    staff = signed_in_client(app, who)
    response = staff.post(f"/room/partnerships/{world.partnership}/rooms",
                          data={"round_id": world.open_round, "workshop_id": 0})
    assert response.status_code == 302, response.get_data(as_text=True)
    with db(app) as session:
        room = session.scalars(select(Room).order_by(Room.id.desc())).first()
        return Setup(world, staff, room.id, room.code)


def add_question(app: Flask, setup: Setup, **fields) -> int:
    data = {"kind": "agreement", "prompt": "Semua mitra didengar?", **fields}
    response = setup.staff.post(setup.url("/questions"), data=data)
    assert response.status_code == 302
    with db(app) as session:
        question = session.scalars(select(RoomQuestion).where(
            RoomQuestion.room_id == setup.room_id).order_by(RoomQuestion.position.desc())).first()
        return question.id


def act(setup: Setup, question_id: int, action: str):
    return setup.staff.post(setup.url(f"/questions/{question_id}/{action}"))


def phone(app: Flask, code: str, partner_id: int | None = None) -> FlaskClient:
    client = app.test_client()
    response = client.post(f"/j/{code}/join", data={"partner_id": partner_id or 0})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def answer(client: FlaskClient, code: str, question_id: int, **fields):
    return client.post(f"/j/{code}/answer", data={"question_id": question_id, **fields})


def screen_json(setup: Setup) -> dict:
    response = setup.staff.get(setup.url("/screen.json"))
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))
