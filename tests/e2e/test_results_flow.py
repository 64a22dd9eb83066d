"""End to end in headless Chromium: a facilitator reads the results, the trend and the report.

The demo partnership (``flask demo seed``: five partners, two closed rounds, one partner below
k in the first round) is what a facilitator opens: the round's results page, the over-time
view, and the printable report, which must print as an A4 document without the site's
navigation and download as a PDF made on the server. Screenshots land in docs/screenshots/.

The same pages, the sign-in page and the respondent pages are checked with axe-core (from
``node_modules``, installed by ``npm ci``): no violation of impact "serious" or "critical".
Without axe-core the checks skip outside CI and fail under ``CI=true``.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from app.db import new_session
from app.models import Partner, Partnership, Round, RoundStatus, User
from app.services.demo import DEMO_NAME
from app.services.fieldwork import issue_code_batch, new_batch_id
from app.services.respondent_access import local_today
from tests.app.job_helpers import job_files_in_tmp  # noqa: F401 (autouse: files in tmp)
from tests.e2e.e2e_helpers import (
    LAPTOP,
    PHONE,
    RequestLog,
    follow,
    laptop_context,
    navigate_by,
    path_of,
    shoot,
    sign_in,
    submit,
)

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
A4_POINTS = (595, 842)  # 210 x 297 mm


@dataclass(frozen=True)
class Demo:
    logins: dict[str, tuple[str, str]]  # role -> (email, password)
    partnership: int
    rounds: list[int]  # closed rounds, oldest first


def seed_demo(app: Flask) -> Demo:
    """Run ``flask demo seed`` and read the logins it prints once."""
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    logins = {}
    for line in result.output.splitlines():
        found = re.fullmatch(r"\s+(\w+)\s+(\S+@\S+)\s+(\S+)\s*", line)
        if found:
            logins[found.group(1)] = (found.group(2), found.group(3))
    assert {"coordinator", "facilitator", "observer"} <= set(logins), result.output
    with app.app_context():
        session = new_session(write=False)
        try:
            partnership = session.scalar(select(Partnership).where(Partnership.name == DEMO_NAME))
            rounds = sorted((r for r in partnership.rounds if r.status is RoundStatus.CLOSED),
                            key=lambda r: (r.opens_on, r.id))
            return Demo(logins, partnership.id, [r.id for r in rounds])
        finally:
            session.close()


def open_round_with_a_code(app: Flask, demo: Demo) -> str:
    """Open a third round of the demo partnership and issue one access code for it."""
    with app.app_context():
        session = new_session()
        try:
            partnership = session.get(Partnership, demo.partnership)
            previous = session.get(Round, demo.rounds[-1])
            today = local_today(app.config["BABEL_DEFAULT_TIMEZONE"])
            round_ = Round(partnership=partnership, name="Putaran 3 (uji)",
                           questionnaire_version_id=previous.questionnaire_version_id,
                           opens_on=today - timedelta(days=1), closes_on=today + timedelta(days=30),
                           status=RoundStatus.OPEN, partners=list(partnership.partners))
            session.add(round_)
            session.flush()
            coordinator = session.scalar(select(User).where(
                User.email == demo.logins["coordinator"][0]))
            partner = session.scalar(select(Partner).where(
                Partner.partnership_id == partnership.id).order_by(Partner.id))
            codes = issue_code_batch(session, coordinator, round_, partner, 1, new_batch_id())
            session.commit()
            return codes[0]
        finally:
            session.close()


def sign_in_as(page: Page, base: str, demo: Demo, role: str) -> None:
    email, password = demo.logins[role]
    response = sign_in(page, base, email, password)
    assert response.ok and path_of(page) == "/", page.url


def round_results_path(demo: Demo) -> str:
    return f"/results/partnerships/{demo.partnership}/rounds/{demo.rounds[-1]}"


def over_time_path(demo: Demo) -> str:
    return f"/results/partnerships/{demo.partnership}/over-time"


def report_path(demo: Demo) -> str:
    return f"/reports/partnerships/{demo.partnership}/rounds/{demo.rounds[-1]}"


def report_over_time_path(demo: Demo) -> str:
    return f"/reports/partnerships/{demo.partnership}/over-time"


# ------------------------------------------------------------------------- the facilitator


def test_facilitator_reads_results_and_prints_the_report(browser: Browser, live_app: Flask,
                                                          live_server, screenshot_dir: Path,
                                                          tmp_path: Path):
    demo = seed_demo(live_app)
    base = live_server.url
    with laptop_context(browser) as context:
        log = RequestLog(context)
        page = context.new_page()
        sign_in_as(page, base, demo, "facilitator")

        # Everything below is reached by clicking, as a facilitator would.
        response = navigate_by(page, page.get_by_role("link", name=DEMO_NAME).click)
        assert response.status == 200 and path_of(page) == results_index_path(demo)
        response = follow(page, round_results_path(demo))
        assert response.status == 200, page.url
        expect(page.locator("main h1")).to_be_visible()
        shoot(page, screenshot_dir, "results-facilitator.png")

        check_standalone_chart(page, screenshot_dir)

        response = follow(page, over_time_path(demo))
        assert response.status == 200, page.url
        expect(page.locator("main h1")).to_be_visible()
        shoot(page, screenshot_dir, "over-time-facilitator.png")

        navigate_by(page, page.go_back)
        response = follow(page, report_path(demo))
        assert response.status == 200
        report = page.locator("article.report")
        expect(report.locator("h1.report-title")).to_have_text(DEMO_NAME)
        # every chart is inside the page: printing needs no further request
        sources = report.locator("img").evaluate_all("els => els.map(e => e.src)")
        assert sources and all(src.startswith("data:image/svg+xml") for src in sources)
        assert all(report.locator("img").evaluate_all(
            "els => els.map(e => e.complete && e.naturalWidth > 0)")), "a chart did not load"

        download_pdf(page, demo, tmp_path, screenshot_dir)
        report = page.locator("article.report")

        page.emulate_media(media="print")
        expect(page.locator(".site-header")).to_be_hidden()
        expect(page.locator(".report-toolbar")).to_be_hidden()
        expect(report.locator("h1.report-title")).to_be_visible()
        shoot_print(page, screenshot_dir / "report-print.png")
        printed = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
        width, height = (round(float(v)) for v in printed.pages[0].mediabox.upper_right)
        assert (width, height) == A4_POINTS, "the print stylesheet must ask for A4"
        assert len(printed.pages) >= 10
        cover = printed.pages[0].extract_text()
        assert DEMO_NAME.split()[0] in cover and "Mitra Sehat" in cover
        assert "Bahasa Indonesia" not in cover  # the header (language menu) is not printed
        page.emulate_media(media="screen")
        assert log.foreign(base) == []


def results_index_path(demo: Demo) -> str:
    return f"/results/partnerships/{demo.partnership}"


def check_standalone_chart(page: Page, folder: Path) -> None:
    """"Open the chart on its own" shows the chart itself, not a black box.

    The SVG opened as a document is under its own response's content security policy; with
    the site's policy matplotlib's inline styles were blocked and every shape painted black.
    The screenshot is read pixel by pixel: mostly white paper, little black, several hues.
    """
    back_to = page.url
    link = page.locator("figure.res-chart a.res-enlarge:visible").first
    response = navigate_by(page, link.click)
    assert response.status == 200 and "/charts/" in page.url
    assert response.headers["content-type"].startswith("image/svg+xml")
    shot = folder / "chart-standalone.png"
    page.locator("svg").first.screenshot(path=str(shot))  # the chart's own area only
    image = Image.open(shot).convert("RGB")
    pixels = list(image.getdata())
    near_black = sum(1 for r, g, b in pixels if r + g + b < 120) / len(pixels)
    near_white = sum(1 for r, g, b in pixels if min(r, g, b) > 235) / len(pixels)
    hues = {(r // 32, g // 32, b // 32) for r, g, b in pixels
            if max(r, g, b) - min(r, g, b) > 40}
    assert near_black < 0.15, f"{near_black:.0%} of the chart is black"
    assert near_white > 0.3, f"only {near_white:.0%} of the chart is white paper"
    assert len(hues) >= 2, "a chart's marks and bands are in colour"
    navigate_by(page, lambda: page.goto(back_to))


def download_from_job(page: Page, link: Locator, screenshots: Path | None = None):
    """Click a download link: it opens the job's page, which updates itself until the file
    is ready; then click the file's link. Returns the download."""
    response = navigate_by(page, link.click)
    assert response.status == 200 and "/jobs/partnerships/" in page.url
    file_link = page.locator('main a[href$="/file"]')
    # The page's script polls the job and reloads the page once it has finished.
    expect(file_link).to_have_count(1, timeout=180_000)
    if screenshots is not None:
        shoot(page, screenshots, "job-ready.png")
    with page.expect_download() as info:
        file_link.click()
    return info.value


