"""A trip's ledger read back from its partition: payments with their receipts' state,
and refunds.

Apart from chalicelib/db/ledger.py, which writes entries, so that reading a trip
(the first request of most cold starts) loads none of the write side: its
transactions, the outbox and the dock's records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.db import keys
from chalicelib.db.table import Item
from chalicelib.money.records import Payment, Receipt, Refund
from chalicelib.records import Notification


@dataclass
class Entries:
    """A trip's ledger as stored: payments (with their receipts' state) and refunds."""

    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)


def ledger_entries(items: list[Item]) -> Entries:
    """The ledger among a trip's items (a receipt's state goes onto its payment)."""
    out = Entries()
    receipts: dict[str, Notification | None] = {}
    for item in items:
        sk = item["SK"]
        if sk.startswith(keys.PAYMENT_PREFIX):
            out.payments.append(Payment.from_item(item))
        elif sk.startswith(keys.REFUND_PREFIX):
            out.refunds.append(Refund.from_item(item))
        elif sk.startswith(keys.RECEIPT_PREFIX):
            receipts[item["payment_id"]] = Receipt.from_item(item).notification
    for payment in out.payments:
        payment.receipt = receipts.get(payment.id)
    return out
