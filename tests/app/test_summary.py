"""The one-page summary of a round: one A4 page, both languages, nothing below k.

The PDF is made by a background job (the test drains the job queue) and read back with
pypdf: exactly one page, whatever the demo-like content. A property test over random small
partnerships checks that the page shows a figure for no partner below k and names no
partner below k in the perception gap.
"""

from __future__ import annotations

import io
import re
from datetime import date

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from app.models import (
    Action,
    ActionOwner,
    ActionStatus,
    Commitment,
    CommitmentKind,
    CommitmentReview,
    DeliveryStatus,
    OwnerRole,
    Round,
    Workshop,
)
from tests.app.job_helpers import get_through_job, job_files_in_tmp  # noqa: F401
from tests.app.staff_helpers import db
from tests.app.test_results_pages import admin_client, build_scene

PROFILE = settings(max_examples=8, deadline=None,
                   phases=[Phase.explicit, Phase.reuse, Phase.generate],
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])


def _followup(app, scene, actions: int = 3, long: bool = False) -> None:
    """A workshop with ``actions`` actions and a pledge per partner reviewed in the round."""
    with db(app) as session:
        round_ = session.get(Round, scene.round)
        workshop = Workshop(round_id=round_.id, held_on=date(2026, 5, 1), title="Lokakarya")
        session.add(workshop)
        session.flush()
        dimension = round_.questionnaire_version.definition["dimensions"][0]["id"]
        partner_ids = list(scene.partners.values())
        statuses = [ActionStatus.DONE, ActionStatus.IN_PROGRESS, ActionStatus.PLANNED]
        for i in range(actions):
            text = f"Tindak lanjut nomor {i + 1} untuk kemitraan"
            action = Action(workshop_id=workshop.id,
                            description=text + (" sangat panjang" * 40 if long else ""),
                            questionnaire_version_id=round_.questionnaire_version_id,
                            dimension_id=dimension, due_on=date(2026, 8, 1 + i % 20),
                            status=statuses[i % 3])
            action.owner_links = [ActionOwner(partner_id=partner_ids[i % len(partner_ids)],
                                              role=OwnerRole.OWNER)]
            session.add(action)
        for i, pid in enumerate(partner_ids):
            pledge = Commitment(round_id=round_.id, partner_id=pid, kind=CommitmentKind.STAFF,
                                description=f"Staf lapangan {i + 1}" + (" x" * 200 if long
                                                                         else ""))
            pledge.reviews = [CommitmentReview(round_id=round_.id,
                                               status=DeliveryStatus.PARTIAL)]
            session.add(pledge)
        session.commit()


def _url(scene, suffix: str = "") -> str:
    return f"/summary/partnerships/{scene.partnership}/rounds/{scene.round}{suffix}"


