"""Printable reports: the pages, the server-made PDFs, what they may show and who may read them.

The data are built so that a leak would be visible: two partners are hidden (one below k, one
by complementary suppression) and every one of their respondents scores exactly the scale
minimum, so their means print as "1.0" ("1,0" in Indonesian), a figure no shown group can
have; their response counts (3 and 6, together 9) appear in no shown figure either.
"""

from __future__ import annotations

import io
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.jobs import tasks
from app.models import (
    Answer,
    OpenAnswer,
    Partner,
    PartnerRating,
    Partnership,
    Response,
    Role,
    Round,
    RoundStatus,
    Sector,
)
from app.services import pdf as pdf_service
from app.services.pdf import PdfCache, RefusedURL, StaticOnlyFetcher, html_to_pdf
from app.services.questionnaires import definition_of
from app.services.results import over_time_for, round_results_for
from app.views.reports import download_name
from tests.app.job_helpers import job_file, job_files_in_tmp, job_path  # noqa: F401 (autouse)
from tests.app.staff_helpers import db, signed_in_client
from tests.factories import add_member, bundled_version, make_partnership, make_round, make_user

K = 5
SHOWN = {"Dinas Kesehatan": (8, (4, 5)), "Yayasan Sehat": (10, (3, 4, 4))}  # n, recoded values
HIDDEN = {"Kelompok Tani": 6, "Posyandu Mawar": 3}  # Posyandu < k; Tani hidden alongside it
PARTNERS = (
    ("Dinas Kesehatan", Sector.GOVERNMENT),
    ("Yayasan Sehat", Sector.NGO),
    ("Kelompok Tani", Sector.COMMUNITY),
    ("Posyandu Mawar", Sector.COMMUNITY),
)
PARTNERSHIP = "Kemitraan Laporan Uji"
ROUNDS = ("Putaran Satu 2025", "Putaran Dua 2026")
COMMENT = "Catatan rahasia yang tidak boleh masuk laporan cetak"
HIDDEN_MEAN = {"en": re.compile(r"(?<![\d.,])1\.0(?![\d])"),
               "id": re.compile(r"(?<![\d.,])1,0(?![\d])")}
HIDDEN_COUNTS = re.compile(r"n = (3|6|9)\b")
# The pages' notice, word for word (app.results.words.suppressed).
SUPPRESSED = {"en": "fewer than 5 responses", "id": "kurang dari 5 tanggapan"}
# The same label where a chart wraps it onto two lines.
SUPPRESSED_LABEL = {"en": re.compile(r"fewer than 5( responses)?"),
                    "id": re.compile(r"kurang dari 5( tanggapan)?")}
ROUTES = (
    "/reports/partnerships/{p}/rounds/{r}",
    "/reports/partnerships/{p}/rounds/{r}/report.pdf",
    "/reports/partnerships/{p}/over-time",
    "/reports/partnerships/{p}/over-time/report.pdf",
)


@dataclass
class Arranged:
    partnership: int
    rounds: list[int]  # two closed rounds, oldest first
    open_empty: int
    draft: int
    other_round: int  # a round of another partnership
    emails: dict[str, str]


def _answer_all(session, round_, partner, others, n, values, questionnaire) -> None:
    """``n`` respondents whose recoded answers cycle through ``values``; ratings likewise."""
    low, high = 1, 5
    for i in range(n):
        value = values[i % len(values)]
        response = Response(round_id=round_.id, partner_id=partner.id, language="id",
                            submitted_on=date(2026, 1, 15))
        for item in questionnaire.items:
            stored = low + high - value if item.reverse else value
            response.answers.append(Answer(item_id=item.id, value=stored))
        for rating in questionnaire.partner_ratings:
            for other in others:
                response.ratings.append(PartnerRating(item_id=rating.id,
                                                      ratee_partner_id=other.id, value=value))
        session.add(response)


