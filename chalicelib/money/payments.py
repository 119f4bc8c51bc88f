"""Money patrons hand the crew: logging, idempotent replays, voids.

A payment is written in ONE transaction with its trip's running totals (see
chalicelib/db/ledger.py), so totals can never drift from the ledger. Payments
are append-only: a mistake is voided (row kept, totals adjusted in the same
transaction), never deleted.

Crew phones on dock signal resend taps, so the client may send its own
`payment_id`: a replay with the same content returns the stored payment and
counts nothing twice; the same id with other content is a 409. The crew email
goes out through the outbox (chalicelib/outbox.py, chalicelib/emails.py), and so
does the patron's receipt when the payment carries a `patron_email`.

A payment is a fare (the default: it counts toward the trip's price) or a tip
for the crew, which never counts toward paid or balance. A tip names whom it is
for: "crew" (the trip's `crew_ids`) or some of those accounts; it is split in
whole cents by `amounts.split_cents` (the extra cents to the lowest account ids).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from chalicelib import timeutil
from chalicelib import validation as v
from chalicelib.crew.records import Role
from chalicelib.db import get_store
from chalicelib.db.entries import Entries
from chalicelib.db.ledger import Refused
from chalicelib.errors import BadInput, Conflict, Forbidden, NotFound, Unavailable
from chalicelib.money import amounts
from chalicelib.money.records import (
    TIP_FOR_CREW,
    LedgerEntry,
    Payment,
    PaymentKind,
    PaymentMethod,
    Receipt,
)
from chalicelib.records import Action, Actor, Notification
from chalicelib.trips import schedule
from chalicelib.trips.records import Trip

Entry = TypeVar("Entry", bound=LedgerEntry)

FIELDS = (
    "payment_id",
    "patron_name",
    "amount_cents",
    "method",
    "note",
    "kind",
    "tip_for",
    "patron_email",
)
MAX_AMOUNT_CENTS = 10_000_000
# Crew may void a payment they logged themselves within this long; captains any.
OWN_VOID_SECONDS = 30 * 60
_BUSY = "the trip is busy: try again in a moment"
# A tip retries this many times when the trip's crew changes between its read and write.
TIP_TRIES = 3


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
    kind = v.choice(body, "kind", [k.value for k in PaymentKind]) or PaymentKind.FARE
    return {
        "payment_id": v.uuid_text(body, "payment_id"),
        "patron_name": v.text(body, "patron_name", required=True, max_len=120),
        "amount_cents": v.integer(
            body, "amount_cents", required=True, minimum=1, maximum=MAX_AMOUNT_CENTS
        ),
        "method": v.choice(body, "method", [m.value for m in PaymentMethod], required=True),
        "note": v.text(body, "note", max_len=500, multiline=True),
        "payment_kind": PaymentKind(kind),
        "tip_for": _tip_for(body, PaymentKind(kind)),
        "patron_email": v.email(body, "patron_email"),
    }


def _tip_for(body: dict[str, Any], kind: PaymentKind) -> str | list[str] | None:
    """Whom a tip is for: "crew" or a list of account ids (required for a tip, else refused)."""
    value = body.get("tip_for")
    if kind is not PaymentKind.TIP:
        if value is not None:
            raise BadInput("tip_for is only for a payment of kind tip", field="tip_for")
        return None
    if value == TIP_FOR_CREW:
        return TIP_FOR_CREW
    if value is None:
        raise BadInput('a tip needs tip_for: "crew" or a list of account ids', field="tip_for")
    ids = v.id_list(body, "tip_for")
    if not ids:
        raise BadInput('tip_for must be "crew" or a list of account ids', field="tip_for")
    return ids


def tip_shares(trip: Trip, tip_for: str | list[str], cents: int) -> list[dict[str, Any]]:
    """A tip's split among the trip's crew accounts it is for: [{account_id, name, cents}].

    "crew" with no crew on the trip is a 409 (nobody to give it to); an account that is
    not on the trip's crew is a 400. Both name `tip_for`.
    """
    if tip_for == TIP_FOR_CREW:
        if not trip.crew_ids:
            raise Conflict(
                "this trip has no crew accounts to split a tip among: set its crew first",
                field="tip_for",
                code="no_crew",
            )
        people = trip.crew_ids
    else:
        people = list(tip_for)
        strangers = sorted(set(people) - set(trip.crew_ids))
        if strangers:
            raise BadInput(
                f"tip_for names an account that is not on this trip's crew: {strangers[0]}",
                field="tip_for",
            )
    return [
        {"account_id": account, "name": trip.crew_names.get(account, account), "cents": share}
        for account, share in amounts.split_cents(cents, people)
    ]


def log_payment(trip_id: str, body: dict[str, Any], *, by: Actor | str) -> Logged:
    """Record money received for a trip and add it to the trip's totals, atomically.

    AWS calls, a fare: one TransactWriteItems, then one consistent GetItem of the
    trip (a transaction cannot return the updated item, and the response carries
    it). A tip: one consistent GetItem of the trip first (its crew decide the
    shares), then one TransactWriteItems that holds only if the crew are still
    those; its answer's trip is the one read with the tip added. A replay costs
    the same; the cancelled transaction itself says why it failed.
    """
    by = Actor.of(by)
    v.path_id(trip_id)
    v.reject_unknown(body, FIELDS)
    fields = _read(body)
    email = fields["patron_email"]
    payment = Payment(
        id=fields.pop("payment_id") or str(uuid.uuid4()),
        trip_id=trip_id,
        **fields,
        logged_at=timeutil.now_iso(),
        logged_by=by.name,
        logged_by_id=by.id,
        notification=Notification.PENDING,
        receipt=Notification.PENDING if email else None,
    )
    receipt = Receipt(trip_id, payment.id, email) if email else None
    entry = schedule.activity_entry(
        trip_id, by, Action.PAYMENT_LOGGED, _logged_summary(payment, by)
    )
    if not payment.tip:
        refused = get_store().ledger.log(payment, busy=_BUSY, activity=entry, receipt=receipt)
        if refused is None:
            return Logged(payment, schedule.load_trip(trip_id), created=True)
        return _replayed(payment, refused, lambda: schedule.load_trip(trip_id))
    for _ in range(TIP_TRIES):
        # A cancelled trip is refused by the write itself, after a replay is recognised.
        trip = schedule.load_trip(trip_id)
        assert payment.tip_for is not None
        payment.tip_shares = tip_shares(trip, payment.tip_for, payment.amount_cents)
        refused = get_store().ledger.log(
            payment, busy=_BUSY, activity=entry, receipt=receipt, crew_version=trip.version
        )
        if refused is None:
            return Logged(payment, _with_tip(trip, payment), created=True)
        if refused.existing is not None or refused.trip is None or refused.trip.cancelled:
            return _replayed(payment, refused, _as_read(trip))
        # The crew changed between our read and our write: split again.
    raise Unavailable(_BUSY)


def _logged_summary(payment: Payment, by: Actor) -> str:
    """ "Dana logged $60.00 cash from Ana", or "... logged a $10.00 cash tip from Ana"."""
    amount = amounts.display_dollars(payment.amount_cents)
    method = amounts.method_label(payment.method)
    what = f"a {amount} {method} tip" if payment.tip else f"{amount} {method}"
    return f"{by.name} logged {what} from {payment.patron_name}"


def _as_read(trip: Trip) -> Callable[[], Trip]:
    return lambda: trip


def _with_tip(trip: Trip, payment: Payment) -> Trip:
    """The trip as read before the tip, with the tip added (what the write did to it)."""
    trip.tips_cents += payment.amount_cents
    trip.payment_logged = trip.updated_at = payment.logged_at
    return trip


def _check_open(trip: Trip) -> None:
    if trip.cancelled:
        raise Conflict(
            "this trip is cancelled: payments can no longer be logged on it",
            field="event_id",
            code="cancelled",
        )


def replayed(stored: LedgerEntry, new: Entry, what: str) -> Entry:
    """The stored entry a resent id names, when it is the same entry; else 409
    `<what>_id_reused` (the id was used for different content)."""
    if not isinstance(stored, type(new)) or stored.content() != new.content():
        raise Conflict(
            f"this {what}_id was already used for a different {what}",
            field=f"{what}_id",
            code=f"{what}_id_reused",
        )
    return stored


def _replayed(payment: Payment, refused: Refused, trip_now: Callable[[], Trip]) -> Logged:
    """A refused payment: the stored one for a replay, else why it was refused."""
    if refused.existing is not None:
        return Logged(replayed(refused.existing, payment, "payment"), trip_now(), created=False)
    if refused.trip is not None:
        _check_open(refused.trip)
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
    payment_id, reason = void_request(trip_id, payment_id, body, "payment")
    store = get_store()
    stored = store.ledger.get(trip_id, payment_id)
    if stored is None:
        raise NotFound("no such payment", field="payment_id")
    if stored.void:
        return VoidOutcome(stored, schedule.load_trip(trip_id), already_void=True)
    if role is Role.CREW:
        _check_own_recent(stored, by)
    entry = schedule.activity_entry(
        trip_id,
        by,
        Action.PAYMENT_VOIDED,
        f"{by.name} voided {amounts.display_dollars(stored.amount_cents)}"
        f" from {stored.patron_name}: {reason}",
    )
    voided = store.ledger.void(
        stored, reason=reason, at=timeutil.now_iso(), by=by, busy=_BUSY, activity=entry
    )
    if voided is None:
        raise NotFound("no such event", field="event_id")
    if voided.refunded:
        raise Conflict(
            f"refunds naming this fare already hand back"
            f" {amounts.display_dollars(voided.payment.refunded_cents)} of it: void them first",
            field="payment_id",
            code="refund_exceeds_paid",
        )
    if voided.refused_by is not None:
        raise refunds_exceed_paid("voiding this fare", field="payment_id")
    return VoidOutcome(voided.payment, schedule.load_trip(trip_id), already_void=voided.already)


def void_request(trip_id: str, entry_id: str, body: dict[str, Any], what: str) -> tuple[str, str]:
    """A void's entry id (canonical UUID) and its reason; 404 for ids that cannot
    exist, 400 naming the field for a bad body."""
    v.path_id(trip_id)
    v.path_id(entry_id, what)
    v.reject_unknown(body, ("reason",))
    reason = v.text(body, "reason", required=True, max_len=300, multiline=True) or ""
    return str(uuid.UUID(entry_id)), reason


def refunds_exceed_paid(what: str, *, field: str) -> Conflict:
    """409: the trip's paid total (net of refunds) would go below zero."""
    return Conflict(
        f"{what} would take the trip's paid total below zero: refunds already hand back"
        " more than would be left paid",
        field=field,
        code="refund_exceeds_paid",
    )


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


def ledger_of(trip_id: str) -> Entries:
    """Every payment and refund of a trip (voids included), each oldest first: one Query."""
    found = get_store().ledger.of_trip(trip_id)
    return Entries(schedule.oldest_first(found.payments), schedule.oldest_first(found.refunds))


def ledger_of_day(day: date) -> Entries:
    """Every payment and refund logged on the operator's date `day`, for any trip (voids
    included), each oldest first: one Query of the day index."""
    found = get_store().ledger.of_day(day)
    return Entries(schedule.oldest_first(found.payments), schedule.oldest_first(found.refunds))
