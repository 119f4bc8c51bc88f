"""The money beyond fares (issue 15): tips for the crew, refunds, patrons' receipts,
the tips report, the end-of-day cash-up, and what the ledger CSV says of them."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib import aws, timeutil
from chalicelib.db import keys
from tests.bodies import trip_body
from tests.conftest import Api, stored_item, trip
from tests.test_access import table_snapshot

REFUND = {"amount_cents": 2000, "method": "cash", "reason": "trip cut short by weather"}


@pytest.fixture
def crew3(crew_api: Api) -> list[dict[str, Any]]:
    """Three crew accounts (their ids in ascending order, as tip remainders go)."""
    names = ("Jo Deck", "Sam Line", "Lee Bow")
    made = [crew_api.add_account("crew", display_name=name)["account"] for name in names]
    return sorted(made, key=lambda a: a["id"])


@pytest.fixture
def crewed(crew_api: Api, crew3: list[dict[str, Any]]) -> dict[str, Any]:
    """A trip (price $600) crewed by the three accounts."""
    response = crew_api.post("/api/events", trip(crew_ids=[a["id"] for a in crew3]))
    assert response.status_code == 201, response.body
    return response.json_body["event"]


def fare(api: Api, event_id: str, token: str, **overrides: Any) -> Any:
    """A fare logged with another login's token."""
    body = {"patron_name": "Ana Ruiz", "amount_cents": 12000, "method": "cash", **overrides}
    return api.post(f"/api/events/{event_id}/payments", body, token=token)


def tip(api: Api, event_id: str, token: str | None = None, **overrides: Any) -> Any:
    body = {
        "patron_name": "Ana Ruiz",
        "amount_cents": 1000,
        "method": "cash",
        "kind": "tip",
        "tip_for": "crew",
        **overrides,
    }
    return api.post(f"/api/events/{event_id}/payments", body, token=token or True)


def refund(api: Api, event_id: str, **overrides: Any) -> Any:
    return api.post(f"/api/events/{event_id}/refunds", {**REFUND, **overrides})


def detail(api: Api, event_id: str) -> dict[str, Any]:
    response = api.get(f"/api/events/{event_id}")
    assert response.status_code == 200, response.body
    return response.json_body


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.body
    return list(csv.DictReader(io.StringIO(response.body.decode("utf-8"), newline="")))


def trip_day(event: dict[str, Any]) -> str:
    return event["starts_at"][:10]


# --- Crew accounts on a trip ------------------------------------------------------------


def test_trip_keeps_its_crew_accounts(crewed, crew3):
    assert crewed["crew_ids"] == [a["id"] for a in crew3]
    assert crewed["tips_cents"] == 0
    assert (crewed["refunded_cents"], crewed["refund_count"]) == (0, 0)
    assert "crew_names" not in crewed


def test_every_login_sees_the_trips_crew_accounts_by_name(crew_api, crewed, crew3):
    """A deckhand may not list accounts, but may name a crewmate as a tip's recipient."""
    deckhand = crew_api.account("crew")
    want = [{"account_id": a["id"], "name": a["display_name"]} for a in crew3]
    assert crewed["crew_accounts"] == want
    seen = crew_api.get(f"/api/events/{crewed['id']}", token=deckhand["token"]).json_body
    assert seen["event"]["crew_accounts"] == want
    assert crew_api.get("/api/accounts", token=deckhand["token"]).status_code == 403


@pytest.mark.parametrize("bad", [["0" * 32], "not a list", [123], ["short"]])
def test_crew_ids_that_are_not_active_accounts_are_400_naming_crew_ids(crew_api, bad):
    before = table_snapshot(skip_throttle=True)
    response = crew_api.post("/api/events", trip(crew_ids=bad))
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == "crew_ids"
    assert table_snapshot(skip_throttle=True) == before


def test_a_disabled_account_cannot_be_put_on_a_trip(crew_api, event):
    gone = crew_api.add_account("crew")["account"]
    disabled = crew_api.patch(f"/api/accounts/{gone['id']}", {"status": "disabled"})
    assert disabled.status_code == 200, disabled.body
    response = crew_api.patch(
        f"/api/events/{event['id']}", {"crew_ids": [gone["id"]], "version": event["version"]}
    )
    assert response.status_code == 400
    assert response.json_body["field"] == "crew_ids"


# --- Tips -------------------------------------------------------------------------------


