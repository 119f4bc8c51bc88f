"""Deploy a stage end to end, stopping at the first step that fails.

    python scripts/deploy.py --stage staging [--yes] [--dry-run] [--base-url URL]

1. preflight: the stage's table and secrets exist (bootstrap's inspection, read-only),
   so code never goes out before the settings it needs; for prod also that staging
   holds a tested page from this very commit (prod never gets an untested page);
2. settings: .chalice/config.json, the stage's policy and spa/config.js from
   deploy/<stage>.toml and what AWS holds (scripts/stage_settings.py), so a stale or
   rolled-back config cannot ship without its stream ARN or distribution id;
3. `chalice deploy --stage S`: code, environment and IAM policy arrive together;
   then API Gateway answers an authorizer that could not run (Secrets Manager
   unreachable) with 503 and Retry-After instead of its default 500; then
   scripts/stage_limits.py: the API's throttling, its access log, log retention; and
   scripts/alarms.py: the owner's SNS topic and the stage's CloudWatch alarms;
4. scripts/configure_cloudfront.py: the edge routing table and the origin-verify
   header on the stage's distribution;
5. the page: staging (and dev) get the local spa/ (sync_spa push, which refuses if S3
   changed since your last pull); prod gets staging's tested page, byte for byte
   (sync_spa promote), never the local folder. Both invalidate what changed;
6. scripts/smoke.py against the site (the distribution's address, or --base-url);
7. staging only: the pushed page is marked tested, so prod may have it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts import (
    alarms,
    awstools,
    bootstrap,
    configure_cloudfront,
    smoke,
    stage_limits,
    stage_settings,
    sync_spa,
)
from scripts.awstools import UserError


@dataclass
class Step:
    name: str
    command: str  # what it amounts to, for --dry-run and the log
    run: Callable[[], int]


def chalice_command() -> str:
    """The chalice next to this Python (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("chalice")
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise UserError("chalice is not installed: run `make test` once, or pip install chalice")
    return found


def run_chalice_deploy(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.profile:
        env["AWS_PROFILE"] = args.profile
    if args.region:
        env["AWS_DEFAULT_REGION"] = args.region
    command = [chalice_command(), "deploy", "--stage", args.stage]
    return subprocess.run(command, cwd=awstools.REPO_ROOT, env=env, check=False).returncode


AUTHORIZER_FAILURE_BODY = (
    '{"code": "unavailable", "message": "login checks are unavailable: try again in a moment"}'
)


def map_authorizer_failure(apigateway: Any, rest_api_id: str, api_stage: str) -> bool:
    """Answer AUTHORIZER_FAILURE with 503 + Retry-After; True when it changed anything.

    Chalice cannot declare gateway responses, so this runs after every deploy.
    """
    wanted = {
        "statusCode": "503",
        "responseParameters": {"gatewayresponse.header.Retry-After": "'5'"},
        "responseTemplates": {"application/json": AUTHORIZER_FAILURE_BODY},
    }
    try:
        current = apigateway.get_gateway_response(
            restApiId=rest_api_id, responseType="AUTHORIZER_FAILURE"
        )
    except apigateway.exceptions.NotFoundException:
        current = {}
    if all(current.get(key) == value for key, value in wanted.items()):
        awstools.detail("authorizer failures already answer 503")
        return False
    apigateway.put_gateway_response(
        restApiId=rest_api_id, responseType="AUTHORIZER_FAILURE", **wanted
    )
    apigateway.create_deployment(restApiId=rest_api_id, stageName=api_stage)
    awstools.detail("authorizer failures now answer 503 with Retry-After")
    return True


def run_authorizer_mapping(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    rest_api = awstools.deployed_rest_api(stage)
    api_stage = awstools.read_config()["stages"][stage.name].get("api_gateway_stage", "api")
    map_authorizer_failure(awstools.clients(args)("apigateway"), rest_api["rest_api_id"], api_stage)
    return 0


def run_limits(args: argparse.Namespace) -> int:
    rest_api_id, api_stage = stage_limits.rest_api_of(args.stage)
    settings = stage_settings.load(args.stage)
    clients = awstools.clients(args)
    return stage_limits.apply_limits(settings, clients, rest_api_id, api_stage, assume_yes=True)


def run_alarms(args: argparse.Namespace) -> int:
    settings = stage_settings.load(args.stage)
    return alarms.apply_alarms(settings, awstools.clients(args), assume_yes=True)


def preflight(args: argparse.Namespace) -> int:
    """Refuse to ship code whose table or secrets do not exist yet, or an untested prod."""
    stage = awstools.load_stage(args.stage)
    if stage.name == "prod" and stage.spa_bucket:
        s3 = awstools.clients(args)("s3")
        release = sync_spa.check_promotable(s3, stage.spa_bucket, awstools.local_commit())
        awstools.detail(
            f"ok: staging holds commit {release['commit'][:12]}, tested {release['tested_at']}"
        )
    plan = bootstrap.inspect(stage, awstools.clients(args), protect=None)
    for line in plan.fine:
        awstools.detail(f"ok: {line}")
    missing = [a.what for a in plan.actions if a.essential]
    for action in plan.actions:
        if not action.essential:
            awstools.detail(f"warning: bootstrap would {action.what}")
    for line in plan.notes():
        awstools.detail(f"warning: {line}")
    if missing:
        awstools.say(
            f"error: stage {stage.name} is not bootstrapped: {'; '.join(missing)}. "
            f"Run `scripts/bootstrap.py --stage {stage.name}` first.",
            sys.stderr,
        )
        return 1
    return 0


def site_url(args: argparse.Namespace, stage: awstools.Stage) -> tuple[str, bool]:
    """(base URL, API only?) for the smoke check."""
    if args.base_url:
        return args.base_url, False
    if stage.distribution_id:
        cloudfront = awstools.clients(args)("cloudfront")
        found = cloudfront.get_distribution(Id=stage.distribution_id)["Distribution"]
        aliases = (found["DistributionConfig"].get("Aliases") or {}).get("Items") or []
        return f"https://{aliases[0] if aliases else found['DomainName']}/", False
    return awstools.deployed_api_url(stage), True


def run_settings(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    if not stage_settings.has_settings(stage.name):
        awstools.detail(f"no {stage_settings.settings_path(stage.name)}: config.json used as it is")
        return 0
    return stage_settings.sync(stage.name, awstools.clients(args), check=False)


def _aws_flags(args: argparse.Namespace) -> list[str]:
    flags = [f"--profile={args.profile}"] if args.profile else []
    return flags + ([f"--region={args.region}"] if args.region else [])


def run_cloudfront(args: argparse.Namespace) -> int:
    # Read the stage now: the settings step may just have found its distribution.
    stage = awstools.load_stage(args.stage)
    if not stage.distribution_id:
        awstools.detail(f"stage {stage.name} has no distribution: skipped (run bootstrap)")
        return 0
    return configure_cloudfront.main(["--stage", stage.name, *_aws_flags(args)])


def run_page(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    if not stage.spa_bucket:
        awstools.detail(f"stage {stage.name} has no SPA_BUCKET: page skipped")
        return 0
    common = [*_aws_flags(args), "--stage", stage.name]
    if stage.name == "prod":
        return sync_spa.main([*common, "promote", "--yes"])
    return sync_spa.main([*common, "push", "--slot", stage.spa_slot, "--yes"])


def run_mark_tested(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    s3 = awstools.clients(args)("s3")
    sync_spa.mark_tested(s3, stage.spa_bucket, awstools.local_commit())
    return 0


def plan_steps(args: argparse.Namespace) -> list[Step]:
    stage = awstools.load_stage(args.stage)
    aws = " ".join(_aws_flags(args))
    checks = "table and secrets exist"
    if stage.name == "prod":
        checks += "; staging tested this commit"
    steps = [
        Step(
            f"preflight: {checks}",
            f"scripts/bootstrap.py --stage {stage.name} --dry-run (read-only)",
            lambda: preflight(args),
        ),
        Step(
            "settings: config, policy and page settings from the stage's settings file",
            f"scripts/stage_settings.py --stage {stage.name}",
            lambda: run_settings(args),
        ),
        Step(
            "deploy the code",
            f"chalice deploy --stage {stage.name}",
            lambda: run_chalice_deploy(args),
        ),
        Step(
            "answer authorizer failures with 503",
            "apigateway put-gateway-response AUTHORIZER_FAILURE 503",
            lambda: run_authorizer_mapping(args),
        ),
        Step(
            "limits and logs: API throttling, access log, log retention",
            f"scripts/stage_limits.py --stage {stage.name} --yes",
            lambda: run_limits(args),
        ),
        Step(
            "alarms: SNS topic for the owner, metric filters, CloudWatch alarms",
            f"scripts/alarms.py --stage {stage.name} --yes",
            lambda: run_alarms(args),
        ),
        Step(
            "apply the edge routing table to CloudFront",
            f"scripts/configure_cloudfront.py --stage {stage.name} {aws}".rstrip(),
            lambda: run_cloudfront(args),
        ),
    ]
    if stage.name == "prod":
        steps.append(
            Step(
                "put staging's tested page live (promote) and invalidate",
                f"scripts/sync_spa.py --stage prod promote --yes {aws}".rstrip(),
                lambda: run_page(args),
            )
        )
    else:
        steps.append(
            Step(
                f"push the dispatch page to the {stage.spa_slot} slot and invalidate",
                f"scripts/sync_spa.py --stage {stage.name} push --slot {stage.spa_slot} --yes",
                lambda: run_page(args),
            )
        )

    def run_smoke() -> int:
        url, api_only = site_url(args, awstools.load_stage(args.stage))
        return smoke.main(["--base-url", url, *(["--api-only"] if api_only else [])])

    target = args.base_url or "the distribution's address (the API Gateway URL without one)"
    steps.append(Step("smoke checks", f"scripts/smoke.py --base-url <{target}>", run_smoke))
    if stage.spa_slot == "staging":
        steps.append(
            Step(
                "mark the staging page tested (prod may now have it)",
                f"{sync_spa.RELEASE_KEY} in the site bucket",
                lambda: run_mark_tested(args),
            )
        )
    return steps


def run_steps(steps: list[Step]) -> int:
    """Run in order; the first failure stops the chain and says what did not run."""
    for number, step in enumerate(steps, start=1):
        awstools.step(f"[{number}/{len(steps)}] {step.name}: {step.command}")
        code = awstools.guard(step.run)
        if code != 0:
            skipped = [s.name for s in steps[number:]]
            awstools.say(
                f"error: step {number} ({step.name}) failed with exit code {code}; stopped"
                + (f". Not run: {', '.join(skipped)}" if skipped else ""),
                sys.stderr,
            )
            return code
    awstools.step("Deployed")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Deploy a stage: preflight, chalice deploy, CloudFront, dispatch page, smoke."
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--dry-run", action="store_true", help="print the steps only")
    parser.add_argument("--yes", action="store_true", help="do not ask before deploying prod")
    parser.add_argument("--base-url", help="site to smoke-check (default: the distribution's)")
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    if stage.name == "local" or not stage.setting("TOKEN_SIGNING_KEY_SECRET_ID"):
        raise UserError(f"stage {stage.name} runs on this machine (`make run`), not on AWS")
    steps = plan_steps(args)
    if args.dry_run:
        awstools.step(f"Dry run: deploying {stage.name} would run:")
        for number, step in enumerate(steps, start=1):
            awstools.detail(f"{number}. {step.name}: {step.command}")
        return 0
    if stage.name == "prod" and not awstools.confirm("Deploy to PROD?", args.yes):
        awstools.say("Nothing deployed.")
        return 1
    return run_steps(steps)


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
