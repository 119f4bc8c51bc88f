"""What every benchmark shares: settings, Lambda events, statistics, seeding, call logs."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import statistics
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TABLE_NAME = "shipcaptaincrew-bench"
SIGNING_KEY = "bench-signing-key-that-is-long-enough-for-hs256"
PASSWORD = "bench password for the crew"  # noqa: S105 (emulator-only fixture)
SENDER = "dispatch@shipcaptaincrew.example"
CREW = ("crew@shipcaptaincrew.example", "captain@shipcaptaincrew.example")
OPERATOR_TZ = "America/Los_Angeles"
# The board week used by every benchmark: far from "today", so nothing else lands in it.
BOARD_FIRST = "2031-07-07"
BOARD_LAST = "2031-07-13"


def fake_credentials() -> dict[str, str]:
    """Credentials that can only ever reach an emulator or a stub."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def app_settings(password_hash: str | None = None) -> dict[str, str]:
    """The environment a deployed stage gives the Lambda function (secrets inline)."""
    env = {
        "STAGE": "bench",
        "APP_VERSION": "bench",
        "TABLE_NAME": TABLE_NAME,
        "OPERATOR_TZ": OPERATOR_TZ,
        "TOKEN_TTL_HOURS": "12",
        "SENDER_EMAIL": SENDER,
        "CREW_NOTIFY_EMAILS": ",".join(CREW),
        "TOKEN_SIGNING_KEY": SIGNING_KEY,
    }
    if password_hash:
        env["ADMIN_PASS_HASH"] = password_hash
    return env


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for a block, dropping any emulator endpoint first."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE":
            del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """The app logs one JSON line per request to stdout; keep them out of the table."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


# --- Lambda events ---------------------------------------------------------------


def lambda_context() -> Any:
    """Enough of a Lambda context object for Chalice."""
    return SimpleNamespace(
        aws_request_id=str(uuid.uuid4()),
        function_name="shipcaptaincrew-bench",
        memory_limit_in_mb=512,
        get_remaining_time_in_millis=lambda: 30_000,
    )


def api_event(
    method: str,
    resource: str,
    params: dict[str, str] | None = None,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    principal: str | None = "Dana",
    source_ip: str = "198.51.100.10",
    role: str = "owner",
    account_id: str = "admin",
) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event as the route's Lambda function receives it.

    The crew authorizer is a separate Lambda in AWS; by the time the route runs,
    API Gateway has put its principal and context (role, account) into
    requestContext.authorizer. The default is the break-glass owner.
    """
    params = params or {}
    path = resource.format(**params)
    sent = {"content-type": "application/json", "x-forwarded-for": source_ip}
    sent.update(headers or {})
    raw = body if body is None or isinstance(body, str) else json.dumps(body)
    context: dict[str, Any] = {
        "resourcePath": resource,
        "httpMethod": method,
        "path": "/api" + path,
        "stage": "api",
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": source_ip, "userAgent": "bench"},
    }
    if principal:
        context["authorizer"] = {
            "principalId": principal,
            "role": role,
            "account_id": account_id,
        }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": context,
        "body": raw,
        "isBase64Encoded": False,
    }


def authorizer_event(token: str, resource: str = "/api/events/{event_id}") -> dict[str, Any]:
    """The TOKEN event API Gateway sends the crew authorizer."""
    arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/GET" + resource
    return {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": arn}


def crew_token(name: str = "Dana", *, key: str = SIGNING_KEY, valid_for: int = 3600) -> str:
    """A crew token as /api/login issues it."""
    import jwt

    issued = datetime.now(UTC)
    claims = {
        "sub": name,
        "iss": "shipcaptaincrew",
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=valid_for)).timestamp()),
        "jti": uuid.uuid4().hex[:16],
    }
    return jwt.encode(claims, key, algorithm="HS256")


def password_hash() -> str:
    """The crew password's bcrypt hash (cost 4: logins are counted here, not timed)."""
    import bcrypt

    return bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()


# --- Statistics -------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 200 samples is the 198th)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")


# --- Seeding ----------------------------------------------------------------------


