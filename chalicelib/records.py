"""The records the app keeps, typed, and the one place each becomes public JSON.

A record knows nothing of keys or attribute values (the store adds and strips
those). Statuses, methods and roles are named constants; as `StrEnum`s they
are stored and sent as their plain words. The API calls a trip an "event"
(`event_id`, `{"event": ...}`): the JSON keeps those names, the code says trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Self


class TripStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    LOGGED = "logged"
    VOID = "void"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"
    CHECK = "check"
    VENMO = "venmo"
    ZELLE = "zelle"
    OTHER = "other"


class PaymentKind(StrEnum):
    """What money a payment is: a fare counts toward the trip's price, a tip goes to crew."""

    FARE = "fare"
    TIP = "tip"


# A tip for `TIP_FOR_CREW` is split among the trip's crew accounts (its `crew_ids`).
TIP_FOR_CREW = "crew"


class Notification(StrEnum):
    """Where an item's email stands in the outbox."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Role(StrEnum):
    OWNER = "owner"
    CAPTAIN = "captain"
    CREW = "crew"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


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


# A trip still out this long after its expected return is overdue (float-plan practice).
OVERDUE_AFTER = timedelta(minutes=30)
# An uninspected vessel carries at most six passengers for hire (the "six-pack").
SIX_PACK_LIMIT = 6


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
        return {name: _plain(getattr(self, self._field(name))) for name in self.PUBLIC}

    def _field(self, public_name: str) -> str:
        return self.SHOWN_AS.get(public_name) or _STORED_AS.get(public_name, public_name)


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, list):
        return list(value)
    return value


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
            value = _plain(getattr(self, self._field(name)))
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


@dataclass(kw_only=True)
class LedgerEntry(Record):
    """What payments and refunds share: who logged them, and their void (a mistake is
    voided, its row kept). Keyword-only, so each kind keeps its own fields' order."""

    # What must match for a replayed id to be the same entry.
    CONTENT: ClassVar[tuple[str, ...]] = ()

    logged_by: str | None = None
    logged_by_id: str | None = None
    status: PaymentStatus = PaymentStatus.LOGGED
    void_reason: str | None = None
    voided_at: str | None = None
    voided_by: str | None = None
    voided_by_id: str | None = None

    def __post_init__(self) -> None:
        self.status = PaymentStatus(self.status)

    @property
    def void(self) -> bool:
        return self.status is PaymentStatus.VOID

    def content(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.CONTENT)

    def mark_void(self, reason: str, at: str, by: Actor) -> None:
        """As the void's write left it."""
        self.status = PaymentStatus.VOID
        self.void_reason, self.voided_at = reason, at
        self.voided_by, self.voided_by_id = by.name, by.id


