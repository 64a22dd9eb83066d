"""NUL and other control characters: refused at the boundary, with a message, never a 500.

Run these on PostgreSQL too (``MITRA_TEST_DATABASE_URL``): PostgreSQL cannot store or even
compare a NUL, so there a NUL that slips through turns into a server error, while SQLite would
store it silently.
"""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.models import (
    AccessCode,
    AuditEvent,
    Draft,
    Membership,
    OpenAnswer,
    Partner,
    Partnership,
    QuestionnaireVersion,
    Response,
    Round,
    User,
)
from app.request_hygiene import init_app as init_request_hygiene
from app.request_hygiene import refuse_control_characters
from app.respond.items import AnswerSheet
from app.services.questionnaire_uploads import control_character_problems
from app.text_hygiene import visible
from tests.app.respond_helpers import (
    CLOSING_PAGE,
    QUESTIONNAIRE,
    Reader,
    answer_pages,
    arrange,
    english_client,
    enter_code,
    page_answers,
)
from tests.app.staff_helpers import BILINGUAL_YAML, build_world, db, signed_in_client

NUL, ESC = "\x00", "\x1b"
CONTROLS = pytest.mark.parametrize("char", [NUL, ESC], ids=["NUL", "ESC"])


def guard(app: Flask) -> Flask:
    """Install the request guard unless create_app already does."""
    if refuse_control_characters not in app.before_request_funcs.get(None, []):
        init_request_hygiene(app)
    return app


@pytest.fixture(autouse=True)
def _guarded(app):
    guard(app)


def _name(char: str) -> str:
    return f"U+{ord(char):04X}"


def _counts(app: Flask) -> dict[str, int]:
    models = (AccessCode, AuditEvent, Draft, Membership, OpenAnswer, Partner, Partnership,
              QuestionnaireVersion, Response, Round, User)
    with db(app) as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model))
                for model in models}


def _assert_refused(response, char: str) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 422), (response.status_code, body[:3000])
    assert "control character" in body and _name(char) in body, body[:3000]
    return body


# --------------------------------------------------------------------------- the respondent


def _closing_post(fieldwork, text: str) -> dict[str, str]:
    question = QUESTIONNAIRE.open_questions[0].id
    return {**page_answers(fieldwork, CLOSING_PAGE, value=3, texts={question: text}),
            "action": "next"}


def _draft_sheet(app: Flask) -> AnswerSheet:
    drafts = Reader(app).scalars(select(Draft))
    assert len(drafts) == 1
    return AnswerSheet.from_json(drafts[0].data)


@CONTROLS
def test_an_open_answer_with_a_control_character_is_refused_on_its_field(app, char):
    fieldwork = arrange(app)
    client = english_client(app)
    assert enter_code(client, fieldwork.codes[0]).status_code == 303
    assert client.post("/r/language", data={"language": "en"}).status_code == 303
    answer_pages(client, fieldwork, start=1)  # answers every page, the closing one unanswered
    question = QUESTIONNAIRE.open_questions[0].id

    response = client.post(f"/r/page/{CLOSING_PAGE}",
                           data=_closing_post(fieldwork, f"Bagus{char} sekali"))

    body = _assert_refused(response, char)
    assert f'id="t_{question}"' in body  # the page itself, with the field, not an error page
    sheet = _draft_sheet(app)
    assert question not in sheet.texts  # never stored in the draft
    assert sheet.ratings and all(v == 3 for rows in sheet.ratings.values()
                                 for v in rows.values())  # the other answers are kept

    fixed = client.post(f"/r/page/{CLOSING_PAGE}", data=_closing_post(fieldwork, "Bagus sekali"))
    assert fixed.status_code == 303
    assert client.post("/r/review").status_code == 303
    texts = Reader(app).scalars(select(OpenAnswer.text))
    assert texts == ["Bagus sekali"]