def test_tip_for_the_crew_splits_in_whole_cents_extra_to_the_lowest_ids(crew_api, crewed, crew3):
    response = tip(crew_api, crewed["id"], amount_cents=1000)
    assert response.status_code == 201, response.body
    payment, event = response.json_body["payment"], response.json_body["event"]
    assert payment["kind"] == "tip"
    assert payment["tip_for"] == "crew"
    assert payment["tip_shares"] == [
        {"account_id": crew3[0]["id"], "name": crew3[0]["display_name"], "cents": 334},
        {"account_id": crew3[1]["id"], "name": crew3[1]["display_name"], "cents": 333},
        {"account_id": crew3[2]["id"], "name": crew3[2]["display_name"], "cents": 333},
    ]
    assert event["tips_cents"] == 1000
    assert (event["paid_cents"], event["balance_cents"]) == (0, 60000)
    stored = detail(crew_api, crewed["id"])["event"]
    assert (stored["tips_cents"], stored["paid_cents"], stored["payment_count"]) == (1000, 0, 0)


def test_tip_for_named_crew_goes_to_them_alone(crew_api, crewed, crew3):
    chosen = [crew3[2]["id"], crew3[0]["id"]]
    payment = tip(crew_api, crewed["id"], amount_cents=501, tip_for=chosen).json_body["payment"]
    assert [(s["account_id"], s["cents"]) for s in payment["tip_shares"]] == [
        (crew3[0]["id"], 251),
        (crew3[2]["id"], 250),
    ]


def test_fares_and_tips_are_apart_in_the_trip_and_its_detail(crew_api, crewed):
    crew_api.paid(crewed["id"], amount_cents=15000)
    tip(crew_api, crewed["id"], amount_cents=2500)
    shown = detail(crew_api, crewed["id"])
    kinds = {p["kind"]: p for p in shown["payments"]}
    assert sorted(kinds) == ["fare", "tip"]
    assert kinds["fare"]["tip_shares"] == []
    event = shown["event"]
    assert (event["paid_cents"], event["tips_cents"], event["balance_cents"]) == (
        15000,
        2500,
        45000,
    )


def test_tip_for_crew_on_a_trip_without_crew_accounts_is_409_no_crew(crew_api, event):
    before = table_snapshot(skip_throttle=True)
    response = tip(crew_api, event["id"])
    assert response.status_code == 409
    assert (response.json_body["code"], response.json_body["field"]) == ("no_crew", "tip_for")
    assert table_snapshot(skip_throttle=True) == before


def test_a_deckhand_puts_themself_on_a_trip_without_crew_and_shares_its_tips(crew_api, event):
    deckhand = crew_api.account("crew", display_name="Sam Whitaker")
    me = deckhand["account"]["id"]
    eid = event["id"]
    joined = crew_api.post(f"/api/events/{eid}/crew", {}, token=deckhand["token"])
    assert joined.status_code == 200, joined.body
    assert joined.json_body["event"]["crew_accounts"] == [
        {"account_id": me, "name": "Sam Whitaker"}
    ]
    assert joined.json_body["event"]["version"] == event["version"] + 1
    again = crew_api.post(f"/api/events/{eid}/crew", {}, token=deckhand["token"])
    assert again.status_code == 200 and again.json_body["event"]["crew_ids"] == [me]
    assert again.json_body["event"]["version"] == event["version"] + 1  # nothing written
    logged = tip(crew_api, eid, token=deckhand["token"])
    assert logged.status_code == 201, logged.body
    assert logged.json_body["payment"]["tip_shares"] == [
        {"account_id": me, "name": "Sam Whitaker", "cents": 1000}
    ]


def test_joining_a_trips_crew_needs_an_account_and_an_open_trip(crew_api, event):
    deckhand = crew_api.account("crew")
    glass = crew_api.post(f"/api/events/{event['id']}/crew", {}, token=crew_api.owner_token())
    assert glass.status_code == 400 and glass.json_body["field"] == "account_id"
    extra = crew_api.post(f"/api/events/{event['id']}/crew", {"crew_ids": []}, token=True)
    assert extra.status_code == 400 and extra.json_body["field"] == "crew_ids"
    crew_api.post(f"/api/events/{event['id']}/cancel", {})
    gone = crew_api.post(f"/api/events/{event['id']}/crew", {}, token=deckhand["token"])
    assert gone.status_code == 409 and gone.json_body["code"] == "cancelled"
    missing = crew_api.post(f"/api/events/{'0' * 32}/crew", {}, token=deckhand["token"])
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "tip", "tip_for": None}, "tip_for"),
        ({"kind": "tip", "tip_for": "everyone"}, "tip_for"),
        ({"kind": "tip", "tip_for": []}, "tip_for"),
        ({"kind": "tip", "tip_for": ["f" * 32]}, "tip_for"),  # not on this trip's crew
        ({"kind": "fare", "tip_for": "crew"}, "tip_for"),
        ({"tip_for": "crew"}, "tip_for"),
        ({"kind": "bonus"}, "kind"),
        ({"patron_email": "ana at example.com"}, "patron_email"),
        ({"patron_email": "ana@example.com, bo@example.com"}, "patron_email"),
        ({"patron_email": 42}, "patron_email"),
    ],
)
def test_bad_tip_or_receipt_fields_are_400_naming_the_field_and_write_nothing(
    crew_api, crewed, body, field
):
    before = table_snapshot(skip_throttle=True)
    response = crew_api.pay(crewed["id"], **body)
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field
    assert table_snapshot(skip_throttle=True) == before


