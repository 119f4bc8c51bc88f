"""The fleet: boats under one small partition of their own, listed with one Query."""

from __future__ import annotations

from typing import Any

from chalicelib.db import keys
from chalicelib.db.table import Part, versioned
from chalicelib.records import Kind
from chalicelib.trips.records import Boat


class Boats(Part):
    def add(self, boat: Boat) -> bool:
        """Store a new boat; False when its id is taken."""
        item = {**keys.boat_key(boat.id), "kind": str(Kind.BOAT), **boat.attributes()}
        return self.table.put(item, condition="attribute_not_exists(PK)")

    def get(self, boat_id: str) -> Boat | None:
        item = self.table.get(keys.boat_key(boat_id))
        return Boat.from_item(item) if item else None

    def all(self) -> list[Boat]:
        """Every boat (one Query on the fleet's partition), by name."""
        items = self.table.query(
            "PK = :pk AND begins_with(SK, :prefix)",
            {":pk": keys.BOATS_PK, ":prefix": keys.BOAT_PREFIX},
        )
        return sorted((Boat.from_item(i) for i in items), key=lambda b: (b.name.lower(), b.id))

    def change(
        self, boat_id: str, changes: dict[str, Any], *, expected_version: int
    ) -> Boat | None:
        """Set (None: remove) fields and bump the version if it is still the one read.

        None when the boat is gone or someone else changed it first.
        """
        updated = self.table.update(keys.boat_key(boat_id), versioned(changes, expected_version))
        return Boat.from_item(updated) if updated is not None else None
