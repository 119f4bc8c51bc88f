"""Issue 22, item 12: restores that do not corrupt the books. scripts/repair.py
recomputes each trip's totals from its items; scripts/restore.py puts a trip back from
a point-in-time restore and repairs it. Against moto, with the entries made through
the app's own API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.db import codec
from scripts import repair, restore
from tests.conftest import TABLE_NAME, Api, stored_item

pytestmark = pytest.mark.usefixtures("settings_in_us_east_1")

TOTALS = list(repair.TOTALS)


def trip_key(event_id: str) -> dict[str, str]:
    return {"PK": f"EVENT#{event_id}", "SK": "EVENT"}


def put_back(item: dict[str, Any]) -> None:
    """What operating.md's "a few items" did: put an older copy of the trip item back."""
    from chalicelib import aws

    aws.dynamodb().put_item(TableName=TABLE_NAME, Item=codec.to_item(item))


def event_totals(api: Api, event_id: str) -> dict[str, Any]:
    found = api.get(f"/api/events/{event_id}").json_body
    event = found.get("event", found)
    return {name: event.get(name) for name in ("paid_cents", "payment_count")}


def run_repair(*extra: str) -> int:
    return repair.main(["--stage", "prod", "--table", TABLE_NAME, *extra])


def test_totals_put_back_from_an_older_copy_are_recomputed_from_the_payments_stored(
    crew_api: Api, event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    event_id = event["id"]
    crew_api.paid(event_id, amount_cents=5000)
    older = stored_item(trip_key(event_id))  # 5000 / 1 payment
    crew_api.paid(event_id, amount_cents=5000)
    put_back(older)
    assert event_totals(crew_api, event_id) == {"paid_cents": 5000, "payment_count": 1}
    capsys.readouterr()

    # Dry run first: the difference is shown, nothing is written.
    assert run_repair("--trip", event_id, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "paid_cents" in out and "5000" in out and "10000" in out
    assert "payment_count" in out
    assert "Dry run: nothing written" in out
    assert stored_item(trip_key(event_id))["paid_cents"] == 5000

    assert run_repair("--trip", event_id, "--yes") == 0

    assert event_totals(crew_api, event_id) == {"paid_cents": 10000, "payment_count": 2}
    capsys.readouterr()
    assert run_repair("--trip", event_id, "--yes") == 0
    assert "Nothing to repair" in capsys.readouterr().out


def test_every_total_comes_back_as_the_app_kept_it_tips_refunds_voids_waivers_boarding(
    crew_api: Api,
) -> None:
    from chalicelib.db import keys
    from tests.conftest import trip
    from tests.test_dock import signer

    deckhand = crew_api.add_account("crew", display_name="Jo Deck")["account"]
    boat = crew_api.boat(name="Miss Kelp", passenger_limit=6, inspected=False)
    made = crew_api.post(
        "/api/events", trip(boat_id=boat["id"], capacity=6, crew_ids=[deckhand["id"]])
    )
    assert made.status_code == 201, made.body
    event_id = made.json_body["event"]["id"]
    fare = crew_api.paid(event_id, amount_cents=8000)
    crew_api.paid(event_id, amount_cents=3000)
    mistake = crew_api.paid(event_id, amount_cents=999)
    voided = crew_api.post(
        f"/api/events/{event_id}/payments/{mistake['id']}/void", {"reason": "typed twice"}
    )
    assert voided.status_code == 200, voided.body
    crew_api.paid(event_id, amount_cents=1500, kind="tip", tip_for="crew")
    refund = crew_api.post(
        f"/api/events/{event_id}/refunds",
        {"amount_cents": 2000, "method": "cash", "reason": "left early", "payment_id": fare["id"]},
    )
    assert refund.status_code == 201, refund.body
    family = crew_api.signed(event_id, signer("Ana Ruiz", ("Kit Ruiz",), "Jo Ruiz"))
    for name in ("Ana Ruiz", "Kit Ruiz"):
        assert crew_api.board(event_id, family["id"], name).status_code == 200
    kept = stored_item(trip_key(event_id))
    fare_key = keys.payment_key(event_id, fare["id"])
    # Every total wiped, and the fare's refunded amount.
    put_back({**kept, **{name: 0 for name in TOTALS if name != "payment_logged"}})
    put_back({**stored_item(fare_key), "refunded_cents": 0})

    assert run_repair("--trip", event_id, "--yes") == 0

    now = stored_item(trip_key(event_id))
    assert {n: now.get(n) for n in TOTALS} == {n: kept.get(n) for n in TOTALS}
    assert kept["paid_cents"] == 8000 + 3000 - 2000 and kept["payment_count"] == 2
    assert kept["tips_cents"] == 1500 and kept["refund_count"] == 1
    assert kept["waiver_count"] == 2 and kept["boarded_count"] == 2
    assert stored_item(fare_key)["refunded_cents"] == 2000


def test_a_payment_logged_while_repairing_is_never_overwritten(
    crew_api: Api, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id = event["id"]
    crew_api.paid(event_id, amount_cents=5000)
    older = stored_item(trip_key(event_id))
    crew_api.paid(event_id, amount_cents=5000)
    put_back(older)
    real_fixes_for = repair.fixes_for

    def read_then_a_payment_lands(store: Any, trip_id: str) -> list[repair.Fix]:
        found = real_fixes_for(store, trip_id)
        crew_api.paid(event_id, amount_cents=700)  # between the read and the write
        return found

    monkeypatch.setattr(repair, "fixes_for", read_then_a_payment_lands)

    assert run_repair("--trip", event_id, "--yes") == 1

    # The payment's own update stands; a second run repairs from all three.
    assert stored_item(trip_key(event_id))["paid_cents"] == 5700
    monkeypatch.setattr(repair, "fixes_for", real_fixes_for)
    assert run_repair("--trip", event_id, "--yes") == 0
    assert event_totals(crew_api, event_id) == {"paid_cents": 10700, "payment_count": 3}


def test_without_trips_named_it_repairs_the_trips_of_the_date_range(
    crew_api: Api, event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    event_id = event["id"]
    older = stored_item(trip_key(event_id))
    crew_api.paid(event_id, amount_cents=4200)
    put_back(older)

    assert run_repair("--yes") == 0

    assert event_totals(crew_api, event_id) == {"paid_cents": 4200, "payment_count": 1}
    assert "trips read" in capsys.readouterr().out


def test_an_unknown_trip_is_named_in_a_clear_error(
    crew_api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_repair("--trip", "nosuchtrip", "--dry-run") != 0
    assert "trip nosuchtrip is not in table" in capsys.readouterr().err


def test_restore_to_a_time_puts_the_trip_back_checks_and_repairs_its_totals(
    crew_api: Api, event: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    event_id = event["id"]
    crew_api.paid(event_id, amount_cents=5000)
    moment = datetime.now(UTC).isoformat()

    # 1. The side table, as the table was then (moto restores the table as it is now).
    assert (
        restore.main(
            [
                "--stage",
                "prod",
                "--table",
                TABLE_NAME,
                "--to-time",
                moment,
                "--yes",
                "--poll-seconds",
                "0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    side = restore.side_table_name(TABLE_NAME, datetime.fromisoformat(moment))
    assert f"{side} is ready" in out and "ACTIVE" in out

    # Later: a second payment, and the trip edited by mistake.
    crew_api.paid(event_id, amount_cents=5000)
    trip_now = crew_api.get(f"/api/events/{event_id}").json_body
    trip_now = trip_now.get("event", trip_now)
    edited = crew_api.patch(
        f"/api/events/{event_id}", {"title": "WRONG", "version": trip_now["version"]}
    )
    assert edited.status_code == 200, edited.body

    # 2. Dry run: shows the trip as it was, changes nothing.
    args = ["--stage", "prod", "--table", TABLE_NAME, "--from-table", side, "--trip", event_id]
    assert restore.main([*args, "--dry-run", "--poll-seconds", "0"]) == 0
    out = capsys.readouterr().out
    assert "WRONG" in out and "title" in out
    assert stored_item(trip_key(event_id))["title"] == "WRONG"

    assert restore.main([*args, "--yes", "--poll-seconds", "0"]) == 0

    out = capsys.readouterr().out
    after = crew_api.get(f"/api/events/{event_id}").json_body
    after = after.get("event", after)
    assert after["title"] != "WRONG"
    # The put-back item said 5000 / 1; the repair made it the two payments stored.
    assert event_totals(crew_api, event_id) == {"paid_cents": 10000, "payment_count": 2}
    assert "Bootstrap's checks" in out and "Repaired" in out
    assert f"delete-table --table-name {side}" in out


def test_restore_refuses_a_time_without_an_offset(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = restore.main(
        ["--stage", "prod", "--table", TABLE_NAME, "--to-time", "2026-12-06T09:30:00", "--yes"]
    )
    assert code != 0
    assert "has no offset" in capsys.readouterr().err


def test_help_works_for_both_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    for script in (repair, restore):
        with pytest.raises(SystemExit) as done:
            script.main(["--help"])
        assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--to-time" in out and "--dry-run" in out
