"""3. DynamoDB cost per request: calls and items examined, at two table sizes.

The same requests run against a table holding 1,000 trips and one holding
20,000 (seeded directly with BatchWriteItem in the events layout). A request
whose reads are keyed (a partition, a date range on the index) examines the
same items at both sizes; one that scans would grow with the table.

Items examined: ScannedCount for Query/Scan (what DynamoDB reads and bills,
before any filter), 1 per GetItem/PutItem/UpdateItem/DeleteItem, one per
item in a transaction. moto's ConsumedCapacity is a constant, so it is not used.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import common

GOAL_CALLS = 1
# Requests beyond the four with a goal: reported for the record.
EXTRA = (
    "login",
    "waiver_page",
    "waiver_record",
    "payments_csv",
    "authorizer",
    "tip",
    "refund",
    "cashup",
)
# Issue 15: these cost the same DynamoDB calls as logging a payment (its operations, each
# as many times).
LIKE_A_PAYMENT = ("tip", "refund")


def _background(count: int, seed: int) -> list[dict[str, Any]]:
    """Trips outside the board week: 2029-2033, a fifth of them in the board's own year."""
    rng = random.Random(seed)
    first = datetime(2029, 1, 1, 15, tzinfo=UTC)
    board_start = datetime.fromisoformat(common.BOARD_FIRST).replace(tzinfo=UTC) - timedelta(days=1)
    board_end = datetime.fromisoformat(common.BOARD_LAST).replace(tzinfo=UTC) + timedelta(days=2)
    trips = []
    while len(trips) < count:
        starts = first + timedelta(hours=rng.randrange(5 * 365 * 24))
        if board_start <= starts <= board_end:
            continue
        trips.append(common.trip_record(uuid.uuid4().hex, starts))
    return trips


@contextlib.contextmanager
def _fast_moto_puts() -> Iterator[None]:
    """Skip moto's per-attribute item-size check while seeding (it is quadratic in attributes).

    Seeded items are a few hundred bytes, far below DynamoDB's 400 KB limit the
    check enforces; the check is restored before anything is measured.
    """
    from moto.dynamodb.models import dynamo_type

    checked = dynamo_type.LimitedSizeDict.__setitem__
    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        dynamo_type.LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


def _measure(app_module: Any, event: dict[str, Any]) -> dict[str, Any]:
    from chalicelib import aws

    client = aws.dynamodb()
    log = common.CallLog()
    log.attach(client)
    try:
        answer = common.run_quietly(app_module.app, event)
    finally:
        log.detach(client)
    operations = Counter(call["operation"] for call in log.calls)
    return {
        "status": answer["statusCode"],
        "calls": len(log.calls),
        "operations": dict(operations),
        "items_examined": sum(common.items_examined(call) for call in log.calls),
        "scans": operations.get("Scan", 0),
    }


def _measure_authorizer(app_module: Any) -> dict[str, Any]:
    """One run of the crew authorizer (a Lambda of its own on AWS, run on every
    uncached token): its revocation check is one GetItem of the account."""
    from chalicelib import aws
    from chalicelib.crew import auth

    client = aws.dynamodb()
    token = auth.issue_token("Dana")["token"]
    request = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/api/events",
    }
    log = common.CallLog()
    log.attach(client)
    try:
        answer = app_module.crew(request, None)
    finally:
        log.detach(client)
    operations = Counter(call["operation"] for call in log.calls)
    allowed = answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    return {
        "status": 200 if allowed else 403,
        "calls": len(log.calls),
        "operations": dict(operations),
        "items_examined": sum(common.items_examined(call) for call in log.calls),
        "scans": operations.get("Scan", 0),
    }


