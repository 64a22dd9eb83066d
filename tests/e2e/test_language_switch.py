"""In Chromium: switching language half-way through a questionnaire page keeps its answers.

The respondent answers half of a page, then uses the language switch in the page header (not
Save, not Next). The same page comes back in English with those answers still chosen, and no
error about the questions not answered yet. Run with and without JavaScript: the switch is a
plain form control that belongs to the page's form.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from tests.app.respond_helpers import QUESTIONNAIRE, arrange
from tests.e2e.e2e_helpers import (
    choose,
    enter_code,
    expect_chosen,
    follow,
    likert_names,
    navigate_by,
    path_of,
    phone_context,
    shoot,
    submit,
)


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_switching_language_mid_page_keeps_the_answers(browser: Browser, live_app: Flask,
                                                        live_server, screenshot_dir: Path,
                                                        javascript: bool):
    fieldwork = arrange(live_app)
    base = live_server.url
    with phone_context(browser, javascript=javascript) as context:
        page = context.new_page()
        page.goto(f"{base}/")
        enter_code(page, fieldwork.codes[0])
        assert path_of(page) == "/r/language"
        page.locator("input[name=language][value=id]").check()
        submit(page)
        follow(page, "/r/page/1")
        expect(page.locator("html")).to_have_attribute("lang", "id")
        names = likert_names(page)
        half = {name: value for name, value in zip(names[: len(names) // 2], ("2", "4", "dk"),
                                                     strict=False)}
        assert half, names
        choose(page, half)

        page.locator("#lang-select").select_option("en")
        switch = page.locator(".site-header button[name=action][value=language]")
        response = navigate_by(page, switch.click)

        assert response.status == 200
        assert path_of(page) == "/r/page/1"
        expect(page.locator("html")).to_have_attribute("lang", "en")
        first_item = QUESTIONNAIRE.dimensions[0].items[0]
        expect(page.locator("main")).to_contain_text(first_item.text["en"])
        expect_chosen(page, half)
        for name in names[len(half):]:
            expect(page.locator(f"input[type=radio][name='{name}']:checked")).to_have_count(0)
        expect(page.locator(".error-summary")).to_have_count(0)
        expect(page.locator("#lang-select")).to_have_value("en")
        if not javascript:
            shoot(page, screenshot_dir, "respond-language-switched-mobile.png")

        # Next still checks the page: the rest must be answered before moving on.
        navigate_by(page, page.locator("main form button[name=action][value=next]").click)
        assert path_of(page) == "/r/page/1"
        expect(page.locator(".error-summary")).to_be_visible()
        expect_chosen(page, half)
