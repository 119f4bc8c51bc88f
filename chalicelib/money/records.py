"""Payments (fares and tips), refunds and receipts: the ledger's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from chalicelib.records import Actor, Notification, Record


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
