"""What every domain's records share: the base class and the words they all use.

Each domain keeps its own records beside its rules (`chalicelib/<domain>/records.py`);
this module holds what they have in common: `Record`, the one place a record becomes
its stored attributes and its public JSON, who did something (`Actor`), the kinds of
item, the activity's actions and an email's delivery state.

A record knows nothing of keys or attribute values (the store adds and strips
those). Statuses, methods and roles are named constants; as `StrEnum`s they
are stored and sent as their plain words. The API calls a trip an "event"
(`event_id`, `{"event": ...}`): the JSON keeps those names, the code says trip.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar, Self


class Notification(StrEnum):
    """Where an item's email stands in the outbox."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Action(StrEnum):
    """What a trip's activity entry records."""

    CREATED = "created"
    EDITED = "edited"
    CANCELLED = "cancelled"
    PAYMENT_LOGGED = "payment_logged"
    PAYMENT_VOIDED = "payment_voided"
    REFUND_LOGGED = "refund_logged"
    REFUND_VOIDED = "refund_voided"
    WAIVER_SIGNED = "waiver_signed"
    WAIVER_STRUCK = "waiver_struck"
    BOARDED = "boarded"
    PUT_ASHORE = "put_ashore"
    DEPARTED = "departed"
    RETURNED = "returned"


class Kind(StrEnum):
    """What an item of the table is (its stored `kind`)."""

    TRIP = "event"
    PAYMENT = "payment"
    REFUND = "refund"
    RECEIPT = "receipt"
    WAIVER = "waiver"
    SIGNATURE = "waiver_signature"
    BOAT = "boat"
    BOARDING = "boarding"
    DEPARTURE = "departure"
    WATCH = "float_plan_watch"
    OVERDUE = "overdue_notice"
    ALL_BACK = "all_back_notice"
    ACCOUNT = "account"
    USERNAME = "username"
    SETUP = "setup_code"
    ACTIVITY = "activity"


@dataclass(frozen=True)
class Actor:
    """Who did something: the display name shown (`*_by`) and the account (`*_by_id`).

    `id` is None for the patron signing a waiver and for callers that predate
    accounts (scripts, tests passing a plain name).
    """

    name: str
    id: str | None = None

    @classmethod
    def of(cls, by: Actor | str) -> Actor:
        return by if isinstance(by, Actor) else cls(name=by)


# Stored attribute name -> record field, where the API's word differs from the code's.
_STORED_AS = {"event_id": "trip_id"}
_FIELD_TO_STORED = {v: k for k, v in _STORED_AS.items()}


class Record:
    """Mapping between a record and its stored attributes (keys excluded), and its JSON."""

    # The names of the record's public JSON, in order (the API's names).
    PUBLIC: ClassVar[tuple[str, ...]] = ()
    # Public name -> field, where one record's JSON word is stored under another name
    # (a payment's `kind` is `payment_kind`: the item's own `kind` says what item it is).
    SHOWN_AS: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Self:
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {_STORED_AS.get(k, k): v for k, v in item.items()}
        return cls(**{k: v for k, v in values.items() if k in names})

    def attributes(self) -> dict[str, Any]:
        """The record's stored attributes (nulls included)."""
        return {
            _FIELD_TO_STORED.get(f.name, f.name): getattr(self, f.name)
            for f in fields(self)  # type: ignore[arg-type]
        }

    def to_json(self) -> dict[str, Any]:
        """The record as the API contract shows it."""
        return {name: plain(getattr(self, self._field(name))) for name in self.PUBLIC}

    def _field(self, public_name: str) -> str:
        return self.SHOWN_AS.get(public_name) or _STORED_AS.get(public_name, public_name)


def plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, list):
        return list(value)
    return value
