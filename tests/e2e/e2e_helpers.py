"""Page helpers for the real-browser tests.

The selectors lean on ids, names, hrefs and values, never on visible wording: the interface is
being translated, and Indonesian is its default language, so an English text that matches
today would not match tomorrow.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Request, expect
from playwright.sync_api import Response as PageResponse

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}

# Options of the five-point agreement scale, as posted; "dk" is "don't know".
DONT_KNOW = "dk"
SCALE_OPTIONS = ("1", "2", "3", "4", "5", DONT_KNOW)

# Columns of the fieldwork table (templates/fieldwork/round.html), after the partner's name.
FIELDWORK_COLUMNS = ("codes_issued", "codes_used", "links", "link_uses", "responses", "on_paper",
                     "rate")


# ----------------------------------------------------------------------------- contexts


def laptop_context(browser: Browser) -> BrowserContext:
    """A staff member's browser: a laptop screen."""
    return browser.new_context(viewport=LAPTOP, accept_downloads=True)


def phone_context(browser: Browser, *, javascript: bool = True) -> BrowserContext:
    """A respondent's browser: a small touch-screen phone, optionally without JavaScript."""
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                               java_script_enabled=javascript)


class RequestLog:
    """Every request a browser context makes, to prove respondents never reach a third party."""

    def __init__(self, context: BrowserContext) -> None:
        self.urls: list[str] = []
        context.on("request", self._record)

    def _record(self, request: Request) -> None:
        self.urls.append(request.url)

    def foreign(self, origin: str) -> list[str]:
        """URLs that left ``origin`` (inline ``data:`` images are not network requests)."""
        wanted = urlsplit(origin)
        return [
            url for url in self.urls
            if not url.startswith("data:")
            and (urlsplit(url).scheme, urlsplit(url).netloc) != (wanted.scheme, wanted.netloc)
        ]


# ----------------------------------------------------------------------------- navigation


def navigate_by(page: Page, action: Callable[[], object]) -> PageResponse:
    """Run an action that loads a new document; return that document's (final) response.

    A post that re-renders the same address (a page with errors) is a navigation too, so
    waiting for the address to change would not do.
    """
    with page.expect_navigation() as navigation:
        action()
    response = navigation.value
    if response is None:
        raise AssertionError(f"no document response after the action on {page.url}")
    return response


def submit(page: Page, button: Locator | None = None) -> PageResponse:
    """Press the (first) submit button of the form in the page's main area."""
    target = button if button is not None else page.locator("main form button[type=submit]").first
    return navigate_by(page, target.click)