def download_pdf(page: Page, demo: Demo, folder: Path, screenshots: Path | None = None) -> None:
    """The report's PDF link gives a server-made PDF with a server-made name, through a job
    page; its "Back" link returns to the report."""
    link = page.locator(f'a[href="{report_path(demo)}/report.pdf"]')
    expect(link).to_have_count(1)
    download = download_from_job(page, link, screenshots)
    navigate_by(page, page.locator("main a.job-back").click)
    assert path_of(page) == report_path(demo)
    assert re.fullmatch(r"mitra-sehat-[a-z0-9-]+\.pdf", download.suggested_filename)
    target = folder / download.suggested_filename
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())
    assert DEMO_NAME in text


def shoot_print(page: Page, path: Path) -> None:
    """The printed report's first pages, at A4 width (the full report would be metres long)."""
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 px per inch
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.screenshot(path=str(path), full_page=True,
                    clip={"x": 0, "y": 0, "width": 794, "height": min(height, 2 * 1123)})
    page.set_viewport_size(LAPTOP)


# ------------------------------------------------------------------------- accessibility


@pytest.fixture
def axe_script() -> Path:
    if not AXE.exists():
        message = f"axe-core is missing at {AXE} (run `npm ci` in the repository root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return AXE


def axe_context(browser: Browser, *, phone: bool = False) -> BrowserContext:
    """A browser that lets axe-core be injected: the app's CSP allows no inline script, so
    only these accessibility runs bypass it; every other test browses under the CSP."""
    if phone:
        return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                   bypass_csp=True)
    return browser.new_context(viewport=LAPTOP, bypass_csp=True)


