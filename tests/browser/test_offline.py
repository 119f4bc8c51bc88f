"""The dispatch page at sea: no signal, lost answers, a discarded tab, a new deploy."""

from __future__ import annotations

import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from scripts import local_edge, sync_spa
from tests.browser.conftest import (
    ROOT,
    Api,
    Stack,
    keep_session,
    kept_session,
    log_in,
    new_page,
    open_menu,
)
from tests.browser.test_dispatch_page import ACTIVE, TEST_DAYS, card_of, fill_payment, open_payment

pytestmark = pytest.mark.browser

SAVED = "Saved on this phone"
LONG = 20_000  # ms: the page retries a few seconds after a lost answer


def eventually(check: Any, seconds: float = LONG / 1000) -> Any:
    """Poll `check()` until it is truthy (the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + seconds
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


def worker_ready(page: Page) -> None:
    """Wait until the service worker controls the page (its files are cached by then)."""
    eventually(lambda: page.evaluate("!!navigator.serviceWorker.controller"))


def show_week(page: Page, trip: dict[str, Any]) -> Any:
    page.goto(f"/#/week/{trip['starts_at'][:10]}")
    card = card_of(page, trip["title"])
    card.wait_for()
    return card


def save_payment_offline(page: Page, card: Any, name: str, amount: str) -> None:
    open_payment(page, card)
    fill_payment(page, name, amount)
    page.locator("#pay-submit").click()
    expect(page.locator("#pay-done-msg")).to_contain_text(SAVED)
    page.locator("#pay-modal").get_by_role("button", name="Done").click()
    expect(page.locator("#pay-modal")).not_to_have_class(ACTIVE)


def test_payments_logged_offline_are_sent_once_when_signal_returns(
    crew_page: Page, api: Api
) -> None:
    trip = api.create_trip(TEST_DAYS, price_cents=48000)
    card = show_week(crew_page, trip)
    worker_ready(crew_page)
    posts: list[str] = []
    crew_page.context.on(
        "request",
        lambda r: (
            posts.append(r.post_data_json["patron_name"])
            if r.method == "POST" and r.url.endswith("/payments")
            else None
        ),
    )

    crew_page.context.set_offline(True)
    for name, amount in (("Ann Lee", "20"), ("Bo Cruz", "30.50"), ("Cy Dunn", "100")):
        save_payment_offline(crew_page, card, name, amount)
    expect(crew_page.locator("#outbox-count")).to_have_text("3 waiting to send")
    expect(card.locator(".saved")).to_have_text("Waiting to send: $150.50 (3)")
    expect(card).to_contain_text("$0.00 of $480.00")  # totals stay the server's

    crew_page.reload()  # still no signal: the page, the board and the queue come back
    card = card_of(crew_page, trip["title"])
    expect(card.locator(".saved")).to_have_text("Waiting to send: $150.50 (3)")
    expect(crew_page.locator("#board-asof")).to_contain_text(re.compile(r"as of \d{1,2}:\d\d"))
    expect(crew_page.locator("#outbox-count")).to_have_text("3 waiting to send")

    crew_page.context.set_offline(False)
    expect(crew_page.locator("#outbox-count")).to_be_hidden(timeout=LONG)
    expect(card.locator(".saved")).to_have_count(0)
    expect(card).to_contain_text("$150.50 of $480.00")
    expect(crew_page.locator("#board-asof")).to_be_hidden()

    detail = api.detail(trip["id"])
    assert sorted(p["patron_name"] for p in detail["payments"]) == ["Ann Lee", "Bo Cruz", "Cy Dunn"]
    assert detail["event"]["paid_cents"] == 15050
    assert detail["event"]["payment_count"] == 3
    # Sent in the order they were logged, once each. (The service worker's Background
    # Sync may send some, out of this page's sight; the server's count above covers it.)
    assert posts == [name for name in ("Ann Lee", "Bo Cruz", "Cy Dunn") if name in posts]


def test_a_saved_payment_for_a_trip_cancelled_meanwhile_ends_as_not_logged(
    crew_page: Page, api: Api
) -> None:
    trip = api.create_trip(TEST_DAYS)
    crew_page.goto(f"/#/e/{trip['id']}")
    expect(crew_page.locator("#detail-title")).to_have_text(trip["title"])
    worker_ready(crew_page)
    crew_page.context.set_offline(True)
    crew_page.get_by_role("button", name="Log Payment").click()
    fill_payment(crew_page, "Dot Fry", "45", "card", "deposit")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text(SAVED)
    crew_page.locator("#pay-modal").get_by_role("button", name="Done").click()
    saved = crew_page.locator("#detail .ledger.saved li")
    expect(saved).to_contain_text("Waiting to send")

    api.ok("POST", f"/api/events/{trip['id']}/cancel", {})
    crew_page.context.set_offline(False)
    expect(saved).to_contain_text("Not logged: this trip is cancelled", timeout=LONG)
    expect(saved).to_contain_text("Dot Fry")
    expect(saved).to_contain_text("$45.00")
    expect(crew_page.locator("#outbox-count")).to_have_text("1 not logged")
    assert api.detail(trip["id"])["payments"] == []

    crew_page.once("dialog", lambda dialog: dialog.accept())
    saved.get_by_role("button", name="Discard").click()
    expect(saved).to_have_count(0)
    expect(crew_page.locator("#outbox-count")).to_be_hidden()


def test_a_refused_payment_can_be_fixed_and_sent(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    crew_page.goto(f"/#/e/{trip['id']}")
    expect(crew_page.locator("#detail-title")).to_have_text(trip["title"])
    worker_ready(crew_page)
    crew_page.context.set_offline(True)
    crew_page.get_by_role("button", name="Log Payment").click()
    too_long = "Gus Hale " + "x" * 130  # the form takes 200 characters, the API 120
    fill_payment(crew_page, too_long, "60", "check", "no. 1041")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text(SAVED)
    crew_page.locator("#pay-modal").get_by_role("button", name="Done").click()
    first_id = crew_page.evaluate(
        "async () => (await (await import('./outbox.js')).saved())[0].payment_id"
    )

    crew_page.context.set_offline(False)
    saved = crew_page.locator("#detail .ledger.saved li")
    expect(saved).to_contain_text("Not logged: patron_name", timeout=LONG)
    assert api.detail(trip["id"])["payments"] == []

    saved.get_by_role("button", name="Fix and send").click()
    modal = crew_page.locator("#pay-modal")
    expect(modal).to_have_class(ACTIVE)
    expect(modal.get_by_label("Patron name")).to_have_value(too_long)
    expect(modal.get_by_label("Amount ($)")).to_have_value("60")
    expect(modal.get_by_label("Method")).to_have_value("check")
    expect(modal.get_by_label("Note")).to_have_value("no. 1041")
    modal.get_by_label("Patron name").fill("Gus Hale")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text("Logged $60.00")
    modal.get_by_role("button", name="Done").click()
    expect(saved).to_have_count(0)
    (payment,) = api.detail(trip["id"])["payments"]
    assert (payment["patron_name"], payment["amount_cents"], payment["note"]) == (
        "Gus Hale",
        6000,
        "no. 1041",
    )
    assert payment["id"] != first_id  # the fix is a new entry with its own id


def test_a_payment_whose_answer_was_lost_counts_once_after_the_replay(
    crew_page: Page, api: Api
) -> None:
    trip = api.create_trip(TEST_DAYS, price_cents=48000)
    attempts: list[str] = []

    def reply_lost_once(route: Any) -> None:
        attempts.append(route.request.post_data_json["payment_id"])
        if len(attempts) == 1:
            route.fetch()  # the server logs it...
            route.abort("connectionreset")  # ...and the phone never hears back
        else:
            route.continue_()

    crew_page.route("**/api/events/*/payments", reply_lost_once)
    card = show_week(crew_page, trip)
    open_payment(crew_page, card)
    fill_payment(crew_page, "Dee Park", "100")
    crew_page.locator("#pay-submit").click()
    expect(crew_page.locator("#pay-done-msg")).to_contain_text(SAVED)
    crew_page.locator("#pay-modal").get_by_role("button", name="Done").click()
    expect(card.locator(".saved")).to_have_text("Waiting to send: $100.00 (1)")

    expect(card.locator(".saved")).to_have_count(0, timeout=LONG)
    expect(card).to_contain_text("$100.00 of $480.00")
    assert len(attempts) == 2
    assert attempts[0] == attempts[1]  # the replay carries the original payment_id
    detail = api.detail(trip["id"])
    assert len(detail["payments"]) == 1
    assert detail["event"]["paid_cents"] == 10000


def test_log_out_with_payments_waiting_asks_and_keeps_them(crew_page: Page, api: Api) -> None:
    trip = api.create_trip(TEST_DAYS)
    card = show_week(crew_page, trip)
    worker_ready(crew_page)
    crew_page.context.set_offline(True)
    save_payment_offline(crew_page, card, "Eli Fox", "12")

    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    crew_page.on("dialog", answer)
    open_menu(crew_page)
    crew_page.get_by_role("button", name="Log out").click()
    expect(crew_page.locator("#board-view")).to_be_visible()  # said no: still logged in
    open_menu(crew_page)
    crew_page.get_by_role("button", name="Log out").click()
    expect(crew_page.locator("#login-view")).to_be_visible()
    assert "1 payment saved by API is waiting on this phone" in asked[0]
    saved = crew_page.evaluate(
        "async () => (await (await import('./outbox.js')).saved()).map((p) => p.body.patron_name)"
    )
    assert saved == ["Eli Fox"]
    crew_page.context.set_offline(False)
    # The next login of the one who saved it sends it.
    keep_session(crew_page, api.token, api.expires_at, api.account)
    crew_page.goto("/#/")
    crew_page.reload()
    sent = eventually(lambda: api.detail(trip["id"])["payments"])
    assert [p["patron_name"] for p in sent] == ["Eli Fox"]
    expect(crew_page.locator("#outbox-count")).to_be_hidden()


def crew_login(api: Api, display_name: str) -> dict[str, Any]:
    """A new crew account, set up through its link: {token, expires_at, account}."""
    username = f"deck{uuid.uuid4().hex[:8]}"
    made = api.ok(
        "POST",
        "/api/accounts",
        {"username": username, "display_name": display_name, "role": "crew"},
    )
    code = made["setup_url"].rsplit("/#/setup/", 1)[1]
    return api.ok("POST", "/api/accounts/setup", {"code": code, "password": "a-long-deck-pass"})


def test_a_payment_saved_offline_is_logged_only_by_the_one_who_took_it(
    crew_page: Page, api: Api
) -> None:
    """Issue 21 item 9: Dan takes $250 offline and logs out; Eve's login does not send it."""
    dan, eve = crew_login(api, "Dan Diaz"), crew_login(api, "Eve Ng")
    trip = api.create_trip(TEST_DAYS)
    keep_session(crew_page, dan["token"], dan["expires_at"], dan["account"])
    card = show_week(crew_page, trip)
    worker_ready(crew_page)
    crew_page.context.set_offline(True)
    save_payment_offline(crew_page, card, "Fay Gold", "250")
    asked: list[str] = []
    crew_page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    open_menu(crew_page)
    crew_page.get_by_role("button", name="Log out").click()
    expect(crew_page.locator("#login-view")).to_be_visible()
    assert "1 payment saved by Dan Diaz is waiting on this phone" in asked[0]

    crew_page.context.set_offline(False)
    keep_session(crew_page, eve["token"], eve["expires_at"], eve["account"])
    crew_page.goto("/#/")
    crew_page.reload()
    show_week(crew_page, trip)
    crew_page.evaluate("async () => (await import('./outbox.js')).flush()")
    time.sleep(2)  # the worker's Background Sync may try too: it must not send it either
    assert api.detail(trip["id"])["payments"] == []
    saved = crew_page.evaluate(
        "async () => (await (await import('./outbox.js')).saved()).map((p) => p.body.patron_name)"
    )
    assert saved == ["Fay Gold"]

    keep_session(crew_page, dan["token"], dan["expires_at"], dan["account"])
    crew_page.reload()
    sent = eventually(lambda: api.detail(trip["id"])["payments"])
    assert [(p["patron_name"], p["logged_by"]) for p in sent] == [("Fay Gold", "Dan Diaz")]


