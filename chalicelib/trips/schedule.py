"""Trips on the water: create, list by date window, detail, edit, cancel.

A trip heads its own item collection (its payments and waivers share its
partition), so detail is one Query; the date index makes a window one Query
per UTC year it touches.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from chalicelib import timeutil
from chalicelib import validation as v
from chalicelib.db import get_store, keys
from chalicelib.db.trips import Stale
from chalicelib.errors import BadInput, Conflict, found
from chalicelib.money.records import Payment, Refund
from chalicelib.records import Action, Actor
from chalicelib.trips.records import Activity, Trip, TripStatus

EDITABLE_FIELDS = Trip.EDITABLE
MAX_WINDOW_DAYS = 92
DEFAULT_WINDOW_DAYS = 7
MAX_PRICE_CENTS = 100_000_000
MAX_CAPACITY = 150
MAX_CREW_ACCOUNTS = 20
Entry = TypeVar("Entry", Payment, Refund)


def _clean(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated trip fields from a request body (only those present when partial)."""
    fields: dict[str, Any] = {}

    def present(name: str) -> bool:
        return not partial or name in body

    if present("title"):
        fields["title"] = v.text(body, "title", required=True, max_len=120)
    for name in ("starts_at", "ends_at"):
        if present(name):
            fields[name] = timeutil.parse_datetime(body.get(name), name)
    if present("boat"):
        fields["boat"] = v.text(body, "boat", max_len=80)
    if present("captain"):
        fields["captain"] = v.text(body, "captain", max_len=80)
    if present("capacity"):
        fields["capacity"] = v.integer(
            body, "capacity", required=True, minimum=1, maximum=MAX_CAPACITY
        )
    if present("price_cents"):
        fields["price_cents"] = v.integer(body, "price_cents", minimum=0, maximum=MAX_PRICE_CENTS)
    if present("crew"):
        fields["crew"] = v.name_list(body, "crew") or []
    if present("crew_ids"):
        fields.update(_crew_accounts(body))
    if present("notes"):
        fields["notes"] = v.text(body, "notes", max_len=2000, multiline=True)
    if present("boat_id") and (partial or body.get("boat_id") is not None):
        fields["boat_id"] = v.ref_id(body, "boat_id")
    return fields


def _crew_accounts(body: dict[str, Any]) -> dict[str, Any]:
    """`crew_ids`, each an active account (400 naming `crew_ids` otherwise), and their
    names as they stand now (`crew_names`, kept with the trip for tips' shares).

    AWS calls: one GetItem per account named (at most MAX_CREW_ACCOUNTS).
    """
    ids = v.id_list(body, "crew_ids", max_items=MAX_CREW_ACCOUNTS) or []
    names: dict[str, str] = {}
    for account_id in ids:
        account = get_store().accounts.get(account_id)
        if account is None or not account.active:
            raise BadInput(
                f"crew_ids: {account_id} is not an active crew account", field="crew_ids"
            )
        names[account_id] = account.display_name
    return {"crew_ids": ids, "crew_names": names}


def _check_times(starts: datetime, ends: datetime) -> None:
    if ends <= starts:
        raise BadInput("ends_at must be after starts_at", field="ends_at")
    if ends - starts > timedelta(days=14):
        raise BadInput("a trip may last at most 14 days", field="ends_at")


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    """Times as ISO text with the operator's offset, the way they are stored."""
    out = dict(fields)
    for name in ("starts_at", "ends_at"):
        if isinstance(out.get(name), datetime):
            out[name] = timeutil.to_local_iso(out[name])
    return out


def activity_entry(trip_id: str, by: Actor, action: Action, summary: str) -> Activity:
    """A new entry for a trip's activity, stamped now (written with its change)."""
    return Activity(
        # Sorts after the UTC second in the key: the nanoseconds keep several changes
        # within one second in the order they were made.
        id=f"{time.time_ns() % 1_000_000_000:09d}{uuid.uuid4().hex[:6]}",
        trip_id=trip_id,
        at=timeutil.now_iso(),
        by=by.name,
        by_id=by.id,
        action=action,
        summary=summary[:300],
    )


