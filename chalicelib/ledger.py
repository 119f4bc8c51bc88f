"""The ledger export: every payment of the trips in a date window, as CSV for the books.

Read cost: the trips come from the date index (one Query per UTC year the
window touches), then one Query per trip on its own partition, begins_with
SK "PAY#" (voids included). So an export costs 1-2 + (number of trips) Queries,
each reading only that trip's payments: it grows with the window, never with
the table, and never Scans.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from chalicelib import money, payments, trips

COLUMNS = (
    "date",
    "event",
    "patron",
    "amount",
    "method",
    "status",
    "logged at",
    "logged by",
    "note",
    "void reason",
    "payment id",
)
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    filename: str
    text: str


def neutralise(cell: object) -> str:
    """A cell as text that a spreadsheet shows rather than runs: '=SUM(A1) stays text."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def payments_csv(from_text: str | None, to_text: str | None) -> Export:
    """The ledger of the trips on the operator's dates from..to (defaults as the board's)."""
    first, last = trips.window(from_text, to_text)
    out = io.StringIO()
    # RFC 4180 line ends; every cell quoted only when it needs to be.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for trip in trips.trips_between(first, last):
        for payment in payments.payments_of(trip.id):
            writer.writerow(
                neutralise(cell)
                for cell in (
                    trip.starts_at[:10],  # the trip's local date (stored with its offset)
                    trip.title,
                    payment.patron_name,
                    money.dollars(payment.amount_cents),
                    payment.method,
                    payment.status,
                    payment.logged_at,
                    payment.logged_by,
                    payment.note,
                    payment.void_reason,
                    payment.id,
                )
            )
    return Export(filename=f"payments-{first}-{last}.csv", text=out.getvalue())
