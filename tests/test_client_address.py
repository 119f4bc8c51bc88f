"""Who is asking: the viewer's address as our edge saw it (issue 12, point 1).

On AWS a request passes CloudFront and then API Gateway; each hop appends the
address that connected to it to X-Forwarded-For, so its right-most entry, and
API Gateway's sourceIp, are AWS edge addresses shared by everyone using that
edge. The app takes the viewer from CloudFront-Viewer-Address, and believes it
only with the origin-verify secret CloudFront adds (X-Origin-Verify); without
the secret (the API's own URL called directly) it uses API Gateway's sourceIp.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from werkzeug.test import Client as WsgiClient

from chalicelib import aws, config
from chalicelib.crew import auth
from chalicelib.waivers import signing
from chalicelib.web import request_facts
from scripts import local_edge
from tests.conftest import ORIGIN_VERIFY_SECRET, TEST_PASSWORD, Api, from_viewer
from tests.test_waivers_signing import post_form, signer, waiver_items

# What CloudFront and API Gateway put in front of a viewer's own X-Forwarded-For.
EDGE = "130.176.0.1"
GATEWAY_CALLER = {"identity": {"sourceIp": EDGE}}


def through_edge(viewer: str) -> dict[str, str]:
    """A viewer's request as the app receives it from CloudFront and API Gateway."""
    return {**from_viewer(viewer), "x-forwarded-for": f"{viewer}, {EDGE}"}


def wrong_login(api: Api, headers: dict[str, str], username: str = "guesser") -> int:
    # A username of its own, so the count that refuses is the address's, not the name's.
    body = {"username": username, "password": "wrong"}
    return api.post("/api/login", body, headers=headers, token=False).status_code


def right_login(api: Api, headers: dict[str, str]) -> int:
    return api.post(
        "/api/login", {"password": TEST_PASSWORD}, headers=headers, token=False
    ).status_code


# --- Through the app ------------------------------------------------------------------


def test_wrong_passwords_lock_out_one_viewer_not_everyone_behind_the_edge(api: Api):
    for n in range(auth.MAX_FAILED_PER_SOURCE):
        assert wrong_login(api, through_edge("203.0.113.7"), f"guesser{n}") == 401
    assert right_login(api, through_edge("203.0.113.7")) == 429
    # Another crew member whose phone reaches the same CloudFront edge logs in.
    assert right_login(api, through_edge("198.51.100.2")) == 200


def test_posts_to_a_made_up_trip_block_one_viewer_not_every_patron(
    api: Api, event: dict, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(signing, "SIGN_LIMIT", 3)
    made_up = "0" * 32
    for _ in range(3):
        assert post_form(api, made_up, signer(), **through_edge("203.0.113.66")).status_code == 404
    assert post_form(api, made_up, signer(), **through_edge("203.0.113.66")).status_code == 429
    response = post_form(api, event["id"], signer(), **through_edge("192.0.2.10"))
    assert response.status_code == 201


@pytest.mark.parametrize(
    "forged",
    [
        {"cloudfront-viewer-address": "VIEWER:443"},
        {"cloudfront-viewer-address": "VIEWER:443", "x-origin-verify": "a guess"},
        {"cloudfront-viewer-address": "VIEWER:443", "x-origin-verify": ""},
        {"x-forwarded-for": "VIEWER"},
        {"x-forwarded-for": f"VIEWER, {EDGE}"},
    ],
)
def test_addresses_a_caller_makes_up_do_not_buy_fresh_attempts(api: Api, forged: dict):
    """Calling the API's own URL: the caller's address counts, whatever headers say."""
    for n in range(auth.MAX_FAILED_PER_SOURCE):
        headers = {k: v.replace("VIEWER", f"203.0.113.{n + 1}") for k, v in forged.items()}
        assert wrong_login(api, headers, f"guesser{n}") == 401
    headers = {k: v.replace("VIEWER", "203.0.113.99") for k, v in forged.items()}
    assert right_login(api, headers) == 429


def test_the_waiver_records_the_viewers_address(crew_api: Api, event: dict):
    response = post_form(crew_api, event["id"], signer(), **through_edge("2001:db8::7"))
    assert response.status_code == 201
    [item] = waiver_items(event["id"])
    assert item["ip"] == "2001:db8::7"


def test_without_the_secret_the_waiver_records_the_callers_address(crew_api: Api, event: dict):
    headers = {"cloudfront-viewer-address": "203.0.113.5:443", "x-forwarded-for": "203.0.113.5"}
    assert post_form(crew_api, event["id"], signer(), **headers).status_code == 201
    [item] = waiver_items(event["id"])
    assert item["ip"] == "127.0.0.1"  # API Gateway's sourceIp (chalice's local one here)


# --- The address and the secret ----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "ip"),
    [
        ("198.51.100.10:46532", "198.51.100.10"),
        ("2001:db8::1:443", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001:8443", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::1:51000", "::1"),
        ("198.51.100.10", None),
        ("198.51.100.10:", None),
        ("not-an-address:443", None),
        ("2001:db8::1", None),
        ("", None),
    ],
)
def test_the_viewer_address_is_the_ip_before_the_last_colon(header: str, ip: str | None):
    assert request_facts.viewer_ip(header) == ip


