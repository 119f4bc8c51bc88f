"""Pure rules of the dock: the six-pack limit, when a trip turns overdue, who a waiver
covers, the waiver link's origin."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.db import keys
from chalicelib.db.dock import Voyage
from chalicelib.dock import manifest
from chalicelib.dock.records import Boarding
from chalicelib.errors import BadInput
from chalicelib.trips import fleet
from chalicelib.trips.records import Trip
from chalicelib.waivers.records import Waiver


@pytest.mark.parametrize(
    ("limit", "inspected", "ok"),
    [(6, False, True), (7, False, False), (150, True, True), (1, False, True)],
)
def test_six_pack_rule(limit, inspected, ok):
    if ok:
        fleet.check_six_pack(limit, inspected)
    else:
        with pytest.raises(BadInput) as refused:
            fleet.check_six_pack(limit, inspected)
        assert refused.value.field == "passenger_limit"


def trip(**fields) -> Trip:
    base = {
        "id": "a" * 32,
        "title": "Sunset",
        "starts_at": "2026-07-04T17:00:00-07:00",
        "ends_at": "2026-07-04T19:00:00-07:00",
        "capacity": 12,
    }
    return Trip(**{**base, **fields})


def test_a_trip_turns_overdue_thirty_minutes_after_it_should_be_back():
    due = datetime.fromisoformat("2026-07-04T19:30:00-07:00")
    out = trip(departed_at="2026-07-04T17:05:00-07:00")
    assert not out.overdue_as_of(due - timedelta(seconds=1))
    assert out.overdue_as_of(due)
    assert not trip().overdue_as_of(due + timedelta(hours=5))  # never departed
    back = trip(departed_at="2026-07-04T17:05:00-07:00", returned_at="2026-07-04T20:00:00-07:00")
    assert not back.overdue_as_of(due + timedelta(hours=5))


def test_the_limit_is_the_boats_else_the_trips_capacity():
    assert trip(boat_limit=6).allowed_aboard == 6
    assert trip().allowed_aboard == 12
    assert manifest.allowed_aboard(trip(capacity=None), None) == manifest.FALLBACK_LIMIT


def test_each_person_a_waiver_covers_is_a_passenger_in_signing_order():
    def waiver(wid: str, name: str, at: str, minors: list[str]) -> Waiver:
        return Waiver(
            id=wid,
            trip_id="a" * 32,
            full_name=name,
            email="x@example.com",
            phone="1",
            date_of_birth="1980-01-01",
            emergency_name="Em",
            emergency_phone="2",
            minors=[{"name": m, "date_of_birth": "2015-01-01"} for m in minors],
            signature=name,
            people_covered=1 + len(minors),
            waiver_version="v1",
            waiver_sha256="0",
            signed_at=at,
        )

    voyage = Voyage(
        trip=trip(),
        waivers=[
            waiver("b" * 32, "Zed", "2026-07-04T10:00:00-07:00", []),
            waiver("c" * 32, "Ana", "2026-07-04T09:00:00-07:00", ["Kit"]),
        ],
        boardings=[Boarding("a" * 32, "c" * 32, 1, "Kit", True, "2026-07-04T16:00:00-07:00")],
    )
    people = manifest.passengers(voyage)
    assert [(p.name, p.minor, p.boarded) for p in people] == [
        ("Ana", False, False),
        ("Kit", True, True),
        ("Zed", False, False),
    ]
    assert keys.boarding_key("a" * 32, "c" * 32, 1)["SK"] == f"BOARD#{'c' * 32}#01"


@pytest.mark.parametrize(
    "origin",
    [None, "", "https://x.example/path", "javascript:alert(1)", "https://a b", "http://x:123456"],
)
def test_the_waiver_link_needs_a_bare_site_origin(origin):
    with pytest.raises(BadInput):
        manifest.waiver_link("a" * 32, origin, {origin or ""})


def test_the_waiver_link_on_the_pages_site():
    site = {"http://127.0.0.1:8000"}
    assert manifest.waiver_link("a" * 32, "http://127.0.0.1:8000", site) == (
        f"http://127.0.0.1:8000/g/{'a' * 32}/waiver"
    )


@pytest.mark.parametrize("site", [set(), {"https://dock.example.com"}])
def test_the_waiver_link_is_never_on_another_site(site):
    with pytest.raises(BadInput) as refused:
        manifest.waiver_link("a" * 32, "https://evil.example", site)
    assert refused.value.field == "origin"
