"""One table and the requests every part of the store makes of it.

Each method speaks plain Python (values are serialized here) and maps
DynamoDB's answers: a refused condition is a return value the caller reads,
a busy table is a 503 to try again (`Unavailable`), anything else propagates.

Transactions are retried here: a payment, a void and a signing each update
their trip's item in the same transaction as their own record, so two crew
phones (or a boat full of patrons signing at once) make DynamoDB cancel one of
them with TransactionConflict. Nothing was written then, so the same items go
again after a short jittered pause. A cancellation that another try would not
change (a condition that refused the write) goes back to the caller with
DynamoDB's reasons, so it can say which item refused and why.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib import aws
from chalicelib.db.codec import from_item, to_item, to_value
from chalicelib.errors import Unavailable

CONDITION_FAILED = "ConditionalCheckFailed"
TRIES = 4
Item = dict[str, Any]


@dataclass(frozen=True)
class Refusal:
    """Why one item of a cancelled transaction was refused, in the order sent.

    `old` is the stored item (plain) when its condition failed and the write
    asked for it back.
    """

    code: str | None
    old: Item | None = None

    @property
    def condition_failed(self) -> bool:
        return self.code == CONDITION_FAILED


class Cancelled(Exception):
    """A transaction's condition refused it; `refusals` has one entry per item."""

    def __init__(self, refusals: list[Refusal]) -> None:
        self.refusals = refusals
        super().__init__(f"transaction cancelled: {[r.code for r in refusals]}")


@dataclass(frozen=True)
class Update:
    """An UpdateExpression with its condition and plain values (names as placeholders)."""

    expression: str
    condition: str | None = None
    values: dict[str, Any] | None = None
    names: dict[str, str] | None = None


def versioned(changes: dict[str, Any], expected_version: int) -> Update:
    """Set (or, for None, remove) fields and bump `version`, if it is still the one read."""
    names = {f"#f{i}": name for i, name in enumerate(changes)}
    sets, removes, values = [], [], {}
    for i, value in enumerate(changes.values()):
        if value is None:
            removes.append(f"#f{i}")
        else:
            sets.append(f"#f{i} = :v{i}")
            values[f":v{i}"] = value
    expression = "SET " + ", ".join([*sets, "version = version + :one"])
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return Update(
        expression,
        condition="attribute_exists(PK) AND version = :expected",
        names=names,
        values={**values, ":one": 1, ":expected": expected_version},
    )


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _is_client_error(error: Exception) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(error, ClientError)