def _arrange(app: Flask) -> Arranged:
    with db(app) as session:
        version = bundled_version(session)
        questionnaire = definition_of(version)
        partnership = make_partnership(session, PARTNERSHIP, k=K, partners=PARTNERS)
        partners = {p.name: p for p in partnership.partners}
        closed = []
        for name in ROUNDS:
            round_ = make_round(session, partnership, status=RoundStatus.CLOSED, name=name,
                                version=version)
            for partner in partners.values():
                others = [p for p in partners.values() if p is not partner]
                if partner.name in SHOWN:
                    n, values = SHOWN[partner.name]
                else:
                    n, values = HIDDEN[partner.name], (1,)
                _answer_all(session, round_, partner, others, n, values, questionnaire)
            session.add(OpenAnswer(round_id=round_.id, partner_id=partners["Yayasan Sehat"].id,
                                   question_id=questionnaire.open_questions[0].id,
                                   language="id", text=COMMENT))
            closed.append(round_)
        open_empty = make_round(session, partnership, status=RoundStatus.OPEN,
                                name="Putaran kosong", version=version)
        draft = make_round(session, partnership, status=RoundStatus.DRAFT, name="Putaran draf",
                           version=version)
        other = make_partnership(session, "Kemitraan Lain", k=K)
        other_round = make_round(session, other, status=RoundStatus.CLOSED, version=version)
        emails = {}
        for role in (Role.COORDINATOR, Role.FACILITATOR, Role.OBSERVER):
            user = make_user(session, f"{role.value}@laporan.example")
            add_member(session, user, partnership, role,
                       partner=partners["Dinas Kesehatan"] if role is Role.OBSERVER else None)
            emails[role.value] = user.email
        outsider = make_user(session, "luar@laporan.example")
        add_member(session, outsider, other, Role.COORDINATOR)
        emails["outsider"] = outsider.email
        emails["plain"] = make_user(session, "biasa@laporan.example").email
        session.commit()
        return Arranged(partnership.id, [r.id for r in closed], open_empty.id, draft.id,
                        other_round.id, emails)


@pytest.fixture
def arranged(app: Flask) -> Arranged:
    return _arrange(app)


def _client(app: Flask, arranged: Arranged, who: str = "facilitator", language: str = "en"):
    client = signed_in_client(app, arranged.emails[who])
    client.post("/language", data={"lang": language, "next": "/"})
    return client


def _url(template: str, arranged: Arranged, round_id: int | None = None) -> str:
    return template.format(p=arranged.partnership, r=round_id or arranged.rounds[-1])


def _pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


@contextmanager
def reading(app: Flask) -> Iterator[Session]:
    """A read-only session: the results service publishes snapshots through its own writer,
    which a write session held open here would lock out on SQLite."""
    session = app.extensions["mitra.read_sessions"]()
    try:
        yield session
    finally:
        session.close()


def _published(app: Flask, arranged: Arranged) -> dict:
    with reading(app) as session:
        return round_results_for(session, session.get(Round, arranged.rounds[-1]))


def _assert_nothing_hidden_leaks(text: str, language: str) -> None:
    assert not HIDDEN_MEAN[language].search(text), "a hidden partner's mean is printed"
    assert not HIDDEN_COUNTS.search(text), "a hidden partner's response count is printed"
    for line in text.splitlines():
        if any(name in line for name in HIDDEN):
            rest = SUPPRESSED_LABEL[language].sub("", line)
            assert not re.search(r"\d", rest), f"a number beside a hidden partner: {line!r}"


# --------------------------------------------------------------------------- the data


def test_the_arranged_partners_are_the_hidden_ones(app, arranged):
    """The premise of the leak checks: the snapshot hides exactly the two planned partners."""
    counts = _published(app, arranged)["response_counts"]["partners"]
    assert {row["name"] for row in counts if row["suppressed"]} == set(HIDDEN)
    assert {row["name"]: row["n"] for row in counts if not row["suppressed"]} == {
        name: n for name, (n, _) in SHOWN.items()}


# --------------------------------------------------------------------------- pages


