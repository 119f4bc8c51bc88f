"""The dock on a 360 x 740 phone (issue 23, items 1-6): the trip opens on the dock from
an hour before departure, one named passenger figure per line with warnings where
they disagree, a header of one bar, Log Payment's buttons in view, toasts that cover
no button and say what is true, no text the crew read under 16 px, and axe-core with
no violation on every screen."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    CAPTAIN,
    DECKHAND,
    ROOT,
    Api,
    Stack,
    log_in,
    new_page,
    open_menu,
    operator_zone,
)
from tests.browser.test_dispatch_page import ACTIVE, TEST_DAYS
from tests.browser.test_dock_page import board, sign

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 360, 740
SLOW = 20_000  # ms: Depart and Return write the manifest and queue its email
# `make browser` installs axe-core here (build/ is git-ignored).
AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def phone(browser: Any, stack: Stack) -> Iterator[Page]:
    """A 360 x 740 phone with no session."""
    tab = new_page(browser, stack, width=WIDTH, height=HEIGHT)
    yield tab
    tab.context.close()


def boat(api: Api, limit: int) -> dict[str, Any]:
    body = {"name": f"Boat {uuid.uuid4().hex[:6]}", "passenger_limit": limit, "inspected": False}
    return api.ok("POST", "/api/boats", body)["boat"]


def trip_at_the_dock(api: Api, limit: int = 6, capacity: int = 6, **fields: Any) -> dict[str, Any]:
    """A trip of today's that leaves in 20 minutes (inside the hour before departure),
    with one waiver signed for three people: Ana Ruiz and her minors Kit Ruiz and Ben
    Ode. One signing a trip: the waiver form allows a source 30 signings in 10 minutes,
    and every browser test signs from the same address."""
    now = datetime.now(operator_zone()).replace(second=0, microsecond=0)
    start = now + timedelta(minutes=20)
    if start.date() != now.date():  # just before midnight: one that left the dock 30 min ago
        start = now - timedelta(minutes=30)
    end = min(start + timedelta(hours=2), start.replace(hour=23, minute=59))
    trip = api.create_trip(
        0,
        starts_at=start.strftime("%Y-%m-%dT%H:%M:00"),
        ends_at=end.strftime("%Y-%m-%dT%H:%M:00"),
        boat_id=boat(api, limit)["id"],
        capacity=capacity,
        **fields,
    )
    trip["waiver_id"] = sign(api, trip, "Ana Ruiz", ("Kit Ruiz", "Ben Ode"))
    return trip


@pytest.fixture(scope="module")
def dock(api: Api) -> dict[str, Any]:
    """Today's trip at the dock, with the demo deckhand on its crew, for the tests that
    only look (and log a tip)."""
    return trip_at_the_dock(api, crew_ids=[api.account_id(DECKHAND[0])])


def open_trip(page: Page, trip: dict[str, Any]) -> None:
    page.goto(f"/#/e/{trip['id']}")
    expect(page.locator("#detail-title")).to_have_text(trip["title"])
    page.locator("#dock-counts").wait_for()


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not on screen"
    return found


def figures_of(dl: Any) -> dict[str, str]:
    """A list of figures as {label: value}, one per line."""
    pairs = dl.evaluate(
        "dl => [...dl.querySelectorAll('dt')].map(dt => [dt.textContent, dt.nextElementSibling.textContent])"
    )
    return dict(pairs)


# --- 1. the trip opens on the dock --------------------------------------------------


def test_todays_trip_opens_on_the_dock_and_the_money_follows(
    phone: Page, dock: dict[str, Any]
) -> None:
    trip = dock
    log_in(phone, *reversed(CAPTAIN))
    open_trip(phone, trip)
    first = phone.locator("#dock button.person").first
    expect(first).to_be_visible()
    # The first passenger to tap and Depart are on the first screen, without scrolling.
    assert box(first)["y"] + box(first)["height"] <= HEIGHT
    depart = phone.locator("#dock-depart")
    assert box(depart)["y"] + box(depart)["height"] <= HEIGHT
    # Then the waiver link (QR, Share), then the money; the waivers' names below it all.
    pay = box(phone.locator("#detail-pay"))
    for before in ("#dock-counts", "#dock-qr", "#dock-share", "#dock-depart"):
        assert box(phone.locator(before))["y"] < pay["y"], before
    assert box(phone.locator("#waivers"))["y"] > pay["y"]
    names_above = phone.evaluate(
        """() => [...document.querySelectorAll('#detail .who, #detail button.person .name')]
             .filter(el => el.getBoundingClientRect().top < document.querySelector('#dock .passengers').getBoundingClientRect().top)
             .map(el => el.textContent)"""
    )
    assert names_above == []  # no list of the same names above the passengers to tap
    phone.screenshot(path=str(artifact("dock-first.png")))


def test_a_trip_days_away_opens_on_its_money(phone: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    log_in(phone, *reversed(CAPTAIN))
    open_trip(phone, trip)
    assert box(phone.locator("#detail-pay"))["y"] < box(phone.locator("#dock"))["y"]


# --- 2. one passenger figure per line, each named; warnings where they disagree -----


def test_each_passenger_figure_is_named_on_its_own_line(phone: Page, api: Api) -> None:
    trip = trip_at_the_dock(api, limit=6, capacity=5)
    log_in(phone, *reversed(CAPTAIN))
    open_trip(phone, trip)
    counts = phone.locator("#dock-counts")
    assert figures_of(counts) == {"Booked": "5", "Signed": "3", "Aboard": "0", "Legal limit": "6"}
    rows = counts.evaluate(
        "dl => [...dl.querySelectorAll('dd')].map(dd => dd.getBoundingClientRect().top)"
    )
    assert len(set(rows)) == 4  # one figure per line
    expect(phone.locator("#dock-warnings")).to_have_count(0)  # they agree

    phone.locator("#dock button.person", has_text="Ana Ruiz").click()
    expect(phone.locator("#dock-counts dd").nth(2)).to_have_text("1")

    # The card on the board names its figures too.
    phone.goto("/#/")
    card = phone.locator(
        "article.card", has=phone.get_by_role("link", name=trip["title"], exact=True)
    )
    expect(card.locator(".figures")).to_contain_text(
        "Aboard1"
    )  # the server's copy, not the kept one
    got = figures_of(card.locator(".figures"))
    assert got["Booked"] == "5" and got["Signed"] == "3" and got["Aboard"] == "1"
    assert got["Legal limit"] == "6"


def test_figures_that_disagree_are_warned_of(phone: Page, api: Api) -> None:
    trip = trip_at_the_dock(api, limit=6, capacity=6)
    cy = sign(api, trip, "Cy Lund")
    log_in(phone, *reversed(CAPTAIN))
    open_trip(phone, trip)
    expect(phone.locator("#dock-warnings")).to_have_count(0)
    for name in ("Ana Ruiz", "Kit Ruiz"):
        phone.locator("#dock button.person", has_text=name).click()
        expect(phone.locator("#dock button.person", has_text=name)).to_have_attribute(
            "aria-pressed", "true"
        )
    board(api, trip, cy, "Cy Lund")
    # The boat's limit drops below the booking, the people signed and those aboard.
    boat_id = api.detail(trip["id"])["event"]["boat_id"]
    api.ok("PATCH", f"/api/boats/{boat_id}", {"passenger_limit": 2})
    phone.reload()
    phone.locator("#dock-counts").wait_for()
    warnings = phone.locator("#dock-warnings")
    expect(warnings).to_contain_text("More signed (4) than the legal limit (2)")
    expect(warnings).to_contain_text("Booked (6) is above the legal limit (2)")
    expect(warnings).to_contain_text("1 aboard over the legal limit of 2")
    aboard = phone.locator("#dock-counts .due dd")
    expect(aboard).to_have_text("3")
    assert aboard.evaluate("el => getComputedStyle(el).color") == "rgb(165, 0, 0)"


def test_aboard_fewer_than_signed_at_departure_is_warned_of(phone: Page, api: Api) -> None:
    trip = trip_at_the_dock(api)
    log_in(phone, *reversed(CAPTAIN))
    open_trip(phone, trip)
    phone.locator("#dock button.person", has_text="Ana Ruiz").click()
    expect(phone.locator("#dock-counts dd").nth(2)).to_have_text("1")
    phone.locator("#dock-depart").click()
    phone.locator("#depart-confirm").click()
    expect(phone.locator("#dock-status")).to_contain_text("Departed", timeout=SLOW)
    expect(phone.locator("#dock-warnings")).to_contain_text("2 signed but not aboard.")


# --- 3. the header: one bar, a menu, tap targets apart ------------------------------

# What a thumb can hit: visible, and not under the open menu (which lies over the page).
TAP_TARGETS = """() => { const menu = document.querySelector('#menu[open] nav')?.getBoundingClientRect();
  const under = (r) => menu && r.left < menu.right && r.right > menu.left && r.top < menu.bottom && r.bottom > menu.top;
  return [...document.querySelectorAll(
    'button, a.button, a.back, summary, input, select, textarea, .choice')]
  .filter(el => el.checkVisibility() && !el.closest('.modal:not(.active)'))
  .filter(el => el.closest('#menu nav') || !under(el.getBoundingClientRect()))
  .map(el => { const r = el.getBoundingClientRect();
    return {name: (el.textContent.trim() || el.id).slice(0, 30), x: r.left, y: r.top + scrollY, r: r.right, b: r.bottom + scrollY}; })
  .filter(t => t.r > t.x && t.b > t.y); }"""


def too_close(page: Page) -> list[tuple[str, str, float]]:
    """Pairs of tap targets less than 8 px apart (neither inside the other)."""
    targets = page.evaluate(TAP_TARGETS)
    close = []
    for i, a in enumerate(targets):
        for b in targets[i + 1 :]:
            inside = (
                a["x"] <= b["x"] and a["r"] >= b["r"] and a["y"] <= b["y"] and a["b"] >= b["b"]
            ) or (b["x"] <= a["x"] and b["r"] >= a["r"] and b["y"] <= a["y"] and b["b"] >= a["b"])
            if inside:
                continue  # a radio inside its .choice label: one target
            gap = max(b["x"] - a["r"], a["x"] - b["r"], b["y"] - a["b"], a["y"] - b["b"])
            if gap < 8 - 0.01:
                close.append((a["name"], b["name"], round(gap, 1)))
    return close


def test_the_header_stays_one_bar_while_a_payment_waits_and_a_toast_shows(
    phone: Page, stack: Stack, api: Api
) -> None:
    from tests.browser.test_offline import save_payment_offline, show_week, worker_ready

    log_in(phone, DECKHAND[1], DECKHAND[0])
    trip = api.create_trip(TEST_DAYS)
    card = show_week(phone, trip)
    worker_ready(phone)
    phone.context.set_offline(True)
    try:
        save_payment_offline(phone, card, "Wren Abbot", "20")
        count = phone.locator("#outbox-count")
        expect(count).to_have_text("1 waiting to send")
        assert box(phone.locator("header.bar"))["height"] <= 64
        assert box(count)["y"] < 64  # in the bar's one row, not a second row under it
        expect(phone.locator("#menu-button")).to_be_visible()
        phone.screenshot(path=str(artifact("header-waiting.png")))
        # A long toast meanwhile (the dock's longest says the headcount and the manifest
        # email): it has the row beside the Menu to itself, in three lines at most.
        said = "Departed with 12 people aboard. Manifest email queued."
        phone.evaluate("async (t) => (await import('./forms.js')).toast(t)", said)
        toast = phone.locator("#toast")
        expect(toast).to_have_text(said)
        assert box(phone.locator("header.bar"))["height"] <= 56  # its height with no toast
        expect(count).to_be_hidden()
        expect(phone.locator("#menu-button")).to_be_visible()
        assert not toast.evaluate("(el) => el.scrollHeight > el.clientHeight + 1"), "cut short"
        phone.evaluate("async () => (await import('./forms.js')).hideToast()")
        expect(count).to_be_visible()  # back once the toast has gone
    finally:
        phone.context.set_offline(False)
    expect(phone.locator("#outbox-count")).to_be_hidden(timeout=30_000)


@pytest.mark.parametrize("who", ["owner", "captain", "deckhand"])
def test_the_header_is_one_bar_with_a_menu(phone: Page, stack: Stack, who: str) -> None:
    login = {"owner": ("", stack.password), "captain": CAPTAIN, "deckhand": DECKHAND}[who]
    log_in(phone, login[1], login[0])
    assert box(phone.locator("header.bar"))["height"] <= 64
    expect(phone.get_by_role("button", name="Log out")).to_be_hidden()  # folded in the menu
    open_menu(phone)
    expect(phone.get_by_role("button", name="Log out")).to_be_visible()
    expect(phone.get_by_role("link", name="My account")).to_be_visible()
    crew = phone.get_by_role("link", name="Crew", exact=True)
    exports = phone.get_by_role("link", name="Exports")
    if who == "deckhand":
        expect(crew).to_be_hidden()
        expect(exports).to_be_hidden()
    else:
        expect(crew).to_be_visible()
        expect(exports).to_be_visible()
    assert box(phone.locator("header.bar"))["height"] <= 64  # the menu opens over the page
    assert too_close(phone) == []
    phone.screenshot(path=str(artifact(f"menu-{who}.png")))
    phone.keyboard.press("Escape")
    expect(phone.get_by_role("button", name="Log out")).to_be_hidden()
    expect(phone.locator("#menu-button")).to_be_focused()


def test_tap_targets_are_8px_apart_on_the_board_trip_and_dock(
    phone: Page, api: Api, dock: dict[str, Any]
) -> None:
    trip = dock
    later = api.create_trip(TEST_DAYS)
    api.log_payment(later["id"], 1000)
    log_in(phone, *reversed(CAPTAIN))
    new_trip = box(phone.get_by_role("link", name="+ New trip"))
    week = box(phone.locator("nav.week"))
    assert week["y"] - (new_trip["y"] + new_trip["height"]) >= 8
    assert too_close(phone) == []
    open_trip(phone, trip)
    assert too_close(phone) == []
    open_trip(phone, later)
    assert too_close(phone) == []


# --- 4. Log Payment's buttons stay in view ------------------------------------------


def test_log_payment_submit_stays_in_view_with_tip_chosen(
    phone: Page, dock: dict[str, Any]
) -> None:
    trip = dock
    log_in(phone, *reversed(CAPTAIN))
    open_trip(phone, trip)
    phone.locator("#detail-pay").click()
    modal = phone.locator("#pay-modal")
    expect(modal).to_have_class(ACTIVE)
    submit = phone.locator("#pay-submit")

    def in_view() -> None:
        r = box(submit)
        assert r["y"] >= 0 and r["y"] + r["height"] <= HEIGHT, r
        hit = phone.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.closest('#pay-submit') !== null",
            [r["x"] + r["width"] / 2, r["y"] + r["height"] / 2],
        )
        assert hit, "something covers the submit button"

    in_view()
    modal.get_by_label("Tip", exact=True).check()
    expect(modal.get_by_label("Tip for")).to_be_visible()
    expect(submit).to_have_text("Log tip")
    in_view()
    # While the fields scroll, top to bottom, the buttons stay.
    phone.locator("#pay-name").focus()
    in_view()
    phone.locator("#pay-note").focus()
    in_view()
    phone.screenshot(path=str(artifact("pay-tip.png")))
    phone.locator("#pay-name").fill("Dee Tipper")
    phone.locator("#pay-amount").fill("20")
    submit.click()
    expect(phone.locator("#pay-done-msg")).to_contain_text("Logged a $20.00 tip")


# --- 5. toasts cover no button and say what is true ---------------------------------

# Buttons and links on screen that a thumb can reach (the toast lets taps through, so
# elementFromPoint finds what lies under it), and that the toast lies over below `barFloor`
# (the bottom of the bar without a toast: what lies under the bar anyway is the bar's).
COVERED = """(barFloor) => { const t = document.querySelector('#toast').getBoundingClientRect();
  const reachable = (el) => { const r = el.getBoundingClientRect();
    const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1), y = r.top + r.height / 2;
    return y >= 0 && y < innerHeight && el.contains(document.elementFromPoint(x, y)); };
  return [...document.querySelectorAll('button, a, summary, input, select')]
    .filter(el => el.checkVisibility() && reachable(el))
    .filter(el => { const r = el.getBoundingClientRect();
      return r.width > 1 && r.left < t.right && r.right > t.left && r.top < t.bottom && r.bottom > t.top
        && Math.min(r.bottom, t.bottom) > barFloor; })
    .map(el => el.textContent.trim() || el.id); }"""


def test_toasts_say_what_is_true_cover_no_button_and_stay_on_their_screen(
    phone: Page, api: Api
) -> None:
    trip = trip_at_the_dock(api)
    log_in(phone, *reversed(CAPTAIN))
    open_trip(phone, trip)
    phone.locator("#dock button.person", has_text="Ana Ruiz").click()
    expect(phone.locator("#dock-counts dd").nth(2)).to_have_text("1")
    phone.locator("#dock-depart").click()
    bar_alone = box(phone.locator("header.bar"))
    phone.locator("#depart-confirm").click()
    toast = phone.locator("#toast")
    expect(toast).to_have_class(re.compile(r"\bshow\b"), timeout=SLOW)
    status = phone.locator("#dock-status").text_content() or ""
    said = toast.text_content() or ""
    assert said.startswith("Departed with 1 person aboard.")
    # The toast and the status agree on the manifest email: queued until it is sent.
    email = re.search(r"Manifest email queued|Manifest emailed ashore|Manifest email failed", said)
    assert email and email.group(0) in status, (said, status)
    # The bar keeps its height with a toast in it, so the toast covers nothing it did not.
    assert box(phone.locator("header.bar"))["height"] <= bar_alone["height"]
    assert phone.evaluate(COVERED, bar_alone["y"] + bar_alone["height"]) == []
    # Scrolled down to the bottom buttons: the toast stays inside the header bar, so it
    # covers nothing the bar does not (a button scrolled half under the bar is the bar's).
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    bar, shown = box(phone.locator("header.bar")), box(toast)
    assert bar["y"] <= shown["y"] and shown["y"] + shown["height"] <= bar["y"] + bar["height"]
    phone.screenshot(path=str(artifact("toast.png")))

    phone.evaluate("window.scrollTo(0, 0)")
    phone.locator("#dock-return").click()
    expect(toast).to_have_text("Return recorded.", timeout=SLOW)
    phone.locator("#detail-view a.back").click()
    phone.locator("#board .day").first.wait_for()
    expect(toast).not_to_have_class(re.compile(r"\bshow\b"))
    expect(toast).to_have_text("")


# --- 6. large type and strong contrast ----------------------------------------------

SMALL_TEXT = """() => { const small = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    if (el.closest('.sr, option, .print-sheet, svg')) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    if (!range.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 16) small.push([n.textContent.trim().slice(0, 40), size]);
  }
  return small; }"""

CONTRAST = """(sel) => {
  const lum = (c) => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
    if (!/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
  return [...document.querySelectorAll(sel)].filter(el => el.checkVisibility()).map(el => {
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    return [el.textContent.trim().slice(0, 30), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
}"""
FIGURES = ":is(.figures, .counts) :is(dt, dd, small), .ledger .amount, .warn, .badge"


def test_no_text_the_crew_read_is_under_16px_and_figures_are_aaa(
    phone: Page, api: Api, dock: dict[str, Any]
) -> None:
    trip = dock
    later = api.create_trip(TEST_DAYS)
    api.log_payment(later["id"], 1500)
    log_in(phone, *reversed(CAPTAIN))
    screens = {"board": None, "trip": later, "dock": trip}
    for screen, which in screens.items():
        if which is not None:
            open_trip(phone, which)
            phone.locator("#dock .passengers, #dock .empty").first.wait_for()
        assert phone.evaluate(SMALL_TEXT) == [], screen
        low = [(t, round(r, 2)) for t, r in phone.evaluate(CONTRAST, FIGURES) if r < 7]
        assert low == [], screen


# --- axe-core on every screen -------------------------------------------------------


def axe(page: Page, screen: str) -> None:
    """Run axe-core on what the page shows; fail with each violation and where."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE.relative_to(ROOT)}: run `make browser`")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    checked, result = page.evaluate(
        """async () => { const r = await axe.run(document, {resultTypes: ['violations']});
          return [r.passes.length, r.violations.map(v => ({id: v.id, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))]; }"""
    )
    page.screenshot(path=str(artifact(re.sub(r"\W+", "-", screen) + ".png")))
    assert checked > 10, f"{screen}: axe checked {checked} rules only"
    assert result == [], f"{screen}: {result}"


def test_the_axe_check_finds_a_violation_when_there_is_one(phone: Page) -> None:
    phone.goto("/")
    phone.locator("#login-view").wait_for(state="visible")
    phone.evaluate(
        "document.querySelector('#login-name').removeAttribute('id')"
    )  # a field without its label
    with pytest.raises(AssertionError, match="label"):
        axe(phone, "login, broken on purpose")


def test_axe_finds_no_violation_on_any_screen(
    phone: Page, api: Api, stack: Stack, dock: dict[str, Any]
) -> None:
    trip = dock
    later = api.create_trip(TEST_DAYS)
    api.log_payment(later["id"], 2500)
    phone.goto("/")
    phone.locator("#login-view").wait_for(state="visible")
    axe(phone, "login")
    log_in(phone, stack.password)
    axe(phone, "board")
    open_menu(phone)
    axe(phone, "board, menu open")
    open_trip(phone, later)
    axe(phone, "trip")
    open_trip(phone, trip)
    phone.locator("#dock button.person").first.wait_for()
    axe(phone, "dock")
    phone.locator("#detail-pay").click()
    expect(phone.locator("#pay-modal")).to_have_class(ACTIVE)
    phone.locator("#pay-modal").get_by_label("Tip", exact=True).check()
    axe(phone, "Log Payment with Tip")
    phone.keyboard.press("Escape")
    phone.goto("/#/crew")
    expect(phone.get_by_role("heading", name="Crew", level=1)).to_be_visible()
    phone.locator("#crew-view li").first.wait_for()
    axe(phone, "crew")
    phone.goto("/#/exports")
    expect(phone.get_by_role("heading", name="Exports", level=1)).to_be_visible()
    axe(phone, "exports")


def artifact(name: str) -> Path:
    """Where a test keeps a screenshot to look at (test-artifacts/ is git-ignored)."""
    folder = ROOT / "test-artifacts" / "phone"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
