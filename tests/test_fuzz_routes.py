"""Fuzzing every route with hypothesis: never a 5xx, and a refused request writes nothing.

The routes come from app.routes, so a new route is fuzzed without editing this
file. Each route gets an equal share of at least 2,000 cases in all: bodies
(arbitrary JSON, near-valid JSON, form posts, raw bytes), path values, query
strings and headers. One moto world and one Client serve all the cases of a
route.

"Writes nothing": after every case the whole table is compared with its state
before the case. The table is read from moto's own store (checked once against
a Scan), because having moto serialise a full Scan response per case made this
test several times slower.

Exception, by design: a refused login or waiver signing counts the attempt in
the throttle counters (THROTTLE# items), which is how throttling works across
Lambda instances. Those items are left out of the comparison.

In CI (env CI set) the cases are derandomized, so a failure reproduces exactly.
"""

from __future__ import annotations

import json
import math
import os
import re
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from app import app
from chalicelib import config
from tests.conftest import TEST_PASSWORD, WAIVER, from_viewer, trip
from tests.test_access import make_world, table_snapshot

CI = bool(os.environ.get("CI"))
# At least 2,000 in all (issue 7); SCC_FUZZ_CASES raises it for a longer local hunt.
TOTAL_CASES = max(2000, int(os.environ.get("SCC_FUZZ_CASES", "2000")))
ROUTES = sorted((method, path) for path, methods in app.routes.items() for method in methods)
CASES_PER_ROUTE = math.ceil(TOTAL_CASES / len(ROUTES))

# --- Strategies ------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
# Dates and times at the ends of Python's calendar, where a day after or a UTC
# conversion overflows (issue 12: these answered 500 before years were bounded).
calendar_edges = [
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "9999-12-31T23:00:00-12:00",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+05:00",
    "2100-12-31T23:30:00-10:00",
    "1999-12-31T23:59:59Z",
]
# Values that sit near what the routes expect: the edges validation must hold.
edgy_values = st.sampled_from(
    [
        *calendar_edges,
        "",
        " ",
        "\x00",
        "\u202e",
        "é" * 100,
        "x" * 5000,
        0,
        -1,
        1,
        2**31,
        2**63,
        10**30,
        1.5,
        True,
        [],
        {},
        "2026-02-30T10:00:00",
        "2026-07-04T17:30:00-07:00",
        "2031-07-07",
        "1900-01-01",
        "not-a-uuid",
        "7d8f4c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
        "cash",
        "<script>alert(1)</script>",
        "=SUM(A1)",
        "data:image/png;base64,iVBORw0KGgo=",
        # Lone UTF-16 surrogates: valid JSON escapes, but no text (issue 21: 500 and 503).
        "\ud800",
        "Ana \udfff",
        ["\udbff"],
        {"\ud800": "x"},
    ]
)
# Bodies that parse to nothing a route can read (issue 21): nested ~990 levels deep, 2 KB
# (RecursionError, a 500 on every route), and deeper than any route reads.
deep_bodies = st.sampled_from(
    [
        ('{"a":' * 990 + "1" + "}" * 990).encode(),
        ("[" * 990 + "]" * 990).encode(),
        ('{"note":' + "[" * 40 + "]" * 40 + "}").encode(),
        b'{"\\ud800": 1, "name": "\\ud800"}',
    ]
)
any_value = json_values | edgy_values


def templates_for(method: str, path: str) -> list[dict[str, Any]]:
    """Valid bodies for a route: mutating one field at a time reaches deep validation."""
    if path == "/api/login":
        return [{"password": TEST_PASSWORD, "name": "Dana"}]
    if path.endswith("/payments"):
        return [{"patron_name": "Ana", "amount_cents": 1200, "method": "cash", "note": "x"}]
    if path.endswith("/void"):
        return [{"reason": "wrong amount"}]
    if path.endswith("/waiver"):
        return [
            dict(WAIVER),
            {**WAIVER, "minors": [{"name": "Kit Lee", "date_of_birth": "2019-05-01"}]},
        ]
    if path.endswith("/boarding"):
        return [{"waiver_id": "0" * 32, "name": WAIVER["full_name"], "boarded": True}]
    if path == "/api/boats" or path.startswith("/api/boats/"):
        return [{"name": "Skiff", "passenger_limit": 6, "inspected": False, "notes": "x"}]
    if method == "PATCH":
        return [{"title": "Morning Run", "version": 1}]
    if path == "/api/events":
        return [trip()]
    return [{}]


