"""The audit log page speaks the reader's language: labels, local times, who did it."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

from app.models import AuditEvent, User
from app.models.audit import VIA_CLI, VIA_UNKNOWN, VIA_WEB
from app.services.audit_log import ACTION_LABELS
from tests.app.staff_helpers import build_world, db, signed_in_client

SERVICES = Path(__file__).resolve().parents[2] / "app" / "services"


def _page(app, lang: str) -> str:
    client = signed_in_client(app, "admin")
    with client.session_transaction() as session:
        session["lang"] = lang
    return re.sub(r"\s+", " ", client.get("/admin/audit").get_data(as_text=True))


def _add(app, **fields) -> None:
    with db(app) as session:
        session.add(AuditEvent(at=datetime(2026, 12, 3, 1, 5, tzinfo=UTC), **fields))
        session.commit()


def test_a_command_line_action_is_not_shown_as_a_deleted_user(app):
    build_world(app)
    _add(app, user_id=None, action="questionnaire.import", object_type="QuestionnaireVersion",
         object_id="3", details={"slug": "uji"}, via=VIA_CLI)
    html = _page(app, "en")
    assert "Command line" in html
    assert "deleted" not in html.lower()


def test_old_rows_without_a_user_say_they_cannot_tell(app):
    build_world(app)
    _add(app, user_id=None, action="round.open", object_type="Round", object_id="3",
         details={}, via=VIA_UNKNOWN)
    assert "Command line or a deleted account" in _page(app, "en")


def test_a_deleted_account_is_named_as_such(app):
    world = build_world(app)
    with db(app) as session:
        user = session.get(User, world.plain)
        session.add(AuditEvent(user_id=user.id, action="user.sign_in", object_type="User",
                               object_id=str(user.id), details={}, via=VIA_WEB))
        session.flush()
        session.delete(user)
        session.commit()
    assert "Deleted account" in _page(app, "en")


def test_actions_objects_and_details_are_words_in_indonesian_and_times_are_local(app):
    build_world(app)
    _add(app, user_id=None, action="round.open", object_type="Round", object_id="3",
         details={"from": "draft", "to": "open", "partner_ids": [1234, 5]}, via=VIA_CLI)
    html = _page(app, "id")
    assert "Putaran dibuka" in html and "Putaran #3" in html
    assert "round.open" not in html and "partner_ids" not in html and "Round #3" not in html
    assert "Draf" in html and "1234, 5" in html
    # 01:05 UTC is 08.05 in Jakarta; the header names the zone, not UTC.
    assert "08.05" in html and "UTC" not in html
    assert "Waktu Indonesia" in html
    english = _page(app, "en")
    assert "Round opened" in english and "8:05" in english


def test_every_action_the_services_record_has_a_label():
    """Literal action codes passed to record(...) anywhere in app/services must be labelled."""
    recorded: set[str] = set()
    for path in SERVICES.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(
                    r"[a-z]+\.[a-z_]+", node.value) and node.value.split(".")[0] in {
                    "partnership", "partner", "member", "round", "codes", "link",
                    "questionnaire", "responses", "export", "token", "user", "action",
                    "workshop", "commitment"}:
                recorded.add(node.value)
    missing = sorted(code for code in recorded if code not in ACTION_LABELS)
    assert missing == []
