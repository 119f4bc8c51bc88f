"""A trip, its activity and the boats of the fleet, as stored and as the API shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from chalicelib.records import Action, Record, plain


class TripStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


# A trip still out this long after its expected return is overdue (float-plan practice).
OVERDUE_AFTER = timedelta(minutes=30)


# An uninspected vessel carries at most six passengers for hire (the "six-pack").
SIX_PACK_LIMIT = 6


@dataclass
class Trip(Record):
    """A trip on the water: the API's Event."""

    # What crew may set when they create or edit a trip.
    EDITABLE: ClassVar[tuple[str, ...]] = (
        "title",
        "starts_at",
        "ends_at",
        "boat",
        "capacity",
        "price_cents",
        "captain",
        "crew",
        "notes",
        "boat_id",
        "crew_ids",
    )
    PUBLIC: ClassVar[tuple[str, ...]] = (
        "id",
        *EDITABLE,
        "status",
        "paid_cents",
        "payment_count",
        "balance_cents",
        # Money (issue 15): tips apart from fares; paid_cents is fares net of refunds.
        "tips_cents",
        "crew_accounts",
        "refunded_cents",
        "refund_count",
        "waiver_count",
        "payment_logged",
        "version",
        "created_at",
        "updated_at",
        # At the dock (issue 14): the boat's limit when assigned, who is aboard, the voyage.
        "boat_limit",
        "boarded_count",
        "departed_at",
        "departed_by",
        "departed_headcount",
        "returned_at",
        "returned_by",
        "overdue",
    )

    id: str
    title: str
    starts_at: str
    ends_at: str
    boat: str | None = None
    capacity: int | None = None
    price_cents: int | None = None
    captain: str | None = None
    crew: list[str] = field(default_factory=list)
    notes: str | None = None
    status: TripStatus = TripStatus.SCHEDULED
    paid_cents: int = 0
    payment_count: int = 0
    waiver_count: int = 0
    payment_logged: str | None = None
    version: int = 1
    created_at: str | None = None
    created_by: str | None = None
    created_by_id: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    updated_by_id: str | None = None
    cancelled_by: str | None = None
    boat_id: str | None = None
    boat_limit: int | None = None
    boarded_count: int = 0
    departed_at: str | None = None
    departed_by: str | None = None
    departed_headcount: int | None = None
    returned_at: str | None = None
    returned_by: str | None = None
    overdue_at: str | None = None
    cancelled_by_id: str | None = None
    # The crew accounts a tip "for crew" is split among, and their names when they were
    # put on the trip (stored with them, so a tip's shares need no read of the accounts).
    crew_ids: list[str] = field(default_factory=list)
    crew_names: dict[str, str] = field(default_factory=dict)
    tips_cents: int = 0
    refunded_cents: int = 0
    refund_count: int = 0

    def __post_init__(self) -> None:
        self.status = TripStatus(self.status)
        self.crew = list(self.crew or [])
        self.crew_ids = list(self.crew_ids or [])
        self.crew_names = dict(self.crew_names or {})

    # What a card of the board shows (`GET /api/events?view=board`, read by spa/board.js
    # and the Log Payment modal it opens): docs/api.md, "The board's card".
    CARD: ClassVar[tuple[str, ...]] = (
        "id",
        "title",
        "starts_at",
        "ends_at",
        "status",
        "boat",
        "captain",
        "crew",
        "capacity",
        "price_cents",
        "paid_cents",
        "balance_cents",
        "waiver_count",
        "boat_limit",
        "boarded_count",
        "departed_at",
        "returned_at",
        "overdue",
        "crew_accounts",
    )

    def to_card(self) -> dict[str, Any]:
        """The board's card: the fields in CARD, leaving out a null, false or empty
        list (the card reads a missing one as that)."""
        out: dict[str, Any] = {}
        for name in self.CARD:
            value = plain(getattr(self, self._field(name)))
            if value is not None and value is not False and value != []:
                out[name] = value
        return out

    @property
    def crew_accounts(self) -> list[dict[str, str]]:
        """The crew accounts with their names (as stored when they were put on the trip),
        so the Log Payment modal can offer each as a tip's recipient to every role."""
        return [
            {"account_id": account, "name": self.crew_names.get(account, "")}
            for account in self.crew_ids
        ]

    @property
    def allowed_aboard(self) -> int | None:
        """How many may be aboard: the boat's limit, else (a free-text boat) the capacity."""
        return self.boat_limit if self.boat_limit is not None else self.capacity

    def overdue_after(self) -> datetime:
        """When a trip still out becomes overdue."""
        return datetime.fromisoformat(self.ends_at) + OVERDUE_AFTER

    def overdue_as_of(self, now: datetime) -> bool:
        return bool(self.departed_at and not self.returned_at and now >= self.overdue_after())

    @property
    def overdue(self) -> bool:
        """Out on the water 30 minutes past its expected return (as of this moment)."""
        from chalicelib import timeutil

        return self.overdue_as_of(timeutil.now().astimezone(UTC))

    @property
    def cancelled(self) -> bool:
        return self.status is TripStatus.CANCELLED

    @property
    def balance_cents(self) -> int | None:
        return None if self.price_cents is None else self.price_cents - self.paid_cents


@dataclass
class Boat(Record):
    """A vessel of the fleet and how many passengers it may carry."""

    EDITABLE: ClassVar[tuple[str, ...]] = (
        "name",
        "passenger_limit",
        "inspected",
        "uscg_number",
        "notes",
    )
    PUBLIC: ClassVar[tuple[str, ...]] = (
        "id",
        *EDITABLE,
        "version",
        "created_at",
        "updated_at",
    )

    id: str
    name: str
    passenger_limit: int
    inspected: bool = False
    uscg_number: str | None = None
    notes: str | None = None
    version: int = 1
    created_at: str | None = None
    created_by: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None


@dataclass
class Activity(Record):
    """One entry of a trip's append-only activity: who did what, and when."""

    PUBLIC: ClassVar[tuple[str, ...]] = ("at", "by", "by_id", "action", "summary")

    id: str
    trip_id: str
    at: str
    by: str
    action: Action
    summary: str
    by_id: str | None = None

    def __post_init__(self) -> None:
        self.action = Action(self.action)