def _extra_event(name: str, board_id: str, waiver_id: str | None) -> dict[str, Any]:
    if name == "tip":
        body = {**common.payment_body(), "kind": "tip", "tip_for": "crew"}
        return common.api_event(
            "POST", "/api/events/{event_id}/payments", {"event_id": board_id}, body=body
        )
    if name == "refund":
        body = {
            "refund_id": str(uuid.uuid4()),
            "amount_cents": 1500,
            "method": "cash",
            "reason": "trip cut short",
        }
        return common.api_event(
            "POST", "/api/events/{event_id}/refunds", {"event_id": board_id}, body=body
        )
    if name == "cashup":
        # The day the board trip's ten payments were logged: one Query of the day index.
        return common.api_event("GET", "/api/cashup", query={"date": common.PAYMENTS_DAY})
    if name == "login":
        return common.api_event(
            "POST", "/api/login", body={"password": common.PASSWORD}, principal=None
        )
    if name == "waiver_page":
        return common.api_event(
            "GET",
            "/g/{event_id}/waiver",
            {"event_id": board_id},
            headers={"accept": "text/html"},
            principal=None,
        )
    if name == "waiver_record":
        return common.api_event(
            "GET",
            "/api/events/{event_id}/waivers/{waiver_id}",
            {"event_id": board_id, "waiver_id": waiver_id or str(uuid.UUID(int=1000))},
        )
    return common.api_event(
        "GET", "/api/payments.csv", query={"from": common.BOARD_FIRST, "to": common.BOARD_LAST}
    )


def _one_size(trips: int) -> dict[str, Any]:
    from chalicelib import aws

    with common.app_on_moto(common.password_hash()) as app_module:
        client = aws.dynamodb()
        board = common.board_trips(50)
        board_id = board[0]["id"]
        # The measured trip: its ten seeded payments paid, and three crew for a tip.
        crew = {uuid.uuid4().hex: name for name in ("Jo", "Sam", "Lee")}
        board[0].update(paid_cents=60_000, payment_count=10, crew_ids=sorted(crew))
        board[0]["crew_names"] = crew
        common.progress(f"cost: seeding {trips:,} trips")
        common.batch_write(client, board + common.children(board_id))
        with _fast_moto_puts():
            common.batch_write(client, _background(trips - len(board), seed=trips))
        found = client.describe_table(TableName=common.TABLE_NAME)["Table"]["ItemCount"]
        common.progress(f"cost: measuring with {trips:,} trips ({found:,} items)")
        measured: dict[str, Any] = {"trips": trips, "items_in_table": found}
        for name in common.SCENARIOS:
            measured[name] = _measure(app_module, common.request_event(name, board_id))
        waiver_id = None
        if measured["waiver"]["status"] == 201:
            waiver_id = _last_waiver_id(client, board_id)
        for name in EXTRA:
            if name == "authorizer":
                measured[name] = _measure_authorizer(app_module)
                continue
            measured[name] = _measure(app_module, _extra_event(name, board_id, waiver_id))
    return measured


def _last_waiver_id(client: Any, board_id: str) -> str | None:
    from chalicelib.db import codec, keys

    found = client.query(
        TableName=common.TABLE_NAME,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :w)",
        ExpressionAttributeValues={
            ":pk": codec.to_value(keys.trip_pk(board_id)),
            ":w": codec.to_value(keys.WAIVER_PREFIX),
        },
    )
    ids = [codec.from_item(i)["id"] for i in found["Items"] if "Guest" not in str(i)]
    return ids[-1] if ids else None


def run(sizes: tuple[int, ...] = (1_000, 20_000)) -> dict[str, Any]:
    """Calls and items examined per request at each table size, and whether they held."""
    by_size = [_one_size(n) for n in sizes]
    small, large = by_size[0], by_size[-1]
    summary = {}
    for name in (*common.SCENARIOS, *EXTRA):
        summary[name] = {
            "calls": large[name]["calls"],
            "operations": large[name]["operations"],
            "items_small": small[name]["items_examined"],
            "items_large": large[name]["items_examined"],
            "status": large[name]["status"],
            "same_items": small[name]["items_examined"] == large[name]["items_examined"],
            "one_call": large[name]["calls"] <= GOAL_CALLS,
            "scans": large[name]["scans"],
        }
        if name in LIKE_A_PAYMENT:
            summary[name]["same_calls_as_payment"] = (
                large[name]["operations"] == large["payment"]["operations"]
            )
    return {"sizes": list(sizes), "requests": summary, "runs": by_size}
