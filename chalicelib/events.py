"""Trips on the water: create, list by date window, detail, edit, cancel.

An event item heads its own item collection (its payments and waivers share
its partition key), so detail is one Query; the date index makes a window
one Query per UTC year it touches.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws, config, table, timeutil
from chalicelib import validation as v
from chalicelib.errors import BadInput, Conflict, NotFound

EDITABLE_FIELDS = (
    "title",
    "starts_at",
    "ends_at",
    "boat",
    "capacity",
    "price_cents",
    "captain",
    "crew",
    "notes",
)
MAX_WINDOW_DAYS = 92
DEFAULT_WINDOW_DAYS = 7
MAX_PRICE_CENTS = 100_000_000
_INTERNAL = ("PK", "SK", "GSI1PK", "GSI1SK", "kind", table.TTL_ATTRIBUTE)


def _clean(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated event fields from a request body (only those present when partial)."""
    fields: dict[str, Any] = {}
    required = not partial

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
        fields["capacity"] = v.integer(body, "capacity", required=required, minimum=1, maximum=150)
        if fields["capacity"] is None:
            raise BadInput("capacity is required", field="capacity", code="required")
    if present("price_cents"):
        fields["price_cents"] = v.integer(body, "price_cents", minimum=0, maximum=MAX_PRICE_CENTS)
    if present("crew"):
        fields["crew"] = v.name_list(body, "crew") or []
    if present("notes"):
        fields["notes"] = v.text(body, "notes", max_len=2000, multiline=True)
    return fields


def _check_times(starts: datetime, ends: datetime) -> None:
    if ends <= starts:
        raise BadInput("ends_at must be after starts_at", field="ends_at")
    if ends - starts > timedelta(days=14):
        raise BadInput("a trip may last at most 14 days", field="ends_at")


def _date_keys(starts: datetime, event_id: str) -> dict[str, str]:
    return {
        "GSI1PK": table.date_bucket(starts.astimezone(UTC).year),
        "GSI1SK": f"{timeutil.utc_key(starts)}#{event_id}",
    }


def new_event_record(
    body: dict[str, Any], *, by: str, event_id: str | None = None
) -> dict[str, Any]:
    """A validated, scheduled trip as its stored item, ready to put."""
    v.reject_unknown(body, EDITABLE_FIELDS)
    fields = _clean(body, partial=False)
    _check_times(fields["starts_at"], fields["ends_at"])
    event_id = event_id or uuid.uuid4().hex
    stamp = timeutil.now_iso()
    return {
        "PK": table.event_pk(event_id),
        "SK": table.EVENT_SK,
        **_date_keys(fields["starts_at"], event_id),
        "kind": "event",
        "id": event_id,
        **_stored(fields),
        "status": "scheduled",
        "paid_cents": 0,
        "payment_count": 0,
        "waiver_count": 0,
        "version": 1,
        "created_at": stamp,
        "created_by": by,
        "updated_at": stamp,
    }


def create_event(body: dict[str, Any], *, by: str) -> dict[str, Any]:
    """Validate and store a new scheduled trip; returns the public event."""
    record = new_event_record(body, by=by)
    aws.dynamodb().put_item(
        TableName=config.table_name(),
        Item=table.to_item(record),
        ConditionExpression="attribute_not_exists(PK)",
    )
    return public_event(record)


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    for name in ("starts_at", "ends_at"):
        if isinstance(out.get(name), datetime):
            out[name] = timeutil.to_local_iso(out[name])
    return out


def public_event(item: dict[str, Any]) -> dict[str, Any]:
    """The Event of the API contract, from a stored item."""
    price = item.get("price_cents")
    paid = item.get("paid_cents", 0)
    return {
        "id": item["id"],
        "title": item["title"],
        "starts_at": item["starts_at"],
        "ends_at": item["ends_at"],
        "boat": item.get("boat"),
        "capacity": item.get("capacity"),
        "price_cents": price,
        "captain": item.get("captain"),
        "crew": item.get("crew") or [],
        "notes": item.get("notes"),
        "status": item.get("status", "scheduled"),
        "paid_cents": paid,
        "payment_count": item.get("payment_count", 0),
        "balance_cents": None if price is None else price - paid,
        "waiver_count": item.get("waiver_count", 0),
        "payment_logged": item.get("payment_logged"),
        "version": item.get("version", 1),
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
    }


def public_child(item: dict[str, Any]) -> dict[str, Any]:
    """A payment or waiver item without its storage keys and bookkeeping (`_`-prefixed)."""
    return {k: val for k, val in item.items() if k not in _INTERNAL and not k.startswith("_")}


def load_event(event_id: str) -> dict[str, Any]:
    """The stored event item (plain dict), or 404."""
    v.path_id(event_id)
    found = aws.dynamodb().get_item(
        TableName=config.table_name(),
        Key=table.to_item({"PK": table.event_pk(event_id), "SK": table.EVENT_SK}),
        ConsistentRead=True,
    )
    if "Item" not in found:
        raise NotFound("no such event", field="event_id")
    return table.from_item(found["Item"])


def get_event(event_id: str) -> dict[str, Any]:
    return public_event(load_event(event_id))


