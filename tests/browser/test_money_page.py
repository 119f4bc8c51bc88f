"""Tips, refunds, receipts and the Exports screen in Chromium, against the real API."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CAPTAIN, DECKHAND, Api, log_in, open_menu, operator_today
from tests.browser.test_dispatch_page import ACTIVE, MARKUP, TEST_DAYS, fill_payment
from tests.browser.test_offline import SAVED, worker_ready

pytestmark = pytest.mark.browser


def money(cents: int) -> str:
    """Cents as the page shows them: 123456 -> "$1,234.56"."""
    return f"${cents // 100:,}.{cents % 100:02d}"


def open_trip(page: Page, trip: dict[str, Any]) -> None:
    page.goto(f"/#/e/{trip['id']}")
    expect(page.locator("#detail-title")).to_have_text(trip["title"])


def open_pay_from_detail(page: Page) -> Any:
    page.locator("#detail-pay").click()
    modal = page.locator("#pay-modal")
    expect(modal).to_have_class(ACTIVE)
    return modal


def choose_tip(page: Page, tip_for: str) -> None:
    """Tick Tip and choose who it is for, by the option's text."""
    modal = page.locator("#pay-modal")
    modal.get_by_label("Tip", exact=True).check()
    expect(modal.get_by_label("Tip for")).to_be_visible()
    modal.get_by_label("Tip for").select_option(label=tip_for)


def crewed_trip(api: Api, days_ahead: int = TEST_DAYS, *names: str) -> dict[str, Any]:
    """A trip whose crew accounts are the demo deckhand `sam` and new accounts `names`."""
    crew_ids = [api.account_id(DECKHAND[0]), *(api.new_crew_account(n) for n in names)]
    return api.create_trip(days_ahead, crew_ids=crew_ids, price_cents=40000)


# --- the Tip choice ----------------------------------------------------------------


def test_a_tip_for_the_crew_lands_as_a_tip_and_leaves_the_paid_total(
    crew_page: Page, api: Api
) -> None:
    trip = crewed_trip(api, TEST_DAYS, "Lee <i>deck</i>", "Kai")
    api.log_payment(trip["id"], 10000)
    open_trip(crew_page, trip)
    expect(crew_page.locator("#detail .figures").first).to_contain_text("$100.00 of $400.00")

    open_pay_from_detail(crew_page)
    fill_payment(crew_page, MARKUP, "10")
    choose_tip(crew_page, "The trip's crew (split evenly)")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text(
        "Logged a $10.00 tip (cash) for the trip's crew"
    )
    expect(crew_page.locator("#pay-done-msg")).not_to_contain_text("Balance due")
    crew_page.locator("#pay-modal").get_by_role("button", name="Done").click()

    detail = api.detail(trip["id"])
    (tip,) = [p for p in detail["payments"] if p["kind"] == "tip"]
    assert tip["amount_cents"] == 1000
    assert sorted(s["cents"] for s in tip["tip_shares"]) == [333, 333, 334]
    assert detail["event"]["paid_cents"] == 10000  # a tip is never part of what is paid
    assert detail["event"]["tips_cents"] == 1000

    expect(crew_page.locator("#detail .figures").first).to_contain_text("$100.00 of $400.00")
    expect(crew_page.locator("#detail-money")).to_contain_text("Tips$10.00")
    expect(crew_page.locator("#fares li")).to_have_count(1)
    tips = crew_page.locator("#tips li")
    expect(tips).to_have_count(1)
    expect(tips).to_contain_text(MARKUP)  # the patron's name as text, never markup
    for share in tip["tip_shares"]:
        expect(tips).to_contain_text(f"{share['name']} {money(share['cents'])}")
    expect(tips).to_contain_text("Lee <i>deck</i>")
    assert crew_page.locator("#tips img, #tips i").count() == 0


def test_a_deckhand_tips_one_person_with_a_receipt_email(page: Page, api: Api) -> None:
    trip = crewed_trip(api, TEST_DAYS, "Noa")
    log_in(page, DECKHAND[1], DECKHAND[0])
    open_trip(page, trip)
    open_pay_from_detail(page)
    fill_payment(page, "Rae Patron", "7.50", method="venmo")
    # Crew cannot list accounts, but the trip names its crew accounts to every login.
    choose_tip(page, "Sam Whitaker")
    options = page.locator("#pay-tip-for option")
    expect(options).to_have_count(3)
    assert sorted(options.all_inner_texts()) == [
        "Noa",
        "Sam Whitaker",
        "The trip's crew (split evenly)",
    ]
    page.get_by_label("Patron email").fill("not-an-email")
    page.locator("#pay-submit").click()
    expect(page.locator("#pay-form .error")).to_contain_text("email address")
    expect(page.get_by_label("Patron email")).to_have_attribute("aria-invalid", "true")
    assert not [p for p in api.detail(trip["id"])["payments"]]  # nothing was sent

    page.get_by_label("Patron email").fill("rae@example.com")
    page.locator("#pay-submit").click()
    expect(page.locator("#pay-done-msg")).to_contain_text(
        "Logged a $7.50 tip (venmo) for Sam Whitaker from Rae Patron. A receipt goes to rae@example.com."
    )
    (tip,) = api.detail(trip["id"])["payments"]
    assert tip["kind"] == "tip"
    assert tip["tip_shares"] == [
        {"account_id": api.account_id(DECKHAND[0]), "name": "Sam Whitaker", "cents": 750}
    ]
    assert tip["receipt"] in ("pending", "sent")
    assert "patron_email" not in tip  # the address is not echoed in lists


