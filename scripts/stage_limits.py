#!/usr/bin/env python3
"""What keeps a deployed stage's cost bounded under a flood, and its logs kept and bounded.

    python scripts/stage_limits.py --stage prod [--dry-run] [--yes]

From deploy/<stage>.toml (scripts/stage_settings.py):
- the API stage's throttling: every method of the stage's REST API answers 429 past
  `api_rate_limit` requests per second (steady) and `api_burst_limit` at once;
- API access logging: one JSON line per request in the log group
  /aws/apigateway/shipcaptaincrew-<stage>/access (API Gateway writes it with the
  account's CloudWatch role, made here when the account has none);
- log retention: `log_retention_days` on that group and on each function's
  /aws/lambda/... group (made now if the function has not logged yet).

Reserved concurrency per function is in .chalice/config.json (generated from the same
file), so `chalice deploy` applies it with the code. deploy.py runs this after
`chalice deploy`; run alone it prints the plan, asks, then changes what differs. A
second run changes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from scripts import awstools, stage_settings
from scripts.awstools import UserError

# API Gateway needs one role per account (per region) to write any stage's logs.
API_GATEWAY_LOG_ROLE = "shipcaptaincrew-apigateway-cloudwatch"
API_GATEWAY_LOG_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
# One JSON object per request: who (CloudFront's address: the viewer's is in the app's
# log), what, the answer, and how long the function took. No header, body or token.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "time": "$context.requestTime",
        "method": "$context.httpMethod",
        "path": "$context.path",
        "status": "$context.status",
        "bytes": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationMs": "$context.integrationLatency",
        "authorizerError": "$context.authorizer.error",
        "throttled": "$context.error.responseType",
    },
    separators=(",", ":"),
)
ROLE_PROPAGATION_TRIES = 10


@dataclass
class Change:
    what: str
    apply: Callable[[], None]


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    fine: list[str] = field(default_factory=list)


def log_group_arn(logs: Any, name: str) -> str | None:
    """The group's ARN (without the trailing :*), or None when it does not exist."""
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group["logGroupName"] == name:
                return str(group["arn"]).removesuffix(":*")
    return None


def _retention_of(logs: Any, name: str) -> int | None:
    for group in logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", []):
        if group["logGroupName"] == name:
            return group.get("retentionInDays")
    return None


def plan_log_group(plan: Plan, logs: Any, name: str, days: int) -> None:
    exists = log_group_arn(logs, name) is not None
    if exists and _retention_of(logs, name) == days:
        plan.fine.append(f"log group {name} keeps {days} days")
        return

    def apply() -> None:
        if not exists:
            # The function may have logged meanwhile.
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=days)

    verb = "set" if exists else "create log group, with"
    plan.changes.append(Change(f"{name}: {verb} retention {days} days", apply))


def _stage_settings_of(apigateway: Any, rest_api_id: str, api_stage: str) -> dict[str, Any]:
    try:
        return dict(apigateway.get_stage(restApiId=rest_api_id, stageName=api_stage))
    except apigateway.exceptions.NotFoundException:
        raise UserError(
            f"API Gateway has no stage {api_stage!r} on REST API {rest_api_id} "
            "(apigateway GetStage): deploy the code first (`scripts/deploy.py`)"
        ) from None


def plan_throttling(
    plan: Plan, apigateway: Any, rest_api_id: str, api_stage: str, s: stage_settings.Settings
) -> None:
    current = _stage_settings_of(apigateway, rest_api_id, api_stage)
    every = (current.get("methodSettings") or {}).get("*/*") or {}
    have = (every.get("throttlingRateLimit"), every.get("throttlingBurstLimit"))
    if have == (s.api_rate_limit, s.api_burst_limit):
        plan.fine.append(
            f"API throttled at {s.api_rate_limit:g} requests/s, bursts of {s.api_burst_limit}"
        )
        return

    def apply() -> None:
        apigateway.update_stage(
            restApiId=rest_api_id,
            stageName=api_stage,
            patchOperations=[
                {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": f"{s.api_rate_limit:g}"},
                {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(s.api_burst_limit)},
            ],
        )  # fmt: skip

    plan.changes.append(
        Change(
            f"throttle the API at {s.api_rate_limit:g} requests/s, bursts of "
            f"{s.api_burst_limit} (API Gateway answers 429 past them)",
            apply,
        )
    )


def plan_account_role(plan: Plan, apigateway: Any, iam: Any) -> None:
    """API Gateway writes logs with the account's CloudWatch role: make it if missing."""
    if apigateway.get_account().get("cloudwatchRoleArn"):
        plan.fine.append("API Gateway has the account's CloudWatch role")
        return

    def apply() -> None:
        try:
            role = iam.get_role(RoleName=API_GATEWAY_LOG_ROLE)["Role"]
        except iam.exceptions.NoSuchEntityException:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "apigateway.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            role = iam.create_role(
                RoleName=API_GATEWAY_LOG_ROLE,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="API Gateway writes the access logs of Ship Captain Crew's stages",
            )["Role"]
            iam.attach_role_policy(RoleName=API_GATEWAY_LOG_ROLE, PolicyArn=API_GATEWAY_LOG_POLICY)
        patch = [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role["Arn"]}]
        # A new role takes a few seconds to be usable by API Gateway.
        for attempt in range(ROLE_PROPAGATION_TRIES):
            try:
                apigateway.update_account(patchOperations=patch)
                return
            except apigateway.exceptions.BadRequestException:
                if attempt == ROLE_PROPAGATION_TRIES - 1:
                    raise
                awstools.detail("waiting for the new role to reach API Gateway ...")
                time.sleep(3)

    plan.changes.append(
        Change(
            f"give API Gateway the account's CloudWatch role ({API_GATEWAY_LOG_ROLE}, "
            "AWS's AmazonAPIGatewayPushToCloudWatchLogs policy)",
            apply,
        )
    )


