"""Attempt counters (login failures, waiver posts) per scope and source, expired by TTL."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.db import keys
from chalicelib.db.table import Part, Update


@dataclass(frozen=True)
class Counter:
    count: int
    window_start: int  # epoch seconds of the first attempt in the window


class Counters(Part):
    def get(self, scope: str, source: str) -> Counter | None:
        item = self.table.get(keys.counter_key(scope, source))
        return Counter(item["count"], item["window_start"]) if item else None

    def add(self, scope: str, source: str, *, now: int, window_seconds: int) -> Counter:
        """Count one attempt in the current window (a stale window starts afresh)."""
        key = keys.counter_key(scope, source)
        expires = now + window_seconds + 60
        counted = self.table.update(
            key,
            Update(
                "ADD #count :one SET window_start = if_not_exists(window_start, :now),"
                " #ttl = if_not_exists(#ttl, :expires)",
                # A counter whose window has passed is started afresh below.
                condition="attribute_not_exists(PK) OR window_start > :stale",
                names={"#count": "count", "#ttl": keys.TTL_ATTRIBUTE},
                values={
                    ":one": 1,
                    ":now": now,
                    ":stale": now - window_seconds,
                    ":expires": expires,
                },
            ),
        )
        if counted is not None:
            return Counter(counted["count"], counted["window_start"])
        self.table.put({**key, "count": 1, "window_start": now, keys.TTL_ATTRIBUTE: expires})
        return Counter(1, now)

    def take_back(self, scope: str, source: str) -> None:
        """Uncount one attempt (it turned out not to be a failure)."""
        self.table.update(
            keys.counter_key(scope, source),
            Update(
                "ADD #count :minus_one",
                condition="attribute_exists(PK) AND #count > :zero",
                names={"#count": "count"},
                values={":minus_one": -1, ":zero": 0},
            ),
            answer=False,
        )

    def clear(self, scope: str, source: str) -> None:
        self.table.delete(keys.counter_key(scope, source))
