"""6. The dispatch page on a bad line: Chromium on emulated networks, against the local stack.

    python -m bench.page [--rounds N]        (make bench-page)  -> build/bench/page.json
    python -m bench --only page                                  (the same, in the main table)

The local stack (scripts/dev_stack.py) runs on free ports; its edge serves spa/ with
CloudFront's headers and gzip. Each load is timed in the page, from navigation start
to the first trip card in the DOM (a MutationObserver added before any page script).
The page of the commit before issue 13 (`--baseline`) is served by a second edge on
the same stack, and the two pages load in alternating order, so they are measured side
by side. The floor is one round trip for the HTML and one for the board data, plus
their bytes at the line's throughput: no page can show the board sooner.
Networks are emulated by Chromium (CDP Network.emulateNetworkConditions): latency per
request and a throughput cap, as DevTools' presets do.
The week on show is a busy one (issue 23): trips are added through the API until the
seven days from today hold WEEK_TRIPS, with crew, waivers and payments on some. Two board
routes are loaded cold, today's (`#/`) and a week's link (`#/week/<today>`), and the
board's answer is measured in bytes per trip, gzipped as the edge sends it, beside the
whole events the board used to get.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from bench import common, footprint

WEEK_TRIPS = 50

CHROMIUM = Path("/usr/bin/chromium")
# name: (round trip ms, kbit/s). Slow 3G as the issue states it; a weak 2G-like line.
NETWORKS = {"slow 3G": (400, 400), "2G": (800, 150)}
BASELINE = "50a3684"  # the page before issue 13 (module waterfall, no service worker)
PASSWORD = "bench-page-password"  # noqa: S105 (the throw-away local stack's)
OUTPUT = common.ROOT / "build" / "bench" / "page.json"
# Page weight (design): the board's path gzipped, html + css + the board's static imports.
GOALS = {"cold_ms": 1500, "cold_requests": 4, "warm_ms": 300, "weight_gzip_bytes": 20_000}
# Set before any page script runs: when the first trip card appears (both pages draw cards).
BOARD_SEEN = """
new MutationObserver((_, seen) => {
  if (document.querySelector("article.card")) { window.boardSeenAt = performance.now(); seen.disconnect(); }
}).observe(document, { childList: true, subtree: true });
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_stack(data_dir: Path) -> Iterator[str]:
    """The whole site on free ports, stopped with its process group afterwards."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")},
        "PORT": str(port),
        "EMULATOR_PORT": str(_free_port()),
        "LOCAL_DATA_DIR": str(data_dir),
        "LOCAL_ADMIN_PASSWORD": PASSWORD,
    }
    log = (data_dir / "stack.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(common.ROOT / "scripts" / "dev_stack.py")],
        cwd=common.ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not start; see {data_dir / 'stack.log'}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url + "/api/health", timeout=2) as answer,
            ):
                if answer.status == 200:
                    break
            time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        log.close()


@contextlib.contextmanager
def baseline_site(stack_url: str, scratch: Path) -> Iterator[str | None]:
    """The page as it was at BASELINE, behind its own edge on the same API; None without git."""
    from scripts import local_edge

    site = scratch / "baseline"
    archive = scratch / "baseline.tar"
    done = subprocess.run(
        ["git", "archive", "-o", str(archive), BASELINE, "spa"],
        cwd=common.ROOT,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        yield None
        return
    with tarfile.open(archive) as tar:
        tar.extractall(scratch, filter="data")
    shutil.move(scratch / "spa", site)
    edge = local_edge.EdgeServer(
        local_edge.Edge(urlparse(stack_url).port, site, emails=list), port=0
    )
    edge.start()
    try:
        yield edge.url.rstrip("/")
    finally:
        edge.stop()


def _login(url: str) -> dict[str, str]:
    request = urllib.request.Request(
        url + "/api/login",
        data=json.dumps({"password": PASSWORD, "name": "Bench"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _throttle(cdp: Any, rtt: int, kbps: int) -> None:
    """Emulate a line; 0 kbit/s means no cap."""
    rate = kbps * 1000 / 8 if kbps else -1
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": rtt, "downloadThroughput": rate, "uploadThroughput": rate},
    )


def _keep_login(page: Any, session: dict[str, str], old_page: bool) -> None:
    if old_page:  # the baseline kept its login in sessionStorage
        page.evaluate(
            "([t, e]) => sessionStorage.setItem('scc.session', JSON.stringify({token: t, expires_at: e}))",
            [session["token"], session["expires_at"]],
        )
    else:
        page.evaluate(
            "async ([t, e]) => (await import('./api.js')).saveSession(t, e)",
            [session["token"], session["expires_at"]],
        )


def cold_load(
    browser: Any, url: str, session: dict, net: tuple[int, int], old: bool, route: str = "/#/"
) -> dict:
    """Empty cache, no service worker: one load of the board on the emulated line."""
    context = browser.new_context(base_url=url, service_workers="block")
    try:
        page = context.new_page()
        page.goto(route)  # the login screen: nothing of the board is kept yet
        _keep_login(page, session, old)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.clearBrowserCache")
        _throttle(cdp, *net)
        page.add_init_script(BOARD_SEEN)
        order: list[str] = []
        sizes: dict[str, int] = {}
        page.on("request", lambda r: order.append(urlparse(r.url).path))
        waits: list[float] = []

        def finished(r: Any) -> None:
            sizes[urlparse(r.url).path] = r.sizes()["responseBodySize"]
            if urlparse(r.url).path == "/api/events":
                timing = r.timing  # ms from the request's start: its wait for a first byte
                waits.append(timing["responseStart"] - max(timing["requestStart"], 0))

        page.on("requestfinished", finished)
        page.reload()
        page.locator("article.card").first.wait_for(timeout=60_000)
        ms = page.evaluate("window.boardSeenAt")
        page.wait_for_load_state("networkidle")
        board = next(p for p in order if p.startswith("/api/events"))
        # In the order the page issued them (resource timing), not as events arrived here.
        starts = page.evaluate(
            "performance.getEntriesByType('resource').map((r) => [new URL(r.name).pathname, r.startTime])"
        )
        board_start = min(t for path, t in starts if path.startswith("/api/events"))
        return {
            "ms": ms,
            "requests_before_board": 1 + sum(1 for _, t in starts if t < board_start),
            "requests": len(order),
            "html_bytes": sizes.get("/", 0),
            "board_bytes": sizes.get(board, 0),
            "trips": page.locator("article.card").count(),
            # The board's answer's wait less the line's round trip: the local API's own time.
            "server_ms": max(0.0, (waits[0] if waits else 0.0) - net[0]),
        }
    finally:
        context.close()


def warm_loads(browser: Any, url: str, session: dict, rounds: int) -> dict[str, list[float]]:
    """Service worker installed and the board kept on the phone: reloads on each line."""
    context = browser.new_context(base_url=url)
    times: dict[str, list[float]] = {name: [] for name in [*NETWORKS, "offline"]}
    try:
        page = context.new_page()
        page.goto("/#/")
        _keep_login(page, session, old_page=False)
        page.add_init_script(BOARD_SEEN)
        page.reload()
        page.locator("article.card").first.wait_for()
        deadline = time.monotonic() + 30
        while not page.evaluate("!!navigator.serviceWorker.controller"):
            if time.monotonic() > deadline:
                raise RuntimeError("the service worker never took control")
            time.sleep(0.1)
        cdp = context.new_cdp_session(page)
        for _ in range(rounds):
            for name in times:
                if name == "offline":
                    context.set_offline(True)
                else:
                    _throttle(cdp, *NETWORKS[name])
                page.reload()
                page.locator("article.card").first.wait_for()
                times[name].append(page.evaluate("window.boardSeenAt"))
                context.set_offline(False)
                _throttle(cdp, 0, 0)
                page.wait_for_load_state("networkidle")
    finally:
        context.close()
    return times


def _call(url: str, path: str, token: str, body: Any = None, gzipped: bool = False) -> Any:
    request = urllib.request.Request(
        url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    if gzipped:
        request.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(request, timeout=30) as answer:
        raw = answer.read()
        return len(raw) if gzipped else json.loads(raw or b"null")


def _operator_zone() -> ZoneInfo:
    """The operator's zone as the local stack reads it (.chalice/config.json)."""
    config = json.loads((common.ROOT / ".chalice" / "config.json").read_text())
    name = config["stages"]["local"].get("environment_variables", {}).get("OPERATOR_TZ")
    return ZoneInfo(name or config.get("environment_variables", {}).get("OPERATOR_TZ", "UTC"))