def test_replayed_tip_counts_once_and_other_content_is_409(crew_api, crewed):
    chosen = "6f1c1c1e-7d55-4d0e-9a4e-6c1c1c1e7d55"
    first = tip(crew_api, crewed["id"], payment_id=chosen)
    again = tip(crew_api, crewed["id"], payment_id=chosen)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json_body["payment"] == first.json_body["payment"]
    other = tip(crew_api, crewed["id"], payment_id=chosen, amount_cents=999)
    assert other.status_code == 409
    assert detail(crew_api, crewed["id"])["event"]["tips_cents"] == 1000


def test_voided_tip_leaves_the_tips_total(crew_api, crewed):
    kept = tip(crew_api, crewed["id"], amount_cents=700).json_body["payment"]
    wrong = tip(crew_api, crewed["id"], amount_cents=300).json_body["payment"]
    voided = crew_api.void(crewed["id"], wrong["id"])
    assert voided.status_code == 200, voided.body
    event = voided.json_body["event"]
    assert (event["tips_cents"], event["paid_cents"]) == (700, 0)
    assert kept["status"] == "logged"


def test_tip_on_a_cancelled_trip_is_409(crew_api, crewed):
    crew_api.post(f"/api/events/{crewed['id']}/cancel")
    response = tip(crew_api, crewed["id"])
    assert (response.status_code, response.json_body["code"]) == (409, "cancelled")


def test_tip_costs_the_same_dynamodb_calls_as_a_fare(crew_api, crewed):
    def calls_of(send: Any) -> list[str]:
        seen: list[str] = []
        aws.observers.append(lambda service, operation, params: seen.append(operation))
        try:
            assert send().status_code == 201
        finally:
            aws.observers.pop()
        return sorted(seen)

    fare = calls_of(lambda: crew_api.pay(crewed["id"]))
    assert calls_of(lambda: tip(crew_api, crewed["id"])) == fare
    assert calls_of(lambda: refund(crew_api, crewed["id"], amount_cents=100)) == fare


# --- Refunds ----------------------------------------------------------------------------


def test_refund_comes_off_paid_and_the_balance_grows_again(crew_api, event):
    crew_api.paid(event["id"], amount_cents=30000)
    response = refund(crew_api, event["id"], amount_cents=12000)
    assert response.status_code == 201, response.body
    refunded, trip_now = response.json_body["refund"], response.json_body["event"]
    assert refunded["status"] == "logged"
    assert refunded["amount_cents"] == 12000
    assert refunded["logged_by"] == "Dana"
    assert (trip_now["paid_cents"], trip_now["balance_cents"]) == (18000, 42000)
    assert (trip_now["refunded_cents"], trip_now["refund_count"]) == (12000, 1)
    assert trip_now["payment_count"] == 1
    assert detail(crew_api, event["id"])["refunds"] == [refunded]


def test_replayed_refund_returns_the_same_and_counts_once(crew_api, event):
    crew_api.paid(event["id"], amount_cents=30000)
    chosen = "0b6d3f5e-51f4-4a0e-8c39-2d6ad7b0c2a1"
    first = refund(crew_api, event["id"], refund_id=chosen)
    again = refund(crew_api, event["id"], refund_id=chosen)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json_body == first.json_body
    assert detail(crew_api, event["id"])["event"]["refunded_cents"] == REFUND["amount_cents"]
    other = refund(crew_api, event["id"], refund_id=chosen, amount_cents=1)
    assert other.status_code == 409
    assert other.json_body["code"] == "refund_id_reused"


def test_refund_over_what_is_paid_is_409_naming_amount_and_writes_nothing(crew_api, event):
    crew_api.paid(event["id"], amount_cents=5000)
    assert refund(crew_api, event["id"], amount_cents=3000).status_code == 201
    before = table_snapshot(skip_throttle=True)
    response = refund(crew_api, event["id"], amount_cents=2001)
    assert response.status_code == 409
    assert (response.json_body["code"], response.json_body["field"]) == (
        "refund_exceeds_paid",
        "amount_cents",
    )
    assert table_snapshot(skip_throttle=True) == before
    assert refund(crew_api, event["id"], amount_cents=2000).status_code == 201


