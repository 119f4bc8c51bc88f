"""Request bodies the tests and the benchmarks share: one trip, one payment, one waiver."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

# A valid payment body for POST /api/events/{id}/payments.
ANA = {"patron_name": "Ana Ruiz", "amount_cents": 12000, "method": "cash"}

# A waiver a patron could sign (form fields as the page posts them, or as JSON).
WAIVER = {
    "full_name": "Jordan Lee",
    "email": "jordan@example.com",
    "phone": "+1 415 555 0100",
    "date_of_birth": "1988-04-12",
    "emergency_name": "Sam Lee",
    "emergency_phone": "+1 415 555 0101",
    "signature": "Jordan Lee",
    "agree": True,
}


def trip_body(day: date | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid new-trip body: a sunset cruise on `day` (tomorrow in the operator's zone)."""
    if day is None:
        from chalicelib import timeutil

        day = timeutil.today_local() + timedelta(days=1)
    body = {
        "title": "Sunset Cruise",
        "starts_at": f"{day.isoformat()}T17:30:00",
        "ends_at": f"{day.isoformat()}T19:30:00",
        "boat": "Osprey",
        "capacity": 12,
        "price_cents": 60000,
        "captain": "Maria Reyes",
        "crew": ["Jo", "Sam"],
        "notes": "Bring jackets",
    }
    body.update(overrides)
    return body