def cached_keys(page: Page) -> list[str]:
    """The keys the page keeps in IndexedDB (its one store)."""
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
          const req = indexedDB.open("scc", 1);
          req.onsuccess = () => {
            const keys = req.result.transaction("kv").objectStore("kv").getAllKeys();
            keys.onsuccess = () => resolve(keys.result.map(String));
            keys.onerror = () => reject(keys.error);
          };
          req.onerror = () => reject(req.error);
        })"""
    )


def test_log_out_forgets_every_cached_board_and_trip_but_keeps_waiting_payments(
    crew_page: Page, api: Api
) -> None:
    """Issue 21 item 13: guests' and minors' names do not outlive the login."""
    trip = api.create_trip(TEST_DAYS)
    api.ok(
        "POST",
        f"/g/{trip['id']}/waiver",
        {
            "full_name": "Gina Hale",
            "email": "gina@example.com",
            "phone": "+1 415 555 0100",
            "date_of_birth": "1984-02-03",
            "emergency_name": "Hal Hale",
            "emergency_phone": "+1 415 555 0101",
            "signature": "Gina Hale",
            "agree": True,
            "minors": [{"name": "Tiny Hale", "date_of_birth": "2018-05-01"}],
        },
    )
    card = show_week(crew_page, trip)
    worker_ready(crew_page)
    crew_page.goto(f"/#/e/{trip['id']}")
    expect(crew_page.locator("#detail")).to_contain_text("Tiny Hale")
    keys = eventually(
        lambda: (k := cached_keys(crew_page)) and any(x.startswith("trip:") for x in k) and k
    )
    assert any(k.startswith("board:") for k in keys)
    crew_page.goto(f"/#/week/{trip['starts_at'][:10]}")
    card = card_of(crew_page, trip["title"])
    crew_page.context.set_offline(True)
    save_payment_offline(crew_page, card, "Ivy Moss", "15")
    crew_page.once("dialog", lambda dialog: dialog.accept())
    open_menu(crew_page)
    crew_page.get_by_role("button", name="Log out").click()
    expect(crew_page.locator("#login-view")).to_be_visible()
    left = cached_keys(crew_page)
    assert not [k for k in left if k.startswith(("board:", "trip:", "manifest:"))], left
    assert [k for k in left if k.startswith("out:")], left  # the payment still waits
    crew_page.context.set_offline(False)


def test_the_login_survives_closing_the_page(browser: Any, stack: Stack) -> None:
    first = new_page(browser, stack)
    try:
        log_in(first, stack.password)
        context = first.context
        first.close()  # the phone discards the tab
        again = context.new_page()
        again.goto("/")
        again.locator("#board .day").first.wait_for()
        expect(again.locator("#login-view")).to_be_hidden()
        assert kept_session(again)["token"]
    finally:
        first.context.close()


def test_the_board_is_asked_for_after_at_most_four_requests_on_an_empty_cache(
    browser: Any, stack: Stack, api: Api
) -> None:
    context = browser.new_context(base_url=stack.base_url, service_workers="block")
    try:
        page = context.new_page()
        page.goto("/#/")
        keep_session(page, api.token, api.expires_at)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.clearBrowserCache")
        seen: list[str] = []
        page.on("request", lambda r: seen.append(urlparse(r.url).path))
        page.reload()
        page.locator("article.card").first.wait_for()
        page.wait_for_load_state("networkidle")
        assert seen[0] == "/"
        before = seen[: seen.index("/api/events")]
        assert len(before) <= 4, before
        # One board request per load is test_board_makes_one_api_request_per_load's to
        # prove; in full runs this cold load has twice been seen to report the board's
        # request twice (before any module ran), so it is not asserted here.
    finally:
        context.close()


@pytest.fixture
def second_site(stack: Stack, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A copy of spa/ behind its own edge (another origin), so a test can deploy to it."""
    site = tmp_path / "spa"
    shutil.copytree(ROOT / "spa", site)
    edge = local_edge.EdgeServer(
        local_edge.Edge(urlparse(stack.base_url).port, site, emails=list), port=0
    )
    edge.start()
    try:
        yield edge.url.rstrip("/"), site
    finally:
        edge.stop()


