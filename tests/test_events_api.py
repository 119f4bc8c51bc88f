"""The events API of design.md: create, list by window, detail, edit, cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import timeutil
from tests.conftest import trip


def _scan_count(api) -> int:
    from chalicelib import aws, config

    return aws.dynamodb().scan(TableName=config.table_name(), Select="COUNT")["Count"]


def test_created_trip_has_the_contract_fields(crew_api):
    response = crew_api.post("/api/events", trip())
    assert response.status_code == 201
    event = response.json_body["event"]
    assert event["title"] == "Sunset Cruise"
    assert event["status"] == "scheduled"
    assert event["paid_cents"] == 0 and event["payment_count"] == 0
    assert event["balance_cents"] == 60000
    assert event["waiver_count"] == 0 and event["payment_logged"] is None
    assert event["version"] == 1
    assert event["crew"] == ["Jo", "Sam"]
    # Naive times are the operator's; every time leaves with its offset.
    assert event["starts_at"].endswith(("-07:00", "-08:00"))
    assert len(event["id"]) == 32


def test_trip_without_price_has_no_balance(crew_api):
    body = trip()
    del body["price_cents"]
    event = crew_api.post("/api/events", body).json_body["event"]
    assert event["price_cents"] is None and event["balance_cents"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"title": 7}, "title"),
        ({"starts_at": "tomorrow at 5"}, "starts_at"),
        ({"starts_at": "2026-02-30T10:00:00"}, "starts_at"),
        ({"ends_at": "2020-01-01T10:00:00-08:00"}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 151}, "capacity"),
        ({"capacity": 12.5}, "capacity"),
        ({"capacity": "12"}, "capacity"),
        ({"capacity": None}, "capacity"),
        ({"price_cents": -1}, "price_cents"),
        ({"price_cents": 10.5}, "price_cents"),
        ({"price_cents": True}, "price_cents"),
        ({"crew": "Jo, Sam"}, "crew"),
        ({"crew": ["Jo", 5]}, "crew"),
        ({"status": "cancelled"}, "status"),
        ({"paid_cents": 100}, "paid_cents"),
    ],
)
def test_bad_trip_is_400_naming_the_field_and_writes_nothing(crew_api, change, field):
    before = _scan_count(crew_api)
    response = crew_api.post("/api/events", trip(**change))
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field
    assert field in response.json_body["message"]
    assert _scan_count(crew_api) == before


def test_missing_title_is_required(crew_api):
    body = trip()
    del body["title"]
    response = crew_api.post("/api/events", body)
    assert response.status_code == 400
    assert response.json_body == {
        "code": "required",
        "message": "title is required",
        "field": "title",
    }


@pytest.mark.parametrize("raw", ["{", "null", '"text"', "[1]", b"\xff\xfe"])
def test_malformed_json_is_400(crew_api, raw):
    response = crew_api.post("/api/events", raw=raw)
    assert response.status_code == 400
    assert response.json_body["field"] == "body"


def test_board_lists_the_week_in_start_order(crew_api):
    today = timeutil.today_local()
    later = crew_api.post(
        "/api/events",
        trip(
            title="Whale Watch",
            starts_at=f"{today + timedelta(days=3)}T09:00:00",
            ends_at=f"{today + timedelta(days=3)}T12:00:00",
        ),
    ).json_body["event"]
    sooner = crew_api.post("/api/events", trip(title="Half-day Fishing")).json_body["event"]
    crew_api.post(
        "/api/events",
        trip(
            title="Next Month",
            starts_at=f"{today + timedelta(days=30)}T09:00:00",
            ends_at=f"{today + timedelta(days=30)}T12:00:00",
        ),
    )
    response = crew_api.get("/api/events")
    assert response.status_code == 200
    assert [e["id"] for e in response.json_body["events"]] == [sooner["id"], later["id"]]


def test_the_boards_view_carries_what_the_card_shows(crew_api):
    """`view=board`: the card's fields only, a null, false or empty list left out, and
    every figure the card shows equal to the whole event's."""
    full = crew_api.post("/api/events", trip(title="Half-day Fishing")).json_body["event"]
    bare = crew_api.post(
        "/api/events", trip(title="No price", price_cents=None, boat=None, crew=[])
    ).json_body["event"]
    response = crew_api.get("/api/events?view=board")
    assert response.status_code == 200, response.body
    assert response.json_body["view"] == "board"
    cards = {c["id"]: c for c in response.json_body["events"]}
    card = cards[full["id"]]
    card_fields = {
        "id", "title", "starts_at", "ends_at", "status", "boat", "captain", "crew",
        "capacity", "price_cents", "paid_cents", "balance_cents", "waiver_count",
        "boat_limit", "boarded_count", "departed_at", "returned_at", "overdue",
        "crew_accounts",
    }  # fmt: skip
    assert set(card) <= card_fields
    for name, value in card.items():
        assert full[name] == value, name
    assert {"notes", "version", "created_at", "payment_logged"}.isdisjoint(card)
    assert card["paid_cents"] == 0 and card["balance_cents"] == 60000
    assert card["boarded_count"] == 0  # zero is a figure, not left out
    empty = cards[bare["id"]]
    assert "price_cents" not in empty and "balance_cents" not in empty
    assert "crew" not in empty and "overdue" not in empty and "boat" not in empty
    whole = crew_api.get("/api/events").json_body
    assert len(str(response.json_body)) < len(str(whole)) / 2
    assert "view" not in whole
    bad = crew_api.get("/api/events?view=cards")
    assert bad.status_code == 400 and bad.json_body["field"] == "view"


