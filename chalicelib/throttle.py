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


def check(scope: str, source: str, *, limit: int, window_seconds: int) -> bool:
    """Raise 429 with Retry-After while `source` has used up `limit` in the window.

    Answers whether a counter exists, so a caller can skip clearing what isn't there.
    """
    found = aws.dynamodb().get_item(
        TableName=config.table_name(), Key=_key(scope, source), ConsistentRead=True
    )
    if "Item" not in found:
        return False
    item = table.from_item(found["Item"])
    _refuse_over_limit(item, limit=limit, window_seconds=window_seconds)
    return True


def _refuse_over_limit(item: dict, *, limit: int, window_seconds: int) -> None:
    now = int(timeutil.now().timestamp())
    window_end = item["window_start"] + window_seconds
    if item["count"] >= limit and now < window_end:
        wait = window_end - now
        raise Throttled(f"too many attempts; try again in {wait} seconds", retry_after=wait)


def record(scope: str, source: str, *, window_seconds: int) -> dict:
    """Count one attempt (one UpdateItem); answers the counter as it now stands."""
    now = int(timeutil.now().timestamp())
    client = aws.dynamodb()
    try:
        result = client.update_item(
            TableName=config.table_name(),
            Key=_key(scope, source),
            UpdateExpression=(
                "ADD #count :one SET window_start = if_not_exists(window_start, :now), "
                "#ttl = if_not_exists(#ttl, :expires)"
            ),
            # A counter whose window has passed is started afresh below.
            ConditionExpression="attribute_not_exists(PK) OR window_start > :stale",
            ExpressionAttributeNames={"#count": "count", "#ttl": table.TTL_ATTRIBUTE},
            ExpressionAttributeValues={
                ":one": table.to_value(1),
                ":now": table.to_value(now),
                ":stale": table.to_value(now - window_seconds),
                ":expires": table.to_value(now + window_seconds + 60),
            },
            ReturnValues="ALL_NEW",
        )
        return table.from_item(result["Attributes"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    fresh = {"count": 1, "window_start": now, table.TTL_ATTRIBUTE: now + window_seconds + 60}
    client.put_item(
        TableName=config.table_name(), Item={**_key(scope, source), **table.to_item(fresh)}
    )
    return fresh


def hit(scope: str, source: str, *, limit: int, window_seconds: int) -> None:
    """Count an attempt and refuse it (429) once it goes over `limit` in the window."""
    counter = record(scope, source, window_seconds=window_seconds)
    if counter["count"] > limit:
        _refuse_over_limit(
            {**counter, "count": counter["count"] - 1}, limit=limit, window_seconds=window_seconds
        )


def clear(scope: str, source: str) -> None:
    aws.dynamodb().delete_item(TableName=config.table_name(), Key=_key(scope, source))
