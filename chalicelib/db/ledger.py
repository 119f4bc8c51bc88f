"""The ledger: payments (fares and tips) and refunds, each written in one transaction
with its trip's running totals.

The trip keeps `paid_cents` (fares net of refunds), `payment_count` (fares),
`tips_cents`, `refunded_cents` and `refund_count`. Every entry and every void
changes them in the same transaction as the entry itself, so totals never drift
from the ledger; conditions keep `paid_cents` from going below zero (a refund
larger than what is paid, or voiding a fare that refunds have handed back).

Entries leave the trip's `version` alone: that guards edits of trip fields, and
a payment logged on the dock must not make a captain's edit fail as stale. A
tip alone checks it: its shares were worked out from the crew the version names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.db import keys
from chalicelib.db.activity import activity_write
from chalicelib.db.entries import Entries, ledger_entries
from chalicelib.db.outbox import enqueue_fields
from chalicelib.db.table import Cancelled, Part, Refusal, Update
from chalicelib.money.records import Payment, PaymentKind, PaymentStatus, Receipt, Refund
from chalicelib.records import Actor, Kind
from chalicelib.trips.records import Activity, Trip, TripStatus


@dataclass(frozen=True)
class Refused:
    """Why an entry's transaction was refused.

    `existing` is the entry already stored under that id (a replay, or a reused
    id). Otherwise the trip refused: `trip` is it (cancelled, a tip's crew
    changed, or too little paid for a refund) or None when it is gone; for a
    refund, `payment_refused` when the fare it names is not one to refund.
    """

    existing: Payment | Refund | None = None
    trip: Trip | None = None
    payment_refused: bool = False
    # The fare named would hand back more than it was, net of its earlier refunds.
    fare_exceeded: Payment | None = None


@dataclass(frozen=True)
class Voided:
    """A void's outcome: `already` when someone else had voided it first;
    `refused_by` the trip when voiding would take its paid total below zero;
    `refunded` when refunds naming this fare have handed part of it back."""

    entry: Any
    already: bool
    refused_by: Trip | None = None
    refunded: bool = False

    @property
    def payment(self) -> Payment:
        assert isinstance(self.entry, Payment)
        return self.entry


def _totals_update(payment: Payment, *, version: int | None) -> Update:
    """The trip's side of logging a payment: a fare adds to paid, a tip to tips."""
    condition = "attribute_exists(PK) AND #status <> :cancelled"
    values: dict[str, Any] = {
        ":amount": payment.amount_cents,
        ":at": payment.logged_at,
        ":cancelled": str(TripStatus.CANCELLED),
    }
    if payment.tip:
        added = "ADD tips_cents :amount"
    else:
        added = "ADD paid_cents :amount, payment_count :one"
        values[":one"] = 1
    if version is not None:
        condition += " AND version = :version"
        values[":version"] = version
    return Update(
        f"{added} SET payment_logged = :at, updated_at = :at",
        condition=condition,
        names={"#status": "status"},
        values=values,
    )


def _void_update(amount: int, reason: str, at: str, by: Actor, *, fare: bool = False) -> Update:
    """Mark a logged entry void (the same for payments and refunds). A fare only while
    no refund naming it hands any of it back (the condition, not a read before)."""
    unrefunded = " AND (attribute_not_exists(refunded_cents) OR refunded_cents <= :zero)"
    return Update(
        "SET #status = :void, void_reason = :reason, voided_at = :at,"
        " voided_by = :by, voided_by_id = :by_id",
        condition="#status = :logged AND amount_cents = :amount" + (unrefunded if fare else ""),
        names={"#status": "status"},
        values={
            ":void": str(PaymentStatus.VOID),
            ":logged": str(PaymentStatus.LOGGED),
            ":reason": reason,
            ":at": at,
            ":by": by.name,
            ":by_id": by.id,
            ":amount": amount,
            **({":zero": 0} if fare else {}),
        },
    )


def _paid_change(cents: int, at: str, extra: str, values: dict[str, Any]) -> Update:
    """Add `cents` (negative: take off) to the trip's paid total, never below zero."""
    return Update(
        f"ADD paid_cents :paid{extra} SET updated_at = :at",
        condition="attribute_exists(PK) AND paid_cents >= :floor",
        values={":paid": cents, ":floor": max(0, -cents), ":at": at, **values},
    )


