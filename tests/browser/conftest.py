"""Browser-test fixtures: the local stack in a subprocess and Chromium through Playwright.

The stack is `scripts/dev_stack.py` on free loopback ports with a throw-away data
directory, started once per session. Set SCC_BASE_URL (and SCC_PASSWORD) to drive
a stack that is already running instead, e.g. one from `make run`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-test-crew-password"
STARTUP_SECONDS = 90
STACK_OWNS = ("STAGE", "TABLE_NAME", "ADMIN_PASS_HASH", "TOKEN_SIGNING_KEY")
# The phone's clock sits in a zone far from the operator's, so a board that used the
# device's date instead of the operator's would show the wrong days.
PHONE_ZONE = "Pacific/Kiritimati"


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (`make browser` installs it)")


def operator_zone() -> ZoneInfo:
    """The operator's zone as the app reads it (OPERATOR_TZ in .chalice/config.json)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    name = config["stages"]["local"].get("environment_variables", {}).get("OPERATOR_TZ")
    return ZoneInfo(name or config["environment_variables"].get("OPERATOR_TZ", "UTC"))


def operator_today() -> date:
    return datetime.now(operator_zone()).date()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Api:
    """A crew client of the stack's API, for arranging and checking what the page shows."""

    base_url: str
    password: str
    token: str = ""
    expires_at: str = ""
    account: Any = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw.decode(errors="replace")

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        assert 200 <= status < 300, f"{method} {path} -> {status} {answer}"
        return answer

    def login(self) -> None:
        answer = self.ok("POST", "/api/login", {"password": self.password, "name": "API"})
        self.token, self.expires_at = answer["token"], answer["expires_at"]
        self.account = answer["account"]

    def create_trip(self, days_ahead: int = 1, **fields: Any) -> dict[str, Any]:
        """A trip of our own (unique title) `days_ahead` days from the operator's today."""
        day = operator_today() + timedelta(days=days_ahead)
        body = {
            "title": f"Test trip {uuid.uuid4().hex[:8]}",
            "starts_at": f"{day.isoformat()}T10:00:00",
            "ends_at": f"{day.isoformat()}T13:00:00",
            "boat": "Test Boat",
            "capacity": 12,
            "price_cents": 48000,
            "captain": "Maria",
            "crew": ["Sam", "Lee"],
            **fields,
        }
        return self.ok("POST", "/api/events", body)["event"]

    def detail(self, event_id: str) -> dict[str, Any]:
        return self.ok("GET", f"/api/events/{event_id}")

    # --- accounts and money (issue 15) ---

    def account_id(self, username: str) -> str:
        """The id of the account with this username (the demo `sam`, say)."""
        accounts = self.ok("GET", "/api/accounts")["accounts"]
        return next(a["id"] for a in accounts if a["username"] == username)

    def new_crew_account(self, display_name: str) -> str:
        """A fresh crew account (its setup link unused), for a trip's crew_ids; its id."""
        username = f"deck{uuid.uuid4().hex[:8]}"
        body = {"username": username, "display_name": display_name, "role": "crew"}
        return self.ok("POST", "/api/accounts", body)["account"]["id"]

    def log_payment(self, event_id: str, amount_cents: int, **fields: Any) -> dict[str, Any]:
        """A payment (a fare unless `kind="tip"`); answers {payment, event}."""
        body = {
            "payment_id": str(uuid.uuid4()),
            "patron_name": "Test Patron",
            "amount_cents": amount_cents,
            "method": "cash",
            **fields,
        }
        return self.ok("POST", f"/api/events/{event_id}/payments", body)

    def log_refund(self, event_id: str, amount_cents: int, **fields: Any) -> dict[str, Any]:
        """A refund (captain or owner); answers {refund, event}."""
        body = {
            "refund_id": str(uuid.uuid4()),
            "amount_cents": amount_cents,
            "method": "cash",
            "reason": "Test refund",
            **fields,
        }
        return self.ok("POST", f"/api/events/{event_id}/refunds", body)

    def tips(self, first: date, last: date) -> dict[str, Any]:
        return self.ok("GET", f"/api/tips?from={first}&to={last}")

    def cashup(self, day: date) -> dict[str, Any]:
        return self.ok("GET", f"/api/cashup?date={day}")


@dataclass
class Stack:
    base_url: str
    password: str


