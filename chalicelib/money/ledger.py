"""The ledger for the books: every fare, tip and refund of the trips in a date window.

Read cost: the trips come from the date index, then one Query per trip on its
own partition (SK range PAY#..REFUND#, voids included). A window longer than
the board's 92 days is read 92 days at a time, each part one Query per UTC year
it touches (every Query follows its pages): the cost grows with the window,
never with the table, and nothing Scans. The tips report (chalicelib/tips.py)
and the cash-up (chalicelib/cashup.py) read through the same `trip_ledgers`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from chalicelib.db.entries import Entries
from chalicelib.money import amounts, payments
from chalicelib.money.records import Payment, Refund
from chalicelib.trips import schedule
from chalicelib.trips.records import Trip

# A year of books in one export; longer windows are read in parts of this many days.
MAX_EXPORT_DAYS = 366
PART_DAYS = schedule.MAX_WINDOW_DAYS
REFUND = "refund"

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
    # Issue 15: fare | tip | refund; a tip's split ("name:cents; ..."); a refund's own id
    # (its "payment id" is the fare it hands back, if it names one).
    "kind",
    "tip_shares",
    "refund id",
)
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    filename: str
    text: str


class Written(str):
    """A cell the app writes itself (an amount, a count): never guarded, so -5.00 stays a
    number a spreadsheet sums. Only text that came from people is guarded."""


def amount(cents: int) -> Written:
    """Cents as a CSV amount ("-5.00"), written as a number."""
    return Written(amounts.dollars(cents))


def neutralise(cell: object) -> str:
    """A cell as text that a spreadsheet shows rather than runs: '=SUM(A1) stays text.

    Numbers and `Written` cells are the app's own and pass as they are."""
    if isinstance(cell, (Written, int)) and not isinstance(cell, bool):
        return str(cell)
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(
    rows: list[tuple[Any, ...]] | Iterator[tuple[Any, ...]], header: tuple[str, ...]
) -> str:
    """RFC 4180 CSV (CRLF line ends, quoted only where needed), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(neutralise(cell) for cell in row)
    return out.getvalue()


def export_window(from_text: str | None, to_text: str | None) -> tuple[date, date]:
    """The dates of an export or report: as the board's, but up to a year long."""
    return schedule.window(from_text, to_text, max_days=MAX_EXPORT_DAYS)


def trip_ledgers(first: date, last: date) -> Iterator[tuple[Trip, Entries]]:
    """Each trip starting on the operator's dates first..last, by start time, with its
    ledger (entries oldest first), read PART_DAYS days of trips at a time."""
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=PART_DAYS - 1))
        for trip in schedule.trips_between(start, end):
            yield trip, payments.ledger_of(trip.id)
        start = end + timedelta(days=1)


def shares_text(payment: Payment) -> str:
    """A tip's split for a CSV cell: "Ana:334; Bo:333" (cents)."""
    return "; ".join(f"{share['name']}:{share['cents']}" for share in payment.tip_shares)


def _payment_row(trip: Trip, payment: Payment) -> tuple[Any, ...]:
    return (
        trip.starts_at[:10],  # the trip's local date (stored with its offset)
        trip.title,
        payment.patron_name,
        amount(payment.amount_cents),
        payment.method,
        payment.status,
        payment.logged_at,
        payment.logged_by,
        payment.note,
        payment.void_reason,
        payment.id,
        payment.payment_kind,
        shares_text(payment),
        None,
    )


def _refund_row(trip: Trip, refund: Refund, patrons: dict[str, str]) -> tuple[Any, ...]:
    return (
        trip.starts_at[:10],
        trip.title,
        patrons.get(refund.payment_id or "", ""),
        amount(refund.amount_cents),  # money back: the kind says so, not a sign
        refund.method,
        refund.status,
        refund.logged_at,
        refund.logged_by,
        refund.reason,
        refund.void_reason,
        refund.payment_id,
        REFUND,
        None,
        refund.id,
    )


def ledger_rows(first: date, last: date) -> Iterator[tuple[Any, ...]]:
    """One row per fare, tip and refund (voids included) of the window's trips."""
    for trip, entries in trip_ledgers(first, last):
        patrons = {payment.id: payment.patron_name for payment in entries.payments}
        for payment in entries.payments:
            yield _payment_row(trip, payment)
        for refund in entries.refunds:
            yield _refund_row(trip, refund, patrons)


def payments_csv(from_text: str | None, to_text: str | None) -> Export:
    """The ledger of the trips on the operator's dates from..to (defaults as the board's)."""
    first, last = export_window(from_text, to_text)
    return Export(
        filename=f"payments-{first}-{last}.csv", text=csv_text(ledger_rows(first, last), COLUMNS)
    )