# A busy week's trips, varied as a real one is (the bytes per trip depend on it: gzip
# makes short work of fifty copies of one trip).
KINDS = [
    ("Half-day fishing: rockfish & lingcod", "Miss Kelp", 5.5, 168_000),
    ("Whale watching", "Sea Wren", 2.5, 210_000),
    ("Sunset cruise", "Sea Wren", 2, 145_000),
    ("Private charter: harbor & seal rocks", "Lady Grace", 3, 120_000),
    ("Full-day tuna run", "Miss Kelp", 12, 320_000),
]
PARTIES = ["Nguyen", "Ramirez", "Okafor", "Bayview Middle School", "Harbor Rotary Club",
           "Lindqvist", "Harborline Ltd.", "Castellanos", "O'Brien", "Tanaka"]  # fmt: skip
CAPTAINS = ["Maria Alvarez", "Dale Okafor", "Tom Brennan"]
CREWS = [["Jonah Pike", "Lena Ortiz"], ["Rosa Jimenez"], ["Sam Whitaker", "Jonah Pike"]]
NOTES = [
    "Cake arrives 30 min before departure at slip B7. Two guests vegetarian.",
    "Six anglers; four need one-day licenses. Bait and tackle provided.",
    "Grandmother uses a cane: board at the low dock.",
    "",
    "Invoice to the office; picnic lunch on board.",
]


