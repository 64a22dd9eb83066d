"""End to end in headless Chromium: the follow-up loop.

A facilitator opens a closed round's results, records a workshop and agrees three actions
tied to dimensions by keyboard alone, without the page reloading (followup.js); the next
round is answered and closed (stored with the test helpers); the next workshop opens with the
review, which shows each action with its dimension's change. The pages are checked with
axe-core; screenshots land in docs/screenshots/.
"""

from __future__ import annotations

from datetime import date

from playwright.sync_api import Browser, Page, expect

from app.models import Partnership, Round, RoundStatus
from tests.app.export_helpers import add_responses, build_results_world
from tests.app.staff_helpers import EMAILS, db
from tests.e2e.e2e_helpers import laptop_context, navigate_by, shoot, sign_in, submit
from tests.e2e.test_results_flow import (
    axe_context,
    axe_script,  # noqa: F401  (a fixture)
    blocking_violations,
)
from tests.factories import DEFAULT_PASSWORD

ACTIONS = (("Rotasi pimpinan rapat bulanan", "Equ"),
           ("Laporan keuangan dibagikan tiap triwulan", "Tra"),
           ("Semua mitra menyusun agenda bersama", "Equ"))


def _second_round(app, partnership_id: int) -> int:
    with db(app) as session:
        partnership = session.get(Partnership, partnership_id)
        version = partnership.rounds[0].questionnaire_version_id
        round_ = Round(partnership=partnership, name="Putaran kedua",
                       questionnaire_version_id=version, opens_on=date(2026, 6, 1),
                       closes_on=date(2026, 6, 30), status=RoundStatus.OPEN,
                       partners=list(partnership.partners))
        session.add(round_)
        session.flush()
        for index, (partner, n) in enumerate(zip(partnership.partners, (18, 12, 2),
                                                 strict=True)):
            add_responses(session, round_.id, partner.id, n, seed=index + 2)
        round_.status = RoundStatus.CLOSED
        session.commit()
        return round_.id


def _click(page: Page, name: str) -> None:
    navigate_by(page, page.get_by_role("link", name=name).first.click)


def _open_workshops(page: Page, base: str, partnership: int, round_name: str) -> None:
    page.goto(f"{base}/results/partnerships/{partnership}")
    _click(page, round_name)
    _click(page, "Workshops and follow-up")


def test_facilitator_records_actions_by_keyboard_and_reviews_them(
        browser: Browser, live_app, live_server, screenshot_dir, axe_script):  # noqa: F811
    results = build_results_world(live_app, (20, 14, 3))
    world = results.world
    base = live_server.url
    context = laptop_context(browser)
    page = context.new_page()
    sign_in(page, base, EMAILS["facilitator"], DEFAULT_PASSWORD)

    _open_workshops(page, base, world.partnership, "Putaran tutup")
    _click(page, "Record a workshop")
    page.locator("#held_on").fill("2026-02-10")
    page.locator("#title").fill("Lokakarya refleksi putaran pertama")
    page.locator("#place").fill("Kupang")
    page.locator(f"#attendance_{world.partners[0]}").fill("6")
    submit(page)
    expect(page.locator("h1")).to_have_text("Lokakarya refleksi putaran pertama")

    # Quick entry by keyboard only; a marker on window proves the page never reloads.
    page.evaluate("() => { window.__stay = 1; }")
    page.locator("#description").focus()
    for number, (text, target) in enumerate(ACTIONS):
        page.keyboard.type(text)
        page.keyboard.press("Tab")  # the dimension or question
        page.keyboard.type(target)
        if number == 0:  # tick the owning partner once; the form keeps it for the next ones
            page.keyboard.press("Tab")
            page.keyboard.press("Space")
            page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")  # back to the text
        page.keyboard.press("Control+Enter")
        expect(page.locator("#fu-actions li", has_text=text)).to_be_visible()
        expect(page.locator("#fu-quick-status")).to_have_text("Action added.")
        expect(page.locator("#description")).to_be_focused()
    assert page.evaluate("() => window.__stay") == 1
    expect(page.locator("#fu-actions li")).to_have_count(3)
    expect(page.locator("#fu-actions")).to_contain_text("Equality")
    expect(page.locator("#fu-actions")).to_contain_text("Transparency")
    shoot(page, screenshot_dir, "followup-workshop-quick-entry.png")

    second = _second_round(live_app, world.partnership)
    assert second
    _open_workshops(page, base, world.partnership, "Putaran kedua")
    _click(page, "Record a workshop")
    page.locator("#held_on").fill("2026-07-08")
    submit(page)
    review = page.locator("#review")
    expect(review.locator(".fu-review-item")).to_have_count(3)
    for text, _ in ACTIONS:
        item = review.locator(".fu-review-item", has_text=text)
        expect(item.locator(".fu-impact-measured")).to_be_visible()
        expect(item.locator(".fu-stats")).to_contain_text("adjusted p")
    expect(review).to_contain_text("Dinas Kesehatan: Change")  # the owner passes k
    shoot(page, screenshot_dir, "followup-review-next-round.png")

    navigate_by(page, review.get_by_role("button").first.click)  # carry over
    expect(page.locator(".flashes")).to_contain_text("carried over")
    _click(page, "Action register")
    expect(page.locator(".fu-register > li")).to_have_count(4)
    shoot(page, screenshot_dir, "followup-action-register.png")
    workshop_url = page.url
    context.close()

    checked = axe_context(browser)
    page = checked.new_page()
    sign_in(page, base, EMAILS["facilitator"], DEFAULT_PASSWORD)
    script = axe_script
    for url in (workshop_url, f"{base}/followup/partnerships/{world.partnership}/commitments",
                f"{base}/followup/partnerships/{world.partnership}/rounds/{second}/workshops"):
        page.goto(url)
        assert blocking_violations(page, script) == [], url
    checked.close()
