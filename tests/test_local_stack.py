"""The local stack (`make run`): the edge's routing and files, the emulator's
persistence, and the whole stack as a subprocess across a restart.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from moto import mock_aws
from werkzeug.test import Client as WsgiClient

from scripts import dev_stack, emulator, local_edge

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"

STACK_PASSWORD = "local-stack-test-password"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 40.0


# --- The edge, in-process -----------------------------------------------------------


@pytest.fixture
def spa_dir(tmp_path: Path) -> Path:
    site = tmp_path / "spa"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>dispatch</title>", encoding="utf-8")
    (site / "app.js").write_text("export const ready = true;\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    return site


def edge_client(spa_dir: Path, emails: list[dict[str, Any]] | None = None) -> WsgiClient:
    # Port 9 (discard) has no listener: proxied requests must fail as a clear 502.
    app = local_edge.Edge(9, spa_dir, emails=lambda: list(emails or []))
    return WsgiClient(app)


def test_edge_serves_the_dispatch_page_for_the_root_and_its_own_paths(spa_dir: Path) -> None:
    client = edge_client(spa_dir)
    for path in ("/", "/board", "/events/abc123"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers[local_edge.ORIGIN_HEADER] == "spa"
        assert response.mimetype == "text/html"
        assert response.headers["Cache-Control"] == "no-cache"
        assert b"<title>dispatch</title>" in response.data


def test_edge_serves_modules_as_javascript_and_missing_files_as_404(spa_dir: Path) -> None:
    client = edge_client(spa_dir)
    script = client.get("/app.js")
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    assert client.get("/missing.js").status_code == 404


def test_edge_never_serves_files_outside_spa(spa_dir: Path) -> None:
    client = edge_client(spa_dir)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        response = client.get(path)
        assert b"not for the web" not in response.data, path


def test_edge_sends_api_and_waiver_paths_to_the_app_not_the_page(spa_dir: Path) -> None:
    client = edge_client(spa_dir)
    for path in ("/api/health", "/g/0123abcd/waiver"):
        response = client.get(path)
        assert response.headers[local_edge.ORIGIN_HEADER] == "api", path
        # Nothing listens on the app's port here: a clear 502, never the SPA.
        assert response.status_code == 502
        assert response.json["code"] == "bad_gateway"


def test_outbox_page_lists_emails_newest_first_and_escapes_them(spa_dir: Path) -> None:
    emails = [
        {
            "id": "2",
            "sent_at": "2026-11-26T17:05:00+00:00",
            "from": "dispatch@shipcaptaincrew.example",
            "to": ["crew@shipcaptaincrew.example"],
            "cc": [],
            "bcc": [],
            "subject": "Payment <b>logged</b>",
            "text": "<script>alert(1)</script>",
            "html": None,
        },
        {
            "id": "1",
            "sent_at": "2026-11-26T17:00:00+00:00",
            "from": "dispatch@shipcaptaincrew.example",
            "to": ["crew@shipcaptaincrew.example"],
            "cc": [],
            "bcc": [],
            "subject": "Earlier email",
            "text": "first",
            "html": None,
        },
    ]
    client = edge_client(spa_dir, emails)
    page = client.get("/_dev/outbox").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert page.index("Payment &lt;b&gt;logged") < page.index("Earlier email")
    listed = client.get("/_dev/outbox.json").json["emails"]
    assert [mail["id"] for mail in listed] == ["2", "1"]
    # Shown in the operator's zone (Los Angeles: UTC-8 in November).
    assert listed[0]["sent_at"] == "2026-11-26T09:05:00-08:00"


# --- The emulator's persistence, against moto --------------------------------------


def test_table_snapshot_restores_every_item_into_a_fresh_table(tmp_path: Path) -> None:
    from chalicelib.db import codec, schema

    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        schema.create_table(client, "first")
        items = [
            codec.to_item(
                {"PK": f"EVENT#{n}", "SK": "EVENT", "price_cents": 100 * n, "crew": ["A"]}
            )
            for n in range(60)  # more than one BatchWriteItem of 25
        ]
        for item in items:
            client.put_item(TableName="first", Item=item)
        path = tmp_path / "table.json"
        assert emulator.snapshot_table(client, "first", path) == 60

        schema.create_table(client, "second")
        assert emulator.restore_table(client, "second", path) == 60
        restored = client.scan(TableName="second")["Items"]
        assert sorted(restored, key=_pk) == sorted(items, key=_pk)


def test_outbox_keeps_each_emails_recipients_and_plain_text_part(tmp_path: Path) -> None:
    """Through the real emulator server: moto alone would keep only the HTML part."""
    import boto3

    server = emulator.Emulator(0)
    server.start()
    try:
        ses = boto3.client("ses", endpoint_url=server.url, region_name="us-east-1")
        sesv2 = boto3.client("sesv2", endpoint_url=server.url, region_name="us-east-1")
        ses.verify_email_identity(EmailAddress="dispatch@shipcaptaincrew.example")
        sesv2.send_email(
            FromEmailAddress="dispatch@shipcaptaincrew.example",
            Destination={"ToAddresses": ["crew@shipcaptaincrew.example"]},
            Content={
                "Simple": {
                    "Subject": {"Data": "Payment logged (outbox test)"},
                    "Body": {
                        "Text": {"Data": "$50.00 cash from Pat"},
                        "Html": {"Data": "<p>$50.00 <b>cash</b> from Pat</p>"},
                    },
                }
            },
        )
        assert server.changed.is_set()
        outbox = emulator.Outbox(tmp_path / "outbox.json")
        outbox.add(server.take_new_emails())
        assert outbox.save_if_changed()
    finally:
        server.stop()

    kept = emulator.Outbox(tmp_path / "outbox.json")
    kept.load()
    [mail] = [m for m in kept.newest_first() if m["subject"] == "Payment logged (outbox test)"]
    assert mail["to"] == ["crew@shipcaptaincrew.example"]
    assert mail["from"] == "dispatch@shipcaptaincrew.example"
    assert mail["text"] == "$50.00 cash from Pat"
    assert mail["html"] == "<p>$50.00 <b>cash</b> from Pat</p>"


# --- The email drain -----------------------------------------------------------------


def test_email_drain_keeps_sending_after_a_failed_round(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def drain_outbox(limit: int = 25) -> int:
        calls.append(limit)
        if len(calls) == 1:
            raise ConnectionError("emulator busy")
        return 2

    drain = dev_stack.OutboxDrain(interval=1.0, drain=drain_outbox)
    assert drain.tick() == 1.0  # failed: logged, retried next second
    assert drain.tick() == 1.0
    assert calls == [25, 25]


def _pk(item: dict[str, Any]) -> str:
    return item["PK"]["S"]


# --- The whole stack, as `make run` starts it -----------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Site:
    """HTTP to the running stack's edge, speaking JSON."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        status, _, raw = self.call(method, path, body, token)
        assert status < 300, f"{method} {path} -> {status}: {raw[:500]!r}"
        return json.loads(raw)


