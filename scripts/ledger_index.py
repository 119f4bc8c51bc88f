"""The one-time step that puts a table's older ledger entries on the day index.

The cash-up reads payments and refunds from the day index (GSI2, chalicelib/db/keys.py),
whose keys the app writes with every new entry. Entries stored before the index
existed have none: bootstrap runs this once when it adds the index (and again with
--reindex-ledger), the local stack after restoring an older snapshot. It lives here,
not in chalicelib, because it Scans: the app never does, and its role may not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.db import keys
from chalicelib.db.codec import from_item, to_value


def index_ledger_days(
    client: Any, table_name: str, progress: Callable[[int, int], None] | None = None
) -> int:
    """Put the payments and refunds written before the day index existed on it;
    returns how many it put.

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
