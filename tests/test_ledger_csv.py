"""The ledger export for the books: GET /api/payments.csv?from=&to=."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib import aws, timeutil
from chalicelib.money import ledger
from tests.conftest import trip


def new_trip(api, day: date, **overrides: Any) -> dict[str, Any]:
    body = trip(
        starts_at=f"{day.isoformat()}T09:00:00", ends_at=f"{day.isoformat()}T11:00:00", **overrides
    )
    response = api.post("/api/events", body)
    assert response.status_code == 201, response.body
    return response.json_body["event"]


def export(api, first: date, last: date):
    return api.get(f"/api/payments.csv?from={first.isoformat()}&to={last.isoformat()}")


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.body
    return list(csv.DictReader(io.StringIO(response.body.decode("utf-8"), newline="")))


@pytest.fixture
def tomorrow() -> date:
    return timeutil.today_local() + timedelta(days=1)


def test_ledger_downloads_as_a_csv_file_named_for_its_window(crew_api, event, tomorrow):
    response = export(crew_api, tomorrow, tomorrow + timedelta(days=6))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    first, last = tomorrow.isoformat(), (tomorrow + timedelta(days=6)).isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="payments-{first}-{last}.csv"'
    )
    header = next(csv.reader(io.StringIO(response.body.decode())))
    assert header == list(ledger.COLUMNS)
    assert header[:9] == [
        "date",
        "event",
        "patron",
        "amount",
        "method",
        "status",
        "logged at",
        "logged by",
        "note",
    ]


def test_ledger_has_one_row_per_payment_with_voids_and_their_status(crew_api, event, tomorrow):
    kept = crew_api.paid(event["id"], note="deposit")
    wrong = crew_api.paid(event["id"], amount_cents=5, method="venmo")
    crew_api.post(f"/api/events/{event['id']}/payments/{wrong['id']}/void", {"reason": "test tap"})
    big = crew_api.paid(event["id"], amount_cents=10_000_000, method="check", patron_name="Bo Li")
    found = rows(export(crew_api, tomorrow, tomorrow))
    by_id = {row["payment id"]: row for row in found}
    assert len(found) == 3
    assert by_id[kept["id"]] == {
        "date": tomorrow.isoformat(),
        "event": "Sunset Cruise",
        "patron": "Ana Ruiz",
        "amount": "120.00",
        "method": "cash",
        "status": "logged",
        "logged at": kept["logged_at"],
        "logged by": "Dana",
        "note": "deposit",
        "void reason": "",
        "payment id": kept["id"],
        "kind": "fare",
        "tip_shares": "",
        "refund id": "",
    }
    assert (by_id[wrong["id"]]["amount"], by_id[wrong["id"]]["status"]) == ("0.05", "void")
    assert by_id[wrong["id"]]["void reason"] == "test tap"
    assert by_id[big["id"]]["amount"] == "100000.00"


def test_ledger_cells_a_spreadsheet_would_run_are_neutralised(crew_api, event, tomorrow):
    crew_api.paid(event["id"], patron_name='=HYPERLINK("http://x","pay")')
    crew_api.paid(event["id"], patron_name="+1 555 0100", note="@SUM(A1:A9)")
    crew_api.paid(event["id"], patron_name="-Bo", note="paid\r\nlater")
    crew_api.paid(event["id"], patron_name='O\'Neil, "Jr"', note="split = fair")
    found = rows(export(crew_api, tomorrow, tomorrow))
    patrons = sorted(row["patron"] for row in found)
    assert patrons == sorted(
        ['\'=HYPERLINK("http://x","pay")', "'+1 555 0100", "'-Bo", 'O\'Neil, "Jr"']
    )
    notes = sorted(row["note"] for row in found)
    assert notes == sorted(["", "'@SUM(A1:A9)", "paid\r\nlater", "split = fair"])
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in found for cell in row.values())


def test_ledger_covers_only_trips_in_the_window_in_start_order(crew_api, tomorrow):
    later = new_trip(crew_api, tomorrow + timedelta(days=2), title="Later Trip")
    sooner = new_trip(crew_api, tomorrow, title="Sooner Trip")
    outside = new_trip(crew_api, tomorrow + timedelta(days=10), title="Far Trip")
    for each in (later, sooner, outside):
        crew_api.paid(each["id"])
    found = rows(export(crew_api, tomorrow, tomorrow + timedelta(days=3)))
    assert [row["event"] for row in found] == ["Sooner Trip", "Later Trip"]
    assert [row["date"] for row in found] == [
        tomorrow.isoformat(),
        (tomorrow + timedelta(days=2)).isoformat(),
    ]


def test_ledger_keeps_payments_of_cancelled_trips(crew_api, event, tomorrow):
    paid = crew_api.paid(event["id"])
    crew_api.post(f"/api/events/{event['id']}/cancel")
    crew_api.post(f"/api/events/{event['id']}/payments/{paid['id']}/void", {"reason": "refund"})
    [row] = rows(export(crew_api, tomorrow, tomorrow))
    assert (row["status"], row["void reason"]) == ("void", "refund")


def test_empty_window_is_just_the_header(crew_api, tomorrow):
    response = export(crew_api, tomorrow, tomorrow)
    assert rows(response) == []
    assert response.body.decode() == ",".join(ledger.COLUMNS) + "\r\n"


def test_ledger_reads_one_query_per_trip_and_never_scans(crew_api, tomorrow):
    for offset in range(3):
        crew_api.paid(new_trip(crew_api, tomorrow + timedelta(days=offset))["id"])
    calls: list[str] = []
    aws.observers.append(lambda service, operation, params: calls.append(operation))
    try:
        assert len(rows(export(crew_api, tomorrow, tomorrow + timedelta(days=2)))) == 3
    finally:
        aws.observers.pop()
    # The authorizer's GetItem (revocation), one Query on the date index (one UTC
    # year), then one per trip.
    years = len({tomorrow.year, (tomorrow + timedelta(days=3)).year})
    assert calls == ["GetItem"] + ["Query"] * (years + 3)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-13-01&to=2026-12-31", "from"),
        ("from=2026-07-04&to=July", "to"),
        ("from=2026-07-04&to=2026-07-01", "to"),
        # A year of books at most (longer than the board's 92 days: read in parts).
        ("from=2026-01-01&to=2027-01-02", "to"),
    ],
)
def test_bad_window_is_400_naming_the_field(crew_api, query, field):
    response = crew_api.get(f"/api/payments.csv?{query}")
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field


def test_ledger_needs_login(crew_api, tomorrow):
    response = crew_api.get("/api/payments.csv", token=False)
    assert response.status_code == 401