def deploy(site: Path, old: str, new: str) -> None:
    """Change the page's text and stamp it, as a release would."""
    page = site / "index.html"
    page.write_text(page.read_text().replace(old, new))
    for rel, text in sync_spa.stamped(site).items():
        (site / rel).write_text(text)


def test_a_new_version_of_the_page_takes_over_on_the_next_load(
    browser: Any, api: Api, second_site: tuple[str, Path]
) -> None:
    url, site = second_site
    # A trip of its own: the board's other trips are whatever earlier tests left.
    trip = api.create_trip(TEST_DAYS)
    context = browser.new_context(base_url=url)
    try:
        page = context.new_page()
        page.goto("/")
        page.locator("#login-view").wait_for(state="visible")
        keep_session(page, api.token, api.expires_at, getattr(api, "account", None))
        # A load, not a change of hash: the page reads the saved login as it starts.
        page.reload()
        worker_ready(page)
        brand = page.locator(".brand")
        expect(brand).to_have_text("Ship Captain Crew")
        card = show_week(page, trip)
        # A payment is being typed when the release lands: nothing reloads under it.
        open_payment(page, card)
        page.locator("#pay-name").fill("Half typed")

        (old_cache,) = page.evaluate("caches.keys()")
        deploy(site, "Ship Captain Crew</span>", "Ship Captain Crew · new</span>")
        page.evaluate("navigator.serviceWorker.ready.then((r) => r.update())")
        # The new version is installed and active once the old cache is gone.
        eventually(lambda: len(keys := page.evaluate("caches.keys()")) == 1 and keys != [old_cache])
        expect(page.locator("#pay-name")).to_have_value("Half typed")
        expect(brand).to_have_text("Ship Captain Crew")

        page.reload()
        expect(page.locator(".brand")).to_have_text("Ship Captain Crew · new")
    finally:
        context.close()