@dataclass
class Payment(LedgerEntry):
    """Money a patron handed the crew: the API's Payment."""

    PUBLIC: ClassVar[tuple[str, ...]] = (
        "id",
        "event_id",
        "patron_name",
        "amount_cents",
        "method",
        "note",
        "logged_at",
        "logged_by",
        "logged_by_id",
        "status",
        "void_reason",
        "voided_at",
        "voided_by",
        "voided_by_id",
        "notification",
        "kind",
        "tip_for",
        "tip_shares",
        "receipt",
    )
    SHOWN_AS: ClassVar[dict[str, str]] = {"kind": "payment_kind"}

    id: str
    trip_id: str
    patron_name: str
    amount_cents: int
    method: PaymentMethod
    logged_at: str
    note: str | None = None
    notification: Notification | None = None
    payment_kind: PaymentKind = PaymentKind.FARE
    # A tip's: "crew" or the account ids named, and the split [{account_id, name, cents}].
    tip_for: str | list[str] | None = None
    tip_shares: list[dict[str, Any]] = field(default_factory=list)
    # Where the patron's receipt stands (None: none asked for). The address itself is
    # kept on the payment and its receipt item, and never shown in lists.
    patron_email: str | None = None
    receipt: Notification | None = None
    # How much of this fare refunds linked to it have handed back.
    refunded_cents: int = 0

    CONTENT: ClassVar[tuple[str, ...]] = (
        "patron_name",
        "amount_cents",
        "method",
        "note",
        "payment_kind",
        "tip_for",
        "patron_email",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.method = PaymentMethod(self.method)
        self.payment_kind = PaymentKind(self.payment_kind or PaymentKind.FARE)
        self.tip_shares = list(self.tip_shares or [])
        if self.notification is not None:
            self.notification = Notification(self.notification)
        if self.receipt is not None:
            self.receipt = Notification(self.receipt)

    @property
    def tip(self) -> bool:
        return self.payment_kind is PaymentKind.TIP


@dataclass
class Refund(LedgerEntry):
    """Money handed back to a patron (a trip cut short): taken off the trip's paid total.

    Like a payment it is append-only: a refund logged by mistake is voided, not deleted.
    """

    PUBLIC: ClassVar[tuple[str, ...]] = (
        "id",
        "event_id",
        "amount_cents",
        "method",
        "reason",
        "payment_id",
        "logged_at",
        "logged_by",
        "logged_by_id",
        "status",
        "voided_at",
        "voided_by",
        "void_reason",
    )

    id: str
    trip_id: str
    amount_cents: int
    method: PaymentMethod
    reason: str
    logged_at: str
    payment_id: str | None = None

    CONTENT: ClassVar[tuple[str, ...]] = ("amount_cents", "method", "reason", "payment_id")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.method = PaymentMethod(self.method)


@dataclass
class Receipt(Record):
    """The patron's receipt for a payment: its own outbox item (the payment's owes the
    crew email), holding only what the patron's email needs to find the payment."""

    trip_id: str
    payment_id: str
    email: str
    notification: Notification | None = None

    def __post_init__(self) -> None:
        if self.notification is not None:
            self.notification = Notification(self.notification)


@dataclass
class Waiver(Record):
    """A signed waiver: immutable once stored, but for its email's delivery state."""

    id: str
    trip_id: str
    full_name: str
    email: str
    phone: str
    date_of_birth: str
    emergency_name: str
    emergency_phone: str
    minors: list[dict[str, str]]
    signature: str
    people_covered: int
    waiver_version: str
    waiver_sha256: str
    signed_at: str
    agreed: bool = True
    drawn_signature: bool = False
    drawn_signature_sha256: str | None = None
    # The trip as the page showed it when signed (title, starts_at, ends_at, boat).
    trip: dict[str, Any] = field(default_factory=dict)
    ip: str | None = None
    user_agent: str | None = None
    notification: Notification | None = None

    def __post_init__(self) -> None:
        if self.notification is not None:
            self.notification = Notification(self.notification)

    def to_json(self) -> dict[str, Any]:
        """The whole signed record, for the crew."""
        out = {name: _plain(value) for name, value in self.attributes().items()}
        if out["drawn_signature_sha256"] is None:
            del out["drawn_signature_sha256"]
        return out

    def summary_json(self) -> dict[str, Any]:
        """Who is covered, for the trip's detail on every crew phone: no contact details,
        no dates of birth, no address or browser. The whole record is one request away
        (GET /api/events/{id}/waivers/{wid})."""
        return {
            "id": self.id,
            "full_name": self.full_name,
            "minor_names": [minor["name"] for minor in self.minors],
            "people_covered": self.people_covered,
            "signed_at": self.signed_at,
            "waiver_version": self.waiver_version,
            "waiver_sha256": self.waiver_sha256,
        }

    def receipt_json(self) -> dict[str, Any]:
        """What the signer's client gets back: enough to confirm, no contact details."""
        return {
            "id": self.id,
            "event_id": self.trip_id,
            "full_name": self.full_name,
            "minors": self.minors,
            "people_covered": self.people_covered,
            "signed_at": self.signed_at,
            "waiver_version": self.waiver_version,
            "waiver_sha256": self.waiver_sha256,
        }


@dataclass(frozen=True)
class Signature:
    """A drawn signature, stored apart from its waiver (kept out of detail reads)."""

    waiver_id: str
    trip_id: str
    png: bytes
    sha256: str
    signed_at: str


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
class Boarding(Record):
    """One person of a waiver marked aboard (or back ashore). `person` 0 is the signer,
    1.. the minors in the order the waiver lists them."""

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


@dataclass
class Account(Record):
    """A crew member's login. The password hash and setup codes never reach the API."""

    PUBLIC: ClassVar[tuple[str, ...]] = (
        "id",
        "username",
        "display_name",
        "role",
        "status",
        "created_at",
        "created_by",
        "created_by_id",
        "last_login_at",
        "password_set",
    )

    id: str
    username: str
    display_name: str
    role: Role
    status: AccountStatus = AccountStatus.ACTIVE
    password_hash: str | None = None
    token_version: int = 1
    created_at: str | None = None
    created_by: str | None = None
    created_by_id: str | None = None
    last_login_at: str | None = None
    updated_at: str | None = None
    # SHA-256 of the one setup code that may still set the password (a reset replaces it).
    setup_sha256: str | None = None

    def __post_init__(self) -> None:
        self.role = Role(self.role)
        self.status = AccountStatus(self.status)

    @property
    def active(self) -> bool:
        return self.status is AccountStatus.ACTIVE

    @property
    def password_set(self) -> bool:
        return self.password_hash is not None

    @property
    def actor(self) -> Actor:
        return Actor(self.display_name, self.id)
