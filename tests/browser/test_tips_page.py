"""Tips that can be given (issue 23): the demo week's trips carry their crew accounts,
the Tip choice says who shares before anything is filled in, and a deckhand on a trip
without crew accounts can put themself on it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DECKHAND, Api, log_in, operator_today
from tests.browser.test_dispatch_page import TEST_DAYS, fill_payment
from tests.browser.test_money_page import open_pay_from_detail, open_trip

pytestmark = pytest.mark.browser


def test_a_deckhand_logs_a_cash_tip_on_a_demo_trip(page: Page, api: Api) -> None:
    sam = api.account_id(DECKHAND[0])
    today = operator_today()
    week = api.ok("GET", f"/api/events?from={today}&to={today + timedelta(days=6)}")["events"]
    # A demo trip: Sam and crewmates (earlier tests add trips with Sam alone).
    demo = next(
        e
        for e in week
        if sam in e["crew_ids"] and len(e["crew_ids"]) > 1 and e["status"] == "scheduled"
    )
    sharing = sorted(a["name"] for a in demo["crew_accounts"])
    assert "Sam Whitaker" in sharing and len(sharing) > 1

    log_in(page, DECKHAND[1], DECKHAND[0])
    # The card names the crew who share a tip: the trip's accounts.
    card = page.locator("article.card", has=page.get_by_role("link", name=demo["title"]))
    expect(card.locator(".meta")).to_contain_text("Sam Whitaker")
    open_trip(page, demo)
    modal = open_pay_from_detail(page)
    modal.get_by_label("Tip", exact=True).check()
    # Who shares is said before anything is filled in.
    who = modal.locator("#pay-tip-who")
    expect(who).to_have_text(
        f"Shared evenly by {', '.join(a['name'] for a in demo['crew_accounts'])}."
    )
    patron = f"Tipper {uuid.uuid4().hex[:6]}"
    fill_payment(page, patron, "30", method="cash")
    page.locator("#pay-submit").click()
    expect(page.locator("#pay-done-msg")).to_contain_text(
        f"Logged a $30.00 tip (cash) for the trip's crew from {patron}."
    )
    (tip,) = [p for p in api.detail(demo["id"])["payments"] if p["patron_name"] == patron]
    assert tip["kind"] == "tip" and tip["method"] == "cash"
    assert sorted(s["name"] for s in tip["tip_shares"]) == sharing
    assert sum(s["cents"] for s in tip["tip_shares"]) == 3000


def test_a_deckhand_puts_themself_on_a_trip_without_crew_and_logs_a_tip(
    page: Page, api: Api
) -> None:
    trip = api.create_trip(TEST_DAYS)
    assert trip["crew_ids"] == []
    log_in(page, DECKHAND[1], DECKHAND[0])
    open_trip(page, trip)
    modal = open_pay_from_detail(page)
    modal.get_by_label("Tip", exact=True).check()
    who = modal.locator("#pay-tip-who")
    expect(who).to_contain_text("Nobody on this trip's crew has an account yet")
    who.get_by_role("button", name="Put me on this trip's crew").click()
    expect(who).to_have_text("Shared evenly by Sam Whitaker.")
    fill_payment(page, "Kai Tipper", "12.50", method="cash")
    page.locator("#pay-submit").click()
    expect(page.locator("#pay-done-msg")).to_contain_text("Logged a $12.50 tip (cash)")
    detail = api.detail(trip["id"])
    assert detail["event"]["crew_ids"] == [api.account_id(DECKHAND[0])]
    (tip,) = detail["payments"]
    assert tip["tip_shares"] == [
        {"account_id": api.account_id(DECKHAND[0]), "name": "Sam Whitaker", "cents": 1250}
    ]
