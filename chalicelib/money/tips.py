"""Tips for the crew, per person: what each account received in a date window, and from
which trips. Voided tips are not counted. Read as the ledger export reads
(chalicelib/ledger.py `trip_ledgers`): no Scan, cost grows with the window.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.money import ledger


def tips_report(from_text: str | None, to_text: str | None, *, only: str | None) -> dict[str, Any]:
    """Tips per person for the trips on the operator's dates from..to.

    `only`: an account id whose row alone is shown (a crew member sees their own).
    """
    first, last = ledger.export_window(from_text, to_text)
    people = received(first, last)
    if only is not None:
        people = {account: row for account, row in people.items() if account == only}
    rows = sorted(people.values(), key=lambda row: (row["name"].casefold(), row["account_id"]))
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "people": rows,
        "total_cents": sum(row["tips_cents"] for row in rows),
    }


def received(first: date, last: date) -> dict[str, dict[str, Any]]:
    """Account id -> {account_id, name, tips_cents, trips: [{event_id, title, starts_at,
    cents}]} from the logged (not void) tips of the window's trips, trips by start."""
    people: dict[str, dict[str, Any]] = {}
    for trip, entries in ledger.trip_ledgers(first, last):
        for payment in entries.payments:
            if not payment.tip or payment.void:
                continue
            for share in payment.tip_shares:
                person = people.setdefault(
                    share["account_id"],
                    {"account_id": share["account_id"], "name": share["name"], "tips_cents": 0},
                )
                person["tips_cents"] += share["cents"]
                trips_of = person.setdefault("by_trip", {})
                row = trips_of.setdefault(
                    trip.id,
                    {"event_id": trip.id, "title": trip.title, "starts_at": trip.starts_at},
                )
                row["cents"] = row.get("cents", 0) + share["cents"]
    for person in people.values():
        person["trips"] = list(person.pop("by_trip").values())
    return people
