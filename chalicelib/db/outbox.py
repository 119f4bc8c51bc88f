"""The outbox's bookkeeping on items that owe an email.

An item that needs an email is written with `**enqueue_fields(key)`: that puts
it on the date index's sparse OUTBOX partition, sorted by when it is due, so
"what is due" is one Query whose cost grows with the emails owed, not with the
table. Claims, successes and failures are conditional updates on the item; the
delivery bookkeeping attributes start with `_` and never reach the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import timeutil
from chalicelib.db import keys
from chalicelib.db.table import Part, Update
from chalicelib.dock.records import Departure, ShoreNotice
from chalicelib.money.records import Payment, Receipt
from chalicelib.records import Kind, Notification, Record
from chalicelib.waivers.records import Waiver

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


def enqueue_fields(key: keys.Key) -> dict[str, Any]:
    """The fields that put a new item in the outbox (due now). Spread them into the item."""
    return {
        "notification": str(Notification.PENDING),
        "GSI1PK": keys.OUTBOX,
        "GSI1SK": keys.outbox_marker(timeutil.utc_key(timeutil.now()), key),
        "_notify_attempts": 0,
    }


@dataclass(frozen=True)
class Claimed:
    """An item this process may now send the email of, until its claim runs out."""

    key: keys.Key
    kind: str
    attempts: int
    record: Record | None


# The record an outbox item of each kind is read as, for its email.
_RECORDS: dict[str, type[Record]] = {
    Kind.PAYMENT: Payment,
    Kind.RECEIPT: Receipt,
    Kind.WAIVER: Waiver,
    Kind.DEPARTURE: Departure,
    Kind.OVERDUE: ShoreNotice,
    Kind.ALL_BACK: ShoreNotice,
}


def _pick(*placeholders: str) -> dict[str, str]:
    return {name: _NAMES[name] for name in placeholders}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class OutboxTable(Part):
    def due(self, now: datetime, limit: int) -> list[keys.Key]:
        """The keys of up to `limit` items whose email is due, oldest first."""
        found = self.table.query(
            "#gpk = :outbox AND #gsk <= :due",
            # "~" sorts after "#": every marker stamped up to this second is due.
            {":outbox": keys.OUTBOX, ":due": timeutil.utc_key(now) + "~"},
            index=keys.DATE_INDEX,
            names=_pick("#gpk", "#gsk"),
            projection="PK, SK",
            limit=limit,
        )
        return [{"PK": item["PK"], "SK": item["SK"]} for item in found]

    def claim(self, key: keys.Key, token: str, now: datetime, seconds: int) -> Claimed | None:
        """Take the item for `seconds`; None if it is not owed or someone else has it."""
        item = self.table.update(
            key,
            Update(
                "SET #claim = :token, #until = :until",
                # The base table is the truth (the index lags): still owed, not
                # claimed, and, after a failure, its backoff has run out.
                condition="#gpk = :outbox AND (attribute_not_exists(#until) OR #until <= :now)",
                names=_pick("#gpk", "#claim", "#until"),
                values={
                    ":token": token,
                    ":until": _epoch(now) + seconds,
                    ":now": _epoch(now),
                    ":outbox": keys.OUTBOX,
                },
            ),
        )
        if item is None:
            return None
        kind = str(item.get("kind", ""))
        made = _RECORDS.get(kind)
        record = made.from_item(item) if made is not None else None
        return Claimed(key, kind, int(item.get("_notify_attempts", 0)), record)

    def sent(self, claimed: Claimed, token: str, message_id: str) -> bool:
        """Record the email as sent and take the item off the outbox; False if our claim lapsed."""
        return (
            self.table.update(
                claimed.key,
                Update(
                    "SET #state = :sent, #sent_at = :at, #message = :message"
                    " REMOVE #gpk, #gsk, #claim, #until, #error",
                    condition="#claim = :token",
                    names=_pick(
                        "#state",
                        "#sent_at",
                        "#message",
                        "#gpk",
                        "#gsk",
                        "#claim",
                        "#until",
                        "#error",
                    ),
                    values={
                        ":sent": str(Notification.SENT),
                        ":at": timeutil.now_iso(),
                        ":message": message_id,
                        ":token": token,
                    },
                ),
                answer=False,
            )
            is not None
        )

    def failed(
        self, claimed: Claimed, token: str, *, reason: str, retry_at: datetime | None
    ) -> bool:
        """Record a failed attempt: due again at `retry_at`, or given up (off the outbox)."""
        attempts = claimed.attempts + 1
        values: dict[str, Any] = {
            ":failed": str(Notification.FAILED),
            ":attempts": attempts,
            ":error": reason,
            ":token": token,
        }
        if retry_at is None:
            expression = (
                "SET #state = :failed, #attempts = :attempts, #error = :error"
                " REMOVE #gpk, #gsk, #claim, #until"
            )
            names = _pick("#state", "#attempts", "#error", "#gpk", "#gsk", "#claim", "#until")
        else:
            expression = (
                "SET #state = :failed, #attempts = :attempts, #error = :error,"
                " #gsk = :marker, #until = :due REMOVE #claim"
            )
            names = _pick("#state", "#attempts", "#error", "#gsk", "#until", "#claim")
            values[":marker"] = keys.outbox_marker(timeutil.utc_key(retry_at), claimed.key)
            values[":due"] = _epoch(retry_at)
        done = self.table.update(
            claimed.key,
            Update(expression, condition="#claim = :token", names=names, values=values),
            answer=False,
        )
        return done is not None
