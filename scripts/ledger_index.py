#!/usr/bin/env python3
"""The one-time step that puts a table's older ledger entries on the day index.

The cash-up reads payments and refunds from the day index (GSI2, chalicelib/db/keys.py),
whose keys the app writes with every new entry. Entries stored before the index
existed have none: bootstrap runs this once when it adds the index (and again with
--reindex-ledger), the local stack after restoring an older snapshot. It lives here,
not in chalicelib, because it Scans: the app never does, and its role may not.

    scripts/ledger_index.py --stage prod [--dry-run] [--yes]

is the same step as `scripts/bootstrap.py --stage prod --reindex-ledger`, alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from chalicelib.db import keys
from chalicelib.db.codec import from_item, to_value
from scripts import awstools


def index_ledger_days(
    client: Any, table_name: str, progress: Callable[[int, int], None] | None = None
) -> int:
    """Put the payments and refunds written before the day index existed on it;
    returns how many it put.

    Each entry is one conditional UpdateItem: entries already on the index, and ones
    the app writes meanwhile, are left alone, so it can be run again at any time.
    `progress(examined, put)` is called after each page of the Scan.
    """
    request = _unindexed(table_name)
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


def count_unindexed(client: Any, table_name: str) -> int:
    """How many ledger entries are not on the day index yet (what a run would put)."""
    request: dict[str, Any] = {**_unindexed(table_name), "Select": "COUNT"}
    request.pop("ProjectionExpression")
    count = 0
    while True:
        page = client.scan(**request)
        count += page.get("Count", 0)
        if "LastEvaluatedKey" not in page:
            return count
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _unindexed(table_name: str) -> dict[str, Any]:
    return {
        "TableName": table_name,
        "FilterExpression": "(begins_with(SK, :pay) OR begins_with(SK, :refund))"
        " AND attribute_exists(logged_at) AND attribute_not_exists(GSI2PK)",
        "ProjectionExpression": "PK, SK, logged_at",
        "ExpressionAttributeValues": {
            ":pay": to_value(keys.PAYMENT_PREFIX),
            ":refund": to_value(keys.REFUND_PREFIX),
        },
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Put a stage's older payments and refunds on the cash-up's day index "
        "(what bootstrap --reindex-ledger does). Safe to run again."
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--dry-run", action="store_true", help="count them; change nothing")
    parser.add_argument("--yes", action="store_true", help="do not ask before writing")
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    client = awstools.clients(args)("dynamodb")
    awstools.step(f"Counting ledger entries of {stage.table_name} not on the day index")
    waiting = count_unindexed(client, stage.table_name)
    awstools.detail(f"{waiting} to put on the index")
    if args.dry_run or not waiting:
        awstools.step("Dry run: nothing written" if args.dry_run else "Nothing to do")
        return 0
    if not awstools.confirm(f"Put {waiting} entries of {stage.table_name} on it?", args.yes):
        awstools.say("Nothing written.")
        return 1

    def progress(examined: int, put: int) -> None:
        awstools.detail(f"examined {examined}, put {put}")

    put = index_ledger_days(client, stage.table_name, progress)
    awstools.step(f"Done: {put} entries put on the day index")
    return 0


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