class Ledger(Part):
    # --- Payments: fares and tips ---------------------------------------------------

    def log(
        self,
        payment: Payment,
        *,
        busy: str,
        activity: Activity | None = None,
        receipt: Receipt | None = None,
        crew_version: int | None = None,
    ) -> Refused | None:
        """Put the payment (new id only) and add it to its trip's totals, atomically.

        The payment goes into the email outbox (the crew email), its receipt (if
        any) too, and its activity entry into the trip's activity, all in the same
        write. `crew_version`: the trip version a tip's shares were worked out at.
        Returns None when it was written, else why not.
        """
        key = keys.payment_key(payment.trip_id, payment.id)
        item = {
            **key,
            "kind": str(Kind.PAYMENT),
            **payment.attributes(),
            **enqueue_fields(key),
            **keys.ledger_day_fields(payment.logged_at, key),
        }
        writes = [
            # Nulls are stored, so every payment has the contract's fields.
            self.table.put_write(
                item, condition="attribute_not_exists(PK)", keep_nulls=True, old=True
            ),
            self.table.update_write(
                keys.trip_key(payment.trip_id),
                _totals_update(payment, version=crew_version),
                old=True,
            ),
        ]
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        if receipt is not None:
            receipt_key = keys.receipt_key(receipt.trip_id, receipt.payment_id)
            receipt_item = {
                **receipt_key,
                "kind": str(Kind.RECEIPT),
                **receipt.attributes(),
                **enqueue_fields(receipt_key),
            }
            writes.append(self.table.put_write(receipt_item, condition="attribute_not_exists(PK)"))
        refusals = self._transact(writes, busy)
        if refusals is None:
            return None
        mine, trip = refusals[:2]
        if mine.condition_failed:
            return self._replay(mine, key, Payment)
        return Refused(trip=self._trip_from(trip, payment.trip_id))

    def get(self, trip_id: str, payment_id: str) -> Payment | None:
        item = self.table.get(keys.payment_key(trip_id, payment_id))
        return Payment.from_item(item) if item else None

    # --- Refunds ----------------------------------------------------------------------

    def log_refund(
        self, refund: Refund, *, busy: str, activity: Activity | None = None
    ) -> Refused | None:
        """Put the refund (new id only) and take it off its trip's paid total, atomically;
        refused when the trip has less paid (net of earlier refunds) than it hands back.

        A refund that names the fare it hands back adds to that fare's `refunded_cents`
        in the same write, refused unless it is a logged fare of this trip and its
        `refunded_cents` stays within its amount (the condition, so refunds at once
        never hand back more of a fare than it was). The fare is read first for its
        amount (which never changes: the condition checks it too).
        """
        fare: Payment | None = None
        if refund.payment_id is not None:
            fare = self.get(refund.trip_id, refund.payment_id)
            if fare is None or fare.void or fare.tip:
                return Refused(payment_refused=True, trip=self._trip_now(refund.trip_id))
            if fare.amount_cents < refund.amount_cents:
                return Refused(fare_exceeded=fare, trip=self._trip_now(refund.trip_id))
        key = keys.refund_key(refund.trip_id, refund.id)
        item = {
            **key,
            "kind": str(Kind.REFUND),
            **refund.attributes(),
            **keys.ledger_day_fields(refund.logged_at, key),
        }
        writes = [
            self.table.put_write(
                item, condition="attribute_not_exists(PK)", keep_nulls=True, old=True
            ),
            self.table.update_write(
                keys.trip_key(refund.trip_id),
                _paid_change(
                    -refund.amount_cents,
                    refund.logged_at,
                    ", refunded_cents :amount, refund_count :one",
                    {":amount": refund.amount_cents, ":one": 1},
                ),
                old=True,
            ),
        ]
        if fare is not None:
            writes.append(self._fare_refunded(refund, fare_cents=fare.amount_cents))
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        refusals = self._transact(writes, busy)
        if refusals is None:
            return None
        mine, trip = refusals[:2]
        if mine.condition_failed:
            return self._replay(mine, key, Refund)
        if trip.condition_failed:
            return Refused(trip=self._trip_from(trip, refund.trip_id))
        now = self.get(refund.trip_id, fare.id) if fare is not None else None
        if now is not None and not now.void:
            return Refused(fare_exceeded=now, trip=self._trip_now(refund.trip_id))
        return Refused(trip=self._trip_now(refund.trip_id), payment_refused=True)

    def _trip_now(self, trip_id: str) -> Trip | None:
        stored_trip = self.table.get(keys.trip_key(trip_id))
        return Trip.from_item(stored_trip) if stored_trip else None

    def get_refund(self, trip_id: str, refund_id: str) -> Refund | None:
        item = self.table.get(keys.refund_key(trip_id, refund_id))
        return Refund.from_item(item) if item else None

    # --- Voids: a logged entry was a mistake ----------------------------------------------

    def void(
        self,
        entry: Payment | Refund,
        *,
        reason: str,
        at: str,
        by: Actor,
        busy: str,
        activity: Activity | None = None,
    ) -> Voided | None:
        """Mark a logged fare, tip or refund void and undo it on its trip's totals, atomically.

        A fare comes off paid (refused when refunds already handed it back: `refused_by`),
        a tip off the tips, a refund goes back on paid (and off the fare it names).
        None when the trip (or the entry) is gone.
        """
        linked: list[dict[str, Any]] = []
        if isinstance(entry, Refund):
            key = keys.refund_key(entry.trip_id, entry.id)
            totals = _paid_change(
                entry.amount_cents,
                at,
                ", refunded_cents :minus, refund_count :minus_one",
                {":minus": -entry.amount_cents, ":minus_one": -1},
            )
            if entry.payment_id is not None:
                linked.append(self._fare_refunded(entry, undo=True))
        elif entry.tip:
            key = keys.payment_key(entry.trip_id, entry.id)
            totals = Update(
                "ADD tips_cents :minus SET updated_at = :at",
                condition="attribute_exists(PK)",
                values={":minus": -entry.amount_cents, ":at": at},
            )
        else:
            key = keys.payment_key(entry.trip_id, entry.id)
            totals = _paid_change(
                -entry.amount_cents, at, ", payment_count :minus_one", {":minus_one": -1}
            )
        writes = [
            self.table.update_write(
                key,
                _void_update(
                    entry.amount_cents,
                    reason,
                    at,
                    by,
                    fare=isinstance(entry, Payment) and not entry.tip,
                ),
                old=True,
            ),
            self.table.update_write(keys.trip_key(entry.trip_id), totals, old=True),
            *linked,
        ]
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        refusals = self._transact(writes, busy)
        if refusals is None:
            entry.mark_void(reason, at, by)
            return Voided(entry, already=False)
        mine, trip = refusals[:2]
        if mine.condition_failed:
            # Someone voided it between our read and our write, or (a fare) a refund
            # names it.
            stored = mine.old or self.table.get(key)
            if not stored:
                return None
            found_entry = type(entry).from_item(stored)
            if isinstance(found_entry, Payment) and not found_entry.void:
                return Voided(found_entry, already=False, refunded=True)
            return Voided(found_entry, already=True)
        if trip.condition_failed:
            found = self._trip_from(trip, entry.trip_id)
            return Voided(entry, already=False, refused_by=found) if found else None
        return None

    def _fare_refunded(
        self, refund: Refund, *, undo: bool = False, fare_cents: int = 0
    ) -> dict[str, Any]:
        """The named fare's `refunded_cents`: the refund's amount on (only onto a logged
        fare of this trip of `fare_cents`, while what its refunds hand back stays within
        it), or off again when the refund is voided."""
        assert refund.payment_id is not None
        key = keys.payment_key(refund.trip_id, refund.payment_id)
        if undo:
            return self.table.update_write(
                key, Update("ADD refunded_cents :cents", values={":cents": -refund.amount_cents})
            )
        return self.table.update_write(
            key,
            Update(
                "ADD refunded_cents :cents",
                condition="attribute_exists(PK) AND #status = :logged"
                " AND (attribute_not_exists(payment_kind) OR payment_kind = :fare)"
                " AND amount_cents = :fare_cents"
                " AND (attribute_not_exists(refunded_cents) OR refunded_cents <= :room)",
                names={"#status": "status"},
                values={
                    ":cents": refund.amount_cents,
                    ":fare_cents": fare_cents,
                    ":room": fare_cents - refund.amount_cents,
                    ":logged": str(PaymentStatus.LOGGED),
                    ":fare": str(PaymentKind.FARE),
                },
            ),
        )

    # --- Reading a trip's ledger -------------------------------------------------------

    def of_trip(self, trip_id: str) -> Entries:
        """Every payment, receipt and refund of a trip (voids included): one Query."""
        items = self.table.query(
            "PK = :pk AND SK BETWEEN :low AND :high",
            {
                ":pk": keys.trip_pk(trip_id),
                ":low": keys.LEDGER_SK_LOW,
                ":high": keys.LEDGER_SK_HIGH,
            },
        )
        return ledger_entries(items)

    def of_day(self, day: date) -> Entries:
        """Every payment and refund logged on the operator's date `day` (voids included),
        whatever trip it is for: one Query of the day index (every page), in the order
        logged. Receipts are not on the index (their payments carry no receipt state)."""
        items = self.table.query(
            "GSI2PK = :month AND begins_with(GSI2SK, :day)",
            {":month": keys.ledger_month(day), ":day": keys.ledger_day_prefix(day)},
            index=keys.LEDGER_DAY_INDEX,
        )
        return ledger_entries(items)

    # --- Shared ------------------------------------------------------------------------

    def _transact(self, writes: list[dict[str, Any]], busy: str) -> list[Refusal] | None:
        """Write them all; None when written, else the refusals in the order sent."""
        try:
            self.table.transact(writes, busy=busy)
        except Cancelled as cancelled:
            return cancelled.refusals
        return None

    def _trip_from(self, refusal: Refusal, trip_id: str) -> Trip | None:
        # Without the old item (older emulators), a read says why.
        stored = refusal.old or self.table.get(keys.trip_key(trip_id))
        return Trip.from_item(stored) if stored else None

    def _replay(
        self, refusal: Refusal, key: keys.Key, record: type[Payment] | type[Refund]
    ) -> Refused:
        """The entry already stored under a new entry's key (a replay, or a reused id)."""
        stored = refusal.old or self.table.get(key)
        return Refused(existing=record.from_item(stored) if stored else None)
