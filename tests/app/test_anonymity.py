"""The anonymity promise, checked on the schema, the stored rows and every log line."""

from __future__ import annotations

import http.cookiejar
import itertools
import logging
import re
import runpy
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.sql import sqltypes
from werkzeug.serving import make_server

from app.db import Base
from app.models import OpenAnswer, Response
from app.services.access_codes import hash_code
from app.services.drafts import draft_key_for_code
from tests.app.respond_helpers import (
    CLOSING_PAGE,
    Reader,
    answer_pages,
    arrange,
    complete_flow,
    enter_code,
    page_answers,
    writing,
)
from tests.factories import ROOT

RESPONSE_TABLES = ("responses", "answers", "partner_ratings", "open_answers")
SECRET_TEXT = "Anggaran dibagi tanpa rapat, kata Bu Sari"


def _every_stored_value(app) -> dict[str, list[str]]:
    """Every cell of every table, as text, by table."""
    engine = app.extensions["mitra.engine"]
    cells: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(table.select()).all()
            cells[table.name] = [str(value) for row in rows for value in row]
    return cells


def _submit_several(app, fieldwork, n: int) -> list[str]:
    """Submit ``n`` responses one after another; return their ids in arrival order."""
    arrival = []
    for i in range(n):
        known = set(Reader(app).scalars(select(Response.id)))
        texts = {"terbuka_berjalan_baik": f"{SECRET_TEXT} {i}"}
        result = complete_flow(app.test_client(), fieldwork, fieldwork.codes[i],
                               value=1 + i % 5, texts=texts)
        assert result.status_code == 303
        (new,) = set(Reader(app).scalars(select(Response.id))) - known
        arrival.append(new)
    return arrival


def test_schema_keeps_answers_apart_from_codes_drafts_and_clocks(app):
    inspector = inspect(app.extensions["mitra.engine"])
    for table in RESPONSE_TABLES:
        for foreign_key in inspector.get_foreign_keys(table):
            assert foreign_key["referred_table"] not in {"access_codes", "drafts"}, table
        for column in inspector.get_columns(table):
            kind = column["type"]
            assert not isinstance(kind, sqltypes.DateTime | sqltypes.Time), (table, column)
            assert not re.search(r"(time|_at$|ip|agent|code|key|hash|token|draft)",
                                 column["name"]), (table, column["name"])
    submitted_on = {c["name"]: c["type"] for c in inspector.get_columns("responses")}
    assert isinstance(submitted_on["submitted_on"], sqltypes.Date)
    open_columns = {c["name"] for c in inspector.get_columns("open_answers")}
    assert "response_id" not in open_columns
    assert all(fk["referred_table"] != "responses"
               for fk in inspector.get_foreign_keys("open_answers"))


def test_stored_rows_cannot_lead_back_to_a_code(app):
    fieldwork = arrange(app, codes=8)
    _submit_several(app, fieldwork, 6)
    # One more respondent is half-way: a draft exists while the survey runs.
    halfway = app.test_client()
    enter_code(halfway, fieldwork.codes[7])
    halfway.post("/r/page/1", data={**page_answers(fieldwork, 1), "action": "next"})

    cells = _every_stored_value(app)
    with app.app_context():
        code_hashes = {hash_code(code) for code in fieldwork.codes}
        draft_keys = {draft_key_for_code(code) for code in fieldwork.codes}
    everything = {table: " ".join(values) for table, values in cells.items()}
    for code_hash in code_hashes:
        holders = [table for table, blob in everything.items() if code_hash in blob]
        assert holders == ["access_codes"], holders
    for code in fieldwork.codes:
        assert not any(code in blob for blob in everything.values()), "plain codes are not kept"
    live_keys = [key for key in draft_keys if key in everything["drafts"]]
    assert len(live_keys) == 1, "only the half-way respondent has a draft"
    assert not any(key in everything["access_codes"] for key in draft_keys)


