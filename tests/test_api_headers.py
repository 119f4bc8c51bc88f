"""Issue 21 item 14: no API answer outlives its need, and the edge adds what ships.

Every /api answer (errors and the waiver record included) carries
`Cache-Control: no-store` and `X-Content-Type-Options: nosniff`. The local edge applies
the same security headers as CloudFront's response headers policy (HSTS aside), and the
policy never replaces the waiver page's own `Referrer-Policy: no-referrer`.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client as WsgiClient

from chalicelib.crew import auth
from chalicelib.crew.records import Role
from chalicelib.web import edge
from scripts import local_edge, site_setup
from tests.test_access import fill, make_world
from tests.test_fuzz_routes import ROUTES, templates_for

API_ROUTES = [(m, p) for m, p in ROUTES if p.startswith("/api/")]


def assert_api_headers(response: Any, what: str) -> None:
    headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers.get("cache-control") == "no-store", (what, response.status_code, headers)
    assert headers.get("x-content-type-options") == "nosniff", (what, headers)


@pytest.mark.parametrize(("method", "path"), API_ROUTES, ids=[f"{m} {p}" for m, p in API_ROUTES])
def test_every_api_answer_is_no_store_and_nosniff(crew_api, event, method, path):
    world = make_world(crew_api, event)
    url = fill(path, world)
    if path.endswith("waiver-qr.svg"):
        url += "?origin=https%3A%2F%2Fdock.example.com"
    raw = None
    if method in ("POST", "PATCH"):
        import json

        raw = json.dumps(templates_for(method, path)[0])
    headers = {"referer": "https://dock.example.com/"}
    # Refusals too (a body that is not JSON; a role the route does not take), first:
    # a log out would end the token.
    if not path.endswith("/logout"):  # it reads no body: it would log out
        refused = crew_api.request(method, url, raw=b"[", headers=headers)
        assert_api_headers(refused, f"{method} {path} refused")
        deckhand = auth.issue_token("Jo", Role.CREW)["token"]
        as_crew = crew_api.request(method, url, raw=raw, headers=headers, token=deckhand)
        assert_api_headers(as_crew, f"{method} {path} as crew")
    answer = crew_api.request(method, url, raw=raw, headers=headers)
    assert_api_headers(answer, f"{method} {path}")


def test_the_waiver_record_is_never_stored(crew_api, event):
    world = make_world(crew_api, event)
    answer = crew_api.get(f"/api/events/{event['id']}/waivers/{world['waiver_id']}")
    assert answer.status_code == 200 and answer.json_body["waiver"]["date_of_birth"]
    assert_api_headers(answer, "waiver record")
    missing = crew_api.get(f"/api/events/{event['id']}/waivers/{'0' * 32}")
    assert missing.status_code == 404
    assert_api_headers(missing, "no such waiver")


# --- The edge: the same security headers locally as CloudFront's policy -----------------


def test_the_policy_is_built_from_the_edges_headers_and_keeps_the_pages_referrer():
    config = site_setup.security_headers()["SecurityHeadersConfig"]
    assert config["ReferrerPolicy"] == {
        "Override": False,
        "ReferrerPolicy": edge.security_header("Referrer-Policy")[0],
    }
    assert config["ContentTypeOptions"] == {"Override": True}
    assert config["FrameOptions"] == {"Override": True, "FrameOption": "DENY"}
    assert config["ContentSecurityPolicy"] == {
        "Override": False,
        "ContentSecurityPolicy": "frame-ancestors 'none'",
    }
    # Every header the edge applies is in the policy (HSTS is the policy's alone).
    policy_names = {
        "FrameOptions": "X-Frame-Options",
        "ContentTypeOptions": "X-Content-Type-Options",
        "ReferrerPolicy": "Referrer-Policy",
        "ContentSecurityPolicy": "Content-Security-Policy",
    }
    assert {policy_names[k] for k in config if k in policy_names} == {
        name for name, _, _ in edge.SECURITY_HEADERS
    }
    assert set(config) - set(policy_names) == {"StrictTransportSecurity"}


class _Origin(http.server.BaseHTTPRequestHandler):
    """An app origin: the waiver page's own headers on /g/..., none on /api/..."""

    def do_GET(self) -> None:
        body = b"<!doctype html><title>waiver</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        if self.path.startswith("/g/"):
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Content-Security-Policy", "default-src 'self'")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def origin_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_the_local_edge_adds_the_policys_headers_and_keeps_the_pages_own(
    tmp_path: Path, origin_port: int
):
    site = tmp_path / "spa"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>dispatch</title>", encoding="utf-8")
    client = WsgiClient(local_edge.Edge(origin_port, site, emails=list))
    page = client.get("/g/" + "a" * 32 + "/waiver")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the page's own stands
    assert page.headers["Content-Security-Policy"] == "default-src 'self'"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    for answer in (client.get("/"), client.get("/api/health"), client.get("/missing.js")):
        for name, value, _ in edge.SECURITY_HEADERS:
            assert answer.headers.get(name) == value, (name, answer.status_code)
        assert "Strict-Transport-Security" not in answer.headers
