"""End to end in headless Chromium: a facilitator presents the demo round's results.

At 1280x720 (a projector) the facilitator clicks "Present" on the round's results page and
steps through every slide with the keyboard: body text is at least 28 px, nothing scrolls
within a slide, and the charts' smallest text is at least 14 px where it is shown. At 360x740
(a phone in the hand) a swipe moves on and the phone charts read at 14 px too. Every chart
kind opened on its own (the "open the chart on its own" link) renders under the app's CSP,
for the page, the slide and the phone, checked by pixels. axe-core finds no serious or
critical violation. Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.e2e.e2e_helpers import phone_context, shoot
from tests.e2e.test_results_flow import (  # noqa: F401  (axe_script is a fixture)
    axe_script,
    blocking_violations,
    over_time_path,
    round_results_path,
    seed_demo,
    sign_in_as,
)

PROJECTOR = {"width": 1280, "height": 720}
MIN_BODY_PX = 28
MIN_CHART_PX = 14

# The smallest text of the chart an <img> shows, in CSS px as displayed: the SVG's font
# sizes are in its user units (points), scaled by displayed width / viewBox width.
CHART_TEXT_PX = """async (img) => {
  const src = img.currentSrc || img.src;
  const text = await (await fetch(src, {credentials: "same-origin"})).text();
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  const box = svg.getAttribute("viewBox").split(/\\s+/).map(Number);
  const scale = img.getBoundingClientRect().width / box[2];
  const sizes = [];
  for (const t of doc.querySelectorAll("text")) {
    const m = /font:[^;]*?([\\d.]+)px/.exec(t.getAttribute("style") || "");
    if (m && t.textContent.trim()) { sizes.push(parseFloat(m[1]) * scale); }
  }
  return {min: Math.min(...sizes), count: sizes.length, width: img.getBoundingClientRect().width};
}"""

SLIDE_STATE = """() => {
  const slide = document.querySelector(".slide.is-current");
  const body = [...slide.querySelectorAll("p, li, dd")].filter(e =>
      e.offsetParent !== null
      && !e.closest(".card-label, .slide-cite, .slide-number, .slide-facts dt")
      && !e.classList.contains("slide-cite") && !e.classList.contains("slide-number")
      && !e.classList.contains("card-label") && e.textContent.trim());
  const scroller = document.scrollingElement;
  const positions = [...document.querySelectorAll("body *")].filter(e =>
      e.children.length === 0 && e.getClientRects().length > 0
      && getComputedStyle(e).visibility !== "hidden"
      && /^\\d+ \\/ \\d+/.test(e.textContent.trim()));
  return {id: slide.id, step: slide.getAttribute("data-step-now"),
          positions: positions.length,
          scroll: slide.scrollHeight - slide.clientHeight,
          page: scroller.scrollHeight - scroller.clientHeight,
          fonts: body.map(e => parseFloat(getComputedStyle(e).fontSize)),
          overflowing: [...slide.querySelectorAll(".card-text:not(.card-long), h2, p")]
              .filter(e => e.getBoundingClientRect().bottom > innerHeight).length};
}"""


def present_from_results(page: Page, base: str, path: str) -> None:
    page.goto(base + path)
    link = page.locator("main a[href*='/present/partnerships/']").first
    with page.expect_navigation():
        link.click()
    assert urlsplit(page.url).path.startswith("/present/"), page.url
    page.wait_for_selector(".slide.is-current")


def chart_min_px(page: Page) -> list[dict]:
    out = []
    for img in page.locator(".slide.is-current .slide-chart img").element_handles():
        img.scroll_into_view_if_needed()
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img)
        out.append(page.evaluate(CHART_TEXT_PX, img))
    return out


def test_facilitator_presents_at_1280x720_by_keyboard(browser: Browser, live_app, live_server,
                                                      screenshot_dir: Path, axe_script):  # noqa: F811
    demo = seed_demo(live_app)
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    sign_in_as(page, live_server.url, demo, "facilitator")
    present_from_results(page, live_server.url, round_results_path(demo))
    total = page.locator(".slide").count()
    assert total > 20
    shoot(page, screenshot_dir, "present-projector-title.png")

    seen: dict[str, dict] = {}
    charts: list[dict] = []
    body_fonts: list[float] = []
    shots = {"slide-2": "present-projector-index.png", "slide-5": "present-projector-answers.png"}
    for _ in range(400):
        state = page.evaluate(SLIDE_STATE)
        assert state["scroll"] <= 0 and state["page"] <= 0, state
        assert state["positions"] == 1, state  # "3 / 24" once, not on the slide and the deck
        assert state["overflowing"] == 0, state
        assert min(state["fonts"], default=MIN_BODY_PX) >= MIN_BODY_PX, state
        body_fonts.extend(state["fonts"])
        if page.locator(".slide.is-current .slide-chart img:visible").count():
            charts.extend(chart_min_px(page))
            name = shots.pop(state["id"], None)
            if name:
                page.screenshot(path=str(screenshot_dir / name))
        if page.locator(".slide.is-current.slide-prompts").count() and "prompts" not in seen:
            seen["prompts"] = state
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            page.screenshot(path=str(screenshot_dir / "present-projector-prompts.png"))
            continue
        seen[f"{state['id']}:{state['step']}"] = state
        if state["id"] == f"slide-{total}":
            break
        page.keyboard.press("ArrowRight" if len(seen) % 3 else "Space" if len(seen) % 2
                            else "PageDown")
    else:
        pytest.fail("never reached the last slide")
    assert len({key.split(":")[0] for key in seen if ":" in key}) >= total - 2
    assert len(body_fonts) > 40
    assert charts and min(c["min"] for c in charts) >= MIN_CHART_PX, min(
        charts, key=lambda c: c["min"])
    # progressive reveal: a score slide shows its chart only at its second step
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.querySelector('.slide.is-current').id") == "slide-2"
    assert page.locator(".slide.is-current .slide-chart img").is_hidden()
    page.keyboard.press("ArrowRight")
    assert page.locator(".slide.is-current .slide-chart img").is_visible()
    page.keyboard.press("PageUp")
    assert page.locator(".slide.is-current .slide-chart img").is_hidden()
    # the list of slides, by keyboard
    page.keyboard.press("o")
    assert page.locator("#overview").is_visible()
    page.keyboard.press("Escape")
    assert page.locator("#overview").is_hidden()
    context.close()

    checked = browser.new_context(viewport=PROJECTOR, bypass_csp=True)
    page = checked.new_page()
    sign_in_as(page, live_server.url, demo, "facilitator")
    present_from_results(page, live_server.url, round_results_path(demo))
    found = blocking_violations(page, axe_script)
    assert found == [], found
    checked.close()


def test_phone_swipes_and_reads_phone_charts(browser: Browser, live_app, live_server,
                                              screenshot_dir: Path):
    demo = seed_demo(live_app)
    context = phone_context(browser)
    page = context.new_page()
    sign_in_as(page, live_server.url, demo, "facilitator")
    present_from_results(page, live_server.url, round_results_path(demo))

    def swipe(dx: int) -> None:
        page.evaluate("""(dx) => {
          const deck = document.querySelector('[data-deck]');
          const touch = (x) => new Touch({identifier: 1, target: deck, clientX: x,
                                          clientY: 300});
          const start = touch(200), end = touch(200 + dx);
          deck.dispatchEvent(new TouchEvent('touchstart',
              {touches: [start], changedTouches: [start], bubbles: true}));
          deck.dispatchEvent(new TouchEvent('touchend',
              {touches: [], changedTouches: [end], bubbles: true}));
        }""", dx)

    current = "() => document.querySelector('.slide.is-current').id"
    assert page.evaluate(current) == "slide-1"
    swipe(-150)
    assert page.evaluate(current) == "slide-2"
    swipe(-150)  # the index slide's second step: its chart
    phone = chart_min_px(page)
    assert phone and min(c["min"] for c in phone) >= MIN_CHART_PX, phone
    assert all("screen=phone" in src for src in page.evaluate(
        "() => [...document.querySelectorAll('.slide.is-current img')].map(i => i.currentSrc)"))
    page.screenshot(path=str(screenshot_dir / "present-phone.png"))
    swipe(150)
    swipe(150)
    assert page.evaluate(current) == "slide-1"
    context.close()


def _pixels_ok(png: bytes) -> tuple[float, float]:
    """Share of pixels that are neither white nor black, and the share that is black."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = list(image.getdata())
    coloured = sum(1 for p in pixels if (max(p) < 245 and min(p) > 10) or len(set(p)) > 1)
    black = sum(1 for p in pixels if max(p) < 16)
    return coloured / len(pixels), black / len(pixels)


