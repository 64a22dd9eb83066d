"""Paper answers uploaded from the browser: problems or a preview, then a confirmation."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from app.jobs import queue
from app.models import (
    AuditEvent,
    OpenAnswer,
    PaperUpload,
    Partner,
    Response,
    Round,
    RoundStatus,
)
from app.services.paper_import import revision_of
from tests.app.job_helpers import job_files_in_tmp  # noqa: F401 (autouse)
from tests.app.staff_helpers import (
    app_with,
    build_world,
    csrf_from,
    db,
    fresh,
    rows,
    sign_in,
    signed_in_client,
)
from tests.factories import DEFAULT_PASSWORD

HEADER = ["partner", "kes1", "kes2", "tra1", "saran", "komitmen@Yayasan Sehat",
          "komitmen@Kelompok Tani", "komitmen@Dinas Kesehatan"]
GOOD = [
    ["Dinas Kesehatan", "4", "dk", "2", "Rapat lebih sering", "3", "", ""],
    ["Yayasan Sehat", "1", "2", "dk", "", "", "4", "2"],
    ["Kelompok Tani", "3", "3", "3", "", "1", "", ""],
    ["Kelompok Tani", "2", "dk", "3", "Lebih banyak pelatihan", "2", "", "3"],
]
TOKEN = re.compile(r'name="token" type="hidden" value="([^"]+)"')


def _csv(header, *data) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(data)
    return out.getvalue().encode("utf-8")


@pytest.fixture
def world(app):
    return build_world(app)


def _base(world, round_id: int | None = None) -> str:
    return (f"/fieldwork/partnerships/{world.partnership}/rounds/"
            f"{round_id or world.open_round}/paper")


def _upload(client, world, content: bytes, round_id: int | None = None, **extra):
    data = {"file": (io.BytesIO(content), "kertas.csv"), "language": "id", **extra}
    return client.post(_base(world, round_id), data=data,
                       content_type="multipart/form-data")


def _token(html: str) -> str:
    return TOKEN.search(html).group(1)


def _paper_count(app, round_id: int) -> int:
    return rows(app, select(func.count()).select_from(Response).where(
        Response.round_id == round_id))[0]


def _partner_rows(html: str) -> dict[str, tuple[str, str, str]]:
    """Responses per partner on the preview: name -> (before, added, after)."""
    found = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>'
                       r'<td class="num">(\d+)</td><td class="num">(\d+)</td></tr>', html)
    return {name: (before, added, after) for name, before, added, after in found}


def _held(app) -> int:
    return rows(app, select(func.count()).select_from(PaperUpload))[0]


def _close(app, round_id: int) -> None:
    with db(app) as session:
        session.execute(update(Round).where(Round.id == round_id).values(
            status=RoundStatus.CLOSED, closes_on=date.today()))
        session.commit()


def _web_response(app, world, partner_name: str, round_id: int) -> None:
    """One response that came in through the site before the paper forms."""
    with db(app) as session:
        partner = session.scalar(select(Partner).where(
            Partner.partnership_id == world.partnership, Partner.name == partner_name))
        session.add(Response(round_id=round_id, partner_id=partner.id, language="id",
                             submitted_on=date.today() - timedelta(days=30)))
        session.commit()



def _confirm(app, client, url: str, **kwargs):
    """POST a confirmation; when it hands the file to a job, wait for the job to end."""
    response = client.post(url, **kwargs)
    if response.status_code == 302 and "/jobs/" in response.headers["Location"]:
        assert queue.drain(app, 120), "the storing job did not finish"
    return response

def test_the_fieldwork_page_links_to_the_upload_with_its_template(app, world):
    client = signed_in_client(app, "coordinator")
    page = client.get(f"/fieldwork/partnerships/{world.partnership}/rounds/{world.open_round}")
    assert _base(world) in page.get_data(as_text=True)
    upload = client.get(_base(world))
    assert upload.status_code == 200
    html = upload.get_data(as_text=True)
    assert f"{_base(world)}/template.csv" in html and 'enctype="multipart/form-data"' in html
    template = client.get(f"{_base(world)}/template.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    header = next(csv.reader(io.StringIO(template.get_data(as_text=True).lstrip("\ufeff"))))
    assert header[:2] == ["partner", "language"]
    assert {"kes1", "kes2", "tra1", "saran", "komitmen@Dinas Kesehatan",
            "komitmen@Kelompok Tani", "komitmen@Yayasan Sehat"} <= set(header)
    # The template itself is a valid file once rows are typed in under it.
    filled = dict.fromkeys(header, "")
    filled.update({"partner": "Dinas Kesehatan", "kes1": "3", "kes2": "2", "tra1": "1"})
    preview = _upload(client, world, _csv(header, [filled[name] for name in header]))
    assert preview.status_code == 200, preview.get_data(as_text=True)


def test_a_file_with_problems_lists_row_and_column_and_stores_nothing(app, world):
    client = signed_in_client(app, "coordinator")
    bad = [*GOOD, ["Dinas Kesehatan", "7", "2", "2", "", "", "", ""],
           ["Nobody", "1", "2", "3", "", "", "", ""]]
    response = _upload(client, world, _csv(HEADER, *bad))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was stored" in html
    assert re.search(r"<td class=\"num\">6</td><td><code>kes1</code></td><td>7 is not on the "
                     r"scale 1-4</td>", html)
    assert re.search(r"<td class=\"num\">7</td><td><code>partner</code></td>", html)
    assert _paper_count(app, world.open_round) == 0 and _held(app) == 0


def test_a_file_that_is_not_csv_is_refused_with_a_message(app, world):
    client = signed_in_client(app, "coordinator")
    response = _upload(client, world, b"PK\x03\x04 an xlsx workbook")
    assert response.status_code == 400
    assert "Excel workbook" in response.get_data(as_text=True)
    assert _held(app) == 0


def test_preview_then_confirm_stores_exactly_the_preview_once(app, world):
    client = signed_in_client(app, "coordinator")
    _web_response(app, world, "Kelompok Tani", world.open_round)
    preview = _upload(client, world, _csv(HEADER, *GOOD))
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    rows_shown = _partner_rows(html)
    assert rows_shown["Kelompok Tani"] == ("1", "2", "3")
    assert rows_shown["Dinas Kesehatan"] == ("0", "1", "1")
    assert "open answers: 2" in html
    assert _paper_count(app, world.open_round) == 1  # nothing stored by the preview
    token = _token(html)
    done = _confirm(app, client, f"{_base(world)}/confirm", data={"token": token})
    assert done.status_code == 302
    stored = rows(app, select(Response).where(Response.round_id == world.open_round,
                                              Response.source == "paper"))
    by_name = {p.id: p.name for p in rows(app, select(Partner))}
    added: dict[str, int] = {}
    for response in stored:
        added[by_name[response.partner_id]] = added.get(by_name[response.partner_id], 0) + 1
    assert added == {name: int(shown[1]) for name, shown in rows_shown.items()
                     if int(shown[1]) and name != "Total"}
    assert rows_shown["Total"] == ("1", "4", "5")
    assert len(rows(app, select(OpenAnswer))) == 2
    assert _held(app) == 0  # the file is gone with the confirmation
    (event,) = rows(app, select(AuditEvent).where(
        AuditEvent.action == "responses.import_paper"))
    assert event.via == "web" and event.details["responses"] == 4
    assert fresh(app, Round, world.open_round).results_revised_on is None  # an open round
    # A double click or a replayed form stores nothing more.
    again = _confirm(app, client, f"{_base(world)}/confirm", data={"token": token})
    assert again.status_code == 400
    assert "was already imported" in again.get_data(as_text=True)
    assert _paper_count(app, world.open_round) == 5


def test_an_expired_a_foreign_or_an_unknown_token_is_refused(app, world):
    coordinator = signed_in_client(app, "coordinator")
    admin = signed_in_client(app, "admin")
    foreign = _token(_upload(admin, world, _csv(HEADER, *GOOD)).get_data(as_text=True))
    mine = _token(_upload(coordinator, world, _csv(HEADER, *GOOD)).get_data(as_text=True))
    for token in (foreign, "not-a-token"):
        response = _confirm(app, coordinator, f"{_base(world)}/confirm", data={"token": token})
        assert response.status_code == 400
    with db(app) as session:
        session.execute(update(PaperUpload).values(
            created_at=PaperUpload.created_at - timedelta(hours=2)))
        session.commit()
    response = _confirm(app, coordinator, f"{_base(world)}/confirm", data={"token": mine})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert _paper_count(app, world.open_round) == 0
    # The next upload clears expired files away.
    _upload(coordinator, world, _csv(HEADER, *GOOD))
    assert _held(app) == 1


def test_a_newer_upload_replaces_the_previous_one(app, world):
    client = signed_in_client(app, "coordinator")
    first = _token(_upload(client, world, _csv(HEADER, *GOOD)).get_data(as_text=True))
    second = _token(_upload(client, world, _csv(HEADER, GOOD[0])).get_data(as_text=True))
    assert _held(app) == 1
    assert _confirm(app, client, f"{_base(world)}/confirm",
                    data={"token": first}).status_code == 400
    assert _confirm(app, client, f"{_base(world)}/confirm",
                    data={"token": second}).status_code == 302
    assert _paper_count(app, world.open_round) == 1


def test_a_token_of_another_round_is_refused(app, world):
    client = signed_in_client(app, "admin")
    token = _token(_upload(client, world, _csv(HEADER, *GOOD)).get_data(as_text=True))
    other = f"/fieldwork/partnerships/{world.other_partnership}/rounds/{world.other_round}"
    response = _confirm(app, client, f"{other}/paper/confirm", data={"token": token})
    assert response.status_code == 400
    assert _paper_count(app, world.open_round) == 0
    assert _paper_count(app, world.other_round) == 0


@pytest.mark.parametrize("who", ["facilitator", "observer", "outsider"])
def test_only_coordinators_reach_the_upload(app, world, who):
    client = signed_in_client(app, who)
    admin = signed_in_client(app, "admin")
    token = _token(_upload(admin, world, _csv(HEADER, *GOOD)).get_data(as_text=True))
    expected = 404 if who == "outsider" else 403
    assert client.get(_base(world)).status_code == expected
    assert client.get(f"{_base(world)}/template.csv").status_code == expected
    assert _upload(client, world, _csv(HEADER, *GOOD)).status_code == expected
    assert _confirm(app, client, f"{_base(world)}/confirm",
                       data={"token": token}).status_code == expected
    assert _paper_count(app, world.open_round) == 0


def test_a_closed_round_needs_the_tick_and_is_then_marked_revised(app, world):
    _web_response(app, world, "Yayasan Sehat", world.open_round)
    _close(app, world.open_round)
    client = signed_in_client(app, "coordinator")
    preview = _upload(client, world, _csv(HEADER, *GOOD))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "published results" in html and "marks them as revised" in html
    assert "I understand the published results of this closed round will change" in html
    token = _token(html)
    refused = _confirm(app, client, f"{_base(world)}/confirm", data={"token": token})
    assert refused.status_code == 400
    assert "Tick this box" in refused.get_data(as_text=True)
    assert _paper_count(app, world.open_round) == 1 and _held(app) == 1
    assert fresh(app, Round, world.open_round).results_revised_on is None
    done = _confirm(app, client, f"{_base(world)}/confirm", data={
        "token": token, "understand": "y", "note": "Formulir kertas dari Kelompok Tani"})
    assert done.status_code == 302
    round_ = fresh(app, Round, world.open_round)
    assert _paper_count(app, world.open_round) == 5
    revision = revision_of(round_)
    assert revision is not None and revision.revised_on == date.today()
    assert revision.note == "Formulir kertas dari Kelompok Tani"
    (event,) = rows(app, select(AuditEvent).where(
        AuditEvent.action == "responses.import_paper"))
    assert event.details["closed_round"] is True
    assert (event.details["responses_before"], event.details["responses_after"]) == (1, 5)
    assert "Yayasan Sehat: 1 \u2192 2" in event.details["by_partner"]
    assert "Kelompok Tani: 0 \u2192 2" in event.details["by_partner"]
    # The results page and the report say so, with the note.
    for url in (f"/results/partnerships/{world.partnership}/rounds/{world.open_round}",
                f"/reports/partnerships/{world.partnership}/rounds/{world.open_round}"):
        page = client.get(url).get_data(as_text=True)
        assert "answers collected on paper were added after this round closed" in page, url
        assert "Formulir kertas dari Kelompok Tani" in page, url


def test_a_closed_round_that_changed_since_the_preview_is_shown_again(app, world):
    _close(app, world.open_round)
    client = signed_in_client(app, "coordinator")
    token = _token(_upload(client, world, _csv(HEADER, *GOOD)).get_data(as_text=True))
    # Someone else stores other paper forms meanwhile.
    other = signed_in_client(app, "admin")
    other_token = _token(_upload(other, world, _csv(HEADER, GOOD[0])).get_data(as_text=True))
    assert _confirm(app, other, f"{_base(world)}/confirm", data={
        "token": other_token, "understand": "y"}).status_code == 302
    response = _confirm(app, client, f"{_base(world)}/confirm",
                        data={"token": token, "understand": "y"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed since the preview" in html
    assert _paper_count(app, world.open_round) == 1
    new_token = _token(html)
    assert new_token != token
    assert _confirm(app, client, f"{_base(world)}/confirm", data={
        "token": token, "understand": "y"}).status_code == 400
    assert _confirm(app, client, f"{_base(world)}/confirm", data={
        "token": new_token, "understand": "y"}).status_code == 302
    assert _paper_count(app, world.open_round) == 5


def test_the_same_file_twice_needs_the_again_box(app, world):
    client = signed_in_client(app, "coordinator")
    content = _csv(HEADER, *GOOD)
    token = _token(_upload(client, world, content).get_data(as_text=True))
    assert _confirm(app, client, f"{_base(world)}/confirm",
                    data={"token": token}).status_code == 302
    second = _upload(client, world, content)
    assert second.status_code == 409
    assert "imported into this round before" in second.get_data(as_text=True)
    assert _held(app) == 0
    token = _token(_upload(client, world, content, again="y").get_data(as_text=True))
    assert _confirm(app, client, f"{_base(world)}/confirm",
                    data={"token": token}).status_code == 302
    assert _paper_count(app, world.open_round) == 8


def test_a_draft_round_says_so_and_takes_no_file(app, world):
    client = signed_in_client(app, "coordinator")
    page = client.get(_base(world, world.draft_round))
    assert page.status_code == 200 and "still a draft" in page.get_data(as_text=True)
    assert _upload(client, world, _csv(HEADER, *GOOD), world.draft_round).status_code == 400
    assert _held(app) == 0


def test_a_file_over_the_limit_is_refused(app_config, world):
    application = app_with(app_config, PAPER_UPLOAD_MAX_BYTES=200)
    client = application.test_client()
    sign_in(client, "coordinator")
    response = _upload(client, world, _csv(HEADER, *(GOOD * 10)))
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)
    application.extensions["mitra.engine"].dispose()


def test_both_forms_need_their_csrf_token(app_config, world):
    application = app_with(app_config, WTF_CSRF_ENABLED=True)
    client = application.test_client()
    sign_in_page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "koordinator@example.org",
                                "password": DEFAULT_PASSWORD,
                                "csrf_token": csrf_from(sign_in_page)})
    assert _upload(client, world, _csv(HEADER, *GOOD)).status_code == 400
    form = client.get(_base(world)).get_data(as_text=True)
    preview = _upload(client, world, _csv(HEADER, *GOOD), csrf_token=csrf_from(form))
    assert preview.status_code == 200
    token = _token(preview.get_data(as_text=True))
    assert _confirm(application, client, f"{_base(world)}/confirm",
                    data={"token": token}).status_code == 400
    assert rows(application, select(func.count()).select_from(Response))[0] == 0
    done = _confirm(application, client, f"{_base(world)}/confirm", data={
        "token": token, "csrf_token": csrf_from(preview.get_data(as_text=True))})
    assert done.status_code == 302
    application.extensions["mitra.engine"].dispose()


def test_the_pages_render_for_an_indonesian_reader(app, world):
    _close(app, world.open_round)
    client = signed_in_client(app, "coordinator")
    with client.session_transaction() as session:
        session["lang"] = "id"
    page = client.get(_base(world))
    assert page.status_code == 200
    assert '<html lang="id"' in page.get_data(as_text=True)
    bad = _upload(client, world, _csv(HEADER, ["Dinas Kesehatan", "9", "2", "2", "", "", "",
                                                ""]))
    assert bad.status_code == 422 and "kes1" in bad.get_data(as_text=True)
    preview = _upload(client, world, _csv(HEADER, *GOOD))
    assert preview.status_code == 200 and 'name="understand"' in preview.get_data(as_text=True)


def test_a_revision_note_longer_than_allowed_is_refused(app, world):
    _close(app, world.open_round)
    client = signed_in_client(app, "coordinator")
    token = _token(_upload(client, world, _csv(HEADER, *GOOD)).get_data(as_text=True))
    response = _confirm(app, client, f"{_base(world)}/confirm", data={
        "token": token, "understand": "y", "note": "x" * 501})
    assert response.status_code == 400
    assert _paper_count(app, world.open_round) == 0 and _held(app) == 1


def test_two_confirmations_racing_store_the_file_once(app, world, database_url):
    """Both requests found the held file; only the one that deletes it may store it.

    On SQLite a confirming request holds the write lock from its start, so the second one
    cannot even find the file; PostgreSQL lets both read it, and the row lock decides.
    """
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises the two requests before they read")
    from app.db import new_session
    from app.models import User
    from app.services import paper_import as service

    client = signed_in_client(app, "coordinator")
    token = _token(_upload(client, world, _csv(HEADER, *GOOD)).get_data(as_text=True))
    with app.app_context():
        first, second = new_session(), new_session()
    try:
        held = []
        for session in (first, second):
            round_ = session.get(Round, world.open_round)
            held.append(service.find_upload(session, round_,
                                            session.get(User, world.coordinator), token))
        assert all(h is not None for h in held)
        assert service.release_upload(first, held[0])
        first.commit()
        assert not service.release_upload(second, held[1])
        second.rollback()
    finally:
        first.close()
        second.close()