def test_tips_are_not_refundable_money(crew_api, crewed):
    tip(crew_api, crewed["id"], amount_cents=5000)
    response = refund(crew_api, crewed["id"], amount_cents=100)
    assert response.json_body["code"] == "refund_exceeds_paid"


def test_refund_naming_a_fare_is_recorded_against_it(crew_api, crewed):
    fare = crew_api.paid(crewed["id"], amount_cents=5000)
    given = tip(crew_api, crewed["id"]).json_body["payment"]
    named = refund(crew_api, crewed["id"], amount_cents=1000, payment_id=fare["id"])
    assert named.status_code == 201, named.body
    assert named.json_body["refund"]["payment_id"] == fare["id"]
    for other in (given["id"], "9b2f7c1e-0000-4000-8000-000000000000"):
        refused = refund(crew_api, crewed["id"], amount_cents=100, payment_id=other)
        assert refused.status_code == 409
        assert refused.json_body["field"] == "payment_id"


def test_void_refund_puts_the_money_back_on_paid_once(crew_api, event):
    crew_api.paid(event["id"], amount_cents=5000)
    made = refund(crew_api, event["id"], amount_cents=5000).json_body["refund"]
    path = f"/api/events/{event['id']}/refunds/{made['id']}/void"
    first = crew_api.post(path, {"reason": "logged on the wrong trip"})
    again = crew_api.post(path, {"reason": "logged on the wrong trip"})
    assert first.status_code == again.status_code == 200
    assert (first.json_body["already_void"], again.json_body["already_void"]) == (False, True)
    voided = first.json_body["refund"]
    assert (voided["status"], voided["void_reason"]) == ("void", "logged on the wrong trip")
    event_now = again.json_body["event"]
    assert (event_now["paid_cents"], event_now["refunded_cents"], event_now["refund_count"]) == (
        5000,
        0,
        0,
    )


def test_voiding_a_fare_that_refunds_already_handed_back_is_409(crew_api, event):
    fare = crew_api.paid(event["id"], amount_cents=5000)
    refund(crew_api, event["id"], amount_cents=4000)
    response = crew_api.void(event["id"], fare["id"])
    assert response.status_code == 409
    assert response.json_body["code"] == "refund_exceeds_paid"
    assert detail(crew_api, event["id"])["event"]["paid_cents"] == 1000


def test_refund_naming_a_fare_hands_back_at_most_that_fare_net_of_its_refunds(crew_api, event):
    """Issue 21 item 7: a $400 refund naming a $10 fare was 201 (other fares covered it)."""
    crew_api.paid(event["id"], amount_cents=50000)
    small = crew_api.paid(event["id"], amount_cents=1000)
    before = table_snapshot(skip_throttle=True)
    response = refund(crew_api, event["id"], amount_cents=40000, payment_id=small["id"])
    assert response.status_code == 409, response.body
    assert (response.json_body["code"], response.json_body["field"]) == (
        "refund_exceeds_paid",
        "amount_cents",
    )
    assert table_snapshot(skip_throttle=True) == before
    assert (
        refund(crew_api, event["id"], amount_cents=600, payment_id=small["id"]).status_code == 201
    )
    over = refund(crew_api, event["id"], amount_cents=401, payment_id=small["id"])
    assert over.json_body["code"] == "refund_exceeds_paid"
    assert (
        refund(crew_api, event["id"], amount_cents=400, payment_id=small["id"]).status_code == 201
    )
    assert detail(crew_api, event["id"])["event"]["refunded_cents"] == 1000


def test_voided_refund_gives_its_fare_room_again(crew_api, event):
    small = crew_api.paid(event["id"], amount_cents=1000)
    made = refund(crew_api, event["id"], amount_cents=1000, payment_id=small["id"])
    path = f"/api/events/{event['id']}/refunds/{made.json_body['refund']['id']}/void"
    assert crew_api.post(path, {"reason": "wrong fare"}).status_code == 200
    assert (
        refund(crew_api, event["id"], amount_cents=1000, payment_id=small["id"]).status_code == 201
    )


