"""The email outbox: items that owe an email carry a marker until it is sent.

An item that needs an email (a payment, a signed waiver) is written, in the
same write as the item itself, into the outbox (chalicelib/db/outbox.py):
"what is due" is then one Query whose cost grows with the emails owed. The
request never waits for SES: on AWS a DynamoDB stream handler calls
`deliver_new` for the INSERT (seconds later) and a scheduled Lambda calls
`drain_outbox` every minute for retries; in the local stack a thread calls
`drain_outbox` every second.

Each delivery first claims the item (a conditional update with a lease), so the
stream handler and the drain never send the same email at once. A failed send
counts an attempt, marks it "failed" and moves its due time back (exponential
backoff) until MAX_ATTEMPTS, when it leaves the outbox and an error is logged.
Delivery is at-least-once only in one corner: if SES accepted an email and the
process died before recording it, the lease runs out and it is sent again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from chalicelib import logs, timeutil
from chalicelib.db import get_store, keys
from chalicelib.db.outbox import Claimed
from chalicelib.mail import emails, notifications

MAX_ATTEMPTS = 8
# Longer than a slow SES call with botocore's retries: a live claim is never stolen.
CLAIM_SECONDS = 180
RETRY_FIRST_SECONDS = 60
RETRY_MAX_SECONDS = 3600


def drain_outbox(limit: int = 25) -> int:
    """Deliver up to `limit` due emails, oldest first; returns how many were sent."""
    due = get_store().outbox.due(timeutil.now(), limit)
    return sum(1 for key in due if deliver(key))


def deliver_new(images: Iterable[dict[str, Any]]) -> int:
    """Deliver the emails of newly written items (DynamoDB stream NewImages, low-level shape).

    Never raises: whatever is not sent now stays in the outbox for the drain,
    and a stream handler that raised would hold up every later record.
    """
    sent = 0
    for image in images:
        if image.get("GSI1PK", {}).get("S") != keys.OUTBOX:
            continue
        key = {"PK": image["PK"]["S"], "SK": image["SK"]["S"]}
        try:
            sent += deliver(key)
        except Exception as exc:  # the scheduled drain retries it
            logs.exception("outbox delivery failed; the drain will retry", exc, **key)
    return sent


def deliver(key: keys.Key) -> bool:
    """Send the email one item owes, if it is still owed and nobody else is on it.

    Returns True when this call sent it. SES failures are recorded on the item
    (and retried later), never raised.
    """
    outbox = get_store().outbox
    token = uuid.uuid4().hex
    claimed = outbox.claim(key, token, timeutil.now(), CLAIM_SECONDS)
    if claimed is None:
        return False
    try:
        message_id = notifications.send_email(emails.render(claimed.kind, claimed.record))
    except Exception as exc:
        _record_failure(claimed, token, exc)
        return False
    if outbox.sent(claimed, token, message_id):
        logs.line(level="info", message="email sent", kind=claimed.kind, pk=key["PK"])
    else:
        # Sent, but our claim ran out first: another sender may send it too.
        logs.line(level="warning", message="email sent but not recorded as sent", pk=key["PK"])
    return True


def _record_failure(claimed: Claimed, token: str, exc: Exception) -> None:
    attempts = claimed.attempts + 1
    given_up = attempts >= MAX_ATTEMPTS
    retry_at = None if given_up else timeutil.now() + timedelta(seconds=retry_delay(attempts))
    if not get_store().outbox.failed(claimed, token, reason=_reason(exc), retry_at=retry_at):
        # Left claimed: once the lease runs out the drain tries it again.
        logs.line(level="warning", message="email failure not recorded", pk=claimed.key["PK"])
    logs.line(
        level="error" if given_up else "warning",
        message="email given up" if given_up else "email failed; will retry",
        kind=claimed.kind,
        pk=claimed.key["PK"],
        attempts=attempts,
        error=type(exc).__name__,
    )


def retry_delay(attempts: int) -> int:
    """Seconds to wait after the n-th failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return min(RETRY_FIRST_SECONDS * 2 ** (attempts - 1), RETRY_MAX_SECONDS)


def _reason(exc: Exception) -> str:
    # Kept on the item (hidden from the API) for whoever looks into a stuck email;
    # never logged, since SES messages can quote addresses.
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]