def test_every_chart_kind_renders_on_its_own_for_every_screen(browser: Browser, live_app,
                                                               live_server):
    """The standalone view ("open the chart on its own") under the app's CSP, by pixels."""
    demo = seed_demo(live_app)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in_as(page, live_server.url, demo, "coordinator")
    links: dict[str, str] = {}
    for path in (round_results_path(demo), over_time_path(demo)):
        page.goto(live_server.url + path)
        for href in page.eval_on_selector_all("a.res-enlarge", "els => els.map(e => e.href)"):
            kind = urlsplit(href).path.rsplit("/", 1)[-1]
            links.setdefault(("over-time-" if "over-time" in href else "") + kind, href)
    page.goto(live_server.url + round_results_path(demo))
    partner = page.eval_on_selector_all(
        "a[href*='/partners/']", "els => els.map(e => e.href)")[0]
    page.goto(partner)
    for href in page.eval_on_selector_all("a.res-enlarge", "els => els.map(e => e.href)"):
        links.setdefault(urlsplit(href).path.rsplit("/", 1)[-1], href)
    kinds = {"heatmap.svg", "scores.svg", "likert.svg", "gaps.svg", "agreement.svg",
             "reliability.svg", "ratings.svg", "compare.svg", "over-time-scores.svg",
             "over-time-partners.svg"}
    assert kinds <= set(links), sorted(links)
    for kind in sorted(kinds):
        for screen in ("page", "slide", "phone"):
            url = links[kind] + ("" if screen == "page" else f"&screen={screen}")
            response = page.goto(url)
            assert response.status == 200, url
            assert "style-src 'unsafe-inline'" in response.headers["content-security-policy"]
            coloured, black = _pixels_ok(page.screenshot())
            assert coloured > 0.002 and black < 0.5, (kind, screen, coloured, black)
    context.close()