def test_window_dates_are_inclusive_and_local(crew_api):
    # 23:30 local on the last day is still that day, although it is the next day in UTC.
    event = crew_api.post(
        "/api/events",
        trip(starts_at="2027-01-10T23:30:00", ends_at="2027-01-11T01:00:00"),
    ).json_body["event"]
    inside = crew_api.get("/api/events?from=2027-01-04&to=2027-01-10").json_body["events"]
    assert [e["id"] for e in inside] == [event["id"]]
    assert crew_api.get("/api/events?from=2027-01-11&to=2027-01-12").json_body["events"] == []


def test_window_across_new_year_finds_both_years(crew_api):
    a = crew_api.post(
        "/api/events", trip(starts_at="2027-12-31T10:00:00", ends_at="2027-12-31T12:00:00")
    ).json_body["event"]
    b = crew_api.post(
        "/api/events", trip(starts_at="2028-01-01T10:00:00", ends_at="2028-01-01T12:00:00")
    ).json_body["event"]
    found = crew_api.get("/api/events?from=2027-12-30&to=2028-01-02").json_body["events"]
    assert [e["id"] for e in found] == [a["id"], b["id"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2027-01-10&to=2027-01-01", "to"),
        ("from=2027-01-01&to=2027-04-03", "to"),
        ("from=01/02/2027", "from"),
        ("from=2027-02-30", "from"),
        ("from=2027-01-01&to=soon", "to"),
    ],
)
def test_bad_window_is_400(crew_api, query, field):
    response = crew_api.get(f"/api/events?{query}")
    assert response.status_code == 400
    assert response.json_body["field"] == field


def test_window_of_92_days_is_allowed(crew_api):
    assert crew_api.get("/api/events?from=2027-01-01&to=2027-04-02").status_code == 200


def test_detail_has_event_payments_and_waivers(crew_api, event):
    response = crew_api.get(f"/api/events/{event['id']}")
    assert response.status_code == 200
    data = response.json_body
    activity = data.pop("activity")
    assert data == {"event": event, "payments": [], "refunds": [], "waivers": []}
    assert [(a["action"], a["by"], a["by_id"]) for a in activity] == [("created", "Dana", "admin")]


