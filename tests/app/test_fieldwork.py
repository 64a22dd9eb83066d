"""Access codes, partner links and the fieldwork counts (coordinators only)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from app.db import Base
from app.models import AccessCode, AuditEvent, CodeKind, Partner, Response, Round, RoundStatus
from app.services import fieldwork as service
from app.services.access_codes import hash_code
from tests.app.staff_helpers import (
    audit_actions,
    build_world,
    count,
    db,
    rows,
    signed_in_client,
)

CODE_ON_CARD = re.compile(r'<p class="code">([A-Z0-9]{4})-([A-Z0-9]{4})</p>')
QR_ON_CARD = re.compile(r'<img class="qr" src="(data:image/svg\+xml;base64,[A-Za-z0-9+/=]+)"')


@pytest.fixture
def world(app):
    return build_world(app)


def _base(world) -> str:
    return f"/fieldwork/partnerships/{world.partnership}/rounds/{world.open_round}"


def _batch_field(html: str) -> str:
    return re.search(r'name="batch" type="hidden" value="([0-9a-f]+)"', html).group(1)


def _issue(client, world, partner_id: int, count_: int, language: str = "id"):
    """Open the form (which carries a fresh batch id) and submit it."""
    form = client.get(f"{_base(world)}/codes").get_data(as_text=True)
    return client.post(f"{_base(world)}/codes", data={
        "partner_id": str(partner_id), "count": str(count_), "language": language,
        "batch": _batch_field(form)})


def _codes_on(html: str) -> list[str]:
    return [a + b for a, b in CODE_ON_CARD.findall(html)]


def _sealed_sheet(html: str) -> str:
    return re.search(r'name="sheet" type="hidden" value="([^"]+)"', html).group(1)


def _database_text(app) -> str:
    """Every value of every row of every table, as one text to search."""
    parts = []
    with db(app) as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                parts.append(" ".join(str(value) for value in row))
        if session.bind.dialect.name == "sqlite":
            # Also the raw pages, in case some value were stored in a form we did not select.
            parts.extend(str(r) for r in session.execute(text("SELECT * FROM sqlite_master")))
    return "\n".join(parts)


# -------------------------------------------------------------------------------- access


@pytest.mark.parametrize(("who", "status"), [
    ("coordinator", 200), ("admin", 200), ("facilitator", 403), ("observer", 403),
    ("outsider", 404), ("plain", 404)])
def test_fieldwork_is_for_coordinators_only(app, world, who, status):
    client = signed_in_client(app, who)
    assert client.get(_base(world)).status_code == status
    assert client.get(f"{_base(world)}/codes").status_code == status
    assert client.get(f"{_base(world)}/links").status_code == status
    response = client.post(f"{_base(world)}/codes", data={
        "partner_id": str(world.partners[0]), "count": "3", "language": "id",
        "batch": "a" * 16})
    assert response.status_code == (200 if status == 200 else status)
    assert count(app, AccessCode) == (3 if status == 200 else 0)


def test_anonymous_users_are_sent_to_sign_in(client, world):
    response = client.get(_base(world))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_partnerships_round_is_not_found(app, world):
    client = signed_in_client(app, "coordinator")
    path = f"/fieldwork/partnerships/{world.partnership}/rounds/{world.other_round}"
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/codes").status_code == 404


def test_the_fieldwork_page_refreshes_itself_without_script(app, world):
    html = signed_in_client(app, "coordinator").get(_base(world)).get_data(as_text=True)
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', html)
    assert "<script" not in html


# ---------------------------------------------------------------------------- issuing


def test_codes_are_shown_once_on_a_sheet_and_only_their_hashes_are_stored(app, world):
    client = signed_in_client(app, "coordinator")
    response = _issue(client, world, world.partners[0], 7)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    codes = _codes_on(html)
    assert len(codes) == len(set(codes)) == 7

    stored = rows(app, select(AccessCode))
    assert len(stored) == 7
    assert {c.kind for c in stored} == {CodeKind.SINGLE}
    assert {(c.round_id, c.partner_id, c.max_uses, c.uses) for c in stored} == {
        (world.open_round, world.partners[0], 1, 0)}
    key = app.config["ACCESS_CODE_KEY"]
    assert {c.code_hash for c in stored} == {hash_code(code, key) for code in codes}

    everything = _database_text(app)
    for code in codes:
        assert code not in everything
        assert f"{code[:4]}-{code[4:]}" not in everything

    assert audit_actions(app, action="codes.issue") == ["codes.issue"]
    event = rows(app, select(AuditEvent).where(AuditEvent.action == "codes.issue"))[0]
    assert event.details["count"] == 7 and event.details["partner_id"] == world.partners[0]


def test_each_card_has_a_qr_code_of_its_direct_link(app, world):
    client = signed_in_client(app, "coordinator")
    html = _issue(client, world, world.partners[1], 3).get_data(as_text=True)
    codes = _codes_on(html)
    images = QR_ON_CARD.findall(html)
    assert len(images) == 3
    for code, image in zip(codes, images, strict=True):
        # segno is deterministic: the same URL gives the same symbol.
        assert image == service.qr_data_uri(f"http://localhost/r/{code}")
    entry = "http://localhost/r" if "respond.start" in app.view_functions else "http://localhost/"
    # Where to type a code by hand, on cards printed in Indonesian (the form's language "id";
    # catalogue: "Scan the QR code, or go to %(url)s and enter the code." ->
    # "Pindai kode QR, atau buka %(url)s dan masukkan kodenya.").
    assert f"atau buka {entry} dan masukkan kodenya" in html


def test_cards_are_in_the_chosen_language_and_the_page_in_the_users(app, world):
    # The coordinator reads the site in English (profile language, see staff_helpers) and
    # prints Indonesian cards (catalogue: "Your answers are anonymous. The code works once." ->
    # "Jawaban Anda anonim. Kode ini hanya dapat digunakan sekali.").
    client = signed_in_client(app, "coordinator")
    html = _issue(client, world, world.partners[0], 1, language="id").get_data(as_text=True)
    assert "Jawaban Anda anonim. Kode ini hanya dapat digunakan sekali." in html
    assert "The code works once." not in html
    assert '<html lang="en">' in html


def test_sending_the_same_form_twice_issues_nothing_more(app, world):
    client = signed_in_client(app, "coordinator")
    form = client.get(f"{_base(world)}/codes").get_data(as_text=True)
    data = {"partner_id": str(world.partners[0]), "count": "4", "language": "id",
            "batch": _batch_field(form)}
    assert client.post(f"{_base(world)}/codes", data=data).status_code == 200
    again = client.post(f"{_base(world)}/codes", data=data)
    assert again.status_code == 400
    assert "already generated" in again.get_data(as_text=True)
    assert _codes_on(again.get_data(as_text=True)) == []
    assert count(app, AccessCode) == 4


@pytest.mark.parametrize("number", ["0", "2001", "-1", "lots"])
def test_the_number_of_codes_is_bounded(app, world, number):
    client = signed_in_client(app, "coordinator")
    form = client.get(f"{_base(world)}/codes").get_data(as_text=True)
    response = client.post(f"{_base(world)}/codes", data={
        "partner_id": str(world.partners[0]), "count": number, "language": "id",
        "batch": _batch_field(form)})
    assert response.status_code == 400
    assert count(app, AccessCode) == 0


def test_two_thousand_codes_in_one_batch(app, world):
    client = signed_in_client(app, "coordinator")
    response = _issue(client, world, world.partners[0], 2000)
    assert response.status_code == 200
    assert len(set(_codes_on(response.get_data(as_text=True)))) == 2000
    assert count(app, AccessCode) == 2000


def test_codes_only_for_partners_of_the_round(app, world):
    with db(app) as session:
        round_ = session.get(Round, world.open_round)
        round_.partners = [p for p in round_.partners if p.id != world.partners[2]]
        session.commit()
    client = signed_in_client(app, "coordinator")
    for partner_id in (world.partners[2], world.other_partners[0]):
        assert _issue(client, world, partner_id, 2).status_code == 400
    assert count(app, AccessCode) == 0


def test_no_codes_for_a_closed_round(app, world):
    with db(app) as session:
        session.get(Round, world.open_round).status = RoundStatus.CLOSED
        session.commit()
    client = signed_in_client(app, "coordinator")
    response = _issue(client, world, world.partners[0], 2)
    assert response.status_code == 400
    assert "closed" in response.get_data(as_text=True)
    assert count(app, AccessCode) == 0


# ------------------------------------------------------------------------------------ CSV


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_sheet_offers_its_codes_as_a_csv_download(app, world):
    client = signed_in_client(app, "coordinator")
    html = _issue(client, world, world.partners[0], 5).get_data(as_text=True)
    codes = _codes_on(html)
    response = client.post(f"{_base(world)}/codes/csv", data={"sheet": _sealed_sheet(html)})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        rf'attachment; filename="codes-round{world.open_round}-partner{world.partners[0]}'
        r'-[0-9a-f]{16}\.csv"', disposition)
    table = _csv_rows(response)
    assert table[0] == ["code", "code_display", "partner", "round", "link"]
    assert sorted(row[0] for row in table[1:]) == sorted(codes)
    for code, display, partner, round_name, link in table[1:]:
        assert display == f"{code[:4]}-{code[4:]}"
        assert (partner, round_name) == ("Dinas Kesehatan", "Putaran buka")
        assert link == f"http://localhost/r/{code}"


def test_csv_cells_are_neutralised_against_formulas(app, world):
    with db(app) as session:
        session.get(Partner, world.partners[0]).name = '=HYPERLINK("http://evil.example")'
        session.commit()
    client = signed_in_client(app, "coordinator")
    html = _issue(client, world, world.partners[0], 2).get_data(as_text=True)
    table = _csv_rows(client.post(f"{_base(world)}/codes/csv",
                                  data={"sheet": _sealed_sheet(html)}))
    assert {row[2] for row in table[1:]} == {'\'=HYPERLINK("http://evil.example")'}
    raw = client.post(f"{_base(world)}/codes/csv", data={"sheet": _sealed_sheet(html)})
    assert raw.get_data().decode("utf-8-sig").startswith('"code","code_display"')  # QUOTE_ALL


def test_revoked_codes_drop_out_of_the_csv(app, world):
    client = signed_in_client(app, "coordinator")
    html = _issue(client, world, world.partners[0], 3).get_data(as_text=True)
    batch = rows(app, select(AccessCode.batch))[0]
    client.post(f"{_base(world)}/batches/{batch}/revoke")
    table = _csv_rows(client.post(f"{_base(world)}/codes/csv",
                                  data={"sheet": _sealed_sheet(html)}))
    assert table[1:] == []


def test_a_sealed_sheet_is_refused_when_tampered_foreign_or_old(app, world, monkeypatch):
    coordinator = signed_in_client(app, "coordinator")
    html = _issue(coordinator, world, world.partners[0], 2).get_data(as_text=True)
    sealed = _sealed_sheet(html)
    url = f"{_base(world)}/codes/csv"

    tampered = coordinator.post(url, data={"sheet": sealed[:-3] + "abc"})
    assert tampered.status_code == 302
    assert "text/csv" not in tampered.content_type

    admin = signed_in_client(app, "admin")  # may see the round, but did not make the sheet
    assert admin.post(url, data={"sheet": sealed}).status_code == 302

    other_round = f"/fieldwork/partnerships/{world.partnership}/rounds/{world.draft_round}"
    assert coordinator.post(f"{other_round}/codes/csv",
                            data={"sheet": sealed}).status_code == 302

    monkeypatch.setattr(service, "SHEET_MAX_AGE", -1)
    expired = coordinator.post(url, data={"sheet": sealed}, follow_redirects=True)
    assert "can only be downloaded for" in expired.get_data(as_text=True)


def test_signing_out_makes_an_earlier_sheet_useless(app, world):
    client = signed_in_client(app, "coordinator")
    html = _issue(client, world, world.partners[0], 2).get_data(as_text=True)
    client.post("/logout")
    again = signed_in_client(app, "coordinator")
    response = again.post(f"{_base(world)}/codes/csv", data={"sheet": _sealed_sheet(html)})
    assert response.status_code == 302


TRIGGERS = st.sampled_from(list(service.CSV_TRIGGERS))


@given(st.text(max_size=30), st.booleans(), TRIGGERS)
def test_no_text_cell_starts_with_a_formula_trigger(value, force_trigger, trigger):
    original = trigger + value if force_trigger else value
    written = service.csv_text(["h"], [[original, 7]])
    cell, number = list(csv.reader(io.StringIO(written, newline="")))[1]
    assert not cell.startswith(service.CSV_TRIGGERS)
    assert number == "7"
    if original.startswith(service.CSV_TRIGGERS):
        assert cell == "'" + original
    else:
        assert cell == original


def test_numbers_stay_numbers():
    assert service.neutralise_cell(-5) == -5
    assert service.neutralise_cell("-5") == "'-5"


# ---------------------------------------------------------------------------------- links


def test_a_partner_link_is_shown_once_with_its_qr_code(app, world):
    client = signed_in_client(app, "coordinator")
    assert client.get(f"{_base(world)}/links").status_code == 200
    response = client.post(f"{_base(world)}/links", data={
        "partner_id": str(world.partners[2]), "max_uses": "25"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    url = re.search(r'<p class="link-url"><code>(http://localhost/l/[A-Za-z0-9_-]+)</code>',
                    html).group(1)
    token = url.rsplit("/", 1)[1]
    assert f'src="{service.qr_data_uri(url)}"' in html
    link = rows(app, select(AccessCode))[0]
    assert (link.kind, link.max_uses, link.uses, link.partner_id) == (
        CodeKind.LINK, 25, 0, world.partners[2])
    assert link.code_hash == hash_code(token, app.config["ACCESS_CODE_KEY"])
    assert token not in _database_text(app)
    assert audit_actions(app, action="link.issue") == ["link.issue"]


@pytest.mark.parametrize("uses", ["0", "100001"])
def test_link_use_limits_are_bounded(app, world, uses):
    response = signed_in_client(app, "coordinator").post(f"{_base(world)}/links", data={
        "partner_id": str(world.partners[0]), "max_uses": uses})
    assert response.status_code == 400
    assert count(app, AccessCode) == 0


# --------------------------------------------------------------------------------- counts


def _arrange_fieldwork(app, world) -> None:
    """Partner 0: 6 codes, 2 used, 3 responses. Partner 1: 3 codes, a link used 4 of 10
    times, 5 responses. Partner 2: nothing. A response in another round must not count."""
    with db(app) as session:
        round_ = session.get(Round, world.open_round)
        partners = {p.id: p for p in round_.partners}
        first = service.issue_code_batch(session, _actor(session, world), round_,
                                         partners[world.partners[0]], 6, "a" * 16)
        service.issue_code_batch(session, _actor(session, world), round_,
                                 partners[world.partners[1]], 3, "b" * 16)
        service.issue_partner_link(session, _actor(session, world), round_,
                                   partners[world.partners[1]], 10)
        key = app.config["ACCESS_CODE_KEY"]
        session.execute(update(AccessCode).where(
            AccessCode.code_hash.in_([hash_code(c, key) for c in first[:2]])).values(uses=1))
        session.execute(update(AccessCode).where(AccessCode.kind == CodeKind.LINK)
                        .values(uses=4))
        for partner_id, n in ((world.partners[0], 3), (world.partners[1], 5)):
            session.add_all(Response(round_id=world.open_round, partner_id=partner_id,
                                     language="id", submitted_on=date(2026, 3, 1))
                            for _ in range(n))
        session.add(Response(round_id=world.draft_round, partner_id=world.partners[0],
                             language="id", submitted_on=date(2026, 3, 1)))
        session.commit()


def _actor(session, world):
    from app.models import User

    return session.get(User, world.coordinator)


def test_fieldwork_counts_per_partner_and_in_total(app, world):
    with app.test_request_context():
        _arrange_fieldwork(app, world)
    with db(app) as session:
        summary = service.fieldwork_summary(session, session.get(Round, world.open_round))
        by_partner = {row.partner.id: row for row in summary.rows}
        first, second, third = (by_partner[p] for p in world.partners)
        assert (first.codes_issued, first.codes_used, first.links, first.responses) == (6, 2, 0, 3)
        assert first.response_rate == pytest.approx(2 / 6)  # codes used per code issued
        assert (second.codes_issued, second.codes_used, second.links, second.link_uses,
                second.link_capacity, second.responses) == (3, 0, 1, 4, 10, 5)
        assert second.response_rate is None  # fewer than 5 codes issued, and a link
        assert (third.codes_issued, third.responses, third.response_rate) == (0, 0, None)
        totals = summary.totals
        assert (totals.codes_issued, totals.codes_used, totals.links, totals.link_uses,
                totals.responses) == (9, 2, 1, 4, 8)
        assert totals.response_rate is None  # the link's people have no denominator

    html = signed_in_client(app, "coordinator").get(_base(world)).get_data(as_text=True)
    body = re.sub(r"\s+", " ", html)
    assert re.search(r"Dinas Kesehatan</th> <td class=\"num\">6</td> <td class=\"num\">2</td> "
                     r"<td class=\"num\">0</td> <td class=\"num\">–</td> "
                     r"<td class=\"num\">3</td> <td class=\"num\">0</td> "
                     r"<td class=\"num\">33%</td>", body)
    assert re.search(r"Yayasan Sehat</th> <td class=\"num\">3</td> <td class=\"num\">0</td> "
                     r"<td class=\"num\">1</td> <td class=\"num\">4 / 10</td> "
                     r"<td class=\"num\">5</td> <td class=\"num\">0</td> "
                     r"<td class=\"num\">–</td>", body)
    assert re.search(r"Total</th> <td class=\"num\">9</td> <td class=\"num\">2</td> "
                     r"<td class=\"num\">1</td> <td class=\"num\">4 / 10</td> "
                     r"<td class=\"num\">8</td> <td class=\"num\">0</td> "
                     r"<td class=\"num\">–</td>", body)


def test_paper_answers_never_raise_the_response_rate_above_the_codes_used(app, world):
    """A partner with 6 codes, all used, and 2 answers typed in from paper: 100%, not 133%."""
    with app.test_request_context(), db(app) as session:
        round_ = session.get(Round, world.open_round)
        partner = next(p for p in round_.partners if p.id == world.partners[0])
        codes = service.issue_code_batch(session, _actor(session, world), round_, partner, 6,
                                         "c" * 16)
        key = app.config["ACCESS_CODE_KEY"]
        session.execute(update(AccessCode).where(
            AccessCode.code_hash.in_([hash_code(c, key) for c in codes])).values(uses=1))
        session.add_all(Response(round_id=world.open_round, partner_id=partner.id,
                                 language="id", submitted_on=date(2026, 3, 1), source=source)
                        for source in ["web"] * 6 + ["paper"] * 2)
        session.commit()
    with db(app) as session:
        summary = service.fieldwork_summary(session, session.get(Round, world.open_round))
        row = next(r for r in summary.rows if r.partner.id == world.partners[0])
        assert (row.responses, row.paper_responses, row.codes_used) == (8, 2, 6)
        assert row.response_rate == pytest.approx(1.0)


# ------------------------------------------------------------------------------- revoking


def test_revoking_a_batch_withdraws_only_its_unused_codes(app, world):
    with app.test_request_context():
        _arrange_fieldwork(app, world)
    client = signed_in_client(app, "coordinator")
    url = f"{_base(world)}/batches/{'a' * 16}/revoke"
    assert client.get(url).status_code == 200
    assert count(app, AccessCode) == 10  # nothing changed by looking
    assert client.post(url).status_code == 302
    remaining = rows(app, select(AccessCode).where(AccessCode.batch == "a" * 16))
    assert len(remaining) == 2 and all(c.uses == 1 for c in remaining)
    assert count(app, AccessCode) == 6
    event = rows(app, select(AuditEvent).where(AuditEvent.action == "codes.revoke"))[0]
    assert (event.details["withdrawn"], event.details["batch"]) == (4, "a" * 16)
    html = client.get(_base(world)).get_data(as_text=True)
    assert f"/batches/{'a' * 16}/revoke" not in html


def test_revoking_a_used_link_stops_further_uses(app, world):
    with app.test_request_context():
        _arrange_fieldwork(app, world)
    link = rows(app, select(AccessCode).where(AccessCode.kind == CodeKind.LINK))[0]
    client = signed_in_client(app, "coordinator")
    assert client.post(f"{_base(world)}/batches/{link.batch}/revoke").status_code == 302
    after = rows(app, select(AccessCode).where(AccessCode.id == link.id))[0]
    assert (after.uses, after.max_uses) == (4, 4)


def test_unknown_or_foreign_batches_are_not_found(app, world):
    with app.test_request_context():
        _arrange_fieldwork(app, world)
    client = signed_in_client(app, "coordinator")
    assert client.get(f"{_base(world)}/batches/{'c' * 16}/revoke").status_code == 404
    draft = f"/fieldwork/partnerships/{world.partnership}/rounds/{world.draft_round}"
    assert client.post(f"{draft}/batches/{'a' * 16}/revoke").status_code == 404
    assert client.get(f"{_base(world)}/batches/NOT-A-BATCH/revoke").status_code == 404
    assert count(app, AccessCode) == 10


@pytest.mark.parametrize("number", ["99999999999999999999999999", "9" * 1000, "-" + "9" * 40])
def test_a_huge_number_of_codes_or_uses_is_refused_with_a_message_not_a_500(app, world, number):
    """Found by the form fuzzer: WTForms' range check turned a 1,000-digit integer into a float
    and raised OverflowError."""
    client = signed_in_client(app, "coordinator")
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = _issue(client, world, world.partners[0], number)
    assert response.status_code in {200, 400}
    assert "This number is too large." in response.get_data(as_text=True)
    response = client.post(f"{_base(world)}/links", data={
        "partner_id": world.partners[0], "max_uses": number, "language": "en"})
    assert response.status_code in {200, 400}
    assert "This number is too large." in response.get_data(as_text=True)
    assert count(app, AccessCode) == 0