def event_detail(event_id: str) -> dict[str, Any]:
    """The event, its payments (oldest first) and its waivers, in one Query.

    Drawn signatures sort above DETAIL_SK_CEILING, so they never ride along.
    """
    v.path_id(event_id)
    items = query_all(
        KeyConditionExpression="PK = :pk AND SK < :ceiling",
        ExpressionAttributeValues={
            ":pk": table.to_value(table.event_pk(event_id)),
            ":ceiling": table.to_value(table.DETAIL_SK_CEILING),
        },
        ConsistentRead=True,
    )
    event = next((i for i in items if i["SK"] == table.EVENT_SK), None)
    if event is None:
        raise NotFound("no such event", field="event_id")
    payments = [public_child(i) for i in items if i["SK"].startswith(table.PAYMENT_PREFIX)]
    waivers = [public_child(i) for i in items if i["SK"].startswith(table.WAIVER_PREFIX)]
    payments.sort(key=lambda p: (_instant(p.get("logged_at")), p.get("id", "")))
    waivers.sort(key=lambda w: (_instant(w.get("signed_at")), w.get("id", "")))
    return {"event": public_event(event), "payments": payments, "waivers": waivers}


def _instant(stamp: str | None) -> datetime:
    # Offsets differ across a DST change, so compare instants, not strings.
    return datetime.fromisoformat(stamp) if stamp else datetime.min.replace(tzinfo=UTC)


def query_all(**kwargs: Any) -> list[dict[str, Any]]:
    """Every page of a Query on the table, as plain dicts."""
    client = aws.dynamodb()
    items: list[dict[str, Any]] = []
    while True:
        page = client.query(TableName=config.table_name(), **kwargs)
        items.extend(table.from_item(i) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def window(from_text: str | None, to_text: str | None) -> tuple[date, date]:
    """The board's dates: given, or today and the next six days in the operator's zone."""
    first = timeutil.parse_date(from_text, "from") if from_text else timeutil.today_local()
    if to_text:
        last = timeutil.parse_date(to_text, "to")
    else:
        last = first + timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    if last < first:
        raise BadInput("to must be on or after from", field="to")
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        raise BadInput(f"the window may span at most {MAX_WINDOW_DAYS} days", field="to")
    return first, last


def events_between(first: date, last: date) -> list[dict[str, Any]]:
    """Trips starting on the operator's dates first..last (inclusive), by start time."""
    start, end = timeutil.local_window(first, last)
    low = timeutil.utc_key(start)
    high = timeutil.utc_key(end - timedelta(seconds=1)) + "~"
    found: list[dict[str, Any]] = []
    for year in range(start.astimezone(UTC).year, end.astimezone(UTC).year + 1):
        found.extend(
            query_all(
                IndexName=table.DATE_INDEX,
                KeyConditionExpression="GSI1PK = :bucket AND GSI1SK BETWEEN :low AND :high",
                ExpressionAttributeValues={
                    ":bucket": table.to_value(table.date_bucket(year)),
                    ":low": table.to_value(low),
                    ":high": table.to_value(high),
                },
            )
        )
    found.sort(key=lambda item: item["GSI1SK"])
    return [public_event(item) for item in found]


def update_event(event_id: str, body: dict[str, Any], *, by: str) -> dict[str, Any]:
    """Edit fields of a trip; `version` must match the stored one (else 409)."""
    v.reject_unknown(body, (*EDITABLE_FIELDS, "version"))
    version = v.integer(body, "version", required=True, minimum=1)
    changes = _clean({k: val for k, val in body.items() if k != "version"}, partial=True)
    current = load_event(event_id)
    if current.get("status") == "cancelled":
        raise Conflict("this trip is cancelled and can no longer be edited", code="cancelled")
    if current["version"] != version:
        raise Conflict(
            "someone else changed this trip: reload it and try again", field="version", code="stale"
        )
    starts = changes.get("starts_at") or timeutil.parse_datetime(current["starts_at"], "starts_at")
    ends = changes.get("ends_at") or timeutil.parse_datetime(current["ends_at"], "ends_at")
    _check_times(starts, ends)
    stored = _stored(changes)
    stored["updated_at"] = timeutil.now_iso()
    stored["updated_by"] = by
    if "starts_at" in changes:
        stored.update(_date_keys(starts, event_id))
    return _apply_update(event_id, stored, expected_version=version)


def cancel_event(event_id: str, *, by: str) -> dict[str, Any]:
    """Mark a trip cancelled (its payments and waivers stay); cancelling twice is a no-op."""
    current = load_event(event_id)
    if current.get("status") == "cancelled":
        return public_event(current)
    changes = {"status": "cancelled", "updated_at": timeutil.now_iso(), "cancelled_by": by}
    return _apply_update(event_id, changes, expected_version=current["version"])


def _apply_update(event_id: str, changes: dict[str, Any], *, expected_version: int) -> dict:
    # A field set to None (e.g. notes cleared) is removed from the item.
    names = {f"#f{i}": name for i, name in enumerate(changes)}
    sets, removes, values = [], [], {}
    for i, val in enumerate(changes.values()):
        if val is None:
            removes.append(f"#f{i}")
        else:
            sets.append(f"#f{i} = :v{i}")
            values[f":v{i}"] = table.to_value(val)
    expression = "SET " + ", ".join([*sets, "version = version + :one"])
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    try:
        result = aws.dynamodb().update_item(
            TableName=config.table_name(),
            Key=table.to_item({"PK": table.event_pk(event_id), "SK": table.EVENT_SK}),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(PK) AND version = :expected",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                **values,
                ":one": table.to_value(1),
                ":expected": table.to_value(expected_version),
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise Conflict(
                "someone else changed this trip: reload it and try again",
                field="version",
                code="stale",
            ) from None
        raise
    return public_event(table.from_item(result["Attributes"]))
