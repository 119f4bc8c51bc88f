"""Issue 21 item 11: bodies that parse but that no route can use are 400 naming the field
(or the body) on every route that reads a body, public ones included; never a 5xx.

- JSON nested ~990 levels deep (2 KB) raised RecursionError: a 500 everywhere.
- A lone UTF-16 surrogate ("\\ud800") in a text field is valid JSON but no text: it
  was a 500 on login, setup and boats, and a 503 "busy, try again" on events, payments
  and accounts (the page's outbox then kept a payment waiting for ever).

One place parses every JSON body (validation.json_object); this tries it on each route.
The route fuzzer (tests/test_fuzz_routes.py) draws both kinds too.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app import app
from tests.conftest import WAIVER, trip
from tests.test_access import make_world, table_snapshot
from tests.test_fuzz_routes import fill, templates_for

ROUTES = sorted(
    (method, path)
    for path, methods in app.routes.items()
    for method in methods
    if method in ("POST", "PATCH")
)
# The text field of each route's body that gets the surrogate. A route that reads
# no body (log out, depart, ...) is absent: for it, only "never a 5xx" holds.
TEXT_FIELD = {
    ("POST", "/api/login"): "username",
    ("POST", "/api/accounts/setup"): "code",
    ("POST", "/api/me/password"): "current_password",
    ("POST", "/api/accounts"): "display_name",
    ("PATCH", "/api/accounts/{account_id}"): "display_name",
    ("POST", "/api/events"): "title",
    ("PATCH", "/api/events/{event_id}"): "title",
    ("POST", "/api/events/{event_id}/payments"): "patron_name",
    ("POST", "/api/events/{event_id}/payments/{payment_id}/void"): "reason",
    ("POST", "/api/events/{event_id}/refunds"): "reason",
    ("POST", "/api/events/{event_id}/refunds/{refund_id}/void"): "reason",
    ("POST", "/g/{event_id}/waiver"): "full_name",
    ("POST", "/api/boats"): "name",
    ("PATCH", "/api/boats/{boat_id}"): "name",
    ("POST", "/api/events/{event_id}/boarding"): "name",
    ("POST", "/api/events/{event_id}/waivers/{waiver_id}/strike"): "reason",
}
DEEP = ('{"a":' * 990 + "1" + "}" * 990).encode()
DEEP_LIST = ('{"a":' + "[" * 990 + "]" * 990 + "}").encode()


def valid_body(method: str, path: str, world: dict[str, Any]) -> dict[str, Any]:
    """A body the route accepts, so the surrogate is the only thing wrong with it."""
    if path == "/api/accounts":
        return {"username": "newhand", "display_name": "New Hand", "role": "crew"}
    if path == "/api/accounts/setup":
        return {"code": "x" * 20, "password": "a long enough password"}
    if path == "/api/me/password":
        return {"current_password": "whatever it is", "new_password": "a long enough password"}
    if path.endswith("/refunds"):
        return {"amount_cents": 100, "method": "cash", "reason": "seasick"}
    if path.endswith("/waiver"):
        return dict(WAIVER)
    if path.endswith("/boarding"):
        return {"waiver_id": world["waiver_id"], "name": world["signer"], "boarded": True}
    if path == "/api/events":
        return trip()
    if path == "/api/accounts/{account_id}":
        return {"display_name": "Renamed"}
    if method == "PATCH" and path.startswith("/api/events/"):
        return {"title": "Morning Run", "version": world["version"]}
    return dict(templates_for(method, path)[0])


def send(crew_api: Any, method: str, url: str, raw: bytes) -> Any:
    headers = {"accept": "application/json"}
    return crew_api.request(method, url, raw=raw, headers=headers)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@pytest.mark.parametrize("raw", [DEEP, DEEP_LIST], ids=["deep-object", "deep-list"])
def test_deeply_nested_json_is_400_naming_the_body(crew_api, event, method, path, raw):
    world = make_world(crew_api, event)
    before = table_snapshot(skip_throttle=True)
    response = send(crew_api, method, fill(path, world), raw)
    assert response.status_code < 500, response.body[:300]
    if (method, path) in TEXT_FIELD:
        assert response.status_code == 400, response.body[:300]
        assert response.json_body["field"] == "body"
    if response.status_code >= 400:
        assert table_snapshot(skip_throttle=True) == before


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_a_lone_surrogate_is_400_naming_the_field(crew_api, event, method, path):
    world = make_world(crew_api, event)
    body = valid_body(method, path, world)
    field = TEXT_FIELD.get((method, path))
    if field is not None:
        body[field] = "Ana \ud800"
    raw = json.dumps(body).encode()  # ASCII: the surrogate travels as the escape \ud800
    assert b"\\ud800" in raw or field is None
    before = table_snapshot(skip_throttle=True)
    response = send(crew_api, method, fill(path, world), raw)
    assert response.status_code < 500, response.body[:300]
    if field is not None:
        assert response.status_code == 400, response.body[:300]
        assert response.json_body["field"] == field
        assert table_snapshot(skip_throttle=True) == before


def test_a_surrogate_in_a_nested_field_or_a_key_is_400(crew_api, event):
    eid = event["id"]
    minors = {**WAIVER, "minors": [{"name": "Kit \udfff", "date_of_birth": "2019-05-01"}]}
    response = crew_api.post(
        f"/g/{eid}/waiver", minors, headers={"accept": "application/json"}, token=False
    )
    assert (response.status_code, response.json_body["field"]) == (400, "minors")
    keyed = json.dumps({"\ud800": 1, "name": "Skiff", "passenger_limit": 6}).encode()
    response = send(crew_api, "POST", "/api/boats", keyed)
    assert (response.status_code, response.json_body["field"]) == (400, "body")


def test_every_route_that_reads_a_body_is_listed():
    """A new body-reading route must name the field this file puts the surrogate in."""
    for method, path in ROUTES:
        assert (method, path) in TEXT_FIELD or re.search(
            r"/(logout|reset|cancel|depart|return|crew)$", path
        ), f"{method} {path}: add it to TEXT_FIELD"