class Table:
    """A DynamoDB table reached through a low-level client."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    # --- Single items ------------------------------------------------------------

    def get(self, key: dict[str, str]) -> Item | None:
        """The item (consistent read), or None."""
        found = self.client.get_item(TableName=self.name, Key=to_item(key), ConsistentRead=True)
        return from_item(found["Item"]) if "Item" in found else None

    def put(self, item: Item, *, condition: str | None = None, keep_nulls: bool = False) -> bool:
        """Write an item; False when `condition` refused it."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "Item": to_item(item, keep_nulls=keep_nulls),
        }
        if condition:
            request["ConditionExpression"] = condition
        return self._conditional(self.client.put_item, request) is not None

    def update(self, key: dict[str, str], change: Update, *, answer: bool = True) -> Item | None:
        """Apply an update; the item as it now stands ({} without `answer`), None if refused."""
        request = self._update_request(key, change)
        if answer:
            request["ReturnValues"] = "ALL_NEW"
        reply = self._conditional(self.client.update_item, request)
        if reply is None:
            return None
        return from_item(reply.get("Attributes", {}))

    def _update_request(self, key: dict[str, str], change: Update) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_item(key),
            "UpdateExpression": change.expression,
        }
        if change.condition:
            request["ConditionExpression"] = change.condition
        if change.names:
            request["ExpressionAttributeNames"] = change.names
        if change.values:
            request["ExpressionAttributeValues"] = {
                k: to_value(v) for k, v in change.values.items()
            }
        return request

    def delete(self, key: dict[str, str]) -> None:
        self.client.delete_item(TableName=self.name, Key=to_item(key))

    def _conditional(self, call: Any, request: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return call(**request)
        except Exception as error:
            if _is_client_error(error):
                if _error_code(error) == "ConditionalCheckFailedException":
                    return None
                if aws.is_busy(_error_code(error)):
                    raise Unavailable("the database is busy: try again in a moment") from error
            raise

    # --- Queries -----------------------------------------------------------------

    def query(
        self,
        key_condition: str,
        values: dict[str, Any],
        *,
        index: str | None = None,
        names: dict[str, str] | None = None,
        projection: str | None = None,
        limit: int | None = None,
    ) -> list[Item]:
        """Every page of a Query (consistent on the table), or the first `limit` items."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": {k: to_value(v) for k, v in values.items()},
        }
        if index:
            request["IndexName"] = index
        else:
            request["ConsistentRead"] = True
        if names:
            request["ExpressionAttributeNames"] = names
        if projection:
            request["ProjectionExpression"] = projection
        if limit is not None:
            request["Limit"] = max(1, limit)
        items: list[Item] = []
        while True:
            page = self.client.query(**request)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page or limit is not None:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- Transactions ------------------------------------------------------------

    def put_write(
        self,
        item: Item,
        *,
        condition: str,
        keep_nulls: bool = False,
        old: bool = False,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One Put of a transaction (`values`: the condition's placeholders, plain)."""
        put: dict[str, Any] = {
            "TableName": self.name,
            "Item": to_item(item, keep_nulls=keep_nulls),
            "ConditionExpression": condition,
        }
        if values:
            put["ExpressionAttributeValues"] = {k: to_value(v) for k, v in values.items()}
        if old:
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Put": put}

    def update_write(
        self, key: dict[str, str], change: Update, *, old: bool = False
    ) -> dict[str, Any]:
        """One Update of a transaction."""
        update = self._update_request(key, change)
        if old:
            update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": update}

    def check_write(
        self, key: dict[str, str], condition: str, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One ConditionCheck of a transaction: an item that must be as `condition` says."""
        check: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_item(key),
            "ConditionExpression": condition,
        }
        if values:
            check["ExpressionAttributeValues"] = {k: to_value(v) for k, v in values.items()}
        return {"ConditionCheck": check}

    def try_transact(self, writes: Sequence[dict[str, Any]], *, busy: str) -> bool:
        """`transact`, answering False (instead of raising) when a condition refused it."""
        try:
            self.transact(writes, busy=busy)
        except Cancelled:
            return False
        return True

    def transact(self, writes: Sequence[dict[str, Any]], *, busy: str, tries: int = TRIES) -> None:
        """Write all of `writes` or none, retrying contention up to `tries` times in all.

        Raises Cancelled when a condition refused the write, and Unavailable(busy)
        (a 503 with Retry-After) when the items were still contended on the last
        try or DynamoDB refused for another reason.
        """
        for attempt in range(tries):
            try:
                self.client.transact_write_items(TransactItems=list(writes))
                return
            except Exception as error:
                if not _is_client_error(error):
                    raise
                code = _error_code(error)
                if code != "TransactionCanceledException":
                    if aws.is_busy(code):
                        raise Unavailable(busy) from error
                    raise
                reasons = getattr(error, "response", {}).get("CancellationReasons") or []
            refusals = [
                Refusal(r.get("Code"), from_item(r["Item"]) if r.get("Item") else None)
                for r in reasons
            ]
            if any(r.condition_failed for r in refusals):
                raise Cancelled(refusals)
            if not any(aws.is_busy(str(r.code)) for r in refusals):
                raise Unavailable(busy)
            if attempt < tries - 1:
                time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
        raise Unavailable(busy)


class Part:
    """The requests for one kind of item, over the stage's table (the Store has one of each)."""

    def __init__(self, table: Table) -> None:
        self.table = table