@contextmanager
def running_stack(data_dir: Path, log_path: Path) -> Iterator[tuple[Site, subprocess.Popen]]:
    """`scripts/dev_stack.py` on free ports with its own data dir; killed whatever happens."""
    port, emulator_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "EMULATOR_PORT": str(emulator_port),
        "LOCAL_DATA_DIR": str(data_dir),
        "LOCAL_ADMIN_PASSWORD": STACK_PASSWORD,
        "PYTHONUNBUFFERED": "1",
    }
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(SCRIPTS / "dev_stack.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the finally kills it all
        )
    try:
        site = Site(port)
        wait_until_ready(site, process, log_path)
        yield site, process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


def wait_until_ready(site: Site, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the stack exited ({process.returncode}):\n{log_path.read_text()}")
        with suppress(urllib.error.URLError, OSError):
            status, _, _ = site.call("GET", "/api/health")
            if status == 200:
                return
        time.sleep(0.3)
    pytest.fail(f"the stack was not ready within {START_TIMEOUT:.0f}s:\n{log_path.read_text()}")


def stop(process: subprocess.Popen, log_path: Path) -> None:
    """SIGTERM, as a service manager would; every child must be gone afterwards."""
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the stack did not stop on SIGTERM:\n{log_path.read_text()}")
    assert code == 0, log_path.read_text()
    # The stack waited for chalice local, so an empty process group means no stray child.
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)