def new_trip(body: dict[str, Any], *, by: Actor | str, trip_id: str | None = None) -> Trip:
    """A validated, scheduled trip from a request body, not yet stored."""
    by = Actor.of(by)
    v.reject_unknown(body, EDITABLE_FIELDS)
    from chalicelib.trips import fleet

    fields = fleet.fit_trip(_clean(body, partial=False))
    _check_times(fields["starts_at"], fields["ends_at"])
    stamp = timeutil.now_iso()
    return Trip(
        id=trip_id or uuid.uuid4().hex,
        **_stored(fields),
        status=TripStatus.SCHEDULED,
        created_at=stamp,
        created_by=by.name,
        created_by_id=by.id,
        updated_at=stamp,
    )


def create_trip(body: dict[str, Any], *, by: Actor | str) -> Trip:
    """Validate and store a new scheduled trip, with its `created` activity entry."""
    by = Actor.of(by)
    trip = new_trip(body, by=by)
    entry = activity_entry(trip.id, by, Action.CREATED, f"{by.name} created {trip.title}")
    if not get_store().trips.add(trip, entry):
        raise Conflict("the trip could not be stored: try again", code="not_stored")
    return trip


def load_trip(trip_id: str) -> Trip:
    """The stored trip, or 404."""
    v.path_id(trip_id)
    return found(get_store().trips.get(trip_id))


def trip_detail(trip_id: str) -> dict[str, Any]:
    """The trip, its payments (fares and tips), refunds and who signed waivers (each
    oldest first), in one Query."""
    v.path_id(trip_id)
    detail = found(get_store().trips.detail(trip_id))
    waivers = sorted(detail.waivers, key=lambda w: (timeutil.instant(w.signed_at), w.id))
    return {
        "event": detail.trip.to_json(),
        "payments": [p.to_json() for p in oldest_first(detail.payments)],
        "refunds": [r.to_json() for r in oldest_first(detail.refunds)],
        "waivers": [w.summary_json() for w in waivers],
        # Oldest first, as the table sorts them (time, then id).
        "activity": [a.to_json() for a in detail.activity],
    }


def oldest_first(entries: list[Entry]) -> list[Entry]:
    """Ledger entries in the order they were logged (then by id, for a stable order)."""
    return sorted(entries, key=lambda e: (timeutil.instant(e.logged_at), e.id))


def window(
    from_text: str | None, to_text: str | None, *, max_days: int = MAX_WINDOW_DAYS
) -> tuple[date, date]:
    """The board's dates: given, or today and the next six days in the operator's zone."""
    first = timeutil.parse_date(from_text, "from") if from_text else timeutil.today_local()
    if to_text:
        last = timeutil.parse_date(to_text, "to")
    else:
        last = first + timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    if last < first:
        raise BadInput("to must be on or after from", field="to")
    if (last - first).days + 1 > max_days:
        raise BadInput(f"the window may span at most {max_days} days", field="to")
    return first, last


def board_view(view: str | None) -> bool:
    """`view=board`: the board's compact cards; absent: whole events; else 400."""
    if view is None:
        return False
    if view != "board":
        raise BadInput('view must be "board" (or left out for whole events)', field="view")
    return True


def trips_between(first: date, last: date) -> list[Trip]:
    """Trips starting on the operator's dates first..last (inclusive), by start time."""
    return get_store().trips.starting_between(*timeutil.local_window(first, last))


