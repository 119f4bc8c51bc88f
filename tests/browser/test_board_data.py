"""The board's data on a bad line (issue 23): a week's link is asked for by the page's
first script like today's board, once, as the board's compact cards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Api, Stack, keep_session, operator_today
from tests.browser.test_dispatch_page import TEST_DAYS, card_of

pytestmark = pytest.mark.browser


def test_a_weeks_link_is_asked_for_by_the_first_script_once(
    browser: Any, stack: Stack, api: Api
) -> None:
    trip = api.create_trip(TEST_DAYS, price_cents=30000)
    api.log_payment(trip["id"], 30000)
    first = (operator_today() + timedelta(days=TEST_DAYS - 2)).isoformat()
    context = browser.new_context(base_url=stack.base_url, service_workers="block")
    try:
        page = context.new_page()
        page.goto(f"/#/week/{first}")
        keep_session(page, api.token, api.expires_at)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.clearBrowserCache")
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url))
        page.reload()
        card = card_of(page, trip["title"])
        card.wait_for()
        page.wait_for_load_state("networkidle")
        paths = [urlparse(u).path for u in seen]
        boards = [u for u in seen if urlparse(u).path == "/api/events"]
        assert len(boards) == 1, boards
        query = parse_qs(urlparse(boards[0]).query)
        to = (operator_today() + timedelta(days=TEST_DAYS + 4)).isoformat()
        assert query == {"view": ["board"], "from": [first], "to": [to]}
        # Asked for before the page's modules: by index.html's first script.
        assert paths.index("/api/events") < paths.index("/app.js"), paths
        # The compact card draws as the whole event did.
        expect(card).to_contain_text("$300.00 of $300.00")
        expect(card).to_contain_text("Paid in full")
        expect(card.locator(".meta")).to_contain_text("Crew: Sam, Lee")
    finally:
        context.close()
