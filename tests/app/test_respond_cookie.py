"""The respondent cookie is opaque: no access-code id, draft key or resume code can be read.

Flask's session cookie is signed, not encrypted: anyone holding it (a shared phone, a proxy
log) can base64-decode it. Before the fix it showed ``{"code": <row id>, "key": <draft key>,
"resume": <resume code>}``.
"""

from __future__ import annotations

import json
import re
import zlib

import pytest
from itsdangerous import base64_decode

from app.db import new_session
from app.models import AccessCode
from app.services.drafts import draft_key_for_code
from app.services.respondent_access import RespondentState, open_state, seal_state
from tests.app.respond_helpers import arrange, page_answers

SECRET = "test-secret-key-" + "x" * 32


def _cookie_payload(client) -> dict:
    """Decode the session cookie as an attacker would: no key, just base64 and zlib."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    value = cookie.value
    compressed = value.startswith(".")
    data = base64_decode(value.lstrip(".").split(".")[0])
    if compressed:
        data = zlib.decompress(data)
    return json.loads(data)


def _code_ids(app) -> list[int]:
    with app.app_context():
        session = new_session(write=False)
        try:
            return list(session.scalars(AccessCode.__table__.select().with_only_columns(
                AccessCode.__table__.c.id)))
        finally:
            session.close()


def _values(tree) -> list:
    if isinstance(tree, dict):
        return [v for value in tree.values() for v in _values(value)]
    if isinstance(tree, list):
        return [v for value in tree for v in _values(value)]
    return [tree]


def test_the_cookie_of_a_printed_code_shows_no_code_id_or_draft_key(app):
    fieldwork = arrange(app, codes=1)
    client = app.test_client()
    assert client.get(f"/r/{fieldwork.codes[0]}").status_code == 303
    payload = _cookie_payload(client)
    state = payload["respondent"]
    assert isinstance(state, str), "a sealed string, not a readable dict"
    text = json.dumps(payload)
    assert fieldwork.codes[0] not in text
    with app.app_context():
        assert draft_key_for_code(fieldwork.codes[0]) not in text
    ids = _code_ids(app)
    assert not any(isinstance(v, int) and not isinstance(v, bool) and v in ids
                   for v in _values(payload))
    # The page still works from the sealed state alone.
    assert client.get("/r/about").status_code == 200


def test_the_cookie_of_a_shared_link_shows_no_resume_code(app):
    fieldwork = arrange(app, codes=0, link_uses=5)
    client = app.test_client()
    client.get(f"/l/{fieldwork.link}")
    about = client.get("/r/about").get_data(as_text=True)
    found = re.search(r'<strong class="code">([A-Z0-9]{4})-([A-Z0-9]{4})</strong>', about)
    assert found is not None
    resume_code = found.group(1) + found.group(2)
    text = json.dumps(_cookie_payload(client))
    assert resume_code not in text
    assert fieldwork.link not in text
    # The same browser through the link again keeps its resume code (read from the seal).
    client.get(f"/l/{fieldwork.link}")
    assert resume_code[:4] in client.get("/r/about").get_data(as_text=True)


def _tamper(client) -> None:
    with client.session_transaction() as session:
        blob = session["respondent"]
        middle = len(blob) // 2
        session["respondent"] = blob[:middle] + ("A" if blob[middle] != "A" else "B") \
            + blob[middle + 1:]


def test_a_tampered_state_is_an_expired_session(app):
    fieldwork = arrange(app, codes=1)
    client = app.test_client()
    client.get(f"/r/{fieldwork.codes[0]}")
    _tamper(client)
    response = client.get("/r/about")
    assert response.status_code == 303 and response.location.endswith("/r")
    client.get(f"/r/{fieldwork.codes[0]}")
    _tamper(client)
    posted = client.post("/r/page/1", data={**page_answers(fieldwork, 1), "action": "next"})
    assert posted.status_code == 400
    assert 'name="code"' in posted.get_data(as_text=True), "the expired page asks for the code"


def test_an_old_readable_state_is_refused(app):
    """A cookie from before the change (a plain dict with the code id) no longer opens a flow."""
    fieldwork = arrange(app, codes=1)
    client = app.test_client()
    with client.session_transaction() as session:
        session["respondent"] = {"code": _code_ids(app)[0], "key": "x", "resume": None}
    assert client.get("/r/about").status_code == 303
    assert client.get(f"/r/{fieldwork.codes[0]}").status_code == 303


@pytest.mark.parametrize("blob", [None, 5, "", "not base64!", "A" * 40, "A" * 2000,
                                  ["list"], {"code": 1}])
def test_open_state_refuses_anything_but_a_sealed_state(blob):
    assert open_state(SECRET, blob) is None


def test_seal_round_trips_and_depends_on_the_key():
    state = RespondentState(7, "a" * 64, "KXP7W9QT")
    sealed = seal_state(SECRET, state)
    assert open_state(SECRET, sealed) == state
    assert seal_state(SECRET, state) != sealed, "a fresh nonce every time: blobs do not link"
    assert open_state(SECRET + "other", sealed) is None
    assert "KXP7W9QT" not in sealed
