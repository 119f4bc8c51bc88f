#!/usr/bin/env python3
"""Deploy a stage end to end, stopping at the first step that fails.

    python scripts/deploy.py --stage staging [--yes] [--dry-run] [--base-url URL]
    python scripts/deploy.py rollback --stage staging [--to COMMIT] [--yes] [--dry-run]
    python scripts/deploy.py unlock --stage staging [--yes]     # break a stale deploy lock
    python scripts/deploy.py history --stage staging

Every step works in the stage's region (deploy/<stage>.toml, or --region). A deploy
holds the stage's lock (scripts/deployed_state.py) from its first step to its last, so
two operators cannot deploy one stage at once.

1. preflight: the stage's table and secrets exist (bootstrap's inspection, read-only),
   so code never goes out before the settings it needs; for prod also that staging
   holds a tested page from this very commit (prod never gets an untested page);
2. settings: .chalice/config.json, the stage's policy and spa/config.js from
   deploy/<stage>.toml and what AWS holds (scripts/stage_settings.py), so a stale or
   rolled-back config cannot ship without its stream ARN or distribution id;
3. `chalice deploy --stage S`: code, environment and IAM policy arrive together, with
   the stage's deployed state (.chalice/deployed/S.json) read from its site bucket
   before and written back after, a failed deploy included; then API Gateway answers
   an authorizer that could not run (Secrets Manager unreachable) with 503 and
   Retry-After instead of its default 500; then scripts/stage_limits.py: the API's
   throttling, its access log, log retention; and scripts/alarms.py: the owner's SNS
   topic and the stage's CloudWatch alarms;
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
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from scripts import (
    alarms,
    awstools,
    bootstrap,
    configure_cloudfront,
    deployed_state,
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


def stage_region(args: argparse.Namespace) -> str:
    """The region every step uses: --region, else the stage's deploy/<stage>.toml.

    Never the profile's default: code in one region and its table in another cannot
    subscribe to the table's stream, and leaves an orphan function behind.
    """
    region = args.region or stage_settings.region_for(args.stage)
    if not region:
        raise UserError(
            f"stage {args.stage} has no region: set `region` in "
            f"{stage_settings.settings_path(args.stage)} (or pass --region)"
        )
    return str(region)


def chalice_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment `chalice deploy` runs in: the stage's region over the profile's."""
    env = dict(os.environ)
    if args.profile:
        env["AWS_PROFILE"] = args.profile
    region = stage_region(args)
    # botocore reads AWS_DEFAULT_REGION before the profile's region; newer SDKs read
    # AWS_REGION first: set both, so no chain can pick the profile's.
    env["AWS_DEFAULT_REGION"] = region
    env["AWS_REGION"] = region
    return env


def run_chalice_deploy(args: argparse.Namespace) -> int:
    env = chalice_environment(args)
    command = [chalice_command(), "deploy", "--stage", args.stage]
    return subprocess.run(command, cwd=awstools.REPO_ROOT, env=env, check=False).returncode


def run_code_deploy(args: argparse.Namespace, commit: str | None = None) -> int:
    """`chalice deploy` between the stage's deployed state coming from S3 and going back.

    The state goes back after a failed deploy too, when Chalice wrote one: whatever it
    made before failing is then tracked, and the next deploy updates it.
    """
    stage = awstools.load_stage(args.stage)
    s3 = awstools.clients(args)("s3")
    bucket = deployed_state.bucket_of(stage)
    deployed_state.pull(s3, bucket, stage.name)
    code = 1
    try:
        code = run_chalice_deploy(args)
    finally:
        outcome = "ok" if code == 0 else "failed"
        deployed_state.push(s3, bucket, stage.name, commit or awstools.local_commit(), outcome)
    return code


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
    """The profile and the stage's region, for the scripts deploy runs."""
    flags = [f"--profile={args.profile}"] if args.profile else []
    return [*flags, f"--region={stage_region(args)}"]


