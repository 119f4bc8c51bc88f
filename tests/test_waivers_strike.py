"""Issue 21 item 4: nobody outside can fill a trip. A captain or the owner strikes a
waiver (it stays stored and unchanged; the strike is recorded beside it), and one
waiver may cover at most the trip's remaining room."""

from __future__ import annotations

from typing import Any

from chalicelib.db import keys
from tests.conftest import WAIVER, stored_item, trip
from tests.test_access import table_snapshot


def family(name: str, minors: int, born: str = "2016-05-01") -> dict[str, Any]:
    return {
        **WAIVER,
        "full_name": name,
        "signature": name,
        "minors": [{"name": f"Kid {i} {name}", "date_of_birth": born} for i in range(minors)],
    }


def six_pack_trip(api: Any) -> dict[str, Any]:
    boat = api.boat(name="Miss Kelp", passenger_limit=6, inspected=False)
    made = api.post("/api/events", trip(boat_id=boat["id"], capacity=6))
    assert made.status_code == 201, made.body
    return made.json_body["event"]


def strike(api: Any, event_id: str, waiver_id: str, reason: Any = "made-up names", **kw: Any):
    body = {} if reason is None else {"reason": reason}
    return api.post(f"/api/events/{event_id}/waivers/{waiver_id}/strike", body, **kw)


def detail(api: Any, event_id: str) -> dict[str, Any]:
    response = api.get(f"/api/events/{event_id}")
    assert response.status_code == 200, response.body
    return response.json_body


def test_one_waiver_may_cover_no_more_than_the_trips_remaining_room(crew_api):
    event = six_pack_trip(crew_api)
    before = table_snapshot(skip_throttle=True)
    flood = crew_api.sign(event["id"], family("Mallory Vance", 11))
    assert flood.status_code in (400, 409), flood.body
    assert flood.json_body["field"] == "minors"
    assert "6" in flood.json_body["message"]
    assert table_snapshot(skip_throttle=True) == before
    assert crew_api.signed(event["id"], family("Ana Ruiz", 3))["people_covered"] == 4
    # Two seats left: a family of three is refused, a couple fits.
    three = crew_api.sign(event["id"], family("Ben Ode", 2))
    assert three.status_code in (400, 409) and three.json_body["field"] == "minors"
    assert crew_api.signed(event["id"], family("Cy Park", 1))["people_covered"] == 2
    # A full trip still takes one person at a time (a replaced no-show, a re-signed form).
    assert crew_api.signed(event["id"], family("Di Vo", 0))["people_covered"] == 1


def test_the_form_page_says_why_and_keeps_what_was_typed(crew_api):
    event = six_pack_trip(crew_api)
    form = {**family("Mallory Vance", 0)}
    del form["minors"]
    form["minor_name"] = [f"Kid {i}" for i in range(7)]
    form["minor_dob"] = ["2016-05-01"] * 7
    form["agree"] = "on"
    from urllib.parse import urlencode

    response = crew_api.request(
        "POST",
        f"/g/{event['id']}/waiver",
        raw=urlencode(form, doseq=True),
        headers={"content-type": "application/x-www-form-urlencoded"},
        token=False,
    )
    assert response.status_code in (400, 409)
    page = response.body.decode()
    assert "room for 6" in page
    assert "Kid 6" in page


