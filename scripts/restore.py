#!/usr/bin/env python3
"""Put trips back as they were at a point in time, without corrupting the books.

    python scripts/restore.py --stage prod --to-time 2026-12-06T09:30:00-08:00 \\
        --trip 4f1c2a [--trip ...] [--dry-run] [--yes]
    python scripts/restore.py --stage prod --from-table shipcaptaincrew-prod-restored-... \\
        --trip 4f1c2a

1. restores the stage's table as it was at --to-time into a side table
   (`<table>-restored-<time>`, DynamoDB point-in-time recovery) and waits until it is
   ACTIVE, printing its status (minutes for a small table); --from-table uses a side
   table restored before instead;
2. shows each named trip's item as it was against the live one, field by field, asks,
   and puts it back into the live table. Only the trip item: its payments, refunds,
   waivers and boarding marks are separate items, append-only or immutable, and stay;
3. runs bootstrap's read-only checks on the stage (table, recovery, stream, secrets);
4. runs scripts/repair.py on those trips: the restored trip item carries the totals of
   that moment, so they are recomputed from the entries stored now (a restore never
   leaves "5000 / 1 payment" while two payments of 5000 are stored).

The side table is kept (the live table is never deleted here); the script prints the
command that deletes it. Replacing the whole table is in docs/operating.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from chalicelib.db import Store, keys
from scripts import awstools, bootstrap, repair, stage_settings
from scripts.awstools import UserError

# Fields that never tell the operator anything about a restore.
_KEY_FIELDS = ("PK", "SK", "GSI1PK", "GSI1SK")


def side_table_name(table: str, moment: datetime) -> str:
    return f"{table}-restored-{moment.astimezone().strftime('%Y%m%dt%H%M%S').lower()}"


def parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--to-time {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise UserError(
            f"--to-time {text!r} has no offset: write it with one, e.g. 2026-12-06T09:30:00-08:00"
        )
    return moment


def restore_side_table(
    dynamodb: Any, table: str, side: str, moment: datetime, *, poll: float, timeout: float
) -> None:
    """DynamoDB's point-in-time restore into `side`, then wait until it is ACTIVE."""
    try:
        dynamodb.restore_table_to_point_in_time(
            SourceTableName=table, TargetTableName=side, RestoreDateTime=moment
        )
    except Exception as exc:
        raise UserError(
            f"dynamodb RestoreTableToPointInTime of {table} to {moment.isoformat()} into "
            f"{side} refused: {exc}. Is point-in-time recovery on (scripts/bootstrap.py) and "
            "the time within its window (the last 35 days)?"
        ) from None
    wait_active(dynamodb, side, poll=poll, timeout=timeout)


def wait_active(dynamodb: Any, name: str, *, poll: float, timeout: float) -> None:
    started = time.monotonic()
    while True:
        status = dynamodb.describe_table(TableName=name)["Table"]["TableStatus"]
        elapsed = time.monotonic() - started
        awstools.detail(f"table {name}: {status} ({elapsed:.0f} s)")
        if status == "ACTIVE":
            return
        if elapsed > timeout:
            raise UserError(
                f"table {name} is still {status} after {timeout:.0f} s: run again with "
                f"--from-table {name} once it is ACTIVE"
            )
        time.sleep(poll)