def test_round_report_page_shows_the_published_figures_without_hidden_ones(app, arranged):
    response = _client(app, arranged).get(_url(ROUTES[0], arranged))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    article = html[html.index('<article class="report"'):html.index("</article>")]
    published = _published(app, arranged)
    total = next(t for t in published["scores"] if t["dimension"] == "total")
    assert total["partnership"]["partner_weighted"]["sentence"]["en"] in article
    for name in HIDDEN:
        row = re.search(rf"<tr[^>]*>\s*<th scope=\"row\">{name}</th>(.*?)</tr>", article, re.S)
        assert row is not None and SUPPRESSED["en"] in row.group(1)
        assert not re.search(r"\d", row.group(1).replace(SUPPRESSED["en"], ""))
    assert not HIDDEN_MEAN["en"].search(re.sub(r'src="data:[^"]*"', "", article))
    assert COMMENT not in html
    # charts are embedded, so printing needs no further request
    sources = re.findall(r'<img [^>]*src="([^"]+)"', article)
    assert sources and all(src.startswith("data:image/svg+xml;base64,") for src in sources)
    assert f'href="{_url(ROUTES[1], arranged)}"' in html


def test_over_time_page_lists_both_rounds(app, arranged):
    response = _client(app, arranged, "observer", "id").get(_url(ROUTES[2], arranged))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert all(name in html for name in ROUNDS)
    assert SUPPRESSED["id"] in html
    assert COMMENT not in html


def test_a_round_without_responses_has_a_page_but_no_pdf(app, arranged):
    client = _client(app, arranged)
    page = client.get(_url(ROUTES[0], arranged, arranged.open_empty))
    assert page.status_code == 200
    assert 'class="empty"' in page.get_data(as_text=True)
    assert "<img" not in page.get_data(as_text=True)
    pdf = client.get(_url(ROUTES[1], arranged, arranged.open_empty))
    assert pdf.status_code == 302
    assert pdf.headers["Location"].endswith(_url(ROUTES[0], arranged, arranged.open_empty))


def test_over_time_needs_two_closed_rounds(app, arranged):
    with db(app) as session:
        session.get(Round, arranged.rounds[0]).status = RoundStatus.OPEN
        session.commit()
    client = _client(app, arranged, "coordinator")
    page = client.get(_url(ROUTES[2], arranged))
    assert page.status_code == 200 and 'class="empty"' in page.get_data(as_text=True)
    pdf = client.get(_url(ROUTES[3], arranged))
    assert pdf.status_code == 302 and pdf.headers["Location"].endswith(_url(ROUTES[2], arranged))


# --------------------------------------------------------------------------- PDFs


def test_round_pdf_in_english(app, arranged):
    client = _client(app, arranged)
    response = job_file(app, client, client.get(_url(ROUTES[1], arranged)))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].replace('"', "") == (
        "attachment; filename=mitra-sehat-kemitraan-laporan-uji-putaran-dua-2026.pdf")
    data = response.get_data()
    assert data.startswith(b"%PDF")
    pages, text = _pdf_text(data)
    html = client.get(_url(ROUTES[0], arranged)).get_data(as_text=True)
    sections = html.count('class="report-section')
    assert sections >= 10
    assert sections <= pages <= 2 * sections + 2  # each section starts a page
    flat = _flat(text)
    assert PARTNERSHIP in flat and ROUNDS[1] in flat
    assert SUPPRESSED["en"] in flat
    published = _published(app, arranged)
    total = next(t for t in published["scores"] if t["dimension"] == "total")
    assert _flat(total["partnership"]["partner_weighted"]["sentence"]["en"]) in flat
    assert _flat(total["partnership"]["partner_weighted"]["sentence"]["id"]) not in flat
    _assert_nothing_hidden_leaks(text, "en")
    assert COMMENT not in flat