def busy_week(url: str, token: str, trips: int = WEEK_TRIPS) -> str:
    """Add trips until the seven days from today hold `trips`; answers today's date."""
    week = _call(url, "/api/events", token)["events"]  # the API's default: today + 6 days
    today = datetime.now(_operator_zone()).date()
    for i in range(trips - len(week)):
        day = today + timedelta(days=i % 7)
        title, boat, hours, price = KINDS[i % len(KINDS)]
        party = PARTIES[(i * 3) % len(PARTIES)]
        start = 6 * 60 + (i * 47) % (11 * 60)
        starts = datetime.combine(day, datetime.min.time()) + timedelta(minutes=start)
        trip = _call(
            url,
            "/api/events",
            token,
            {
                "title": f"{title}: {party}",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=hours)).isoformat(),
                "boat": boat,
                "capacity": 6 + (i * 7) % 30,
                "price_cents": price + (i % 4) * 2_500,
                "captain": CAPTAINS[i % len(CAPTAINS)],
                "crew": CREWS[i % len(CREWS)],
                "notes": NOTES[i % len(NOTES)],
            },
        )["event"]
        for n in range(i % 3):
            _call(
                url,
                f"/api/events/{trip['id']}/payments",
                token,
                {"patron_name": f"{party} party {n + 1}", "amount_cents": 20_000 + 1_250 * n,
                 "method": ["card", "cash", "venmo"][n]},
            )  # fmt: skip
    return str(today)


