"""scripts/verify_deploy.py against moto: PASS only with matching evidence (logs, table
items, SES sends, CloudFront's access logs, the app's header on a probe); NO EVIDENCE
is never "all clear"."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.db import codec, keys, schema
from scripts import awstools, verify_deploy
from tests import test_scripts_support as support

workspace = support.workspace

PROD_TABLE = "shipcaptaincrew-prod"
LOG_GROUP = "/aws/lambda/shipcaptaincrew-prod"
PAYMENTS = "/api/events/{event_id}/payments"
WAIVER = "/g/{event_id}/waiver"
LOG_BUCKET = "shipcaptaincrew-site-logs"


def request_line(method: str, route: str, status: int) -> str:
    return json.dumps({"level": "info", "method": method, "route": route, "status": status})


def outbox_line(message: str, level: str = "info") -> str:
    return json.dumps({"level": level, "message": message, "kind": "payment", "pk": "EVENT#x"})


def put_logs(logs: Any, group: str, messages: list[str]) -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/12/03/[$LATEST]abc")
    now_ms = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2026/12/03/[$LATEST]abc",
        logEvents=[{"timestamp": now_ms + i, "message": m} for i, m in enumerate(messages)],
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def put_trip(
    dynamodb: Any, event_id: str, starts: datetime, payments: list[tuple[datetime, str]]
) -> None:
    """A trip with payments (logged_at, notification), written as the app writes them."""
    logged = max((at for at, _ in payments), default=None)
    items = [
        {
            "PK": keys.trip_pk(event_id),
            "SK": keys.TRIP_SK,
            "GSI1PK": keys.date_bucket(starts.astimezone(UTC).year),
            "GSI1SK": f"{starts.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}#{event_id}",
            "id": event_id,
            "title": f"Trip {event_id}",
            "starts_at": iso(starts),
            "ends_at": iso(starts + timedelta(hours=2)),
            "status": "scheduled",
            "payment_count": len(payments),
            "payment_logged": iso(logged) if logged else None,
        }
    ]
    for number, (at, notification) in enumerate(payments):
        items.append(
            {
                "PK": keys.trip_pk(event_id),
                "SK": f"{keys.PAYMENT_PREFIX}{event_id}-{number}",
                "id": f"{event_id}-{number}",
                "event_id": event_id,
                "patron_name": "Ana Ruiz",
                "amount_cents": 5000,
                "method": "cash",
                "logged_at": iso(at),
                "status": "logged",
                "notification": notification,
            }
        )
    for item in items:
        dynamodb.put_item(TableName=PROD_TABLE, Item=codec.to_item(item))


def send_emails(ses: Any, count: int) -> None:
    for _ in range(count):
        ses.send_email(
            Source="dispatch@shipcaptaincrew.example",
            Destination={"ToAddresses": ["crew@shipcaptaincrew.example"]},
            Message={"Subject": {"Data": "Payment"}, "Body": {"Text": {"Data": "$50 cash"}}},
        )


FIELDS = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
]


def edge_line(path: str, status: int, content_type: str) -> str:
    now = datetime.now(UTC)
    values = {name: "-" for name in FIELDS}
    values.update(
        {
            "date": f"{now:%Y-%m-%d}",
            "time": f"{now:%H:%M:%S}",
            "cs-method": "GET",
            "cs-uri-stem": path,
            "sc-status": str(status),
            "sc-content-type": content_type,
        }
    )
    return "\t".join(values[name] for name in FIELDS)


def put_edge_logs(s3: Any, distribution_id: str, lines: list[str]) -> None:
    """One gzipped access-log file, named and laid out as CloudFront writes them."""
    text = "#Version: 1.0\n#Fields: " + " ".join(FIELDS) + "\n" + "\n".join(lines) + "\n"
    key = f"cloudfront/prod/{distribution_id}.{datetime.now(UTC):%Y-%m-%d-%H}.abcd1234.gz"
    s3.put_object(Bucket=LOG_BUCKET, Key=key, Body=gzip.compress(text.encode()))


@pytest.fixture
def prod(workspace: Path) -> Iterator[dict[str, Any]]:
    """Prod as bootstrap leaves it: the table, the SES sender, a distribution logging to
    the log bucket (recorded in config.json)."""
    with mock_aws():
        made = {
            s: boto3.client(s, region_name="us-east-1")
            for s in ("logs", "dynamodb", "ses", "s3", "cloudfront")
        }
        schema.create_table(made["dynamodb"], PROD_TABLE)
        made["ses"].verify_email_identity(EmailAddress="dispatch@shipcaptaincrew.example")
        made["s3"].create_bucket(Bucket=LOG_BUCKET)
        dist = made["cloudfront"].create_distribution(
            DistributionConfig={
                "CallerReference": "prod",
                "Comment": "shipcaptaincrew-prod",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "site-bucket",
                            "DomainName": "shipcaptaincrew-site.s3.us-east-1.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "site-bucket",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
                "Logging": {
                    "Enabled": True,
                    "IncludeCookies": False,
                    "Bucket": f"{LOG_BUCKET}.s3.amazonaws.com",
                    "Prefix": "cloudfront/prod/",
                },
            }
        )["Distribution"]
        config = awstools.read_config()
        config["stages"]["prod"]["environment_variables"]["DISTRIBUTION_ID"] = dist["Id"]
        awstools.CONFIG_PATH.write_text(json.dumps(config))
        made["distribution_id"] = dist["Id"]
        yield made


SECURITY = {
    "Strict-Transport-Security": "max-age=63072000",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class Site(BaseHTTPRequestHandler):
    """The prod site behind its distribution, for the probes. `s3`: CloudFront sends the
    waiver path to the bucket; `bare`: no headers policy; `staging_open`: the bucket
    policy lets prod read the staging slot."""

    s3 = False
    bare = False
    staging_open = False

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site = type(self)
        if self.path.startswith("/_staging/"):
            self.send_response(200 if site.staging_open else 403)
        elif self.path.startswith("/g/"):
            self.send_response(404)
            if not site.s3:
                self.send_header("X-Served-By", "shipcaptaincrew-app")
        else:
            self.send_response(200)
        if not site.bare:
            for name, value in SECURITY.items():
                self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def site() -> Iterator[tuple[type[Site], str]]:
    handler = type("Handler", (Site,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def verify(*args: str) -> int:
    return verify_deploy.main(["--stage", "prod", *args])


def healthy_evidence(prod: dict[str, Any]) -> None:
    """Two payments logged, both in the table, both emailed; a waiver signed via CloudFront."""
    now = datetime.now(UTC)
    put_logs(
        prod["logs"],
        LOG_GROUP,
        [
            request_line("POST", PAYMENTS, 201),
            request_line("POST", PAYMENTS, 201),
            request_line("POST", PAYMENTS, 400),
            request_line("GET", WAIVER, 200),
            request_line("POST", WAIVER, 201),
        ],
    )
    put_logs(
        prod["logs"],
        LOG_GROUP + "-deliver_new_emails",
        [outbox_line("email sent"), outbox_line("email sent")],
    )
    # One trip tomorrow, one three weeks ahead: a payment on a later charter counts too.
    put_trip(
        prod["dynamodb"], "soon", now + timedelta(days=1), [(now - timedelta(minutes=9), "sent")]
    )
    put_trip(
        prod["dynamodb"], "later", now + timedelta(days=21), [(now - timedelta(minutes=7), "sent")]
    )
    put_trip(prod["dynamodb"], "old", now - timedelta(days=3), [(now - timedelta(days=3), "sent")])
    send_emails(prod["ses"], 2)
    put_edge_logs(
        prod["s3"],
        prod["distribution_id"],
        [
            edge_line("/g/soon/waiver", 200, "text/html;charset=utf-8"),
            edge_line("/g/soon/waiver", 201, "text/html;charset=utf-8"),
            edge_line("/index.html", 200, "text/html"),
        ],
    )


def quiet_alarms() -> Any:
    """The stage's alarms as scripts/alarms.py makes them, every one OK."""
    from scripts import alarms

    assert alarms.main(["--stage", "prod", "--yes"]) == 0
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    for name in alarms.alarm_states(cloudwatch, "prod"):
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="quiet")
    return cloudwatch


