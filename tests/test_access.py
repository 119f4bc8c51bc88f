"""Who may call what: every route but the public few refuses a missing, forged or old token.

The routes come from the app itself (app.routes), so a route added later is
covered without editing this file, and one added without `authorizer=crew`
fails here.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any

import jwt
import pytest

from app import app
from chalicelib import aws, config
from tests.conftest import TEST_SIGNING_KEY, WAIVER, trip

# The only routes anyone may call without logging in (design.md, public contract).
PUBLIC = {
    ("GET", "/api/health"),
    ("POST", "/api/login"),
    ("POST", "/api/accounts/setup"),
    ("GET", "/g/{}/waiver"),
    ("POST", "/g/{}/waiver"),
}


def shape(path: str) -> str:
    """A route path with its parameter names blanked: /g/{event_id}/waiver -> /g/{}/waiver."""
    return re.sub(r"\{[^}]*\}", "{}", path)


ROUTES = sorted(
    (method, path, entry)
    for path, methods in app.routes.items()
    for method, entry in methods.items()
)
CREW_ROUTES = [(m, p) for m, p, _ in ROUTES if (m, shape(p)) not in PUBLIC]


def table_snapshot(*, skip_throttle: bool = False) -> list[dict[str, Any]]:
    """Every item in the table, in key order: equal snapshots mean nothing was written.

    skip_throttle leaves out the failed-attempt counters (THROTTLE# items).
    """
    client = aws.dynamodb()
    items, kwargs = [], {"TableName": config.table_name(), "ConsistentRead": True}
    if skip_throttle:
        kwargs["FilterExpression"] = "NOT begins_with(PK, :throttle)"
        kwargs["ExpressionAttributeValues"] = {":throttle": {"S": "THROTTLE#"}}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def _token(**claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "Dana", "iss": "shipcaptaincrew", "iat": now, "exp": now + 3600}
    body.update(claims)
    return jwt.encode(body, TEST_SIGNING_KEY, algorithm="HS256")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bad_credentials(good: str) -> dict[str, str]:
    """Authorization headers that must not get in, by what is wrong with them."""
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    now = int(time.time())
    return {
        "signature tampered": f"Bearer {header}.{payload}.{flipped}",
        "claims changed, old signature": (
            f"Bearer {header}.{_b64({**claims, 'sub': 'Mallory'})}.{signature}"
        ),
        "expired an hour ago": f"Bearer {_token(iat=now - 13 * 3600, exp=now - 3600)}",
        "signed with another key": "Bearer "
        + jwt.encode(
            {"sub": "Dana", "iss": "shipcaptaincrew", "iat": now, "exp": now + 3600},
            "some-other-key-that-is-also-long-enough!",
            algorithm="HS256",
        ),
        "alg none": f"Bearer {_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "another issuer": f"Bearer {_token(iss='someone-else')}",
        "no Bearer scheme": good,
        "Basic scheme": "Basic " + base64.b64encode(b"crew:password").decode(),
        "empty bearer": "Bearer ",
    }


def make_world(crew_api, event: dict[str, Any]) -> dict[str, Any]:
    """A trip with a payment and a signed waiver: a real value for every path parameter."""
    payment = crew_api.post(
        f"/api/events/{event['id']}/payments",
        {"patron_name": "Alex", "amount_cents": 5000, "method": "cash"},
    )
    assert payment.status_code == 201, payment.body
    signed = crew_api.post(
        f"/g/{event['id']}/waiver", WAIVER, headers={"accept": "application/json"}, token=False
    )
    assert signed.status_code == 201, signed.body
    boat = crew_api.post("/api/boats", {"name": "Osprey", "passenger_limit": 6, "inspected": False})
    assert boat.status_code == 201, boat.body
    deckhand = crew_api.add_account("crew")
    refund = crew_api.post(
        f"/api/events/{event['id']}/refunds",
        {"amount_cents": 1000, "method": "cash", "reason": "seasick, came ashore early"},
    )
    assert refund.status_code == 201, refund.body
    return {
        "event_id": event["id"],
        "payment_id": payment.json_body["payment"]["id"],
        "waiver_id": signed.json_body["waiver"]["id"],
        "signer": signed.json_body["waiver"]["full_name"],
        "boat_id": boat.json_body["boat"]["id"],
        "version": event["version"],
        "account_id": deckhand["account"]["id"],
        "refund_id": refund.json_body["refund"]["id"],
    }


@pytest.fixture
def world(crew_api, event) -> dict[str, Any]:
    return make_world(crew_api, event)


def fill(path: str, world: dict[str, Any]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in world:
            raise AssertionError(f"no test value for path parameter {{{name}}} of {path}")
        return str(world[name])

    return re.sub(r"\{([^}]*)\}", value, path)


def body_for(method: str, path: str, world: dict[str, Any]) -> Any:
    """A body the route would accept from a logged-in crew member (so refusal is auth's doing)."""
    if method not in ("POST", "PATCH", "PUT"):
        return None
    if path.startswith("/api/accounts") or path.startswith("/api/me") or path == "/api/logout":
        return account_body(method, path)
    if path.endswith("/payments"):
        return {"patron_name": "Mallory", "amount_cents": 100, "method": "cash"}
    if path.endswith("/refunds"):
        return {"amount_cents": 100, "method": "cash", "reason": "trip cut short"}
    if path.endswith(("/void", "/strike")):
        return {"reason": "not really"}
    if method == "PATCH" and path.startswith("/api/boats/"):
        return {"name": "Hijacked"}
    if method == "PATCH":
        return {"title": "Hijacked", "version": world["version"]}
    if path.endswith(("/cancel", "/crew")):
        return {}
    if path.endswith(("/depart", "/return")):
        return {}
    if path.endswith("/boarding"):
        return {"waiver_id": world["waiver_id"], "name": world["signer"], "boarded": True}
    if path == "/api/boats":
        return {"name": "Hijacked", "passenger_limit": 6, "inspected": False}
    return trip(title="Hijacked")


def account_body(method: str, path: str) -> Any:
    """A body the account routes would accept (for their refusal tests)."""
    if path == "/api/accounts":
        return {"username": f"h{uuid.uuid4().hex[:8]}", "display_name": "Hijacked", "role": "crew"}
    if method == "PATCH":
        return {"display_name": "Hijacked"}
    if path == "/api/me/password":
        return {"current_password": "not it", "new_password": "Hijacked password"}
    return {}


def test_the_public_routes_are_exactly_the_ones_without_login():
    unauthenticated = {(m, shape(p)) for m, p, entry in ROUTES if entry.authorizer is None}
    assert unauthenticated == PUBLIC, (
        "a route without authorizer=crew that is not on the public list, "
        "or a public route that now needs login"
    )


def test_every_other_route_is_guarded_by_the_crew_authorizer():
    for method, path, entry in ROUTES:
        if (method, shape(path)) in PUBLIC:
            continue
        assert entry.authorizer is not None, f"{method} {path} answers without login"
        assert entry.authorizer.name == "crew", f"{method} {path} uses {entry.authorizer.name}"


def test_public_routes_answer_without_a_token(api, event):
    assert api.get("/api/health", token=False).status_code == 200
    assert api.get(f"/g/{event['id']}/waiver", token=False).status_code == 200
    assert api.post("/api/login", {"password": "wrong"}, token=False).status_code == 401


@pytest.mark.parametrize(("method", "path"), CREW_ROUTES, ids=[f"{m} {p}" for m, p in CREW_ROUTES])
def test_crew_route_refuses_missing_forged_and_expired_tokens(api, world, method, path):
    url = fill(path, world)
    body = body_for(method, path, world)
    raw = json.dumps(body) if body is not None else None
    good = api.token
    before = table_snapshot()

    missing = api.request(method, url, raw=raw, token=False)
    assert missing.status_code == 401, f"no token: {missing.status_code} {missing.body!r}"

    for what, header in bad_credentials(good).items():
        refused = api.request(method, url, raw=raw, token=False, headers={"authorization": header})
        assert refused.status_code in (401, 403), f"{what}: {refused.status_code}"
        assert "Hijacked" not in refused.body.decode("utf-8", "replace"), what

    assert table_snapshot() == before, "a refused request wrote to the table"
    # The same request with the real token gets past the door (so the refusals meant something).
    # (The break-glass owner has no password of its own to change: a crew account does.)
    own = api.account("crew")["token"] if path == "/api/me/password" else True
    allowed = api.request(method, url, raw=raw, token=own)
    assert allowed.status_code not in (401, 403), allowed.body


def test_unknown_ids_are_404_only_after_login(api, world):
    """An outsider cannot probe which trips exist: 401 comes before any lookup."""
    unknown = uuid.uuid4().hex
    assert api.get(f"/api/events/{unknown}", token=False).status_code == 401
    assert api.get(f"/api/events/{unknown}").status_code == 404
