#!/usr/bin/env python3
"""Recompute each trip's running totals from what is stored under it, show the
difference, and (after asking) write it.

    python scripts/repair.py --stage prod [--trip ID ...] [--from DATE] [--to DATE]
                             [--dry-run] [--yes]

A trip item carries running totals that every payment, refund, waiver and boarding
changes in the same transaction as the entry itself: `paid_cents` (fares net of
refunds), `payment_count` (fares), `tips_cents`, `refunded_cents`, `refund_count`,
`waiver_count` (people covered), `boarded_count` and `payment_logged` (the latest
payment's time); each fare carries the `refunded_cents` of the refunds that name it.
They only drift when an item is put back from an older copy: a trip restored from a
point in time keeps the totals of that moment while the payments logged since are
still stored (seen: 5000 / 1 payment, while 2 payments summing 10000 were stored).

This reads each trip's partition (one Query through the app's own store,
chalicelib/db), recomputes every total from its ledger (voided entries left out), its
waivers and its boarding marks, and prints each difference. Nothing is written on a
dry run or without a yes. Each trip is written with a condition that its totals are
still the ones read, so a payment logged meanwhile is never overwritten: that trip is
reported and a second run picks it up. A second run finds nothing to repair.

Trips: those named with --trip, else every trip starting between --from and --to
(default: 400 days either side of today, in the operator's zone).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from chalicelib.db import Store, keys
from chalicelib.db.ledger import ledger_entries
from chalicelib.db.table import Update
from chalicelib.db.trips import trip_items
from chalicelib.dock.records import Boarding
from chalicelib.waivers.records import Waiver
from scripts import awstools, stage_settings
from scripts.awstools import UserError

# The trip's totals, in the order they are shown.
TOTALS = (
    "paid_cents",
    "payment_count",
    "tips_cents",
    "refunded_cents",
    "refund_count",
    "waiver_count",
    "boarded_count",
    "payment_logged",
)
DEFAULT_DAYS = 400


@dataclass
class Fix:
    """One item whose stored totals differ from what its trip's items add up to."""

    trip_id: str
    key: dict[str, str]
    what: str  # "trip" or "fare <payment id>"
    stored: dict[str, Any]
    wanted: dict[str, Any]
    raw: dict[str, Any]  # as stored (None: never written), for the write's condition

    def changes(self) -> list[tuple[str, Any, Any]]:
        return [
            (name, self.stored.get(name), value)
            for name, value in self.wanted.items()
            if self.stored.get(name) != value
        ]


