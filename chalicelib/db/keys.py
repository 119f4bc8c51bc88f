"""The key layout of the single-table design: one partition (item collection) per trip.

    PK = EVENT#<trip>   SK = EVENT           the trip and its running totals
                        SK = PAY#<pid>       a payment: fare or tip (append-only; voids mark it)
                        SK = RECEIPT#<pid>   a payment's patron receipt (owes its email)
                        SK = REFUND#<rid>    money handed back (append-only; voids mark it)
                        SK = WAIVER#<wid>    a signed waiver (immutable)
                        SK = XSIG#<wid>      a drawn signature, kept out of detail reads
                        SK = BOARD#<wid>#<n> person n of a waiver marked aboard or ashore
                        SK = DEPART          the departure and its manifest (owes an email)
                        SK = WATCH           the float-plan watch while the trip is out
                        SK = NOTICE#OVERDUE  the overdue email to the shore contacts
                        SK = NOTICE#BACK     the all-back email after an overdue one
    PK = BOATS          SK = BOAT#<id>       the fleet: one small partition, one Query
                        SK = ACT#<utc>#<id>  an activity entry (append-only)
    PK = THROTTLE#<scope>#<source>           failed-attempt counters (expire by TTL)
    PK = ACCOUNT#<id>       SK = ACCOUNT     a crew account (GSI1PK = ACCOUNTS lists them)
    PK = USERNAME#<name>    SK = USERNAME    holds a username for one account (uniqueness)
    PK = SETUP#<sha256>     SK = SETUP       a one-time setup code, hashed (expires by TTL)

The day index (GSI2) holds the ledger's payments and refunds by the operator's date
they were logged: GSI2PK = LEDGER#<yyyy-mm> (the month), GSI2SK =
<yyyy-mm-dd>#<utc>#<PK>#<SK>. The money that changed hands on a day (the cash-up)
is one Query of the month's partition on the date's prefix, whatever the trips'
dates; voids change the entry in place, so the index sees them.

The date index (GSI1) buckets trips by the UTC year they start in and sorts them
by start time, so a date window is one Query whose cost grows with the trips
returned, not with the table. Items that owe an email sit on the index's sparse
OUTBOX partition, sorted by when they are due. The stored names say "EVENT"
(the API's word for a trip), so existing tables keep working.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

DATE_INDEX = "GSI1"
LEDGER_DAY_INDEX = "GSI2"
TTL_ATTRIBUTE = "expires_at_epoch"
TRIP_SK = "EVENT"
PAYMENT_PREFIX = "PAY#"
RECEIPT_PREFIX = "RECEIPT#"
REFUND_PREFIX = "REFUND#"
# A trip's ledger (payments, receipts, refunds) is the SK range PAY# .. REFUND#~: no
# other item of a trip sorts between them, so the ledger is one Query per trip.
LEDGER_SK_LOW = PAYMENT_PREFIX
LEDGER_SK_HIGH = REFUND_PREFIX + "~"
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
BOATS_PK = "BOATS"
BOAT_PREFIX = "BOAT#"
BOARDING_PREFIX = "BOARD#"
DEPARTURE_SK = "DEPART"
WATCH_SK = "WATCH"
OVERDUE_SK = "NOTICE#OVERDUE"
ALL_BACK_SK = "NOTICE#BACK"
# The date index's sparse partition of trips afloat, sorted by when each turns overdue.
AFLOAT = "AFLOAT"
# Storage and index attributes: never part of a record.
KEY_ATTRIBUTES = frozenset(
    {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "kind", TTL_ATTRIBUTE}
)

Key = dict[str, str]


def trip_pk(trip_id: str) -> str:
    return f"EVENT#{trip_id}"


def trip_key(trip_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": TRIP_SK}


def payment_key(trip_id: str, payment_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": PAYMENT_PREFIX + payment_id}


def receipt_key(trip_id: str, payment_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": RECEIPT_PREFIX + payment_id}


def refund_key(trip_id: str, refund_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": REFUND_PREFIX + refund_id}


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


def ledger_month(day: date) -> str:
    """The day index's partition of a month's ledger entries."""
    return f"LEDGER#{day:%Y-%m}"


def ledger_day_prefix(day: date) -> str:
    """Every day-index sort key of entries logged on `day` starts with this."""
    return f"{day.isoformat()}#"


def ledger_day_fields(logged_at: str, key: Key) -> dict[str, str]:
    """An entry's place on the day index. `logged_at` is stored with the operator's
    offset (chalicelib/timeutil.py), so its date is the operator's date it was logged."""
    moment = datetime.fromisoformat(logged_at)
    utc = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "GSI2PK": ledger_month(moment.date()),
        "GSI2SK": f"{ledger_day_prefix(moment.date())}{utc}#{key['PK']}#{key['SK']}",
    }


def outbox_marker(due_utc_stamp: str, key: Key) -> str:
    """The outbox index's sort key: due time first, so 'what is due' is a range."""
    return f"{due_utc_stamp}#{key['PK']}#{key['SK']}"


def boat_key(boat_id: str) -> Key:
    return {"PK": BOATS_PK, "SK": BOAT_PREFIX + boat_id}


def boarding_key(trip_id: str, waiver_id: str, person: int) -> Key:
    return {"PK": trip_pk(trip_id), "SK": f"{BOARDING_PREFIX}{waiver_id}#{person:02d}"}


def departure_key(trip_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": DEPARTURE_SK}


def watch_key(trip_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": WATCH_SK}


def notice_key(trip_id: str, sk: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": sk}


def watch_marker(overdue_utc_stamp: str, trip_id: str) -> str:
    """The AFLOAT partition's sort key: when the trip turns overdue, then which trip."""
    return f"{overdue_utc_stamp}#{trip_id}"


def activity_key(trip_id: str, utc_stamp: str, activity_id: str) -> Key:
    return {"PK": trip_pk(trip_id), "SK": f"{ACTIVITY_PREFIX}{utc_stamp}#{activity_id}"}


def account_key(account_id: str) -> Key:
    return {"PK": f"ACCOUNT#{account_id}", "SK": ACCOUNT_SK}


def username_key(username: str) -> Key:
    return {"PK": f"USERNAME#{username}", "SK": "USERNAME"}


def setup_key(code_sha256: str) -> Key:
    return {"PK": f"SETUP#{code_sha256}", "SK": "SETUP"}
