"""The table's one definition, used by the app's tests, the local stack and bootstrap,
and the one-time step that brings an older table's items up to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.db import keys
from chalicelib.db.codec import from_item, to_value
from chalicelib.db.keys import DATE_INDEX, LEDGER_DAY_INDEX, TTL_ATTRIBUTE


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
            {"AttributeName": "GSI2PK", "AttributeType": "S"},
            {"AttributeName": "GSI2SK", "AttributeType": "S"},
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
            },
            {
                "IndexName": LEDGER_DAY_INDEX,
                "KeySchema": [
                    {"AttributeName": "GSI2PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI2SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
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


def index_ledger_days(
    client: Any, table_name: str, progress: Callable[[int, int], None] | None = None
) -> int:
    """Put the payments and refunds written before the day index (LEDGER_DAY_INDEX)
    existed on it; returns how many it put. Run once by bootstrap when it adds the
    index, and by the local stack after restoring a snapshot.

    A migration, so it Scans (the app never does, and its IAM policy has no Scan).
    Each entry is one conditional UpdateItem: entries already on the index, and ones
    the app writes meanwhile, are left alone, so it can be run again at any time.
    `progress(examined, put)` is called after each page of the Scan.
    """
    request: dict[str, Any] = {
        "TableName": table_name,
        "FilterExpression": "(begins_with(SK, :pay) OR begins_with(SK, :refund))"
        " AND attribute_exists(logged_at) AND attribute_not_exists(GSI2PK)",
        "ProjectionExpression": "PK, SK, logged_at",
        "ExpressionAttributeValues": {
            ":pay": to_value(keys.PAYMENT_PREFIX),
            ":refund": to_value(keys.REFUND_PREFIX),
        },
    }
    examined = put = 0
    while True:
        page = client.scan(**request)
        examined += page.get("ScannedCount", 0)
        for found in page.get("Items", []):
            item = from_item(found)
            key = {"PK": item["PK"], "SK": item["SK"]}
            day = keys.ledger_day_fields(item["logged_at"], key)
            try:
                client.update_item(
                    TableName=table_name,
                    Key={name: to_value(value) for name, value in key.items()},
                    UpdateExpression="SET GSI2PK = :pk, GSI2SK = :sk",
                    ConditionExpression="attribute_exists(PK) AND attribute_not_exists(GSI2PK)",
                    ExpressionAttributeValues={
                        ":pk": to_value(day["GSI2PK"]),
                        ":sk": to_value(day["GSI2SK"]),
                    },
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue  # indexed meanwhile (or gone): nothing to do
            put += 1
        if progress is not None:
            progress(examined, put)
        if "LastEvaluatedKey" not in page:
            return put
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
