"""Deploy a stage end to end, stopping at the first step that fails.

    python scripts/deploy.py --stage staging [--yes] [--dry-run] [--base-url URL]

1. preflight: the stage's table and secrets exist (bootstrap's inspection, read-only),
   so code never goes out before the settings it needs;
2. `chalice deploy --stage S`: code, environment and IAM policy arrive together;
   then API Gateway answers an authorizer that could not run (Secrets Manager
   unreachable) with 503 and Retry-After instead of its default 500;
3. scripts/configure_cloudfront.py: the edge routing table on the stage's distribution;
4. scripts/sync_spa.py push to the stage's slot (it refuses if S3 changed since your
   last pull), which invalidates the paths it changed;
5. scripts/smoke.py against the site (the distribution's address, or --base-url).

Steps 3-5 need the stage's DISTRIBUTION_ID and SPA_BUCKET; without them they are
skipped and the smoke check runs against the API Gateway URL alone.
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

from scripts import awstools, bootstrap, configure_cloudfront, smoke, sync_spa
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


def preflight(args: argparse.Namespace) -> int:
    """Refuse to ship code whose table or secrets do not exist yet."""
    stage = awstools.load_stage(args.stage)
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


def plan_steps(args: argparse.Namespace) -> list[Step]:
    stage = awstools.load_stage(args.stage)
    aws = [f"--profile={args.profile}"] if args.profile else []
    aws += [f"--region={args.region}"] if args.region else []
    steps = [
        Step(
            "preflight: table and secrets exist",
            f"scripts/bootstrap.py --stage {stage.name} --dry-run (read-only)",
            lambda: preflight(args),
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
    ]
    if stage.distribution_id:
        cf_args = ["--stage", stage.name, *aws]
        steps.append(
            Step(
                "apply the edge routing table to CloudFront",
                "scripts/configure_cloudfront.py " + " ".join(cf_args),
                lambda: configure_cloudfront.main(cf_args),
            )
        )
    else:
        awstools.detail(f"stage {stage.name} has no DISTRIBUTION_ID: CloudFront step skipped")
    if stage.spa_bucket and stage.distribution_id:
        spa_args = [*aws, "--stage", stage.name, "push", "--slot", stage.spa_slot, "--yes"]
        steps.append(
            Step(
                f"push the dispatch page to the {stage.spa_slot} slot and invalidate",
                "scripts/sync_spa.py " + " ".join(spa_args),
                lambda: sync_spa.main(spa_args),
            )
        )
    else:
        awstools.detail(f"stage {stage.name} has no SPA_BUCKET/DISTRIBUTION_ID: page push skipped")

    def run_smoke() -> int:
        url, api_only = site_url(args, stage)
        return smoke.main(["--base-url", url, *(["--api-only"] if api_only else [])])

    target = args.base_url or (
        "the distribution's address" if stage.distribution_id else "the API Gateway URL"
    )
    steps.append(Step("smoke checks", f"scripts/smoke.py --base-url <{target}>", run_smoke))
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
