"""A trip's activity: append-only entries in its partition, each written in the
same transaction as the change it records (so one never exists without the other)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import timeutil
from chalicelib.db import keys
from chalicelib.db.table import Table
from chalicelib.records import Kind
from chalicelib.trips.records import Activity


def activity_write(table: Table, entry: Activity) -> dict[str, Any]:
    """The Put of one activity entry, for the transaction of its change."""
    stamp = timeutil.utc_key(datetime.fromisoformat(entry.at))
    item = {
        **keys.activity_key(entry.trip_id, stamp, entry.id),
        "kind": str(Kind.ACTIVITY),
        **entry.attributes(),
    }
    return table.put_write(item, condition="attribute_not_exists(PK)")
