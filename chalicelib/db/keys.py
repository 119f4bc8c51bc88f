"""The key layout of the single-table design: one partition (item collection) per trip.

    PK = EVENT#<trip>   SK = EVENT           the trip and its running totals
                        SK = PAY#<pid>       a payment (append-only; voids mark it)
                        SK = WAIVER#<wid>    a signed waiver (immutable)
                        SK = XSIG#<wid>      a drawn signature, kept out of detail reads
                        SK = ACT#<utc>#<id>  an activity entry (append-only)
    PK = THROTTLE#<scope>#<source>           failed-attempt counters (expire by TTL)
    PK = ACCOUNT#<id>       SK = ACCOUNT     a crew account (GSI1PK = ACCOUNTS lists them)
    PK = USERNAME#<name>    SK = USERNAME    holds a username for one account (uniqueness)
    PK = SETUP#<sha256>     SK = SETUP       a one-time setup code, hashed (expires by TTL)

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
ACTIVITY_PREFIX = "ACT#"
ACCOUNT_SK = "ACCOUNT"
# The date index's sparse partition that lists every account, sorted by username.
ACCOUNTS = "ACCOUNTS"
# The break-glass owner (ADMIN_PASS_HASH) has no account, only its token version here.
ADMIN_ACCOUNT_ID = "admin"
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


def activity_key(trip_id: str, utc_stamp: str, activity_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": f"{ACTIVITY_PREFIX}{utc_stamp}#{activity_id}"}


def account_key(account_id: str) -> Key:
    return {"PK": f"ACCOUNT#{account_id}", "SK": ACCOUNT_SK}


def username_key(username: str) -> Key:
    return {"PK": f"USERNAME#{username}", "SK": "USERNAME"}


def setup_key(code_sha256: str) -> Key:
    return {"PK": f"SETUP#{code_sha256}", "SK": "SETUP"}
