"""Faults injected below botocore: what crew and patrons see when AWS misbehaves.

The faults are answered in place of moto (before it touches its state), as the
wire would carry them, so botocore's real parsing and retry rules run: throttling
and timeouts are retried with backoff (standard mode, 4 attempts), a cancelled
transaction is not (the payment code retries conflicts itself). Backoff pauses
are recorded and skipped, so these tests take no wall-clock time.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import BotoCoreError, EndpointConnectionError, ReadTimeoutError
from botocore.retries import standard
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core import models as moto_models
from moto.ses.models import ses_backends

from chalicelib import aws as app_aws
from chalicelib import config
from chalicelib.db import keys
from chalicelib.db import table as db_table
from chalicelib.mail import outbox
from tests.conftest import (
    ANA,
    TEST_PASSWORD,
    TEST_PASSWORD_HASH,
    TEST_SIGNING_KEY,
    from_viewer,
    stored_payment,
)
from tests.test_access import table_snapshot

DDB_ERROR = "com.amazonaws.dynamodb.v20120810#"


@dataclass
class Fault:
    operation: str
    answer: Any  # (status, headers, body) or an exception to raise
    times: int | None  # None: every time


class Faults:
    """Answers chosen AWS operations with errors instead of letting moto run them."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.rules: list[Fault] = []
        self.seen: Counter[str] = Counter()

    def add(self, operation: str, answer: Any, *, times: int | None = None) -> None:
        self.rules.append(Fault(operation, answer, times))

    def clear(self) -> None:
        self.rules.clear()

    def __call__(self, request: Any) -> Any:
        operation = _operation(request)
        self.seen[operation] += 1
        for rule in self.rules:
            if rule.operation == operation and rule.times != 0:
                if rule.times is not None:
                    rule.times -= 1
                if isinstance(rule.answer, BaseException):
                    # A fresh copy each time: botocore keeps the one it caught.
                    raise type(rule.answer)(**getattr(rule.answer, "kwargs", {}))
                return rule.answer
        return self._real(request)


def _operation(request: Any) -> str:
    target = request.headers.get("X-Amz-Target")
    if target:
        return (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
    if "/v2/email/outbound-emails" in request.url:
        return "SendEmail"
    return request.method + " " + request.url


def ddb_error(code: str, message: str = "injected", status: int = 400, **extra: Any) -> tuple:
    body = {"__type": DDB_ERROR + code, "message": message, **extra}
    return status, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body)


def conflict(*codes: str) -> tuple:
    """A cancelled transaction with one reason per item, as DynamoDB answers it."""
    return ddb_error(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons "
        f"[{', '.join(codes)}]",
        CancellationReasons=[
            {"Code": c} if c == "None" else {"Code": c, "Message": c} for c in codes
        ],
    )


def ses_error(status: int, code: str) -> tuple:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    return status, headers, json.dumps({"message": "injected"})


@pytest.fixture
def faults(aws, monkeypatch: pytest.MonkeyPatch) -> Faults:
    """The fault plan, consulted by moto's request handler before it does anything."""
    stubber = moto_models.botocore_stubber
    plan = Faults(stubber.process_request)
    monkeypatch.setattr(stubber, "process_request", plan)
    return plan


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry pauses, recorded and then skipped; payments' own pauses too."""
    seen: list[float] = []
    real = standard.ExponentialBackoff.delay_amount

    def record(self: Any, context: Any) -> float:
        seen.append(real(self, context))
        return 0

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", record)

    class NoSleep:
        """The time module, except that sleep() records the pause and returns."""

        sleep = staticmethod(seen.append)

        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

    # The store's own pauses between transaction tries.
    monkeypatch.setattr(db_table, "time", NoSleep())
    return seen


def transaction_tries() -> int:
    """How many times the app's own code tries a contended transaction."""
    return db_table.TRIES


def attempts(service: str) -> int:
    """HTTP attempts botocore makes per call with the app's client settings.

    Config(retries={"max_attempts": n}) means n RETRIES, so n + 1 attempts.
    """
    return app_aws.client(service).meta.config.retries["total_max_attempts"]


def trip_totals(api, event_id: str) -> tuple[int, int]:
    event = api.get(f"/api/events/{event_id}").json_body["event"]
    return event["paid_cents"], event["payment_count"]


def ses_sent() -> int:
    return len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


# --- SES --------------------------------------------------------------------------


