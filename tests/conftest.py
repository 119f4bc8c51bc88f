"""Shared fixtures: moto's AWS (real API shapes), the table, and the app over HTTP.

Tests run the app as the `test` stage of .chalice/config.json: the `local` stage
points boto3 at the local stack's emulator, while here moto's `mock_aws`
intercepts calls in-process.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import aws as app_aws
from chalicelib import config, timeutil
from chalicelib.db import codec, keys, schema
from tests.bodies import ANA, WAIVER, trip_body

TEST_PASSWORD = "correct horse battery staple"
# Cost 4 keeps the suite fast; production hashes use bcrypt's default cost.
TEST_PASSWORD_HASH = bcrypt.hashpw(TEST_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
TEST_SIGNING_KEY = "test-signing-key-that-is-long-enough-for-hs256"
ACCOUNT_PASSWORD = "a deckhand's own password"
TABLE_NAME = "shipcaptaincrew-test"
SENDER = "dispatch@shipcaptaincrew.example"
CREW = ("crew@shipcaptaincrew.example", "captain@shipcaptaincrew.example")

# What CloudFront adds to every request it sends the API (the local edge does too).
ORIGIN_VERIFY_SECRET = json.loads(
    (Path(__file__).resolve().parents[1] / ".chalice" / "config.json").read_text()
)["stages"]["test"]["environment_variables"]["ORIGIN_VERIFY_SECRET"]


def from_viewer(address: str, port: int = 50123) -> dict[str, str]:
    """Headers of a request CloudFront relays from a viewer at `address`: its
    viewer-address header and the origin-verify secret that makes the app trust it."""
    return {
        "cloudfront-viewer-address": f"{address}:{port}",
        "x-origin-verify": ORIGIN_VERIFY_SECRET,
    }


# Every (service, operation) the app's own clients made during this run; the
# IAM policy test (run last) checks that the prod policy grants each one.
RECORDED_AWS_CALLS: set[tuple[str, str]] = set()
# The same per Lambda function (issue 22: each has its own policy), with the secret
# each GetSecretValue read and the item kinds of each transaction:
# {function: {(service, operation, the secret id or the item kinds or "")}}.
RECORDED_CALLS_BY_FUNCTION: dict[str, set[tuple[str, str, str]]] = {}
APP_FILE = str(Path(__file__).resolve().parents[1] / "app.py")
# app.py's entry points other than the API's handler, and what runs inside the
# email functions when a test calls chalicelib directly rather than through them.
_ENTRY_POINTS = {"crew", "deliver_new_emails", "drain_email_outbox"}
_EMAIL_CODE = {("outbox.py", "drain_outbox"), ("outbox.py", "deliver"), ("manifest.py", "flag_overdue_trips")}  # fmt: skip


def running_function() -> str:
    """The Lambda function the calling code runs in, read off the stack."""
    import sys

    frame = sys._getframe(1)
    email = False
    while frame is not None:
        code = frame.f_code
        if code.co_filename == APP_FILE and code.co_name in _ENTRY_POINTS:
            return code.co_name
        if (os.path.basename(code.co_filename), code.co_name) in _EMAIL_CODE:
            email = True
        frame = frame.f_back  # type: ignore[assignment]
    return "drain_email_outbox" if email else "api_handler"


def _request_body(params: dict) -> dict:
    """The JSON body of the request botocore is about to send."""
    body = params.get("body", params)
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body or "{}")
        except ValueError:
            return {}
    return body if isinstance(body, dict) else {}


def _detail(operation: str, params: dict) -> str:
    """What IAM authorizes beyond the operation: the secret a GetSecretValue reads, and
    the kinds of item in a TransactWriteItems ("ConditionCheck Put Update"), each of
    which AWS authorizes as its own action."""
    body = _request_body(params)
    if operation == "GetSecretValue":
        return str(body.get("SecretId", ""))
    if operation == "TransactWriteItems":
        return " ".join(sorted({kind for item in body.get("TransactItems", []) for kind in item}))
    return ""


def _record(service: str, operation: str, params: dict) -> None:
    RECORDED_AWS_CALLS.add((service, operation))
    RECORDED_CALLS_BY_FUNCTION.setdefault(running_function(), set()).add(
        (service, operation, _detail(operation, params))
    )


if _record not in app_aws.observers:
    app_aws.observers.append(_record)


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    """Run the IAM policy check after everything whose AWS calls it inspects."""
    items.sort(key=lambda item: "test_iam_policy" in item.nodeid)


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no emulator endpoint: nothing can reach real AWS."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE",):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("ADMIN_PASS_HASH", TEST_PASSWORD_HASH)
    monkeypatch.setenv("TOKEN_SIGNING_KEY", TEST_SIGNING_KEY)
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's AWS with the stage's table created and the sender verified in SES."""
    with mock_aws():
        app_aws.reset()
        config.reset()
        schema.create_table(app_aws.dynamodb(), TABLE_NAME)
        ses = app_aws.client("ses")
        for address in (SENDER, *CREW):
            ses.verify_email_identity(EmailAddress=address)
        yield
        app_aws.reset()
        config.reset()


