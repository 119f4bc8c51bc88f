"""A signed waiver and its drawn signature (stored apart, kept out of detail reads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.records import Notification, Record, plain


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
    # A captain's or the owner's strike (issue 21): attributes beside the signed record,
    # written once and never changed; the signed fields above stay as signed.
    struck_at: str | None = None
    struck_by: str | None = None
    struck_by_id: str | None = None
    struck_reason: str | None = None

    def __post_init__(self) -> None:
        if self.notification is not None:
            self.notification = Notification(self.notification)

    @property
    def struck(self) -> bool:
        return self.struck_at is not None

    def strike_json(self) -> dict[str, Any] | None:
        """Who struck it, when and why (None: it counts)."""
        if self.struck_at is None:
            return None
        return {"at": self.struck_at, "by": self.struck_by, "reason": self.struck_reason}

    def to_json(self) -> dict[str, Any]:
        """The whole signed record, for the crew."""
        out = {name: plain(value) for name, value in self.attributes().items()}
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
            "struck": self.strike_json(),
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
