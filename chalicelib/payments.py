"""Money patrons hand the crew: logging, idempotent replays, voids, the crew email.

A payment lives in its trip's item collection (PK=EVENT#<event>, SK=PAY#<id>)
and is written in ONE TransactWriteItems with the trip's running totals, so
totals can never drift from the ledger. Payments are append-only: a mistake is
voided (row kept, totals adjusted in the same transaction), never deleted.

Crew phones on dock signal resend taps, so the client may send its own
`payment_id`: a replay with the same content returns the stored payment and
counts nothing twice; the same id with other content is a 409.

Payments leave the trip's `version` alone: that guards edits of trip fields,
and a payment logged on the dock must not make a captain's edit fail as stale.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib import (
    aws,
    config,
    events,
    notifications,
    outbox,
    table,
    templates,
    timeutil,
    transactions,
)
from chalicelib import validation as v
from chalicelib.errors import Conflict, NotFound, Unavailable

METHODS = ("cash", "card", "check", "venmo", "zelle", "other")
METHOD_LABELS = {
    "cash": "cash",
    "card": "card",
    "check": "check",
    "venmo": "Venmo",
    "zelle": "Zelle",
    "other": "other",
}
FIELDS = ("payment_id", "patron_name", "amount_cents", "method", "note")
# What must match for a replayed payment_id to be the same payment.
CONTENT = ("patron_name", "amount_cents", "method", "note")
MAX_AMOUNT_CENTS = 10_000_000
_BUSY = "the trip is busy: try again in a moment"


@dataclass(frozen=True)
class Logged:
    """The outcome of logging a payment: `created` is False for a replay."""

    payment: dict[str, Any]
    event: dict[str, Any]
    created: bool


def payment_sk(payment_id: str) -> str:
    return f"{table.PAYMENT_PREFIX}{payment_id}"


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    """Validated payment fields (400 naming the field on the first problem)."""
    return {
        "payment_id": v.uuid_text(body, "payment_id"),
        "patron_name": v.text(body, "patron_name", required=True, max_len=120),
        "amount_cents": v.integer(
            body, "amount_cents", required=True, minimum=1, maximum=MAX_AMOUNT_CENTS
        ),
        "method": v.choice(body, "method", METHODS, required=True),
        "note": v.text(body, "note", max_len=500, multiline=True),
    }


def log_payment(event_id: str, body: dict[str, Any], *, by: str) -> Logged:
    """Record money received for a trip and add it to the trip's totals, atomically.

    AWS calls: one TransactWriteItems, then one consistent GetItem of the trip
    (a transaction cannot return the updated item, and the response carries it).
    A replay costs the same; the cancelled transaction itself says why it failed.
    """
    v.path_id(event_id)
    v.reject_unknown(body, FIELDS)
    fields = _clean(body)
    payment_id = fields.pop("payment_id") or str(uuid.uuid4())
    pk, sk = table.event_pk(event_id), payment_sk(payment_id)
    stamp = timeutil.now_iso()
    record: dict[str, Any] = {
        "PK": pk,
        "SK": sk,
        "kind": "payment",
        "id": payment_id,
        "event_id": event_id,
        **fields,
        "logged_at": stamp,
        "logged_by": by,
        "status": "logged",
        "void_reason": None,
        "voided_at": None,
        "voided_by": None,
        **outbox.enqueue_fields(pk, sk),
    }
    reasons = _transact(
        [
            {
                "Put": {
                    "TableName": config.table_name(),
                    # Nulls are stored, so every payment has the contract's fields.
                    "Item": {name: table.to_value(value) for name, value in record.items()},
                    "ConditionExpression": "attribute_not_exists(PK)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Update": {
                    "TableName": config.table_name(),
                    "Key": _event_key(event_id),
                    "UpdateExpression": (
                        "ADD paid_cents :amount, payment_count :one"
                        " SET payment_logged = :at, updated_at = :at"
                    ),
                    "ConditionExpression": "attribute_exists(PK) AND #status <> :cancelled",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":amount": table.to_value(record["amount_cents"]),
                        ":one": table.to_value(1),
                        ":at": table.to_value(stamp),
                        ":cancelled": table.to_value("cancelled"),
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
    )
    if reasons is None:
        return Logged(public_payment(record), events.get_event(event_id), created=True)

    payment_reason, event_reason = reasons
    if payment_reason.get("Code") == transactions.CONDITION_FAILED:
        stored = _old_item(payment_reason) or _load_payment(pk, sk)
        if _content(stored) != _content(record):
            raise Conflict(
                "this payment_id was already used for a different payment",
                field="payment_id",
                code="payment_id_reused",
            )
        return Logged(public_payment(stored), events.get_event(event_id), created=False)
    if event_reason.get("Code") == transactions.CONDITION_FAILED:
        # Without the old item (older emulators), a read says why: 404 or cancelled.
        trip = _old_item(event_reason) or events.load_event(event_id)
        if trip.get("status") == "cancelled":
            raise Conflict(
                "this trip is cancelled: payments can no longer be logged on it",
                field="event_id",
                code="cancelled",
            )
        raise NotFound("no such event", field="event_id")
    raise Unavailable("the payment could not be saved: try again in a moment")


def void_payment(
    event_id: str, payment_id: str, body: dict[str, Any], *, by: str
) -> dict[str, Any]:
    """Mark a payment void and take it out of the trip's totals in one transaction.

    Voiding again changes nothing and answers `already_void: true`. Voids are
    allowed on a cancelled trip: that is how money handed back gets recorded.
    """
    v.path_id(event_id)
    v.path_id(payment_id, "payment")
    v.reject_unknown(body, ("reason",))
    reason = v.text(body, "reason", required=True, max_len=300, multiline=True)
    pk, sk = table.event_pk(event_id), payment_sk(str(uuid.UUID(payment_id)))
    stored = _load_payment(pk, sk)
    if stored.get("status") == "void":
        return _voided(stored, event_id, already=True)
    stamp = timeutil.now_iso()
    reasons = _transact(
        [
            {
                "Update": {
                    "TableName": config.table_name(),
                    "Key": table.to_item({"PK": pk, "SK": sk}),
                    "UpdateExpression": (
                        "SET #status = :void, void_reason = :reason,"
                        " voided_at = :at, voided_by = :by"
                    ),
                    "ConditionExpression": "#status = :logged AND amount_cents = :amount",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":void": table.to_value("void"),
                        ":logged": table.to_value("logged"),
                        ":reason": table.to_value(reason),
                        ":at": table.to_value(stamp),
                        ":by": table.to_value(by),
                        ":amount": table.to_value(stored["amount_cents"]),
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Update": {
                    "TableName": config.table_name(),
                    "Key": _event_key(event_id),
                    "UpdateExpression": (
                        "ADD paid_cents :minus, payment_count :minus_one SET updated_at = :at"
                    ),
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": {
                        ":minus": table.to_value(-stored["amount_cents"]),
                        ":minus_one": table.to_value(-1),
                        ":at": table.to_value(stamp),
                    },
                }
            },
        ]
    )
    if reasons is not None:
        payment_reason = reasons[0]
        if payment_reason.get("Code") == transactions.CONDITION_FAILED:
            # Someone voided it between our read and our write.
            return _voided(_old_item(payment_reason) or _load_payment(pk, sk), event_id, True)
        raise NotFound("no such event", field="event_id")
    stored.update(status="void", void_reason=reason, voided_at=stamp, voided_by=by)
    return _voided(stored, event_id, already=False)


def _voided(payment: dict[str, Any], event_id: str, already: bool) -> dict[str, Any]:
    answer = {
        "payment": public_payment(payment),
        "event": events.get_event(event_id),
        "already_void": already,
    }
    if already:
        answer["message"] = "this payment was already void: nothing changed"
    return answer


def public_payment(item: dict[str, Any]) -> dict[str, Any]:
    """The Payment of the API contract, from a stored item."""
    return {
        "id": item["id"],
        "event_id": item["event_id"],
        "patron_name": item["patron_name"],
        "amount_cents": item["amount_cents"],
        "method": item["method"],
        "note": item.get("note"),
        "logged_at": item["logged_at"],
        "logged_by": item.get("logged_by"),
        "status": item.get("status", "logged"),
        "void_reason": item.get("void_reason"),
        "voided_at": item.get("voided_at"),
        "voided_by": item.get("voided_by"),
        "notification": item.get("notification"),
    }


def payments_of(event_id: str) -> list[dict[str, Any]]:
    """Every payment of a trip (voids included), oldest first: one Query on its partition."""
    items = events.query_all(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={
            ":pk": table.to_value(table.event_pk(event_id)),
            ":prefix": table.to_value(table.PAYMENT_PREFIX),
        },
        ConsistentRead=True,
    )
    items.sort(key=lambda item: (_instant(item.get("logged_at")), item.get("id", "")))
    return [public_payment(item) for item in items]


def _instant(stamp: str | None) -> datetime:
    # Offsets differ across a DST change, so compare instants, not strings.
    return datetime.fromisoformat(stamp) if stamp else datetime.min.replace(tzinfo=UTC)


def _content(item: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(item.get(name) for name in CONTENT)


def _event_key(event_id: str) -> dict[str, Any]:
    return table.to_item({"PK": table.event_pk(event_id), "SK": table.EVENT_SK})


def _old_item(reason: dict[str, Any]) -> dict[str, Any] | None:
    item = reason.get("Item")
    return table.from_item(item) if item else None


def _load_payment(pk: str, sk: str) -> dict[str, Any]:
    found = aws.dynamodb().get_item(
        TableName=config.table_name(),
        Key=table.to_item({"PK": pk, "SK": sk}),
        ConsistentRead=True,
    )
    if "Item" not in found:
        raise NotFound("no such payment", field="payment_id")
    return table.from_item(found["Item"])


def _transact(items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Run one transaction: None when it went through, else the cancellation reasons.

    A conflict with another transaction on the same trip (two crew phones at
    once) is retried with a short jittered pause; it cannot double count, since
    the payment's own condition still holds. Only a failed condition comes back
    to the caller; any other refusal is a 503 to try again.
    """
    try:
        # `time` is looked up here so a test can skip the payment code's pauses.
        transactions.transact_write(items, busy=_BUSY)
    except transactions.Cancelled as cancelled:
        if not cancelled.condition_failed:
            raise Unavailable(_BUSY) from None
        return cancelled.reasons
    return None