def blocking_violations(page: Page, script: Path) -> list[dict]:
    page.add_script_tag(path=str(script))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [node["target"] for node in v["nodes"]][:10]}
        for v in result["violations"] if v["impact"] in BLOCKING
    ]


def test_axe_reports_a_known_violation(browser: Browser, axe_script: Path):
    """The harness itself: a page with an unlabelled form field and an image without a text
    alternative must fail, or a silent axe would pass every page."""
    with axe_context(browser) as context:
        page = context.new_page()
        page.set_content('<!doctype html><html lang="en"><title>t</title><main>'
                         '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                         '<input type="text"></main></html>')
        found = {v["id"] for v in blocking_violations(page, axe_script)}
        assert {"image-alt", "label"} <= found, found


def assert_accessible(page: Page, script: Path) -> None:
    found = blocking_violations(page, script)
    assert found == [], f"axe-core on {page.url}:\n" + json.dumps(found, indent=2)


STAFF_PAGES = {
    "results-round": round_results_path,
    "results-over-time": over_time_path,
    "report-round": report_path,
    "report-over-time": report_over_time_path,
}


@pytest.mark.parametrize("name", list(STAFF_PAGES))
def test_staff_pages_pass_axe(browser: Browser, live_app: Flask, live_server, axe_script: Path,
                              name: str):
    demo = seed_demo(live_app)
    with axe_context(browser) as context:
        page = context.new_page()
        sign_in_as(page, live_server.url, demo, "facilitator")
        response = page.goto(live_server.url + STAFF_PAGES[name](demo))
        assert response is not None and response.status == 200
        assert_accessible(page, axe_script)


def test_front_page_and_sign_in_pass_axe(browser: Browser, live_app: Flask, live_server,
                                         axe_script: Path):
    with axe_context(browser) as context:
        page = context.new_page()
        for path in ("/", "/login"):
            page.goto(live_server.url + path)
            assert_accessible(page, axe_script)


def test_respondent_pages_pass_axe(browser: Browser, live_app: Flask, live_server,
                                   axe_script: Path):
    demo = seed_demo(live_app)
    code = open_round_with_a_code(live_app, demo)
    base = live_server.url
    with axe_context(browser, phone=True) as context:
        page = context.new_page()
        page.goto(f"{base}/r/{code}")
        assert path_of(page) == "/r/language", page.url
        assert_accessible(page, axe_script)
        submit(page)
        assert path_of(page) == "/r/about", page.url
        assert_accessible(page, axe_script)
        page.goto(f"{base}/r/page/1")
        assert path_of(page) == "/r/page/1", page.url
        expect(page.locator("fieldset.item.likert").first).to_be_visible()
        assert_accessible(page, axe_script)


# ------------------------------------------------------------------------- the coordinator


def test_coordinator_downloads_results_and_makes_an_api_token_by_clicking(
        browser: Browser, live_app: Flask, live_server, tmp_path: Path):
    """Downloads and API tokens are reached by links a person clicks, not by typed URLs."""
    demo = seed_demo(live_app)
    base = live_server.url
    exports = f"/exports/partnerships/{demo.partnership}"
    with laptop_context(browser) as context:
        page = context.new_page()
        sign_in_as(page, base, demo, "coordinator")
        navigate_by(page, page.get_by_role("link", name=DEMO_NAME).click)
        follow(page, round_results_path(demo))
        follow(page, exports)
        page.locator('input[name="style"][value="excel-id"]').check()
        submit(page)
        zip_link = page.locator(
            f'a[href="{exports}/rounds/{demo.rounds[-1]}/results.zip?style=excel-id"]')
        expect(zip_link).to_have_count(1)
        download = download_from_job(page, zip_link)
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        with zipfile.ZipFile(target) as archive:
            names = archive.namelist()
            assert names[0] == "01-response_counts.csv"
            scores = archive.read("02-scores.csv").decode("utf-8-sig")
        assert ";" in scores.splitlines()[0]

        follow_nav = page.locator('.site-nav a[href="/profile"]')
        navigate_by(page, follow_nav.click)
        follow(page, "/profile/tokens")
        page.locator("main form input[name=name]").fill("laporan bulanan")
        submit(page, page.locator('main form[action="/profile/tokens"] button[type=submit]'))
        token = page.locator("p.secret code").inner_text().strip()
        answer = page.request.get(f"{base}/api/v1/partnerships",
                                  headers={"Authorization": f"Bearer {token}"})
        assert answer.status == 200
        assert DEMO_NAME in answer.text()
