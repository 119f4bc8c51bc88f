"""Crew accounts in Chromium: logging in by username, the set-your-password screen,
the Crew screen, My account, and buttons each role may not use left out."""

from __future__ import annotations

import importlib.util
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    CAPTAIN,
    DECKHAND,
    Api,
    Stack,
    kept_session,
    log_in,
    new_page,
    open_menu,
)

pytestmark = pytest.mark.browser


def open_trip(page: Page, trip: dict[str, Any]) -> None:
    page.goto(f"/#/e/{trip['id']}")
    expect(page.locator("#detail-title")).to_have_text(trip["title"])


def test_crew_see_no_captain_buttons(page: Page, api: Api) -> None:
    trip = api.create_trip(22)
    log_in(page, DECKHAND[1], DECKHAND[0])
    open_menu(page)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("link", name="My account")).to_be_visible()
    expect(page.get_by_role("link", name="Crew", exact=True)).to_be_hidden()
    expect(page.get_by_role("link", name="+ New trip")).to_be_hidden()
    open_trip(page, trip)
    expect(page.get_by_role("button", name="Log Payment")).to_be_visible()
    expect(page.get_by_role("link", name="Edit trip")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel trip")).to_be_hidden()


def test_a_captain_sees_trip_buttons_and_the_crew_screen(page: Page, api: Api) -> None:
    trip = api.create_trip(22)
    log_in(page, CAPTAIN[1], CAPTAIN[0])
    expect(page.get_by_role("link", name="+ New trip")).to_be_visible()
    open_trip(page, trip)
    expect(page.get_by_role("link", name="Edit trip")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel trip")).to_be_visible()
    open_menu(page)
    page.get_by_role("link", name="Crew", exact=True).click()
    expect(page.get_by_role("heading", name="Crew")).to_be_visible()
    expect(page.locator("#crew-list li[data-username='sam']")).to_be_visible()
    # A captain adds crew only: no other role to choose.
    expect(page.locator("#crew-role option")).to_have_count(1)


def test_a_captain_adds_a_deckhand_who_sets_a_password_on_their_phone(
    browser: Any, stack: Stack, page: Page
) -> None:
    username = f"deck{uuid.uuid4().hex[:6]}"
    log_in(page, CAPTAIN[1], CAPTAIN[0])
    page.goto("/#/crew")
    form = page.locator("#crew-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Name shown").fill("New <b>Deckhand</b>")
    form.get_by_role("button", name="Add").click()
    link = page.locator("#setup-link")
    expect(link).to_be_visible()
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    row = page.locator(f"#crew-list li[data-username='{username}']")
    expect(row).to_contain_text("New <b>Deckhand</b>")  # shown as text, never as markup
    setup_url = link.input_value()
    assert "/#/setup/" in setup_url
    # The QR code for the new deckhand's phone, where the app has segno to draw it.
    has_segno = importlib.util.find_spec("segno") is not None
    expect(page.locator("#crew-link svg.qr")).to_have_count(1 if has_segno else 0)

    phone = new_page(browser, stack)
    try:
        phone.goto(setup_url)
        expect(phone.get_by_role("heading", name="Set your password")).to_be_visible()
        phone.get_by_label("New password", exact=True).fill("deckhand password 1")
        phone.get_by_label("New password again").fill("deckhand password 1")
        phone.get_by_role("button", name="Set password").click()
        phone.locator("#board-view").wait_for(state="visible")
        expect(phone.get_by_role("link", name="+ New trip")).to_be_hidden()
        # The link works once.
        again = new_page(browser, stack)
        try:
            again.goto(setup_url)
            again.get_by_label("New password", exact=True).fill("someone else's pass")
            again.get_by_label("New password again").fill("someone else's pass")
            again.get_by_role("button", name="Set password").click()
            expect(again.locator("#setup-form .error")).to_contain_text("used or has expired")
        finally:
            again.context.close()
    finally:
        phone.context.close()

    # Disabling: the row says so, and their login stops working.
    row.get_by_role("button", name="Disable").click()
    expect(row).to_contain_text("disabled")
    status, _ = Api(stack.base_url, "").call(
        "POST", "/api/login", {"username": username, "password": "deckhand password 1"}
    )
    assert status == 401


def test_my_account_changes_the_password_and_logs_out(
    browser: Any, stack: Stack, page: Page, api: Api
) -> None:
    username = f"me{uuid.uuid4().hex[:6]}"
    made = api.ok(
        "POST", "/api/accounts", {"username": username, "display_name": "Me Too", "role": "crew"}
    )
    code = made["setup_url"].rsplit("/#/setup/", 1)[1]
    api.ok("POST", "/api/accounts/setup", {"code": code, "password": "first password 1"})
    log_in(page, "first password 1", username)
    open_menu(page)
    page.get_by_role("link", name="My account").click()
    expect(page.locator("#account-who")).to_contain_text(username)
    page.get_by_label("Current password").fill("first password 1")
    page.get_by_label("New password", exact=True).fill("second password 2")
    page.get_by_label("New password again").fill("second password 2")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#toast")).to_contain_text("Password changed", timeout=20_000)
    token = kept_session(page)["token"]
    open_menu(page)
    page.get_by_role("button", name="Log out").first.click()
    expect(page.locator("#login-view")).to_be_visible()
    # The token was ended on the server, not only forgotten here.
    checker = Api(stack.base_url, "", token=token)
    assert checker.call("GET", "/api/me")[0] in (401, 403)
    log_in(page, "second password 2", username)
