"""Time in the operator's zone: parsing what clients send, formatting what we store.

Every time leaves the API as ISO 8601 with the operator's offset; sort keys use
UTC so that ordering is plain string ordering.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from chalicelib import config
from chalicelib.errors import BadInput

# The years a client may name. Python's dates end at years 1 and 9999, where a day
# after, a UTC conversion or a window's end overflows (a 500); no charter is outside.
FIRST_YEAR = 2000
LAST_YEAR = 2100


def now() -> datetime:
    """The current instant (aware, UTC). Tests move the clock by patching this."""
    return datetime.now(UTC)


def today_local() -> date:
    return now().astimezone(config.operator_tz()).date()


def to_local_iso(moment: datetime) -> str:
    return moment.astimezone(config.operator_tz()).isoformat(timespec="seconds")


def now_iso() -> str:
    return to_local_iso(now())


def utc_key(moment: datetime) -> str:
    """A sortable UTC stamp for keys: 2026-11-26T17:00:00Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: object, field: str) -> datetime:
    """An ISO 8601 time from a client; one without an offset is in the operator's zone."""
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{field} must be an ISO 8601 date and time", field=field)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"{field} is not a real ISO 8601 time (e.g. 2026-07-04T17:30:00-07:00)", field=field
        ) from None
    if len(text) < 16 or "T" not in text.upper():
        raise BadInput(f"{field} needs a date and a time, not only a date", field=field)
    _check_year(moment.year, field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.operator_tz())
    return moment


def parse_date(value: object, field: str) -> date:
    """A calendar date from a client (YYYY-MM-DD)."""
    if not isinstance(value, str):
        raise BadInput(f"{field} must be a date like 2026-07-04", field=field)
    try:
        if len(value) != 10:
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{field} must be a real date like 2026-07-04", field=field) from None
    _check_year(day.year, field)
    return day


def _check_year(year: int, field: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadInput(f"{field} must be in the years {FIRST_YEAR} to {LAST_YEAR}", field=field)


def local_day_start(day: date) -> datetime:
    """The instant the operator's day begins (zoneinfo handles DST days)."""
    return datetime.combine(day, time(0), tzinfo=config.operator_tz())


def local_window(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in the operator's zone."""
    return local_day_start(first), local_day_start(last + timedelta(days=1))


# --- For people (pages and emails), in the operator's zone -------------------------


def local(stamp: str) -> datetime:
    """A stored ISO time in the operator's zone."""
    return datetime.fromisoformat(stamp).astimezone(config.operator_tz())


def instant(stamp: str | None) -> datetime:
    """A sort key for stored times: offsets differ across a DST change, so compare instants."""
    return datetime.fromisoformat(stamp) if stamp else datetime.min.replace(tzinfo=UTC)


def human_day(moment: datetime) -> str:
    """'Saturday, November 28, 2026'."""
    return f"{moment:%A}, {moment:%B} {moment.day}, {moment.year}"


def human_time(moment: datetime) -> str:
    """'5:30 PM'."""
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def short_day(moment: datetime) -> str:
    """'Sat Nov 28'."""
    return f"{moment:%a %b} {moment.day}"


def human_span(starts_at: str, ends_at: str) -> str:
    """'Saturday, November 28, 2026, 5:30 PM – 7:30 PM PST' in the operator's zone."""
    starts, ends = local(starts_at), local(ends_at)
    if starts.date() == ends.date():
        end_text = human_time(ends)
    else:
        end_text = f"{human_day(ends)}, {human_time(ends)}"
    return f"{human_day(starts)}, {human_time(starts)} – {end_text} {ends.tzname()}"


def human_stamp(stamp: str) -> str:
    """'Thursday, November 26, 2026 at 9:05 AM PST' in the operator's zone."""
    moment = local(stamp)
    return f"{human_day(moment)} at {human_time(moment)} {moment.tzname()}"