def follow(page: Page, href: str) -> PageResponse:
    """Click the link to ``href`` in the main area, as a person would."""
    return navigate_by(page, page.locator(f'main a[href="{href}"]').first.click)


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def overflow_x(page: Page) -> int:
    """How many CSS pixels the document is wider than the viewport (0: nothing to scroll)."""
    return int(page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def shoot(page: Page, directory: Path, name: str) -> Path:
    """Save a full-page PNG under a stable name (overwritten on every run).

    Pages shot at phone width must fit it: sideways scrolling on a phone is a layout bug.
    """
    width = page.viewport_size["width"] if page.viewport_size else None
    if width is not None and width <= PHONE["width"] and overflow_x(page) > 0:
        raise AssertionError(f"{name}: {page.url} is {overflow_x(page)} px wider than {width} px")
    path = directory / name
    page.screenshot(path=str(path), full_page=True)
    return path


# ----------------------------------------------------------------------------- staff pages


def sign_in(page: Page, base: str, email: str, password: str) -> PageResponse:
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    return submit(page)


def read_sheet_codes(page: Page) -> list[str]:
    """The plain codes on a printable code sheet, as printed (``ABCD-EFGH``)."""
    return [text.strip() for text in page.locator(".code-cards .code").all_inner_texts()]


def csv_codes(path: Path) -> list[str]:
    """The display codes of a downloaded code CSV (UTF-8 with a byte order mark)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [row["code_display"] for row in csv.DictReader(handle)]


def fieldwork_counts(page: Page, partner: str) -> dict[str, str]:
    """One partner's row of the fieldwork table, by column."""
    row = page.locator("table.fieldwork tbody tr").filter(
        has=page.locator("th", has_text=partner))
    expect(row).to_have_count(1)
    cells = [text.strip() for text in row.locator("td").all_inner_texts()]
    return dict(zip(FIELDWORK_COLUMNS, cells, strict=True))


def fieldwork_total(page: Page, column: str) -> str:
    cells = page.locator("table.fieldwork tfoot tr td").all_inner_texts()
    return cells[FIELDWORK_COLUMNS.index(column)].strip()


# ----------------------------------------------------------------------------- respondent pages


def enter_code(page: Page, code: str, field: str = "#entry-code") -> PageResponse:
    """Type an access code (front page: ``#entry-code``, code pages: ``#code``) and go."""
    box = page.locator(field)
    box.fill(code)
    return navigate_by(page, box.locator("xpath=ancestor::form//button[@type='submit']").click)


def likert_names(page: Page) -> list[str]:
    """Field names of the statements on a questionnaire page, in reading order."""
    radios = page.locator("fieldset.item.likert input[type=radio][value='1']").all()
    return [name for radio in radios if (name := radio.get_attribute("name"))]


def rating_names(page: Page) -> list[str]:
    radios = page.locator("fieldset.rating-row input[type=radio][value='1']").all()
    return [name for radio in radios if (name := radio.get_attribute("name"))]


def option(page: Page, name: str, value: str) -> Locator:
    return page.locator(f"input[type=radio][name='{name}'][value='{value}']")


def choose(page: Page, answers: dict[str, str]) -> None:
    """Tick one option per field name, by tapping it (its label covers the whole row)."""
    for name, value in answers.items():
        option(page, name, value).check()


def expect_chosen(page: Page, answers: dict[str, str]) -> None:
    for name, value in answers.items():
        expect(option(page, name, value)).to_be_checked()


def press_button(page: Page, action: str) -> PageResponse:
    """Next, Back or Save on a questionnaire page, by the button's posted value."""
    return submit(page, page.locator(f"main form button[name=action][value={action}]"))


def focused(page: Page) -> tuple[str, str, str]:
    """Tag, name and value of the focused element (needs JavaScript in the page)."""
    return tuple(page.evaluate(
        "() => { const e = document.activeElement;"
        " return [e.tagName, e.getAttribute('name') || '', e.getAttribute('value') || '']; }"))


def answer_by_keyboard(page: Page, answers: dict[str, str], max_tabs: int = 60) -> PageResponse:
    """Answer every statement and press Next with the keyboard alone.

    Tab reaches a radio group (its first option while none is chosen), Space chooses the
    focused option, the arrow keys move the choice within the group, Tab goes on to the next
    group, and after the last group Tab reaches Next, which Enter presses.
    """
    names = list(answers)
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        if focused(page)[:2] == ("INPUT", names[0]):
            break
    else:
        raise AssertionError(f"Tab never reached the first statement {names[0]!r}")
    for index, name in enumerate(names):
        if focused(page)[:2] != ("INPUT", name):
            raise AssertionError(f"expected focus on {name!r}, found {focused(page)}")
        page.keyboard.press("Space")
        for _ in range(SCALE_OPTIONS.index(answers[name])):
            page.keyboard.press("ArrowDown")
        if index < len(names) - 1:
            page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    if focused(page) != ("BUTTON", "action", "next"):
        raise AssertionError(f"Tab after the last statement reached {focused(page)}, not Next")
    return navigate_by(page, lambda: page.keyboard.press("Enter"))


def review_answer(page: Page, question_text: str) -> str:
    """What the review page shows as the answer to a statement (matched by its wording)."""
    row = page.locator(".answer-row").filter(
        has=page.locator("dt", has_text=question_text))
    expect(row).to_have_count(1)
    return row.locator("dd").inner_text().strip()


def rated_partners(page: Page, candidates: Iterable[str]) -> set[str]:
    """Which of the ``candidates`` a partner-rating page offers for rating.

    Each row's legend is the partner's name, preceded by the statement for screen readers.
    """
    legends = [text.strip() for text in
               page.locator("fieldset.rating-row legend").all_inner_texts()]
    names = list(candidates)
    return {name for legend in legends for name in names if legend.endswith(name)}