def test_payment_is_logged_while_ses_times_out_and_the_email_follows_later(
    crew_api, event, faults, backoffs, clock
):
    faults.add("SendEmail", ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"))
    response = crew_api.pay(event["id"])
    assert response.status_code == 201
    payment = response.json_body["payment"]
    assert payment["notification"] == "pending"

    assert crew_api.drain() == 0
    # botocore retried the timeout before the outbox gave up for now.
    assert faults.seen["SendEmail"] == attempts("sesv2") > 1
    item = stored_payment(event["id"], payment["id"])
    assert item["notification"] == "failed" and item["_notify_attempts"] == 1
    assert item["GSI1PK"] == keys.OUTBOX  # still owed
    assert ses_sent() == 0

    faults.clear()
    clock.advance(outbox.retry_delay(1))
    assert crew_api.drain() == 1
    item = stored_payment(event["id"], payment["id"])
    assert item["notification"] == "sent" and "GSI1PK" not in item
    assert ses_sent() == 1
    assert trip_totals(crew_api, event["id"]) == (12000, 1)


def test_ses_throttling_is_retried_with_backoff_and_the_email_goes_out_once(
    crew_api, event, faults, backoffs
):
    faults.add("SendEmail", ses_error(429, "TooManyRequestsException"), times=2)
    payment = crew_api.pay(event["id"]).json_body["payment"]
    assert crew_api.drain() == 1
    assert faults.seen["SendEmail"] == 3
    assert len(backoffs) == 2 and all(pause >= 0 for pause in backoffs)
    assert stored_payment(event["id"], payment["id"])["notification"] == "sent"
    assert ses_sent() == 1


@pytest.mark.parametrize(
    "answer",
    [ses_error(500, "InternalFailure"), ses_error(400, "MessageRejected")],
    ids=["ses-500", "ses-rejects"],
)
def test_ses_errors_never_fail_the_payment_and_are_recorded_for_retry(
    crew_api, event, faults, backoffs, answer
):
    faults.add("SendEmail", answer)
    response = crew_api.pay(event["id"])
    assert response.status_code == 201
    assert crew_api.drain() == 0
    item = stored_payment(event["id"], response.json_body["payment"]["id"])
    assert item["notification"] == "failed"
    assert item["_notify_attempts"] == 1
    assert trip_totals(crew_api, event["id"]) == (12000, 1)


def test_waiver_is_signed_while_ses_is_down(api, event, faults, backoffs):
    faults.add("SendEmail", ses_error(500, "InternalFailure"))
    signed = api.sign(event["id"])
    assert signed.status_code == 201, signed.body
    assert faults.seen["SendEmail"] == 0  # the request never waited on SES


# --- DynamoDB on payments ------------------------------------------------------------


def test_throttled_payment_write_is_retried_with_backoff_and_counts_once(
    crew_api, event, faults, backoffs
):
    faults.add("TransactWriteItems", ddb_error("ProvisionedThroughputExceededException"), times=2)
    response = crew_api.pay(event["id"])
    assert response.status_code == 201
    assert faults.seen["TransactWriteItems"] == 3  # botocore retried twice
    assert len(backoffs) == 2
    assert trip_totals(crew_api, event["id"]) == (12000, 1)


def test_payment_throttled_past_every_retry_is_503_and_writes_nothing(
    crew_api, event, faults, backoffs
):
    before = table_snapshot()
    faults.add("TransactWriteItems", ddb_error("ProvisionedThroughputExceededException"))
    response = crew_api.pay(event["id"])
    assert response.status_code == 503
    assert response.json_body["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert faults.seen["TransactWriteItems"] == attempts("dynamodb") > 1
    assert len(backoffs) == attempts("dynamodb") - 1
    assert table_snapshot() == before


def test_transaction_conflict_is_retried_by_the_payment_code_not_by_botocore(
    crew_api, event, faults, backoffs
):
    faults.add("TransactWriteItems", conflict("None", "TransactionConflict"), times=2)
    response = crew_api.pay(event["id"])
    assert response.status_code == 201
    # One HTTP attempt per try: botocore does not retry a cancelled transaction.
    assert faults.seen["TransactWriteItems"] == 3
    assert trip_totals(crew_api, event["id"]) == (12000, 1)


@pytest.mark.parametrize(
    "reasons",
    [("None", "TransactionConflict"), ("ThrottlingError", "None")],
    ids=["conflict", "throttled-item"],
)
def test_payment_that_keeps_conflicting_is_503_with_nothing_half_written(
    crew_api, event, faults, backoffs, reasons
):
    before = table_snapshot()
    faults.add("TransactWriteItems", conflict(*reasons))
    response = crew_api.pay(event["id"])
    assert response.status_code == 503
    assert response.json_body["code"] == "unavailable"
    assert faults.seen["TransactWriteItems"] == transaction_tries()
    assert table_snapshot() == before


def test_payment_saved_but_unconfirmed_is_503_and_the_resend_counts_once(
    crew_api, event, faults, backoffs
):
    """The write went through, the read-back did not: the phone's resend must not double count."""
    from chalicelib.db.accounts import Accounts, TokenState

    # The authorizer's GetItem is not the one failing here (that is the gateway's 503).
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(Accounts, "token_state", lambda *_: TokenState(0, True, None, None))
        _payment_saved_but_unconfirmed(crew_api, event, faults)


def _payment_saved_but_unconfirmed(crew_api, event, faults):
    faults.add("GetItem", ddb_error("ProvisionedThroughputExceededException"))
    body = {**ANA, "payment_id": "7d8f4c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f"}
    first = crew_api.post(f"/api/events/{event['id']}/payments", body)
    assert first.status_code == 503
    faults.clear()
    resent = crew_api.post(f"/api/events/{event['id']}/payments", body)
    assert resent.status_code in (200, 201)
    assert trip_totals(crew_api, event["id"]) == (12000, 1)


def test_unexpected_dynamodb_error_on_the_board_is_a_clear_503_not_a_500(
    crew_api, event, faults, backoffs
):
    faults.add("Query", ddb_error("InternalServerError", status=500))
    response = crew_api.get("/api/events")
    assert response.status_code == 503
    assert response.json_body["code"] == "unavailable"


# --- DynamoDB on waivers ----------------------------------------------------------


def test_waiver_signing_that_keeps_conflicting_is_503_not_500(api, event, faults, backoffs):
    faults.add("TransactWriteItems", conflict("None", "TransactionConflict"))
    before = table_snapshot(skip_throttle=True)
    signed = api.sign(event["id"])
    assert signed.status_code == 503, signed.body
    assert signed.json_body["code"] == "unavailable"
    # The signing throttle may count the attempt; the waiver and the trip are untouched.
    assert table_snapshot(skip_throttle=True) == before


def test_waiver_signing_throttled_past_every_retry_is_503_and_writes_nothing(
    api, event, faults, backoffs
):
    faults.add("TransactWriteItems", ddb_error("ProvisionedThroughputExceededException"))
    before = table_snapshot(skip_throttle=True)
    signed = api.sign(event["id"])
    assert signed.status_code == 503, signed.body
    assert faults.seen["TransactWriteItems"] == attempts("dynamodb")
    assert table_snapshot(skip_throttle=True) == before


# --- Secrets Manager at a cold start -------------------------------------------------


@pytest.fixture
def secrets_on_aws(aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings as on a deployed stage: the hash and the key live in Secrets Manager."""
    # A client of the test's own: set-up is not a call the app makes.
    client = boto3.client("secretsmanager")
    client.create_secret(Name="scc/test/admin-pass-hash", SecretString=TEST_PASSWORD_HASH)
    client.create_secret(Name="scc/test/token-signing-key", SecretString=TEST_SIGNING_KEY)
    monkeypatch.delenv("ADMIN_PASS_HASH")
    monkeypatch.delenv("TOKEN_SIGNING_KEY")
    monkeypatch.setenv("ADMIN_PASS_HASH_SECRET_ID", "scc/test/admin-pass-hash")
    monkeypatch.setenv("TOKEN_SIGNING_KEY_SECRET_ID", "scc/test/token-signing-key")
    config.reset()  # a cold start: nothing cached yet


@pytest.fixture
def secrets_down(secrets_on_aws, faults) -> Iterator[Faults]:
    faults.add(
        "GetSecretValue",
        EndpointConnectionError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com"),
    )
    yield faults


def test_login_is_503_not_500_while_secrets_manager_is_unreachable(api, secrets_down, backoffs):
    response = api.post("/api/login", {"password": TEST_PASSWORD}, token=False)
    assert response.status_code == 503
    assert response.json_body["code"] == "unavailable"
    assert "Retry-After" in response.headers
    assert secrets_down.seen["GetSecretValue"] == attempts("secretsmanager") > 1

    secrets_down.clear()
    assert api.post("/api/login", {"password": TEST_PASSWORD}, token=False).status_code == 200


def test_outage_does_not_count_as_a_wrong_password(api, secrets_down, backoffs):
    headers = from_viewer("203.0.113.50")
    for _ in range(6):
        assert (
            api.post(
                "/api/login", {"password": TEST_PASSWORD}, headers=headers, token=False
            ).status_code
            == 503
        )
    secrets_down.clear()
    response = api.post("/api/login", {"password": TEST_PASSWORD}, headers=headers, token=False)
    assert response.status_code == 200


def test_authorizer_fails_rather_than_logging_crew_out_while_the_key_is_unreachable(
    secrets_down, backoffs
):
    """Crew keep their login through an outage: the authorizer errs, it does not deny.

    On AWS an authorizer that raises is API Gateway's AUTHORIZER_FAILURE (500
    unless a gateway response maps it to 503); a deny would be a 403 that the
    dispatch page takes for an expired login.
    """
    import app as app_module

    token = _token_with(TEST_SIGNING_KEY)
    auth_event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/api/events",
    }
    with pytest.raises(BotoCoreError):
        app_module.crew(auth_event, None)
    secrets_down.clear()
    allowed = app_module.crew(auth_event, None)
    assert allowed["principalId"] == "Dana"
    assert allowed["policyDocument"]["Statement"][0]["Resource"]


def _token_with(key: str) -> str:
    import jwt

    now = int(time.time())
    claims = {"sub": "Dana", "iss": "shipcaptaincrew", "iat": now, "exp": now + 600}
    return jwt.encode(claims, key, algorithm="HS256")