# --- The crew email -------------------------------------------------------------


def dollars(cents: int) -> str:
    """Integer cents as plain dollars with two decimals, never via float: 12050 -> "120.50"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def display_dollars(cents: int) -> str:
    """Cents for people: 1205000 -> "$12,050.00", -500 -> "-$5.00"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}.{part:02d}"


def email_for(item: dict[str, Any]) -> notifications.Email:
    """The crew email for a logged payment (called by the outbox when it sends).

    Totals are the trip's as the email goes out, normally seconds after the
    payment: with two payments at once both emails show the total of both.
    """
    trip = events.public_event(events.load_event(item["event_id"]))
    starts = datetime.fromisoformat(trip["starts_at"]).astimezone(config.operator_tz())
    day = f"{starts:%a %b} {starts.day}"
    method = METHOD_LABELS.get(item["method"], item["method"])
    amount = display_dollars(item["amount_cents"])
    subject = f"{amount} {method} from {item['patron_name']} — {trip['title']}, {day}"
    logged = datetime.fromisoformat(item["logged_at"]).astimezone(config.operator_tz())
    context = {
        "payment": public_payment(item),
        "event": trip,
        "amount": amount,
        "method": method,
        "trip_day": f"{starts:%A, %B} {starts.day}",
        "trip_time": starts.strftime("%I:%M %p").lstrip("0"),
        "logged_time": logged.strftime("%I:%M %p").lstrip("0") + f" {logged:%a %b} {logged.day}",
        "paid": display_dollars(trip["paid_cents"]),
        "price": None if trip["price_cents"] is None else display_dollars(trip["price_cents"]),
        "balance": (
            None if trip["balance_cents"] is None else display_dollars(trip["balance_cents"])
        ),
        "subject": subject,
    }
    return notifications.Email(
        to=config.crew_notify_emails(),
        subject=subject,
        text=templates.render("email/payment.txt", **context),
        html=templates.render("email/payment.html", **context),
    )
