"""Payment logging over HTTP: the ledger, idempotent replays, voids (issue 3)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from chalicelib import aws, config
from tests.conftest import ANA, trip


def payment(**overrides: Any) -> dict[str, Any]:
    body = dict(ANA)
    body.update(overrides)
    return body


def detail(api, event_id: str) -> dict[str, Any]:
    response = api.get(f"/api/events/{event_id}")
    assert response.status_code == 200, response.body
    return response.json_body


def stored_item_count() -> int:
    # A test-side client: the app's clients record calls for the IAM policy test.
    scan = boto3.client("dynamodb").scan(TableName=config.table_name(), Select="COUNT")
    return scan["Count"]


# --- Logging --------------------------------------------------------------------


def test_logged_payment_is_201_with_the_payment_and_the_updated_trip(crew_api, event):
    response = crew_api.pay(event["id"], note="Paid at the dock")
    assert response.status_code == 201, response.body
    body = response.json_body
    paid = body["payment"]
    assert paid["patron_name"] == "Ana Ruiz"
    assert paid["amount_cents"] == 12000
    assert paid["method"] == "cash"
    assert paid["note"] == "Paid at the dock"
    assert paid["event_id"] == event["id"]
    assert paid["status"] == "logged"
    assert paid["void_reason"] is None
    assert paid["notification"] == "pending"
    assert paid["logged_by"] == "Dana"
    assert uuid.UUID(paid["id"])
    assert paid["logged_at"].endswith(("-07:00", "-08:00"))
    trip_after = body["event"]
    assert trip_after["paid_cents"] == 12000
    assert trip_after["payment_count"] == 1
    assert trip_after["balance_cents"] == 60000 - 12000
    assert trip_after["payment_logged"] == paid["logged_at"]
    # Bookkeeping (outbox marker, attempts) never leaves the API.
    assert not any(name.startswith(("_", "GSI")) for name in paid)


def test_amounts_add_up_on_the_trip(crew_api, event):
    for cents in (12000, 5, 10_000_000):
        assert crew_api.pay(event["id"], amount_cents=cents).status_code == 201
    shown = detail(crew_api, event["id"])["event"]
    assert shown["paid_cents"] == 12000 + 5 + 10_000_000
    assert shown["payment_count"] == 3
    assert shown["balance_cents"] == 60000 - shown["paid_cents"]


def test_payment_keeps_the_trip_version_so_a_crew_edit_is_not_stale(crew_api, event):
    assert crew_api.pay(event["id"]).json_body["event"]["version"] == event["version"]
    edit = crew_api.patch(f"/api/events/{event['id']}", {"title": "Late Cruise", "version": 1})
    assert edit.status_code == 200, edit.body
    assert edit.json_body["event"]["paid_cents"] == 12000


def test_logged_by_records_who_was_logged_in(api, event):
    api.login("Sam")
    assert api.pay(event["id"]).json_body["payment"]["logged_by"] == "Sam"


def test_client_payment_id_becomes_the_payment_id(crew_api, event):
    chosen = str(uuid.uuid4())
    response = crew_api.pay(event["id"], payment_id=chosen)
    assert response.status_code == 201
    assert response.json_body["payment"]["id"] == chosen


def test_logging_a_payment_needs_login(crew_api, event):
    response = crew_api.post(f"/api/events/{event['id']}/payments", ANA, token=False)
    assert response.status_code == 401
    assert detail(crew_api, event["id"])["event"]["payment_count"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"patron_name": None}, "patron_name"),
        ({"patron_name": ""}, "patron_name"),
        ({"patron_name": "   "}, "patron_name"),
        ({"patron_name": "x" * 121}, "patron_name"),
        ({"patron_name": 7}, "patron_name"),
        ({"patron_name": "Ana\nRuiz"}, "patron_name"),
        ({"amount_cents": None}, "amount_cents"),
        ({"amount_cents": 0}, "amount_cents"),
        ({"amount_cents": -500}, "amount_cents"),
        ({"amount_cents": 10_000_001}, "amount_cents"),
        ({"amount_cents": 120.5}, "amount_cents"),
        ({"amount_cents": "12000"}, "amount_cents"),
        ({"amount_cents": True}, "amount_cents"),
        ({"method": None}, "method"),
        ({"method": "bitcoin"}, "method"),
        ({"method": "CASH"}, "method"),
        ({"method": 1}, "method"),
        ({"note": "x" * 501}, "note"),
        ({"note": 5}, "note"),
        ({"payment_id": "not-a-uuid"}, "payment_id"),
        ({"payment_id": 12345}, "payment_id"),
        ({"paid_cents": 100}, "paid_cents"),
        ({"status": "void"}, "status"),
        ({"logged_by": "Mallory"}, "logged_by"),
    ],
)
def test_bad_payment_is_400_naming_the_field_and_writes_nothing(crew_api, event, change, field):
    before = stored_item_count()
    body = {k: val for k, val in payment(**change).items() if val is not None}
    response = crew_api.post(f"/api/events/{event['id']}/payments", body)
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field
    assert field in response.json_body["message"]
    assert stored_item_count() == before
    assert detail(crew_api, event["id"])["event"]["paid_cents"] == 0


def test_note_may_span_lines_and_is_at_most_500_characters(crew_api, event):
    note = "Paid half.\nRest on return." + "x" * (500 - 26)
    response = crew_api.pay(event["id"], note=note)
    assert response.status_code == 201, response.body
    assert response.json_body["payment"]["note"] == note


def test_payment_body_that_is_not_json_is_400(crew_api, event):
    response = crew_api.post(f"/api/events/{event['id']}/payments", raw=b"{amount: 5")
    assert response.status_code == 400
    assert response.json_body["field"] == "body"


@pytest.mark.parametrize("event_id", [uuid.uuid4().hex, "nope", "12345"])
def test_payment_on_unknown_trip_is_404_and_writes_nothing(crew_api, event, event_id):
    before = stored_item_count()
    response = crew_api.pay(event_id)
    assert response.status_code == 404, response.body
    assert response.json_body["field"] == "event_id"
    assert stored_item_count() == before


def test_payment_on_cancelled_trip_is_409_and_writes_nothing(crew_api, event):
    assert crew_api.post(f"/api/events/{event['id']}/cancel").status_code == 200
    before = stored_item_count()
    response = crew_api.pay(event["id"])
    assert response.status_code == 409, response.body
    assert response.json_body["code"] == "cancelled"
    assert stored_item_count() == before
    assert detail(crew_api, event["id"])["event"]["paid_cents"] == 0


# --- Replays --------------------------------------------------------------------


def test_replayed_payment_counts_once_and_returns_the_stored_one(crew_api, event):
    chosen = str(uuid.uuid4())
    first = crew_api.pay(event["id"], payment_id=chosen, note="cash in hand")
    again = crew_api.pay(event["id"], payment_id=chosen, note="cash in hand")
    assert first.status_code == 201
    assert again.status_code == 200, again.body
    assert again.json_body["payment"] == first.json_body["payment"]
    assert again.json_body["event"]["paid_cents"] == 12000
    shown = detail(crew_api, event["id"])
    assert shown["event"]["payment_count"] == 1
    assert [p["id"] for p in shown["payments"]] == [chosen]


def test_replay_in_the_undashed_uuid_form_is_the_same_payment(crew_api, event):
    chosen = uuid.uuid4()
    assert crew_api.pay(event["id"], payment_id=str(chosen)).status_code == 201
    again = crew_api.pay(event["id"], payment_id=chosen.hex)
    assert again.status_code == 200
    assert detail(crew_api, event["id"])["event"]["payment_count"] == 1


def test_replay_after_the_trip_is_cancelled_still_returns_the_payment(crew_api, event):
    chosen = str(uuid.uuid4())
    assert crew_api.pay(event["id"], payment_id=chosen).status_code == 201
    crew_api.post(f"/api/events/{event['id']}/cancel")
    again = crew_api.pay(event["id"], payment_id=chosen)
    assert again.status_code == 200
    assert again.json_body["payment"]["id"] == chosen


@pytest.mark.parametrize(
    "change",
    [
        {"amount_cents": 12001},
        {"patron_name": "Ana Ruíz"},
        {"method": "card"},
        {"note": "something else"},
    ],
)
def test_same_payment_id_with_other_content_is_409(crew_api, event, change):
    chosen = str(uuid.uuid4())
    assert crew_api.pay(event["id"], payment_id=chosen).status_code == 201
    response = crew_api.pay(event["id"], payment_id=chosen, **change)
    assert response.status_code == 409, response.body
    assert response.json_body["field"] == "payment_id"
    shown = detail(crew_api, event["id"])
    assert shown["event"]["paid_cents"] == 12000
    assert shown["payments"][0]["amount_cents"] == 12000
    assert shown["payments"][0]["method"] == "cash"


def test_replay_is_answered_from_the_cancelled_transaction_without_rereading_it(crew_api, event):
    """moto, like DynamoDB, returns the stored payment (ReturnValuesOnConditionCheckFailure)."""
    chosen = str(uuid.uuid4())
    assert crew_api.pay(event["id"], payment_id=chosen).status_code == 201
    calls: list[tuple[str, str]] = []

    def watch(service: str, operation: str, params: dict) -> None:
        # `params` is the serialized request: DynamoDB's JSON body.
        key = json.loads(params.get("body") or b"{}").get("Key", {})
        calls.append((operation, key.get("SK", {}).get("S", "")))

    aws.observers.append(watch)
    try:
        assert crew_api.pay(event["id"], payment_id=chosen).status_code == 200
    finally:
        aws.observers.remove(watch)
    payment_calls = calls[calls.index(("TransactWriteItems", "")) :]
    # The write attempt, then one read of the trip for the response: no payment read.
    assert payment_calls == [("TransactWriteItems", ""), ("GetItem", "EVENT")]


def test_logging_costs_one_transaction_and_one_read(crew_api, event):
    calls: list[str] = []
    aws.observers.append(lambda service, operation, params: calls.append(operation))
    try:
        assert crew_api.pay(event["id"]).status_code == 201
    finally:
        aws.observers.pop()
    assert calls[-2:] == ["TransactWriteItems", "GetItem"]
    assert calls.count("TransactWriteItems") == 1


# --- Voids ----------------------------------------------------------------------


def test_void_marks_the_payment_and_takes_it_out_of_the_totals(crew_api, event, clock):
    kept = crew_api.pay(event["id"], amount_cents=5000).json_body["payment"]
    clock.advance(60)
    wrong = crew_api.pay(event["id"], amount_cents=120000).json_body["payment"]
    response = crew_api.void(event["id"], wrong["id"], reason="Typed an extra zero")
    assert response.status_code == 200, response.body
    body = response.json_body
    assert body["already_void"] is False
    assert body["payment"]["status"] == "void"
    assert body["payment"]["void_reason"] == "Typed an extra zero"
    assert body["payment"]["voided_by"] == "Dana"
    assert body["payment"]["amount_cents"] == 120000
    assert body["event"]["paid_cents"] == 5000
    assert body["event"]["payment_count"] == 1
    assert body["event"]["balance_cents"] == 55000
    # The row stays in the ledger, marked void.
    shown = detail(crew_api, event["id"])
    assert [(p["id"], p["status"]) for p in shown["payments"]] == [
        (kept["id"], "logged"),
        (wrong["id"], "void"),
    ]
    assert shown["event"]["paid_cents"] == 5000


def test_voiding_again_changes_nothing_and_says_so(crew_api, event):
    paid = crew_api.pay(event["id"]).json_body["payment"]
    first = crew_api.void(event["id"], paid["id"], reason="Duplicate")
    again = crew_api.void(event["id"], paid["id"], reason="Another reason")
    assert again.status_code == 200, again.body
    assert again.json_body["already_void"] is True
    assert "already void" in again.json_body["message"]
    assert again.json_body["payment"] == first.json_body["payment"]
    assert again.json_body["payment"]["void_reason"] == "Duplicate"
    assert again.json_body["event"]["paid_cents"] == 0
    assert again.json_body["event"]["payment_count"] == 0


def test_void_keeps_the_trip_version(crew_api, event):
    paid = crew_api.pay(event["id"]).json_body["payment"]
    assert crew_api.void(event["id"], paid["id"]).json_body["event"]["version"] == 1


def test_voiding_on_a_cancelled_trip_is_allowed_so_refunds_can_be_recorded(crew_api, event):
    paid = crew_api.pay(event["id"]).json_body["payment"]
    crew_api.post(f"/api/events/{event['id']}/cancel")
    response = crew_api.void(event["id"], paid["id"], reason="Refunded: trip cancelled")
    assert response.status_code == 200, response.body
    assert response.json_body["event"]["status"] == "cancelled"
    assert response.json_body["event"]["paid_cents"] == 0


@pytest.mark.parametrize("payment_id", [str(uuid.uuid4()), uuid.uuid4().hex, "nope"])
def test_voiding_an_unknown_payment_is_404(crew_api, event, payment_id):
    crew_api.pay(event["id"])
    response = crew_api.void(event["id"], payment_id)
    assert response.status_code == 404, response.body
    assert response.json_body["field"] == "payment_id"
    assert detail(crew_api, event["id"])["event"]["paid_cents"] == 12000


def test_voiding_a_payment_of_another_trip_is_404(crew_api, event):
    other = crew_api.post("/api/events", trip(title="Morning Fishing")).json_body["event"]
    paid = crew_api.pay(other["id"]).json_body["payment"]
    assert crew_api.void(event["id"], paid["id"]).status_code == 404
    assert detail(crew_api, other["id"])["payments"][0]["status"] == "logged"


def test_void_accepts_the_undashed_payment_id(crew_api, event):
    paid = crew_api.pay(event["id"]).json_body["payment"]
    response = crew_api.void(event["id"], uuid.UUID(paid["id"]).hex)
    assert response.status_code == 200
    assert response.json_body["payment"]["status"] == "void"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 301}, "reason"),
        ({"reason": 5}, "reason"),
        ({"reason": "ok", "amount_cents": 1}, "amount_cents"),
    ],
)
def test_bad_void_is_400_naming_the_field_and_changes_nothing(crew_api, event, body, field):
    paid = crew_api.pay(event["id"]).json_body["payment"]
    response = crew_api.post(f"/api/events/{event['id']}/payments/{paid['id']}/void", body)
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field
    shown = detail(crew_api, event["id"])
    assert shown["payments"][0]["status"] == "logged"
    assert shown["event"]["paid_cents"] == 12000


def test_voiding_needs_login(crew_api, event):
    paid = crew_api.pay(event["id"]).json_body["payment"]
    response = crew_api.post(
        f"/api/events/{event['id']}/payments/{paid['id']}/void", {"reason": "x"}, token=False
    )
    assert response.status_code == 401
    assert detail(crew_api, event["id"])["payments"][0]["status"] == "logged"


# --- Detail ---------------------------------------------------------------------


def test_detail_lists_payments_oldest_first_with_their_status(crew_api, event, clock):
    names = ["First Patron", "Second Patron", "Third Patron"]
    ids = []
    for name in names:
        ids.append(crew_api.pay(event["id"], patron_name=name).json_body["payment"]["id"])
        clock.advance(90)
    crew_api.void(event["id"], ids[1])
    shown = detail(crew_api, event["id"])["payments"]
    assert [(p["patron_name"], p["status"]) for p in shown] == [
        ("First Patron", "logged"),
        ("Second Patron", "void"),
        ("Third Patron", "logged"),
    ]
    assert shown[1]["void_reason"] == "Wrong amount"
    assert all(p["notification"] == "pending" for p in shown)
    assert not any(k.startswith(("_", "GSI")) or k in ("PK", "SK") for p in shown for k in p)