@pytest.mark.parametrize("event_id", ["0" * 32, "nope", "A" * 32, "%3Cscript%3E"])
def test_unknown_event_is_404(crew_api, event_id):
    assert crew_api.get(f"/api/events/{event_id}").status_code == 404
    assert crew_api.patch(f"/api/events/{event_id}", {"version": 1}).status_code == 404
    assert crew_api.post(f"/api/events/{event_id}/cancel").status_code == 404


def test_edit_with_current_version_bumps_it(crew_api, event):
    response = crew_api.patch(
        f"/api/events/{event['id']}", {"version": 1, "capacity": 20, "notes": None}
    )
    assert response.status_code == 200, response.body
    edited = response.json_body["event"]
    assert edited["capacity"] == 20 and edited["notes"] is None and edited["version"] == 2
    assert crew_api.get(f"/api/events/{event['id']}").json_body["event"] == edited


def test_edit_with_stale_version_is_409_and_changes_nothing(crew_api, event):
    crew_api.patch(f"/api/events/{event['id']}", {"version": 1, "title": "First"})
    response = crew_api.patch(f"/api/events/{event['id']}", {"version": 1, "title": "Second"})
    assert response.status_code == 409
    assert crew_api.get(f"/api/events/{event['id']}").json_body["event"]["title"] == "First"


def test_moving_a_trip_moves_it_on_the_board(crew_api, event):
    day = timeutil.today_local() + timedelta(days=40)
    crew_api.patch(
        f"/api/events/{event['id']}",
        {"version": 1, "starts_at": f"{day}T08:00:00", "ends_at": f"{day}T10:00:00"},
    )
    assert crew_api.get("/api/events").json_body["events"] == []
    found = crew_api.get(f"/api/events?from={day}&to={day}").json_body["events"]
    assert [e["id"] for e in found] == [event["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"capacity": 999}, "capacity"),
        ({"ends_at": "2000-01-01T00:00:00Z"}, "ends_at"),
        ({"title": ""}, "title"),
        ({"status": "scheduled"}, "status"),
        ({}, "version"),
        ({"version": "1"}, "version"),
    ],
)
def test_bad_edit_is_400_and_changes_nothing(crew_api, event, change, field):
    body = {"version": 1, **change} if "version" not in change and change else change
    response = crew_api.patch(f"/api/events/{event['id']}", body)
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field
    assert crew_api.get(f"/api/events/{event['id']}").json_body["event"] == event


def test_cancel_marks_the_trip_and_keeps_it_listed(crew_api, event):
    response = crew_api.post(f"/api/events/{event['id']}/cancel")
    assert response.status_code == 200
    assert response.json_body["event"]["status"] == "cancelled"
    assert crew_api.get("/api/events").json_body["events"][0]["status"] == "cancelled"
    again = crew_api.post(f"/api/events/{event['id']}/cancel")
    assert again.status_code == 200 and again.json_body["event"]["version"] == 2


def test_cancelled_trip_cannot_be_edited(crew_api, event):
    crew_api.post(f"/api/events/{event['id']}/cancel")
    response = crew_api.patch(f"/api/events/{event['id']}", {"version": 2, "title": "Back on"})
    assert response.status_code == 409


def test_events_routes_need_login(api, aws):
    assert api.post("/api/events", trip(), token=False).status_code == 401
    assert api.get("/api/events/" + "0" * 32, token=False).status_code == 401


def test_listing_is_a_query_never_a_scan(crew_api, event):
    from chalicelib import aws

    seen = []
    aws.observers.append(lambda service, op, params: seen.append(op))
    try:
        crew_api.get("/api/events")
        crew_api.get(f"/api/events/{event['id']}")
    finally:
        aws.observers.pop()
    # Each request: the authorizer's GetItem of the account (revocation), then one Query.
    assert seen == ["GetItem", "Query", "GetItem", "Query"]