def _wait_healthy(url: str, proc: subprocess.Popen | None, log: Path | None) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log else ""
            pytest.fail(f"the local stack exited early ({proc.returncode}):\n{tail}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url + "/api/health", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    tail = log.read_text()[-3000:] if log else ""
    pytest.fail(f"the local stack was not healthy within {STARTUP_SECONDS}s:\n{tail}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the stack and everything it started (its own process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


_stack_log: Path | None = None  # for the failure report of tests that don't ask for `stack`


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole site (edge, app, emulator, demo data) on a free port, for this session."""
    require_chromium()
    external = os.environ.get("SCC_BASE_URL")
    if external:
        url = external.rstrip("/")
        _wait_healthy(url, None, None)
        yield Stack(url, os.environ.get("SCC_PASSWORD", PASSWORD))
        return
    script = ROOT / "scripts" / "dev_stack.py"
    if not script.exists():
        pytest.fail(
            "scripts/dev_stack.py is missing: the browser tests run against the local stack"
        )
    data_dir = tmp_path_factory.mktemp("local-data")
    log = data_dir / "stack.log"
    port = _free_port()
    # Settings the unit tests' fixtures may have put in this process's environment
    # belong to moto-in-process, not to the stack: the stack chooses its own.
    inherited = {
        k: val
        for k, val in os.environ.items()
        if not k.startswith("AWS_ENDPOINT_URL") and k not in STACK_OWNS
    }
    env = {
        **inherited,
        "PORT": str(port),
        "EMULATOR_PORT": str(_free_port()),
        "LOCAL_DATA_DIR": str(data_dir),
        "LOCAL_ADMIN_PASSWORD": PASSWORD,
        "PYTHONUNBUFFERED": "1",
        # Every browser test signs its waivers from 127.0.0.1: the suite signs more in
        # ten minutes than one source may (the limit itself is tested through the API).
        "WAIVER_SIGN_LIMIT": "1000",
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so _stop reaches its children
        )
    url = f"http://127.0.0.1:{port}"
    global _stack_log
    _stack_log = log
    try:
        _wait_healthy(url, proc, log)
        yield Stack(url, PASSWORD)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def api(stack: Stack) -> Api:
    client = Api(stack.base_url, stack.password)
    client.login()
    return client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser: Any, stack: Stack, width: int = 390, height: int = 844) -> Any:
    context = browser.new_context(
        base_url=stack.base_url,
        viewport={"width": width, "height": height},
        locale="en-US",
        timezone_id=PHONE_ZONE,
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    """A fresh phone-sized tab (no session) on the dispatch page."""
    tab = new_page(browser, stack)
    yield tab
    tab.context.close()


@pytest.fixture
def crew_page(page: Any, api: Api) -> Any:
    """The dispatch page with a crew session already in place (no board loaded yet).

    The login form itself is tested on its own; here the session the login form
    would keep is saved on the phone directly, which saves a bcrypt check per test.
    """
    page.goto("/")
    page.locator("#login-view").wait_for(state="visible")
    keep_session(page, api.token, api.expires_at, getattr(api, "account", None))
    return page


def keep_session(page: Any, token: str, expires_at: str, account: Any = None) -> None:
    """Save a login on the phone (IndexedDB) as the login form does."""
    page.evaluate(
        "async ([token, expires, account]) =>"
        " (await import('./api.js')).saveSession(token, expires, account)",
        [token, expires_at, account],
    )


def kept_session(page: Any) -> Any:
    """The login saved on the phone, or None."""
    return page.evaluate(
        "async () => (await (await import('./api.js')).phone.get('session')) ?? null"
    )


def show_board(page: Any) -> None:
    """The board from today, loaded."""
    page.goto("/#/")
    page.locator("#board .day").first.wait_for()


# The demo logins `make run` seeds beside the owner (scripts/seed.py).
CAPTAIN = ("maria", "captain-local-pass")
DECKHAND = ("sam", "crew-local-pass")


# The first login of a session pays bcrypt at the real cost while Chromium, the
# emulator and the app start their first pages: more than a click's usual wait.
LOGIN_WAIT_MS = 30_000


def log_in(page: Any, password: str, username: str = "") -> None:
    """Log in through the form (no username: the owner's break-glass password).

    Fails with what the form said when the login was refused, instead of waiting
    out the timeout for a board that will not come.
    """
    page.goto("/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_function(
        "() => !document.querySelector('#board-view').hidden"
        " || !document.querySelector('#login-form .error').hidden",
        timeout=LOGIN_WAIT_MS,
    )
    refused = page.locator("#login-form .error")
    assert refused.is_hidden(), f"the login was refused: {refused.text_content()}"
    page.locator("#board .day").first.wait_for()


def open_menu(page: Any) -> None:
    """Open the header's menu (Crew, Exports, My account, Log out)."""
    menu = page.locator("#menu")
    if menu.get_attribute("open") is None:
        page.locator("#menu-button").click()
    page.locator("#menu nav").wait_for()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failed browser test, report what the page showed and the stack's last lines."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed or call.when == "teardown":
        return
    funcargs = getattr(item, "funcargs", {})
    tab = funcargs.get("page") or funcargs.get("crew_page")
    if tab is not None:
        with contextlib.suppress(Exception):
            state = tab.evaluate(
                "() => ({url: location.href,"
                " views: [...document.querySelectorAll('.view')].filter((v) => !v.hidden)"
                ".map((v) => v.id),"
                " errors: [...document.querySelectorAll('.error')].filter((e) => !e.hidden)"
                ".map((e) => e.textContent),"
                " worker: navigator.serviceWorker?.controller?.state ?? null})"
            )
            report.sections.append(("page at failure", json.dumps(state, indent=2)))
    if _stack_log is not None and _stack_log.exists():
        tail = _stack_log.read_text(errors="replace").splitlines()[-60:]
        report.sections.append(("local stack log (last 60 lines)", "\n".join(tail)))