def test_open_answers_cannot_be_joined_to_responses(app):
    fieldwork = arrange(app, codes=4)
    _submit_several(app, fieldwork, 4)
    reader = Reader(app)
    response_ids = set(reader.scalars(select(Response.id)))
    open_rows = reader.scalars(select(OpenAnswer))
    assert len(open_rows) == 4
    assert not response_ids & {row.id for row in open_rows}
    shared = ({c.name for c in OpenAnswer.__table__.columns}
              & {c.name for c in Response.__table__.columns})
    assert shared == {"id", "round_id", "partner_id", "language"}
    # Every response of the partner shares those values, so they single none of them out.
    assert reader.count(Response, Response.partner_id == fieldwork.own_partner_id) == 4


def test_dates_are_coarse_and_ids_random(app):
    fieldwork = arrange(app, codes=12)
    arrival = _submit_several(app, fieldwork, 12)
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    for response in Reader(app).scalars(select(Response)):
        assert type(response.submitted_on) is date
        assert response.submitted_on in {monday, monday - timedelta(days=7)}, \
            "the week, not the day (a test running across midnight on Monday allowed)"
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in arrival)
    numbers = [int(rid, 16) for rid in arrival]
    assert numbers != sorted(numbers) and numbers != sorted(numbers, reverse=True)
    assert all(abs(a - b) > 2**64 for a, b in itertools.pairwise(numbers))


def _physical_order(app, table: str, column: str = "id") -> list:
    with app.extensions["mitra.engine"].connect() as conn:
        return [row[0] for row in conn.execute(text(f"SELECT {column} FROM {table}"))]


def test_plain_listing_does_not_follow_arrival_order_once_the_round_closes(app):
    """SQLite stores responses WITHOUT ROWID (random key order) from the start; on both
    databases, closing the round rewrites its rows in random order in one transaction."""
    from app.models import Answer, Draft, Round, RoundStatus
    from app.services.anonymity import reshuffle_round

    fieldwork = arrange(app, codes=12)
    arrival = _submit_several(app, fieldwork, 12)
    before = Reader(app).count(Answer)
    with writing(app) as session:
        round_ = session.get(Round, fieldwork.round_id)
        round_.status = RoundStatus.CLOSED
        reshuffle_round(session, round_.id)
        session.commit()
    physical = _physical_order(app, "responses")
    assert sorted(physical) == sorted(arrival), "every response kept"
    assert physical != arrival, "stored order no longer follows arrival"
    assert Reader(app).count(Answer) == before, "every answer kept"
    assert Reader(app).count(Draft) == 0, "unsubmittable drafts deleted"
    if app.config["DATABASE_URL"].startswith("postgresql"):
        with app.extensions["mitra.engine"].connect() as conn:
            stamps = {
                table: set(conn.execute(text(f"SELECT xmin::text FROM {table}")).scalars())
                for table in ("responses", "open_answers", "access_codes")
            }
        # One closing transaction rewrote them all: no row keeps the id of the transaction
        # that submitted it, which a response used to share with its code and its open answers.
        assert len(stamps["responses"]) == 1
        assert stamps["responses"] == stamps["open_answers"] == stamps["access_codes"]


@pytest.fixture
def limited_app(app_config):
    """An app with rate limits on, and no other app: Flask-Limiter's state is global."""
    from app import create_app

    application = create_app({**app_config, "RATELIMIT_ENABLED": True,
                              "CODE_ENTRY_RATE_LIMIT": "3 per minute"})
    Base.metadata.create_all(application.extensions["mitra.engine"])
    yield application
    application.extensions["mitra.engine"].dispose()


def test_no_log_record_holds_a_code_an_answer_or_an_address(limited_app, caplog):
    app = limited_app
    caplog.set_level(logging.DEBUG)
    # Respondent-route logging goes to its own non-propagating logger (app.respond.redact).
    respondent_log = logging.getLogger("mitra.respondent")
    respondent_log.addHandler(caplog.handler)
    try:
        _walk_through_and_check_logs(app, caplog)
    finally:
        respondent_log.removeHandler(caplog.handler)


