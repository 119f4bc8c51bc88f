"""The email outbox: items that owe an email carry a marker until it is sent.

An item that needs an email (a payment, a signed waiver) is written, in the
same request and the same write as the item itself, with
`notification: "pending"` and `**enqueue_fields(pk, sk)`. Those fields put it
on a sparse partition of the date index:

    GSI1PK = "OUTBOX"    GSI1SK = "<due, UTC>#<pk>#<sk>"

so "what is due" is one Query whose cost grows with the emails owed, not with
the table. The request never waits for SES: on AWS a DynamoDB stream handler
calls `deliver_new` for the INSERT (seconds later) and a scheduled Lambda calls
`drain_outbox` every minute for retries; in the local stack a thread calls
`drain_outbox` every second.

Each delivery first claims the item (a conditional update with a lease), so the
stream handler and the drain never send the same email at once. A failed send
bumps `_notify_attempts`, marks it "failed" and moves its due time back
(exponential backoff, the marker's sort key is the due time) until
MAX_ATTEMPTS, when the marker is removed and an error is logged. Delivery is
at-least-once only in one corner: if SES accepted an email and the process died
before recording it, the lease runs out and it is sent again.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws, config, logs, notifications, table, timeutil

OUTBOX = "OUTBOX"
MAX_ATTEMPTS = 8
# Longer than a slow SES call with botocore's retries: a live claim is never stolen.
CLAIM_SECONDS = 180
RETRY_FIRST_SECONDS = 60
RETRY_MAX_SECONDS = 3600
# Which module renders the email of an item, by its `kind`: each has email_for(item).
RENDERERS = {"payment": "chalicelib.payments", "waiver": "chalicelib.waivers"}

# Attribute names in expressions go through placeholders: `_`-names and reserved words.
_NAMES = {
    "#gpk": "GSI1PK",
    "#gsk": "GSI1SK",
    "#state": "notification",
    "#attempts": "_notify_attempts",
    "#claim": "_notify_claim",
    "#until": "_notify_claim_until",
    "#error": "_notify_error",
    "#sent_at": "_notified_at",
    "#message": "_notify_message_id",
}


def enqueue_fields(pk: str, sk: str) -> dict[str, Any]:
    """The fields that put a new item in the outbox (due now). Spread them into the item."""
    return {
        "notification": "pending",
        "GSI1PK": OUTBOX,
        "GSI1SK": _marker(timeutil.now(), pk, sk),
        "_notify_attempts": 0,
    }


def _marker(due: datetime, pk: str, sk: str) -> str:
    return f"{timeutil.utc_key(due)}#{pk}#{sk}"


def drain_outbox(limit: int = 25) -> int:
    """Deliver up to `limit` due emails, oldest first; returns how many were sent."""
    now = timeutil.now()
    reply = aws.dynamodb().query(
        TableName=config.table_name(),
        IndexName=table.DATE_INDEX,
        KeyConditionExpression="#gpk = :outbox AND #gsk <= :due",
        ExpressionAttributeNames={"#gpk": "GSI1PK", "#gsk": "GSI1SK"},
        ExpressionAttributeValues={
            ":outbox": table.to_value(OUTBOX),
            # "~" sorts after "#": every marker stamped up to this second is due.
            ":due": table.to_value(timeutil.utc_key(now) + "~"),
        },
        ProjectionExpression="PK, SK",
        Limit=max(1, limit),
    )
    sent = 0
    for key in reply.get("Items", []):
        plain = table.from_item(key)
        if deliver(plain["PK"], plain["SK"]):
            sent += 1
    return sent


def deliver_new(images: Iterable[dict[str, Any]]) -> int:
    """Deliver the emails of newly written items (DynamoDB stream NewImages, low-level shape).

    Never raises: whatever is not sent now stays in the outbox for the drain,
    and a stream handler that raised would hold up every later record.
    """
    sent = 0
    for image in images:
        if image.get("GSI1PK", {}).get("S") != OUTBOX:
            continue
        pk, sk = image["PK"]["S"], image["SK"]["S"]
        try:
            sent += deliver(pk, sk)
        except Exception as exc:  # the scheduled drain retries it
            logs.exception("outbox delivery failed; the drain will retry", exc, pk=pk, sk=sk)
    return sent


def deliver(pk: str, sk: str) -> bool:
    """Send the email one item owes, if it is still owed and nobody else is on it.

    Returns True when this call sent it. SES failures are recorded on the item
    (and retried later), never raised.
    """
    token = uuid.uuid4().hex
    item = _claim(pk, sk, token)
    if item is None:
        return False
    try:
        message_id = notifications.send_email(_render(item))
    except Exception as exc:
        _record_failure(item, token, exc)
        return False
    _record_sent(item, token, message_id)
    return True


def _key(pk: str, sk: str) -> dict[str, Any]:
    return table.to_item({"PK": pk, "SK": sk})


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _claim(pk: str, sk: str, token: str) -> dict[str, Any] | None:
    """Take the item for CLAIM_SECONDS; its full state, or None if not ours to send."""
    now = timeutil.now()
    try:
        reply = aws.dynamodb().update_item(
            TableName=config.table_name(),
            Key=_key(pk, sk),
            UpdateExpression="SET #claim = :token, #until = :until",
            # The base table is the truth (the index lags): still owed, not claimed,
            # and, after a failure, its backoff has run out.
            ConditionExpression=(
                "#gpk = :outbox AND (attribute_not_exists(#until) OR #until <= :now)"
            ),
            ExpressionAttributeNames=_pick("#gpk", "#claim", "#until"),
            ExpressionAttributeValues={
                ":token": table.to_value(token),
                ":until": table.to_value(_epoch(now) + CLAIM_SECONDS),
                ":now": table.to_value(_epoch(now)),
                ":outbox": table.to_value(OUTBOX),
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise
    return table.from_item(reply["Attributes"])


def _pick(*placeholders: str) -> dict[str, str]:
    return {name: _NAMES[name] for name in placeholders}


def _render(item: dict[str, Any]) -> notifications.Email:
    module = RENDERERS.get(item.get("kind", ""))
    if module is None:
        raise ValueError(f"no email is defined for items of kind {item.get('kind')!r}")
    return importlib.import_module(module).email_for(item)


def _record_sent(item: dict[str, Any], token: str, message_id: str) -> None:
    try:
        aws.dynamodb().update_item(
            TableName=config.table_name(),
            Key=_key(item["PK"], item["SK"]),
            UpdateExpression=(
                "SET #state = :sent, #sent_at = :at, #message = :message"
                " REMOVE #gpk, #gsk, #claim, #until, #error"
            ),
            ConditionExpression="#claim = :token",
            ExpressionAttributeNames=_pick(
                "#state", "#sent_at", "#message", "#gpk", "#gsk", "#claim", "#until", "#error"
            ),
            ExpressionAttributeValues={
                ":sent": table.to_value("sent"),
                ":at": table.to_value(timeutil.now_iso()),
                ":message": table.to_value(message_id),
                ":token": table.to_value(token),
            },
        )
    except ClientError as error:
        # Sent, but our claim ran out first: another sender may send it too.
        logs.line(
            level="warning",
            message="email sent but not recorded as sent",
            error=error.response["Error"]["Code"],
            pk=item["PK"],
            sk=item["SK"],
        )
        return
    logs.line(level="info", message="email sent", kind=item.get("kind"), pk=item["PK"])


def _record_failure(item: dict[str, Any], token: str, exc: Exception) -> None:
    attempts = int(item.get("_notify_attempts", 0)) + 1
    reason = _reason(exc)
    values: dict[str, Any] = {
        ":failed": table.to_value("failed"),
        ":attempts": table.to_value(attempts),
        ":error": table.to_value(reason),
        ":token": table.to_value(token),
    }
    if attempts >= MAX_ATTEMPTS:
        expression = (
            "SET #state = :failed, #attempts = :attempts, #error = :error"
            " REMOVE #gpk, #gsk, #claim, #until"
        )
        names = _pick("#state", "#attempts", "#error", "#gpk", "#gsk", "#claim", "#until")
    else:
        due = timeutil.now() + timedelta(seconds=retry_delay(attempts))
        expression = (
            "SET #state = :failed, #attempts = :attempts, #error = :error,"
            " #gsk = :marker, #until = :due REMOVE #claim"
        )
        names = _pick("#state", "#attempts", "#error", "#gsk", "#until", "#claim")
        values[":marker"] = table.to_value(_marker(due, item["PK"], item["SK"]))
        values[":due"] = table.to_value(_epoch(due))
    try:
        aws.dynamodb().update_item(
            TableName=config.table_name(),
            Key=_key(item["PK"], item["SK"]),
            UpdateExpression=expression,
            ConditionExpression="#claim = :token",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        # Left claimed: once the lease runs out the drain tries it again.
        logs.line(
            level="warning",
            message="email failure not recorded",
            error=error.response["Error"]["Code"],
            pk=item["PK"],
        )
    logs.line(
        level="error" if attempts >= MAX_ATTEMPTS else "warning",
        message="email given up" if attempts >= MAX_ATTEMPTS else "email failed; will retry",
        kind=item.get("kind"),
        pk=item["PK"],
        attempts=attempts,
        error=type(exc).__name__,
    )


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the n-th failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return min(RETRY_FIRST_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS)


def _reason(exc: Exception) -> str:
    # Kept on the item (hidden from the API) for whoever looks into a stuck email;
    # never logged, since SES messages can quote addresses.
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]
