"""At the dock (issue 14): boats and their limits, who is aboard, departure with a
manifest ashore, the return and the overdue watch."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from chalicelib.db import keys
from tests.conftest import WAIVER, stored_item, trip
from tests.test_access import table_snapshot

SHORE = ["shore@shipcaptaincrew.example", "harbor-office@shipcaptaincrew.example"]


def signer(name: str, minors: tuple[str, ...] = (), contact: str = "Sam Lee") -> dict[str, Any]:
    return {
        **WAIVER,
        "full_name": name,
        "signature": name,
        "emergency_name": contact,
        "minors": [{"name": m, "date_of_birth": "2017-05-01"} for m in minors],
    }


def sign_people(api, event_id: str, names: list[str]) -> dict[str, str]:
    """One adult waiver per name; name -> waiver id."""
    return {name: api.signed(event_id, signer(name))["id"] for name in names}


@pytest.fixture
def six_pack(crew_api) -> dict[str, Any]:
    return crew_api.boat(name="Miss Kelp", passenger_limit=6, inspected=False)


@pytest.fixture
def voyage(crew_api, six_pack) -> dict[str, Any]:
    """A trip on the six-pack with a family waiver (a mother and two minors) and three adults."""
    made = crew_api.post("/api/events", trip(boat_id=six_pack["id"], capacity=6))
    assert made.status_code == 201, made.body
    event = made.json_body["event"]
    family = crew_api.signed(event["id"], signer("Ana Ruiz", ("Kit Ruiz", "Lu Ruiz"), "Jo Ruiz"))
    adults = sign_people(crew_api, event["id"], ["Ben Ode", "Cy Park", "Di Vo"])
    crew_api.drain()  # the signers' copies, so each test counts only its own emails
    return {"event": event, "family": family["id"], "adults": adults}


def board_everyone(api, voyage: dict[str, Any]) -> None:
    eid = voyage["event"]["id"]
    for name in ("Ana Ruiz", "Kit Ruiz", "Lu Ruiz"):
        assert api.board(eid, voyage["family"], name).status_code == 200
    for name, wid in voyage["adults"].items():
        assert api.board(eid, wid, name).status_code == 200


# --- Boats -------------------------------------------------------------------------


def test_an_uninspected_boat_over_six_passengers_is_refused_naming_the_field(crew_api):
    response = crew_api.post(
        "/api/boats", {"name": "Skiff", "passenger_limit": 7, "inspected": False}
    )
    assert response.status_code == 400
    assert response.json_body["field"] == "passenger_limit"
    assert "six" in response.json_body["message"]
    assert crew_api.get("/api/boats").json_body["boats"] == []


def test_an_inspected_boat_takes_its_certificate_limit_up_to_150(crew_api):
    boat = crew_api.boat(name="Sea Wren", passenger_limit=49, inspected=True, uscg_number="D123")
    assert boat["passenger_limit"] == 49 and boat["inspected"] is True
    too_many = crew_api.post(
        "/api/boats", {"name": "Liner", "passenger_limit": 151, "inspected": True}
    )
    assert too_many.status_code == 400 and too_many.json_body["field"] == "passenger_limit"
    missing = crew_api.post("/api/boats", {"name": "Liner", "passenger_limit": 10})
    assert missing.status_code == 400 and missing.json_body["field"] == "inspected"
    assert [b["name"] for b in crew_api.get("/api/boats").json_body["boats"]] == ["Sea Wren"]


def test_boats_are_listed_by_name(crew_api):
    for name in ("Zephyr", "albatross", "Miss Kelp"):
        crew_api.boat(name=name)
    names = [b["name"] for b in crew_api.get("/api/boats").json_body["boats"]]
    assert names == ["albatross", "Miss Kelp", "Zephyr"]


def test_editing_a_boat_keeps_the_six_pack_rule(crew_api):
    boat = crew_api.boat(name="Sea Wren", passenger_limit=30, inspected=True)
    path = f"/api/boats/{boat['id']}"
    lost_cert = crew_api.patch(path, {"inspected": False})
    assert lost_cert.status_code == 400 and lost_cert.json_body["field"] == "passenger_limit"
    fixed = crew_api.patch(path, {"inspected": False, "passenger_limit": 6, "notes": "COI lapsed"})
    assert fixed.status_code == 200, fixed.body
    assert fixed.json_body["boat"]["passenger_limit"] == 6
    assert fixed.json_body["boat"]["version"] == boat["version"] + 1
    stale = crew_api.patch(path, {"name": "Wren", "version": boat["version"]})
    assert stale.status_code == 409 and stale.json_body["code"] == "stale"
    assert crew_api.patch(f"/api/boats/{'0' * 32}", {"name": "x"}).status_code == 404


# --- Trips on a boat ----------------------------------------------------------------


def test_a_trip_on_a_boat_may_not_book_more_than_its_limit(crew_api, six_pack):
    over = crew_api.post("/api/events", trip(boat_id=six_pack["id"], capacity=7))
    assert over.status_code == 400
    assert over.json_body["code"] == "over_boat_limit"
    assert over.json_body["field"] == "capacity"
    made = crew_api.post("/api/events", trip(boat_id=six_pack["id"], capacity=6, boat="typo"))
    assert made.status_code == 201, made.body
    event = made.json_body["event"]
    assert (event["boat_id"], event["boat"], event["boat_limit"]) == (
        six_pack["id"],
        "Miss Kelp",
        6,
    )
    grow = crew_api.patch(f"/api/events/{event['id']}", {"capacity": 8, "version": 1})
    assert grow.status_code == 400 and grow.json_body["code"] == "over_boat_limit"
    big = crew_api.boat(name="Sea Wren", passenger_limit=40, inspected=True)
    moved = crew_api.patch(
        f"/api/events/{event['id']}", {"boat_id": big["id"], "capacity": 30, "version": 1}
    )
    assert moved.status_code == 200, moved.body
    assert moved.json_body["event"]["boat"] == "Sea Wren"
    assert moved.json_body["event"]["boat_limit"] == 40


def test_a_trip_naming_an_unknown_boat_is_refused(crew_api):
    response = crew_api.post("/api/events", trip(boat_id="f" * 32))
    assert response.status_code == 400 and response.json_body["field"] == "boat_id"
    bad = crew_api.post("/api/events", trip(boat_id="EVENT#x"))
    assert bad.status_code == 400 and bad.json_body["field"] == "boat_id"


def test_trips_with_a_free_text_boat_keep_working(crew_api, event):
    assert event["boat"] == "Osprey" and event["boat_id"] is None
    assert event["boat_limit"] is None and event["boarded_count"] == 0
    edited = crew_api.patch(f"/api/events/{event['id']}", {"boat": "Heron", "version": 1})
    assert edited.status_code == 200 and edited.json_body["event"]["boat"] == "Heron"
    counts = crew_api.manifest(event["id"])["counts"]
    assert counts == {"signed": 0, "boarded": 0, "capacity": 12, "limit": 12}


# --- The manifest and boarding ---------------------------------------------------------


def test_the_manifest_lists_each_person_a_waiver_covers(crew_api, voyage):
    m = crew_api.manifest(voyage["event"]["id"])
    people = [(p["name"], p["minor"], p["boarded"]) for p in m["passengers"]]
    assert people == [
        ("Ana Ruiz", False, False),
        ("Kit Ruiz", True, False),
        ("Lu Ruiz", True, False),
        ("Ben Ode", False, False),
        ("Cy Park", False, False),
        ("Di Vo", False, False),
    ]
    assert m["counts"] == {"signed": 6, "boarded": 0, "capacity": 6, "limit": 6}
    assert m["boat"]["name"] == "Miss Kelp"
    assert m["trip"]["id"] == voyage["event"]["id"]
    kit = m["passengers"][1]
    assert kit["waiver_id"] == voyage["family"] and kit["signed_at"]


def test_boarding_and_unboarding_one_tap_each(crew_api, voyage):
    eid = voyage["event"]["id"]
    on = crew_api.board(eid, voyage["family"], "kit  ruiz")
    assert on.status_code == 200, on.body
    assert on.json_body["counts"]["boarded"] == 1
    kit = next(p for p in on.json_body["passengers"] if p["name"] == "Kit Ruiz")
    assert kit["boarded"] is True and kit["boarded_by"] == "Dana"
    again = crew_api.board(eid, voyage["family"], "Kit Ruiz")
    assert again.status_code == 200 and again.json_body["counts"]["boarded"] == 1
    off = crew_api.board(eid, voyage["family"], "Kit Ruiz", boarded=False)
    assert off.json_body["counts"]["boarded"] == 0
    assert crew_api.get(f"/api/events/{eid}").json_body["event"]["boarded_count"] == 0
    off_again = crew_api.board(eid, voyage["family"], "Kit Ruiz", boarded=False)
    assert off_again.status_code == 200 and off_again.json_body["counts"]["boarded"] == 0


def test_a_replayed_boarding_mark_counts_once(crew_api, voyage):
    """A phone's queued tap carries a mark_id: its replay (the answer was lost)
    changes nothing and writes nothing."""
    eid = voyage["event"]["id"]
    ben = voyage["adults"]["Ben Ode"]
    mark = "0b7c2a34-5a7e-4d8e-9c1f-3e2d4c5b6a79"
    body = {"waiver_id": ben, "name": "Ben Ode", "boarded": False, "mark_id": mark}
    assert crew_api.board(eid, ben, "Ben Ode").status_code == 200
    first = crew_api.post(f"/api/events/{eid}/boarding", body)
    assert first.status_code == 200, first.body
    assert first.json_body["counts"]["boarded"] == 0
    before = table_snapshot(skip_throttle=True)
    replay = crew_api.post(f"/api/events/{eid}/boarding", body)
    assert replay.status_code == 200, replay.body
    assert replay.json_body["counts"]["boarded"] == 0
    assert table_snapshot(skip_throttle=True) == before  # no second activity line either
    # A new tap (a new id) boards him again.
    again = {**body, "boarded": True, "mark_id": "1b7c2a34-5a7e-4d8e-9c1f-3e2d4c5b6a79"}
    assert crew_api.post(f"/api/events/{eid}/boarding", again).json_body["counts"]["boarded"] == 1
    assert crew_api.get(f"/api/events/{eid}").json_body["event"]["boarded_count"] == 1
    bad = crew_api.post(f"/api/events/{eid}/boarding", {**body, "mark_id": "tap-1"})
    assert bad.status_code == 400 and bad.json_body["field"] == "mark_id"


def test_boarding_past_the_boats_limit_is_409_and_writes_nothing(crew_api, voyage):
    eid = voyage["event"]["id"]
    board_everyone(crew_api, voyage)
    extra = crew_api.signed(eid, signer("Ed Moss"))["id"]
    before = table_snapshot(skip_throttle=True)
    over = crew_api.board(eid, extra, "Ed Moss")
    assert over.status_code == 409
    assert over.json_body["code"] == "over_limit"
    assert table_snapshot(skip_throttle=True) == before
    assert crew_api.manifest(eid)["counts"]["boarded"] == 6
    # Put one ashore and the seventh fits.
    assert crew_api.board(eid, voyage["adults"]["Di Vo"], "Di Vo", boarded=False).status_code == 200
    assert crew_api.board(eid, extra, "Ed Moss").status_code == 200


def test_only_people_with_a_signed_waiver_can_be_boarded(crew_api, voyage):
    eid = voyage["event"]["id"]
    stranger = crew_api.board(eid, voyage["family"], "Mallory")
    assert stranger.status_code == 400 and stranger.json_body["code"] == "no_waiver"
    assert stranger.json_body["field"] == "name"
    no_waiver = crew_api.board(eid, "a" * 32, "Ana Ruiz")
    assert no_waiver.status_code == 400 and no_waiver.json_body["field"] == "waiver_id"
    other = crew_api.post("/api/events", trip()).json_body["event"]
    elsewhere = crew_api.board(other["id"], voyage["family"], "Ana Ruiz")
    assert elsewhere.status_code == 400 and elsewhere.json_body["code"] == "no_waiver"
    assert crew_api.board("0" * 32, voyage["family"], "Ana Ruiz").status_code == 404


def _boarded_names(m: dict[str, Any]) -> list[tuple[str, int, bool]]:
    return [(p["name"], p["person"], p["boarded"]) for p in m["passengers"]]


def test_each_person_a_waiver_covers_has_a_stable_id_that_boarding_uses(crew_api, event):
    """Issue 21 item 10: "Alex Smith" and "alex  smith" on one waiver are two people."""
    eid = event["id"]
    family = crew_api.signed(eid, signer("Pat Smith", ("Alex Smith", "alex  smith")))["id"]
    m = crew_api.manifest(eid)
    assert _boarded_names(m) == [
        ("Pat Smith", 0, False),
        ("Alex Smith", 1, False),
        ("alex  smith", 2, False),
    ]
    path = f"/api/events/{eid}/boarding"
    for person in (1, 2):
        on = crew_api.post(path, {"waiver_id": family, "person": person, "boarded": True})
        assert on.status_code == 200, on.body
    m = crew_api.manifest(eid)
    assert m["counts"]["boarded"] == 2
    assert [p["boarded"] for p in m["passengers"]] == [False, True, True]
    off = crew_api.post(path, {"waiver_id": family, "person": 1, "boarded": False})
    assert [p["boarded"] for p in off.json_body["passengers"]] == [False, False, True]
    for bad in (3, -1, "1", True):
        refused = crew_api.post(path, {"waiver_id": family, "person": bad, "boarded": True})
        assert refused.status_code == 400, (bad, refused.body)
        assert refused.json_body["field"] == "person"


def test_boarding_by_name_alone_marks_a_namesake_not_yet_aboard(crew_api, event):
    """A page of an older version sends names: the second "alex smith" is still marked."""
    eid = event["id"]
    family = crew_api.signed(eid, signer("Pat Smith", ("Alex Smith", "alex  smith")))["id"]
    for _ in range(2):
        assert crew_api.board(eid, family, "alex smith").status_code == 200
    m = crew_api.manifest(eid)
    assert m["counts"]["boarded"] == 2
    assert [p["boarded"] for p in m["passengers"]] == [False, True, True]
    again = crew_api.board(eid, family, "Alex Smith")
    assert again.status_code == 200 and again.json_body["counts"]["boarded"] == 2


# --- Departure -------------------------------------------------------------------------


def test_depart_emails_the_manifest_ashore_with_everyone_aboard(crew_api, voyage, sent):
    eid = voyage["event"]["id"]
    board_everyone(crew_api, voyage)
    crew_api.board(eid, voyage["adults"]["Di Vo"], "Di Vo", boarded=False)
    crew_api.as_role("captain", "Maria Reyes")
    left = crew_api.post(f"/api/events/{eid}/depart")
    assert left.status_code == 200, left.body
    trip_now = left.json_body["trip"]
    assert trip_now["departed_at"] and trip_now["departed_by"] == "Maria Reyes"
    assert trip_now["departed_headcount"] == 5
    assert left.json_body["departure"]["headcount"] == 5
    # Owed through the outbox, in the same transaction as the departure.
    owed = stored_item(keys.departure_key(eid))
    assert owed["GSI1PK"] == keys.OUTBOX and owed["notification"] == "pending"
    assert sent == []
    assert crew_api.drain() == 1
    (email,) = sent
    assert email["to"] == SHORE
    assert "Miss Kelp" in email["subject"] and "5 aboard" in email["subject"]
    for name in ("Ana Ruiz", "Kit Ruiz", "Lu Ruiz", "Ben Ode", "Cy Park"):
        assert name in email["text"] and name in email["html"]
    assert "Di Vo" not in email["text"]
    assert "Kit Ruiz (minor)" in email["text"]
    assert "Jo Ruiz, +1 415 555 0101" in email["text"]
    assert "Maria Reyes" in email["text"]  # the captain
    assert "Jo, Sam" in email["text"]  # the crew
    assert "Expected back" in email["text"]
    assert stored_item(keys.departure_key(eid))["notification"] == "sent"
    assert crew_api.drain() == 0


def test_departing_twice_is_a_clear_409(crew_api, voyage):
    eid = voyage["event"]["id"]
    assert crew_api.post(f"/api/events/{eid}/depart").status_code == 200
    before = table_snapshot(skip_throttle=True)
    again = crew_api.post(f"/api/events/{eid}/depart")
    assert again.status_code == 409 and again.json_body["code"] == "already_departed"
    assert table_snapshot(skip_throttle=True) == before
    late = crew_api.board(eid, voyage["family"], "Ana Ruiz")
    assert late.status_code == 409 and late.json_body["code"] == "already_departed"


def test_departing_over_the_limit_is_409(crew_api, voyage, six_pack):
    eid = voyage["event"]["id"]
    board_everyone(crew_api, voyage)
    # The boat's certificate changes after boarding: six aboard, four allowed.
    shrunk = crew_api.patch(f"/api/boats/{six_pack['id']}", {"passenger_limit": 4})
    assert shrunk.status_code == 200
    assert crew_api.manifest(eid)["counts"] == {
        "signed": 6,
        "boarded": 6,
        "capacity": 6,
        "limit": 4,
    }
    refused = crew_api.post(f"/api/events/{eid}/depart")
    assert refused.status_code == 409 and refused.json_body["code"] == "over_limit"
    assert "6 aboard of 4 allowed" in refused.json_body["message"]
    assert crew_api.manifest(eid)["trip"]["departed_at"] is None


def test_a_cancelled_trip_neither_boards_nor_departs(crew_api, voyage):
    eid = voyage["event"]["id"]
    crew_api.post(f"/api/events/{eid}/cancel", {})
    assert crew_api.board(eid, voyage["family"], "Ana Ruiz").json_body["code"] == "cancelled"
    assert crew_api.post(f"/api/events/{eid}/depart").json_body["code"] == "cancelled"


# --- Return and the overdue watch --------------------------------------------------------


def test_returning_before_departing_is_a_clear_409(crew_api, voyage):
    eid = voyage["event"]["id"]
    before = table_snapshot(skip_throttle=True)
    early = crew_api.post(f"/api/events/{eid}/return")
    assert early.status_code == 409 and early.json_body["code"] == "not_departed"
    assert table_snapshot(skip_throttle=True) == before
    crew_api.post(f"/api/events/{eid}/depart")
    back = crew_api.post(f"/api/events/{eid}/return")
    assert back.status_code == 200 and back.json_body["trip"]["returned_at"]
    twice = crew_api.post(f"/api/events/{eid}/return")
    assert twice.status_code == 409 and twice.json_body["code"] == "already_returned"


def ends_at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["ends_at"])


def test_an_overdue_trip_emails_the_shore_once_and_all_back_on_return(
    crew_api, voyage, clock, sent
):
    eid = voyage["event"]["id"]
    board_everyone(crew_api, voyage)
    crew_api.post(f"/api/events/{eid}/depart")
    crew_api.drain()
    sent.clear()
    due = ends_at(voyage["event"]) + timedelta(minutes=30)

    clock.moment = due - timedelta(seconds=1)
    assert crew_api.drain() == 0
    assert crew_api.manifest(eid)["trip"]["overdue"] is False

    clock.moment = due
    listed = crew_api.get(f"/api/events?from={voyage['event']['starts_at'][:10]}").json_body
    assert next(e for e in listed["events"] if e["id"] == eid)["overdue"] is True
    assert crew_api.drain() == 1
    (alarm,) = sent
    assert alarm["to"] == SHORE and alarm["subject"].startswith("OVERDUE")
    assert "Miss Kelp" in alarm["subject"] and "Kit Ruiz (minor)" in alarm["text"]
    clock.advance(600)
    assert crew_api.drain() == 0  # once, not every minute
    assert len(sent) == 1

    back = crew_api.post(f"/api/events/{eid}/return")
    assert back.status_code == 200 and back.json_body["trip"]["overdue"] is False
    assert crew_api.drain() == 1
    assert sent[-1]["subject"].startswith("All back") and sent[-1]["to"] == SHORE
    assert "6 people were aboard" in sent[-1]["text"]
    assert crew_api.drain() == 0


def test_a_trip_back_in_time_sends_no_overdue_and_no_all_back(crew_api, voyage, clock, sent):
    eid = voyage["event"]["id"]
    crew_api.post(f"/api/events/{eid}/depart")
    clock.moment = ends_at(voyage["event"])
    crew_api.post(f"/api/events/{eid}/return")
    clock.advance(3600)
    crew_api.drain()
    assert [e["subject"].split(":")[0] for e in sent] == ["Departed"]


def test_a_trip_that_never_departed_is_never_overdue(crew_api, voyage, clock, sent):
    clock.moment = ends_at(voyage["event"]) + timedelta(hours=3)
    assert crew_api.drain() == 0
    assert sent == []


# --- Roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "sees"), [("owner", True), ("captain", True), ("crew", False)])
def test_emergency_contacts_are_for_captains_and_the_owner(crew_api, voyage, role, sees):
    crew_api.as_role(role)
    passengers = crew_api.manifest(voyage["event"]["id"])["passengers"]
    assert all(("emergency_phone" in p) is sees for p in passengers)
    if sees:
        assert passengers[0]["emergency_name"] == "Jo Ruiz"


def test_crew_board_but_only_a_captain_or_the_owner_departs(crew_api, voyage):
    eid = voyage["event"]["id"]
    crew_api.as_role("crew", "Jo")
    assert crew_api.board(eid, voyage["family"], "Ana Ruiz").status_code == 200
    refused = crew_api.post(f"/api/events/{eid}/depart")
    assert refused.status_code == 403 and refused.json_body["code"] == "forbidden"
    crew_api.as_role("captain", "Maria")
    assert crew_api.post(f"/api/events/{eid}/depart").status_code == 200
    crew_api.as_role("crew", "Jo")
    assert crew_api.post(f"/api/events/{eid}/return").status_code == 200


# --- The waiver link as a QR code --------------------------------------------------------
# The dispatch page on dock.example.com asks (the browser names its page in Referer).
SITE_PAGE = {"referer": "https://dock.example.com/"}


def test_waiver_qr_code_is_an_svg_of_the_link(crew_api, event):
    url = f"/api/events/{event['id']}/waiver-qr.svg?origin=https%3A%2F%2Fdock.example.com"
    response = crew_api.get(url, headers=SITE_PAGE)
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"] == "image/svg+xml"
    svg = response.body.decode()
    assert svg.startswith("<svg") and "<path" in svg and "<script" not in svg
    # The same modules segno draws for the trip's waiver link on that site.
    import io

    import segno

    expected = io.BytesIO()
    segno.make(f"https://dock.example.com/g/{event['id']}/waiver", error="m").save(
        expected, kind="svg", scale=8, border=4, xmldecl=False, dark="#000", light="#fff"
    )
    drawn = re.search(r' d="([^"]+)"', svg).group(1)
    assert drawn == re.search(r' d="([^"]+)"', expected.getvalue().decode()).group(1)
    assert crew_api.get(url, token=False).status_code == 401


@pytest.mark.parametrize(
    "origin", ["", "javascript:alert(1)", "https://dock.example.com/evil", "ftp://x", "x" * 300]
)
def test_waiver_qr_code_needs_a_plain_site_origin(crew_api, event, origin):
    from urllib.parse import quote

    response = crew_api.get(
        f"/api/events/{event['id']}/waiver-qr.svg?origin={quote(origin)}", headers=SITE_PAGE
    )
    assert response.status_code == 400 and response.json_body["field"] == "origin"


@pytest.mark.parametrize(
    "asked",
    [
        {"referer": "https://dock.example.com/"},
        {"origin": "https://dock.example.com"},
        {},
    ],
)
def test_waiver_qr_code_is_never_for_another_site(crew_api, event, asked):
    url = f"/api/events/{event['id']}/waiver-qr.svg?origin=https%3A%2F%2Fevil.example"
    response = crew_api.get(url, headers=asked)
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == "origin"


def test_waiver_qr_code_is_for_site_url_when_it_is_set(crew_api, event, monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://dock.example.com/staging/")
    base = f"/api/events/{event['id']}/waiver-qr.svg?origin="
    # Whatever the page says, SITE_URL decides which site this is.
    evil = {"referer": "https://evil.example/"}
    assert crew_api.get(base + "https%3A%2F%2Fevil.example", headers=evil).status_code == 400
    assert crew_api.get(base + "https%3A%2F%2Fdock.example.com", headers=evil).status_code == 200


def test_boarding_departure_and_return_are_in_the_trips_activity(crew_api, voyage):
    eid = voyage["event"]["id"]
    crew_api.board(eid, voyage["adults"]["Di Vo"], "Di Vo")
    crew_api.board(eid, voyage["adults"]["Di Vo"], "Di Vo", boarded=False)
    crew_api.board(eid, voyage["adults"]["Di Vo"], "Di Vo")
    crew_api.as_role("captain", "Maria Reyes")
    assert crew_api.post(f"/api/events/{eid}/depart").status_code == 200
    assert crew_api.post(f"/api/events/{eid}/return").status_code == 200
    activity = crew_api.get(f"/api/events/{eid}").json_body["activity"]
    dock = [
        (a["action"], a["by"]) for a in activity if a["action"] not in ("created", "waiver_signed")
    ]
    assert [action for action, _ in dock] == [
        "boarded",
        "put_ashore",
        "boarded",
        "departed",
        "returned",
    ]
    assert dock[-1][1] == "Maria Reyes"
    assert "1 aboard" in next(a["summary"] for a in activity if a["action"] == "departed")