@CONTROLS
def test_a_code_with_a_control_character_is_a_field_error(app, char):
    fieldwork = arrange(app)
    client = english_client(app)
    response = enter_code(client, fieldwork.codes[0][:4] + char + fieldwork.codes[0][4:])
    _assert_refused(response, char)
    assert 'name="code"' in response.get_data(as_text=True)


@CONTROLS
def test_a_code_in_the_address_with_a_control_character_is_a_bad_request(app, char):
    fieldwork = arrange(app)
    client = english_client(app)
    for path in (f"/r/{fieldwork.codes[0]}{char}", f"/l/abc{char}def"):
        response = client.get(path)
        _assert_refused(response, char)
        assert "address" in response.get_data(as_text=True)


def test_answers_carried_through_an_expired_session_drop_a_control_character(app):
    fieldwork = arrange(app)
    client = english_client(app)
    question = QUESTIONNAIRE.open_questions[0].id
    carried = {**page_answers(fieldwork, CLOSING_PAGE, value=2,
                              texts={question: f"a{NUL}b"}),
               "carry_page": str(CLOSING_PAGE)}
    response = enter_code(client, fieldwork.codes[0], **carried)
    assert response.status_code == 303
    sheet = _draft_sheet(app)
    assert question not in sheet.texts and sheet.ratings


# --------------------------------------------------------------------------- staff forms


@pytest.fixture
def world(app):
    return build_world(app)


def _staff_posts(world) -> dict[str, tuple[str | None, str, dict]]:
    """Every staff form (and the anonymous ones): who posts, where, and a valid post."""
    pid = world.partnership
    rounds = f"/admin/partnerships/{pid}/rounds"
    fieldwork = f"/fieldwork/partnerships/{pid}/rounds/{world.open_round}"
    return {
        "login": (None, "/login", {"email": "koordinator@example.org",
                                   "password": "{text}"}),
        "login-email": (None, "/login", {"email": "koor{text}@example.org",
                                         "password": "x" * 12}),
        "language": (None, "/language", {"lang": "en{text}", "next": "/"}),
        "partnership": ("coordinator", "/admin/partnerships/new", {
            "name": "Kemitraan {text}", "description": "Air", "default_language": "en",
            "min_group_size": "6"}),
        "partnership-description": ("coordinator", "/admin/partnerships/new", {
            "name": "Kemitraan", "description": "Air {text}", "default_language": "en",
            "min_group_size": "6"}),
        "partnership-edit": ("coordinator", f"/admin/partnerships/{pid}/edit", {
            "name": "Kemitraan {text}", "description": "", "default_language": "en",
            "min_group_size": "6"}),
        "partner": ("coordinator", f"/admin/partnerships/{pid}/partners/new",
                    {"name": "PT {text}", "sector": "ngo"}),
        "partner-edit": ("coordinator",
                         f"/admin/partnerships/{pid}/partners/{world.partners[0]}/edit",
                         {"name": "PT {text}", "sector": "ngo"}),
        "member": ("coordinator", f"/admin/partnerships/{pid}/members",
                   {"email": "baru{text}@example.org", "role": "facilitator",
                    "partner_id": ""}),
        "round": ("coordinator", f"{rounds}/new", {
            "name": "Putaran {text}", "questionnaire_version_id": str(world.version),
            "opens_on": "2027-03-01", "closes_on": "2027-03-31",
            "partner_ids": [str(world.partners[0]), str(world.partners[1])]}),
        "round-dates": ("coordinator", f"{rounds}/new", {
            "name": "Putaran", "questionnaire_version_id": str(world.version),
            "opens_on": "2027-03-01{text}", "closes_on": "2027-03-31",
            "partner_ids": [str(world.partners[0]), str(world.partners[1])]}),
        "round-edit": ("coordinator", f"{rounds}/{world.draft_round}/edit", {
            "name": "Putaran {text}", "questionnaire_version_id": str(world.version),
            "opens_on": "2027-03-01", "closes_on": "2027-03-31",
            "partner_ids": [str(world.partners[0]), str(world.partners[1])]}),
        # Reopening asks for a reason (the test closes the round first).
        "round-status": ("coordinator", f"{rounds}/{world.open_round}/status/open",
                         {"reason": "Alasan {text}"}),
        "user": ("admin", "/admin/users/new", {
            "email": "baru@example.org", "name": "Nama {text}", "language": "en",
            "password": ""}),
        "profile": ("coordinator", "/profile", {"name": "Nama {text}", "language": "en"}),
        "password": ("coordinator", "/profile/password", {
            "pw-current_password": "x{text}", "pw-new_password": "y" * 16,
            "pw-confirm": "y" * 16}),
        "token": ("coordinator", "/profile/tokens", {"name": "Skrip {text}",
                                                     "expires": "90"}),
        "token-revoke": ("coordinator", "/profile/tokens/revoke", {"token_id": "1{text}"}),
        "codes": ("coordinator", f"{fieldwork}/codes", {
            "partner_id": str(world.partners[0]), "count": "3", "language": "id",
            "batch": "ab{text}cd"}),
        "codes-count": ("coordinator", f"{fieldwork}/codes", {
            "partner_id": str(world.partners[0]), "count": "3{text}", "language": "id",
            "batch": "abcd"}),
        "link": ("coordinator", f"{fieldwork}/links", {
            "partner_id": str(world.partners[0]), "max_uses": "3{text}"}),
        "code-entry": (None, "/r", {"code": "ABCD{text}EFGH"}),
    }


