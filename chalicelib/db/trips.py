"""Trips: their items, the date index, and the trip-detail Query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import timeutil
from chalicelib.db import keys
from chalicelib.db.activity import activity_write
from chalicelib.db.entries import ledger_entries
from chalicelib.db.table import Cancelled, Item, Part, Table, versioned
from chalicelib.money.records import Payment, Refund
from chalicelib.records import Kind
from chalicelib.trips.records import Activity, Trip, TripStatus
from chalicelib.waivers.records import Waiver


@dataclass
class Detail:
    """A trip with everything its detail view shows (drawn signatures excluded)."""

    trip: Trip
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)


_BUSY = "the trip is busy: try again in a moment"


class Stale(Exception):
    """The trip's version was not the one expected (or it is gone)."""


def _date_keys(trip_id: str, starts: datetime) -> dict[str, str]:
    return {
        "GSI1PK": keys.date_bucket(starts.astimezone(UTC).year),
        "GSI1SK": keys.date_sort_key(timeutil.utc_key(starts), trip_id),
    }


def trip_item(trip: Trip) -> dict[str, Any]:
    """A trip as its stored item, keys included."""
    return {
        **keys.trip_key(trip.id),
        **_date_keys(trip.id, datetime.fromisoformat(trip.starts_at)),
        "kind": str(Kind.TRIP),
        **trip.attributes(),
    }


def trip_items(table: Table, trip_id: str) -> tuple[Item, list[Item]] | None:
    """A trip's item and every item of its partition below the drawn signatures, in one
    Query; None when the trip is not there."""
    items = table.query(
        "PK = :pk AND SK < :ceiling",
        {":pk": keys.trip_pk(trip_id), ":ceiling": keys.DETAIL_SK_CEILING},
    )
    head = next((i for i in items if i["SK"] == keys.TRIP_SK), None)
    return None if head is None else (head, items)


class Trips(Part):
    def add(self, trip: Trip, activity: Activity | None = None) -> bool:
        """Store a new trip (and its `created` activity, in one transaction); False when
        its id is taken."""
        if activity is None:
            return self.table.put(trip_item(trip), condition="attribute_not_exists(PK)")
        writes = [
            self.table.put_write(trip_item(trip), condition="attribute_not_exists(PK)"),
            activity_write(self.table, activity),
        ]
        return self.table.try_transact(writes, busy=_BUSY)

    def get(self, trip_id: str) -> Trip | None:
        item = self.table.get(keys.trip_key(trip_id))
        return Trip.from_item(item) if item else None

    def detail(self, trip_id: str) -> Detail | None:
        """The trip, its ledger and its waivers in one Query (signatures sort above it)."""
        found = trip_items(self.table, trip_id)
        if found is None:
            return None
        head, items = found
        ledger = ledger_entries(items)
        return Detail(
            trip=Trip.from_item(head),
            payments=ledger.payments,
            refunds=ledger.refunds,
            waivers=[Waiver.from_item(i) for i in items if i["SK"].startswith(keys.WAIVER_PREFIX)],
            activity=[
                Activity.from_item(i) for i in items if i["SK"].startswith(keys.ACTIVITY_PREFIX)
            ],
        )

    def starting_between(self, start: datetime, end: datetime) -> list[Trip]:
        """Trips starting at or after `start` and before `end`, by start time.

        One Query on the date index per UTC year the range touches.
        """
        low_utc = timeutil.utc_key(start)
        high_utc = timeutil.utc_key(end - timedelta(seconds=1))
        found: list[dict[str, Any]] = []
        for year in range(start.astimezone(UTC).year, end.astimezone(UTC).year + 1):
            found.extend(
                self.table.query(
                    "GSI1PK = :bucket AND GSI1SK BETWEEN :low AND :high",
                    {
                        ":bucket": keys.date_bucket(year),
                        ":low": low_utc,
                        # "~" sorts after "#<id>": every trip starting in the last second.
                        ":high": high_utc + "~",
                    },
                    index=keys.DATE_INDEX,
                )
            )
        found.sort(key=lambda item: item["GSI1SK"])
        return [Trip.from_item(item) for item in found]

    def change(
        self,
        trip_id: str,
        changes: dict[str, Any],
        *,
        expected_version: int,
        starts: datetime | None = None,
        activity: Activity | None = None,
    ) -> Trip:
        """Set (or, for None, remove) fields and bump the version, if it is still the one read.

        `starts` moves the trip on the date index; `activity` is written in the same
        transaction (then a consistent GetItem reads the trip back). Raises Stale otherwise.
        """
        changes = {k: (str(v) if isinstance(v, TripStatus) else v) for k, v in changes.items()}
        if starts is not None:
            changes.update(_date_keys(trip_id, starts))
        update = versioned(changes, expected_version)
        if activity is None:
            updated = self.table.update(keys.trip_key(trip_id), update)
        else:
            writes = [
                self.table.update_write(keys.trip_key(trip_id), update),
                activity_write(self.table, activity),
            ]
            try:
                self.table.transact(writes, busy=_BUSY)
            except Cancelled:
                raise Stale(trip_id) from None
            updated = self.table.get(keys.trip_key(trip_id))
        if updated is None:
            raise Stale(trip_id)
        return Trip.from_item(updated)
