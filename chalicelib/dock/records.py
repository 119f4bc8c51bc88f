"""Boarding marks, the manifest's passengers, departures and the notices sent ashore."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.records import Notification, Record


@dataclass
class Boarding(Record):
    """One person of a waiver marked aboard (or back ashore). `person` is their stable
    id within the waiver: 0 the signer, 1.. the minors in the order the waiver lists
    them (a waiver never changes, so neither do they)."""

    trip_id: str
    waiver_id: str
    person: int
    name: str
    boarded: bool
    at: str
    by: str | None = None
    # The client's id of the mark (a phone's queued tap): a replay of it changes nothing.
    mark_id: str | None = None


@dataclass
class Passenger:
    """One person a signed waiver covers, as the manifest lists them."""

    name: str
    minor: bool
    waiver_id: str
    person: int
    signed_at: str
    boarded: bool = False
    boarded_at: str | None = None
    boarded_by: str | None = None
    emergency_name: str | None = None
    emergency_phone: str | None = None

    def to_json(self, *, contacts: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "minor": self.minor,
            "waiver_id": self.waiver_id,
            "person": self.person,
            "signed_at": self.signed_at,
            "boarded": self.boarded,
            "boarded_at": self.boarded_at,
            "boarded_by": self.boarded_by,
        }
        if contacts:
            out["emergency_name"] = self.emergency_name
            out["emergency_phone"] = self.emergency_phone
        return out


@dataclass
class Departure(Record):
    """A trip casting off: who sent it, the headcount, and the manifest as it stood then.

    Its `manifest` is the snapshot the shore contacts' email is rendered from, so
    the email says exactly who was aboard when the boat left.
    """

    trip_id: str
    departed_at: str
    departed_by: str
    headcount: int
    limit: int | None
    manifest: dict[str, Any]
    notification: Notification | None = None

    def __post_init__(self) -> None:
        if self.notification is not None:
            self.notification = Notification(self.notification)


@dataclass
class ShoreNotice(Record):
    """An email to the shore contacts about a trip afloat: overdue, or all back."""

    trip_id: str
    at: str
    by: str | None = None
    notification: Notification | None = None

    def __post_init__(self) -> None:
        if self.notification is not None:
            self.notification = Notification(self.notification)