def update_trip(trip_id: str, body: dict[str, Any], *, by: Actor | str) -> Trip:
    """Edit fields of a trip; `version` must match the stored one (else 409)."""
    by = Actor.of(by)
    v.reject_unknown(body, (*EDITABLE_FIELDS, "version"))
    version = v.integer(body, "version", required=True, minimum=1)
    changes = _clean({k: val for k, val in body.items() if k != "version"}, partial=True)
    current = load_trip(trip_id)
    if current.cancelled:
        raise Conflict("this trip is cancelled and can no longer be edited", code="cancelled")
    if current.version != version:
        raise _stale()
    from chalicelib.trips import fleet

    changes = fleet.fit_trip(changes, current)
    starts = changes.get("starts_at") or timeutil.parse_datetime(current.starts_at, "starts_at")
    ends = changes.get("ends_at") or timeutil.parse_datetime(current.ends_at, "ends_at")
    _check_times(starts, ends)
    stored = _stored(changes)
    stored["updated_at"] = timeutil.now_iso()
    stored["updated_by"] = by.name
    stored["updated_by_id"] = by.id
    moved = starts if "starts_at" in changes else None
    what = ", ".join(sorted(set(changes) - {"crew_names"})) or "nothing"
    entry = activity_entry(trip_id, by, Action.EDITED, f"{by.name} edited {what}")
    return _change(trip_id, stored, expected_version=current.version, starts=moved, entry=entry)


def join_crew(trip_id: str, body: dict[str, Any], *, by: Actor) -> Trip:
    """Put the caller's own account on the trip's crew (`crew_ids`), so a tip for the
    crew can be shared: a deckhand at the dock on a trip nobody staffed in the app.
    On the crew already: the trip as it is. The break-glass login has no account (400).
    """
    v.reject_unknown(body, ())
    if by.id is None or by.id == keys.ADMIN_ACCOUNT_ID:
        raise BadInput(
            "this login has no crew account to put on the trip: log in with your own",
            field="account_id",
        )
    for _ in range(3):
        current = load_trip(trip_id)
        if current.cancelled:
            raise Conflict("this trip is cancelled and can no longer be edited", code="cancelled")
        if by.id in current.crew_ids:
            return current
        ids = [*current.crew_ids, by.id]
        if len(ids) > MAX_CREW_ACCOUNTS:
            raise BadInput(
                f"a trip's crew holds at most {MAX_CREW_ACCOUNTS} accounts", field="crew_ids"
            )
        changes: dict[str, Any] = _crew_accounts({"crew_ids": ids})
        changes["updated_at"] = timeutil.now_iso()
        changes["updated_by"] = by.name
        changes["updated_by_id"] = by.id
        entry = activity_entry(trip_id, by, Action.EDITED, f"{by.name} joined the crew")
        try:
            return _change(trip_id, changes, expected_version=current.version, entry=entry)
        except Conflict as conflict:
            if conflict.code != "stale":
                raise
    raise Conflict("the trip changed meanwhile: try again", field="version", code="stale")


def cancel_trip(trip_id: str, *, by: Actor | str) -> Trip:
    """Mark a trip cancelled (its payments and waivers stay); cancelling twice is a no-op."""
    by = Actor.of(by)
    current = load_trip(trip_id)
    if current.cancelled:
        return current
    changes = {
        "status": TripStatus.CANCELLED,
        "updated_at": timeutil.now_iso(),
        "cancelled_by": by.name,
        "cancelled_by_id": by.id,
    }
    entry = activity_entry(trip_id, by, Action.CANCELLED, f"{by.name} cancelled the trip")
    return _change(trip_id, changes, expected_version=current.version, entry=entry)


def _change(
    trip_id: str,
    changes: dict[str, Any],
    *,
    expected_version: int,
    starts: datetime | None = None,
    entry: Activity | None = None,
) -> Trip:
    try:
        return get_store().trips.change(
            trip_id, changes, expected_version=expected_version, starts=starts, activity=entry
        )
    except Stale:
        raise _stale() from None


def _stale() -> Conflict:
    return Conflict(
        "someone else changed this trip: reload it and try again", field="version", code="stale"
    )


def trip_is_over(trip: Trip) -> bool:
    return datetime.fromisoformat(trip.ends_at) <= timeutil.now().astimezone(UTC)