def trip_record(event_id: str, starts: datetime, **extra: Any) -> dict[str, Any]:
    """A stored trip item: the tests' trip body, made a record by the app's own schedule.new_trip
    and laid out by its store."""
    from zoneinfo import ZoneInfo

    from chalicelib.db import keys
    from chalicelib.db.trips import trip_item
    from chalicelib.trips import schedule
    from tests.bodies import trip_body

    zone = ZoneInfo(OPERATOR_TZ)
    body = trip_body(
        starts_at=starts.astimezone(zone).isoformat(timespec="seconds"),
        ends_at=(starts + timedelta(hours=2)).astimezone(zone).isoformat(timespec="seconds"),
    )
    record = trip_item(schedule.new_trip(body, by="bench", trip_id=event_id))
    record.update(extra)
    assert record["PK"] == keys.trip_pk(event_id)
    return record


def batch_write(client: Any, records: list[dict[str, Any]], table_name: str = TABLE_NAME) -> None:
    """Put records with BatchWriteItem, 25 at a time, retrying what comes back unprocessed."""
    from chalicelib.db import codec

    for start in range(0, len(records), 25):
        requests = [{"PutRequest": {"Item": codec.to_item(r)}} for r in records[start : start + 25]]
        pending = {table_name: requests}
        while pending:
            answer = client.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}


# --- AWS call logs ----------------------------------------------------------------


class CallLog:
    """Every AWS call a botocore client makes: operation, parameters, parsed answer.

    Hooked on the client's own events, so it sees the app's calls through
    chalicelib.aws without touching the app.
    """

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build", self._before)
        client.meta.events.register("after-call", self._after)

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-parameter-build", self._before)
        client.meta.events.unregister("after-call", self._after)

    def _before(self, params: dict, model: Any, **_: Any) -> None:
        self._pending.append(
            {
                "service": model.service_model.service_name,
                "operation": model.name,
                "params": copy.deepcopy(params),
            }
        )

    def _after(self, parsed: dict, model: Any, http_response: Any = None, **_: Any) -> None:
        call = self._pending.pop() if self._pending else {"operation": model.name, "params": {}}
        call["response"] = copy.deepcopy(parsed)
        call["status"] = getattr(http_response, "status_code", None)
        self.calls.append(call)

    def clear(self) -> None:
        self.calls.clear()
        self._pending.clear()


def items_examined(call: dict[str, Any]) -> int:
    """Items DynamoDB read or wrote to answer one call (what capacity is billed on)."""
    op = call["operation"]
    response = call.get("response") or {}
    params = call.get("params") or {}
    if op in ("Query", "Scan"):
        return int(response.get("ScannedCount", response.get("Count", 0)))
    if op in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        return 1
    if op in ("TransactWriteItems", "TransactGetItems"):
        return len(params.get("TransactItems", []))
    if op == "BatchGetItem":
        return sum(len(v) for v in (response.get("Responses") or {}).values())
    if op == "BatchWriteItem":
        return sum(len(v) for v in (params.get("RequestItems") or {}).values())
    return 0