def run_cloudfront(args: argparse.Namespace) -> int:
    # Read the stage now: the settings step may just have found its distribution.
    stage = awstools.load_stage(args.stage)
    if not stage.distribution_id:
        awstools.detail(f"stage {stage.name} has no distribution: skipped (run bootstrap)")
        return 0
    # deploy.py asked before its first step: the routing is part of what was agreed.
    return configure_cloudfront.main(["--stage", stage.name, "--yes", *_aws_flags(args)])


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
            f"AWS_REGION={stage_region(args)} chalice deploy --stage {stage.name}, its "
            f"deployed state from and back to s3://{stage.spa_bucket}/"
            f"{deployed_state.state_key(stage.name)}",
            lambda: run_code_deploy(args),
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
            f"scripts/configure_cloudfront.py --stage {stage.name} --yes {aws}".rstrip(),
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
    parser.add_argument(
        "action",
        nargs="?",
        default="deploy",
        choices=("deploy", "rollback", "unlock", "history"),
        help="deploy (the default); rollback: redeploy the code deployed before the current "
        "one (or --to COMMIT); unlock: break a deploy lock left by a deploy that died; "
        "history: the stage's deploys and its lock",
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--dry-run", action="store_true", help="print the steps only")
    parser.add_argument("--yes", action="store_true", help="do not ask first")
    parser.add_argument("--to", metavar="COMMIT", help="rollback: the commit to go back to")
    parser.add_argument("--base-url", help="site to smoke-check (default: the distribution's)")
    awstools.add_aws_args(parser)
    return parser


def acquire_lock(args: argparse.Namespace, commit: str, action: str = "deploy") -> str:
    stage = awstools.load_stage(args.stage)
    s3 = awstools.clients(args)("s3")
    return deployed_state.acquire(s3, deployed_state.bucket_of(stage), stage.name, commit, action)


def release_lock(args: argparse.Namespace, etag: str) -> None:
    stage = awstools.load_stage(args.stage)
    s3 = awstools.clients(args)("s3")
    deployed_state.release(s3, deployed_state.bucket_of(stage), stage.name, etag)


def locked(args: argparse.Namespace, commit: str, action: str, body: Callable[[], int]) -> int:
    """Run `body` holding the stage's deploy lock; give it back whatever happens."""
    etag = acquire_lock(args, commit, action)
    try:
        return body()
    finally:
        release_lock(args, etag)


def run(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    if stage.name == "local" or not stage.setting("TOKEN_SIGNING_KEY_SECRET_ID"):
        raise UserError(f"stage {stage.name} runs on this machine (`make run`), not on AWS")
    # Every step, chalice's included, works in this one region.
    args.region = stage_region(args)
    awstools.detail(f"region: {args.region} (deploy/{stage.name}.toml, or --region)")
    if args.action == "history":
        s3 = awstools.clients(args)("s3")
        return deployed_state.show(s3, deployed_state.bucket_of(stage), stage.name)
    if args.action == "unlock":
        if args.dry_run:
            awstools.step("Dry run: would break the lock after showing who holds it")
            return 0
        s3 = awstools.clients(args)("s3")
        return deployed_state.break_lock(s3, deployed_state.bucket_of(stage), stage.name, args.yes)
    if args.action == "rollback":
        return rollback(args)
    steps = plan_steps(args)
    if args.dry_run:
        awstools.step(f"Dry run: deploying {stage.name} would run:")
        for number, step in enumerate(steps, start=1):
            awstools.detail(f"{number}. {step.name}: {step.command}")
        return 0
    where = "PROD" if stage.name == "prod" else stage.name
    commit = awstools.local_commit()
    if not awstools.confirm(f"Deploy commit {commit[:12]} to {where} in {args.region}?", args.yes):
        awstools.say("Nothing deployed.")
        return 1
    return locked(args, commit, "deploy", lambda: run_steps(steps))


# --- rollback ---------------------------------------------------------------------------


def export_commit(commit: str, into: Path) -> None:
    """The files of `commit` (git archive) in `into`: the code exactly as it was."""
    import tarfile

    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit],
            cwd=awstools.REPO_ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise UserError(
            f"commit {commit[:12]} is not in this checkout ({exc.stderr.decode().strip()}): "
            "`git fetch` it first"
        ) from None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


@contextlib.contextmanager
def checkout_at(root: Path) -> Iterator[None]:
    """The scripts read and write the checkout at `root` meanwhile (an exported commit)."""
    saved = {
        (awstools, "REPO_ROOT"): awstools.REPO_ROOT,
        (awstools, "CONFIG_PATH"): awstools.CONFIG_PATH,
        (awstools, "DEPLOYED_DIR"): awstools.DEPLOYED_DIR,
        (awstools, "SPA_DIR"): awstools.SPA_DIR,
        (awstools, "SETTINGS_DIR"): awstools.SETTINGS_DIR,
        (stage_settings, "SPA_CONFIG"): stage_settings.SPA_CONFIG,
    }
    awstools.REPO_ROOT = root
    awstools.CONFIG_PATH = root / ".chalice" / "config.json"
    awstools.DEPLOYED_DIR = root / ".chalice" / "deployed"
    awstools.SPA_DIR = root / "spa"
    awstools.SETTINGS_DIR = root / "deploy"
    stage_settings.SPA_CONFIG = root / "spa" / "config.js"
    try:
        yield
    finally:
        for (module, name), value in saved.items():
            setattr(module, name, value)


def rollback(args: argparse.Namespace) -> int:
    """Redeploy the stage's previous code: the commit deployed with success before the
    current one (from the deployed state's history), or --to COMMIT.

    The code, its settings and IAM policy as of that commit, with the stream ARN and
    distribution id read from AWS now, and the stage's deployed state, so Chalice
    updates the functions and API it made. The dispatch page is not touched.
    """
    stage = awstools.load_stage(args.stage)
    s3 = awstools.clients(args)("s3")
    bucket = deployed_state.bucket_of(stage)
    entries = deployed_state.history(s3, bucket, stage.name)
    if args.to:
        current, target = (entries[0]["commit"] if entries else "unknown"), args.to
    else:
        current, target = deployed_state.previous_release(entries)
    awstools.step(f"Rollback of {stage.name}: from commit {current[:12]} to {target[:12]}")
    awstools.detail("the code, its settings and IAM policy as of that commit; the page stays")
    if args.dry_run:
        awstools.step("Dry run: nothing deployed")
        return 0
    where = "PROD" if stage.name == "prod" else stage.name
    if not awstools.confirm(f"Redeploy commit {target[:12]} to {where}?", args.yes):
        awstools.say("Nothing deployed.")
        return 1

    def body() -> int:
        with tempfile.TemporaryDirectory(prefix=f"scc-rollback-{stage.name}-") as folder:
            root = Path(folder)
            awstools.step(f"Exporting commit {target[:12]}")
            export_commit(target, root)
            (root / ".chalice" / "deployed").mkdir(parents=True, exist_ok=True)
            with checkout_at(root):
                steps = [
                    Step(
                        "settings as of that commit", "stage_settings", lambda: run_settings(args)
                    ),
                    Step(
                        "deploy that code",
                        f"chalice deploy --stage {stage.name} (in the exported commit)",
                        lambda: run_code_deploy(args, commit=target),
                    ),
                    Step(
                        "answer authorizer failures with 503",
                        "apigateway put-gateway-response",
                        lambda: run_authorizer_mapping(args),
                    ),
                ]
                return run_steps(steps)

    return locked(args, target, "rollback", body)


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
