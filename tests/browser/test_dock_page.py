"""At the dock in Chromium (issue 14): boarding taps, Depart with the manifest ashore,
the QR code and Share for patrons, and the printed manifest."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.bodies import WAIVER
from tests.browser.conftest import Api, Stack

pytestmark = pytest.mark.browser

# Far from the demo week and the other browser tests' trips.
DOCK_DAYS = 28


def signer(name: str, minors: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        **WAIVER,
        "full_name": name,
        "signature": name,
        "minors": [{"name": m, "date_of_birth": "2016-03-01"} for m in minors],
    }


def dock_trip(api: Api, limit: int = 6, capacity: int = 6, inspected: bool = False) -> dict:
    boat = api.ok(
        "POST",
        "/api/boats",
        {"name": f"Boat {uuid.uuid4().hex[:6]}", "passenger_limit": limit, "inspected": inspected},
    )["boat"]
    trip = api.create_trip(DOCK_DAYS, boat_id=boat["id"], capacity=capacity)
    trip["boat_record"] = boat
    return trip


def sign(api: Api, trip: dict[str, Any], name: str, minors: tuple[str, ...] = ()) -> str:
    return api.ok("POST", f"/g/{trip['id']}/waiver", signer(name, minors))["waiver"]["id"]


def board(api: Api, trip: dict[str, Any], waiver_id: str, name: str) -> None:
    api.ok(
        "POST",
        f"/api/events/{trip['id']}/boarding",
        {"waiver_id": waiver_id, "name": name, "boarded": True},
    )


def open_trip(page: Page, trip: dict[str, Any]) -> Any:
    page.goto(f"/#/e/{trip['id']}")
    dock = page.locator("#dock")
    dock.locator("#dock-counts").wait_for()
    return dock


def person(dock: Any, name: str) -> Any:
    return dock.locator("button.person", has_text=name)


def test_one_tap_boards_a_person_and_another_puts_them_ashore(crew_page: Page, api: Api):
    trip = dock_trip(api)
    sign(api, trip, "Ana Ruiz", ("Kit Ruiz",))
    dock = open_trip(crew_page, trip)
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard0Legal limit6")
    expect(dock).not_to_contain_text("null")  # a line not shown leaves nothing behind
    kit = person(dock, "Kit Ruiz")
    expect(kit).to_contain_text("(minor)")
    kit.click()
    expect(person(dock, "Kit Ruiz")).to_have_attribute("aria-pressed", "true")
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard1Legal limit6")
    assert api.detail(trip["id"])["event"]["boarded_count"] == 1
    person(dock, "Kit Ruiz").click()
    expect(person(dock, "Kit Ruiz")).to_have_attribute("aria-pressed", "false")
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard0Legal limit6")


def test_two_people_of_one_name_on_a_waiver_board_one_tap_each(crew_page: Page, api: Api):
    """Issue 21 item 10: the page marks people by their id within the waiver."""
    trip = dock_trip(api)
    sign(api, trip, "Pat Smith", ("Alex Smith", "alex  smith"))
    dock = open_trip(crew_page, trip)
    second = dock.locator("button.person[data-person='2']")
    second.click()
    expect(second).to_have_attribute("aria-pressed", "true")
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard1Legal limit6")
    first = dock.locator("button.person[data-person='1']")
    expect(first).to_have_attribute("aria-pressed", "false")
    first.click()
    expect(first).to_have_attribute("aria-pressed", "true")
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard2Legal limit6")
    assert api.detail(trip["id"])["event"]["boarded_count"] == 2


def test_a_captain_strikes_a_waiver_with_a_reason_and_it_leaves_the_passengers(
    crew_page: Page, api: Api
):
    """Issue 21 item 4: striking on the page, in the trip's waiver list."""
    trip = dock_trip(api)
    sign(api, trip, "Ana Ruiz")
    fake = sign(api, trip, "Mallory Vance", ("Kid One", "Kid Two"))
    dock = open_trip(crew_page, trip)
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard0Legal limit6")
    row = crew_page.locator(f"#waiver-{fake}")
    row.get_by_role("button", name="Strike…").click()
    row.get_by_role("textbox").fill("names made up by a stranger")
    row.get_by_role("button", name="Strike waiver").click()
    row = crew_page.locator(f"#waiver-{fake}")
    expect(row).to_contain_text("Struck")
    expect(row).to_contain_text("names made up by a stranger")
    expect(crew_page.locator("#detail")).to_contain_text("Waivers (1 covered)")
    expect(person(crew_page.locator("#dock"), "Kid One")).to_have_count(0)
    assert api.detail(trip["id"])["event"]["waiver_count"] == 1


def test_over_the_limit_shows_red_and_depart_cannot_be_confirmed(crew_page: Page, api: Api):
    trip = dock_trip(api)
    for i in range(6):
        name = f"Guest {i}"
        board(api, trip, sign(api, trip, name), name)
    api.ok("PATCH", f"/api/boats/{trip['boat_record']['id']}", {"passenger_limit": 4})
    dock = open_trip(crew_page, trip)
    counts = dock.locator("#dock-counts")
    expect(counts).to_contain_text("Aboard6Legal limit4")
    expect(counts).to_have_class(re.compile(r"\bover\b"))
    assert (
        counts.locator(".due dd").evaluate("el => getComputedStyle(el).color") == "rgb(165, 0, 0)"
    )
    dock.get_by_role("button", name="Depart").click()
    expect(dock.locator("#depart-confirm")).to_be_disabled()


