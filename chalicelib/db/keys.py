"""The key layout of the single-table design: one partition (item collection) per trip.

    PK = EVENT#<trip>   SK = EVENT           the trip and its running totals
                        SK = PAY#<pid>       a payment (append-only; voids mark it)
                        SK = WAIVER#<wid>    a signed waiver (immutable)
                        SK = XSIG#<wid>      a drawn signature, kept out of detail reads
    PK = THROTTLE#<scope>#<source>           failed-attempt counters (expire by TTL)

The date index (GSI1) buckets trips by the UTC year they start in and sorts them
by start time, so a date window is one Query whose cost grows with the trips
returned, not with the table. Items that owe an email sit on the index's sparse
OUTBOX partition, sorted by when they are due. The stored names say "EVENT"
(the API's word for a trip), so existing tables keep working.
"""

from __future__ import annotations

DATE_INDEX = "GSI1"
TTL_ATTRIBUTE = "expires_at_epoch"
TRIP_SK = "EVENT"
PAYMENT_PREFIX = "PAY#"
WAIVER_PREFIX = "WAIVER#"
SIGNATURE_PREFIX = "XSIG#"
# Every SK a trip-detail Query should load sorts below this; signatures sort above.
DETAIL_SK_CEILING = "X"
OUTBOX = "OUTBOX"
# Storage and index attributes: never part of a record.
KEY_ATTRIBUTES = frozenset({"PK", "SK", "GSI1PK", "GSI1SK", "kind", TTL_ATTRIBUTE})

Key = dict[str, str]


def trip_pk(trip_id: str) -> str:
    return f"EVENT#{trip_id}"


def trip_key(trip_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": TRIP_SK}


def payment_key(trip_id: str, payment_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": PAYMENT_PREFIX + payment_id}


def waiver_key(trip_id: str, waiver_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": WAIVER_PREFIX + waiver_id}


def signature_key(trip_id: str, waiver_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": SIGNATURE_PREFIX + waiver_id}


def counter_key(scope: str, source: str) -> Key:
    return {"PK": f"THROTTLE#{scope}#{source}", "SK": "THROTTLE"}


def date_bucket(year: int) -> str:
    return f"YEAR#{year:04d}"


def date_sort_key(utc_stamp: str, trip_id: str) -> str:
    return f"{utc_stamp}#{trip_id}"


def outbox_marker(due_utc_stamp: str, key: Key) -> str:
    """The outbox index's sort key: due time first, so 'what is due' is a range."""
    return f"{due_utc_stamp}#{key['PK']}#{key['SK']}"
