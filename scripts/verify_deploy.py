#!/usr/bin/env python3
"""After a release: prove the stage works from the evidence it left, or say it cannot.

    python scripts/verify_deploy.py --stage prod [--since 1h] [--days 7] [--ahead-days 366]
                                    [--base-url URL | --no-probe]

Each check reads evidence and answers PASS, FAIL or NO EVIDENCE, with the numbers:

1. payment requests reached the handler: the app's one-line-per-request logs, by
   outcome (logged 201, replayed 200, refused 4xx, failed 5xx);
2. errors in the function logs (error lines, tracebacks, timeouts);
3. payments landed: each payment the logs show logged is in the table, in its trip's
   partition, and the trip's `payment_logged` covers it (trips from --days back to
   --ahead-days ahead: a payment for next month's charter counts too);
4. their emails went: the payments' outbox state (`notification`), the outbox's
   "email failed; will retry" and "email given up" lines, and SES's delivery attempts;
5. waiver requests reached the app, not S3: CloudFront's access logs (in the stage's log
   bucket) against the app's own log lines for /g/{id}/waiver;
6. a probe: GET /g/<random trip>/waiver through the distribution must come back with
   the `X-Served-By: shipcaptaincrew-app` header, which the app sets and S3 never does;
7. the dispatch page answers with the site's security headers (HSTS, X-Frame-Options,
   nosniff, Referrer-Policy: the distribution's headers policy);
8. prod only: /_staging/index.html answers 403 (prod never serves the staging page);
9. the stage's CloudWatch alarms (scripts/alarms.py): their state, FAIL when one fires.

Exit code: 0 only when every check PASSes; 1 when any FAILs; 3 when nothing failed but
something could not be proven (NO EVIDENCE): never "all clear" without evidence.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from chalicelib.web import edge
from scripts import alarms, awstools, stage_settings

PASS, FAIL, NO_EVIDENCE = "PASS", "FAIL", "NO EVIDENCE"
# Terms of the lines worth reading; anything else in the window is skipped server-side.
LOG_FILTER = '?payments ?waiver ?email ?error ?ERROR ?"Task timed out"'
MAX_LOG_EVENTS = 20_000
ERROR_MARKERS = ("[ERROR]", "Task timed out", "Traceback (most recent call last)")
WAIVER_ROUTE = "/g/{event_id}/waiver"
SERVED_BY_HEADER = "X-Served-By"
SERVED_BY = "shipcaptaincrew-app"
# An email still pending after this long means nothing is delivering the outbox.
PENDING_GRACE = timedelta(minutes=5)
EXIT_NOT_PROVEN = 3


@dataclass
class Check:
    name: str
    result: str
    numbers: str


# --- the function logs -----------------------------------------------------------------


@dataclass
class LogReport:
    groups: list[str] = field(default_factory=list)
    lines: int = 0
    payments: Counter = field(default_factory=Counter)  # logged, replayed, refused, failed
    waivers: int = 0  # waiver requests the app answered
    emails: Counter = field(default_factory=Counter)  # sent, retry, given_up
    errors: list[str] = field(default_factory=list)
    truncated: bool = False


def classify(message: str, report: LogReport) -> None:
    """Count one log line: a request by route and outcome, an email event, or an error."""
    try:
        line = json.loads(message)
    except ValueError:
        line = None
    if isinstance(line, dict):
        route, status = str(line.get("route") or ""), line.get("status")
        if isinstance(status, int) and line.get("method") == "POST" and route.endswith("/payments"):
            if status == 201:
                report.payments["logged"] += 1
            elif status < 300:
                report.payments["replayed"] += 1
            elif status < 500:
                report.payments["refused"] += 1
            else:
                report.payments["failed"] += 1
        if isinstance(status, int) and route == WAIVER_ROUTE:
            report.waivers += 1
        text = str(line.get("message") or "")
        if text == "email sent":
            report.emails["sent"] += 1
        elif text == "email failed; will retry":
            report.emails["retry"] += 1
        elif text == "email given up":
            report.emails["given_up"] += 1
        if line.get("level") == "error":
            report.errors.append((text or message)[:200])
        return
    if any(marker in message for marker in ERROR_MARKERS):
        report.errors.append(message.strip()[:200])


def read_logs(logs: Any, stage: awstools.Stage, since: datetime) -> LogReport:
    report = LogReport()
    prefix = stage.log_group
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
        for group in page.get("logGroups", []):
            name = group["logGroupName"]
            # The API handler and its siblings (authorizer, outbox handlers), not prod2.
            if name == prefix or name.startswith(prefix + "-"):
                report.groups.append(name)
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
                report.lines += 1
            if report.lines >= MAX_LOG_EVENTS:
                report.truncated = True
                break
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return report


# --- the table -------------------------------------------------------------------------


class StageTable:
    """The few reads this script makes of a stage's table, through the app's own store."""

    def __init__(self, dynamodb: Any, name: str) -> None:
        from chalicelib.db import Store

        self.store = Store(dynamodb, name)
        self.name = name

    def trips_starting_in_years(self, years: range) -> list[dict[str, Any]]:
        """Trips in the date index's year buckets (a Query each: no Scan)."""
        start = datetime(years.start, 1, 1, tzinfo=UTC)
        end = datetime(years.stop, 1, 1, tzinfo=UTC)
        return [trip.to_json() for trip in self.store.trips.starting_between(start, end)]

    def payments_of(self, event_id: str) -> list[dict[str, Any]]:
        return [payment.to_json() for payment in self.store.ledger.of_trip(event_id).payments]