def differences(was: dict[str, Any], now: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    now = now or {}
    names = sorted((set(was) | set(now)) - set(_KEY_FIELDS))
    return [(n, now.get(n), was.get(n)) for n in names if now.get(n) != was.get(n)]


def put_back_trips(
    live: Store, side: Store, trip_ids: list[str], *, dry_run: bool, assume_yes: bool
) -> int:
    """Put each trip's item as the side table has it into the live table, after asking."""
    chosen: list[dict[str, Any]] = []
    for trip_id in trip_ids:
        item = side.table.get(keys.trip_key(trip_id))
        if item is None:
            raise UserError(f"trip {trip_id} is not in {side.name}: it did not exist then")
        changed = differences(item, live.table.get(keys.trip_key(trip_id)))
        if not changed:
            awstools.detail(f"trip {trip_id}: the live item is already as it was then")
            continue
        awstools.step(f"Trip {trip_id}, now and as restored:")
        awstools.say(
            awstools.table(
                ("field", "now", "restored"),
                [(n, repair._shown(a), repair._shown(b)) for n, a, b in changed],
            )
        )
        chosen.append(item)
    if not chosen:
        return 0
    if dry_run:
        awstools.step("Dry run: no trip put back")
        return 0
    if not awstools.confirm(f"Put {len(chosen)} trips back into {live.name}?", assume_yes):
        awstools.say("Nothing put back.")
        return 1
    for item in chosen:
        live.table.put(item, keep_nulls=True)
        awstools.detail(f"put back trip {item['id']}")
    return 0


def run_checks(args: argparse.Namespace) -> None:
    plan = bootstrap.inspect(awstools.load_stage(args.stage), awstools.clients(args), protect=None)
    for line in plan.fine:
        awstools.detail(f"ok: {line}")
    for action in plan.actions:
        awstools.detail(f"warning: bootstrap would {action.what} (run scripts/bootstrap.py)")
    for line in plan.notes():
        awstools.detail(f"warning: {line}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Put trips back as they were at a point in time (point-in-time restore "
        "to a side table), then check the stage and repair the trips' totals."
    )
    parser.add_argument("--stage", required=True, help="dev, staging or prod")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--to-time", help="ISO 8601 time with its offset")
    source.add_argument("--from-table", help="a side table restored before")
    parser.add_argument("--trip", action="append", help="a trip to put back (repeat for more)")
    parser.add_argument("--table", help="the live table, when not the stage's own")
    parser.add_argument("--dry-run", action="store_true", help="change nothing; show what would")
    parser.add_argument("--yes", action="store_true", help="do not ask before each change")
    parser.add_argument("--poll-seconds", type=float, default=20.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--timeout-minutes", type=float, default=120.0, help="how long to wait for the restore"
    )
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    settings = stage_settings.load(args.stage)
    clients = awstools.clients(args)
    dynamodb = clients("dynamodb")
    table = args.table or settings.table_name
    live = Store(dynamodb, table)
    trips = list(dict.fromkeys(args.trip or []))
    if args.to_time:
        moment = parse_moment(args.to_time)
        side_name = side_table_name(table, moment)
        awstools.step(f"Restore {table} as at {moment.isoformat()} into {side_name}")
        if args.dry_run:
            awstools.step("Dry run: no table restored; then these trips would be put back and")
            awstools.detail(f"repaired: {', '.join(trips) or '(none named)'}")
            return 0
        if not awstools.confirm(f"Restore into the side table {side_name}?", args.yes):
            awstools.say("Nothing restored.")
            return 1
        restore_side_table(
            dynamodb,
            table,
            side_name,
            moment,
            poll=args.poll_seconds,
            timeout=args.timeout_minutes * 60,
        )
    else:
        side_name = args.from_table
        wait_active(dynamodb, side_name, poll=args.poll_seconds, timeout=args.timeout_minutes * 60)
    side = Store(dynamodb, side_name)
    if not trips:
        awstools.step(
            f"{side_name} is ready. Name the trips to put back: scripts/restore.py --stage "
            f"{args.stage} --from-table {side_name} --trip <id>"
        )
        return 0
    code = put_back_trips(live, side, trips, dry_run=args.dry_run, assume_yes=args.yes)
    if code:
        return code
    awstools.step(f"Bootstrap's checks of {args.stage} (read-only)")
    run_checks(args)
    awstools.step("Repair the trips' totals from the entries stored now")
    code, _ = repair.repair(live, trips, dry_run=args.dry_run, assume_yes=args.yes)
    region = clients("dynamodb").meta.region_name
    awstools.step(
        f"The side table {side_name} is kept; delete it when done: aws dynamodb delete-table "
        f"--table-name {side_name} --region {region}"
    )
    return code


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
