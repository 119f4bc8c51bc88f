"""Payments: each written in one transaction with its trip's running totals.

Payments leave the trip's `version` alone: that guards edits of trip fields,
and a payment logged on the dock must not make a captain's edit fail as stale.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.db import keys
from chalicelib.db.activity import activity_write
from chalicelib.db.outbox import enqueue_fields
from chalicelib.db.table import Cancelled, Table, Update
from chalicelib.records import Activity, Actor, Kind, Payment, PaymentStatus, Trip, TripStatus


@dataclass(frozen=True)
class Refused:
    """Why a payment's transaction was refused.

    `existing` is the payment already stored under that id (a replay, or a
    reused id); otherwise the trip refused: `trip` is it (cancelled) or None.
    """

    existing: Payment | None = None
    trip: Trip | None = None


@dataclass(frozen=True)
class Voided:
    """A void's outcome: `already` when someone else had voided it first."""

    payment: Payment
    already: bool


class Ledger:
    def __init__(self, table: Table) -> None:
        self.table = table

    def log(
        self, payment: Payment, *, busy: str, activity: Activity | None = None
    ) -> Refused | None:
        """Put the payment (new id only) and add it to its trip's totals, atomically.

        The payment goes into the email outbox, and its activity entry into the
        trip's activity, in the same write. Returns None
        when it was written, else why not.
        """
        key = keys.payment_key(payment.trip_id, payment.id)
        item = {
            **key,
            "kind": str(Kind.PAYMENT),
            **payment.attributes(),
            **enqueue_fields(key),
        }
        writes = [
            # Nulls are stored, so every payment has the contract's fields.
            self.table.put_write(
                item, condition="attribute_not_exists(PK)", keep_nulls=True, old=True
            ),
            self.table.update_write(
                keys.trip_key(payment.trip_id),
                Update(
                    "ADD paid_cents :amount, payment_count :one"
                    " SET payment_logged = :at, updated_at = :at",
                    condition="attribute_exists(PK) AND #status <> :cancelled",
                    names={"#status": "status"},
                    values={
                        ":amount": payment.amount_cents,
                        ":one": 1,
                        ":at": payment.logged_at,
                        ":cancelled": str(TripStatus.CANCELLED),
                    },
                ),
                old=True,
            ),
        ]
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        try:
            self.table.transact(writes, busy=busy)
        except Cancelled as cancelled:
            mine, trip = cancelled.refusals[:2]
            if mine.condition_failed:
                stored = mine.old or self.table.get(key)
                return Refused(existing=Payment.from_item(stored) if stored else None)
            # Without the old item (older emulators), a read says why.
            stored_trip = trip.old or self.table.get(keys.trip_key(payment.trip_id))
            return Refused(trip=Trip.from_item(stored_trip) if stored_trip else None)
        return None

    def get(self, trip_id: str, payment_id: str) -> Payment | None:
        item = self.table.get(keys.payment_key(trip_id, payment_id))
        return Payment.from_item(item) if item else None

    def void(
        self,
        payment: Payment,
        *,
        reason: str,
        at: str,
        by: Actor,
        busy: str,
        activity: Activity | None = None,
    ) -> Voided | None:
        """Mark a logged payment void and take it out of its trip's totals, atomically.

        None when the trip (or the payment) is gone.
        """
        writes = [
            self.table.update_write(
                keys.payment_key(payment.trip_id, payment.id),
                Update(
                    "SET #status = :void, void_reason = :reason, voided_at = :at,"
                    " voided_by = :by, voided_by_id = :by_id",
                    condition="#status = :logged AND amount_cents = :amount",
                    names={"#status": "status"},
                    values={
                        ":void": str(PaymentStatus.VOID),
                        ":logged": str(PaymentStatus.LOGGED),
                        ":reason": reason,
                        ":at": at,
                        ":by": by.name,
                        ":by_id": by.id,
                        ":amount": payment.amount_cents,
                    },
                ),
                old=True,
            ),
            self.table.update_write(
                keys.trip_key(payment.trip_id),
                Update(
                    "ADD paid_cents :minus, payment_count :minus_one SET updated_at = :at",
                    condition="attribute_exists(PK)",
                    values={":minus": -payment.amount_cents, ":minus_one": -1, ":at": at},
                ),
            ),
        ]
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        try:
            self.table.transact(writes, busy=busy)
        except Cancelled as cancelled:
            mine = cancelled.refusals[0]
            if mine.condition_failed:
                # Someone voided it between our read and our write.
                stored = mine.old or self.table.get(keys.payment_key(payment.trip_id, payment.id))
                return Voided(Payment.from_item(stored), already=True) if stored else None
            return None
        payment.status = PaymentStatus.VOID
        payment.void_reason, payment.voided_at = reason, at
        payment.voided_by, payment.voided_by_id = by.name, by.id
        return Voided(payment, already=False)

    def of_trip(self, trip_id: str) -> list[Payment]:
        """Every payment of a trip (voids included): one Query on its partition."""
        items = self.table.query(
            "PK = :pk AND begins_with(SK, :prefix)",
            {":pk": keys.trip_pk(trip_id), ":prefix": keys.PAYMENT_PREFIX},
        )
        return [Payment.from_item(item) for item in items]
