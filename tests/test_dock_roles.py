"""Who may do what at the dock: each role against each route of issue 14.

DOCK_ROUTE_ROLES is the table the shared role matrix takes these rows from:
(method, path as app.routes spells it) -> the roles allowed. Every role is tried
on every route with a body the route accepts, so a 403 here is the role's doing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from app import CAPTAINS, EVERY_ROLE, app
from tests.test_access import body_for, fill, make_world

OWNER, CAPTAIN, CREW = "owner", "captain", "crew"
ANY = frozenset({OWNER, CAPTAIN, CREW})
CAPTAIN_OR_OWNER = frozenset({OWNER, CAPTAIN})

DOCK_ROUTE_ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/boats"): ANY,
    ("POST", "/api/boats"): CAPTAIN_OR_OWNER,
    ("PATCH", "/api/boats/{boat_id}"): CAPTAIN_OR_OWNER,
    ("GET", "/api/events/{event_id}/manifest"): ANY,
    ("POST", "/api/events/{event_id}/boarding"): ANY,
    ("POST", "/api/events/{event_id}/depart"): CAPTAIN_OR_OWNER,
    # Whoever ties up records the return: it ends the overdue watch.
    ("POST", "/api/events/{event_id}/return"): ANY,
    ("GET", "/api/events/{event_id}/waiver-qr.svg"): ANY,
}
CASES = [(m, p, r) for (m, p) in DOCK_ROUTE_ROLES for r in (OWNER, CAPTAIN, CREW)]


def test_the_app_declares_exactly_these_roles_on_each_dock_route():
    assert {str(r) for r in EVERY_ROLE} == ANY
    assert {str(r) for r in CAPTAINS} == CAPTAIN_OR_OWNER
    for (method, path), roles in DOCK_ROUTE_ROLES.items():
        view = app.routes[path][method].view_function
        declared = getattr(view, "allowed_roles", None)
        assert declared is not None, f"{method} {path} names no roles (use @allow)"
        assert {str(r) for r in declared} == roles, f"{method} {path}"


def _prepare(api, path: str, world: dict[str, Any]) -> None:
    """What a route needs to have happened first: a return needs a departure."""
    if path.endswith("/return"):
        api.as_role(OWNER)
        assert api.post(fill("/api/events/{event_id}/depart", world)).status_code == 200


SITE_PAGE = "https://dock.example.com/"


@pytest.mark.parametrize(
    ("method", "path", "role"), CASES, ids=[f"{m} {p} {r}" for m, p, r in CASES]
)
def test_each_role_on_each_dock_route(crew_api, event, method, path, role):
    world = make_world(crew_api, event)
    _prepare(crew_api, path, world)
    url = fill(path, world)
    if path.endswith("waiver-qr.svg"):
        url += "?origin=https%3A%2F%2Fdock.example.com"
    body = body_for(method, path, world)
    crew_api.as_role(role)
    raw = json.dumps(body) if body is not None else None
    # The dispatch page on dock.example.com asks (its Referer names the site).
    response = crew_api.request(method, url, raw=raw, headers={"referer": SITE_PAGE})
    if role in DOCK_ROUTE_ROLES[(method, path)]:
        assert 200 <= response.status_code < 300, (role, response.status_code, response.body)
    else:
        assert response.status_code == 403, (role, response.status_code, response.body)
        assert response.json_body["code"] == "forbidden"