def run_quietly(handler: Any, event: dict[str, Any]) -> dict[str, Any]:
    """Call a Lambda handler with its stdout (the request log line) discarded."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        return handler(event, lambda_context())


def progress(message: str) -> None:
    """One progress line on stderr, so stdout keeps only the table."""
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


# --- The app on moto, in-process ------------------------------------------------------


@contextlib.contextmanager
def app_on_moto(password: str | None = None) -> Iterator[Any]:
    """The app module with moto's AWS in this process: table created, sender verified.

    Yields the imported `app` module. Clients are made inside the mock (a client
    made before it would not be mocked) and forgotten afterwards.
    """
    from moto import mock_aws

    from chalicelib import aws, config
    from chalicelib.db import schema

    with environment({**fake_credentials(), **app_settings(password)}), mock_aws():
        aws.reset()
        config.reset()
        schema.create_table(aws.dynamodb(), TABLE_NAME)
        ses = aws.client("ses")
        for address in (SENDER, *CREW):
            ses.verify_email_identity(EmailAddress=address)
        import app

        try:
            yield app
        finally:
            aws.reset()
            config.reset()


def board_trips(count: int = 50) -> list[dict[str, Any]]:
    """`count` trips spread over the board week (several a day, 7am to 7pm local)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(OPERATOR_TZ)
    first = datetime.fromisoformat(BOARD_FIRST).replace(tzinfo=zone)
    trips = []
    for n in range(count):
        day, slot = divmod(n, max(1, -(-count // 7)))
        starts = first + timedelta(days=day % 7, hours=7 + slot * 12 / max(1, -(-count // 7)))
        trips.append(trip_record(uuid.uuid4().hex, starts))
    return trips


def payment_item(event_id: str, payment_id: str, n: int, logged_at: datetime) -> dict[str, Any]:
    """A stored payment (already emailed), as the app's store lays it out."""
    from chalicelib.db import keys
    from chalicelib.money.records import Payment, PaymentMethod
    from chalicelib.records import Kind, Notification

    payment = Payment(
        id=payment_id,
        trip_id=event_id,
        patron_name=f"Patron {n}",
        amount_cents=6000,
        method=PaymentMethod.CASH,
        note=None,
        logged_at=logged_at.isoformat(),
        logged_by="Dana",
        notification=Notification.SENT,
    )
    key = keys.payment_key(event_id, payment_id)
    return {
        **key,
        "kind": str(Kind.PAYMENT),
        **payment.attributes(),
        **keys.ledger_day_fields(payment.logged_at, key),
    }


def waiver_item(event_id: str, waiver_id: str, n: int, signed_at: datetime) -> dict[str, Any]:
    """A stored signed waiver (already emailed): the tests' waiver, signed by guest n."""
    from chalicelib.db import keys
    from chalicelib.records import Kind, Notification
    from chalicelib.waivers.records import Waiver
    from tests.bodies import WAIVER

    person = {k: WAIVER[k] for k in ("phone", "date_of_birth", "emergency_name", "emergency_phone")}
    waiver = Waiver(
        id=waiver_id,
        trip_id=event_id,
        full_name=f"Guest {n}",
        email=f"guest{n}@example.com",
        **person,
        minors=[],
        signature=f"Guest {n}",
        people_covered=1,
        waiver_version="v1",
        waiver_sha256="0" * 64,
        signed_at=signed_at.isoformat(),
        drawn_signature=True,
        notification=Notification.SENT,
    )
    return {
        **keys.waiver_key(event_id, waiver_id),
        "kind": str(Kind.WAIVER),
        **waiver.attributes(),
    }


# The day the seeded payments were logged on (stored in UTC, so it is their date).
PAYMENTS_DAY = "2031-07-01"


def children(event_id: str, payments: int = 10, waivers: int = 10) -> list[dict[str, Any]]:
    """Payments, waivers and drawn signatures stored in a trip's partition."""
    from chalicelib.db import keys

    base = datetime.fromisoformat(f"{PAYMENTS_DAY}T12:00:00+00:00")
    items: list[dict[str, Any]] = []
    for n in range(payments):
        pid = str(uuid.UUID(int=n + 1))
        items.append(payment_item(event_id, pid, n, base + timedelta(minutes=n)))
    for n in range(waivers):
        wid = str(uuid.UUID(int=1000 + n))
        items.append(waiver_item(event_id, wid, n, base + timedelta(minutes=n)))
        items.append(
            {
                **keys.signature_key(event_id, wid),
                "kind": "waiver_signature",
                "png": "x" * 4000,
            }
        )
    return items


def payment_body(payment_id: str | None = None) -> dict[str, Any]:
    return {
        "payment_id": payment_id or str(uuid.uuid4()),
        "patron_name": "Alex Rivera",
        "amount_cents": 6000,
        "method": "card",
        "note": "deposit",
    }


def waiver_body(name: str = "Jordan Lee") -> dict[str, Any]:
    """A complete JSON signing of the waiver by an adult (the tests' waiver)."""
    from tests.bodies import WAIVER

    return {**WAIVER, "full_name": name, "signature": name}


SCENARIOS = ("board", "detail", "payment", "waiver")


def request_event(name: str, board_id: str) -> dict[str, Any]:
    """A fresh Lambda event for one measured request (new ids, new source address)."""
    if name == "board":
        return api_event("GET", "/api/events", query={"from": BOARD_FIRST, "to": BOARD_LAST})
    if name == "detail":
        return api_event("GET", "/api/events/{event_id}", {"event_id": board_id})
    if name == "payment":
        return api_event(
            "POST", "/api/events/{event_id}/payments", {"event_id": board_id}, body=payment_body()
        )
    if name == "waiver":
        # A new address each time: the signing throttle counts per address.
        address = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
        return api_event(
            "POST",
            "/g/{event_id}/waiver",
            {"event_id": board_id},
            body=waiver_body(),
            headers={"accept": "application/json", "user-agent": "bench"},
            principal=None,
            source_ip=address,
        )
    raise ValueError(name)
