"""In Chromium: a coordinator invites a new person, who accepts and is signed in.

No mail server is set up here, so the coordinator copies the link from the page, as the
invitation page tells them to; the invited person opens it in a browser of their own, creates
the account and lands on the partnership's results. The coordinator's members page then
lists the invitation as accepted. Both new pages are checked with axe-core.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, expect

from tests.app.staff_helpers import EMAILS, build_world
from tests.e2e.e2e_helpers import (
    follow,
    laptop_context,
    path_of,
    shoot,
    sign_in,
    submit,
)
from tests.e2e.test_results_flow import assert_accessible, axe_context, axe_script  # noqa: F401
from tests.factories import DEFAULT_PASSWORD

INVITED = "dewi.anggraini@puskesmas.example"
PASSWORD = "Gunung-Rinjani-Lombok-3726"


def test_coordinator_invites_and_the_person_joins(browser: Browser, live_app: Flask,
                                                  live_server, screenshot_dir: Path,
                                                  axe_script: Path):  # noqa: F811
    world = build_world(live_app)
    base = live_server.url
    with laptop_context(browser) as context:
        staff = context.new_page()
        sign_in(staff, base, EMAILS["coordinator"], DEFAULT_PASSWORD)
        partnership_path = f"/admin/partnerships/{world.partnership}"
        follow(staff, partnership_path)
        follow(staff, f"{partnership_path}/members")
        follow(staff, f"/partnerships/{world.partnership}/invitations/new")
        staff.locator("#email").fill(INVITED)
        staff.locator("#role").select_option("observer")
        staff.locator("#partner_id").select_option(str(world.partners[1]))
        submit(staff)
        link = staff.locator("#invitation-link").input_value()
        assert link.startswith(f"{base}/invite?token=")
        shoot(staff, screenshot_dir, "invitation-link.png")

        with laptop_context(browser) as invited_context:
            invited = invited_context.new_page()
            invited.goto(link)  # opened from the message the coordinator sent
            expect(invited.locator("html")).to_have_attribute("lang", "id")
            invited.locator("#name").fill("Dewi Anggraini")
            invited.locator("#password").fill(PASSWORD)
            invited.locator("#confirm").fill(PASSWORD)
            invited.locator("#language").select_option("en")
            submit(invited)
            assert path_of(invited) == f"/results/partnerships/{world.partnership}"
            expect(invited.locator("html")).to_have_attribute("lang", "en")
            expect(invited.locator(".site-header")).to_contain_text("Profile")

            invited.goto(link)  # a second use is refused
            expect(invited.locator("h1")).to_have_count(1)
            assert "/invite" in invited.url

        staff.reload()
        follow(staff, f"{partnership_path}/members")
        row = staff.locator("table.invitation-list tbody tr", has_text=INVITED)
        expect(row).to_have_attribute("data-status", "accepted")
        expect(staff.locator("main")).to_contain_text("Dewi Anggraini")
        shoot(staff, screenshot_dir, "members-invitations.png")


def test_invitation_pages_pass_axe(browser: Browser, live_app: Flask, live_server,
                                   axe_script: Path):  # noqa: F811
    world = build_world(live_app)
    base = live_server.url
    with axe_context(browser) as context:
        staff = context.new_page()
        sign_in(staff, base, EMAILS["coordinator"], DEFAULT_PASSWORD)
        staff.goto(f"{base}/partnerships/{world.partnership}/invitations/new")
        assert_accessible(staff, axe_script)
        staff.locator("#email").fill(INVITED)
        submit(staff)
        link = staff.locator("#invitation-link").input_value()
        assert_accessible(staff, axe_script)
        staff.goto(f"{base}/admin/partnerships/{world.partnership}/members")
        assert_accessible(staff, axe_script)
    with axe_context(browser) as context:
        invited = context.new_page()
        invited.goto(link)
        assert_accessible(invited, axe_script)