def test_depart_shows_the_headcount_and_who_has_no_waiver_then_sends_the_manifest(
    crew_page: Page, api: Api, stack: Stack
):
    trip = dock_trip(api)
    family = sign(api, trip, "Ana Ruiz", ("Kit Ruiz",))
    sign(api, trip, "Ben Ode")
    dock = open_trip(crew_page, trip)
    person(dock, "Ana Ruiz").click()
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard1Legal limit6")
    person(dock, "Kit Ruiz").click()
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard2Legal limit6")
    dock.get_by_role("button", name="Depart").click()
    check = dock.locator("#depart-check")
    expect(check).to_contain_text("Depart with 2 people aboard (6 allowed)?")
    expect(check.locator("#depart-unsigned")).to_have_text("3 booked places have no waiver yet.")
    expect(check.locator("#depart-ashore")).to_have_text("Signed but not aboard: Ben Ode")
    check.get_by_role("button", name="Confirm departure").click()
    expect(dock.locator("#dock-status")).to_contain_text("Departed")
    expect(dock.locator("#dock-status")).to_contain_text("2 people aboard")
    expect(person(dock, "Ben Ode")).to_be_disabled()
    assert api.detail(trip["id"])["event"]["departed_headcount"] == 2

    # The manifest reaches the shore contacts through the outbox (the stack drains it).
    deadline = time.monotonic() + 20
    manifest = None
    while manifest is None and time.monotonic() < deadline:
        emails = api.ok("GET", "/_dev/outbox.json")["emails"]
        manifest = next(
            (m for m in emails if "Departed" in m["subject"] and trip["title"] in m["subject"]),
            None,
        )
        time.sleep(0.5)
    assert manifest is not None, "no manifest email in /_dev/outbox"
    assert manifest["to"] == ["shore@shipcaptaincrew.example"]
    assert "Ana Ruiz" in manifest["text"] and "Kit Ruiz (minor)" in manifest["text"]
    assert "Ben Ode" not in manifest["text"]
    assert family

    dock.get_by_role("button", name="Return").click()
    expect(dock.locator("#dock-status")).to_contain_text("Returned")

    # The board card says so: aboard of the limit, and returned.
    crew_page.goto(f"/#/week/{trip['starts_at'][:10]}")
    card = crew_page.locator(
        "article.card", has=crew_page.get_by_role("link", name=trip["title"], exact=True)
    )
    expect(card.locator(".when .badge")).to_have_text("Returned")
    expect(card.locator(".figures")).to_contain_text("Aboard2Legal limit6")


def test_the_qr_code_fills_the_screen_and_encodes_the_waiver_link(crew_page: Page, api: Api):
    errors: list[str] = []
    crew_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    trip = api.create_trip(DOCK_DAYS)
    dock = open_trip(crew_page, trip)
    dock.get_by_role("button", name="QR code for patrons").click()
    screen = crew_page.locator(".qr-screen")
    expect(screen).to_be_visible()
    image = screen.get_by_role("img")
    expect(image).to_have_attribute("src", re.compile(r"^blob:"))
    crew_page.wait_for_function(
        "() => document.querySelector('#qr-image')?.naturalWidth > 0", timeout=10_000
    )
    box = image.bounding_box()
    assert box and box["width"] > 300, box  # most of a 390px phone screen
    link = f"{api.base_url}/g/{trip['id']}/waiver"
    expect(screen.locator(".qr-link")).to_have_text(link)
    screen.get_by_role("button", name="Close").click()
    expect(screen).to_have_count(0)
    assert errors == []


def test_share_uses_the_share_sheet_when_the_phone_has_one(crew_page: Page, api: Api):
    trip = api.create_trip(DOCK_DAYS)
    dock = open_trip(crew_page, trip)
    crew_page.evaluate("navigator.share = async (data) => { window.__shared = data; };")
    dock.get_by_role("button", name="Share waiver link").click()
    crew_page.wait_for_function("() => window.__shared")
    shared = crew_page.evaluate("window.__shared")
    assert shared["url"] == f"{api.base_url}/g/{trip['id']}/waiver"
    assert trip["title"] in shared["text"]


def test_share_falls_back_to_text_and_email_links(crew_page: Page, api: Api):
    trip = api.create_trip(DOCK_DAYS)
    dock = open_trip(crew_page, trip)
    crew_page.evaluate("delete Navigator.prototype.share; delete navigator.share;")
    assert crew_page.evaluate("typeof navigator.share") == "undefined"
    dock.get_by_role("button", name="Share waiver link").click()
    sms = crew_page.locator("#share-sms")
    expect(sms).to_be_visible()
    encoded = f"{api.base_url}/g/{trip['id']}/waiver".replace(":", "%3A").replace("/", "%2F")
    assert sms.get_attribute("href").startswith("sms:?&body=")
    assert encoded in sms.get_attribute("href")
    mail = crew_page.locator("#share-email").get_attribute("href")
    assert mail.startswith("mailto:?subject=") and encoded in mail


