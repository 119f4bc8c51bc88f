"""Who may call what, by role: one row per route, checked against what each route
declares and by calling every route as every role (and with no login).

EXPECTED is the table of record (docs/api.md shows it). A route added without a
row here, or whose `allow(...)` differs from its row, fails the first test. Other
features add their routes' rows to this table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app import app
from tests.bodies import ANA
from tests.test_access import PUBLIC, body_for, fill, make_world, shape

CREW, CAPTAIN, OWNER = "crew", "captain", "owner"
EVERY = frozenset({CREW, CAPTAIN, OWNER})
CAPTAINS = frozenset({CAPTAIN, OWNER})

EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/me"): EVERY,
    ("POST", "/api/me/password"): EVERY,
    ("POST", "/api/logout"): EVERY,
    ("GET", "/api/accounts"): CAPTAINS,
    ("POST", "/api/accounts"): CAPTAINS,
    ("PATCH", "/api/accounts/{account_id}"): CAPTAINS,
    ("POST", "/api/accounts/{account_id}/reset"): CAPTAINS,
    ("GET", "/api/events"): EVERY,
    ("POST", "/api/events"): CAPTAINS,
    ("GET", "/api/events/{event_id}"): EVERY,
    ("PATCH", "/api/events/{event_id}"): CAPTAINS,
    ("POST", "/api/events/{event_id}/cancel"): CAPTAINS,
    # Any crew account puts itself (only itself) on a trip's crew, to share its tips.
    ("POST", "/api/events/{event_id}/crew"): EVERY,
    ("POST", "/api/events/{event_id}/payments"): EVERY,
    # Crew: only a payment they logged, within 30 minutes (tests/test_accounts.py).
    ("POST", "/api/events/{event_id}/payments/{payment_id}/void"): EVERY,
    ("GET", "/api/payments.csv"): CAPTAINS,
    ("GET", "/api/events/{event_id}/waivers/{waiver_id}"): CAPTAINS,
    # Striking a waiver from a trip (issue 21): a captain's or the owner's call.
    ("POST", "/api/events/{event_id}/waivers/{waiver_id}/strike"): CAPTAINS,
    # At the dock (tests/test_dock_roles.py tries each with a body the route accepts).
    ("GET", "/api/boats"): EVERY,
    ("POST", "/api/boats"): CAPTAINS,
    ("PATCH", "/api/boats/{boat_id}"): CAPTAINS,
    ("GET", "/api/events/{event_id}/manifest"): EVERY,
    ("POST", "/api/events/{event_id}/boarding"): EVERY,
    ("POST", "/api/events/{event_id}/depart"): CAPTAINS,
    # Whoever ties up records the return: it ends the overdue watch.
    ("POST", "/api/events/{event_id}/return"): EVERY,
    ("GET", "/api/events/{event_id}/waiver-qr.svg"): EVERY,
    # Money (issue 15): money handed back is a captain's call; reports show crew their own
    # row only (tests/test_money.py).
    ("POST", "/api/events/{event_id}/refunds"): CAPTAINS,
    ("POST", "/api/events/{event_id}/refunds/{refund_id}/void"): CAPTAINS,
    ("GET", "/api/tips"): EVERY,
    ("GET", "/api/cashup"): EVERY,
}

# The one refusal the role alone does not explain: the break-glass owner's password is
# the deployment's ADMIN_PASS_HASH, not something the API can change.
REFUSED_TO_BREAK_GLASS = {("POST", "/api/me/password")}

ROUTES = sorted(
    (method, path, entry)
    for path, methods in app.routes.items()
    for method, entry in methods.items()
    if (method, shape(path)) not in PUBLIC
)
CALLERS = ["nobody", "crew", "captain", "owner", "break-glass owner"]


def test_every_login_route_has_a_row_equal_to_what_it_declares():
    declared = {
        (method, path): frozenset(
            str(r) for r in getattr(entry.view_function, "allowed_roles", ()) or ()
        )
        for method, path, entry in ROUTES
    }
    missing = sorted(set(declared) - set(EXPECTED))
    assert not missing, f"routes without a row in EXPECTED: {missing}"
    stale = sorted(set(EXPECTED) - set(declared))
    assert not stale, f"rows for routes that no longer exist: {stale}"
    for key, roles in declared.items():
        assert roles, f"{key} declares no roles: put @allow(...) under @guarded"
        assert roles == EXPECTED[key], f"{key}: declares {sorted(roles)}"


def _token_for(api: Any, caller: str) -> str | None:
    if caller == "nobody":
        return None
    if caller == "break-glass owner":
        return api.owner_token()
    return api.account(caller)["token"]


def _role_of(caller: str) -> str:
    return OWNER if caller == "break-glass owner" else caller


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _ in ROUTES], ids=[f"{m} {p}" for m, p, _ in ROUTES]
)
def test_each_role_gets_exactly_the_routes_of_its_row(crew_api, event, method, path, caller):
    world = make_world(crew_api, event)
    token = _token_for(crew_api, caller)
    if path.endswith("/void") and token:
        # A payment of the caller's own, just logged: what crew may void.
        own = crew_api.post(f"/api/events/{event['id']}/payments", ANA, token=token)
        if own.status_code == 201:
            world["payment_id"] = own.json_body["payment"]["id"]
    body = body_for(method, path, world)
    raw = json.dumps(body) if body is not None else None
    answer = crew_api.request(method, fill(path, world), raw=raw, token=token or False)
    if caller == "nobody":
        assert answer.status_code == 401, answer.body
        return
    allowed = _role_of(caller) in EXPECTED[(method, path)]
    if caller == "break-glass owner" and (method, path) in REFUSED_TO_BREAK_GLASS:
        allowed = False
    if allowed:
        assert answer.status_code not in (401, 403), answer.body
    else:
        assert answer.status_code == 403, answer.body
        refusal = answer.json_body
        assert refusal["code"] == "forbidden"
        assert "captain" in refusal["message"] or "owner" in refusal["message"]