@st.composite
def near_valid(draw: Any, templates: list[dict[str, Any]]) -> dict[str, Any]:
    body = dict(draw(st.sampled_from(templates)))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        action = draw(st.sampled_from(["set", "drop", "add"]))
        if action == "set" and body:
            body[draw(st.sampled_from(sorted(body)))] = draw(any_value)
        elif action == "drop" and body:
            body.pop(draw(st.sampled_from(sorted(body))))
        else:
            body[draw(st.text(max_size=10))] = draw(any_value)
    return body


def bodies(method: str, path: str) -> st.SearchStrategy[tuple[bytes, str]]:
    """(raw body, content type) pairs."""
    templates = templates_for(method, path)
    # Three near-valid bodies to one arbitrary JSON value.
    shapes = st.integers(0, 3).flatmap(lambda k: json_values if k == 3 else near_valid(templates))
    as_json = st.builds(lambda b: json.dumps(b).encode(), shapes)
    # A lone surrogate goes as the bytes it would be (%ED%A0%80): not UTF-8, so a 400.
    form = st.builds(
        lambda b: urllib.parse.urlencode(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in b.items()},
            errors="surrogatepass",
        ).encode(),
        near_valid(templates),
    )
    raw = st.binary(max_size=300)
    content_types = st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/json; charset=latin-1",
            "",
        ]
    )
    # Mostly the right content type, so most cases reach the route's own validation
    # rather than Chalice's 415; the rest try the others.
    native = [st.tuples(as_json, st.just("application/json"))] * 3
    if method == "POST" and path.endswith("/waiver"):
        native += [st.tuples(form, st.just("application/x-www-form-urlencoded"))] * 2
    if method == "GET":
        native.append(st.tuples(st.just(b""), st.just("")))
    return st.one_of(
        *native,
        st.tuples(deep_bodies, st.just("application/json")),
        st.tuples(raw, content_types),
        st.tuples(st.just(b""), content_types),
        st.tuples(as_json | form, content_types),
    )


path_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=40)


@st.composite
def path_value(draw: Any, real: str | None) -> str:
    """Mostly the real id (so cases reach the logic), else anything a URL can carry."""
    if real is not None and draw(st.integers(0, 9)) < 7:
        return real if draw(st.integers(0, 9)) else real.upper()
    return draw(
        st.one_of(
            st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
            st.uuids().map(str),
            path_text,
            st.sampled_from(["..", "%2e%2e", "0" * 32, "A" * 32, " " * 3, "EVENT#x", "null"]),
        )
    )


def path_values(name: str, world: dict[str, Any]) -> st.SearchStrategy[str]:
    real = world.get(name)
    return path_value(None if real is None else str(real))


header_names = st.sampled_from(
    [
        "accept",
        "user-agent",
        "x-forwarded-for",
        "cloudfront-viewer-address",
        "x-origin-verify",
        "origin",
        "cookie",
        "content-length",
        "x-extra",
    ]
)
header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60
) | st.sampled_from(
    [
        "application/json",
        "text/html",
        "203.0.113.9, 10.0.0.1",
        "",
        "*/*",
        "203.0.113.9:443",
        "2001:db8::1:443",
        "[2001:db8::1]:443",
        "not-an-address:x",
    ]
)


