#!/usr/bin/env python3
"""A stage's alarms, and the owner who hears them.

    python scripts/alarms.py --stage prod [--dry-run] [--yes]

Makes, or brings up to date:
- the SNS topic `shipcaptaincrew-<stage>-alarms`, with `alarm_email` of
  deploy/<stage>.toml subscribed (SNS emails them a link to confirm, once);
- metric filters that turn log lines into metrics (namespace ShipCaptainCrew/<stage>):
  `Api5xx` from the API's access log (status 5xx), `EmailsGivenUp` from the email
  functions' "email given up" line, `OverdueWatchRuns` from the drain's "overdue watch
  ran" line (written every minute);
- CloudWatch alarms, each emailing the topic when it fires and when it clears:
  API 5xx (any in 5 minutes); each function's errors and throttles (AWS/Lambda, any in
  5 minutes); an email given up after every retry; and the overdue watch not having run
  for 5 minutes (missing data counts as not run: the watch is what tells the shore a
  boat is late, so its own failure must be loud).

deploy.py runs this after `chalice deploy`; scripts/verify_deploy.py reports the alarms'
state. A second run changes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from scripts import awstools, stage_settings
from scripts.stage_limits import Change, Plan

FIVE_MINUTES = 300


def topic_name(s: stage_settings.Settings) -> str:
    return f"{s.app_name}-{s.stage}-alarms"


def alarm_prefix(stage: str, app_name: str = "shipcaptaincrew") -> str:
    return f"{app_name}-{stage}-"


def namespace(s: stage_settings.Settings) -> str:
    return f"ShipCaptainCrew/{s.stage}"


def metric_filters(s: stage_settings.Settings) -> list[dict[str, Any]]:
    """(log group, filter name, pattern, metric) for each metric made from log lines."""
    email_groups = [
        f"/aws/lambda/{s.function_name(name)}"
        for name in ("deliver_new_emails", "drain_email_outbox")
    ]
    filters = [
        {
            "logGroupName": s.access_log_group,
            "filterName": "api-5xx",
            "filterPattern": '{ $.status = "5*" }',
            "metricName": "Api5xx",
        },
        {
            "logGroupName": f"/aws/lambda/{s.function_name('drain_email_outbox')}",
            "filterName": "overdue-watch-ran",
            "filterPattern": '{ $.message = "overdue watch ran" }',
            "metricName": "OverdueWatchRuns",
        },
    ]
    filters += [
        {
            "logGroupName": group,
            "filterName": "email-given-up",
            "filterPattern": '{ $.message = "email given up" }',
            "metricName": "EmailsGivenUp",
        }
        for group in email_groups
    ]
    return filters


def wanted_alarms(s: stage_settings.Settings, topic_arn: str) -> list[dict[str, Any]]:
    """Every alarm of the stage, as put_metric_alarm takes it."""
    prefix = alarm_prefix(s.stage, s.app_name)

    def alarm(name: str, description: str, **fields: Any) -> dict[str, Any]:
        return {
            "AlarmName": prefix + name,
            "AlarmDescription": description,
            "ActionsEnabled": True,
            "AlarmActions": [topic_arn],
            "OKActions": [topic_arn],
            "Statistic": "Sum",
            "Period": FIVE_MINUTES,
            "EvaluationPeriods": 1,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            **fields,
        }

    alarms = [
        alarm(
            "api-5xx",
            "The API answered 5xx (server error) in the last 5 minutes: read the access log "
            f"{s.access_log_group} and the functions' logs.",
            Namespace=namespace(s),
            MetricName="Api5xx",
        ),
        alarm(
            "emails-given-up",
            "An email was given up after every retry (payment receipt, waiver copy, overdue "
            "or manifest notice): see docs/operating.md, the outbox.",
            Namespace=namespace(s),
            MetricName="EmailsGivenUp",
        ),
        alarm(
            "overdue-watch-stopped",
            "The overdue watch (drain_email_outbox, every minute) has not run for 5 minutes: "
            "nobody would be told a boat is late. Check that function's logs now.",
            Namespace=namespace(s),
            MetricName="OverdueWatchRuns",
            Period=60,
            EvaluationPeriods=5,
            DatapointsToAlarm=5,
            Threshold=1.0,
            ComparisonOperator="LessThanThreshold",
            TreatMissingData="breaching",
        ),
    ]
    for function in stage_settings.FUNCTIONS:
        name = s.function_name(function)
        for metric, what in (("Errors", "errors"), ("Throttles", "throttles")):
            alarms.append(
                alarm(
                    f"{function}-{what}",
                    f"Lambda function {name} had {what} in the last 5 minutes.",
                    Namespace="AWS/Lambda",
                    MetricName=metric,
                    Dimensions=[{"Name": "FunctionName", "Value": name}],
                )
            )
    return alarms


def _same(have: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(have.get(key) == value for key, value in want.items())


def make_plan(s: stage_settings.Settings, clients: Callable[[str], Any]) -> tuple[Plan, list[str]]:
    """(plan, notes for the operator)."""
    plan, notes = Plan(), []
    sns, logs, cloudwatch = clients("sns"), clients("logs"), clients("cloudwatch")
    region, account = s.region, s.account_id
    topic_arn = f"arn:aws:sns:{region}:{account}:{topic_name(s)}"
    existing_topics = {
        t["TopicArn"]
        for page in sns.get_paginator("list_topics").paginate()
        for t in page.get("Topics", [])
    }
    if topic_arn in existing_topics:
        plan.fine.append(f"SNS topic {topic_name(s)}")
        subscribed = {
            sub["Endpoint"]: sub["SubscriptionArn"]
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(
                TopicArn=topic_arn
            )
            for sub in page.get("Subscriptions", [])
            if sub.get("Protocol") == "email"
        }
    else:
        subscribed = {}

        def create_topic() -> None:
            sns.create_topic(Name=topic_name(s))

        plan.changes.append(Change(f"create SNS topic {topic_name(s)}", create_topic))
    if not s.alarm_email:
        notes.append(
            f"no alarm_email in {stage_settings.settings_path(s.stage)}: the alarms email nobody"
        )
    elif s.alarm_email not in subscribed:

        def subscribe() -> None:
            sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=s.alarm_email)

        plan.changes.append(
            Change(
                f"subscribe {s.alarm_email} to {topic_name(s)} (SNS emails a link to confirm)",
                subscribe,
            )
        )
        notes.append(f"ACTION NEEDED: {s.alarm_email} confirms the subscription from SNS's email")
    elif subscribed[s.alarm_email] == "PendingConfirmation":
        notes.append(f"ACTION NEEDED: {s.alarm_email} has not confirmed the alarm subscription yet")
    else:
        plan.fine.append(f"{s.alarm_email} hears the alarms")

    for wanted in metric_filters(s):
        group = wanted["logGroupName"]
        found = (
            logs.describe_metric_filters(logGroupName=group, filterNamePrefix=wanted["filterName"])
            if _group_exists(logs, group)
            else {"metricFilters": []}
        )
        transformation = {
            "metricName": wanted["metricName"],
            "metricNamespace": namespace(s),
            "metricValue": "1",
        }
        have = next(
            (f for f in found["metricFilters"] if f["filterName"] == wanted["filterName"]), None
        )
        if (
            have
            and have.get("filterPattern") == wanted["filterPattern"]
            and _same((have.get("metricTransformations") or [{}])[0], transformation)
        ):
            plan.fine.append(f"metric {wanted['metricName']} from {group}")
            continue

        def put(
            wanted: dict[str, Any] = wanted, transformation: dict[str, Any] = transformation
        ) -> None:
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=wanted["logGroupName"])
            logs.put_metric_filter(
                logGroupName=wanted["logGroupName"],
                filterName=wanted["filterName"],
                filterPattern=wanted["filterPattern"],
                metricTransformations=[transformation],
            )

        plan.changes.append(Change(f"metric {wanted['metricName']} from the lines of {group}", put))

    have_alarms = {
        a["AlarmName"]: a
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=alarm_prefix(s.stage, s.app_name)
        )
        for a in page.get("MetricAlarms", [])
    }
    for wanted in wanted_alarms(s, topic_arn):
        have = have_alarms.get(wanted["AlarmName"])
        if have and _same(have, wanted):
            plan.fine.append(f"alarm {wanted['AlarmName']}")
            continue

        def put_alarm(wanted: dict[str, Any] = wanted) -> None:
            cloudwatch.put_metric_alarm(**wanted)

        verb = "update" if have else "create"
        plan.changes.append(Change(f"{verb} alarm {wanted['AlarmName']}", put_alarm))
    return plan, notes


def _group_exists(logs: Any, name: str) -> bool:
    groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    return any(g["logGroupName"] == name for g in groups)


def apply_alarms(
    s: stage_settings.Settings,
    clients: Callable[[str], Any],
    *,
    dry_run: bool = False,
    assume_yes: bool = False,
) -> int:
    plan, notes = make_plan(s, clients)
    for line in plan.fine:
        awstools.detail(f"ok: {line}")
    code = 0
    if not plan.changes:
        awstools.detail("alarms: nothing to change")
    else:
        awstools.step(f"Plan for the alarms of {s.stage}:")
        for change in plan.changes:
            awstools.detail(f"- {change.what}")
        if dry_run:
            awstools.step("Dry run: nothing changed")
        elif not awstools.confirm(f"Make these {len(plan.changes)} changes?", assume_yes):
            awstools.say("Nothing changed.")
            code = 1
        else:
            for change in plan.changes:
                awstools.detail(f"{change.what} ...")
                change.apply()
            awstools.detail(f"done: {len(plan.changes)} changes")
    for note in notes:
        awstools.say(note)
    return code


def alarm_states(cloudwatch: Any, stage: str) -> dict[str, str]:
    """{alarm name: OK | ALARM | INSUFFICIENT_DATA} for the stage's alarms."""
    return {
        a["AlarmName"]: a["StateValue"]
        for page in cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=alarm_prefix(stage)
        )
        for a in page.get("MetricAlarms", [])
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Make the stage's SNS topic (the owner's email), its metric filters and "
        "its CloudWatch alarms, or bring them up to date."
    )
    parser.add_argument("--stage", required=True, help="dev, staging or prod")
    parser.add_argument("--dry-run", action="store_true", help="print the plan only")
    parser.add_argument("--yes", action="store_true", help="do not ask before changing AWS")
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    settings = stage_settings.load(args.stage)
    awstools.step(f"Alarms of {args.stage}")
    return apply_alarms(settings, awstools.clients(args), dry_run=args.dry_run, assume_yes=args.yes)


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
