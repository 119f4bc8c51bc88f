"""The crew email of each payment: sent after the response, never lost, never twice."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib import aws as app_aws
from chalicelib import config
from chalicelib.db import keys
from chalicelib.mail import notifications, outbox
from tests.conftest import CREW, SENDER, stored_payment

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sent_parts() -> Iterator[list[dict[str, Any]]]:
    """The Simple content of every SES v2 SendEmail the app made (moto keeps only the HTML)."""
    seen: list[dict[str, Any]] = []

    def watch(service: str, operation: str, params: dict) -> None:
        if service == "sesv2" and operation == "SendEmail":
            seen.append(json.loads(params["body"])["Content"]["Simple"])

    app_aws.observers.append(watch)
    yield seen
    app_aws.observers.remove(watch)


def ses_messages() -> list[Any]:
    return ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages


def notification_of(api, event_id: str, payment_id: str) -> str:
    payments = api.get(f"/api/events/{event_id}").json_body["payments"]
    return next(p["notification"] for p in payments if p["id"] == payment_id)


def ses_outage(on: bool) -> None:
    """SES refuses (MessageRejected: sender not verified) while on; works again when off."""
    # A test-side client: the app's clients record calls for the IAM policy test.
    ses = boto3.client("ses")
    if on:
        ses.delete_identity(Identity=SENDER)
    else:
        ses.verify_email_identity(EmailAddress=SENDER)


def test_payment_emails_the_crew_with_amount_patron_trip_and_balance(crew_api, event, sent_parts):
    paid = crew_api.paid(event["id"], note="Half now, half after")
    assert crew_api.drain() == 1
    [message] = ses_messages()
    starts = datetime.fromisoformat(event["starts_at"])
    day = f"{starts:%a %b} {starts.day}"
    assert message.subject == f"$120.00 cash from Ana Ruiz — Sunset Cruise, {day}"
    assert message.source == SENDER
    assert message.destinations == {"ToAddresses": list(CREW)}
    # The plain-text part, as sent to SES.
    [parts] = sent_parts
    text = parts["Body"]["Text"]["Data"]
    assert "$120.00 cash from Ana Ruiz" in text
    assert "Logged by:  Dana" in text
    assert "Half now, half after" in text
    assert "Paid so far: $120.00 of $600.00 (1 payment)" in text
    assert "Balance due: $480.00" in text
    # moto keeps the HTML part: same facts.
    assert message.body == parts["Body"]["Html"]["Data"]
    assert "$480.00" in message.body and "Sunset Cruise" in message.body
    assert notification_of(crew_api, event["id"], paid["id"]) == "sent"


def test_crew_response_does_not_wait_for_the_email(crew_api, event):
    paid = crew_api.paid(event["id"])
    assert paid["notification"] == "pending"
    assert ses_messages() == []
    assert crew_api.drain() == 1
    assert len(ses_messages()) == 1


def test_email_html_escapes_what_crew_typed(crew_api, event, sent_parts):
    crew_api.paid(event["id"], patron_name="<b>Bo</b> & Co", note='<img src=x onerror="alert(1)">')
    crew_api.drain()
    [message] = ses_messages()
    assert "<b>Bo</b>" not in message.body and "<img" not in message.body
    assert "&lt;b&gt;Bo&lt;/b&gt; &amp; Co" in message.body
    assert "&lt;img src=x" in message.body
    # Plain text is not HTML: it keeps the name as typed.
    assert "<b>Bo</b> & Co" in sent_parts[0]["Body"]["Text"]["Data"]


def test_trip_without_price_says_so_instead_of_a_balance(crew_api, sent_parts):
    from tests.conftest import trip

    body = trip()
    del body["price_cents"]
    free = crew_api.post("/api/events", body).json_body["event"]
    crew_api.paid(free["id"], method="venmo")
    crew_api.drain()
    text = sent_parts[0]["Body"]["Text"]["Data"]
    assert "$120.00 Venmo from Ana Ruiz" in sent_parts[0]["Subject"]["Data"]
    assert "Balance due: no price set for this trip" in text


def test_each_payment_gets_exactly_one_email(crew_api, event):
    for name in ("Ana Ruiz", "Bo Li", "Cy Park"):
        crew_api.paid(event["id"], patron_name=name)
    assert crew_api.drain() == 3
    assert crew_api.drain() == 0
    subjects = sorted(m.subject.split(" from ")[1].split(" — ")[0] for m in ses_messages())
    assert subjects == ["Ana Ruiz", "Bo Li", "Cy Park"]


def test_ses_outage_loses_no_payment_and_every_email_goes_once_ses_is_back(crew_api, event, clock):
    ses_outage(on=True)
    paid = [crew_api.paid(event["id"], patron_name=name) for name in ("Ana Ruiz", "Bo Li")]
    assert crew_api.drain() == 0
    shown = crew_api.get(f"/api/events/{event['id']}").json_body
    assert shown["event"]["paid_cents"] == 24000 and shown["event"]["payment_count"] == 2
    assert [p["notification"] for p in shown["payments"]] == ["failed", "failed"]
    assert stored_payment(event["id"], paid[0]["id"])["_notify_attempts"] == 1

    ses_outage(on=False)
    # Backoff: the retry waits its turn rather than hammering SES.
    assert crew_api.drain() == 0
    clock.advance(outbox.retry_delay(1))
    assert crew_api.drain() == 2
    clock.advance(outbox.RETRY_MAX_SECONDS)
    assert crew_api.drain() == 0
    assert sorted(m.subject.split(" from ")[1][:5] for m in ses_messages()) == ["Ana R", "Bo Li"]
    assert {notification_of(crew_api, event["id"], p["id"]) for p in paid} == {"sent"}


def test_email_is_given_up_after_bounded_attempts_and_the_payment_stays(
    crew_api, event, clock, capsys
):
    ses_outage(on=True)
    paid = crew_api.paid(event["id"])
    for _ in range(outbox.MAX_ATTEMPTS + 3):
        crew_api.drain()
        clock.advance(outbox.RETRY_MAX_SECONDS + 1)
    item = stored_payment(event["id"], paid["id"])
    assert item["_notify_attempts"] == outbox.MAX_ATTEMPTS
    assert item["notification"] == "failed"
    assert "GSI1PK" not in item  # out of the outbox
    assert '"message":"email given up"' in capsys.readouterr().out
    ses_outage(on=False)
    assert crew_api.drain() == 0
    shown = crew_api.get(f"/api/events/{event['id']}").json_body
    assert shown["event"]["paid_cents"] == 12000
    assert shown["payments"][0]["notification"] == "failed"


def test_email_being_sent_by_one_worker_is_not_sent_by_another(crew_api, event, monkeypatch):
    """The stream handler and the drain can reach one item at once: the claim lets one send."""
    paid = crew_api.paid(event["id"])
    key = keys.payment_key(event["id"], paid["id"])
    real_send = notifications.send
    racing: list[bool] = []

    def send_while_another_worker_tries(*args: Any, **kwargs: Any) -> str:
        racing.append(outbox.deliver(key))
        return real_send(*args, **kwargs)

    monkeypatch.setattr(notifications, "send", send_while_another_worker_tries)
    assert crew_api.drain() == 1
    assert racing == [False]
    assert len(ses_messages()) == 1


def test_email_of_a_sender_that_died_mid_send_goes_out_after_its_claim_expires(
    crew_api, event, clock, monkeypatch
):
    paid = crew_api.paid(event["id"])
    real_send = notifications.send

    def die(*args: Any, **kwargs: Any) -> str:
        raise SystemExit("Lambda timed out")  # not an Exception: nothing gets recorded

    monkeypatch.setattr(notifications, "send", die)
    with pytest.raises(SystemExit):
        outbox.deliver(keys.payment_key(event["id"], paid["id"]))
    monkeypatch.setattr(notifications, "send", real_send)
    assert crew_api.drain() == 0  # still claimed
    clock.advance(outbox.CLAIM_SECONDS + 1)
    assert crew_api.drain() == 1
    assert len(ses_messages()) == 1


def test_email_with_no_crew_addresses_counts_as_failed_not_sent(crew_api, event, monkeypatch):
    paid = crew_api.paid(event["id"])
    monkeypatch.setenv("CREW_NOTIFY_EMAILS", "")
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    assert outbox.drain_outbox() == 0
    assert ses_messages() == []
    assert stored_payment(event["id"], paid["id"])["notification"] == "failed"


# --- The DynamoDB stream handler ------------------------------------------------


@pytest.fixture
def stream_app(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """app.py loaded as `chalice deploy` loads it for a stage with TABLE_STREAM_ARN set."""
    arn = boto3.client("dynamodb").describe_table(TableName=config.table_name())["Table"][
        "LatestStreamArn"
    ]
    monkeypatch.setenv("TABLE_STREAM_ARN", arn)
    spec = importlib.util.spec_from_file_location("app_with_stream", ROOT / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module.app, arn
    sys.modules.pop("app_with_stream", None)


def stream_records(arn: str) -> list[dict[str, Any]]:
    """The table's stream as Lambda hands it over (from moto's DynamoDB Streams)."""
    # moto 5.2 routes DynamoDB Streams only for a URL ending in "/", which this
    # botocore no longer sends by itself.
    streams = boto3.client(
        "dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com/"
    )
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    records = []
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator)["Records"]:
            created = record["dynamodb"]["ApproximateCreationDateTime"]
            record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
            records.append({**record, "eventSourceARN": arn})
    return records


def test_stream_handler_is_registered_only_when_the_stream_arn_is_configured(stream_app):
    app, arn = stream_app
    from app import app as plain_app

    assert [h.name for h in app.event_sources if getattr(h, "stream_arn", None) == arn] == [
        "deliver_new_emails"
    ]
    assert not [h for h in plain_app.event_sources if getattr(h, "stream_arn", None)]


def test_stream_handler_emails_a_new_payment_at_once_and_only_once(stream_app, crew_api, event):
    app, arn = stream_app
    paid = crew_api.paid(event["id"])
    records = stream_records(arn)
    assert any(r["eventName"] == "INSERT" for r in records)
    with Client(app, stage_name="test") as client:
        first = client.lambda_.invoke("deliver_new_emails", {"Records": records})
        again = client.lambda_.invoke("deliver_new_emails", {"Records": records})
    assert first.payload == {"sent": 1}
    assert again.payload == {"sent": 0}  # Lambda may hand a batch over twice
    assert crew_api.drain() == 0
    assert len(ses_messages()) == 1
    assert notification_of(crew_api, event["id"], paid["id"]) == "sent"


def test_stream_handler_never_fails_the_batch_when_ses_is_down(stream_app, crew_api, event):
    app, arn = stream_app
    ses_outage(on=True)
    crew_api.paid(event["id"])
    with Client(app, stage_name="test") as client:
        reply = client.lambda_.invoke("deliver_new_emails", {"Records": stream_records(arn)})
    assert reply.payload == {"sent": 0}
    assert ses_messages() == []
