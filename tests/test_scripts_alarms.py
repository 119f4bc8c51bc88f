"""Issue 22, item 9: somebody hears when the stage breaks. scripts/alarms.py against moto:
the owner's SNS topic, the metrics made from log lines, and the alarms on them."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import alarms, stage_settings
from tests import test_scripts_support as support

workspace = support.workspace
REGION = "us-east-1"
PREFIX = "shipcaptaincrew-prod-"


@pytest.fixture
def cloud(workspace: Path) -> Iterator[dict[str, Any]]:
    with mock_aws():
        yield {s: boto3.client(s, region_name=REGION) for s in ("sns", "logs", "cloudwatch")}


def alarms_of(cloudwatch: Any) -> dict[str, dict[str, Any]]:
    found = cloudwatch.describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]
    return {a["AlarmName"].removeprefix(PREFIX): a for a in found}


def test_the_owner_is_subscribed_and_every_alarm_emails_the_topic(
    cloud: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert alarms.main(["--stage", "prod", "--yes"]) == 0

    topics = [t["TopicArn"] for t in cloud["sns"].list_topics()["Topics"]]
    assert topics == [f"arn:aws:sns:{REGION}:123456789012:shipcaptaincrew-prod-alarms"]
    subscriptions = cloud["sns"].list_subscriptions_by_topic(TopicArn=topics[0])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
        ("email", "owner@shipcaptaincrew.example")
    ]
    assert "ACTION NEEDED" in capsys.readouterr().out  # the owner confirms once

    found = alarms_of(cloud["cloudwatch"])
    functions = stage_settings.FUNCTIONS
    assert set(found) == {
        "api-5xx",
        "emails-given-up",
        "overdue-watch-stopped",
        *(f"{f}-errors" for f in functions),
        *(f"{f}-throttles" for f in functions),
    }
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == topics, name
        assert alarm["OKActions"] == topics, name
    errors = found["crew-errors"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": "shipcaptaincrew-prod-crew"}]
    api = found["api-5xx"]
    assert api["Namespace"] == "ShipCaptainCrew/prod" and api["MetricName"] == "Api5xx"


def test_the_overdue_watch_alarm_fires_when_it_has_not_run_for_5_minutes(
    cloud: dict[str, Any],
) -> None:
    assert alarms.main(["--stage", "prod", "--yes"]) == 0

    watch = alarms_of(cloud["cloudwatch"])["overdue-watch-stopped"]
    assert watch["MetricName"] == "OverdueWatchRuns"
    assert watch["Period"] * watch["EvaluationPeriods"] == 300
    assert watch["DatapointsToAlarm"] == 5
    assert watch["ComparisonOperator"] == "LessThanThreshold" and watch["Threshold"] == 1
    # No run at all leaves no data: that must count as not run.
    assert watch["TreatMissingData"] == "breaching"


def json_filter_matches(pattern: str, message: str) -> bool:
    """CloudWatch Logs' JSON filter for the one form the alarms use, `{ $.field = "text" }`
    (a `*` in the text matches any characters): moto has no TestMetricFilter."""
    import fnmatch
    import re

    parsed = re.fullmatch(r'\{\s*\$\.(\w+)\s*=\s*"([^"]*)"\s*\}', pattern)
    assert parsed, f"the evaluator does not know {pattern!r}: extend it"
    field, wanted = parsed.groups()
    value = json.loads(message).get(field)
    return isinstance(value, str) and fnmatch.fnmatchcase(value, wanted)


def test_log_lines_become_the_metrics_the_alarms_watch(cloud: dict[str, Any]) -> None:
    assert alarms.main(["--stage", "prod", "--yes"]) == 0
    logs = cloud["logs"]

    def pattern_matches(group: str, metric: str, line: dict[str, Any]) -> bool:
        filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
        (found,) = [f for f in filters if f["metricTransformations"][0]["metricName"] == metric]
        assert found["metricTransformations"][0]["metricNamespace"] == "ShipCaptainCrew/prod"
        return json_filter_matches(found["filterPattern"], json.dumps(line))

    drain = "/aws/lambda/shipcaptaincrew-prod-drain_email_outbox"
    deliver = "/aws/lambda/shipcaptaincrew-prod-deliver_new_emails"
    access = "/aws/apigateway/shipcaptaincrew-prod/access"
    # The app's own lines (app.py, chalicelib/outbox.py) and the access log's format.
    ran = {"level": "info", "message": "overdue watch ran", "overdue": 0}
    given_up = {"level": "error", "message": "email given up", "kind": "payment", "pk": "EVENT#x"}
    assert pattern_matches(drain, "OverdueWatchRuns", ran)
    assert not pattern_matches(drain, "OverdueWatchRuns", {"message": "email sent"})
    for group in (drain, deliver):
        assert pattern_matches(group, "EmailsGivenUp", given_up)
        assert not pattern_matches(group, "EmailsGivenUp", {"message": "email failed; will retry"})
    assert pattern_matches(access, "Api5xx", {"status": "502", "path": "/api/events"})
    assert not pattern_matches(access, "Api5xx", {"status": "201", "path": "/api/events"})


def test_the_drain_writes_the_line_the_watch_alarm_counts(
    api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    api.drain()
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert any(line.get("message") == "overdue watch ran" for line in lines)


def test_a_second_run_changes_nothing_and_a_dry_run_makes_nothing(
    cloud: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert alarms.main(["--stage", "prod", "--dry-run"]) == 0
    assert "create alarm shipcaptaincrew-prod-api-5xx" in capsys.readouterr().out
    assert cloud["cloudwatch"].describe_alarms()["MetricAlarms"] == []
    assert cloud["sns"].list_topics()["Topics"] == []

    assert alarms.main(["--stage", "prod", "--yes"]) == 0
    capsys.readouterr()
    assert alarms.main(["--stage", "prod", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "alarms: nothing to change" in out
    assert len(cloud["sns"].list_subscriptions()["Subscriptions"]) == 1


def test_without_yes_and_without_a_terminal_it_changes_nothing(
    cloud: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert alarms.main(["--stage", "prod"]) != 0
    assert cloud["cloudwatch"].describe_alarms()["MetricAlarms"] == []


def test_a_changed_owner_email_is_subscribed(cloud: dict[str, Any], workspace: Path) -> None:
    assert alarms.main(["--stage", "prod", "--yes"]) == 0
    path = workspace / "deploy" / "prod.toml"
    path.write_text(path.read_text().replace("owner@", "skipper@"))

    assert alarms.main(["--stage", "prod", "--yes"]) == 0

    endpoints = {s["Endpoint"] for s in cloud["sns"].list_subscriptions()["Subscriptions"]}
    assert "skipper@shipcaptaincrew.example" in endpoints


def test_a_bad_alarm_email_is_refused_naming_the_file(workspace: Path) -> None:
    path = workspace / "deploy" / "prod.toml"
    path.write_text(path.read_text().replace("owner@shipcaptaincrew.example", "owner at boat"))
    with pytest.raises(stage_settings.UserError) as raised:
        stage_settings.load("prod")
    assert "owner at boat" in str(raised.value) and "prod.toml" in str(raised.value)


def test_help_works(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        alarms.main(["--help"])
    assert done.value.code == 0 and "--dry-run" in capsys.readouterr().out