def test_the_printed_manifest_is_one_page_for_forty_people(crew_page: Page, api: Api):
    trip = dock_trip(api, limit=49, capacity=40, inspected=True)
    for i in range(10):
        parent = f"Parent {i:02d} Longfamilyname"
        kids = tuple(f"Child {i:02d}-{k} Longfamilyname" for k in range(3))
        wid = sign(api, trip, parent, kids)
        board(api, trip, wid, parent)
    dock = open_trip(crew_page, trip)
    expect(dock.locator("#dock-counts")).to_contain_text("Aboard10Legal limit49")
    crew_page.evaluate("window.print = () => { window.__printed = true; }")
    dock.get_by_role("button", name="Print manifest").click()
    crew_page.wait_for_function("() => window.__printed === true")
    sheet = crew_page.locator(".print-sheet")
    expect(sheet).to_be_hidden()  # on screen the sheet stays out of the way
    crew_page.emulate_media(media="print")
    expect(sheet).to_be_visible()
    expect(crew_page.locator("#main")).to_be_hidden()
    expect(crew_page.locator("header.bar")).to_be_hidden()
    expect(sheet.locator("tbody tr")).to_have_count(40)
    expect(sheet).to_contain_text(trip["boat_record"]["name"])
    expect(sheet.locator("thead")).to_contain_text("Emergency contact")
    pdf = crew_page.pdf(format="Letter")
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf)
    assert len(pages) == 1, f"the manifest takes {len(pages)} pages, not one"
    crew_page.emulate_media(media="screen")


def test_a_trip_on_a_boat_of_the_fleet_is_held_to_its_limit(crew_page: Page, api: Api):
    from datetime import timedelta

    from tests.browser.conftest import operator_today, show_board

    boat = api.ok(
        "POST",
        "/api/boats",
        {"name": f"Skiff {uuid.uuid4().hex[:6]}", "passenger_limit": 6, "inspected": False},
    )["boat"]
    day = operator_today() + timedelta(days=DOCK_DAYS)
    title = f"Six-pack {uuid.uuid4().hex[:6]}"
    show_board(crew_page)
    crew_page.get_by_role("link", name="New trip").click()
    form = crew_page.locator("#trip-form")
    expect(crew_page.locator(f"#fleet-boats option[value='{boat['name']}']")).to_have_count(1)
    form.get_by_label("Title").fill(title)
    form.get_by_label("Date").fill(day.isoformat())
    form.get_by_label("Starts").fill("09:30")
    form.get_by_label("Ends").fill("12:00")
    form.get_by_label("Boat").fill(boat["name"])
    form.get_by_label("Capacity").fill("8")
    crew_page.get_by_role("button", name="Save trip").click()
    expect(form.locator(".error")).to_contain_text("limit of 6 passengers")
    expect(form.get_by_label("Capacity")).to_have_attribute("aria-invalid", "true")
    form.get_by_label("Capacity").fill("6")
    crew_page.get_by_role("button", name="Save trip").click()
    expect(crew_page.locator("#detail-title")).to_have_text(title)
    events = api.ok("GET", f"/api/events?from={day}&to={day}")["events"]
    (made,) = [e for e in events if e["title"] == title]
    assert made["boat_id"] == boat["id"] and made["boat_limit"] == 6


def test_an_overdue_trip_is_red_on_the_board_and_the_shore_is_told(crew_page: Page, api: Api):
    # A trip that ended two hours ago, departed and never returned: overdue now.
    trip = api.create_trip(-DOCK_DAYS, title=f"Lost at sea {uuid.uuid4().hex[:6]}")
    api.ok("POST", f"/api/events/{trip['id']}/depart", {})
    crew_page.goto(f"/#/week/{trip['starts_at'][:10]}")
    card = crew_page.locator(
        "article.card", has=crew_page.get_by_role("link", name=trip["title"], exact=True)
    )
    expect(card.locator(".when .badge")).to_have_text("Overdue")
    expect(card).to_have_class(re.compile(r"\boverdue\b"))
    assert card.evaluate("el => getComputedStyle(el).borderTopColor") == "rgb(165, 0, 0)"
    assert card.locator(".badge").evaluate("el => getComputedStyle(el).color") == "rgb(165, 0, 0)"

    # The stack's scheduled round flags it and the shore contacts get one email.
    deadline = time.monotonic() + 20
    alarms: list[dict[str, Any]] = []
    while not alarms and time.monotonic() < deadline:
        emails = api.ok("GET", "/_dev/outbox.json")["emails"]
        alarms = [
            m
            for m in emails
            if m["subject"].startswith("OVERDUE") and trip["title"] in m["subject"]
        ]
        time.sleep(0.5)
    assert len(alarms) == 1, "no overdue email in /_dev/outbox"
    api.ok("POST", f"/api/events/{trip['id']}/return", {})
    crew_page.reload()
    expect(card.locator(".when .badge")).to_have_text("Returned")
