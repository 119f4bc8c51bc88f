"""Counting attempts per source in DynamoDB, so every Lambda instance sees the same count.

A counter item lives per (scope, source) for one window that starts at the first
attempt; DynamoDB's TTL removes it afterwards.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from chalicelib import aws, config, table, timeutil
from chalicelib.errors import Throttled


def source_ip(headers: dict, context: dict) -> str:
    """The client's address: the edge's X-Forwarded-For entry when set, else the socket's.

    The edge (CloudFront, or the local edge) appends the viewer's address to
    X-Forwarded-For, so the right-most entry is the one a client cannot forge.
    """
    forwarded = headers.get("x-forwarded-for", "")
    if forwarded:
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:64]
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")[:64]


def _key(scope: str, source: str) -> dict:
    return table.to_item({"PK": f"THROTTLE#{scope}#{source}", "SK": "THROTTLE"})


def check(scope: str, source: str, *, limit: int, window_seconds: int) -> None:
    """Raise 429 with Retry-After while `source` has used up `limit` in the window."""
    found = aws.dynamodb().get_item(
        TableName=config.table_name(), Key=_key(scope, source), ConsistentRead=True
    )
    if "Item" not in found:
        return
    item = table.from_item(found["Item"])
    now = int(timeutil.now().timestamp())
    window_end = item["window_start"] + window_seconds
    if item["count"] >= limit and now < window_end:
        raise Throttled(
            f"too many attempts; try again in {window_end - now} seconds",
            retry_after=window_end - now,
        )


def record(scope: str, source: str, *, window_seconds: int) -> int:
    """Count one attempt; returns the count within the current window."""
    now = int(timeutil.now().timestamp())
    client = aws.dynamodb()
    try:
        result = client.update_item(
            TableName=config.table_name(),
            Key=_key(scope, source),
            UpdateExpression="ADD #count :one",
            ConditionExpression="attribute_exists(PK) AND window_start > :stale",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues={
                ":one": table.to_value(1),
                ":stale": table.to_value(now - window_seconds),
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(result["Attributes"]["count"]["N"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    # No counter, or an old window: start a new one.
    client.put_item(
        TableName=config.table_name(),
        Item={
            **_key(scope, source),
            **table.to_item(
                {
                    "count": 1,
                    "window_start": now,
                    table.TTL_ATTRIBUTE: now + window_seconds + 60,
                }
            ),
        },
    )
    return 1


def hit(scope: str, source: str, *, limit: int, window_seconds: int) -> None:
    """Count an attempt and refuse it (429) when it goes over `limit` in the window."""
    check(scope, source, limit=limit, window_seconds=window_seconds)
    record(scope, source, window_seconds=window_seconds)


def clear(scope: str, source: str) -> None:
    aws.dynamodb().delete_item(TableName=config.table_name(), Key=_key(scope, source))
