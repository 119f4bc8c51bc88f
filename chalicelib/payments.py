"""Money patrons hand the crew: logging, idempotent replays, voids.

A payment is written in ONE transaction with its trip's running totals (see
chalicelib/db/ledger.py), so totals can never drift from the ledger. Payments
are append-only: a mistake is voided (row kept, totals adjusted in the same
transaction), never deleted.

Crew phones on dock signal resend taps, so the client may send its own
`payment_id`: a replay with the same content returns the stored payment and
counts nothing twice; the same id with other content is a 409. The crew email
goes out through the outbox (chalicelib/outbox.py, chalicelib/emails.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib import money, timeutil, trips
from chalicelib import validation as v
from chalicelib.db import get_store
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.records import Action, Actor, Notification, Payment, PaymentMethod, Role, Trip

FIELDS = ("payment_id", "patron_name", "amount_cents", "method", "note")
MAX_AMOUNT_CENTS = 10_000_000
# Crew may void a payment they logged themselves within this long; captains any.
OWN_VOID_SECONDS = 30 * 60
_BUSY = "the trip is busy: try again in a moment"


@dataclass(frozen=True)
class Logged:
    """The outcome of logging a payment: `created` is False for a replay."""

    payment: Payment
    trip: Trip
    created: bool


@dataclass(frozen=True)
class VoidOutcome:
    payment: Payment
    trip: Trip
    already_void: bool

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "payment": self.payment.to_json(),
            "event": self.trip.to_json(),
            "already_void": self.already_void,
        }
        if self.already_void:
            answer["message"] = "this payment was already void: nothing changed"
        return answer


def _read(body: dict[str, Any]) -> dict[str, Any]:
    """Validated payment fields (400 naming the field on the first problem)."""
    return {
        "payment_id": v.uuid_text(body, "payment_id"),
        "patron_name": v.text(body, "patron_name", required=True, max_len=120),
        "amount_cents": v.integer(
            body, "amount_cents", required=True, minimum=1, maximum=MAX_AMOUNT_CENTS
        ),
        "method": v.choice(body, "method", [m.value for m in PaymentMethod], required=True),
        "note": v.text(body, "note", max_len=500, multiline=True),
    }


def log_payment(trip_id: str, body: dict[str, Any], *, by: Actor | str) -> Logged:
    """Record money received for a trip and add it to the trip's totals, atomically.

    AWS calls: one TransactWriteItems, then one consistent GetItem of the trip
    (a transaction cannot return the updated item, and the response carries it).
    A replay costs the same; the cancelled transaction itself says why it failed.
    """
    by = Actor.of(by)
    v.path_id(trip_id)
    v.reject_unknown(body, FIELDS)
    fields = _read(body)
    payment = Payment(
        id=fields.pop("payment_id") or str(uuid.uuid4()),
        trip_id=trip_id,
        **fields,
        logged_at=timeutil.now_iso(),
        logged_by=by.name,
        logged_by_id=by.id,
        notification=Notification.PENDING,
    )
    store = get_store()
    entry = trips.activity_entry(
        trip_id,
        by,
        Action.PAYMENT_LOGGED,
        f"{by.name} logged {money.display_dollars(payment.amount_cents)}"
        f" {money.method_label(payment.method)} from {payment.patron_name}",
    )
    refused = store.ledger.log(payment, busy=_BUSY, activity=entry)
    if refused is None:
        return Logged(payment, trips.load_trip(trip_id), created=True)
    if refused.existing is not None:
        if refused.existing.content() != payment.content():
            raise Conflict(
                "this payment_id was already used for a different payment",
                field="payment_id",
                code="payment_id_reused",
            )
        return Logged(refused.existing, trips.load_trip(trip_id), created=False)
    if refused.trip is not None and refused.trip.cancelled:
        raise Conflict(
            "this trip is cancelled: payments can no longer be logged on it",
            field="event_id",
            code="cancelled",
        )
    raise NotFound("no such event", field="event_id")


def void_payment(
    trip_id: str,
    payment_id: str,
    body: dict[str, Any],
    *,
    by: Actor | str,
    role: Role = Role.OWNER,
) -> VoidOutcome:
    """Mark a payment void and take it out of the trip's totals in one transaction.

    Voiding again changes nothing and answers `already_void: true`. Voids are
    allowed on a cancelled trip: that is how money handed back gets recorded.
    A `crew` caller may void only a payment they logged, within 30 minutes.
    """
    by = Actor.of(by)
    v.path_id(trip_id)
    v.path_id(payment_id, "payment")
    v.reject_unknown(body, ("reason",))
    reason = v.text(body, "reason", required=True, max_len=300, multiline=True) or ""
    store = get_store()
    stored = store.ledger.get(trip_id, str(uuid.UUID(payment_id)))
    if stored is None:
        raise NotFound("no such payment", field="payment_id")
    if stored.void:
        return VoidOutcome(stored, trips.load_trip(trip_id), already_void=True)
    if role is Role.CREW:
        _check_own_recent(stored, by)
    entry = trips.activity_entry(
        trip_id,
        by,
        Action.PAYMENT_VOIDED,
        f"{by.name} voided {money.display_dollars(stored.amount_cents)}"
        f" from {stored.patron_name}: {reason}",
    )
    voided = store.ledger.void(
        stored, reason=reason, at=timeutil.now_iso(), by=by, busy=_BUSY, activity=entry
    )
    if voided is None:
        raise NotFound("no such event", field="event_id")
    return VoidOutcome(voided.payment, trips.load_trip(trip_id), already_void=voided.already)


def _check_own_recent(payment: Payment, by: Actor) -> None:
    """Crew may void only their own payment, and only for 30 minutes after logging it."""
    if by.id is None or payment.logged_by_id != by.id:
        raise Forbidden(
            "crew may void only a payment they logged: this needs a captain or owner login",
            code="forbidden",
        )
    age = (timeutil.now() - timeutil.instant(payment.logged_at)).total_seconds()
    if age > OWN_VOID_SECONDS:
        raise Forbidden(
            "crew may void their own payment for 30 minutes after logging it:"
            " this needs a captain or owner login now",
            code="forbidden",
        )


def payments_of(trip_id: str) -> list[Payment]:
    """Every payment of a trip (voids included), oldest first: one Query on its partition."""
    found = get_store().ledger.of_trip(trip_id)
    return sorted(found, key=lambda p: (timeutil.instant(p.logged_at), p.id))