def test_a_tip_saved_offline_is_sent_with_its_choices(crew_page: Page, api: Api) -> None:
    trip = crewed_trip(api, TEST_DAYS, "Ola")
    ola = next(i for i in trip["crew_ids"] if i != api.account_id(DECKHAND[0]))
    open_trip(crew_page, trip)
    worker_ready(crew_page)
    open_pay_from_detail(crew_page)
    expect(crew_page.locator("#pay-tip-for option")).to_have_count(3)  # crew, Sam, Ola
    crew_page.context.set_offline(True)
    fill_payment(crew_page, "Offline Patron", "12")
    choose_tip(crew_page, "Ola")
    crew_page.get_by_label("Patron email").fill("off@example.com")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text(SAVED)
    saved = crew_page.evaluate(
        "async () => (await import('./outbox.js')).saved().then((all) => all.map((p) => p.body))"
    )
    (body,) = [b for b in saved if b["patron_name"] == "Offline Patron"]
    assert body["kind"] == "tip"
    assert body["tip_for"] == [ola]
    assert body["patron_email"] == "off@example.com"

    crew_page.locator("#pay-modal").get_by_role("button", name="Done").click()
    crew_page.context.set_offline(False)
    expect(crew_page.locator("#outbox-count")).to_be_hidden(timeout=20_000)
    (tip,) = api.detail(trip["id"])["payments"]
    assert tip["id"] == body["payment_id"]
    assert [(s["account_id"], s["cents"]) for s in tip["tip_shares"]] == [(ola, 1200)]
    expect(crew_page.locator("#tips li")).to_contain_text("Ola $12.00")


