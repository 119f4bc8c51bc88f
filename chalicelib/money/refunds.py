"""Money handed back to a patron (a trip cut short, a seat given up): refunds.

A void says "this entry was a mistake"; a refund says "money went back". A
refund is written in ONE transaction with its trip's totals (chalicelib/db/
ledger.py): it comes off `paid_cents` (so the balance grows again) and adds to
`refunded_cents`. The transaction refuses a refund larger than what is paid net
of earlier refunds (409 `refund_exceeds_paid`), so two refunds at once can never
together hand back more than was paid.

Like payments on `payment_id`, refunds are idempotent on the client's
`refund_id`: a replay with the same content answers the stored refund (200) and
counts nothing twice; the same id with other content is a 409. Refunds are
allowed on a cancelled trip: that is when money goes back most often.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from chalicelib import timeutil
from chalicelib import validation as v
from chalicelib.db import get_store
from chalicelib.errors import Conflict, NotFound
from chalicelib.money import amounts, payments
from chalicelib.money.records import PaymentMethod, Refund
from chalicelib.records import Action, Actor
from chalicelib.trips import schedule
from chalicelib.trips.records import Trip

FIELDS = ("refund_id", "amount_cents", "method", "reason", "payment_id")
_BUSY = "the trip is busy: try again in a moment"


@dataclass(frozen=True)
class RefundOutcome:
    """A refund logged (`created`: False for a replay) or voided (`already_void`)."""

    refund: Refund
    trip: Trip
    created: bool = True
    already_void: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"refund": self.refund.to_json(), "event": self.trip.to_json()}

    def void_json(self) -> dict[str, Any]:
        answer = {**self.to_json(), "already_void": self.already_void}
        if self.already_void:
            answer["message"] = "this refund was already void: nothing changed"
        return answer


def _read(body: dict[str, Any]) -> dict[str, Any]:
    """Validated refund fields (400 naming the field on the first problem)."""
    return {
        "refund_id": v.uuid_text(body, "refund_id"),
        "amount_cents": v.integer(
            body, "amount_cents", required=True, minimum=1, maximum=payments.MAX_AMOUNT_CENTS
        ),
        "method": v.choice(body, "method", [m.value for m in PaymentMethod], required=True),
        "reason": v.text(body, "reason", required=True, max_len=300, multiline=True),
        "payment_id": v.uuid_text(body, "payment_id"),
    }


def log_refund(trip_id: str, body: dict[str, Any], *, by: Actor | str) -> RefundOutcome:
    """Record money handed back and take it off the trip's paid total, atomically.

    AWS calls: one TransactWriteItems, then one consistent GetItem of the trip (as
    a payment). A replay costs the same.
    """
    by = Actor.of(by)
    v.path_id(trip_id)
    v.reject_unknown(body, FIELDS)
    fields = _read(body)
    refund = Refund(
        id=fields.pop("refund_id") or str(uuid.uuid4()),
        trip_id=trip_id,
        **fields,
        logged_at=timeutil.now_iso(),
        logged_by=by.name,
        logged_by_id=by.id,
    )
    entry = schedule.activity_entry(
        trip_id,
        by,
        Action.REFUND_LOGGED,
        f"{by.name} refunded {amounts.display_dollars(refund.amount_cents)}"
        f" {amounts.method_label(refund.method)}: {refund.reason}",
    )
    refused = get_store().ledger.log_refund(refund, busy=_BUSY, activity=entry)
    if refused is None:
        return RefundOutcome(refund, schedule.load_trip(trip_id))
    if refused.existing is not None:
        stored = payments.replayed(refused.existing, refund, "refund")
        return RefundOutcome(stored, schedule.load_trip(trip_id), created=False)
    if refused.trip is None:
        raise NotFound("no such event", field="event_id")
    if refused.fare_exceeded is not None:
        fare = refused.fare_exceeded
        left = max(0, fare.amount_cents - fare.refunded_cents)
        raise Conflict(
            f"a refund of {amounts.display_dollars(refund.amount_cents)} is more than is left"
            f" of the fare it names ({amounts.display_dollars(left)} of"
            f" {amounts.display_dollars(fare.amount_cents)}, net of its earlier refunds)",
            field="amount_cents",
            code="refund_exceeds_paid",
        )
    if refused.payment_refused:
        raise Conflict(
            "payment_id must be a logged fare of this trip (not void, not a tip)",
            field="payment_id",
            code="not_refundable",
        )
    raise Conflict(
        f"a refund of {amounts.display_dollars(refund.amount_cents)} is more than this trip"
        f" has paid ({amounts.display_dollars(refused.trip.paid_cents)}, net of earlier refunds)",
        field="amount_cents",
        code="refund_exceeds_paid",
    )


def void_refund(
    trip_id: str, refund_id: str, body: dict[str, Any], *, by: Actor | str
) -> RefundOutcome:
    """Mark a refund void (logged by mistake) and put it back on the trip's paid total.

    Voiding again changes nothing and answers `already_void: true`.
    """
    by = Actor.of(by)
    refund_id, reason = payments.void_request(trip_id, refund_id, body, "refund")
    store = get_store()
    stored = store.ledger.get_refund(trip_id, refund_id)
    if stored is None:
        raise NotFound("no such refund", field="refund_id")
    if stored.void:
        return RefundOutcome(stored, schedule.load_trip(trip_id), already_void=True)
    entry = schedule.activity_entry(
        trip_id,
        by,
        Action.REFUND_VOIDED,
        f"{by.name} voided the {amounts.display_dollars(stored.amount_cents)} refund: {reason}",
    )
    voided = store.ledger.void(
        stored, reason=reason, at=timeutil.now_iso(), by=by, busy=_BUSY, activity=entry
    )
    if voided is None:
        raise NotFound("no such event", field="event_id")
    return RefundOutcome(voided.entry, schedule.load_trip(trip_id), already_void=voided.already)