def open_table(stage: awstools.Stage, clients: Any) -> StageTable:
    """The one way this script reaches a stage's table."""
    return StageTable(clients("dynamodb"), stage.table_name)


def _instant(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Ledger:
    trips: list[dict[str, Any]] = field(default_factory=list)  # with a payment in the window
    payments: list[dict[str, Any]] = field(default_factory=list)  # logged in the window
    stale_totals: list[str] = field(default_factory=list)  # trips whose payment_logged lags
    missing: str = ""  # why the table could not be read


def recent_ledger(store: StageTable, since: datetime, days: int, ahead_days: int) -> Ledger:
    now = datetime.now(UTC)
    first, last = now - timedelta(days=days), now + timedelta(days=ahead_days)
    ledger = Ledger()
    for trip in store.trips_starting_in_years(range(first.year, last.year + 1)):
        logged = _instant(trip.get("payment_logged"))
        if logged is None or logged < since:
            continue
        ledger.trips.append(trip)
        mine = [
            p
            for p in store.payments_of(trip["id"])
            if (_instant(p.get("logged_at")) or since - timedelta(1)) >= since
        ]
        ledger.payments += mine
        latest = max((_instant(p["logged_at"]) for p in mine), default=None)
        if latest and logged < latest:
            ledger.stale_totals.append(trip.get("title") or trip["id"])
    return ledger


# --- SES ---------------------------------------------------------------------------------


def ses_statistics(ses: Any, since: datetime) -> dict[str, int]:
    """Sum of SES's 15-minute send data points inside the window."""
    totals: Counter = Counter()
    for point in ses.get_send_statistics().get("SendDataPoints", []):
        stamp = point["Timestamp"]
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        # A point covers the 15 minutes before its time stamp.
        if stamp >= since - timedelta(minutes=15):
            for key in ("DeliveryAttempts", "Bounces", "Complaints", "Rejects"):
                totals[key] += int(point.get(key, 0))
    return dict(totals)


# --- CloudFront's access logs ---------------------------------------------------------------


@dataclass
class EdgeReport:
    configured: bool = False
    files: int = 0
    waivers: int = 0
    waiver_errors: int = 0  # 4xx/5xx that did not come from the app (e.g. S3's 403)
    note: str = ""


def _log_files(s3: Any, bucket: str, prefix: str, since: datetime) -> list[str]:
    """Log objects whose hour (in the file name) is inside the window."""
    keys = []
    stamp = re.compile(r"\.(\d{4}-\d{2}-\d{2}-\d{2})\.")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found = stamp.search(obj["Key"])
            if found:
                hour = datetime.strptime(found.group(1), "%Y-%m-%d-%H").replace(tzinfo=UTC)
                if hour + timedelta(hours=1) < since:
                    continue
            keys.append(obj["Key"])
    return keys


def read_edge_logs(cloudfront: Any, s3: Any, distribution_id: str, since: datetime) -> EdgeReport:
    report = EdgeReport()
    logging = (
        cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"].get("Logging")
        or {}
    )
    if not logging.get("Enabled"):
        report.note = f"distribution {distribution_id} has no access logging (run bootstrap)"
        return report
    report.configured = True
    bucket = logging["Bucket"].split(".s3", 1)[0]
    prefix = f"{logging.get('Prefix', '')}{distribution_id}."
    waiver = next(p for p, origin in edge.ROUTES if origin == edge.API and p.startswith("/g/"))
    for key in _log_files(s3, bucket, prefix, since):
        report.files += 1
        raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        text = (
            gzip.decompress(raw).decode("utf-8", "replace") if key.endswith(".gz") else raw.decode()
        )
        fields: list[str] = []
        for row in csv.reader(io.StringIO(text), delimiter="\t"):
            if not row:
                continue
            if row[0].startswith("#Fields:"):
                fields = "\t".join(row).split()[1:]
                continue
            if row[0].startswith("#") or not fields:
                continue
            entry = dict(zip(fields, row, strict=False))
            when = _instant(f"{entry.get('date')}T{entry.get('time')}+00:00")
            if when is None or when < since:
                continue
            if not edge.matches(waiver, entry.get("cs-uri-stem", "")):
                continue
            report.waivers += 1
            if entry.get("sc-content-type", "").startswith("application/xml"):
                report.waiver_errors += 1  # S3 answers errors in XML; the app never does
    return report


# --- the probe ------------------------------------------------------------------------------


SECURITY_HEADERS = (
    "Strict-Transport-Security",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
)


def _get(url: str, timeout: float) -> tuple[int, Any, str]:
    """(status, headers, error) of one GET; an error status is an answer too."""
    request = urllib.request.Request(url, headers={"User-Agent": "shipcaptaincrew-verify/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, ""
    except (urllib.error.URLError, OSError) as exc:
        return 0, {}, f"{url}: no answer ({getattr(exc, 'reason', exc)})"


def probe_security_headers(base_url: str, timeout: float) -> tuple[str, str]:
    status, headers, error = _get(base_url.rstrip("/") + "/", timeout)
    if error:
        return FAIL, error
    missing = [name for name in SECURITY_HEADERS if not headers.get(name)]
    if missing:
        return FAIL, f"{status}, missing {', '.join(missing)} (is the headers policy attached?)"
    return PASS, f"{status} with {', '.join(SECURITY_HEADERS)}"


def probe_staging_slot_refused(base_url: str, timeout: float) -> tuple[str, str]:
    status, _, error = _get(base_url.rstrip("/") + "/_staging/index.html", timeout)
    if error:
        return FAIL, error
    if status == 403:
        return PASS, "403: the prod site does not serve the staging page"
    return FAIL, f"{status}: the prod site serves /_staging/ (the bucket policy must deny it)"


def probe_waiver(base_url: str, timeout: float) -> tuple[str, str]:
    """(result, numbers) for GET /g/<random>/waiver: the app marks its answers."""
    url = f"{base_url.rstrip('/')}/g/{uuid.uuid4().hex}/waiver"
    status, headers, error = _get(url, timeout)
    if error:
        return FAIL, error
    served_by = headers.get(SERVED_BY_HEADER, "")
    if served_by == SERVED_BY:
        return PASS, f"{status} with {SERVED_BY_HEADER}: {SERVED_BY} (the app answered)"
    return FAIL, f"{status} without {SERVED_BY_HEADER}: not the app (S3 or another origin answered)"


# --- the checks -------------------------------------------------------------------------------


def check_requests(logs: LogReport) -> Check:
    p = logs.payments
    total = sum(p.values())
    numbers = (
        f"{total} payment request(s): {p['logged']} logged, {p['replayed']} replayed, "
        f"{p['refused']} refused 4xx, {p['failed']} failed 5xx"
    )
    if p["failed"]:
        return Check("payment requests reached the handler", FAIL, numbers)
    if not total:
        where = ", ".join(logs.groups) or "no log group yet: the function has not run"
        return Check("payment requests reached the handler", NO_EVIDENCE, f"{numbers} ({where})")
    return Check("payment requests reached the handler", PASS, numbers)


def check_errors(logs: LogReport) -> Check:
    numbers = f"{len(logs.errors)} error line(s) in {logs.lines} line(s) read"
    if logs.truncated:
        numbers += f" (stopped after {MAX_LOG_EVENTS})"
    if logs.errors:
        return Check("no errors in the function logs", FAIL, numbers + ": " + logs.errors[0])
    if not logs.lines:
        return Check("no errors in the function logs", NO_EVIDENCE, numbers)
    return Check("no errors in the function logs", PASS, numbers)


def check_writes(logs: LogReport, ledger: Ledger) -> Check:
    logged, stored = logs.payments["logged"], len(ledger.payments)
    numbers = f"logs: {logged} logged; table: {stored} payment(s) on {len(ledger.trips)} trip(s)"
    name = "payments landed in the table with payment_logged"
    if ledger.missing:
        return Check(
            name, FAIL if logged else NO_EVIDENCE, f"logs: {logged} logged; {ledger.missing}"
        )
    if ledger.stale_totals:
        return Check(
            name, FAIL, f"{numbers}; payment_logged lags on {', '.join(ledger.stale_totals)}"
        )
    if not logged and not stored:
        return Check(name, NO_EVIDENCE, numbers)
    if stored < logged:
        return Check(
            name, FAIL, f"{numbers}: {logged - stored} logged payment(s) are not in the table"
        )
    if stored > logged and not logs.truncated:
        return Check(name, FAIL, f"{numbers}: {stored - logged} payment(s) no log line shows")
    return Check(name, PASS, numbers)


def check_emails(logs: LogReport, ledger: Ledger, ses: dict[str, int]) -> Check:
    states = Counter(str(p.get("notification") or "pending") for p in ledger.payments)
    now = datetime.now(UTC)
    overdue = [
        p
        for p in ledger.payments
        if p.get("notification", "pending") == "pending"
        and (_instant(p.get("logged_at")) or now) < now - PENDING_GRACE
    ]
    sent, attempts = states["sent"], ses.get("DeliveryAttempts", 0)
    numbers = (
        f"outbox: {sent} sent, {states['pending']} pending, {states['failed']} failed; "
        f"logs: {logs.emails['retry']} will retry, {logs.emails['given_up']} given up; "
        f"SES: {attempts} delivery attempt(s), {ses.get('Bounces', 0)} bounce(s), "
        f"{ses.get('Complaints', 0)} complaint(s), {ses.get('Rejects', 0)} reject(s)"
    )
    name = "SES sent the payments' emails"
    if logs.emails["given_up"]:
        return Check(name, FAIL, numbers + ": an email was given up after every retry")
    if states["failed"]:
        return Check(name, FAIL, numbers + ": emails failed and wait for a retry")
    if overdue:
        return Check(name, FAIL, numbers + f": {len(overdue)} pending for over 5 minutes")
    if any(ses.get(k) for k in ("Bounces", "Complaints", "Rejects")):
        return Check(name, FAIL, numbers)
    if sent and attempts < sent:
        return Check(name, FAIL, numbers + ": the table says sent, SES counted fewer")
    if not ledger.payments:
        return Check(name, NO_EVIDENCE, numbers + " (no payment in the window)")
    if states["pending"]:
        return Check(name, NO_EVIDENCE, numbers + " (still pending: check again in a few minutes)")
    if logs.emails["retry"]:
        numbers += " (retried, all sent since)"
    return Check(name, PASS, numbers)


def check_waivers_reach_app(logs: LogReport, edge_logs: EdgeReport | None) -> Check:
    name = "waiver requests reached the app, not S3 (CloudFront logs)"
    if edge_logs is None:
        return Check(name, NO_EVIDENCE, "the stage has no distribution")
    if not edge_logs.configured:
        return Check(name, NO_EVIDENCE, edge_logs.note)
    numbers = (
        f"CloudFront: {edge_logs.waivers} waiver request(s) in {edge_logs.files} log file(s); "
        f"app: {logs.waivers}"
    )
    if edge_logs.waiver_errors:
        return Check(name, FAIL, numbers + f"; {edge_logs.waiver_errors} answered by S3 (XML)")
    if not edge_logs.waivers:
        return Check(
            name, NO_EVIDENCE, numbers + " (CloudFront delivers its logs up to an hour late)"
        )
    if logs.waivers < edge_logs.waivers:
        return Check(
            name, FAIL, numbers + f": {edge_logs.waivers - logs.waivers} never reached the app"
        )
    return Check(name, PASS, numbers)


def check_alarms(states: dict[str, str]) -> Check:
    """The stage's CloudWatch alarms (scripts/alarms.py): any firing is a FAIL."""
    name = "alarms quiet"
    if not states:
        return Check(name, NO_EVIDENCE, "the stage has no alarms: run scripts/alarms.py")
    counts = Counter(states.values())
    numbers = ", ".join(
        f"{counts[s]} {s}" for s in ("OK", "ALARM", "INSUFFICIENT_DATA") if counts[s]
    )
    firing = sorted(n for n, state in states.items() if state == "ALARM")
    if firing:
        return Check(name, FAIL, f"{numbers}: {', '.join(firing)}")
    return Check(name, PASS, numbers)


def site_base_url(cloudfront: Any, distribution_id: str) -> str:
    found = cloudfront.get_distribution(Id=distribution_id)["Distribution"]
    aliases = (found["DistributionConfig"].get("Aliases") or {}).get("Items") or []
    return f"https://{aliases[0] if aliases else found['DomainName']}/"


def distribution_of(stage: awstools.Stage, cloudfront: Any) -> str:
    if stage.distribution_id:
        return stage.distribution_id
    if stage_settings.has_settings(stage.name):
        found = stage_settings.find_distribution(cloudfront, stage_settings.load(stage.name))
        if found:
            return found["Id"]
    return ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Post-release proof: PASS, FAIL or NO EVIDENCE for each check, with numbers."
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--since", default="1h", help="window to check, e.g. 30m, 1h, 2d")
    parser.add_argument("--days", type=int, default=7, help="trips starting this many days back")
    parser.add_argument(
        "--ahead-days", type=int, default=366, help="trips starting this many days ahead"
    )
    parser.add_argument("--base-url", help="site to probe (default: the stage's distribution)")
    parser.add_argument("--no-probe", action="store_true", help="skip the waiver probe")
    parser.add_argument("--timeout", type=float, default=10.0, help="probe timeout, seconds")
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    window = awstools.parse_duration(args.since)
    since = datetime.now(UTC) - window
    clients = awstools.clients(args)

    awstools.step(f"Evidence since {since:%Y-%m-%d %H:%M} UTC ({args.since}) for {stage.name}")
    logs = read_logs(clients("logs"), stage, since)
    awstools.detail(f"function logs: {logs.lines} line(s) from {len(logs.groups)} group(s)")
    try:
        ledger = recent_ledger(open_table(stage, clients), since, args.days, args.ahead_days)
    except Exception as exc:
        if awstools.error_code(exc) != "ResourceNotFoundException":
            raise
        ledger = Ledger(missing=f"table {stage.table_name} does not exist (run bootstrap)")
    awstools.detail(f"table {stage.table_name}: {len(ledger.payments)} payment(s) in the window")
    ses = ses_statistics(clients("ses"), since)

    cloudfront = clients("cloudfront")
    distribution_id = distribution_of(stage, cloudfront)
    edge_logs = None
    if distribution_id:
        edge_logs = read_edge_logs(cloudfront, clients("s3"), distribution_id, since)

    checks = [
        check_requests(logs),
        check_errors(logs),
        check_writes(logs, ledger),
        check_emails(logs, ledger, ses),
        check_waivers_reach_app(logs, edge_logs),
        check_alarms(alarms.alarm_states(clients("cloudwatch"), stage.name)),
    ]
    probes = [
        ("probe: /g/<trip>/waiver answered by the app", probe_waiver),
        ("probe: the site's security headers", probe_security_headers),
    ]
    if stage.name == "prod":
        probes.append(("probe: prod refuses /_staging/", probe_staging_slot_refused))
    base = args.base_url or (site_base_url(cloudfront, distribution_id) if distribution_id else "")
    for name, probe in probes:
        if args.no_probe:
            checks.append(Check(name, NO_EVIDENCE, "skipped (--no-probe)"))
        elif not base:
            checks.append(Check(name, NO_EVIDENCE, "no distribution and no --base-url to probe"))
        else:
            checks.append(Check(name, *probe(base, args.timeout)))

    awstools.say(
        awstools.table(
            ["check", "result", "numbers"], [(c.name, c.result, c.numbers) for c in checks]
        )
    )
    results = Counter(c.result for c in checks)
    awstools.step(
        f"Summary: {results[PASS]} PASS, {results[FAIL]} FAIL, {results[NO_EVIDENCE]} NO EVIDENCE"
    )
    if results[FAIL]:
        awstools.say("FAILED: " + "; ".join(c.name for c in checks if c.result == FAIL), sys.stderr)
        return 1
    if results[NO_EVIDENCE]:
        awstools.say(
            "NOT PROVEN: no evidence for "
            + "; ".join(c.name for c in checks if c.result == NO_EVIDENCE)
            + ". Use the site (log a test payment, open a waiver link) and run again.",
            sys.stderr,
        )
        return EXIT_NOT_PROVEN
    awstools.step("Every check passed with evidence")
    return 0


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
