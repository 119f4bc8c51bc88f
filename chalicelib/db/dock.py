"""At the dock: boarding marks, the departure, the return and the float-plan watch.

Every change here is one transaction with the trip's item, whose conditions
carry the rules, so two phones at the gangway cannot break them:

- boarding adds to the trip's `boarded_count` only while it is under the limit
  and the trip has not left; un-boarding takes one off;
- departing sets `departed_at` once (never twice) while the headcount is the one
  the manifest was read with, puts the departure (its manifest email owed
  through the outbox) and the watch that turns overdue;
- returning sets `returned_at` once, only after a departure, and ends the watch.

The watch sits on the date index's sparse AFLOAT partition sorted by when the
trip turns overdue, so the scheduled check is one Query whose cost grows with
the trips out on the water, not with the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib import timeutil
from chalicelib.db import keys
from chalicelib.db.activity import activity_write
from chalicelib.db.outbox import enqueue_fields
from chalicelib.db.table import Cancelled, Part, Update
from chalicelib.db.trips import trip_items
from chalicelib.dock.records import Boarding, Departure, ShoreNotice
from chalicelib.records import Kind
from chalicelib.trips.records import Activity, Trip, TripStatus
from chalicelib.waivers.records import Waiver


@dataclass
class Voyage:
    """A trip with what its manifest needs: waivers, boarding marks, the departure."""

    trip: Trip
    waivers: list[Waiver] = field(default_factory=list)
    boardings: list[Boarding] = field(default_factory=list)
    departure: Departure | None = None


class Refused(Exception):
    """The trip's condition refused the change; `trip` is how it stands now (None: gone)."""

    def __init__(self, trip: Trip | None) -> None:
        super().__init__("refused")
        self.trip = trip


class WaiverStruck(Exception):
    """The waiver was struck from the trip: nobody it covers is boarded."""


def _boarding_item(mark: Boarding) -> dict[str, Any]:
    return {
        **keys.boarding_key(mark.trip_id, mark.waiver_id, mark.person),
        "kind": str(Kind.BOARDING),
        **mark.attributes(),
    }