def test_a_malformed_viewer_address_falls_back_to_the_caller(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ORIGIN_VERIFY_SECRET", "s3")
    headers = {"x-origin-verify": "s3", "cloudfront-viewer-address": "nonsense"}
    assert request_facts.source_ip(headers, GATEWAY_CALLER) == EDGE


def test_the_secret_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch):
    compared: list[tuple[bytes, bytes]] = []
    real = request_facts.hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(request_facts.hmac, "compare_digest", recording)
    monkeypatch.setenv("ORIGIN_VERIFY_SECRET", "s3cret")
    headers = {"x-origin-verify": "s3cret", "cloudfront-viewer-address": "192.0.2.1:1"}
    assert request_facts.source_ip(headers, GATEWAY_CALLER) == "192.0.2.1"
    assert compared == [(b"s3cret", b"s3cret")]


def test_without_a_configured_secret_no_viewer_address_is_believed(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("ORIGIN_VERIFY_SECRET", raising=False)
    monkeypatch.delenv("ORIGIN_VERIFY_SECRET_ID", raising=False)
    headers = {"x-origin-verify": "", "cloudfront-viewer-address": "192.0.2.1:1"}
    assert request_facts.source_ip(headers, GATEWAY_CALLER) == EDGE
    headers["x-origin-verify"] = "anything"
    assert request_facts.source_ip(headers, GATEWAY_CALLER) == EDGE


def test_test_and_local_stages_share_the_local_edges_secret():
    assert local_edge.viewer_headers(_request())["X-Origin-Verify"] == ORIGIN_VERIFY_SECRET


# --- The secret in Secrets Manager, through a rotation ---------------------------------


@pytest.fixture
def origin_secret(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The origin-verify secret as on a deployed stage, and config's clock by hand."""
    client = boto3.client("secretsmanager")  # the test's own: set-up is not the app's call
    client.create_secret(Name="scc/test/origin-verify", SecretString="first")
    monkeypatch.delenv("ORIGIN_VERIFY_SECRET", raising=False)
    monkeypatch.setenv("ORIGIN_VERIFY_SECRET_ID", "scc/test/origin-verify")
    clock = {"now": 1000.0}
    monkeypatch.setattr(config, "_clock", lambda: clock["now"])
    config.reset()

    class Secret:
        def rotate(self, value: str) -> None:
            client.put_secret_value(SecretId="scc/test/origin-verify", SecretString=value)

        def advance(self, seconds: float) -> None:
            clock["now"] += seconds

    yield Secret()
    config.reset()


def seen_as(secret: str) -> str:
    headers = {"x-origin-verify": secret, "cloudfront-viewer-address": "192.0.2.9:5000"}
    return request_facts.source_ip(headers, GATEWAY_CALLER)


def test_the_current_secret_from_secrets_manager_is_believed(origin_secret: Any):
    assert seen_as("first") == "192.0.2.9"
    assert seen_as("second") == EDGE


def test_a_rotation_refuses_neither_the_old_nor_the_new_value(origin_secret: Any):
    assert seen_as("first") == "192.0.2.9"  # cached now
    origin_secret.advance(30)
    origin_secret.rotate("second")
    # CloudFront still sends the old value until its update is deployed ...
    assert seen_as("first") == "192.0.2.9"
    # ... and this instance learns the new one at the first request that carries it.
    assert seen_as("second") == "192.0.2.9"
    origin_secret.advance(config.DEFAULT_SECRET_CACHE_SECONDS + 1)
    assert seen_as("first") == "192.0.2.9"  # AWSPREVIOUS
    origin_secret.rotate("third")
    origin_secret.advance(config.DEFAULT_SECRET_CACHE_SECONDS + 1)
    assert seen_as("first") == EDGE  # two rotations ago
    assert seen_as("second") == seen_as("third") == "192.0.2.9"


def test_guessed_secrets_cost_at_most_one_look_up_per_few_seconds(
    origin_secret: Any, monkeypatch: pytest.MonkeyPatch
):
    looked_up: list[str] = []
    real = aws.secret_version
    monkeypatch.setattr(aws, "secret_version", lambda s, v: looked_up.append(v) or real(s, v))
    assert seen_as("first") == "192.0.2.9"
    assert looked_up == ["AWSCURRENT", "AWSPREVIOUS"]
    origin_secret.advance(config.ORIGIN_VERIFY_RECHECK_SECONDS + 1)
    for n in range(50):
        assert seen_as(f"guess {n}") == EDGE
    assert len(looked_up) == 4  # one recheck for all fifty guesses


def test_secrets_manager_down_during_a_recheck_uses_the_callers_address(
    origin_secret: Any, monkeypatch: pytest.MonkeyPatch
):
    assert seen_as("first") == "192.0.2.9"
    origin_secret.advance(config.ORIGIN_VERIFY_RECHECK_SECONDS + 1)

    def unreachable(secret_id: str, version_stage: str) -> str:
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.example")

    monkeypatch.setattr(aws, "secret_version", unreachable)
    assert seen_as("rotated meanwhile") == EDGE
    assert seen_as("first") == "192.0.2.9"  # the cached value still answers


# --- The local edge plays CloudFront's part ------------------------------------------


def _request(**environ: str) -> Any:
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(path="/api/health", environ_base=environ).get_request()


class _Recorder(http.server.BaseHTTPRequestHandler):
    """An origin that answers with the client address the app would see."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = request_facts.lower_headers(dict(self.headers.items()))
        seen = request_facts.source_ip(headers, {"identity": {"sourceIp": "127.0.0.1"}})
        names = sorted(n.lower() for n in self.headers)
        body = f"{seen}|{headers.get('cloudfront-viewer-address')}|{','.join(names)}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_local_edge_tells_the_app_who_the_viewer_is(
    origin: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The app behind it as `chalice local --stage local` runs it.
    stages = local_edge.json.loads((local_edge.ROOT / ".chalice" / "config.json").read_text())
    monkeypatch.setenv(
        "ORIGIN_VERIFY_SECRET",
        stages["stages"]["local"]["environment_variables"]["ORIGIN_VERIFY_SECRET"],
    )
    client = WsgiClient(local_edge.Edge(origin, tmp_path, emails=list))
    viewer = {"REMOTE_ADDR": "198.51.100.7", "REMOTE_PORT": "51234"}
    forged = {
        "CloudFront-Viewer-Address": "203.0.113.1:443",
        "cloudfront-viewer-address": "203.0.113.2:443",
        "X-Origin-Verify": "a guess",
        "X-Forwarded-For": "203.0.113.3",
    }
    response = client.post("/api/login", data=b"{}", headers=forged, environ_base=viewer)
    assert response.status_code == 200, response.data
    seen, address, names = response.get_data(as_text=True).split("|")
    assert seen == "198.51.100.7"
    assert address == "198.51.100.7:51234"  # the client's own value overwritten, not added
    assert names.split(",").count("cloudfront-viewer-address") == 1
    assert names.split(",").count("x-origin-verify") == 1