@pytest.mark.stack
@pytest.mark.timeout(400)
def test_trips_entered_survive_stopping_and_starting_the_local_stack(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    log_path = tmp_path / "stack.log"
    today = datetime.now(ZoneInfo("America/Los_Angeles")).date()  # the local stage's zone
    trip_day = (today + timedelta(days=3)).isoformat()

    with running_stack(data_dir, log_path) as (site, process):
        token = site.json("POST", "/api/login", {"password": STACK_PASSWORD})["token"]
        created = site.json(
            "POST",
            "/api/events",
            {
                "title": "Local stack test charter",
                "starts_at": f"{trip_day}T10:00:00-08:00",
                "ends_at": f"{trip_day}T12:00:00-08:00",
                "boat": "Sea Wren",
                "capacity": 12,
                "price_cents": 48_000,
                "captain": "Maria Alvarez",
                "crew": ["Jonah Pike"],
            },
            token,
        )["event"]
        window = f"/api/events?from={today}&to={today + timedelta(days=6)}"
        listed = site.json("GET", window, token=token)["events"]
        assert created["id"] in [event["id"] for event in listed]
        # The demo week was seeded through the app's own logic, with its real shape.
        assert any(event["title"].startswith("Sunset cruise") for event in listed)
        assert all(isinstance(event["capacity"], int) for event in listed)

        # The patron's waiver page comes from the app (Lambda), never the SPA's page.
        status, headers, body = site.call("GET", f"/g/{created['id']}/waiver")
        assert headers.get(local_edge.ORIGIN_HEADER) == "api"
        assert status == 200
        assert headers.get("Content-Type", "").startswith("text/html")
        assert b"<title>Dispatch" not in body

        status, headers, body = site.call("GET", "/_dev/outbox.json")
        assert status == 200
        assert isinstance(json.loads(body)["emails"], list)

        status, headers, body = site.call("GET", "/")
        assert status == 200
        assert headers.get(local_edge.ORIGIN_HEADER) == "spa"
        assert headers.get("Content-Type", "").startswith("text/html")

        paid = site.json(
            "POST",
            f"/api/events/{created['id']}/payments",
            {"patron_name": "Ana Ruiz", "amount_cents": 12_000, "method": "cash"},
            token,
        )["payment"]

        stop(process, log_path)
        snapshot = data_dir / "table.json"
        assert snapshot.exists()
    # As a snapshot saved before the cash-up's day index was: no entry is on it.
    saved = json.loads(snapshot.read_text())
    for item in saved["items"]:
        item.pop("GSI2PK", None)
        item.pop("GSI2SK", None)
    snapshot.write_text(json.dumps(saved))

    with running_stack(data_dir, log_path) as (site, process):
        # The signing key is kept too: a crew member stays logged in across restarts.
        detail = site.json("GET", f"/api/events/{created['id']}", token=token)
        assert detail["event"]["title"] == "Local stack test charter"
        assert detail["event"]["price_cents"] == 48_000
        relisted = site.json("GET", window, token=token)["events"]
        # Not seeded a second time: the same trips, no more.
        assert sorted(e["id"] for e in relisted) == sorted(e["id"] for e in listed)
        # The restored ledger was put on the day index: today's cash-up counts it.
        cashup = site.json("GET", f"/api/cashup?date={paid['logged_at'][:10]}", token=token)
        counted = [a for a in cashup["accounts"] if a["fares"]["cash"] >= 12_000]
        assert counted, cashup
        assert "earlier ledger entries on the cash-up's day index" in log_path.read_text()
        stop(process, log_path)


# --- API answers compressed at the edge, as API Gateway compresses them ----------------


@pytest.fixture
def chalice_local(api: Any) -> Iterator[int]:
    """`chalice local` (the test stage, moto behind it) on a free port, in this process."""
    import threading

    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app

    real_class = app.__class__
    server = create_local_server(app, Config.create(chalice_stage="test"), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server.server_address[1]
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server.server_close()
        app.__class__ = real_class  # create_local_server swaps it for its own


def test_the_weeks_board_data_arrives_gzipped_through_the_edge_when_asked(
    api: Any, chalice_local: int, spa_dir: Path
) -> None:
    import gzip

    from tests.conftest import trip

    token = api.login()
    for number in range(8):
        made = api.post("/api/events", trip(title=f"Sunset cruise {number}"))
        assert made.status_code == 201, made.body
    client = WsgiClient(local_edge.Edge(chalice_local, spa_dir, emails=list))
    auth = {"Authorization": f"Bearer {token}"}

    plain = client.get("/api/events", headers=auth)
    assert plain.status_code == 200
    assert "Content-Encoding" not in plain.headers
    zipped = client.get("/api/events", headers={**auth, "Accept-Encoding": "gzip, deflate, br"})
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert json.loads(gzip.decompress(zipped.data)) == plain.json
    assert len(plain.data) >= 1000 and len(zipped.data) < len(plain.data) / 2
    # Refused gzip, or an answer under the threshold: sent as it is.
    refused = client.get("/api/events", headers={**auth, "Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    small = client.get("/api/health", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 200 and "Content-Encoding" not in small.headers


def test_api_gateway_compresses_answers_of_1000_bytes_and_more_in_every_stage() -> None:
    """Chalice reads `minimum_compression_size` into the REST API it deploys."""
    from chalice.config import Config
    from chalice.deploy.appgraph import ApplicationGraphBuilder

    from app import app

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in config["stages"]:
        chalice_config = Config(
            chalice_stage=stage,
            config_from_disk=config,
            user_provided_params={"chalice_app": app, "project_dir": str(ROOT)},
        )
        graph = ApplicationGraphBuilder().build(chalice_config, stage)
        rest_api = next(r for r in graph.resources if type(r).__name__ == "RestAPI")
        assert rest_api.minimum_compression == "1000", stage
    assert local_edge.minimum_compression_size("local") == 1000