def test_a_captain_ticks_the_trips_crew_accounts_on_the_trip_form(page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    log_in(page, CAPTAIN[1], CAPTAIN[0])
    page.goto(f"/#/e/{trip['id']}/edit")
    crew = page.locator("#trip-crew-ids")
    crew.get_by_label("Sam Whitaker").check()
    page.get_by_role("button", name="Save trip").click()
    expect(page.locator("#detail-title")).to_have_text(trip["title"])
    assert api.detail(trip["id"])["event"]["crew_ids"] == [api.account_id(DECKHAND[0])]
    page.goto(f"/#/e/{trip['id']}/edit")
    expect(crew.get_by_label("Sam Whitaker")).to_be_checked()


# --- refunds on the trip -----------------------------------------------------------


def test_a_captain_logs_a_refund_from_the_trip(page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS, price_cents=30000)
    api.log_payment(trip["id"], 20000)
    log_in(page, CAPTAIN[1], CAPTAIN[0])
    open_trip(page, trip)
    page.get_by_role("button", name="Log refund").click()
    modal = page.locator("#refund-modal")
    expect(modal).to_have_class(ACTIVE)
    expect(modal.get_by_label("Amount ($)")).to_be_focused()

    modal.get_by_label("Amount ($)").fill("250")  # more than the $200 paid
    modal.get_by_label("Reason").fill(MARKUP)
    modal.get_by_role("button", name="Log refund").click()
    expect(modal.locator(".error")).to_be_visible()
    expect(modal.get_by_label("Amount ($)")).to_have_attribute("aria-invalid", "true")

    modal.get_by_label("Amount ($)").fill("50")
    modal.get_by_label("Paid back by").select_option("card")
    modal.get_by_role("button", name="Log refund").click()
    expect(modal).not_to_have_class(ACTIVE)
    refunds = page.locator("#refunds li")
    expect(refunds).to_have_count(1)
    expect(refunds).to_contain_text("$50.00")
    expect(refunds).to_contain_text(MARKUP)  # the reason as text
    expect(page.locator("#detail .figures").first).to_contain_text("$150.00 of $300.00")
    expect(page.locator("#detail-money")).to_contain_text("Refunded$50.00 (1)")

    detail = api.detail(trip["id"])
    (refund,) = detail["refunds"]
    assert (refund["amount_cents"], refund["method"], refund["reason"]) == (5000, "card", MARKUP)
    assert detail["event"]["paid_cents"] == 15000
    assert detail["event"]["refunded_cents"] == 5000

    # Void it: the money counts as paid again.
    refunds.get_by_role("button", name="Void").click()
    void = page.locator("#void-modal")
    void.get_by_label("Reason").fill("Logged on the wrong trip")
    void.get_by_role("button", name="Void refund").click()
    expect(refunds).to_contain_text("Voided: Logged on the wrong trip")
    expect(page.locator("#detail .figures").first).to_contain_text("$200.00 of $300.00")
    assert api.detail(trip["id"])["event"]["paid_cents"] == 20000


def test_crew_get_no_refund_button(page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    api.log_payment(trip["id"], 5000)
    log_in(page, DECKHAND[1], DECKHAND[0])
    open_trip(page, trip)
    expect(page.get_by_role("button", name="Log Payment")).to_be_visible()
    expect(page.get_by_role("button", name="Log refund")).to_be_hidden()


# --- the Exports screen ------------------------------------------------------------


def download(page: Page, button: Any) -> tuple[str, str]:
    """Click `button`; answers the saved file's name and text."""
    with page.expect_download() as info:
        button.click()
    saved = info.value
    return saved.suggested_filename, Path(saved.path()).read_text(encoding="utf-8")


def test_a_captain_exports_the_ledger_tips_and_the_days_cashup(page: Page, api: Api) -> None:
    today = operator_today()
    trip = crewed_trip(api, TEST_DAYS, "Ivy")
    day = trip["starts_at"][:10]
    trip_day = today + timedelta(days=TEST_DAYS)
    api.log_payment(trip["id"], 30000, patron_name="Exported Fare")
    api.log_payment(trip["id"], 2001, kind="tip", tip_for="crew", patron_name="Tipper")
    api.log_refund(trip["id"], 1000, reason="Cut short")

    log_in(page, CAPTAIN[1], CAPTAIN[0])
    open_menu(page)
    page.get_by_role("link", name="Exports").click()
    expect(page.get_by_role("heading", name="Exports", level=1)).to_be_visible()

    ledger = page.locator("#ledger-form")
    ledger.get_by_label("From").fill(day)
    ledger.get_by_label("To").fill(day)
    name, text = download(page, ledger.get_by_role("button", name="Download ledger CSV"))
    assert name.endswith(".csv")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["event"] == trip["title"]]
    assert sorted(r["kind"] for r in rows) == ["fare", "refund", "tip"]
    expect(ledger.locator(".success")).to_contain_text(f"Downloaded {name}")

    tips = page.locator("#tips-form")
    # From today to the trip's day: the tips are in it whichever day they count on.
    last = today + timedelta(days=TEST_DAYS)
    tips.get_by_label("From").fill(today.isoformat())
    tips.get_by_label("To").fill(last.isoformat())
    tips.get_by_role("button", name="Show tips").click()
    want = api.tips(today, last)
    expect(tips.locator(".total")).to_contain_text(money(want["total_cents"]))
    expect(page.locator("#tips-list > li")).to_have_count(len(want["people"]))
    expect(page.locator("#tips-list")).to_contain_text("Ivy")

    # The cash-up of a day is the money logged that day: today's, for a later trip.
    cash = page.locator("#cashup-form")
    expect(cash.get_by_label("Day")).to_have_value(today.isoformat())
    cash.get_by_role("button", name="Show cash-up").click()
    want = api.cashup(today)
    assert want["totals"]["fares"]["cash"] >= 30000
    assert api.cashup(trip_day)["accounts"] == []
    table = page.locator("#cashup-table")
    expect(table.locator("tbody tr")).to_have_count(len(want["accounts"]))
    totals = want["totals"]
    expect(table.locator("tfoot")).to_contain_text(money(totals["cash_to_hand_in_cents"]))
    expect(table.locator("tfoot")).to_contain_text(f"cash {money(totals['fares']['cash'])}")
    for i, account in enumerate(want["accounts"]):
        row = table.locator("tbody tr").nth(i)
        expect(row.locator("th")).to_have_text(account["name"])
        expect(row.locator("td").first).to_have_text(money(account["cash_to_hand_in_cents"]))

    name, text = download(page, cash.get_by_role("button", name="Download cash-up CSV"))
    assert name == f"cashup-{today}.csv"
    assert "cash to hand in" in text
    expect(cash.locator(".success")).to_contain_text(f"Downloaded {name}")


def test_crew_do_not_see_the_exports_screen(page: Page) -> None:
    log_in(page, DECKHAND[1], DECKHAND[0])
    open_menu(page)
    expect(page.get_by_role("link", name="My account")).to_be_visible()
    expect(page.get_by_role("link", name="Exports")).to_be_hidden()
    page.goto("/#/exports")
    expect(page.get_by_role("heading", name="Exports", level=1)).to_be_visible()
    expect(page.locator("#exports-view")).to_contain_text("for captains and the owner")
    expect(page.locator("#ledger-form")).to_have_count(0)


def test_the_exports_screen_fits_a_phone(page: Page, api: Api) -> None:
    log_in(page, CAPTAIN[1], CAPTAIN[0])
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/#/exports")
    page.locator("#cashup-form").get_by_role("button", name="Show cash-up").click()
    expect(page.locator("#cashup-table")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    expect(page.locator("#exports-view")).not_to_contain_text(re.compile(r"undefined|NaN|null"))