def test_round_pdf_in_indonesian_is_cached_per_language(app, arranged, monkeypatch):
    calls = []
    render = pdf_service.html_to_pdf

    def counting(*args, **kwargs):
        calls.append(1)
        return render(*args, **kwargs)

    monkeypatch.setattr(pdf_service, "html_to_pdf", counting)
    client = _client(app, arranged, "coordinator", "id")
    started = client.get(_url(ROUTES[1], arranged))
    first = job_file(app, client, started).get_data()
    again = client.get(_url(ROUTES[1], arranged))
    assert job_path(again) == job_path(started), "the same request reuses the same job"
    second = job_file(app, client, again).get_data()
    assert first == second and len(calls) == 1
    _, text = _pdf_text(first)
    flat = _flat(text)
    published = _published(app, arranged)
    total = next(t for t in published["scores"] if t["dimension"] == "total")
    assert _flat(total["partnership"]["partner_weighted"]["sentence"]["id"]) in flat
    assert SUPPRESSED["id"] in flat
    assert "Cara membaca laporan ini" in flat
    _assert_nothing_hidden_leaks(text, "id")
    client.post("/language", data={"lang": "en", "next": "/"})
    english = job_file(app, client, client.get(_url(ROUTES[1], arranged))).get_data()
    assert len(calls) == 2 and english != first


def test_a_new_snapshot_is_a_new_pdf_and_a_cached_one_builds_nothing(app, arranged,
                                                                      monkeypatch):
    """Renaming the partnership changes what the report prints, so the cache must miss; a
    hit must not even build the report (its charts cost seconds)."""
    keys: list[str] = []
    store: dict[str, bytes] = {}
    built: list[int] = []

    def cache(key, html, **kwargs):
        keys.append(key)
        if key not in store:
            assert "<article" in html()
            store[key] = b"%PDF-1.7 stand-in"
        return store[key]

    real = tasks.round_report
    monkeypatch.setattr(pdf_service, "cached_pdf", cache)
    monkeypatch.setattr(tasks, "round_report",
                        lambda *args, **kwargs: built.append(1) or real(*args, **kwargs))
    client = _client(app, arranged, "coordinator")
    job_file(app, client, client.get(_url(ROUTES[1], arranged)))
    other = _client(app, arranged, "facilitator")  # same document, another person's job
    job_file(app, other, other.get(_url(ROUTES[1], arranged)))
    with db(app) as session:
        session.get(Partnership, arranged.partnership).name = "Kemitraan Berganti Nama"
        session.commit()
    job_file(app, client, client.get(_url(ROUTES[1], arranged)))
    assert len(keys) == 2 and keys[0] != keys[1]
    assert len(built) == 2, "the second person's job copies the first one's file"


def test_over_time_pdf(app, arranged):
    client = _client(app, arranged, "observer")
    response = job_file(app, client, client.get(_url(ROUTES[3], arranged)))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].replace('"', "").startswith(
        "attachment; filename=mitra-sehat-kemitraan-laporan-uji-")
    data = response.get_data()
    assert data.startswith(b"%PDF")
    pages, text = _pdf_text(data)
    with reading(app) as session:
        series = over_time_for(session, session.get(Partnership, arranged.partnership))["series"]
    # cover, partnership series, changes, one page per dimension and the index, methods
    assert len(series) + 4 <= pages <= 2 * (len(series) + 4)
    flat = _flat(text)
    assert PARTNERSHIP in flat and all(name in flat for name in ROUNDS)
    _assert_nothing_hidden_leaks(text, "en")


# --------------------------------------------------------------------------- who may read


@pytest.mark.parametrize("template", ROUTES)
def test_readers_and_strangers(app, arranged, monkeypatch, template):
    monkeypatch.setattr(pdf_service, "cached_pdf",
                        lambda key, html, **kwargs: b"%PDF-1.7 stand-in")
    url = _url(template, arranged)
    for who in ("coordinator", "facilitator", "observer"):
        client = _client(app, arranged, who)
        response = client.get(url)
        if url.endswith(".pdf"):  # the link starts a job and shows its page
            response = job_file(app, client, response)
        assert response.status_code == 200, who
    for who in ("outsider", "plain"):
        assert _client(app, arranged, who).get(url).status_code == 404, who
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("template", ROUTES[:2])
def test_rounds_that_have_no_report_are_not_found(app, arranged, template):
    client = _client(app, arranged, "coordinator")
    for round_id in (arranged.other_round, arranged.draft, 999_999):
        assert client.get(_url(template, arranged, round_id)).status_code == 404, round_id


