"""The table: its one definition and the key layout of the single-table design.

Used by the app, the tests, the local stack and scripts/bootstrap.py alike.

Layout (one partition, or item collection, per event):
    PK = EVENT#<id>   SK = EVENT           the event and its running totals
                      SK = PAY#<pid>       a payment (append-only; voids mark it)
                      SK = WAIVER#<wid>    a signed waiver (immutable)
                      SK = XSIG#<wid>      a drawn signature, kept out of detail reads
    PK = THROTTLE#<scope>#<source>         failed-attempt counters (expire by TTL)

The date index (GSI1) buckets events by the UTC year they start in and sorts
them by start time, so a date window is one Query whose cost grows with the
events returned, not with the table.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

DATE_INDEX = "GSI1"
TTL_ATTRIBUTE = "expires_at_epoch"
EVENT_SK = "EVENT"
PAYMENT_PREFIX = "PAY#"
WAIVER_PREFIX = "WAIVER#"
SIGNATURE_PREFIX = "XSIG#"
# Every SK an event-detail Query should load sorts below this; signatures sort above.
DETAIL_SK_CEILING = "X"


def definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for the stage's table."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "GSI1PK", "AttributeType": "S"},
            {"AttributeName": "GSI1SK", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": DATE_INDEX,
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }


def create_table(client: Any, table_name: str) -> None:
    """Create the table (and its TTL) and wait until it is active."""
    client.create_table(**definition(table_name))
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


def event_pk(event_id: str) -> str:
    return f"EVENT#{event_id}"


def date_bucket(year: int) -> str:
    return f"YEAR#{year:04d}"


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """A plain dict to DynamoDB's attribute-value shape (None values are dropped)."""
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's shape to plain Python; numbers come back as int (money is cents)."""
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value