def test_a_fare_a_refund_handed_back_cannot_be_voided_while_others_cover_it(crew_api, event):
    """Issue 21 item 8: voiding a refunded fare was 200 when other fares covered the amount."""
    crew_api.paid(event["id"], amount_cents=50000)
    small = crew_api.paid(event["id"], amount_cents=1000)
    assert (
        refund(crew_api, event["id"], amount_cents=500, payment_id=small["id"]).status_code == 201
    )
    before = table_snapshot(skip_throttle=True)
    response = crew_api.void(event["id"], small["id"])
    assert response.status_code == 409, response.body
    assert (response.json_body["code"], response.json_body["field"]) == (
        "refund_exceeds_paid",
        "payment_id",
    )
    assert table_snapshot(skip_throttle=True) == before


def test_refund_on_a_cancelled_trip_is_allowed(crew_api, event):
    crew_api.paid(event["id"], amount_cents=5000)
    crew_api.post(f"/api/events/{event['id']}/cancel")
    assert refund(crew_api, event["id"], amount_cents=5000).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_cents": 0}, "amount_cents"),
        ({"amount_cents": 1.5}, "amount_cents"),
        ({"method": "gold"}, "method"),
        ({"reason": ""}, "reason"),
        ({"refund_id": "nope"}, "refund_id"),
        ({"payment_id": 7}, "payment_id"),
        ({"patron_name": "Ana"}, "patron_name"),
    ],
)
def test_bad_refund_fields_are_400_naming_the_field_and_write_nothing(crew_api, event, body, field):
    crew_api.paid(event["id"])
    before = table_snapshot(skip_throttle=True)
    response = refund(crew_api, event["id"], **body)
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field
    assert table_snapshot(skip_throttle=True) == before


# --- Receipts ---------------------------------------------------------------------------


def test_receipt_goes_to_the_patron_with_nothing_about_crew_or_other_patrons(
    crew_api, crewed, crew3, sent
):
    crew_api.paid(crewed["id"], patron_name="Bo Other", amount_cents=9900, note="crew note")
    crew_api.drain()
    sent.clear()
    paid = crew_api.paid(
        crewed["id"],
        amount_cents=20000,
        method="card",
        patron_email="ana@example.com",
        note="Jo says hi",
    )
    assert paid["receipt"] == "pending"
    assert "patron_email" not in paid
    crew_api.drain()
    [receipt] = [e for e in sent if e["to"] == ["ana@example.com"]]
    [crew_email] = [e for e in sent if e["to"] != ["ana@example.com"]]
    for part in (receipt["subject"], receipt["text"], receipt["html"]):
        assert "$200.00" in part
        for crew_data in (
            "Dana",  # who logged it
            "Maria Reyes",  # the captain
            "Jo",  # crew names (free text and accounts)
            "Sam",
            *(a["display_name"] for a in crew3),
            "crew note",
            "Bo Other",  # another patron
            "$99.00",
        ):
            assert crew_data not in part, crew_data
    assert "card" in receipt["text"]
    assert "Sunset Cruise" in receipt["text"]
    assert "$301.00" in receipt["text"]  # the balance left: 600 - 99 - 200
    assert "receipt was sent" in crew_email["text"]
    assert "ana@example.com" not in crew_email["text"]
    [shown] = [p for p in detail(crew_api, crewed["id"])["payments"] if p["id"] == paid["id"]]
    assert shown["receipt"] == "sent"
    assert "ana@example.com" not in json.dumps(detail(crew_api, crewed["id"]))


def test_receipt_waits_in_the_outbox_with_the_payment_and_holds_only_its_address(crew_api, event):
    paid = crew_api.paid(event["id"], patron_email="ana@example.com")
    item = stored_item(keys.receipt_key(event["id"], paid["id"]))
    assert (item["GSI1PK"], item["kind"]) == (keys.OUTBOX, "receipt")
    assert set(item) - keys.KEY_ATTRIBUTES - {"_notify_attempts"} == {
        "event_id",
        "payment_id",
        "email",
        "notification",
    }


def test_payment_without_email_has_no_receipt(crew_api, event):
    assert crew_api.paid(event["id"])["receipt"] is None


# --- Tips report ------------------------------------------------------------------------


def test_tips_report_per_person_with_the_trips_they_came_from(crew_api, crewed, crew3):
    day = trip_day(crewed)
    tip(crew_api, crewed["id"], amount_cents=1000)
    tip(crew_api, crewed["id"], amount_cents=200, tip_for=[crew3[1]["id"]])
    wrong = tip(crew_api, crewed["id"], amount_cents=5000).json_body["payment"]
    crew_api.void(crewed["id"], wrong["id"])
    crew_api.paid(crewed["id"])  # a fare is not a tip
    response = crew_api.get(f"/api/tips?from={day}&to={day}")
    assert response.status_code == 200, response.body
    report = response.json_body
    assert (report["from"], report["to"], report["total_cents"]) == (day, day, 1200)
    by_id = {p["account_id"]: p for p in report["people"]}
    assert by_id[crew3[0]["id"]]["tips_cents"] == 334
    assert by_id[crew3[1]["id"]]["tips_cents"] == 533
    assert by_id[crew3[1]["id"]]["trips"] == [
        {
            "event_id": crewed["id"],
            "title": crewed["title"],
            "starts_at": crewed["starts_at"],
            "cents": 533,
        }
    ]
    assert sum(p["tips_cents"] for p in report["people"]) == report["total_cents"]