def _walk_through_and_check_logs(app, caplog) -> None:
    fieldwork = arrange(app, codes=2)
    code = fieldwork.codes[0]
    client = app.test_client()
    assert client.get(f"/r/{code}").status_code == 303
    client.post("/r/language", data={"language": "en"})
    answer_pages(client, fieldwork, texts={"terbuka_perbaikan": SECRET_TEXT})
    assert client.post("/r/review").status_code == 303
    client.post("/r/review")  # a second click
    client.get(f"/r/{code}")  # the used code again
    for _ in range(5):  # guessing until the limit answers 429
        client.get("/r/AAAAAAAA")
    assert client.get("/r/AAAAAAAA").status_code == 429

    hashes = {hash_code(code, app.config["ACCESS_CODE_KEY"])}
    for record in caplog.records:
        line = record.getMessage()
        for secret in (code, code.lower(), SECRET_TEXT, "127.0.0.1", *hashes):
            assert secret not in line, (record.name, line)


def test_development_server_log_leaves_respondents_out(app, caplog):
    """``flask run`` logs every request with the client address: not for respondents."""
    caplog.set_level(logging.INFO, logger="werkzeug")
    fieldwork = arrange(app)
    code = fieldwork.codes[0]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        assert opener.open(f"{base}/r/{code}").status == 200  # followed to /r/language
        for url, data in ((f"{base}/r/page/1", b"action=next"), (f"{base}/r/AAAAAAAA", None)):
            with pytest.raises(urllib.error.HTTPError):  # 422 and 404: coloured log lines
                opener.open(url, data)
        for number in range(1, CLOSING_PAGE + 1):
            data = page_answers(fieldwork, number,
                                texts={"terbuka_manfaat": SECRET_TEXT}) | {"action": "next"}
            opener.open(f"{base}/r/page/{number}", urllib.parse.urlencode(data).encode())
        opener.open(f"{base}/r/review", b"")
        opener.open(f"{base}/healthz")
    finally:
        server.shutdown()
        thread.join(5)
    assert Reader(app).count(Response) == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("/healthz" in line for line in lines), "staff routes are still logged"
    for line in lines:
        assert "127.0.0.1" not in line
        assert code not in line and SECRET_TEXT not in line
        assert not re.search(r'"[A-Z]+ /(r|l)(/|\s|\?)', line), line


def test_gunicorn_access_log_leaves_respondents_out():
    from gunicorn.config import Config

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["workers"] == 2 and settings["preload_app"] is True
    assert settings["bind"] == "127.0.0.1:8000"
    for atom in ("%(h)s", "%(r)s", "%(a)s", "%(f)s", "%(q)s", "%(t)s"):
        assert atom not in settings["access_log_format"]
    config = Config()
    for name, value in settings.items():
        if name in config.settings:
            config.set(name, value)
    logger = config.logger_class(config)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logging.getLogger("gunicorn.access").addHandler(handler)
    logging.getLogger("gunicorn.error").addHandler(handler)
    try:
        for path in ("/r/KXP7W9QT", "/l/secret-link-token", "/r", "/r/page/2", "/healthz"):
            environ = {"REQUEST_METHOD": "GET", "RAW_URI": path, "PATH_INFO": path,
                       "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1",
                       "REMOTE_ADDR": "10.9.8.7", "HTTP_USER_AGENT": "PhoneBrowser/1.0"}
            response = SimpleNamespace(status="200 OK", sent=12, headers=[])
            request = SimpleNamespace(headers=[("USER-AGENT", "PhoneBrowser/1.0")])
            logger.access(response, request, environ, timedelta(milliseconds=5))
        logger.exception("Error handling request %s", "/r/KXP7W9QT")
        logger.warning("Invalid request from ip=10.9.8.7: bad line")
    finally:
        logging.getLogger("gunicorn.access").removeHandler(handler)
        logging.getLogger("gunicorn.error").removeHandler(handler)
    assert lines[0] == '"GET /healthz" 200 12 5000us'
    joined = "\n".join(lines)
    for secret in ("KXP7W9QT", "secret-link-token", "10.9.8.7", "PhoneBrowser", "/r/page"):
        assert secret not in joined
    assert len(lines) == 3, lines


def test_response_dates_hold_no_time_in_the_database(app):
    fieldwork = arrange(app)
    complete_flow(app.test_client(), fieldwork, fieldwork.codes[0])
    with app.extensions["mitra.engine"].connect() as conn:
        raw = conn.execute(text("SELECT submitted_on FROM responses")).scalar_one()
    assert not isinstance(raw, datetime)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(raw))