def queries(path: str) -> st.SearchStrategy[str]:
    keys = st.sampled_from(["from", "to", "x", "from[]", ""]) | st.text(max_size=8)
    values = (
        st.dates().map(lambda d: d.isoformat())
        | st.sampled_from(["2031-07-07", "2031-13-01", "", "today", "2031-07-07T00:00"])
        | st.sampled_from(["9999-12-31", "9999-12-25", "0001-01-01", "2100-12-31", "1999-12-31"])
        | st.text(max_size=20)
    )
    pairs = st.lists(st.tuples(keys, values), max_size=3)
    return pairs.map(lambda p: urllib.parse.urlencode(p))


# --- The test --------------------------------------------------------------------


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]*)\}", lambda m: urllib.parse.quote(values[m.group(1)], safe=""), path)


def snapshot() -> list[dict[str, Any]]:
    """Every item of the table but the throttle counters, read from moto's own store.

    The same content a Scan returns, without moto serialising every item into a
    response: a Scan per case made this test several times slower.
    """
    store = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(config.table_name())
    items = [item.to_json()["Attributes"] for item in store.all_items()]
    items = [i for i in items if not i["PK"]["S"].startswith("THROTTLE#")]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_never_answers_5xx_and_refusals_write_nothing(crew_api, event, method, path):
    world = make_world(crew_api, event)
    token = crew_api.token
    state: dict[str, Any] = {"snapshot": snapshot(), "cases": 0, "statuses": set()}
    assert state["snapshot"] == table_snapshot(skip_throttle=True)  # the store is what Scan sees
    names = re.findall(r"\{([^}]*)\}", path)
    # Built once per route: hypothesis validates a strategy the first time it is drawn from.
    value_strategies = {n: path_values(n, world) for n in names}
    query_strategy = queries(path)
    body_strategy = bodies(method, path)
    header_strategy = st.dictionaries(header_names, header_values, max_size=3)
    auth_strategy = st.sampled_from(["token"] * 6 + ["none", "garbage", "Bearer " + "a.b.c"])

    @settings(
        max_examples=CASES_PER_ROUTE,
        deadline=None,
        derandomize=CI,
        database=None if CI else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def case(data: Any) -> None:
        values = {n: data.draw(value_strategies[n], label=n) for n in names}
        url = fill(path, values)
        query = data.draw(query_strategy, label="query")
        if query:
            url += "?" + query
        raw, content_type = data.draw(body_strategy, label="body")
        headers = data.draw(header_strategy, label="headers")
        if content_type:
            headers["content-type"] = content_type
        # Mostly logged in, so cases get past the authorizer; sometimes not, or forged.
        auth = data.draw(auth_strategy, label="auth")
        if auth == "token":
            headers["authorization"] = f"Bearer {token}"
        elif auth == "garbage":
            headers["authorization"] = data.draw(header_values, label="authorization")
        elif auth != "none":
            headers["authorization"] = auth
        # Each case from its own viewer, so the throttles do not end the fuzzing early
        # (drawn viewer-address or origin-verify headers still test the throttles).
        n = state["cases"]
        for name, value in from_viewer(f"198.51.{n // 250}.{n % 250 + 1}").items():
            headers.setdefault(name, value)

        response = crew_api.client.http.request(method, url, headers=headers, body=raw)
        state["cases"] += 1
        state["statuses"].add(response.status_code)
        assert response.status_code < 500, (
            f"{method} {url} -> {response.status_code}: {response.body[:300]!r}"
        )
        after = snapshot()
        if 400 <= response.status_code < 500:
            assert after == state["snapshot"], (
                f"{method} {url} was refused ({response.status_code}) but changed the table"
            )
        state["snapshot"] = after

    case()
    assert state["cases"] >= CASES_PER_ROUTE
    # The cases reached the route, not only the door: some got past the authorizer.
    assert state["statuses"] - {401, 403}, state["statuses"]


def test_the_fuzzing_budget_is_at_least_2000_cases():
    assert CASES_PER_ROUTE * len(ROUTES) >= TOTAL_CASES
    assert len(ROUTES) >= 13  # every route of the contract is enumerated
