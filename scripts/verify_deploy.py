"""After a release: the checks an operator used to do by hand, in one report.

    python scripts/verify_deploy.py --stage prod [--since 1h] [--days 7]

1. Lambda logs (every /aws/lambda/shipcaptaincrew-<stage>* group): payment requests
   by outcome, from the app's one-line-per-request JSON logs, and error lines;
2. DynamoDB: the latest `payment_logged` times of recent trips (a Query on the date
   index for trips starting in the last --days days, the app's own query: no Scan);
3. SES: send statistics for the window (delivery attempts, bounces, complaints,
   rejects) and the 24-hour quota;
4. a summary. Exit code 1 when something needs a look (5xx answers, error lines,
   bounces/complaints/rejects, or payments logged with no email sent), else 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import awstools

# Terms of the lines worth reading; anything else in the window is skipped server-side.
LOG_FILTER = '?payments ?error ?ERROR ?"Task timed out"'
MAX_LOG_EVENTS = 20_000
ERROR_MARKERS = ("[ERROR]", "Task timed out", "Traceback (most recent call last)")


@dataclass
class LogReport:
    groups: list[str] = field(default_factory=list)
    payments: Counter = field(default_factory=Counter)  # "logged", "refused", "failed"
    voids: int = 0
    errors: list[str] = field(default_factory=list)
    truncated: bool = False


def classify(message: str, report: LogReport) -> None:
    """Count one log line: a payment request by outcome, or an error."""
    try:
        line = json.loads(message)
    except ValueError:
        line = None
    if isinstance(line, dict):
        route, status = str(line.get("route") or ""), line.get("status")
        if line.get("method") == "POST" and isinstance(status, int):
            if route.endswith("/payments"):
                outcome = "logged" if status < 300 else "refused" if status < 500 else "failed"
                report.payments[outcome] += 1
            elif route.endswith("/void"):
                report.voids += 1
        if line.get("level") == "error":
            report.errors.append(str(line.get("message") or message)[:200])
        return
    if any(marker in message for marker in ERROR_MARKERS):
        report.errors.append(message.strip()[:200])


def read_logs(logs: Any, stage: awstools.Stage, since: datetime) -> LogReport:
    report = LogReport()
    prefix = stage.log_group
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
        for group in page.get("logGroups", []):
            name = group["logGroupName"]
            # The API handler and its siblings (authorizer, stream handler), not prod2.
            if name == prefix or name.startswith(prefix + "-"):
                report.groups.append(name)
    seen = 0
    for name in report.groups:
        kwargs: dict[str, Any] = {
            "logGroupName": name,
            "startTime": int(since.timestamp() * 1000),
            "filterPattern": LOG_FILTER,
        }
        while True:
            page = logs.filter_log_events(**kwargs)
            for event in page.get("events", []):
                classify(event["message"], report)
                seen += 1
            if seen >= MAX_LOG_EVENTS:
                report.truncated = True
                break
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return report


def recent_payments(stage: awstools.Stage, dynamodb: Any, days: int) -> list[dict]:
    """Trips from the last `days` days (and tomorrow) that have a payment, newest first.

    The app's own date-window Query (its store), opened on the stage's table.
    """
    from zoneinfo import ZoneInfo

    from chalicelib.db import Store

    zone = ZoneInfo(stage.setting("OPERATOR_TZ", "America/Los_Angeles"))
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    found = Store(dynamodb, stage.table_name).trips.starting_between(
        today - timedelta(days=days), today + timedelta(days=2)
    )
    paid = [trip.to_json() for trip in found if trip.payment_logged]
    return sorted(paid, key=lambda e: datetime.fromisoformat(e["payment_logged"]), reverse=True)


def ses_statistics(ses: Any, since: datetime) -> dict[str, int]:
    """Sum of SES's 15-minute send data points inside the window, plus the quota."""
    totals = Counter()
    for point in ses.get_send_statistics().get("SendDataPoints", []):
        stamp = point["Timestamp"]
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        # A point covers the 15 minutes before its time stamp.
        if stamp >= since - timedelta(minutes=15):
            for key in ("DeliveryAttempts", "Bounces", "Complaints", "Rejects"):
                totals[key] += int(point.get(key, 0))
    quota = ses.get_send_quota()
    totals["SentLast24Hours"] = int(quota.get("SentLast24Hours", 0))
    totals["Max24HourSend"] = int(quota.get("Max24HourSend", 0))
    return dict(totals)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Post-release checks: payment handler logs, latest payments, SES sends."
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--since", default="1h", help="window to check, e.g. 30m, 1h, 2d")
    parser.add_argument(
        "--days", type=int, default=7, help="trips starting this many days back to look at"
    )
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    window = awstools.parse_duration(args.since)
    since = datetime.now(UTC) - window
    clients = awstools.clients(args)
    concerns: list[str] = []

    awstools.step(f"Lambda logs since {since:%Y-%m-%d %H:%M} UTC ({args.since})")
    logs = read_logs(clients("logs"), stage, since)
    if not logs.groups:
        awstools.detail(f"no log group {stage.log_group} yet: the function has not run")
    p = logs.payments
    awstools.detail(
        f"payment requests: {sum(p.values())} ({p['logged']} logged, {p['refused']} refused "
        f"4xx, {p['failed']} failed 5xx); voids: {logs.voids}"
    )
    awstools.detail(f"error lines: {len(logs.errors)}")
    for line in logs.errors[:5]:
        awstools.detail(f"  {line}")
    if logs.truncated:
        awstools.detail(f"(stopped reading after {MAX_LOG_EVENTS} lines)")
    if p["failed"]:
        concerns.append(f"{p['failed']} payment request(s) failed with a 5xx")
    if logs.errors:
        concerns.append(f"{len(logs.errors)} error line(s) in the logs")

    awstools.step(f"Latest payments in {stage.table_name} (trips of the last {args.days} days)")
    paid = recent_payments(stage, clients("dynamodb"), args.days)
    rows = [
        (e["payment_logged"], e.get("title", ""), e.get("starts_at", ""), e.get("payment_count", 0))
        for e in paid[:10]
    ]
    awstools.say(awstools.table(["payment_logged", "trip", "starts_at", "payments"], rows))
    in_window = [e for e in paid if datetime.fromisoformat(e["payment_logged"]) >= since]
    awstools.detail(f"trips with a payment logged in the window: {len(in_window)}")

    awstools.step("SES send statistics")
    ses = ses_statistics(clients("ses"), since)
    awstools.detail(
        f"in the window: {ses.get('DeliveryAttempts', 0)} delivery attempts, "
        f"{ses.get('Bounces', 0)} bounces, {ses.get('Complaints', 0)} complaints, "
        f"{ses.get('Rejects', 0)} rejects; last 24h: {ses['SentLast24Hours']} of "
        f"{ses['Max24HourSend']} allowed"
    )
    for key in ("Bounces", "Complaints", "Rejects"):
        if ses.get(key):
            concerns.append(f"SES reports {ses[key]} {key.lower()}")
    if in_window and not ses.get("DeliveryAttempts"):
        concerns.append("payments were logged but SES sent no email in the window")

    awstools.step("Summary")
    latest = paid[0]["payment_logged"] if paid else "none in the trips looked at"
    awstools.detail(f"latest payment logged: {latest}")
    if concerns:
        for concern in concerns:
            awstools.say(f"ATTENTION: {concern}")
        return 1
    awstools.detail("all clear")
    return 0


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