def board_bytes(url: str, token: str, today: str) -> dict[str, Any]:
    """The board's answer per trip, gzipped as the edge sends it, beside whole events,
    and how long the API takes to answer each (median of 5, the local stack's)."""
    to = date.fromisoformat(today) + timedelta(days=6)
    window = f"from={today}&to={to}"
    trips = len(_call(url, f"/api/events?{window}", token)["events"])
    whole = _call(url, f"/api/events?{window}", token, gzipped=True)
    card = _call(url, f"/api/events?view=board&{window}", token, gzipped=True)

    def answer_ms(path: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            _call(url, path, token, gzipped=True)
            times.append((time.perf_counter() - started) * 1000)
        return round(statistics.median(times), 1)

    return {
        "trips": trips,
        "board_gzip_bytes": card,
        "board_bytes_per_trip": round(card / trips, 1),
        "whole_events_gzip_bytes": whole,
        "whole_events_bytes_per_trip": round(whole / trips, 1),
        "board_answer_ms": answer_ms(f"/api/events?view=board&{window}"),
        "whole_events_answer_ms": answer_ms(f"/api/events?{window}"),
    }


def run(rounds: int = 5) -> dict[str, Any]:
    if not CHROMIUM.exists():
        return {"skipped": f"Chromium is not installed at {CHROMIUM} (`make browser`)"}
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"rounds": rounds, "networks": {}, "goals": GOALS}
    with tempfile.TemporaryDirectory(prefix="scc-bench-page-") as scratch_dir:
        scratch = Path(scratch_dir)
        (scratch / "data").mkdir()
        with local_stack(scratch / "data") as url, baseline_site(url, scratch) as old_url:
            session = _login(url)
            common.progress(f"6. page: a busy week ({WEEK_TRIPS} trips)")
            today = busy_week(url, session["token"])
            out["board"] = board_bytes(url, session["token"], today)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
                )
                try:
                    for name, net in NETWORKS.items():
                        common.progress(f"6. page: cold loads on {name}")
                        pages = {"new": url, "baseline": old_url} if old_url else {"new": url}
                        loads: dict[str, list[dict]] = {k: [] for k in pages}
                        loads["week_link"] = []
                        for i in range(rounds):
                            order = list(pages) if i % 2 == 0 else list(reversed(pages))
                            for which in order:
                                loads[which].append(
                                    cold_load(browser, pages[which], session, net, which != "new")
                                )
                            loads["week_link"].append(
                                cold_load(browser, url, session, net, False, f"/#/week/{today}")
                            )
                        out["networks"][name] = {
                            "rtt_ms": net[0],
                            "kbps": net[1],
                            **{which: _summary(runs, net) for which, runs in loads.items()},
                        }
                    common.progress("6. page: warm loads (service worker)")
                    warm = warm_loads(browser, url, session, rounds)
                    out["warm_ms"] = {k: round(statistics.median(v), 1) for k, v in warm.items()}
                finally:
                    browser.close()
    out["weight"] = footprint.page_bytes()
    return out


def _summary(runs: list[dict], net: tuple[int, int]) -> dict[str, Any]:
    rtt, kbps = net
    ms = statistics.median(r["ms"] for r in runs)
    moved = statistics.median(r["html_bytes"] + r["board_bytes"] for r in runs)
    floor = 2 * rtt + moved * 8 / kbps  # bytes * 8 / (kbit/s) = ms
    return {
        "board_visible_ms": round(ms, 1),
        "floor_ms": round(floor, 1),
        "ratio_to_floor": round(ms / floor, 2),
        "requests_before_board": max(r["requests_before_board"] for r in runs),
        "all_requests_before_board": [r["requests_before_board"] for r in runs],
        "requests": max(r["requests"] for r in runs),
        "all_ms": [round(r["ms"], 1) for r in runs],
        "cards": max(r.get("trips", 0) for r in runs),
        "server_ms": round(statistics.median(r["server_ms"] for r in runs), 1),
        # Board visible with the local API's own time taken out: the page and the line.
        "less_server_ms": round(statistics.median(r["ms"] - r["server_ms"] for r in runs), 1),
        "board_bytes": statistics.median(r["board_bytes"] for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.page", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    result = run(args.rounds)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    from bench import report

    head = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    sys.stdout.write(report.table({**head, "rows": report.page_rows(result)}) + "\n")
    common.progress(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
