"""Signed waivers: immutable puts, written with their trip's count in one transaction.

No request here updates or deletes a waiver's signed content; only the email
outbox's delivery bookkeeping (`notification` and `_notify_*`) changes later, and
a strike adds its own attributes (`struck_*`), once, beside the signed ones.
"""

from __future__ import annotations

from chalicelib.db import keys
from chalicelib.db.activity import activity_write
from chalicelib.db.outbox import enqueue_fields
from chalicelib.db.table import Cancelled, Part, Update
from chalicelib.records import Actor, Kind
from chalicelib.trips.records import Activity, TripStatus
from chalicelib.waivers.records import Signature, Waiver


class TripRefused(Exception):
    """The trip is gone or cancelled: the waiver was not stored."""


class StrikeRefused(Exception):
    """A strike was not written: `why` is "struck" (already), "aboard" (someone it
    covers is marked aboard) or "gone" (the waiver or the trip)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Waivers(Part):
    def add(
        self,
        waiver: Waiver,
        drawing: Signature | None,
        *,
        busy: str,
        capacity: int | None = None,
        most_covered: int | None = None,
        party_room: int | None = None,
        activity: Activity | None = None,
    ) -> None:
        """Store the waiver (never over an existing key), its drawing, and count its people.

        With `most_covered`, the trip's count after this waiver may not exceed it, and
        the trip's capacity must still be `capacity` (the one the limit was worked
        out from). With `party_room`, the trip's count before this waiver may not exceed
        it either (one waiver covers at most the seats left). Raises TripRefused when
        the trip is gone, cancelled, has no room left or changed its capacity meanwhile.
        """
        key = keys.waiver_key(waiver.trip_id, waiver.id)
        records = [{**key, "kind": str(Kind.WAIVER), **waiver.attributes(), **enqueue_fields(key)}]
        if drawing is not None:
            records.append(
                {
                    **keys.signature_key(drawing.trip_id, drawing.waiver_id),
                    "kind": str(Kind.SIGNATURE),
                    "waiver_id": drawing.waiver_id,
                    "event_id": drawing.trip_id,
                    "png": drawing.png,
                    "sha256": drawing.sha256,
                    "signed_at": drawing.signed_at,
                }
            )
        writes = [
            self.table.put_write(record, condition="attribute_not_exists(PK)") for record in records
        ]
        condition = "attribute_exists(PK) AND #status <> :cancelled"
        names = {"#status": "status"}
        values: dict[str, object] = {
            ":people": waiver.people_covered,
            ":cancelled": str(TripStatus.CANCELLED),
        }
        if most_covered is not None:
            # No arithmetic in a condition: "count + people <= most" is "count <= room".
            condition += (
                " AND #capacity = :capacity"
                " AND (attribute_not_exists(waiver_count) OR waiver_count <= :room)"
            )
            names["#capacity"] = "capacity"  # a reserved word
            values[":capacity"] = capacity
            values[":room"] = most_covered - waiver.people_covered
        if party_room is not None:
            condition += " AND (attribute_not_exists(waiver_count) OR waiver_count <= :seats)"
            values[":seats"] = party_room
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        # The trip's update goes last: its refusal is the one read below.
        writes.append(
            self.table.update_write(
                keys.trip_key(waiver.trip_id),
                Update(
                    "ADD waiver_count :people",
                    condition=condition,
                    names=names,
                    values=values,
                ),
            )
        )
        try:
            self.table.transact(writes, busy=busy)
        except Cancelled as cancelled:
            if cancelled.refusals[-1].condition_failed:
                raise TripRefused(waiver.trip_id) from None
            raise

    def strike(
        self,
        waiver: Waiver,
        *,
        at: str,
        by: Actor,
        reason: str,
        busy: str,
        activity: Activity | None = None,
    ) -> None:
        """Strike a waiver from its trip: its `struck_*` attributes (only if not struck
        yet), its people off the trip's `waiver_count`, refused while any of them is
        marked aboard (a condition on each boarding mark), all in one transaction.
        Raises StrikeRefused."""
        key = keys.waiver_key(waiver.trip_id, waiver.id)
        writes = [
            self.table.update_write(
                key,
                Update(
                    "SET struck_at = :at, struck_by = :by, struck_by_id = :by_id,"
                    " struck_reason = :reason",
                    condition="attribute_exists(PK) AND attribute_not_exists(struck_at)",
                    values={":at": at, ":by": by.name, ":by_id": by.id, ":reason": reason},
                ),
                old=True,
            ),
            self.table.update_write(
                keys.trip_key(waiver.trip_id),
                Update(
                    "ADD waiver_count :minus SET updated_at = :at",
                    condition="attribute_exists(PK)",
                    values={":minus": -waiver.people_covered, ":at": at},
                ),
            ),
        ]
        writes += [
            self.table.check_write(
                keys.boarding_key(waiver.trip_id, waiver.id, person),
                "attribute_not_exists(PK) OR boarded = :false",
                {":false": False},
            )
            for person in range(waiver.people_covered)
        ]
        if activity is not None:
            writes.append(activity_write(self.table, activity))
        try:
            self.table.transact(writes, busy=busy)
        except Cancelled as cancelled:
            mine, trip, *marks = cancelled.refusals
            if mine.condition_failed:
                raise StrikeRefused("struck" if mine.old else "gone") from None
            if trip.condition_failed:
                raise StrikeRefused("gone") from None
            if any(mark.condition_failed for mark in marks):
                raise StrikeRefused("aboard") from None
            raise

    def get(self, trip_id: str, waiver_id: str) -> Waiver | None:
        item = self.table.get(keys.waiver_key(trip_id, waiver_id))
        return Waiver.from_item(item) if item else None

    def signature(self, trip_id: str, waiver_id: str) -> Signature | None:
        item = self.table.get(keys.signature_key(trip_id, waiver_id))
        if item is None:
            return None
        return Signature(
            waiver_id=waiver_id,
            trip_id=trip_id,
            png=item["png"],
            sha256=item["sha256"],
            signed_at=item["signed_at"],
        )