class Api:
    """The app over HTTP through chalice.test.Client, speaking JSON."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        token: str | bool | None = True,
    ) -> Any:
        sent = {"content-type": "application/json", **(headers or {})}
        bearer = self.token if token is True else token
        if bearer:
            sent.setdefault("authorization", f"Bearer {bearer}")
        if raw is None and json_body is not None:
            raw = json.dumps(json_body)
        return self.client.http.request(method, path, headers=sent, body=raw or b"")

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json_body, **kw)

    def patch(self, path: str, json_body: Any = None, **kw: Any) -> Any:
        return self.request("PATCH", path, json_body, **kw)

    # --- The crew's and patrons' everyday requests ---------------------------------

    def pay(self, event_id: str, **overrides: Any) -> Any:
        """POST a payment (Ana's cash, with `overrides`); the raw response."""
        return self.post(f"/api/events/{event_id}/payments", {**ANA, **overrides})

    def paid(self, event_id: str, **overrides: Any) -> dict[str, Any]:
        """Log a payment that must be accepted; the payment."""
        response = self.pay(event_id, **overrides)
        assert response.status_code in (200, 201), response.body
        return response.json_body["payment"]

    def void(
        self, event_id: str, payment_id: str, reason: Any = "Wrong amount", **extra: Any
    ) -> Any:
        return self.post(
            f"/api/events/{event_id}/payments/{payment_id}/void", {"reason": reason, **extra}
        )

    def sign(
        self,
        event_id: str,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **overrides: Any,
    ) -> Any:
        """Sign a waiver as a patron's script would (JSON); the raw response."""
        return self.post(
            f"/g/{event_id}/waiver",
            {**(WAIVER if body is None else body), **overrides},
            headers={"accept": "application/json", **(headers or {})},
            token=False,
        )

    def signed(
        self,
        event_id: str,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **overrides: Any,
    ) -> dict:
        """Sign a waiver that must be accepted; the signer's receipt."""
        response = self.sign(event_id, body, headers=headers, **overrides)
        assert response.status_code == 201, response.body
        return response.json_body["waiver"]

    def drain(self) -> int:
        """Run the scheduled email drain Lambda as AWS would (with the stage's settings)."""
        event = self.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        return self.client.lambda_.invoke("drain_email_outbox", event).payload["sent"]

    # --- At the dock (issue 14) -----------------------------------------------------

    def as_role(self, role: str, name: str | None = None) -> str:
        """Act as a crew member with this role (a token minted as login will with accounts)."""
        from chalicelib.crew import auth
        from chalicelib.crew.records import Role

        self.token = auth.issue_token(name or role.title(), Role(role))["token"]
        return self.token

    def boat(self, **fields: Any) -> dict[str, Any]:
        """Add a boat that must be accepted (a six-pack unless told); the boat."""
        body = {"name": "Osprey", "passenger_limit": 6, "inspected": False, **fields}
        response = self.post("/api/boats", body)
        assert response.status_code == 201, response.body
        return response.json_body["boat"]

    def board(
        self, event_id: str, waiver_id: str, name: str, boarded: bool = True, **kw: Any
    ) -> Any:
        """Mark one person aboard (or ashore); the raw response."""
        return self.post(
            f"/api/events/{event_id}/boarding",
            {"waiver_id": waiver_id, "name": name, "boarded": boarded},
            **kw,
        )

    def manifest(self, event_id: str) -> dict[str, Any]:
        response = self.get(f"/api/events/{event_id}/manifest")
        assert response.status_code == 200, response.body
        return response.json_body

    def login(self, name: str = "Dana") -> str:
        """Log in as the break-glass owner (the shared password), named `name`."""
        response = self.post("/api/login", {"password": TEST_PASSWORD, "name": name}, token=False)
        assert response.status_code == 200, response.body
        self.token = response.json_body["token"]
        return self.token

    # --- Crew accounts ---------------------------------------------------------------

    def owner_token(self) -> str:
        """A break-glass owner token, without touching `self.token`."""
        response = self.post("/api/login", {"password": TEST_PASSWORD}, token=False)
        assert response.status_code == 200, response.body
        return response.json_body["token"]

    def add_account(
        self,
        role: str = "crew",
        username: str | None = None,
        display_name: str | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Add an account (as the owner unless `token`); the 201's body."""
        username = username or f"{role}-{uuid.uuid4().hex[:8]}"
        body = {"username": username, "display_name": display_name or username, "role": role}
        response = self.post("/api/accounts", body, token=token or self.owner_token())
        assert response.status_code == 201, response.body
        return response.json_body

    def set_up(self, setup_url: str, password: str = ACCOUNT_PASSWORD) -> Any:
        """Use a setup link to set a password; the raw response."""
        return self.post(
            "/api/accounts/setup",
            {"code": setup_code(setup_url), "password": password},
            token=False,
        )

    def account(
        self, role: str = "crew", display_name: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        """A ready account of `role`: `{account, username, password, token}`."""
        made = self.add_account(role, display_name=display_name, **kw)
        response = self.set_up(made["setup_url"])
        assert response.status_code == 200, response.body
        return {
            "account": response.json_body["account"],
            "username": made["account"]["username"],
            "password": ACCOUNT_PASSWORD,
            "token": response.json_body["token"],
        }

    def login_as(self, role: str, display_name: str | None = None) -> dict[str, Any]:
        """From now on, speak as a new account of `role`; the account (as `account()`)."""
        made = self.account(role, display_name=display_name)
        self.token = made["token"]
        return made


@pytest.fixture
def api(aws: None) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="test") as client:
        yield Api(client)


@pytest.fixture
def crew_api(api: Api) -> Api:
    """The app, logged in as crew member Dana."""
    api.login()
    return api


@pytest.fixture
def sent() -> Iterator[list[dict[str, Any]]]:
    """Every SES v2 SendEmail the app made: recipients, subject and both parts."""
    seen: list[dict[str, Any]] = []

    def watch(service: str, operation: str, params: dict) -> None:
        if service == "sesv2" and operation == "SendEmail":
            body = json.loads(params["body"])
            simple = body["Content"]["Simple"]
            seen.append(
                {
                    "to": body["Destination"]["ToAddresses"],
                    "subject": simple["Subject"]["Data"],
                    "text": simple["Body"]["Text"]["Data"],
                    "html": simple["Body"]["Html"]["Data"],
                }
            )

    app_aws.observers.append(watch)
    yield seen
    app_aws.observers.remove(watch)


def setup_code(setup_url: str) -> str:
    """The one-time code in a setup link."""
    return setup_url.rsplit("/#/setup/", 1)[1]


def trip(**overrides: Any) -> dict[str, Any]:
    """A valid new-trip body, starting tomorrow afternoon in the operator's zone."""
    return trip_body(**overrides)


def stored_item(key: dict[str, str]) -> dict[str, Any]:
    """An item exactly as stored, bookkeeping included, read by a test-side client
    (the app's clients record calls for the IAM policy test)."""
    import boto3

    found = boto3.client("dynamodb").get_item(
        TableName=config.table_name(), Key=codec.to_item(key), ConsistentRead=True
    )
    return codec.from_item(found["Item"])


def stored_payment(event_id: str, payment_id: str) -> dict[str, Any]:
    return stored_item(keys.payment_key(event_id, payment_id))


@pytest.fixture
def event(crew_api: Api) -> dict[str, Any]:
    """One scheduled trip, created through the API."""
    response = crew_api.post("/api/events", trip())
    assert response.status_code == 201, response.body
    return response.json_body["event"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """The app's clock, moved by hand: `clock.advance(seconds)`."""

    class Clock:
        moment = datetime.now(UTC).replace(microsecond=0)

        def advance(self, seconds: float) -> None:
            self.moment += timedelta(seconds=seconds)

    fake = Clock()
    monkeypatch.setattr(timeutil, "now", lambda: fake.moment)
    return fake


def serialize_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that run threads: the same table without its stream, and one
    DynamoDB call at a time into moto, whose DynamoDB code is not thread-safe.

    The app's requests still interleave between calls, which is what those tests
    are for. moto deep-copies stream records on every transaction, which slows
    them and tests nothing there, hence the stream-less table.
    """
    import threading
    import time

    quiet = schema.definition(TABLE_NAME + "-nostream")
    del quiet["StreamSpecification"]
    app_aws.dynamodb().create_table(**quiet)
    monkeypatch.setenv("TABLE_NAME", quiet["TableName"])
    client = app_aws.dynamodb()
    original = client._make_api_call
    lock = threading.Lock()

    def one_at_a_time(operation: str, params: dict) -> Any:
        with lock:
            result = original(operation, params)
        time.sleep(0)  # let a waiting thread in before this one's next call
        return result

    monkeypatch.setattr(client, "_make_api_call", one_at_a_time)


@pytest.fixture
def settings_in_us_east_1(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stages' settings files, in the region the scripts' moto clients use."""
    from scripts import awstools

    folder = tmp_path_factory.mktemp("deploy")
    for path in awstools.SETTINGS_DIR.glob("*.toml"):
        text = path.read_text().replace('region = "us-west-2"', 'region = "us-east-1"')
        (folder / path.name).write_text(text)
    monkeypatch.setattr(awstools, "SETTINGS_DIR", folder)