def test_an_empty_stage_is_not_proven_and_never_all_clear(
    prod: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify("--no-probe") == verify_deploy.EXIT_NOT_PROVEN

    captured = capsys.readouterr()
    assert captured.out.count("NO EVIDENCE") >= 10  # nine lines and the summary
    assert "PASS  " not in captured.out and "FAIL  " not in captured.out
    assert "0 PASS, 0 FAIL, 9 NO EVIDENCE" in captured.out
    assert "the stage has no alarms" in captured.out
    assert "NOT PROVEN" in captured.err
    assert "all clear" not in captured.out.lower() + captured.err.lower()


def test_matching_logs_items_sends_and_edge_logs_pass_and_the_probe_finds_the_app(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    quiet_alarms()
    capsys.readouterr()

    assert verify("--base-url", site[1]) == 0

    out = capsys.readouterr().out
    assert "9 PASS, 0 FAIL, 0 NO EVIDENCE" in out
    assert "11 OK" in out  # API 5xx, emails given up, the watch, 4 functions x 2
    assert "3 payment request(s): 2 logged, 0 replayed, 1 refused 4xx, 0 failed 5xx" in out
    assert "logs: 2 logged; table: 2 payment(s) on 2 trip(s)" in out
    assert "outbox: 2 sent, 0 pending, 0 failed" in out
    assert "SES: 2 delivery attempt(s)" in out
    assert "CloudFront: 2 waiver request(s) in 1 log file(s); app: 2" in out
    assert "X-Served-By: shipcaptaincrew-app (the app answered)" in out


def test_a_firing_alarm_fails_and_is_named(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    cloudwatch = quiet_alarms()
    cloudwatch.set_alarm_state(
        AlarmName="shipcaptaincrew-prod-overdue-watch-stopped",
        StateValue="ALARM",
        StateReason="no run for 5 minutes",
    )
    capsys.readouterr()

    assert verify("--base-url", site[1]) == 1

    out = capsys.readouterr().out
    assert "1 ALARM: shipcaptaincrew-prod-overdue-watch-stopped" in out


def test_a_5xx_payment_answer_fails(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    put_logs(prod["logs"], LOG_GROUP + "-crew", [request_line("POST", PAYMENTS, 503)])

    assert verify("--base-url", site[1]) == 1

    out = capsys.readouterr().out
    assert "1 failed 5xx" in out
    line = next(x for x in out.splitlines() if x.startswith("payment requests reached"))
    assert " FAIL " in line


def test_an_email_given_up_fails_and_a_retry_still_waiting_fails(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    put_logs(
        prod["logs"],
        LOG_GROUP + "-drain_email_outbox",
        [
            outbox_line("email failed; will retry", "warning"),
            outbox_line("email given up", "error"),
        ],
    )

    assert verify("--base-url", site[1]) == 1

    out = capsys.readouterr().out
    assert "1 will retry, 1 given up" in out
    assert "an email was given up after every retry" in out


def test_a_payment_whose_email_failed_is_flagged_even_without_log_lines(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    now = datetime.now(UTC)
    put_trip(
        prod["dynamodb"], "third", now + timedelta(days=2), [(now - timedelta(minutes=2), "failed")]
    )
    put_logs(prod["logs"], LOG_GROUP + "-x", [request_line("POST", PAYMENTS, 201)])

    assert verify("--base-url", site[1]) == 1

    assert "emails failed and wait for a retry" in capsys.readouterr().out


def test_a_logged_payment_missing_from_the_table_fails(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    put_logs(prod["logs"], LOG_GROUP + "-x", [request_line("POST", PAYMENTS, 201)])

    assert verify("--base-url", site[1]) == 1

    assert "1 logged payment(s) are not in the table" in capsys.readouterr().out


def test_logged_payments_with_no_ses_send_fail(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    put_logs(prod["logs"], LOG_GROUP, [request_line("POST", PAYMENTS, 201)])
    put_trip(prod["dynamodb"], "t1", now, [(now - timedelta(minutes=1), "sent")])

    assert verify("--base-url", site[1]) == 1

    assert "the table says sent, SES counted fewer" in capsys.readouterr().out


def test_waivers_that_cloudfront_served_from_s3_fail(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    put_edge_logs(
        prod["s3"], prod["distribution_id"], [edge_line("/g/soon/waiver", 403, "application/xml")]
    )

    assert verify("--base-url", site[1]) == 1

    assert "1 answered by S3 (XML)" in capsys.readouterr().out


def test_the_probe_fails_when_the_waiver_path_is_answered_without_the_apps_header(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    site[0].s3 = True

    assert verify("--base-url", site[1]) == 1

    assert "without X-Served-By: not the app" in capsys.readouterr().out


def test_verify_rejects_an_unreadable_window(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify("--since", "an hour") == 2
    assert "30m, 1h, 2d" in capsys.readouterr().err


def test_a_stage_never_bootstrapped_is_not_proven_rather_than_an_error(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        assert verify("--no-probe") == verify_deploy.EXIT_NOT_PROVEN

    captured = capsys.readouterr()
    assert "table shipcaptaincrew-prod does not exist (run bootstrap)" in captured.out
    assert "AWS refused" not in captured.err


def test_a_site_without_its_headers_policy_fails(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    site[0].bare = True

    assert verify("--base-url", site[1]) == 1

    assert "missing Strict-Transport-Security, X-Frame-Options" in capsys.readouterr().out


def test_a_prod_site_that_serves_the_staging_slot_fails(
    prod: dict[str, Any], site: tuple[type[Site], str], capsys: pytest.CaptureFixture[str]
) -> None:
    healthy_evidence(prod)
    site[0].staging_open = True

    assert verify("--base-url", site[1]) == 1

    assert "the prod site serves /_staging/" in capsys.readouterr().out