STAFF_FORMS = ("login", "login-email", "language", "partnership", "partnership-description",
               "partnership-edit", "partner", "partner-edit", "member", "round",
               "round-dates", "round-edit", "round-status", "user", "profile", "password",
               "token", "token-revoke", "codes", "codes-count", "link", "code-entry")


def _fill(data: dict, char: str) -> dict:
    return {key: ([v.replace("{text}", char) for v in value] if isinstance(value, list)
                  else value.replace("{text}", char)) for key, value in data.items()}


@CONTROLS
@pytest.mark.parametrize("form", STAFF_FORMS)
def test_every_form_refuses_a_control_character_and_stores_nothing(app, world, form, char):
    who, url, data = _staff_posts(world)[form]
    client = signed_in_client(app, who) if who else english_client(app)
    if form == "round-status":
        closing = f"/admin/partnerships/{world.partnership}/rounds/{world.open_round}"
        assert client.post(f"{closing}/status/closed").status_code == 302
    before = _counts(app)
    response = client.post(url, data=_fill(data, char))
    _assert_refused(response, char)
    assert _counts(app) == before


@CONTROLS
def test_a_field_error_names_the_character_and_keeps_the_form(app, world, char):
    client = signed_in_client(app, "coordinator")
    _, url, data = _staff_posts(world)["partner"]
    response = client.post(url, data=_fill(data, char))
    body = _assert_refused(response, char)
    assert response.status_code == 200 or 'name="name"' in body  # the form, not an error page
    assert "at position 4" in body


# --------------------------------------------------------------------------- the guard


@CONTROLS
def test_a_query_parameter_with_a_control_character_is_named(app, char):
    client = english_client(app)
    response = client.get("/", query_string={"lang": f"e{char}n"})
    body = _assert_refused(response, char)
    assert response.status_code == 400 and "“lang”" in body


def test_a_control_character_in_a_parameter_name_is_shown_escaped(app):
    client = english_client(app)
    response = client.post("/language", data={f"x{ESC}[31m": "1", "lang": "en", "next": "/"})
    body = _assert_refused(response, ESC)
    assert "x&lt;U+001B&gt;[31m" in body and ESC not in body


def test_a_hidden_field_is_checked_at_the_boundary(app):
    client = english_client(app)
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * 12,
                                           "next": f"/admin{NUL}"})
    body = _assert_refused(response, NUL)
    assert response.status_code == 400 and "“next”" in body


def test_an_uploaded_file_name_with_a_control_character_is_refused(app, world):
    client = signed_in_client(app, "admin")
    before = _counts(app)
    response = client.post("/admin/questionnaires/upload", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(BILINGUAL_YAML.encode()),
                                          f"kuesioner{ESC}.yaml")})
    body = _assert_refused(response, ESC)
    assert response.status_code == 400 and "rename the file" in body
    assert _counts(app) == before


