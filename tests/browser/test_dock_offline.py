"""The dock without signal (issue 23): today's manifests kept on the phone, boarding
taps queued and sent once, and a saved payment whose receipt address the API refuses."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Api, operator_zone
from tests.browser.test_dispatch_page import ACTIVE, TEST_DAYS, fill_payment
from tests.browser.test_dock_page import person, sign
from tests.browser.test_offline import LONG, SAVED, eventually, worker_ready

pytestmark = pytest.mark.browser


def todays_trip(api: Api, limit: int) -> dict[str, Any]:
    boat = api.ok(
        "POST",
        "/api/boats",
        {"name": f"Boat {uuid.uuid4().hex[:6]}", "passenger_limit": limit, "inspected": False},
    )["boat"]
    # Today's and not over yet (the phone keeps the trips still ahead): until 23:59.
    now = datetime.now(operator_zone())
    starts = max(now - timedelta(hours=1), now.replace(hour=0, minute=0, second=0))
    return api.create_trip(
        0,
        boat_id=boat["id"],
        capacity=limit,
        starts_at=starts.isoformat(timespec="seconds"),
        ends_at=now.replace(hour=23, minute=59, second=0).isoformat(timespec="seconds"),
    )


def kept_manifest(page: Page, trip_id: str) -> Any:
    return page.evaluate(
        "async (id) => (await (await import('./api.js')).phone.get('manifest:' + id)) ?? null",
        trip_id,
    )


def test_boarding_without_signal_is_queued_checked_and_sent_once(crew_page: Page, api: Api):
    trip = todays_trip(api, limit=2)
    for name in ("Ana Ruiz", "Ben Ode", "Cy Park"):
        sign(api, trip, name)
    posts: list[dict[str, Any]] = []
    crew_page.context.on(
        "request",
        lambda r: (
            posts.append(r.post_data_json) if r.method == "POST" and "/boarding" in r.url else None
        ),
    )
    # The board of today keeps today's manifests on the phone, with signal.
    crew_page.goto("/#/")
    crew_page.locator("#board .day").first.wait_for()
    worker_ready(crew_page)
    eventually(lambda: kept_manifest(crew_page, trip["id"]))

    crew_page.context.set_offline(True)
    crew_page.goto(f"/#/e/{trip['id']}")
    dock = crew_page.locator("#dock")
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard0Legal limit2")
    expect(dock).to_contain_text("No signal")
    person(dock, "Ana Ruiz").click()
    expect(person(dock, "Ana Ruiz")).to_have_attribute("aria-pressed", "true")
    expect(person(dock, "Ana Ruiz")).to_contain_text("waiting to send")
    person(dock, "Ben Ode").click()
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard2Legal limit2")
    expect(dock.locator("#dock-pending")).to_have_text("2 taps waiting to send")
    # The limit is checked on the phone against the kept list.
    person(dock, "Cy Park").click()
    expect(crew_page.locator("#toast")).to_contain_text("Over the limit")
    expect(person(dock, "Cy Park")).to_have_attribute("aria-pressed", "false")
    expect(crew_page.locator("#outbox-count")).to_have_text("2 boarding taps waiting")
    depart = dock.locator("#dock-depart")
    if depart.count():  # captains and owners only
        expect(depart).to_be_disabled()
        expect(depart).to_contain_text("needs signal")
    assert api.detail(trip["id"])["event"].get("boarded_count", 0) == 0

    crew_page.context.set_offline(False)
    expect(crew_page.locator("#outbox-count")).to_be_hidden(timeout=LONG)
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard2Legal limit2", timeout=LONG)
    expect(dock.locator("#dock-pending")).to_have_count(0)
    expect(person(dock, "Ana Ruiz")).not_to_contain_text("waiting")
    manifest = api.ok("GET", f"/api/events/{trip['id']}/manifest")
    assert [p["name"] for p in manifest["passengers"] if p["boarded"]] == ["Ana Ruiz", "Ben Ode"]
    assert api.detail(trip["id"])["event"]["boarded_count"] == 2
    # Sent in tap order, each mark once (Background Sync may send some out of sight).
    names = [p["name"] for p in posts]
    assert names == [n for n in ("Ana Ruiz", "Ben Ode") if n in names]
    assert all(p.get("mark_id") for p in posts)
    expect(depart).to_have_text("Depart")


def test_the_form_checks_the_receipt_address_as_the_api_does(crew_page: Page, api: Api):
    trip = api.create_trip(TEST_DAYS)
    crew_page.goto(f"/#/e/{trip['id']}")
    expect(crew_page.locator("#detail-title")).to_have_text(trip["title"])
    worker_ready(crew_page)
    crew_page.context.set_offline(True)
    crew_page.get_by_role("button", name="Log Payment").click()
    modal = crew_page.locator("#pay-modal")
    fill_payment(crew_page, "Bob Hale", "40")
    modal.get_by_label("Patron email for a receipt").fill("bob@gmail")
    crew_page.locator("#pay-submit").click()
    expect(modal.locator(".error")).to_contain_text("name@example.com")
    expect(modal.get_by_label("Patron email for a receipt")).to_have_attribute(
        "aria-invalid", "true"
    )
    saved = "async () => (await (await import('./outbox.js')).saved()).length"
    assert crew_page.evaluate(saved) == 0
    modal.get_by_label("Patron email for a receipt").fill("bob@gmail.com")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text(SAVED)
    modal.get_by_role("button", name="Done").click()
    expect(modal).not_to_have_class(ACTIVE)
    crew_page.context.set_offline(False)
    expect(crew_page.locator("#outbox-count")).to_be_hidden(timeout=LONG)
    (payment,) = api.detail(trip["id"])["payments"]
    assert payment["receipt"] in ("pending", "sent")


def test_a_saved_payment_whose_receipt_the_api_refuses_is_logged_once_without_it(
    crew_page: Page, api: Api
):
    trip = api.create_trip(TEST_DAYS)
    crew_page.goto(f"/#/e/{trip['id']}")
    expect(crew_page.locator("#detail-title")).to_have_text(trip["title"])
    worker_ready(crew_page)
    crew_page.context.set_offline(True)
    # Saved by a page that checked less (an older version): the API refuses the address.
    payment_id = str(uuid.uuid4())
    crew_page.evaluate(
        "async ([id, trip, pid]) => (await import('./outbox.js')).keep(id, {payment_id: pid,"
        " patron_name: 'Bob Hale', amount_cents: 4000, method: 'cash',"
        " patron_email: 'bob@gmail'}, trip)",
        [trip["id"], trip, payment_id],
    )
    expect(crew_page.locator("#outbox-count")).to_have_text("1 waiting to send")
    crew_page.context.set_offline(False)

    notes = crew_page.locator("#receipt-notes")
    expect(notes).to_contain_text("Logged without a receipt", timeout=LONG)
    expect(notes).to_contain_text("bob@gmail")
    expect(notes).to_contain_text("Bob Hale")
    expect(crew_page.locator("#outbox-count")).to_have_text("1 receipt not sent")
    expect(crew_page.locator("#detail .ledger.saved")).to_have_count(0)
    (payment,) = api.detail(trip["id"])["payments"]
    assert (payment["id"], payment["amount_cents"], payment["receipt"]) == (
        payment_id,
        4000,
        None,
    )
    assert api.detail(trip["id"])["event"]["paid_cents"] == 4000

    notes.get_by_role("button", name="OK").click()
    expect(notes).to_have_count(0)
    expect(crew_page.locator("#outbox-count")).to_be_hidden()


def test_log_out_says_boarding_taps_wait_and_keeps_them(crew_page: Page, api: Api):
    trip = todays_trip(api, limit=4)
    crew_page.goto(f"/#/e/{trip['id']}")
    expect(crew_page.locator("#detail-title")).to_have_text(trip["title"])
    worker_ready(crew_page)  # the log-out code comes from the phone's copy
    crew_page.context.set_offline(True)  # the tap cannot go meanwhile
    crew_page.evaluate(
        "async (id) => (await import('./outbox.js')).keepMark(id, {waiver_id: 'w1',"
        " name: 'Ana Ruiz', boarded: true, mark_id: crypto.randomUUID()})",
        trip["id"],
    )
    # The crew member says no to the question: it is kept to be read here.
    crew_page.evaluate("window.confirm = (m) => { window.asked = m; return false; }")
    crew_page.locator("#menu-button").click()
    crew_page.get_by_role("button", name="Log out").click()
    eventually(lambda: crew_page.evaluate("window.asked ?? null"))
    asked = crew_page.evaluate("window.asked")
    assert "1 boarding tap is waiting on this phone, not sent yet" in asked
    assert "payment" not in asked
    expect(crew_page.locator("#detail-view")).to_be_visible()  # said no: still logged in
    marks = "async () => (await (await import('./outbox.js')).queuedMarks()).length"
    assert crew_page.evaluate(marks) == 1
