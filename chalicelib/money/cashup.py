"""The end-of-day cash-up: per account, what it collected by method (fares and tips
apart), the refunds it paid out, its voids, and the cash it should hand in.

The day is the operator's date the money changed hands: the cash-up of 2026-07-04
covers every entry logged that day, whatever trip it is for (a deposit taken
today for next week's trip is in today's cash-up), read from the ledger's day
index in one Query (chalicelib/db/ledger.py `of_day`). Its figures are exactly
the sums of the ledger CSV's rows "logged at" that date. An entry counts for the
account that logged it (who holds the money), not for the crew a tip is for.
Voided entries are listed on the day they were logged, never counted.

    cash to hand in = cash fares + cash tips - cash refunds   (none of them void)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from chalicelib import timeutil
from chalicelib import validation as v
from chalicelib.errors import BadInput
from chalicelib.money import ledger, payments
from chalicelib.money.records import Payment, PaymentKind, PaymentMethod, Refund

METHODS = tuple(str(method) for method in PaymentMethod)
SECTIONS = ("fares", "tips", "refunds")
CSV_COLUMNS = (
    "date",
    "account",
    "account id",
    "line",
    "method",
    "amount",
    "entry id",
    "event",
    "void reason",
)
FORMATS = ("json", "csv")


def cashup_format(text: str | None) -> str:
    """`?format=`: json (the default) or csv."""
    return v.choice({"format": text}, "format", FORMATS) or "json"


def cashup_day(text: str | None) -> date:
    """`?date=`: a calendar date, today in the operator's zone without one."""
    if text is None:
        return timeutil.today_local()
    if not text:
        raise BadInput("date must be a date like 2026-07-04", field="date")
    return timeutil.parse_date(text, "date")


def _by_method() -> dict[str, int]:
    return dict.fromkeys(METHODS, 0)


def _account_row(account_id: str | None, name: str) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "name": name,
        **{section: _by_method() for section in SECTIONS},
        "voided": [],
        "cash_to_hand_in_cents": 0,
    }


def _section(entry: Payment | Refund) -> str:
    if isinstance(entry, Refund):
        return "refunds"
    return "tips" if entry.payment_kind is PaymentKind.TIP else "fares"


def _kind(entry: Payment | Refund) -> str:
    """The entry's kind as the ledger CSV says it: fare, tip or refund."""
    return ledger.REFUND if isinstance(entry, Refund) else str(entry.payment_kind)


def _entries(day: date) -> list[Payment | Refund]:
    """The entries logged on `day`: payments, then refunds, each in the order logged."""
    found = payments.ledger_of_day(day)
    return [*found.payments, *found.refunds]


def cash_to_hand_in(row: dict[str, Any]) -> int:
    cash = str(PaymentMethod.CASH)
    return row["fares"][cash] + row["tips"][cash] - row["refunds"][cash]


def cashup(day: date, *, only: str | None) -> dict[str, Any]:
    """The day's cash-up as the contract's JSON. `only`: an account id whose row alone
    is shown (a crew member sees their own); totals are of the rows shown."""
    accounts: dict[str, dict[str, Any]] = {}
    for entry in _entries(day):
        # Entries logged before accounts (or by a script) have only a name.
        who = entry.logged_by_id or f"name:{entry.logged_by}"
        if only is not None and entry.logged_by_id != only:
            continue
        row = accounts.setdefault(who, _account_row(entry.logged_by_id, entry.logged_by or ""))
        section = _section(entry)
        if entry.void:
            row["voided"].append(
                {
                    "id": entry.id,
                    "event_id": entry.trip_id,
                    "kind": _kind(entry),
                    "amount_cents": entry.amount_cents,
                    "method": str(entry.method),
                    "void_reason": entry.void_reason,
                }
            )
            continue
        row[section][str(entry.method)] += entry.amount_cents
    rows = sorted(accounts.values(), key=lambda r: (r["name"].casefold(), r["account_id"] or ""))
    totals: dict[str, Any] = {section: _by_method() for section in SECTIONS}
    for row in rows:
        row["cash_to_hand_in_cents"] = cash_to_hand_in(row)
        for section in SECTIONS:
            for method in METHODS:
                totals[section][method] += row[section][method]
    totals["cash_to_hand_in_cents"] = cash_to_hand_in(totals)
    return {"date": day.isoformat(), "accounts": rows, "totals": totals}


def cashup_csv(report: dict[str, Any]) -> str:
    """The cash-up as CSV: per account a line per section and method with money in it,
    one per voided entry (not counted), and the cash to hand in; then the day's totals."""
    day = report["date"]

    def lines(row: dict[str, Any], name: str, account_id: str | None) -> Iterable[tuple]:
        for section in SECTIONS:
            for method in METHODS:
                if row[section][method]:
                    cents = ledger.amount(row[section][method])
                    yield (day, name, account_id, section, method, cents, None, None, None)
        for void in row.get("voided", []):
            yield (
                day,
                name,
                account_id,
                f"voided {void['kind']}",
                void["method"],
                ledger.amount(void["amount_cents"]),
                void["id"],
                void["event_id"],
                void["void_reason"],
            )
        cash = ledger.amount(row["cash_to_hand_in_cents"])
        yield (day, name, account_id, "cash to hand in", "cash", cash, None, None, None)

    def all_lines() -> Iterable[tuple]:
        for row in report["accounts"]:
            yield from lines(row, row["name"], row["account_id"])
        yield from lines(report["totals"], "TOTAL", None)

    return ledger.csv_text(iter(all_lines()), CSV_COLUMNS)
