"""End to end in headless Chromium: a fresh install, a coordinator's set-up, two respondents.

What a fresh install has is arranged through the command line (an administrator, the bundled
questionnaires); everything after that goes through the pages, with CSRF and rate limits on:
the coordinator builds a partnership, opens a round and prints codes at a laptop screen; two
respondents of different partners answer on phones, one in Indonesian across two browser
sessions (the second without JavaScript), one in English with the keyboard for a page; the
coordinator then sees the counts, and the used code is refused.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.models import Answer, PartnerRating, Response
from app.questionnaires import Questionnaire, load_questionnaire
from app.services.respondent_access import local_today
from tests.e2e.e2e_helpers import (
    DONT_KNOW,
    RequestLog,
    answer_by_keyboard,
    choose,
    csv_codes,
    enter_code,
    expect_chosen,
    fieldwork_counts,
    fieldwork_total,
    follow,
    laptop_context,
    likert_names,
    path_of,
    phone_context,
    press_button,
    rated_partners,
    rating_names,
    read_sheet_codes,
    review_answer,
    shoot,
    sign_in,
    submit,
)

ADMIN_EMAIL = "ayu.lestari@dinkes.example"
ADMIN_PASSWORD = "Kebun-Raya-Bogor-1817"
PARTNERSHIP = "Kemitraan Gizi Kota Kupang"
# Three partners of different sectors; respondents come from the first two.
DINKES = ("Dinas Kesehatan Kota", "government")
YAYASAN = ("Yayasan Ibu Sehat", "ngo")
PT = ("PT Pangan Nusantara", "private")
PARTNERS = (DINKES, YAYASAN, PT)
ROUND_NAME = "Putaran pertama 2025"
PARTNER_NAMES = [name for name, _sector in PARTNERS]
CODES_FOR = {DINKES[0]: 3, YAYASAN[0]: 4}
# (page, statement index) where respondent 1 answers "don't know", and leaves one out at first.
DONT_KNOW_AT = (3, 1)
LEFT_OUT_AT = (4, 2)
OPEN_TEXT = "Regular joint field visits with the health office."


def arrange_fresh_install(app: Flask) -> Questionnaire:
    """What an operator does after installing: an administrator and the bundled questionnaires."""
    runner = app.test_cli_runner()
    made = runner.invoke(args=["user", "create", "--email", ADMIN_EMAIL, "--name", "Ayu Lestari",
                               "--password", ADMIN_PASSWORD, "--admin"])
    assert made.exit_code == 0, made.output
    imported = runner.invoke(args=["questionnaire", "import"])
    assert imported.exit_code == 0, imported.output
    assert "kemitraan-sehat v1: imported" in imported.output
    return load_questionnaire(Path(app.config["QUESTIONNAIRE_DIR"]) / "kemitraan-sehat.v1.yaml")


def item_names(questionnaire: Questionnaire, page_number: int) -> list[str]:
    """Field names of the statements the n-th dimension page must show."""
    return [f"q_{item.id}" for item in questionnaire.dimensions[page_number - 1].items]


def all_agree(names: list[str], value: str = "4") -> dict[str, str]:
    return dict.fromkeys(names, value)


def expect_language(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)


# ------------------------------------------------------------------------- the coordinator


def set_up_partnership(page: Page, base: str, shots: Path, today: date) -> tuple[int, int]:
    """Create the partnership, its partners and an open round; return their ids."""
    page.goto(f"{base}/")
    expect(page.locator("#entry-code")).to_be_visible()
    shoot(page, shots, "front-page.png")
    follow(page, "/login")
    expect(page.locator("#email")).to_be_visible()
    shoot(page, shots, "sign-in.png")
    signed_in = sign_in(page, base, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert signed_in.ok and path_of(page) == "/"
    expect(page.locator("form.signout-form")).to_have_count(1)

    # The front page offers an administrator no way to create a partnership (see
    # test_front_page_leads_an_administrator_to_new_partnership), so go to the list directly.
    page.goto(f"{base}/admin/partnerships")
    follow(page, "/admin/partnerships/new")
    page.locator("#name").fill(PARTNERSHIP)
    page.locator("#description").fill("Pemerintah, LSM dan swasta bersama menurunkan stunting.")
    page.locator("#default_language").select_option("id")
    page.locator("#min_group_size").fill("5")
    submit(page)
    found = re.fullmatch(r"/admin/partnerships/(\d+)", path_of(page))
    assert found, page.url
    partnership_id = int(found.group(1))
    expect(page.locator("main h1")).to_have_text(PARTNERSHIP)

    for name, sector in PARTNERS:
        follow(page, f"/admin/partnerships/{partnership_id}/partners/new")
        page.locator("#name").fill(name)
        page.locator("#sector").select_option(sector)
        submit(page)
        assert path_of(page) == f"/admin/partnerships/{partnership_id}"
    listed = page.locator("section[aria-labelledby=partners-heading] tbody tr td:first-child")
    assert set(listed.all_inner_texts()) == {name for name, _ in PARTNERS}

    follow(page, f"/admin/partnerships/{partnership_id}/rounds/new")
    page.locator("#name").fill(ROUND_NAME)
    version = page.locator("#questionnaire_version_id option",
                           has_text="(kemitraan-sehat v1)")
    page.locator("#questionnaire_version_id").select_option(version.get_attribute("value"))
    page.locator("#opens_on").fill((today - timedelta(days=1)).isoformat())
    page.locator("#closes_on").fill((today + timedelta(days=30)).isoformat())
    for name, _sector in PARTNERS:
        page.get_by_role("checkbox", name=name, exact=True).check()
    submit(page)
    found = re.fullmatch(rf"/admin/partnerships/{partnership_id}/rounds/(\d+)", path_of(page))
    assert found, page.url
    round_id = int(found.group(1))
    expect(page.locator("main h1 .badge-draft")).to_have_count(1)

    round_path = f"/admin/partnerships/{partnership_id}/rounds/{round_id}"
    follow(page, f"{round_path}/status/open")
    assert path_of(page) == f"{round_path}/status/open"  # the confirmation page
    submit(page)
    assert path_of(page) == round_path
    expect(page.locator("main h1 .badge-open")).to_have_count(1)
    shoot(page, shots, "round.png")
    return partnership_id, round_id


def issue_codes(page: Page, fieldwork_path: str, partner: str, count: int,
                shots: Path | None) -> list[str]:
    """From a page linking to the fieldwork view, generate a batch; return the printed codes."""
    follow(page, fieldwork_path)
    follow(page, f"{fieldwork_path}/codes")
    page.locator("#partner_id").select_option(label=partner)
    page.locator("#count").fill(str(count))
    page.locator("#language").select_option("id")
    sheet = submit(page)
    assert sheet.status == 200
    codes = read_sheet_codes(page)
    assert len(codes) == count == len(set(codes))
    assert all(re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code) for code in codes), codes
    expect(page.locator(".code-card-partner").first).to_have_text(partner)
    if shots is not None:
        shoot(page, shots, "code-sheet.png")
    return codes


# ------------------------------------------------------------------------- the respondents


def respondent_one_starts(browser: Browser, base: str, code: str, questionnaire: Questionnaire,
                          shots: Path) -> RequestLog:
    """Health office, Indonesian: the front page, two pages and part of a third, then Save."""
    with phone_context(browser) as context:
        log = RequestLog(context)
        page = context.new_page()
        page.goto(f"{base}/")
        expect_language(page, "id")
        shoot(page, shots, "front-page-mobile.png")
        enter_code(page, code.lower().replace("-", " "))  # typed as people type it
        assert path_of(page) == "/r/language"
        expect(page.locator("input[name=language][value=id]")).to_be_checked()
        submit(page)
        assert path_of(page) == "/r/about"
        expect(page.locator("main h1")).to_have_text(questionnaire.title.get("id"))
        shoot(page, shots, "respond-intro-mobile.png")
        follow(page, "/r/page/1")
        for number in (1, 2):
            assert path_of(page) == f"/r/page/{number}"
            assert likert_names(page) == item_names(questionnaire, number)
            choose(page, all_agree(item_names(questionnaire, number), "4"))
            if number == 1:
                shoot(page, shots, "respond-page-mobile.png")
            press_button(page, "next")
        assert path_of(page) == "/r/page/3"
        choose(page, partial_page_3(questionnaire))
        press_button(page, "save")
        assert path_of(page) == "/r/saved"
    return log


def partial_page_3(questionnaire: Questionnaire) -> dict[str, str]:
    """What respondent 1 answers on page 3 before saving: three statements, one "don't know"."""
    names = item_names(questionnaire, 3)
    return {names[0]: "5", names[DONT_KNOW_AT[1]]: DONT_KNOW, names[2]: "4"}


def respondent_one_finishes(browser: Browser, base: str, code: str, questionnaire: Questionnaire,
                            shots: Path) -> RequestLog:
    """The same code in a new browser, without JavaScript: resume on page 3 and finish."""
    with phone_context(browser, javascript=False) as context:
        log = RequestLog(context)
        page = context.new_page()
        page.goto(f"{base}/")
        enter_code(page, code)
        assert path_of(page) == "/r/page/3"
        expect_language(page, "id")
        expect_chosen(page, partial_page_3(questionnaire))
        choose(page, all_agree(item_names(questionnaire, 3)[3:], "4"))
        press_button(page, "next")
        leave_one_out_then_fix(page, questionnaire, shots)

        assert path_of(page) == "/r/page/5"
        assert rated_partners(page, PARTNER_NAMES) == {YAYASAN[0], PT[0]}
        ratings = rating_names(page)
        assert len(ratings) == 2 * len(questionnaire.partner_ratings)
        choose(page, {ratings[0]: "4", ratings[1]: DONT_KNOW})
        press_button(page, "next")

        assert path_of(page) == "/r/review"
        expect(page.locator(".answers dd.missing")).to_have_count(0)
        expect(page.locator(".error-summary")).to_have_count(0)
        scale = questionnaire.scale("setuju5")
        first = questionnaire.dimensions[0].items[0]  # answered in the first browser
        assert review_answer(page, first.text.get("id")) == scale.points[3].label.get("id")
        unsure = questionnaire.dimensions[DONT_KNOW_AT[0] - 1].items[DONT_KNOW_AT[1]]
        assert review_answer(page, unsure.text.get("id")) == scale.dont_know.get("id")
        shoot(page, shots, "respond-review-mobile.png")
        submit(page, page.locator("main form.submit-form button[type=submit]"))
        assert path_of(page) == "/r/thanks"
        shoot(page, shots, "respond-thanks-mobile.png")
    return log


def leave_one_out_then_fix(page: Page, questionnaire: Questionnaire, shots: Path) -> None:
    """Page 4 with one required statement unanswered: the error sits at that statement."""
    number, index = LEFT_OUT_AT
    assert path_of(page) == f"/r/page/{number}"
    names = item_names(questionnaire, number)
    left_out = names[index]
    given = all_agree([name for name in names if name != left_out], "4")
    choose(page, given)
    refused = press_button(page, "next")
    assert refused.status == 422 and path_of(page) == f"/r/page/{number}"
    item = page.locator("fieldset.item", has=page.locator(f"input[name={left_out}]"))
    expect(item).to_have_class(re.compile(r"\bhas-error\b"))
    expect(item).to_have_attribute("aria-describedby", f"{left_out}-error")
    expect(item.locator(f"#{left_out}-error")).to_be_visible()
    expect(page.locator("fieldset.item .field-error")).to_have_count(1)
    expect(page.locator(f'.error-summary a[href="#{left_out}-0"]')).to_have_count(1)
    expect_chosen(page, given)  # nothing already given is lost
    shoot(page, shots, "respond-page-error-mobile.png")
    choose(page, {left_out: "5"})
    press_button(page, "next")


def respondent_two(browser: Browser, base: str, code: str, questionnaire: Questionnaire,
                   shots: Path) -> RequestLog:
    """The foundation: the code page, English, the keyboard alone on page 1."""
    with phone_context(browser) as context:
        log = RequestLog(context)
        page = context.new_page()
        page.goto(f"{base}/r")
        enter_code(page, code, field="#code")
        assert path_of(page) == "/r/language"
        page.locator("input[name=language][value=en]").check()
        submit(page)
        assert path_of(page) == "/r/about"
        expect_language(page, "en")
        expect(page.locator("main h1")).to_have_text(questionnaire.title.get("en"))
        follow(page, "/r/page/1")
        by_keyboard = dict(zip(item_names(questionnaire, 1),
                               ("1", "2", "3", "4", "5", DONT_KNOW, "4"), strict=True))
        answer_by_keyboard(page, by_keyboard)
        for number in (2, 3, 4):
            assert path_of(page) == f"/r/page/{number}"
            choose(page, all_agree(item_names(questionnaire, number), "5"))
            press_button(page, "next")

        assert path_of(page) == "/r/page/5"
        assert rated_partners(page, PARTNER_NAMES) == {DINKES[0], PT[0]}
        choose(page, all_agree(rating_names(page), "3"))
        page.locator("textarea[name=t_terbuka_berjalan_baik]").fill(OPEN_TEXT)
        shoot(page, shots, "respond-ratings-mobile.png")
        press_button(page, "next")

        assert path_of(page) == "/r/review"
        expect(page.locator(".answers dd.missing")).to_have_count(0)
        scale = questionnaire.scale("setuju5")
        items = questionnaire.dimensions[0].items
        assert review_answer(page, items[0].text.get("en")) == scale.points[0].label.get("en")
        assert review_answer(page, items[4].text.get("en")) == scale.points[4].label.get("en")
        assert review_answer(page, items[5].text.get("en")) == scale.dont_know.get("en")
        assert review_answer(page, questionnaire.open_questions[0].text.get("en")) == OPEN_TEXT
        submit(page, page.locator("main form.submit-form button[type=submit]"))
        assert path_of(page) == "/r/thanks"
        expect_language(page, "en")
    return log


def used_code_is_refused(browser: Browser, base: str, code: str, shots: Path) -> RequestLog:
    """A used code, typed or scanned, gets a clear page with a way to try another code."""
    with phone_context(browser) as context:
        log = RequestLog(context)
        page = context.new_page()
        page.goto(f"{base}/")
        typed = enter_code(page, code)
        assert typed.status == 410
        expect(page.locator("#problem-title")).to_be_visible()
        expect(page.locator("main form.code-form #code")).to_be_visible()
        shoot(page, shots, "code-used-mobile.png")
        scanned = page.goto(f"{base}/r/{code.replace('-', '')}")
        assert scanned is not None and scanned.status == 410
        expect(page.locator("#problem-title")).to_be_visible()
    return log


# ------------------------------------------------------------------------- checks afterwards


def check_fieldwork(page: Page, base: str, fieldwork_path: str, shots: Path) -> None:
    """Two responses; for each partner with codes, one of its N codes used."""
    page.goto(f"{base}{fieldwork_path}")
    for name in PARTNER_NAMES:
        issued = CODES_FOR.get(name, 0)
        used = 1 if issued else 0
        counts = fieldwork_counts(page, name)
        assert (counts["codes_issued"], counts["codes_used"], counts["responses"]) == (
            str(issued), str(used), str(used)), (name, counts)
    assert fieldwork_total(page, "responses") == "2"
    batches = page.locator("main table:not(.fieldwork) tbody td.num").all_inner_texts()
    assert sorted(batches) == sorted(f"1 / {n}" for n in CODES_FOR.values())
    shoot(page, shots, "fieldwork.png")


def check_stored(app: Flask, questionnaire: Questionnaire) -> None:
    """Two responses in their languages, "don't know" stored as NULL, nobody rated their own."""
    session = app.extensions["mitra.read_sessions"]()
    try:
        responses = list(session.scalars(select(Response)))
        assert sorted(r.language for r in responses) == ["en", "id"]
        indonesian = next(r for r in responses if r.language == "id")
        stored = {a.item_id: a.value for a in session.scalars(
            select(Answer).where(Answer.response_id == indonesian.id))}
        assert len(stored) == len(questionnaire.items)
        unsure = questionnaire.dimensions[DONT_KNOW_AT[0] - 1].items[DONT_KNOW_AT[1]]
        fixed = questionnaire.dimensions[LEFT_OUT_AT[0] - 1].items[LEFT_OUT_AT[1]]
        assert stored[unsure.id] is None and stored[fixed.id] == 5
        ratings = list(session.scalars(select(PartnerRating)))
        assert len(ratings) == 2 + 2 * len(questionnaire.partner_ratings)
        for rating in ratings:
            assert rating.ratee_partner_id != session.get(Response, rating.response_id).partner_id
    finally:
        session.close()


# ------------------------------------------------------------------------- the tests


def test_coordinator_sets_up_and_two_respondents_answer(browser, live_app, live_server,
                                                        screenshot_dir, tmp_path):
    base = live_server.url
    questionnaire = arrange_fresh_install(live_app)
    today = local_today(live_app.config["BABEL_DEFAULT_TIMEZONE"])
    with laptop_context(browser) as staff_context:
        staff = staff_context.new_page()
        partnership_id, round_id = set_up_partnership(staff, base, screenshot_dir, today)
        fieldwork_path = f"/fieldwork/partnerships/{partnership_id}/rounds/{round_id}"
        codes_a = issue_codes(staff, fieldwork_path, DINKES[0], CODES_FOR[DINKES[0]],
                              screenshot_dir)
        with staff.expect_download() as download:
            staff.locator("main form[action$='/codes/csv'] button[type=submit]").click()
        download.value.save_as(tmp_path / "codes.csv")
        assert sorted(csv_codes(tmp_path / "codes.csv")) == sorted(codes_a)
        codes_b = issue_codes(staff, fieldwork_path, YAYASAN[0], CODES_FOR[YAYASAN[0]], None)
        follow(staff, fieldwork_path)  # back from the code sheet
        follow(staff, f"/admin/partnerships/{partnership_id}")  # the breadcrumb
        expect(staff.locator(f'main a[href="{fieldwork_path}"]')).to_have_count(1)
        shoot(staff, screenshot_dir, "partnership-overview.png")

        logs = [
            respondent_one_starts(browser, base, codes_a[0], questionnaire, screenshot_dir),
            respondent_one_finishes(browser, base, codes_a[0], questionnaire, screenshot_dir),
            respondent_two(browser, base, codes_b[0], questionnaire, screenshot_dir),
            used_code_is_refused(browser, base, codes_a[0], screenshot_dir),
        ]
        for log in logs:
            assert f"{base}/static/respond.css" in log.urls  # the log did record
            assert log.foreign(base) == []
        check_fieldwork(staff, base, fieldwork_path, screenshot_dir)
    check_stored(live_app, questionnaire)


def test_front_page_leads_an_administrator_to_new_partnership(browser, live_app, live_server):
    arrange_fresh_install(live_app)
    with laptop_context(browser) as context:
        page = context.new_page()
        sign_in(page, live_server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert path_of(page) == "/"
        expect(page.locator("form.signout-form")).to_have_count(1)
        way_in = page.locator('a[href="/admin/partnerships"], a[href="/admin/partnerships/new"]')
        assert way_in.count() >= 1