def test_crew_see_only_their_own_tips(crew_api, crewed, crew3):
    day = trip_day(crewed)
    tip(crew_api, crewed["id"], amount_cents=900)
    deckhand = crew_api.account("crew")
    owner = crew_api.token
    response = crew_api.patch(
        f"/api/events/{crewed['id']}",
        {"crew_ids": [deckhand["account"]["id"]], "version": crewed["version"]},
        token=owner,
    )
    assert response.status_code == 200, response.body
    tip(crew_api, crewed["id"], amount_cents=400)
    mine = crew_api.get(f"/api/tips?from={day}&to={day}", token=deckhand["token"]).json_body
    assert [p["account_id"] for p in mine["people"]] == [deckhand["account"]["id"]]
    assert mine["total_cents"] == 400
    everyone = crew_api.get(f"/api/tips?from={day}&to={day}").json_body
    assert everyone["total_cents"] == 1300
    assert len(everyone["people"]) == 4


# --- Cash-up ----------------------------------------------------------------------------


def today() -> str:
    """The operator's date now: the day money logged now is cashed up."""
    return timeutil.today_local().isoformat()


# Days are moved on the app's clock only: tokens are checked against the real time, so
# a test logs yesterday's entries with its clock a day back, then today's.
DAY = 24 * 3600


def test_cashup_counts_per_account_and_method_and_lists_voids_apart(crew_api, crewed, clock):
    crew_api.paid(crewed["id"], amount_cents=10000, method="cash")
    crew_api.paid(crewed["id"], amount_cents=5000, method="card")
    wrong = crew_api.paid(crewed["id"], amount_cents=777, method="cash")
    crew_api.void(crewed["id"], wrong["id"], "double tap")
    tip(crew_api, crewed["id"], amount_cents=1500, method="cash")
    refund(crew_api, crewed["id"], amount_cents=2500, method="cash")
    response = crew_api.get(f"/api/cashup?date={today()}")
    assert response.status_code == 200, response.body
    report = response.json_body
    assert report["date"] == today()
    [dana] = report["accounts"]
    zero = dict.fromkeys(("cash", "card", "check", "venmo", "zelle", "other"), 0)
    assert dana["fares"] == {**zero, "cash": 10000, "card": 5000}
    assert dana["tips"] == {**zero, "cash": 1500}
    assert dana["refunds"] == {**zero, "cash": 2500}
    assert dana["voided"] == [
        {
            "id": wrong["id"],
            "event_id": crewed["id"],
            "kind": "fare",
            "amount_cents": 777,
            "method": "cash",
            "void_reason": "double tap",
        }
    ]
    assert dana["cash_to_hand_in_cents"] == 10000 + 1500 - 2500
    assert report["totals"]["cash_to_hand_in_cents"] == 9000
    assert report["totals"]["fares"] == dana["fares"]


def test_cashup_is_the_money_that_changed_hands_that_day_whatever_the_trip(crew_api, crewed, clock):
    """A deposit taken today for next week's trip is cashed up tonight, not next week;
    money handed back tomorrow for today's fare is tomorrow's; a void counts nothing
    and is listed on the day of the entry it voids."""
    next_week = timeutil.today_local() + timedelta(days=7)
    later = crew_api.post("/api/events", trip_body(next_week)).json_body["event"]
    clock.advance(-DAY)
    logged_on = today()
    crew_api.paid(later["id"], amount_cents=20000, method="cash")  # the deposit
    fare_today = crew_api.paid(crewed["id"], amount_cents=6000, method="cash")
    mistake = crew_api.paid(crewed["id"], amount_cents=300, method="cash")

    clock.advance(DAY)
    handed_back_on = today()
    assert handed_back_on != logged_on
    refund(crew_api, crewed["id"], amount_cents=1000, method="cash")
    crew_api.void(crewed["id"], mistake["id"], "wrong trip")
    crew_api.paid(later["id"], amount_cents=4000, method="card")

    first = crew_api.get(f"/api/cashup?date={logged_on}").json_body
    assert first["totals"]["fares"]["cash"] == 20000 + 6000
    assert first["totals"]["cash_to_hand_in_cents"] == 26000
    assert [v["id"] for v in first["accounts"][0]["voided"]] == [mistake["id"]]
    second = crew_api.get(f"/api/cashup?date={handed_back_on}").json_body
    assert second["totals"]["fares"]["card"] == 4000
    assert second["totals"]["refunds"]["cash"] == 1000
    assert second["totals"]["cash_to_hand_in_cents"] == -1000
    assert second["accounts"][0]["voided"] == []
    nothing = crew_api.get(f"/api/cashup?date={next_week}").json_body
    assert (nothing["accounts"], nothing["totals"]["cash_to_hand_in_cents"]) == ([], 0)
    assert fare_today["logged_at"][:10] == logged_on