def _pdf(app, client, scene, lang: str) -> tuple[int, str]:
    response = get_through_job(app, client, _url(scene, f"/summary.pdf?lang={lang}"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    return len(reader.pages), " ".join(p.extract_text() for p in reader.pages)


def _scene(app, sizes):
    with db(app) as session:
        return build_scene(session, sizes)


def test_summary_page_shows_results_actions_and_commitments_in_english(app):
    scene = _scene(app, {"Mitra A": 9, "Mitra B": 8, "Mitra C": 7})
    _followup(app, scene)
    page = admin_client(app, "en").get(_url(scene))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("Health index and dimensions", "Strengths", "Concerns",
                    "Largest perception gap", "Agreed actions", "commitments"):
        assert heading in html, heading
    assert "Tindak lanjut nomor 1" in html and "Partly delivered" in html
    assert html.count('class="summary-statements"') == 2
    assert "@page" not in html and "summary.css" in html


def test_summary_page_defaults_to_indonesian(app):
    scene = _scene(app, {"Mitra A": 9, "Mitra B": 8})
    _followup(app, scene)
    client = admin_client(app, "id")
    with client.session_transaction() as session:
        session.pop("lang")
    html = client.get(_url(scene)).get_data(as_text=True)
    assert '<html lang="id">' in html and 'class="summary-sheet" lang="id"' in html


def test_pdf_is_one_page_in_both_languages(app):
    scene = _scene(app, {"Mitra A": 9, "Mitra B": 8, "Mitra C": 7, "Mitra D": 6})
    _followup(app, scene, actions=12, long=True)
    client = admin_client(app, "en")
    pages, text = _pdf(app, client, scene, "en")
    assert pages == 1
    assert "Agreed actions" in text and "and 6 more actions in the action register" in text
    assert "and 0 more" not in text and "Staf lapangan 4" in text
    assert "August" in text and re.search(r"\b\d\.\d\b", text)
    pages, text = _pdf(app, client, scene, "id")
    assert pages == 1
    # Indonesian dates and decimal commas (the words follow once the catalogue is merged).
    assert "Agustus 2026" in text and "August" not in text and re.search(r"\b\d,\d\b", text)


def test_pdf_of_a_round_without_responses_is_one_page_too(app):
    scene = _scene(app, {"Mitra A": 0, "Mitra B": 0})
    client = admin_client(app, "en")
    pages, text = _pdf(app, client, scene, "en")
    assert pages == 1 and "no results to show yet" in text


def test_draft_round_has_no_summary(app):
    from app.models import RoundStatus

    scene = _scene(app, {"Mitra A": 6})
    with db(app) as session:
        session.get(Round, scene.round).status = RoundStatus.DRAFT
        session.commit()
    assert admin_client(app).get(_url(scene)).status_code == 404


SIZES = st.lists(st.integers(0, 9), min_size=2, max_size=4)
HIDDEN = "fewer than 5 responses"


@PROFILE
@given(sizes=SIZES)
def test_nothing_below_k_on_the_summary(app, sizes):
    names = {f"Mitra {chr(65 + i)}{chr(65 + i)}": n for i, n in enumerate(sizes)}
    scene = _scene(app, names)
    html = admin_client(app, "en").get(_url(scene)).get_data(as_text=True)
    sheet = html[html.index('class="summary-sheet"'):]
    total = sum(sizes)
    found = re.search(r'id="summary-gap-h">.*?</h2>(.*?)</section>', sheet, re.S)
    gap = found.group(1) if found else ""
    for name, n in names.items():
        if n < 5:
            assert name not in gap, (name, n)
    if total < 5:
        assert "Strengths" not in sheet or "summary-statements" not in sheet
        assert not re.search(r'class="num">\d', sheet)
    shown = [n for n in sizes if n >= 5]
    if len(shown) < 2 and found:
        assert "Too few partners" in gap
    # Every statement's share is of a partnership total of at least k answers.
    for match in re.finditer(r'<td class="num">([\d.,]+)</td>', sheet):
        assert total >= 5, match.group(0)


# --------------------------------------------------------------------------- sharing back


def _audit_actions(app, round_id: int) -> list[str]:
    from sqlalchemy import select

    from app.models import AuditEvent

    with db(app) as session:
        return list(session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "Round",
                                            AuditEvent.object_id == str(round_id),
                                            AuditEvent.action.like("summary.%"))
            .order_by(AuditEvent.id)))


def _round(app, round_id: int) -> Round:
    with db(app) as session:
        round_ = session.get(Round, round_id)
        session.expunge(round_)
        return round_


def _new_link(client, scene) -> str:
    page = client.post(_url(scene, "/link"))
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    found = re.search(r'value="http://localhost/summary/s\?token=([\w-]+)"',
                      page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:3000]
    return found.group(1)


def test_coordinator_turns_sharing_on_and_off_audited(app):
    scene = _scene(app, {"Mitra A": 9, "Mitra B": 8})
    client = admin_client(app, "en")
    html = client.get(_url(scene)).get_data(as_text=True)
    assert "Not shared." in html and "Share with the respondents" in html
    assert client.post(_url(scene, "/share")).status_code == 303
    assert _round(app, scene.round).results_shared_on == date.today()
    assert client.post(_url(scene, "/share")).status_code == 303  # a repeat changes nothing
    html = client.get(_url(scene)).get_data(as_text=True)
    assert "Shared since" in html and "Stop sharing" in html
    assert client.post(_url(scene, "/unshare")).status_code == 303
    assert _round(app, scene.round).results_shared_on is None
    assert _audit_actions(app, scene.round) == ["summary.share", "summary.unshare"]


def test_readers_who_are_not_coordinators_cannot_share(app):
    from app.models import Membership, Role
    from tests.app.staff_helpers import signed_in_client
    from tests.factories import make_user

    scene = _scene(app, {"Mitra A": 9, "Mitra B": 8})
    with db(app) as session:
        user = make_user(session, "fac-share@example.org", language="en")
        session.add(Membership(user_id=user.id, partnership_id=scene.partnership,
                               role=Role.FACILITATOR))
        session.commit()
    client = signed_in_client(app, "fac-share@example.org")
    html = client.get(_url(scene)).get_data(as_text=True)
    assert "One-page summary" in html and "Share with the respondents" not in html
    assert client.post(_url(scene, "/share")).status_code == 403
    assert _round(app, scene.round).results_shared_on is None