def test_a_captain_strikes_a_waiver_it_stays_stored_and_stops_counting(crew_api, sent):
    event = six_pack_trip(crew_api)
    eid = event["id"]
    real = crew_api.signed(eid, family("Ana Ruiz", 2))
    fake = crew_api.signed(eid, family("Mallory Vance", 2))
    assert detail(crew_api, eid)["event"]["waiver_count"] == 6
    assert crew_api.sign(eid, family("Ben Ode", 1)).json_body["code"] in ("trip_full", "no_room")
    key = keys.waiver_key(eid, fake["id"])
    stored_before = stored_item(key)
    captain = crew_api.account("captain", display_name="Cap Reyes")
    struck = strike(crew_api, eid, fake["id"], "names made up", token=captain["token"])
    assert struck.status_code == 200, struck.body
    assert struck.json_body["event"]["waiver_count"] == 3
    assert struck.json_body["waiver"]["struck"]["by"] == "Cap Reyes"
    assert struck.json_body["waiver"]["struck"]["reason"] == "names made up"
    # The signed record is unchanged: only the strike's own attributes were added.
    stored_after = stored_item(key)
    added = {k for k in stored_after if k not in stored_before}
    assert added == {"struck_at", "struck_by", "struck_by_id", "struck_reason"}
    assert {k: stored_after[k] for k in stored_before} == stored_before
    # It no longer counts: the quota, the manifest, the trip's list.
    seen = detail(crew_api, eid)
    assert seen["event"]["waiver_count"] == 3
    listed = {w["id"]: w for w in seen["waivers"]}
    assert listed[fake["id"]]["struck"]["reason"] == "names made up"
    assert listed[real["id"]]["struck"] is None
    manifest = crew_api.manifest(eid)
    assert {p["waiver_id"] for p in manifest["passengers"]} == {real["id"]}
    assert manifest["counts"]["signed"] == 3
    assert crew_api.signed(eid, family("Ben Ode", 1))["people_covered"] == 2
    # Who, when and why are in the trip's activity.
    entry = next(a for a in seen["activity"] if a["action"] == "waiver_struck")
    assert entry["by"] == "Cap Reyes" and "names made up" in entry["summary"]
    # The whole record still reads, and says it was struck.
    record = crew_api.get(f"/api/events/{eid}/waivers/{fake['id']}").json_body["waiver"]
    assert record["full_name"] == "Mallory Vance" and record["struck_reason"] == "names made up"


def test_a_struck_waiver_cannot_be_boarded(crew_api):
    event = six_pack_trip(crew_api)
    fake = crew_api.signed(event["id"], family("Mallory Vance", 1))
    assert strike(crew_api, event["id"], fake["id"]).status_code == 200
    before = table_snapshot(skip_throttle=True)
    path = f"/api/events/{event['id']}/boarding"
    response = crew_api.post(path, {"waiver_id": fake["id"], "person": 0, "boarded": True})
    assert response.status_code == 409, response.body
    assert (response.json_body["code"], response.json_body["field"]) == ("struck", "waiver_id")
    assert table_snapshot(skip_throttle=True) == before


def test_striking_again_changes_nothing_and_aboard_people_must_go_ashore_first(crew_api):
    event = six_pack_trip(crew_api)
    eid = event["id"]
    signed = crew_api.signed(eid, family("Ana Ruiz", 1))
    path = f"/api/events/{eid}/boarding"
    on = {"waiver_id": signed["id"], "person": 1, "boarded": True}
    assert crew_api.post(path, on).status_code == 200
    before = table_snapshot(skip_throttle=True)
    aboard = strike(crew_api, eid, signed["id"])
    assert aboard.status_code == 409, aboard.body
    assert (aboard.json_body["code"], aboard.json_body["field"]) == ("aboard", "waiver_id")
    assert table_snapshot(skip_throttle=True) == before
    off = {"waiver_id": signed["id"], "person": 1, "boarded": False}
    assert crew_api.post(path, off).status_code == 200
    assert strike(crew_api, eid, signed["id"]).json_body["already_struck"] is False
    again = strike(crew_api, eid, signed["id"], "another reason")
    assert again.status_code == 200 and again.json_body["already_struck"] is True
    assert again.json_body["waiver"]["struck"]["reason"] == "made-up names"
    assert detail(crew_api, eid)["event"]["waiver_count"] == 0


def test_a_strike_needs_a_reason_and_a_real_waiver(crew_api, event):
    signed = crew_api.signed(event["id"])
    before = table_snapshot(skip_throttle=True)
    for reason in (None, "", "   ", 7, "x" * 301):
        refused = strike(crew_api, event["id"], signed["id"], reason)
        assert refused.status_code == 400, (reason, refused.body)
        assert refused.json_body["field"] == "reason"
    assert strike(crew_api, event["id"], "f" * 32).status_code == 404
    assert strike(crew_api, "0" * 32, signed["id"]).status_code == 404
    assert table_snapshot(skip_throttle=True) == before


def test_crew_cannot_strike(crew_api, event):
    signed = crew_api.signed(event["id"])
    deckhand = crew_api.account("crew")
    refused = strike(crew_api, event["id"], signed["id"], token=deckhand["token"])
    assert refused.status_code == 403
