"""End to end in headless Chromium: a facilitator runs a live room with six phones.

The facilitator (1280x720, the projector's size) opens a room for a round, adds an agreement
question, a dot vote and a sticky note, and opens the projector screen; six phones (separate
browser contexts at 360x740) type the room code and answer each question. Below k nothing is
shown; after closing and revealing, the screen shows the right counts (drawn as SVG under the
app's CSP, checked by pixels); the notes reach the screen only once approved. Screenshots go to
docs/screenshots/; axe-core checks the new pages.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.app.staff_helpers import build_world
from tests.e2e.e2e_helpers import PHONE, navigate_by, phone_context, shoot, sign_in, submit
from tests.e2e.test_results_flow import AXE, axe_context, axe_script, blocking_violations
from tests.factories import DEFAULT_PASSWORD

PROJECTOR = {"width": 1280, "height": 720}
PHONES = 6
K = 5
__all__ = ["axe_script"]  # the fixture, imported for its use below


def _facilitator(browser: Browser, base: str, *, bypass_csp: bool = False) -> Page:
    context = browser.new_context(viewport=PROJECTOR, bypass_csp=bypass_csp)
    page = context.new_page()
    response = sign_in(page, base, "fasilitator@example.org", DEFAULT_PASSWORD)
    assert response.ok, page.url
    return page


def _add(page: Page, kind: str, prompt: str, **fields: str) -> int:
    page.locator("#kind").select_option(kind)
    page.locator("#prompt").fill(prompt)
    for name, value in fields.items():
        page.locator(f"#{name}").fill(value)
    submit(page, page.locator("#add-question button[type=submit]"))
    last = page.locator("li.room-question").last
    return int(last.get_attribute("data-question-id") or 0)


def _press(page: Page, question: int, css: str) -> None:
    navigate_by(page, page.locator(f"#question-{question} button.{css}").click)


def _join(browser: Browser, base: str, code: str, partner_index: int) -> Page:
    page = phone_context(browser).new_page()
    page.goto(f"{base}/j")
    page.locator("#code").fill(code.lower())
    submit(page)
    page.locator("#partner_id").select_option(index=partner_index)
    submit(page)
    return page


def _counts_on_screen(screen: Page) -> list[str]:
    return [t.split("·")[0].split(" ")[0].strip()
            for t in screen.locator(".room-bars").first.locator("td.num").all_inner_texts()]


def _brand_pixels(screen: Page) -> int:
    """Pixels of the bar colour (#0b5d5b) in the first results table: bars really drawn."""
    image = Image.open(io.BytesIO(screen.locator(".room-bars").first.screenshot())).convert("RGB")
    return sum(1 for pixel in image.get_flattened_data()
               if abs(pixel[0] - 11) < 12 and abs(pixel[1] - 93) < 12 and abs(pixel[2] - 91) < 12)


def test_a_whole_live_room_session(browser: Browser, live_app: Flask, live_server,
                                   screenshot_dir: Path, axe_script: Path):
    world = build_world(live_app)
    base = live_server.url
    staff = _facilitator(browser, base)
    # From the round's results page, the facilitator clicks through to the live rooms.
    staff.goto(f"{base}/results/partnerships/{world.partnership}/rounds/{world.open_round}")
    staff.get_by_role("link", name="Live room").click()
    staff.wait_for_url(f"**/room/partnerships/{world.partnership}")
    submit(staff, staff.locator("#open-room"))
    code = staff.locator("#room-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    agree = _add(staff, "agreement", "Semua mitra didengar dalam rapat.")
    dots = _add(staff, "dot_vote", "Apa yang dibahas dulu?",
                options="Dana\nData\nJadwal", budget="3", option_cap="2")
    notes = _add(staff, "sticky_note", "Satu kata untuk kemitraan ini?", max_chars="40")

    with staff.context.expect_page() as opened:
        staff.locator("#open-screen").click()
    screen = opened.value
    screen.set_viewport_size(PROJECTOR)
    screen.wait_for_load_state()
    expect(screen.locator(".room-code")).to_have_text(f"{code[:3]} {code[3:]}")
    assert screen.locator("img.room-qr").evaluate("img => img.naturalWidth") > 0

    phones = [_join(browser, base, code, 1 + i % 3) for i in range(PHONES)]

    # --- agreement: 4 answers (below k), nothing shows; then 2 more, close, reveal.
    _press(staff, agree, "q-open")
    values = [1, 4, 4, 5, 5, 5]
    for page, value in zip(phones[:4], values[:4], strict=True):
        page.locator(f"input[name=value][value='{value}']").wait_for(timeout=10_000)
        page.locator(f"label[for=value-{value}]").click()
        submit(page)
    expect(screen.locator(".room-prompt")).to_have_text("Semua mitra didengar dalam rapat.")
    screen.wait_for_timeout(2500)
    assert screen.locator(".room-bar").count() == 0
    assert not re.search(r"\b4\b", screen.locator(".room-status").inner_text())
    expect(staff.locator(f'[data-count-for="{agree}"]')).to_have_text("4", timeout=6000)
    for page, value in zip(phones[4:], values[4:], strict=True):
        page.locator(f"label[for=value-{value}]").click()
        submit(page)
    shoot(phones[0], screenshot_dir, "room-phone.png")
    _press(staff, agree, "q-close")
    screen.wait_for_timeout(2500)
    assert screen.locator(".room-bar").count() == 0  # closed is not revealed
    _press(staff, agree, "q-reveal")
    screen.locator(".room-bar").first.wait_for(timeout=5000)
    assert _counts_on_screen(screen) == ["1", "0", "0", "2", "3"]
    assert _brand_pixels(screen) > 500
    shoot(screen, screenshot_dir, "room-screen-agreement.png")

    # --- dot vote: three dots each, at most two on one option.
    _press(staff, dots, "q-open")
    for index, page in enumerate(phones):
        page.locator("#dots-0").wait_for(timeout=10_000)
        page.locator("#dots-0").fill("2")
        page.locator("#dots-1").fill("1" if index % 2 else "0")
        page.locator("#dots-2").fill("0" if index % 2 else "1")
        submit(page)
    over = phones[0]
    over.locator("#dots-0").fill("2")
    over.locator("#dots-1").fill("2")
    assert submit(over).status == 400  # four dots of three: refused by the server
    _press(staff, dots, "q-close")
    _press(staff, dots, "q-reveal")
    expect(screen.locator(".room-prompt")).to_have_text("Apa yang dibahas dulu?", timeout=5000)
    screen.locator(".room-bar").first.wait_for(timeout=5000)
    assert _counts_on_screen(screen) == ["12", "3", "3"]
    shoot(screen, screenshot_dir, "room-screen-dot-vote.png")

    # --- sticky notes: moderated before the screen, listed by text.
    words = ["terbuka", "Adil", "setara", "lambat", "percaya", "bersama"]
    _press(staff, notes, "q-open")
    for page, word in zip(phones, words, strict=True):
        page.locator("#note").wait_for(timeout=10_000)
        page.locator("#note").fill(word)
        submit(page)
    shoot(phones[1], screenshot_dir, "room-phone-note.png")
    _press(staff, notes, "q-close")
    navigate_by(staff, staff.locator("#moderation-link").click)
    for _ in words[:-1]:
        submit(staff, staff.locator("button.note-approve").first)
    # Waiting notes come first, by text: the last one left waiting is the last by text.
    approved = sorted(words, key=str.casefold)[:-1]
    assert staff.locator("button.note-approve").count() == 1
    navigate_by(staff, staff.locator("nav.crumbs a").last.click)
    _press(staff, notes, "q-reveal")
    screen.locator(".room-notes li").first.wait_for(timeout=5000)
    shown = screen.locator(".room-notes li").all_inner_texts()
    assert shown == approved
    shoot(screen, screenshot_dir, "room-screen-notes.png")
    shoot(staff, screenshot_dir, "room-facilitator.png")

    # --- accessibility of the new pages (axe needs a context that lets it be injected).
    with axe_context(browser, phone=True) as context:
        page = context.new_page()
        page.goto(f"{base}/j")
        pages = {"enter": blocking_violations(page, axe_script)}
        page.locator("#code").fill(code)
        submit(page)
        pages["join"] = blocking_violations(page, axe_script)
        submit(page)
        pages["question"] = blocking_violations(page, axe_script)
    auditor = _facilitator(browser, base, bypass_csp=True)
    room_path = staff.url.split(base)[1].split("#")[0]
    for name, path in (("control", room_path), ("screen", room_path + "/screen"),
                       ("notes", room_path + "/notes"),
                       ("index", f"/room/partnerships/{world.partnership}"),
                       ("blocklist", f"/room/partnerships/{world.partnership}/blocklist")):
        auditor.goto(base + path)
        pages[name] = blocking_violations(auditor, axe_script)
    assert all(found == [] for found in pages.values()), pages
    assert AXE.exists()

    # --- the session ends: the code stops working on phones.
    submit(staff, staff.locator("#close-room"))
    phones[2].reload()
    assert phones[2].locator("#code").count() == 1
    assert PHONE["width"] == 360
