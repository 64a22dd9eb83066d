"""End to end in headless Chromium: the one-page summary of a round.

A coordinator opens a closed round's results, clicks through to the one-page summary, asks
for its PDF (made by a background job) and downloads it; the PDF is one page, and drawn to
PNG with pdftoppm it is not blank. The page passes axe-core and reads at 360 px without
sideways scrolling. Screenshots land in docs/screenshots/.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

from PIL import Image
from playwright.sync_api import Browser, expect
from pypdf import PdfReader

from app.models import Action, ActionOwner, ActionStatus, OwnerRole, Round, Workshop
from tests.app.export_helpers import build_results_world
from tests.app.staff_helpers import EMAILS, db
from tests.e2e.e2e_helpers import (
    laptop_context,
    navigate_by,
    overflow_x,
    phone_context,
    shoot,
    sign_in,
)
from tests.e2e.test_results_flow import (
    axe_context,
    axe_script,  # noqa: F401  (a fixture)
    blocking_violations,
    download_from_job,
)
from tests.factories import DEFAULT_PASSWORD


def _actions(app, round_id: int, partner_id: int) -> None:
    with db(app) as session:
        round_ = session.get(Round, round_id)
        workshop = Workshop(round_id=round_id, held_on=date(2026, 2, 10), title="Lokakarya")
        session.add(workshop)
        session.flush()
        for text, dimension, status in (
                ("Rotasi pimpinan rapat bulanan", "kesetaraan", ActionStatus.DONE),
                ("Laporan keuangan dibagikan tiap triwulan", "transparansi",
                 ActionStatus.IN_PROGRESS)):
            action = Action(workshop_id=workshop.id, description=text, dimension_id=dimension,
                            questionnaire_version_id=round_.questionnaire_version_id,
                            due_on=date(2026, 6, 30), status=status)
            action.owner_links = [ActionOwner(partner_id=partner_id, role=OwnerRole.OWNER)]
            session.add(action)
        session.commit()


def test_coordinator_prints_the_one_page_summary_and_gets_its_pdf(
        browser: Browser, live_app, live_server, screenshot_dir, tmp_path,
        axe_script):  # noqa: F811
    results = build_results_world(live_app, (20, 14, 3))
    world = results.world
    _actions(live_app, results.closed_round, world.partners[0])
    base = live_server.url
    context = laptop_context(browser)
    page = context.new_page()
    sign_in(page, base, EMAILS["coordinator"], DEFAULT_PASSWORD)
    page.goto(f"{base}/results/partnerships/{world.partnership}")
    navigate_by(page, page.get_by_role("link", name="Putaran tutup").first.click)
    navigate_by(page, page.get_by_role("link", name="One-page summary").first.click)
    sheet = page.locator(".summary-sheet")
    expect(sheet.locator("h2")).to_have_count(6)
    expect(sheet).to_contain_text("Rotasi pimpinan rapat bulanan")
    shoot(page, screenshot_dir, "summary-one-page.png")

    download = download_from_job(page, page.get_by_role("link", name="PDF in English"))
    path = tmp_path / "summary.pdf"
    download.save_as(path)
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    assert len(reader.pages) == 1
    assert "Rotasi pimpinan rapat bulanan" in reader.pages[0].extract_text()
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is needed to draw the PDF"
    subprocess.run([pdftoppm, "-r", "60", "-png", "-singlefile", str(path),
                    str(tmp_path / "summary")], check=True)
    image = Image.open(tmp_path / "summary.png").convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 0.005 * image.width * image.height, "the PDF page is blank"
    shutil.copy(tmp_path / "summary.png", screenshot_dir / "summary-pdf.png")
    summary_url = page.url
    context.close()

    phone = phone_context(browser)
    small = phone.new_page()
    sign_in(small, base, EMAILS["coordinator"], DEFAULT_PASSWORD)
    small.goto(f"{base}/summary/partnerships/{world.partnership}/rounds/{results.closed_round}")
    assert overflow_x(small) <= 0
    phone.close()

    checked = axe_context(browser)
    page = checked.new_page()
    sign_in(page, base, EMAILS["coordinator"], DEFAULT_PASSWORD)
    page.goto(f"{base}/summary/partnerships/{world.partnership}/rounds/{results.closed_round}")
    assert blocking_violations(page, axe_script) == [], summary_url
    checked.close()


def _used_code(app, round_id: int, partner_id: int) -> str:
    """A single code of the round that has already submitted its answers."""
    from sqlalchemy import select

    from app.models import AccessCode
    from app.services.access_codes import issue_codes

    with app.app_context(), db(app) as session:
        (plain,) = issue_codes(session, round_id, partner_id, 1)
        session.flush()
        code = session.scalars(select(AccessCode).where(AccessCode.round_id == round_id)
                               .order_by(AccessCode.id.desc())).first()
        code.uses = code.max_uses
        session.commit()
    return plain


def test_respondent_with_a_used_code_sees_the_shared_summary(
        browser: Browser, live_app, live_server, screenshot_dir, axe_script):  # noqa: F811
    results = build_results_world(live_app, (20, 14, 3))
    world = results.world
    _actions(live_app, results.closed_round, world.partners[0])
    code = _used_code(live_app, results.closed_round, world.partners[0])
    base = live_server.url

    context = laptop_context(browser)
    page = context.new_page()
    sign_in(page, base, EMAILS["coordinator"], DEFAULT_PASSWORD)
    page.goto(f"{base}/results/partnerships/{world.partnership}")
    navigate_by(page, page.get_by_role("link", name="Putaran tutup").first.click)
    navigate_by(page, page.get_by_role("link", name="One-page summary").first.click)
    expect(page.locator(".summary-sharing")).to_contain_text("Not shared")
    navigate_by(page, page.get_by_role("button", name="Share with the respondents").click)
    expect(page.locator(".summary-sharing")).to_contain_text("Shared since")
    context.close()

    phone = axe_context(browser, phone=True)
    small = phone.new_page()
    small.goto(base + "/")
    small.locator("#entry-code").fill(code)
    navigate_by(small, small.locator(".respondent-entry button[type=submit]").click)
    expect(small.locator("h1")).to_have_count(1)
    # The offer on the "code already used" page (its words are Indonesian once merged).
    navigate_by(small, small.locator(".shared-summary a").click)
    assert small.url.endswith("/summary/s/round")
    sheet = small.locator(".summary-sheet")
    expect(sheet).to_contain_text("Rotasi pimpinan rapat bulanan")
    expect(small.locator("html")).to_have_attribute("lang", "id")
    with db(live_app) as session:
        from app.models import Partner

        small_partner = session.get(Partner, world.partners[2]).name  # 3 answers, below k
    gap = small.locator("section.summary-block", has=small.locator("#summary-gap-h"))
    assert small_partner not in gap.inner_text()
    assert overflow_x(small) <= 0
    shoot(small, screenshot_dir, "summary-shared-phone.png")
    assert blocking_violations(small, axe_script) == []
    phone.close()