def test_public_link_shown_once_replaced_and_revoked(app):
    scene = _scene(app, {"Mitra A": 9, "Mitra B": 8})
    _followup(app, scene)
    staff = admin_client(app, "en")
    staff.post(_url(scene, "/share"))
    token = _new_link(staff, scene)
    stored = _round(app, scene.round).summary_link_hash
    assert stored and token not in stored and len(stored) == 64
    assert token not in staff.get(_url(scene)).get_data(as_text=True)  # shown once only

    public = app.test_client()
    page = public.get(f"/summary/s?token={token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert '<html lang="id">' in html and 'class="summary-sheet"' in html
    assert "Tindak lanjut nomor 1" in html and "lang-switch" in html
    assert "summary.pdf" not in html and "/partnerships/" not in html  # no staff links

    replacement = _new_link(staff, scene)
    assert public.get(f"/summary/s?token={token}").status_code == 404
    assert public.get(f"/summary/s?token={replacement}").status_code == 200
    staff.post(_url(scene, "/unshare"))
    assert public.get(f"/summary/s?token={replacement}").status_code == 404
    staff.post(_url(scene, "/share"))
    assert staff.post(_url(scene, "/link/revoke")).status_code == 303
    assert public.get(f"/summary/s?token={replacement}").status_code == 404
    for bad in ("", "?token=", "?token=x", "?token=" + "a" * 500):
        assert public.get(f"/summary/s{bad}").status_code == 404
    assert _audit_actions(app, scene.round) == [
        "summary.share", "summary.link_create", "summary.link_replace", "summary.unshare",
        "summary.share", "summary.link_revoke"]


def _shared_sheet(app, scene) -> str:
    staff = admin_client(app, "en")
    staff.post(_url(scene, "/share"))
    token = _new_link(staff, scene)
    public = app.test_client()
    with public.session_transaction() as session:
        session["lang"] = "en"
    html = public.get(f"/summary/s?token={token}").get_data(as_text=True)
    return html[html.index('<article class="summary-sheet"'):html.index("</article>")]


def test_shared_copy_shows_nothing_below_k(app):
    scene = _scene(app, {"Mitra AA": 2, "Mitra BB": 2})
    sheet = _shared_sheet(app, scene)
    assert "no results to show yet" in sheet or "fewer than 5" in sheet
    assert not re.search(r'class="num">\d', sheet) and "summary-statements" not in sheet
    scene = _scene(app, {"Mitra CC": 9, "Mitra DD": 3, "Mitra EE": 8})
    sheet = _shared_sheet(app, scene)
    assert re.search(r'class="num">\d', sheet)
    gap = re.search(r'id="summary-gap-h">.*?</h2>(.*?)</section>', sheet, re.S).group(1)
    assert "Mitra DD" not in gap
    staff_html = admin_client(app, "en").get(_url(scene)).get_data(as_text=True)
    assert sheet in staff_html  # the very sheet coordinators see, thresholded the same way


def test_respondent_with_a_used_code_sees_the_shared_summary(app):
    from app.models import RoundStatus
    from app.respond.redact import is_respondent_path
    from tests.app.respond_helpers import arrange, complete_flow, english_client

    fieldwork = arrange(app, codes=3)
    used = fieldwork.codes[0]
    first = english_client(app)
    assert complete_flow(first, fieldwork, used, lang="en").status_code == 303
    thanks = first.get("/r/thanks").get_data(as_text=True)
    assert "Thank you" in thanks and "See what came of it" not in thanks
    assert first.get("/summary/s/round").status_code == 404  # not shared yet

    again = english_client(app)
    refused = again.post("/r", data={"code": used})
    assert refused.status_code == 410 and "See what came of it" not in refused.get_data(
        as_text=True)

    with db(app) as session:
        session.get(Round, fieldwork.round_id).results_shared_on = date.today()
        session.commit()
    assert "See what came of it" in first.get("/r/thanks").get_data(as_text=True)
    later = english_client(app)
    refused = later.post("/r", data={"code": used})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 410 and 'href="/summary/s/round"' in html
    page = later.get("/summary/s/round")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Agreed actions" in page.get_data(as_text=True)
    assert app.test_client().get("/summary/s/round").status_code == 404  # no code, no page

    # After the round closes, an unused code of the round leads there too.
    with db(app) as session:
        session.get(Round, fieldwork.round_id).status = RoundStatus.CLOSED
        session.commit()
    closed = english_client(app)
    html = closed.post("/r", data={"code": fieldwork.codes[1]}).get_data(as_text=True)
    assert 'href="/summary/s/round"' in html
    assert closed.get("/summary/s/round").status_code == 200
    # An unknown code learns nothing about any round.
    stranger = english_client(app)
    assert "See what came of it" not in stranger.post(
        "/r", data={"code": "ZZZZ-ZZZZ"}).get_data(as_text=True)
    assert stranger.get("/summary/s/round").status_code == 404
    assert is_respondent_path("/summary/s") and is_respondent_path("/summary/s/round")
    assert not is_respondent_path(f"/summary/partnerships/1/rounds/{fieldwork.round_id}")