class Dock(Part):
    def voyage(self, trip_id: str) -> Voyage | None:
        """The trip and its manifest's parts in one Query (drawn signatures sort above it)."""
        found = trip_items(self.table, trip_id)
        if found is None:
            return None
        head, items = found
        departure = next((i for i in items if i["SK"] == keys.DEPARTURE_SK), None)
        return Voyage(
            trip=Trip.from_item(head),
            waivers=[Waiver.from_item(i) for i in items if i["SK"].startswith(keys.WAIVER_PREFIX)],
            boardings=[
                Boarding.from_item(i) for i in items if i["SK"].startswith(keys.BOARDING_PREFIX)
            ],
            departure=Departure.from_item(departure) if departure else None,
        )

    def _trip_now(self, trip_id: str) -> Trip | None:
        item = self.table.get(keys.trip_key(trip_id))
        return Trip.from_item(item) if item else None

    # --- Boarding ------------------------------------------------------------------

    def board(
        self, mark: Boarding, *, limit: int, busy: str, activity: Activity | None = None
    ) -> bool:
        """Mark a person aboard (`mark.boarded`) or ashore and count them on the trip.

        False when they already were (nothing written). Raises Refused when the
        trip would go over `limit`, has left, is cancelled or is gone.
        """
        if mark.boarded:
            mine = self.table.put_write(
                _boarding_item(mark),
                condition="attribute_not_exists(PK) OR boarded = :false",
                values={":false": False},
            )
            trip_change = Update(
                "ADD boarded_count :one",
                condition="attribute_exists(PK) AND #status <> :cancelled"
                " AND attribute_not_exists(departed_at)"
                " AND (attribute_not_exists(boarded_count) OR boarded_count < :limit)",
                names={"#status": "status"},
                values={":one": 1, ":limit": limit, ":cancelled": str(TripStatus.CANCELLED)},
            )
        else:
            mine = self.table.update_write(
                keys.boarding_key(mark.trip_id, mark.waiver_id, mark.person),
                Update(
                    "SET boarded = :false, #at = :at, #by = :by, mark_id = :mark",
                    condition="boarded = :true",
                    names={"#at": "at", "#by": "by"},
                    values={
                        ":false": False,
                        ":true": True,
                        ":at": mark.at,
                        ":by": mark.by,
                        ":mark": mark.mark_id,
                    },
                ),
            )
            trip_change = Update(
                "ADD boarded_count :minus_one",
                condition="attribute_exists(PK) AND attribute_not_exists(departed_at)"
                " AND boarded_count > :zero",
                values={":minus_one": -1, ":zero": 0},
            )
        writes = [mine, self.table.update_write(keys.trip_key(mark.trip_id), trip_change)]
        if mark.boarded:
            # Struck (issue 21) meanwhile or not: checked in the same transaction.
            writes.append(
                self.table.check_write(
                    keys.waiver_key(mark.trip_id, mark.waiver_id),
                    "attribute_exists(PK) AND attribute_not_exists(struck_at)",
                )
            )
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        try:
            self.table.transact(writes, busy=busy)
        except Cancelled as cancelled:
            if mark.boarded and cancelled.refusals[2].condition_failed:
                raise WaiverStruck(mark.waiver_id) from None
            if cancelled.refusals[0].condition_failed:
                return False
            raise Refused(self._trip_now(mark.trip_id)) from None
        return True

    # --- Departure and return --------------------------------------------------------

    def depart(
        self,
        departure: Departure,
        *,
        overdue_after: datetime,
        busy: str,
        activity: Activity | None = None,
    ) -> None:
        """Record the departure once, with the headcount read, and start the watch.

        Raises Refused (with the trip as it stands) when the trip already left, is
        cancelled or gone, or its headcount changed since the manifest was read.
        """
        trip_id = departure.trip_id
        headcount = departure.headcount
        counted = "boarded_count = :count"
        if headcount == 0:
            counted = f"(attribute_not_exists(boarded_count) OR {counted})"
        watch = {
            **keys.watch_key(trip_id),
            "kind": str(Kind.WATCH),
            "event_id": trip_id,
            "overdue_after": timeutil.to_local_iso(overdue_after),
            "GSI1PK": keys.AFLOAT,
            "GSI1SK": keys.watch_marker(timeutil.utc_key(overdue_after), trip_id),
        }
        record_key = keys.departure_key(trip_id)
        writes = [
            self.table.update_write(
                keys.trip_key(trip_id),
                Update(
                    "SET departed_at = :at, departed_by = :by, departed_headcount = :count",
                    condition="attribute_exists(PK) AND #status <> :cancelled"
                    f" AND attribute_not_exists(departed_at) AND {counted}",
                    names={"#status": "status"},
                    values={
                        ":at": departure.departed_at,
                        ":by": departure.departed_by,
                        ":count": headcount,
                        ":cancelled": str(TripStatus.CANCELLED),
                    },
                ),
            ),
            self.table.put_write(
                {
                    **record_key,
                    "kind": str(Kind.DEPARTURE),
                    **departure.attributes(),
                    **enqueue_fields(record_key),
                },
                condition="attribute_not_exists(PK)",
            ),
            self.table.put_write(watch, condition="attribute_not_exists(PK)"),
        ]
        self._change_trip(trip_id, writes, activity, busy)

    def come_back(
        self,
        trip_id: str,
        *,
        at: str,
        by: str,
        overdue_sent: bool,
        busy: str,
        activity: Activity | None = None,
    ) -> None:
        """Record the return once, after a departure; end the watch.

        `overdue_sent`: the trip was flagged overdue when read, so the shore
        contacts are owed an all-back email, written in the same transaction.
        Raises Refused when it has not left, is back already, or its overdue
        flag changed since it was read.
        """
        flag = (
            "attribute_exists(overdue_at)" if overdue_sent else "attribute_not_exists(overdue_at)"
        )
        writes = [
            self.table.update_write(
                keys.trip_key(trip_id),
                Update(
                    "SET returned_at = :at, returned_by = :by",
                    condition="attribute_exists(PK) AND attribute_exists(departed_at)"
                    f" AND attribute_not_exists(returned_at) AND {flag}",
                    values={":at": at, ":by": by},
                ),
            ),
            # Off the AFLOAT index rather than deleted: the role deletes only counters.
            self.table.update_write(
                keys.watch_key(trip_id),
                Update(
                    "SET ended_at = :at REMOVE GSI1PK, GSI1SK",
                    condition="attribute_exists(PK)",
                    values={":at": at},
                ),
            ),
        ]
        if overdue_sent:
            writes.append(self._notice_write(trip_id, keys.ALL_BACK_SK, Kind.ALL_BACK, at, by))
        self._change_trip(trip_id, writes, activity, busy)

    def _change_trip(
        self,
        trip_id: str,
        writes: list[dict[str, Any]],
        activity: Activity | None,
        busy: str,
    ) -> None:
        """Write a change of the trip with its activity entry; Refused if the trip said no."""
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        try:
            self.table.transact(writes, busy=busy)
        except Cancelled:
            raise Refused(self._trip_now(trip_id)) from None

    def _notice_write(
        self, trip_id: str, sk: str, kind: Kind, at: str, by: str | None
    ) -> dict[str, Any]:
        key = keys.notice_key(trip_id, sk)
        notice = ShoreNotice(trip_id=trip_id, at=at, by=by)
        return self.table.put_write(
            {**key, "kind": str(kind), **notice.attributes(), **enqueue_fields(key)},
            condition="attribute_not_exists(PK)",
        )

    # --- The float-plan watch -----------------------------------------------------------

    def overdue_now(self, now: datetime, limit: int) -> list[str]:
        """Trips out past their overdue time and not yet flagged: one Query on AFLOAT."""
        found = self.table.query(
            "GSI1PK = :afloat AND GSI1SK <= :due",
            # "~" sorts after "#": every watch due up to this second.
            {":afloat": keys.AFLOAT, ":due": timeutil.utc_key(now) + "~"},
            index=keys.DATE_INDEX,
            projection="event_id",
            limit=limit,
        )
        return [str(item["event_id"]) for item in found if item.get("event_id")]

    def flag_overdue(self, trip_id: str, *, at: str) -> bool:
        """Mark the trip overdue and owe the shore contacts one email, once.

        False when it came back, or was flagged, meanwhile (nothing written).
        """
        writes = [
            self.table.update_write(
                keys.trip_key(trip_id),
                Update(
                    "SET overdue_at = :at",
                    condition="attribute_exists(departed_at) AND attribute_not_exists(returned_at)"
                    " AND attribute_not_exists(overdue_at)",
                    values={":at": at},
                ),
            ),
            self._notice_write(trip_id, keys.OVERDUE_SK, Kind.OVERDUE, at, None),
            # Off the AFLOAT partition: the next round does not find it again.
            self.table.update_write(
                keys.watch_key(trip_id),
                Update("REMOVE GSI1PK, GSI1SK", condition="attribute_exists(PK)"),
            ),
        ]
        try:
            self.table.transact(writes, busy="the trip is busy")
        except Cancelled:
            return False
        return True

    def departure(self, trip_id: str) -> Departure | None:
        item = self.table.get(keys.departure_key(trip_id))
        return Departure.from_item(item) if item else None
