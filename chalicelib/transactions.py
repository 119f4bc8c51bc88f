"""One TransactWriteItems, with the retries every writer of a trip needs.

A payment, a void and a signing each update their trip's item in the same
transaction as their own record, so two crew phones (or a boat full of patrons
signing at once) make DynamoDB cancel one of the transactions with
TransactionConflict. Nothing was written then, so the same items can simply go
again after a short jittered pause. A cancellation that another try would not
change (a condition that refused the write) goes back to the caller with
DynamoDB's reasons, so it can say which item refused and why.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.errors import Unavailable

# Cancellation reasons worth another go: another transaction held an item, or
# DynamoDB throttled one. Any other reason would only repeat itself.
RETRYABLE = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
CONDITION_FAILED = "ConditionalCheckFailed"
TRIES = 4


class Cancelled(Exception):
    """DynamoDB cancelled the transaction for a reason another try would not change.

    `reasons` are DynamoDB's CancellationReasons, one per item in order. A reason
    for an item sent with ReturnValuesOnConditionCheckFailure carries the stored
    `Item` (in DynamoDB's attribute-value shape) when that item's condition failed.
    """

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        self.reasons = reasons
        super().__init__(f"transaction cancelled: {self.codes}")

    @property
    def codes(self) -> list[str | None]:
        """Each item's reason code, in the order the items were sent."""
        return [reason.get("Code") for reason in self.reasons]

    @property
    def condition_failed(self) -> bool:
        """Whether an item's own condition refused the write (not a malformed request)."""
        return CONDITION_FAILED in self.codes


def transact_write(
    items: list[dict[str, Any]],
    *,
    busy: str,
    tries: int = TRIES,
    pause: Callable[[float], None] | None = None,
) -> None:
    """Write `items` in one transaction, retrying contention up to `tries` times in all.

    Raises Cancelled when a condition failed or the reasons are not worth
    retrying, and Unavailable(busy) (a 503 with Retry-After) when the items were
    still contended on the last try. Errors other than a cancelled transaction
    propagate as botocore raised them. `pause` waits between tries (time.sleep).
    """
    client = aws.dynamodb()
    for attempt in range(tries):
        try:
            client.transact_write_items(TransactItems=items)
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            cancelled = Cancelled(error.response.get("CancellationReasons") or [])
        if cancelled.condition_failed or not set(cancelled.codes) & RETRYABLE:
            raise cancelled
        if attempt < tries - 1:
            (pause or time.sleep)(random.uniform(0.02, 0.1) * (attempt + 1))
    raise Unavailable(busy)