def test_cashup_figures_equal_the_sums_of_the_ledger_rows(crew_api, crewed, clock):
    deckhand = crew_api.account("crew")
    yesterday = timeutil.today_local() - timedelta(days=1)
    earlier = crew_api.post("/api/events", trip_body(yesterday)).json_body["event"]
    days = []
    clock.advance(-DAY)
    for _ in range(2):
        days.append(today())
        for n, method in enumerate(("cash", "card", "venmo", "cash", "check")):
            event_id = (crewed, earlier)[n % 2]["id"]
            crew_api.paid(event_id, amount_cents=1000 + n, method=method)
            fare(crew_api, event_id, deckhand["token"], amount_cents=300 + n, method=method)
        tip(crew_api, crewed["id"], deckhand["token"], amount_cents=999, method="zelle")
        gone = crew_api.paid(earlier["id"], amount_cents=50, method="other")
        crew_api.void(earlier["id"], gone["id"])
        refund(crew_api, crewed["id"], amount_cents=1234, method="card")
        clock.advance(DAY)
    window = f"from={yesterday}&to={yesterday + timedelta(days=2)}"
    rows = csv_rows(crew_api.get(f"/api/payments.csv?{window}"))
    section = {"fare": "fares", "tip": "tips", "refund": "refunds"}
    for day in days:
        report = crew_api.get(f"/api/cashup?date={day}").json_body
        that_day = [row for row in rows if row["logged at"][:10] == day]
        assert len(that_day) == 13
        expected: dict[tuple[str, str, str], int] = {}
        for row in that_day:
            if row["status"] == "logged":
                key = (row["logged by"], section[row["kind"]], row["method"])
                cents = round(float(row["amount"]) * 100)
                expected[key] = expected.get(key, 0) + cents
        shown = {
            (account["name"], name, method): cents
            for account in report["accounts"]
            for name in ("fares", "tips", "refunds")
            for method, cents in account[name].items()
            if cents
        }
        assert shown == expected
        voided = {row["payment id"] for row in that_day if row["status"] == "void"}
        assert {v["id"] for a in report["accounts"] for v in a["voided"]} == voided


def test_crew_see_only_their_own_cashup(crew_api, crewed, clock):
    deckhand = crew_api.account("crew")
    crew_api.paid(crewed["id"], amount_cents=10000)
    fare(crew_api, crewed["id"], deckhand["token"], amount_cents=2000)
    mine = crew_api.get(f"/api/cashup?date={today()}", token=deckhand["token"]).json_body
    assert [a["account_id"] for a in mine["accounts"]] == [deckhand["account"]["id"]]
    assert mine["totals"]["cash_to_hand_in_cents"] == 2000


