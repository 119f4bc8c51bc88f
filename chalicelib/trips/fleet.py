"""The fleet: boats and how many passengers each may legally carry.

An uninspected vessel carries at most six passengers for hire (the "six-pack"
limit); an inspected one carries what its certificate of inspection says (at
most 150 here, the largest trip the app takes). A trip on a boat may not be
booked for more than the boat's limit.
"""

from __future__ import annotations

import uuid
from typing import Any

from chalicelib import timeutil
from chalicelib import validation as v
from chalicelib.db import get_store
from chalicelib.errors import BadInput, Conflict, NotFound
from chalicelib.trips.records import SIX_PACK_LIMIT, Boat, Trip

MAX_PASSENGER_LIMIT = 150


def _flag(body: dict[str, Any], name: str, *, required: bool) -> bool | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BadInput(f"{name} is required (true or false)", field=name, code="required")
        return None
    if not isinstance(value, bool):
        raise BadInput(f"{name} must be true or false", field=name)
    return value


def _clean(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}

    def present(name: str) -> bool:
        return not partial or name in body

    if present("name"):
        fields["name"] = v.text(body, "name", required=True, max_len=80)
    if present("passenger_limit"):
        fields["passenger_limit"] = v.integer(
            body, "passenger_limit", required=True, minimum=1, maximum=MAX_PASSENGER_LIMIT
        )
    if present("inspected"):
        fields["inspected"] = _flag(body, "inspected", required=True)
    if present("uscg_number"):
        fields["uscg_number"] = v.text(body, "uscg_number", max_len=40)
    if present("notes"):
        fields["notes"] = v.text(body, "notes", max_len=2000, multiline=True)
    return fields


def check_six_pack(passenger_limit: int, inspected: bool) -> None:
    """400 when an uninspected vessel would carry more than six passengers."""
    if not inspected and passenger_limit > SIX_PACK_LIMIT:
        raise BadInput(
            f"passenger_limit must be at most {SIX_PACK_LIMIT} for an uninspected vessel "
            "(the six-pack limit); an inspected vessel takes the limit on its certificate",
            field="passenger_limit",
            code="six_pack",
        )


def add_boat(body: dict[str, Any], *, by: str) -> Boat:
    """Validate and store a new boat."""
    v.reject_unknown(body, Boat.EDITABLE)
    fields = _clean(body, partial=False)
    check_six_pack(fields["passenger_limit"], fields["inspected"])
    stamp = timeutil.now_iso()
    boat = Boat(id=uuid.uuid4().hex, **fields, created_at=stamp, created_by=by, updated_at=stamp)
    get_store().boats.add(boat)
    return boat


def list_boats() -> list[Boat]:
    return get_store().boats.all()


def load_boat(boat_id: str) -> Boat:
    v.path_id(boat_id, "boat")
    boat = get_store().boats.get(boat_id)
    if boat is None:
        raise NotFound("no such boat", field="boat_id")
    return boat


def update_boat(boat_id: str, body: dict[str, Any], *, by: str) -> Boat:
    """Edit a boat's fields; the result must still keep the six-pack rule.

    An optional `version` makes the edit conditional on what the client read.
    Trips already booked keep the limit they were given (see docs/decisions.md).
    """
    v.reject_unknown(body, (*Boat.EDITABLE, "version"))
    version = v.integer(body, "version", minimum=1)
    changes = _clean({k: val for k, val in body.items() if k != "version"}, partial=True)
    current = load_boat(boat_id)
    if version is not None and version != current.version:
        raise _stale()
    limit = changes.get("passenger_limit", current.passenger_limit)
    inspected = changes.get("inspected", current.inspected)
    check_six_pack(limit, inspected)
    changes["updated_at"] = timeutil.now_iso()
    changes["updated_by"] = by
    updated = get_store().boats.change(boat_id, changes, expected_version=current.version)
    if updated is None:
        raise _stale()
    return updated


def _stale() -> Conflict:
    return Conflict(
        "someone else changed this boat: reload it and try again", field="version", code="stale"
    )


def fit_trip(fields: dict[str, Any], current: Trip | None = None) -> dict[str, Any]:
    """The trip's fields with its boat applied: name and limit from `boat_id`, and the
    capacity checked against that limit (400 `over_boat_limit`).

    `current` is the stored trip when editing; `fields` holds what changes. A trip
    without a `boat_id` keeps its free-text boat and no limit of its own.
    """
    out = dict(fields)
    if "boat_id" in fields and fields["boat_id"] is None:
        out["boat_limit"] = None
        return out
    boat_id = fields.get("boat_id") or (current.boat_id if current else None)
    if boat_id is None:
        return out
    if "boat_id" not in fields and "capacity" not in fields:
        return out  # neither the boat nor the capacity changes
    boat = get_store().boats.get(boat_id)
    if boat is None:
        raise BadInput("boat_id names no boat of the fleet", field="boat_id", code="unknown_boat")
    capacity = fields.get("capacity", current.capacity if current else None)
    if capacity is not None and capacity > boat.passenger_limit:
        raise BadInput(
            f"capacity {capacity} is over {boat.name}'s limit of {boat.passenger_limit} passengers",
            field="capacity",
            code="over_boat_limit",
        )
    out["boat_id"] = boat.id
    out["boat"] = boat.name
    out["boat_limit"] = boat.passenger_limit
    return out