@CONTROLS
def test_the_api_answers_a_control_character_in_json(app, char):
    client = app.test_client()
    for response in (
        client.get("/api/v1/partnerships", query_string={"round": f"1{char}"}),
        client.get(f"/api/v1/partnerships{char}"),
        client.get(f"/api/v1/nothing/here{char}"),
        client.post("/api/v1/partnerships", json={"name": [f"a{char}"]}),
    ):
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.is_json
        payload = response.get_json()
        assert payload["error"] == "bad_request"
        assert _name(char) in payload["message"]
    nested = client.post("/api/v1/partnerships", json={"name": [f"a{char}"]}).get_json()
    assert "'$.name[0]'" in nested["message"]


def test_clean_requests_pass_the_guard(app, world):
    client = signed_in_client(app, "coordinator")
    response = client.post(f"/admin/partnerships/{world.partnership}/partners/new",
                           data={"name": "PT Tab\tdan baris\r\nbaru", "sector": "ngo"})
    assert response.status_code == 302
    assert client.get("/", query_string={"q": "tab\there"}).status_code == 200


def test_visible_names_every_hidden_character():
    assert visible(f"a{NUL}b\u202ec") == "a<U+0000>b<U+202E>c"
    assert visible("x" * 100, limit=5) == "xxxxx…"


# --------------------------------------------------------------------------- uploads


def _upload(client, content: bytes, name: str = "uji.yaml"):
    return client.post("/admin/questionnaires/upload", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(content), name)})


@pytest.mark.parametrize("escape", [r"\0", r"\e", r"\x1b", r"\u0000", r"\x85"])
def test_a_questionnaire_with_an_escaped_control_character_names_file_and_line(
        app, world, escape):
    text = BILINGUAL_YAML.replace('"Apa saran Anda?"', f'"Apa saran{escape} Anda?"')
    assert text != BILINGUAL_YAML
    line = next(n for n, row in enumerate(text.splitlines(), 1) if escape in row)
    client = signed_in_client(app, "admin")
    before = _counts(app)
    response = _upload(client, text.replace("version: 1", "version: 2").encode())
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:3000]
    assert "uji.yaml was not imported" in body
    assert f'<td class="num">{line}</td>' in body and "open_questions[0].text.id" in body
    assert "control character" in body
    assert _counts(app) == before


@pytest.mark.parametrize("raw", [b"\x00", b"\x1b", b"\x7f"])
def test_a_questionnaire_with_a_raw_control_byte_names_file_and_line(app, world, raw):
    text = BILINGUAL_YAML.replace("version: 1", "version: 2").encode()
    text = text.replace(b"Apa saran Anda?", b"Apa saran" + raw + b" Anda?")
    line = text[: text.index(raw)].count(b"\n") + 1
    client = signed_in_client(app, "admin")
    before = _counts(app)
    response = _upload(client, text)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:3000]
    assert "uji.yaml was not imported" in body
    assert f'<td class="num">{line}</td>' in body and f"U+{raw[0]:04X}" in body
    assert _counts(app) == before


def test_control_characters_in_keys_are_reported_too():
    problems = control_character_problems('slug: x\n"ke\\ey": 1\n', "f.yaml")
    assert [(p.line, p.path) for p in problems] == [(2, "ke\x1by")]
    assert "U+001B" in str(problems[0])


def test_a_clean_questionnaire_still_imports(app, world):
    client = signed_in_client(app, "admin")
    response = _upload(client, BILINGUAL_YAML.replace("version: 1", "version: 2").encode())
    assert response.status_code == 302


def test_the_message_for_json_is_english_and_names_the_place(app):
    response = app.test_client().post("/api/v1/partnerships",
                                      data=json.dumps({"a": {"b": NUL}}),
                                      content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("The JSON value at '$.a.b'")