@pytest.mark.parametrize("status", [400, 408, 429])
def test_a_waiting_payment_refused_with_a_4xx_is_never_retried(
    crew_page: Page, api: Api, status: int
) -> None:
    """Issue 21: a 4xx is the same answer next time. The payment stays on the phone as
    "Not logged" for the crew to fix or discard, and is not sent again."""
    trip = api.create_trip(TEST_DAYS)
    crew_page.goto(f"/#/e/{trip['id']}")
    expect(crew_page.locator("#detail-title")).to_have_text(trip["title"])
    tries: list[str] = []

    def refuse(route: Any) -> None:
        tries.append(route.request.method)
        route.fulfill(status=status, json={"code": "x", "message": f"refused ({status})"})

    crew_page.route("**/api/events/*/payments", refuse)
    crew_page.evaluate(
        """async ([eventId, trip]) => {
          const outbox = await import('./outbox.js');
          const body = {payment_id: crypto.randomUUID(), patron_name: 'Ana', amount_cents: 500,
                        method: 'cash'};
          await outbox.keep(eventId, body, trip);
          await outbox.flush();
          await outbox.flush();
        }""",
        [trip["id"], trip],
    )
    expect(crew_page.locator("#detail .ledger.saved li")).to_contain_text(
        f"Not logged: refused ({status})"
    )
    assert tries == ["POST"]


def test_a_refusal_of_a_replaced_token_does_not_log_out_the_new_session(
    crew_page: Page,
) -> None:
    """A new password gives a new token and ends the old one: a request still on its way
    with the old token (the board's prefetch of today's manifests) is refused, and that
    refusal must not log out the session that replaced it."""
    crew_page.goto("/#/")
    expect(crew_page.locator("#board-view")).to_be_visible()
    status, kept = crew_page.evaluate(
        """async () => {
          const m = await import('./api.js');
          const real = m.session();
          m.saveSession('a.replaced.token', real.expires_at, real.account);
          const realFetch = window.fetch;
          let sent;
          const started = new Promise((resolve) => (sent = resolve));
          window.fetch = (...args) => { sent(); return realFetch(...args); };
          const answer = m.apiFetch('/api/me').then(() => 200, (e) => e.status);
          await started;
          window.fetch = realFetch;
          m.saveSession(real.token, real.expires_at, real.account);
          return [await answer, m.session()?.token === real.token];
        }"""
    )
    assert status == 401
    assert kept
    expect(crew_page.locator("#login-view")).to_be_hidden()
    expect(crew_page.locator("#board-view")).to_be_visible()