def trip_totals(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The trip's totals as its ledger, waivers and boarding marks add them up."""
    ledger = ledger_entries(items)
    fares = [p for p in ledger.payments if not p.void and not p.tip]
    tips = [p for p in ledger.payments if not p.void and p.tip]
    refunds = [r for r in ledger.refunds if not r.void]
    waivers = [Waiver.from_item(i) for i in items if i["SK"].startswith(keys.WAIVER_PREFIX)]
    boardings = [Boarding.from_item(i) for i in items if i["SK"].startswith(keys.BOARDING_PREFIX)]
    # A void leaves payment_logged as it was: the latest payment logged, void or not.
    logged = max((p.logged_at for p in ledger.payments), default=None)
    return {
        "paid_cents": sum(p.amount_cents for p in fares) - sum(r.amount_cents for r in refunds),
        "payment_count": len(fares),
        "tips_cents": sum(p.amount_cents for p in tips),
        "refunded_cents": sum(r.amount_cents for r in refunds),
        "refund_count": len(refunds),
        "waiver_count": sum(w.people_covered for w in waivers),
        "boarded_count": sum(1 for b in boardings if b.boarded),
        "payment_logged": logged,
    }


def fare_refunds(items: list[dict[str, Any]]) -> dict[str, int]:
    """Each fare's `refunded_cents`: the live refunds that name it."""
    ledger = ledger_entries(items)
    out = {p.id: 0 for p in ledger.payments if not p.tip}
    for refund in ledger.refunds:
        if not refund.void and refund.payment_id in out:
            out[refund.payment_id] += refund.amount_cents
    return out


def _stored(item: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The stored values; a total never written reads as 0 (the app's ADD starts there)."""
    out = {}
    for name in names:
        value = item.get(name)
        if name != "payment_logged":
            value = int(value or 0)
        out[name] = value
    return out


def fixes_for(store: Store, trip_id: str) -> list[Fix]:
    """The items of one trip whose totals are not what its items add up to."""
    found = trip_items(store.table, trip_id)
    if found is None:
        raise UserError(f"trip {trip_id} is not in table {store.name}")
    head, items = found
    wanted = trip_totals(items)
    fixes = [
        Fix(
            trip_id,
            keys.trip_key(trip_id),
            "trip",
            _stored(head, list(TOTALS)),
            wanted,
            {name: head.get(name) for name in TOTALS},
        )
    ]
    payments = {i["id"]: i for i in items if i["SK"].startswith(keys.PAYMENT_PREFIX)}
    for payment_id, cents in fare_refunds(items).items():
        item = payments[payment_id]
        fixes.append(
            Fix(
                trip_id,
                keys.payment_key(trip_id, payment_id),
                f"fare {payment_id}",
                _stored(item, ["refunded_cents"]),
                {"refunded_cents": cents},
                {"refunded_cents": item.get("refunded_cents")},
            )
        )
    return [fix for fix in fixes if fix.changes()]


def repair_update(fix: Fix) -> Update:
    """Set the recomputed values, only if the stored ones are still those read."""
    sets, conditions = [], ["attribute_exists(PK)"]
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for number, (name, _, now) in enumerate(fix.changes()):
        field = f"#f{number}"
        names[field] = name
        sets.append(f"{field} = :new{number}")
        values[f":new{number}"] = now
        if fix.raw.get(name) is None:
            conditions.append(f"attribute_not_exists({field})")
        else:
            conditions.append(f"{field} = :old{number}")
            values[f":old{number}"] = fix.raw[name]
    return Update(
        "SET " + ", ".join(sets), condition=" AND ".join(conditions), names=names, values=values
    )


def trips_between(store: Store, start: date, end: date, zone: ZoneInfo) -> list[str]:
    low = datetime.combine(start, time(), zone)
    high = datetime.combine(end + timedelta(days=1), time(), zone)
    return [trip.id for trip in store.trips.starting_between(low, high)]


def show(fixes: list[Fix]) -> None:
    rows = [
        (fix.trip_id, fix.what, name, _shown(was), _shown(now))
        for fix in fixes
        for name, was, now in fix.changes()
    ]
    awstools.say(awstools.table(("trip", "item", "total", "stored", "from its items"), rows))


def _shown(value: Any) -> str:
    return "(none)" if value is None else str(value)


def repair(
    store: Store, trip_ids: list[str], *, dry_run: bool, assume_yes: bool
) -> tuple[int, list[Fix]]:
    """Find and (after asking) write the fixes. (exit code, fixes found)."""
    fixes: list[Fix] = []
    for number, trip_id in enumerate(trip_ids, start=1):
        fixes += fixes_for(store, trip_id)
        if number % 50 == 0:
            awstools.detail(f"{number} of {len(trip_ids)} trips read")
    awstools.detail(f"{len(trip_ids)} trips read from {store.name}")
    if not fixes:
        awstools.step("Nothing to repair: every total agrees with its trip's items")
        return 0, fixes
    awstools.step(f"{len(fixes)} items whose totals disagree with their trip's items:")
    show(fixes)
    if dry_run:
        awstools.step("Dry run: nothing written")
        return 0, fixes
    if not awstools.confirm(f"Write these {len(fixes)} repairs to {store.name}?", assume_yes):
        awstools.say("Nothing written.")
        return 1, fixes
    moved = []
    for fix in fixes:
        if store.table.update(fix.key, repair_update(fix), answer=False) is None:
            moved.append(fix)
        else:
            awstools.detail(f"repaired {fix.what} of trip {fix.trip_id}")
    if moved:
        awstools.say(
            "warning: these changed while being repaired (an entry was logged meanwhile), "
            "so they were left alone: run repair again: "
            + ", ".join(f"{f.what} of trip {f.trip_id}" for f in moved),
            sys.stderr,
        )
        return 1, fixes
    awstools.step(f"Repaired {len(fixes)} items")
    return 0, fixes


def open_store(args: argparse.Namespace, table_name: str | None = None) -> Store:
    settings = stage_settings.load(args.stage)
    return Store(awstools.clients(args)("dynamodb"), table_name or settings.table_name)


def chosen_trips(args: argparse.Namespace, store: Store) -> list[str]:
    if args.trip:
        return list(dict.fromkeys(args.trip))
    zone = ZoneInfo(stage_settings.load(args.stage).operator_tz)
    today = datetime.now(zone).date()
    start = args.start or today - timedelta(days=DEFAULT_DAYS)
    end = args.end or today + timedelta(days=DEFAULT_DAYS)
    if end < start:
        raise UserError(f"--to {end} is before --from {start}")
    awstools.detail(f"trips starting {start} to {end} ({zone.key})")
    return trips_between(store, start, end, zone)


def add_repair_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trip", action="append", help="a trip's id (repeat for more)")
    parser.add_argument(
        "--from", dest="start", type=date.fromisoformat, help="first day (YYYY-MM-DD)"
    )
    parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day (YYYY-MM-DD)")
    parser.add_argument("--dry-run", action="store_true", help="show the differences only")
    parser.add_argument("--yes", action="store_true", help="do not ask before writing")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Recompute each trip's totals (paid, counts, tips, refunds, waivers, "
        "boarded) from its ledger, waivers and boarding marks; show the difference; write "
        "it after asking."
    )
    parser.add_argument("--stage", required=True, help="dev, staging or prod")
    parser.add_argument("--table", help="another table than the stage's (e.g. a side table)")
    add_repair_args(parser)
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    store = open_store(args, args.table)
    awstools.step(f"Repair of {store.name}")
    code, _ = repair(store, chosen_trips(args, store), dry_run=args.dry_run, assume_yes=args.yes)
    return code


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