def test_download_names_are_made_by_the_server():
    assert download_name("Kemitraan \"A\"/B", "Putaran: 1") == (
        "mitra-sehat-kemitraan-a-b-putaran-1.pdf")
    assert download_name("../../etc/passwd") == "mitra-sehat-etc-passwd.pdf"
    assert download_name("Кооперация") == "mitra-sehat-report.pdf"


# --------------------------------------------------------------------------- no network


@pytest.fixture
def fetcher(app: Flask) -> StaticOnlyFetcher:
    return StaticOnlyFetcher.for_app(app, "http://mitra.test/")


def test_the_fetcher_reads_static_files_from_disk(fetcher):
    response = fetcher.fetch("http://mitra.test/static/report.css")
    assert response.content_type == "text/css"
    assert b"@page" in response.read()
    inline = fetcher.fetch("data:text/plain;base64,aGFsbw==")
    assert inline.read() == b"halo"


@pytest.mark.parametrize("url", [
    "http://example.org/static/report.css",  # another host
    "https://mitra.test/static/report.css",  # another scheme
    "http://mitra.test/reports/partnerships/1/over-time",  # a page, not a static file
    "http://mitra.test/static/%2e%2e/%2e%2e/pyproject.toml",  # out of the static folder
    "http://mitra.test/static/no-such-file.css",
    "file:///etc/passwd",
    "ftp://mitra.test/static/report.css",
])
def test_the_fetcher_refuses_everything_else(fetcher, url):
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)


def test_rendering_never_opens_a_connection(app, fetcher, monkeypatch):
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("the PDF renderer tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    refused: list[str] = []
    original = fetcher.fetch

    def watching(url, headers=None):
        try:
            return original(url, headers)
        except RefusedURL:
            refused.append(url)
            raise

    monkeypatch.setattr(fetcher, "fetch", watching)
    html = """<!doctype html><html><head>
      <link rel="stylesheet" href="/static/report.css">
      <link rel="stylesheet" href="https://example.org/evil.css">
      <style>@import url("http://203.0.113.9/import.css");
             body { background: url("http://203.0.113.9/bg.png"); }</style>
      </head><body><h1>Halo</h1><img src="http://203.0.113.9/pixel.png" alt="">
      <img src="file:///etc/hostname" alt=""></body></html>"""
    data = html_to_pdf(html, base_url="http://mitra.test/", fetcher=fetcher)
    assert data.startswith(b"%PDF")
    assert attempts == []
    assert {"https://example.org/evil.css", "http://203.0.113.9/pixel.png",
            "file:///etc/hostname"} <= set(refused)


# --------------------------------------------------------------------------- the cache


def test_the_cache_keeps_the_most_recent_documents():
    cache = PdfCache(maxsize=2)
    for key in ("a", "b"):
        cache.get_or_render(key, lambda key=key: b"%PDF " + key.encode())
    assert cache.get("a") == b"%PDF a"  # "a" is now the most recent
    cache.get_or_render("c", lambda: b"%PDF c")
    assert cache.get("b") is None and cache.get("a") == b"%PDF a" and len(cache) == 2
    with pytest.raises(TypeError):
        cache.get_or_render("d", lambda: b"<html>")
    with pytest.raises(ValueError):
        PdfCache(maxsize=0)


def test_concurrent_requests_render_a_document_once():
    cache = PdfCache()
    calls = []

    def slow() -> bytes:
        calls.append(1)
        time.sleep(0.2)
        return b"%PDF slow"

    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_render("k", slow)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"%PDF slow"] * 4 and len(calls) == 1


def test_partners_of_the_arranged_partnership_are_all_shown_in_the_counts(app, arranged):
    """Every participating partner has a row in the report's counts, hidden or not."""
    with db(app) as session:
        names = set(session.scalars(select(Partner.name).where(
            Partner.partnership_id == arranged.partnership)))
    html = _client(app, arranged).get(_url(ROUTES[0], arranged)).get_data(as_text=True)
    cover = html[html.index('class="counts"'):html.index("</table>", html.index('class="counts"'))]
    assert names == set(re.findall(r'<th scope="row">([^<]+)</th>', cover))
