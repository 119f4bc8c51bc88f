"""The dispatch page in Chromium against the local stack: what crew see and do at the dock."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DECKHAND,
    ROOT,
    Api,
    Stack,
    keep_session,
    kept_session,
    log_in,
    new_page,
    operator_today,
    show_board,
)

pytestmark = pytest.mark.browser

MARKUP = "<img src=x onerror=alert(1)>"
# Test trips sit three weeks out, so the demo week (and its screenshot) stays as seeded.
TEST_DAYS = 21
ACTIVE = re.compile(r"\bactive\b")


def card_of(page: Page, title: str) -> Any:
    return page.locator("article.card", has=page.get_by_role("link", name=title, exact=True))


def show_week_of(page: Page, trip: dict[str, Any]) -> Any:
    """The board for the week starting on the trip's day; returns the trip's card."""
    page.goto(f"/#/week/{trip['starts_at'][:10]}")
    card = card_of(page, trip["title"])
    card.wait_for()
    return card


def open_payment(page: Page, card: Any) -> Any:
    card.get_by_role("button", name="Log Payment").click()
    modal = page.locator("#pay-modal")
    expect(modal).to_have_class(ACTIVE)
    return modal


def fill_payment(page: Page, name: str, amount: str, method: str = "cash", note: str = "") -> None:
    modal = page.locator("#pay-modal")
    modal.get_by_label("Patron name").fill(name)
    modal.get_by_label("Amount ($)").fill(amount)
    modal.get_by_label("Method").select_option(method)
    modal.get_by_label("Note").fill(note)


def no_dialogs(page: Page) -> list[str]:
    """Collects (and dismisses) any alert/confirm the page opens."""
    seen: list[str] = []

    def on_dialog(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


# --- logging in -------------------------------------------------------------------


def test_crew_log_in_with_the_password_and_see_today(page: Page, stack: Stack) -> None:
    errors: list[str] = []  # a script or style the Content-Security-Policy blocks shows here
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, stack.password)
    expect(page.get_by_role("heading", name="Trips")).to_be_visible()
    expect(page.locator("#board .day h2").first).to_contain_text("Today")
    assert kept_session(page)["token"]
    csp = page.locator('meta[http-equiv="Content-Security-Policy"]').get_attribute("content")
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    page.locator("article.card").first.get_by_role("link").click()
    expect(page.locator("#detail .figures")).to_be_visible()
    assert errors == []


def test_wrong_password_shows_an_error_and_stays_on_login(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-form .error")).to_contain_text("Wrong username or password")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#board-view")).to_be_hidden()


def test_typing_at_once_stays_in_the_field_typed_into(page: Page) -> None:
    """The login screen focuses its first field as it appears, and nothing moves focus
    a frame later: letters typed at once land in Username, not in Password."""
    page.goto("/")
    username = page.get_by_label("Username")
    expect(username).to_be_focused()
    username.fill(DECKHAND[0])
    # Three frames: anything queued for "the next frame" by showing the screen has run.
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() =>"
        " requestAnimationFrame(() => requestAnimationFrame(done))))"
    )
    expect(username).to_be_focused()
    expect(username).to_have_value(DECKHAND[0])
    expect(page.get_by_label("Password")).to_have_value("")


def test_throttled_login_says_how_long_to_wait(page: Page) -> None:
    page.route(
        "**/api/login",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "300"},
            json={"code": "throttled", "message": "too many attempts"},
        ),
    )
    page.goto("/")
    page.get_by_label("Password").fill("anything")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-form .error")).to_have_text(
        "Too many attempts. Try again in 5 minutes."
    )


def test_an_expired_session_returns_to_login_with_a_message(crew_page: Page) -> None:
    show_board(crew_page)
    keep_session(crew_page, "not-a-real-token", "2999-01-01T00:00:00Z")
    crew_page.reload()
    expect(crew_page.locator("#login-view")).to_be_visible()
    expect(crew_page.locator("#login-notice")).to_contain_text("session has ended")
    assert kept_session(crew_page) is None


# --- the board --------------------------------------------------------------------


def test_board_shows_the_seeded_trips(crew_page: Page, api: Api) -> None:
    show_board(crew_page)
    today = operator_today()
    week = api.ok("GET", f"/api/events?from={today}&to={today + timedelta(days=6)}")["events"]
    assert week, "the local stack seeds a demo week"
    for event in week:
        expect(card_of(crew_page, event["title"])).to_be_visible()
    expect(crew_page.locator("article.card")).to_have_count(len(week))


def test_board_makes_one_api_request_per_load(crew_page: Page) -> None:
    show_board(crew_page)
    calls: list[str] = []
    crew_page.on(
        "request",
        lambda request: (
            calls.append(f"{request.method} {request.url}") if "/api/" in request.url else None
        ),
    )
    crew_page.reload()
    crew_page.locator("article.card").first.wait_for()
    crew_page.wait_for_load_state("networkidle")
    # Today's week is asked for by index.html's first script: the API's default window,
    # as the board's cards. (Today's trips and manifests are kept on the phone after it.)
    board = [c.split("/api/", 1)[1] for c in calls if "/api/events/" not in c]
    assert board == ["events?view=board"]
    assert calls[0].startswith("GET ")
    today = operator_today()

    calls.clear()
    crew_page.get_by_role("button", name="Next week").click()
    expect(crew_page.locator("#board .day h2").first).not_to_contain_text("Today")
    crew_page.wait_for_load_state("networkidle")
    week2 = today + timedelta(days=7)
    assert [c.split("/api/", 1)[1] for c in calls if "/api/events/" not in c] == [
        f"events?view=board&from={week2}&to={week2 + timedelta(days=6)}"
    ]


def test_board_fits_a_360px_phone_with_large_touch_targets(browser: Any, stack: Stack) -> None:
    tab = new_page(browser, stack, width=360, height=740)
    try:
        log_in(tab, stack.password)
        tab.locator("article.card").first.wait_for()
        assert tab.evaluate("document.documentElement.scrollWidth") <= 360
        small = tab.evaluate(
            """() => [...document.querySelectorAll('button, a.button, input, select')]
                 .filter(el => el.offsetParent !== null)
                 .map(el => [el.textContent.trim() || el.id, el.getBoundingClientRect()])
                 .filter(([, r]) => r.height < 44 || r.width < 44)
                 .map(([name]) => name)"""
        )
        assert small == []
    finally:
        tab.context.close()


def test_board_screenshot_for_the_readme(browser: Any, stack: Stack) -> None:
    """A 390x844 phone's board, saved to test-artifacts/ (git-ignored).

    `make screenshot` sets SCC_SCREENSHOT=docs/screenshot-board.png to refresh the
    README's picture on purpose; a plain test run never touches tracked files.
    """
    target = ROOT / os.environ.get("SCC_SCREENSHOT", "test-artifacts/screenshot-board.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    tab = new_page(browser, stack, width=390, height=844)
    try:
        log_in(tab, DECKHAND[1], DECKHAND[0])
        tab.locator("article.card").first.wait_for()
        expect(tab.locator("#board .day h2").first).to_contain_text("Today")
        tab.evaluate("document.activeElement.blur()")
        tab.screenshot(path=str(target))
    finally:
        tab.context.close()


def test_trip_title_with_markup_is_shown_as_text(crew_page: Page, api: Api) -> None:
    dialogs = no_dialogs(crew_page)
    trip = api.create_trip(TEST_DAYS, title=f"{MARKUP} {uuid.uuid4().hex[:6]}")
    card = show_week_of(crew_page, trip)
    expect(card.locator("h3")).to_have_text(trip["title"])
    assert crew_page.locator("#board img").count() == 0
    card.get_by_role("link").click()
    expect(crew_page.locator("#detail-title")).to_have_text(trip["title"])
    crew_page.wait_for_load_state("networkidle")
    assert dialogs == []


def test_cancelling_a_trip_asks_first_and_marks_it(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    crew_page.goto(f"/#/e/{trip['id']}")
    crew_page.get_by_role("button", name="Cancel trip").click()
    modal = crew_page.locator("#cancel-modal")
    expect(modal).to_have_class(ACTIVE)
    modal.get_by_role("button", name="Keep trip").click()
    expect(modal).not_to_have_class(ACTIVE)
    assert api.detail(trip["id"])["event"]["status"] == "scheduled"

    crew_page.get_by_role("button", name="Cancel trip").click()
    modal.get_by_role("button", name="Cancel trip").click()
    expect(crew_page.locator("#detail .when .badge")).to_have_text("Cancelled")
    expect(crew_page.get_by_role("button", name="Log Payment")).to_have_count(0)
    assert api.detail(trip["id"])["event"]["status"] == "cancelled"

    card = show_week_of(crew_page, trip)
    expect(card.locator(".badge")).to_have_text("Cancelled")
    expect(card.get_by_role("button", name="Log Payment")).to_have_count(0)


def test_a_bare_cancelled_trip_shows_no_false_or_null(crew_page: Page, api: Api) -> None:
    day = (operator_today() + timedelta(days=TEST_DAYS)).isoformat()
    bare = {
        "title": f"Bare trip {uuid.uuid4().hex[:6]}",
        "starts_at": f"{day}T08:00:00",
        "ends_at": f"{day}T09:00:00",
        "capacity": 4,
    }
    trip = api.ok("POST", "/api/events", bare)["event"]
    api.ok("POST", f"/api/events/{trip['id']}/cancel", {})
    leaked = re.compile(r"\b(false|null|undefined|NaN)\b")
    card = show_week_of(crew_page, trip)
    expect(card.locator(".badge")).to_have_text("Cancelled")
    assert not leaked.search(card.inner_text()), card.inner_text()
    card.get_by_role("link").click()
    expect(crew_page.locator("#detail .figures")).to_be_visible()
    assert not leaked.search(crew_page.locator("#detail").inner_text())


# --- trips ------------------------------------------------------------------------


def test_crew_create_a_trip(crew_page: Page, api: Api) -> None:
    day = operator_today() + timedelta(days=TEST_DAYS)
    title = f"Harbor tour {uuid.uuid4().hex[:6]}"
    show_board(crew_page)
    crew_page.get_by_role("link", name="New trip").click()
    form = crew_page.locator("#trip-form")
    form.get_by_label("Title").fill(title)
    form.get_by_label("Date").fill(day.isoformat())
    form.get_by_label("Starts").fill("09:30")
    form.get_by_label("Ends").fill("12:00")
    form.get_by_label("Boat").fill("Sea Otter")
    form.get_by_label("Capacity").fill("10")
    form.get_by_label("Price ($)").fill("1,250.50")
    # exact: the crew accounts' ticks are labelled with names such as "Maria (captain)".
    form.get_by_label("Captain", exact=True).fill("Maria")
    form.get_by_label("Crew (names, comma separated)").fill("Sam, Lee")
    crew_page.get_by_role("button", name="Save trip").click()
    expect(crew_page.locator("#detail-title")).to_have_text(title)
    events = api.ok("GET", f"/api/events?from={day}&to={day}")["events"]
    (made,) = [e for e in events if e["title"] == title]
    assert made["price_cents"] == 125050
    assert made["crew"] == ["Sam", "Lee"]
    assert made["starts_at"].startswith(f"{day}T09:30")


def test_the_trip_form_shows_only_once_its_code_is_there(
    browser: Any, stack: Stack, api: Api
) -> None:
    # On a slow line the form's module can arrive seconds after a tap on "New trip": a
    # form on screen before its handler would be sent by the browser, reloading the page.
    context = browser.new_context(base_url=stack.base_url, service_workers="block")
    try:
        page = context.new_page()
        page.goto("/")
        keep_session(page, api.token, api.expires_at)
        page.route("**/trip.js", lambda route: (page.wait_for_timeout(1500), route.continue_()))
        page.goto("/#/new")
        expect(page.locator("#trip-view")).to_be_hidden()
        expect(page.locator("#trip-view")).to_be_visible(timeout=10_000)
        page.get_by_role("button", name="Save trip").click()
        expect(page.locator("#trip-form .error")).to_contain_text("title")
        assert "?" not in page.url
    finally:
        context.close()


def test_editing_a_trip_someone_else_changed_reloads_their_version(
    crew_page: Page, api: Api
) -> None:
    trip = api.create_trip(TEST_DAYS)
    crew_page.goto(f"/#/e/{trip['id']}/edit")
    expect(crew_page.locator("#trip-form").get_by_label("Title")).to_have_value(trip["title"])
    theirs = f"Changed on the dock {uuid.uuid4().hex[:6]}"
    api.ok("PATCH", f"/api/events/{trip['id']}", {"title": theirs, "version": trip["version"]})

    crew_page.locator("#trip-form").get_by_label("Title").fill("My edit")
    crew_page.get_by_role("button", name="Save trip").click()
    expect(crew_page.locator("#trip-notice")).to_contain_text("Someone else changed this trip")
    expect(crew_page.locator("#trip-form").get_by_label("Title")).to_have_value(theirs)

    crew_page.locator("#trip-form").get_by_label("Title").fill("My edit")
    crew_page.get_by_role("button", name="Save trip").click()
    expect(crew_page.locator("#detail-title")).to_have_text("My edit")


# --- payments ---------------------------------------------------------------------


def test_logging_a_payment_updates_the_card_totals(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS, price_cents=48000)
    card = show_week_of(crew_page, trip)
    expect(card).to_contain_text("$0.00 of $480.00")
    open_payment(crew_page, card)
    fill_payment(crew_page, "Alice Nguyen", "120.50", "card", "deposit")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text("Logged $120.50")
    crew_page.locator("#pay-modal").get_by_role("button", name="Done").click()
    expect(card).to_contain_text("$120.50 of $480.00")
    expect(card.locator(".figures .due")).to_contain_text("$359.50")

    (payment,) = api.detail(trip["id"])["payments"]
    assert (payment["patron_name"], payment["amount_cents"], payment["method"]) == (
        "Alice Nguyen",
        12050,
        "card",
    )


def test_voiding_a_payment_puts_the_balance_back(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS, price_cents=48000)
    api.ok(
        "POST",
        f"/api/events/{trip['id']}/payments",
        {
            "payment_id": str(uuid.uuid4()),
            "patron_name": "Bob Ellis",
            "amount_cents": 5000,
            "method": "cash",
        },
    )
    crew_page.goto(f"/#/e/{trip['id']}")
    row = crew_page.locator(".ledger li", has_text="Bob Ellis")
    expect(crew_page.locator("#detail .figures")).to_contain_text("$50.00 of $480.00")
    row.get_by_role("button", name=re.compile(r"^Void")).click()
    modal = crew_page.locator("#void-modal")
    expect(modal).to_have_class(ACTIVE)
    modal.get_by_role("button", name="Void payment").click()
    expect(modal.locator(".error")).to_be_visible()  # a reason is required
    modal.get_by_label("Reason").fill("Entered twice")
    modal.get_by_role("button", name="Void payment").click()
    expect(modal).not_to_have_class(ACTIVE)
    expect(row).to_have_class(re.compile(r"\bvoid\b"))
    expect(row).to_contain_text("Voided: Entered twice")
    expect(crew_page.locator("#detail .figures")).to_contain_text("$0.00 of $480.00")

    detail = api.detail(trip["id"])
    assert detail["payments"][0]["status"] == "void"
    assert detail["event"]["paid_cents"] == 0


def test_patron_name_with_markup_is_shown_as_text(crew_page: Page, api: Api) -> None:
    dialogs = no_dialogs(crew_page)
    trip = api.create_trip(TEST_DAYS)
    card = show_week_of(crew_page, trip)
    open_payment(crew_page, card)
    fill_payment(crew_page, MARKUP, "20")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text(MARKUP)
    crew_page.locator("#pay-modal").get_by_role("button", name="Done").click()
    card.get_by_role("link").click()
    expect(crew_page.locator(".ledger .who").first).to_have_text(MARKUP)
    assert crew_page.locator("#detail img, #pay-modal img").count() == 0
    crew_page.wait_for_load_state("networkidle")
    assert dialogs == []


def test_failed_payment_shows_the_error_and_keeps_what_was_typed(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    sent: list[dict[str, Any]] = []

    def first_one_fails(route: Any) -> None:
        sent.append(route.request.post_data_json)
        if len(sent) == 1:
            route.fulfill(
                status=503,
                headers={"Retry-After": "2"},
                json={"code": "unavailable", "message": "the service is busy: try again"},
            )
        else:
            route.continue_()

    crew_page.route("**/api/events/*/payments", first_one_fails)
    card = show_week_of(crew_page, trip)
    modal = open_payment(crew_page, card)
    fill_payment(crew_page, "Carla Diaz", "75", "venmo", "@carla")
    crew_page.locator("#pay-submit").click()
    expect(modal.locator(".error")).to_contain_text("busy")
    expect(modal).to_have_class(ACTIVE)
    expect(modal.get_by_label("Patron name")).to_have_value("Carla Diaz")
    expect(modal.get_by_label("Amount ($)")).to_have_value("75")
    expect(modal.get_by_label("Method")).to_have_value("venmo")
    expect(modal.get_by_label("Note")).to_have_value("@carla")

    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text("Logged $75.00")
    assert len(sent) == 2
    assert sent[0]["payment_id"] == sent[1]["payment_id"]  # a retry of the same entry
    assert len(api.detail(trip["id"])["payments"]) == 1


def test_a_double_tap_logs_one_payment(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    posts: list[str] = []
    crew_page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and "/payments" in r.url else None,
    )
    card = show_week_of(crew_page, trip)
    open_payment(crew_page, card)
    fill_payment(crew_page, "Eve Moss", "40")
    crew_page.locator("#pay-submit").dblclick()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text("Logged $40.00")
    crew_page.wait_for_load_state("networkidle")
    assert len(posts) == 1
    assert len(api.detail(trip["id"])["payments"]) == 1


def test_payment_modal_closes_on_escape_and_returns_focus(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    card = show_week_of(crew_page, trip)
    button = card.get_by_role("button", name="Log Payment")
    modal = open_payment(crew_page, card)
    expect(modal.get_by_label("Patron name")).to_be_focused()
    for _ in range(9):  # more stops than the modal has: focus must wrap, not escape
        crew_page.keyboard.press("Tab")
        assert crew_page.evaluate(
            "document.getElementById('pay-modal').contains(document.activeElement)"
        )
    crew_page.keyboard.press("Escape")
    expect(modal).not_to_have_class(ACTIVE)
    expect(modal).to_be_hidden()
    expect(button).to_be_focused()


def test_amount_must_be_money_before_anything_is_sent(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    posts: list[str] = []
    crew_page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    card = show_week_of(crew_page, trip)
    modal = open_payment(crew_page, card)
    fill_payment(crew_page, "Finn", "12.345")
    crew_page.locator("#pay-submit").click()
    expect(modal.locator(".error")).to_contain_text("two digits")
    expect(modal.get_by_label("Amount ($)")).to_have_attribute("aria-invalid", "true")
    assert posts == []


# --- event detail -----------------------------------------------------------------


def test_detail_gives_the_waiver_link_to_copy(crew_page: Page, api: Api, stack: Stack) -> None:
    trip = api.create_trip(TEST_DAYS)
    crew_page.goto(f"/#/e/{trip['id']}")
    link = f"{stack.base_url}/g/{trip['id']}/waiver"
    expect(crew_page.get_by_label("Waiver link for patrons")).to_have_value(link)
    crew_page.get_by_role("button", name="Copy link").click()
    expect(crew_page.locator("#toast")).to_have_text("Waiver link copied.")
    assert crew_page.evaluate("navigator.clipboard.readText()") == link


def test_detail_lists_the_waivers_signed_and_the_board_counts_them(
    crew_page: Page, api: Api
) -> None:
    trip = api.create_trip(TEST_DAYS, capacity=12)
    api.ok(
        "POST",
        f"/g/{trip['id']}/waiver",
        {
            "full_name": "Ana Ramirez",
            "email": "ana@example.com",
            "phone": "555-0100",
            "date_of_birth": "1985-03-02",
            "emergency_name": "Luis Ramirez",
            "emergency_phone": "555-0101",
            "minors": [{"name": "Sofia Ramirez", "date_of_birth": "2015-06-01"}],
            "signature": "Ana Ramirez",
            "agree": True,
        },
    )
    card = show_week_of(crew_page, trip)
    expect(card.locator(".figures")).to_contain_text("Booked12Signed2")
    card.get_by_role("link").click()
    waivers = crew_page.locator("#detail ul.ledger li")
    expect(waivers).to_have_count(1)
    expect(waivers.first).to_contain_text("Ana Ramirez")
    expect(waivers.first).to_contain_text("With minors: Sofia Ramirez")
    expect(waivers.first).to_contain_text(re.compile(r"Signed \w{3} \d{1,2}, \d{1,2}:\d{2} [AP]M"))


# --- the money helpers, in the browser that runs them --------------------------------


def test_dollar_amounts_become_exact_cents(page: Page) -> None:
    page.goto("/")
    cases = {
        "12.5": 1250,
        "12.50": 1250,
        "0.29": 29,
        "1,000.00": 100000,
        "$1,234,567.89": 123456789,
        "19.99": 1999,
        ".5": 50,
        "7": 700,
        "12.345": "error",
        "1,00": "error",
        "12,5": "error",
        "-5": "error",
        "": "error",
        "abc": "error",
        "1e3": "error",
    }
    got = page.evaluate(
        """async (inputs) => {
            const m = await import('./forms.js');
            return inputs.map((t) => { try { return m.parseDollars(t); } catch { return 'error'; } });
        }""",
        list(cases),
    )
    assert dict(zip(cases, got, strict=True)) == cases
    shown = page.evaluate(
        "async () => { const m = await import('./ui.js');"
        " return [0, 5, 1250, 100000, -500, 123456789].map(m.formatCents); }"
    )
    assert shown == ["$0.00", "$0.05", "$12.50", "$1,000.00", "-$5.00", "$1,234,567.89"]


def test_board_dates_follow_the_operators_calendar(page: Page) -> None:
    page.goto("/")
    got = page.evaluate(
        """async () => {
            const d = await import('./ui.js');
            return {
                lateEvening: d.todayIn('America/Los_Angeles', new Date('2026-11-26T05:00:00Z')),
                monthEnd: d.addDays('2026-02-27', 3),
                dstWeek: d.addDays('2026-03-07', 7),
                back: d.addDays('2026-01-03', -7),
                wallTime: d.formatTime('2026-07-04T17:30:00-07:00'),
                utcStamp: d.formatStamp('2026-07-04T00:05:00+00:00'),
                day: d.formatDay('2026-07-04'),
            };
        }"""
    )
    assert got == {
        "lateEvening": "2026-11-25",  # 9 pm in Los Angeles is still the 25th there
        "monthEnd": "2026-03-02",
        "dstWeek": "2026-03-14",
        "back": "2025-12-27",
        "wallTime": "5:30 PM",  # the time as written, whatever the phone's zone
        "utcStamp": "Jul 4, 12:05 AM",
        "day": "Sat, Jul 4",
    }