def test_cashup_as_csv(crew_api, crewed, clock):
    day = today()
    crew_api.paid(crewed["id"], amount_cents=10000)
    refund(crew_api, crewed["id"], amount_cents=500)
    response = crew_api.get(f"/api/cashup?date={day}&format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="cashup-{day}.csv"' in response.headers["Content-Disposition"]
    lines = [(r["account"], r["line"], r["method"], r["amount"]) for r in csv_rows(response)]
    assert lines == [
        ("Dana", "fares", "cash", "100.00"),
        ("Dana", "refunds", "cash", "5.00"),
        ("Dana", "cash to hand in", "cash", "95.00"),
        ("TOTAL", "fares", "cash", "100.00"),
        ("TOTAL", "refunds", "cash", "5.00"),
        ("TOTAL", "cash to hand in", "cash", "95.00"),
    ]


def test_cashup_csv_writes_its_own_negative_amounts_as_numbers(crew_api, crewed, clock):
    """Cash handed back with no cash taken: -5.00 to hand in, a number a spreadsheet sums
    (not '-5.00 text); what people typed is still guarded."""
    day = today()
    crew_api.paid(crewed["id"], amount_cents=10000, method="card")
    refund(crew_api, crewed["id"], amount_cents=500, method="cash")
    gone = crew_api.paid(crewed["id"], amount_cents=700, method="cash")
    crew_api.void(crewed["id"], gone["id"], reason="-oops =SUM(A1)")
    rows = csv_rows(crew_api.get(f"/api/cashup?date={day}&format=csv"))
    to_hand_in = [r["amount"] for r in rows if r["line"] == "cash to hand in"]
    assert to_hand_in == ["-5.00", "-5.00"]
    reasons = {r["void reason"] for r in rows if r["line"].startswith("voided")}
    assert reasons == {"'-oops =SUM(A1)"}


@pytest.mark.parametrize(
    ("query", "field"),
    [("date=2026-02-30", "date"), ("date=", "date"), ("date=2026-07-04&format=pdf", "format")],
)
def test_bad_cashup_query_is_400_naming_the_field(crew_api, query, field):
    response = crew_api.get(f"/api/cashup?{query}")
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field


def test_bad_tips_window_is_400_naming_the_field(crew_api):
    response = crew_api.get("/api/tips?from=2026-07-04&to=2026-07-01")
    assert (response.status_code, response.json_body["field"]) == (400, "to")


# --- The ledger CSV ---------------------------------------------------------------------


def test_ledger_csv_has_kind_tip_shares_and_refund_rows(crew_api, crewed, crew3):
    day = trip_day(crewed)
    fare = crew_api.paid(crewed["id"], amount_cents=20000)
    given = tip(crew_api, crewed["id"], amount_cents=1000).json_body["payment"]
    back = refund(crew_api, crewed["id"], amount_cents=500, payment_id=fare["id"])
    rows = csv_rows(crew_api.get(f"/api/payments.csv?from={day}&to={day}"))
    # Payments (fares and tips, as logged), then the trip's refunds.
    assert sorted(row["kind"] for row in rows[:2]) == ["fare", "tip"]
    assert rows[2]["kind"] == "refund"
    [tip_row] = [row for row in rows if row["kind"] == "tip"]
    names = [a["display_name"] for a in crew3]
    assert tip_row["tip_shares"] == f"{names[0]}:334; {names[1]}:333; {names[2]}:333"
    assert tip_row["payment id"] == given["id"]
    refund_row = rows[2]
    assert refund_row["refund id"] == back.json_body["refund"]["id"]
    assert (refund_row["payment id"], refund_row["patron"]) == (fare["id"], "Ana Ruiz")
    assert (refund_row["amount"], refund_row["note"]) == ("5.00", REFUND["reason"])


def test_ledger_window_longer_than_92_days_reads_in_parts_and_never_scans(crew_api):
    first = timeutil.today_local() + timedelta(days=1)
    days = [first, first + timedelta(days=100), first + timedelta(days=200)]
    for day in days:
        made = crew_api.post(
            "/api/events",
            trip(starts_at=f"{day}T09:00:00", ends_at=f"{day}T11:00:00"),
        ).json_body["event"]
        crew_api.paid(made["id"])
    calls: list[str] = []
    aws.observers.append(lambda service, operation, params: calls.append(operation))
    try:
        last: date = first + timedelta(days=250)
        rows = csv_rows(crew_api.get(f"/api/payments.csv?from={first}&to={last}"))
    finally:
        aws.observers.pop()
    assert [row["date"] for row in rows] == [d.isoformat() for d in days]
    assert "Scan" not in calls
    assert set(calls) == {"GetItem", "Query"}


def test_resent_tip_after_the_trip_was_cancelled_is_still_a_replay(crew_api, crewed):
    chosen = "3a7e2b8c-1d4f-4e6a-9b0c-5d8e7f6a1b2c"
    first = tip(crew_api, crewed["id"], payment_id=chosen)
    crew_api.post(f"/api/events/{crewed['id']}/cancel")
    again = tip(crew_api, crewed["id"], payment_id=chosen)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json_body["payment"] == first.json_body["payment"]


def test_tip_receipt_thanks_for_the_tip_and_names_no_share(crew_api, crewed, crew3, sent):
    tip(crew_api, crewed["id"], amount_cents=1000, patron_email="ana@example.com")
    crew_api.drain()
    [receipt] = [e for e in sent if e["to"] == ["ana@example.com"]]
    assert "tip for the crew" in receipt["text"]
    assert "$10.00" in receipt["text"]
    for crew_data in ("$3.34", "$3.33", *(a["display_name"] for a in crew3)):
        assert crew_data not in receipt["text"] + receipt["html"]