def plan_access_log(
    plan: Plan,
    apigateway: Any,
    logs: Any,
    rest_api_id: str,
    api_stage: str,
    s: stage_settings.Settings,
) -> None:
    current = _stage_settings_of(apigateway, rest_api_id, api_stage)
    have = current.get("accessLogSettings") or {}
    arn = log_group_arn(logs, s.access_log_group)
    if arn and have.get("destinationArn") == arn and have.get("format") == ACCESS_LOG_FORMAT:
        plan.fine.append(f"API access log goes to {s.access_log_group}")
        return

    def apply() -> None:
        found = log_group_arn(logs, s.access_log_group)
        if not found:
            raise UserError(f"log group {s.access_log_group} is missing (logs DescribeLogGroups)")
        apigateway.update_stage(
            restApiId=rest_api_id,
            stageName=api_stage,
            patchOperations=[
                {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": found},
                {"op": "replace", "path": "/accessLogSettings/format", "value": ACCESS_LOG_FORMAT},
            ],
        )

    plan.changes.append(
        Change(f"log every API request (JSON, one line each) to {s.access_log_group}", apply)
    )


def make_plan(
    s: stage_settings.Settings, clients: Callable[[str], Any], rest_api_id: str, api_stage: str
) -> Plan:
    """What differs from the settings, in the order it has to be done."""
    plan = Plan()
    apigateway, logs = clients("apigateway"), clients("logs")
    plan_throttling(plan, apigateway, rest_api_id, api_stage, s)
    plan_log_group(plan, logs, s.access_log_group, s.log_retention_days)
    plan_account_role(plan, apigateway, clients("iam"))
    plan_access_log(plan, apigateway, logs, rest_api_id, api_stage, s)
    for function in stage_settings.FUNCTIONS:
        group = f"/aws/lambda/{s.function_name(function)}"
        plan_log_group(plan, logs, group, s.log_retention_days)
    return plan


def apply_limits(
    s: stage_settings.Settings,
    clients: Callable[[str], Any],
    rest_api_id: str,
    api_stage: str,
    *,
    dry_run: bool = False,
    assume_yes: bool = False,
) -> int:
    plan = make_plan(s, clients, rest_api_id, api_stage)
    for line in plan.fine:
        awstools.detail(f"ok: {line}")
    if not plan.changes:
        awstools.detail("limits and logs: nothing to change")
        return 0
    awstools.step(f"Plan for {s.stage}:")
    for change in plan.changes:
        awstools.detail(f"- {change.what}")
    if dry_run:
        awstools.step("Dry run: nothing changed")
        return 0
    if not awstools.confirm(f"Make these {len(plan.changes)} changes?", assume_yes):
        awstools.say("Nothing changed.")
        return 1
    for change in plan.changes:
        awstools.detail(f"{change.what} ...")
        change.apply()
    awstools.detail(f"done: {len(plan.changes)} changes")
    return 0


def rest_api_of(stage_name: str) -> tuple[str, str]:
    """(REST API id, API Gateway stage) the last `chalice deploy` of the stage recorded."""
    stage = awstools.load_stage(stage_name)
    rest_api = awstools.deployed_rest_api(stage)
    api_stage = awstools.read_config()["stages"][stage.name].get("api_gateway_stage", "api")
    return str(rest_api["rest_api_id"]), str(api_stage)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Throttle a deployed stage's API, log its requests and keep its logs "
        "for log_retention_days, as deploy/<stage>.toml says."
    )
    parser.add_argument("--stage", required=True, help="dev, staging or prod")
    parser.add_argument("--dry-run", action="store_true", help="print the plan only")
    parser.add_argument("--yes", action="store_true", help="do not ask before changing AWS")
    parser.add_argument("--rest-api-id", help="default: the one `chalice deploy` recorded")
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    settings = stage_settings.load(args.stage)
    awstools.step(f"Limits and logs of {args.stage}")
    rest_api_id, api_stage = rest_api_of(args.stage)
    if args.rest_api_id:
        rest_api_id = args.rest_api_id
    return apply_limits(
        settings,
        awstools.clients(args),
        rest_api_id,
        api_stage,
        dry_run=args.dry_run,
        assume_yes=args.yes,
    )


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
