"""What the AWS admin scripts share: stage settings, boto3 sessions, output, prompts.

Settings come from the stage in .chalice/config.json (the same file `chalice deploy`
reads, so the scripts and the deployed code cannot disagree), with command-line
overrides. Every script's `main(argv)` is `run_script(build_parser, run, argv)`: its body
runs inside `guard()`, so a user mistake or an AWS refusal is one clear line, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = REPO_ROOT / ".chalice" / "config.json"
DEPLOYED_DIR = REPO_ROOT / ".chalice" / "deployed"
SPA_DIR = REPO_ROOT / "spa"
# Each stage's decided settings (scripts/stage_settings.py reads and checks them).
SETTINGS_DIR = REPO_ROOT / "deploy"
# The staging copy of the dispatch page lives under this prefix of the site bucket.
STAGING_PREFIX = "_staging/"
SLOT_PREFIXES = {"prod": "", "staging": STAGING_PREFIX}
# What was pushed to staging and whether it passed its checks: sync_spa keeps a record
# here, outside both slots (the bucket policy keeps the prod distribution off it).
RELEASES_PREFIX = "_releases/"
# Files the scripts write themselves: editing them does not make a checkout "dirty".
GENERATED_PATHS = (".chalice/", "spa/config.js")
# CloudFront is a global service whose API lives in us-east-1 only.
CLOUDFRONT_REGION = "us-east-1"


class UserError(Exception):
    """A mistake the person running the script can fix: printed as one line, exit 2."""


@dataclass(frozen=True)
class Stage:
    """One stage of .chalice/config.json, environment variables merged over the globals."""

    name: str
    app_name: str
    api_gateway_stage: str
    env: dict[str, str] = field(default_factory=dict)

    def setting(self, name: str, default: str = "") -> str:
        return self.env.get(name) or default

    @property
    def table_name(self) -> str:
        return self.setting("TABLE_NAME", f"{self.app_name}-{self.name}")

    @property
    def spa_bucket(self) -> str:
        return self.setting("SPA_BUCKET")

    @property
    def spa_slot(self) -> str:
        # A stage with a bucket of its own (dev) serves its page from the bucket root.
        return self.setting("SPA_SLOT", "prod")

    @property
    def distribution_id(self) -> str:
        return self.setting("DISTRIBUTION_ID")

    @property
    def sender_email(self) -> str:
        return self.setting("SENDER_EMAIL")

    @property
    def function_name(self) -> str:
        """The API handler's Lambda name, as Chalice names it."""
        return f"{self.app_name}-{self.name}"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"


def read_config(path: Path | None = None) -> dict[str, Any]:
    path = path or CONFIG_PATH
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path} is missing: run the scripts from a checkout of the repo") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from None


def stage_names(config: dict[str, Any] | None = None) -> list[str]:
    return list((config or read_config()).get("stages", {}))


def load_stage(name: str, config: dict[str, Any] | None = None) -> Stage:
    """The named stage's settings; an unknown name is a UserError listing the real ones."""
    config = config or read_config()
    stages = config.get("stages", {})
    if name not in stages:
        raise UserError(f"unknown stage {name!r}: choose one of {', '.join(stages)}")
    raw = stages[name]
    env = {**config.get("environment_variables", {}), **raw.get("environment_variables", {})}
    return Stage(
        name=name,
        app_name=config.get("app_name", "shipcaptaincrew"),
        api_gateway_stage=raw.get("api_gateway_stage", config.get("api_gateway_stage", "api")),
        env={k: str(v) for k, v in env.items()},
    )


def stage_for_slot(bucket: str, slot: str, config: dict[str, Any] | None = None) -> Stage | None:
    """The stage whose dispatch page is `slot` of `bucket` (its distribution serves it)."""
    config = config or read_config()
    for name in stage_names(config):
        stage = load_stage(name, config)
        if stage.spa_bucket == bucket and stage.spa_slot == slot:
            return stage
    return None


def deployed_rest_api(stage: Stage, deployed_dir: Path | None = None) -> dict[str, Any]:
    """The REST API resource `chalice deploy` recorded for the stage (id and URL)."""
    path = (deployed_dir or DEPLOYED_DIR) / f"{stage.name}.json"
    try:
        deployed = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(
            f"{path} is missing: run `chalice deploy --stage {stage.name}` first, or pass --api-url"
        ) from None
    for resource in deployed.get("resources", []):
        if resource.get("rest_api_url"):
            return resource
    raise UserError(f"{path} records no rest_api_url: pass --api-url")


def deployed_api_url(stage: Stage, deployed_dir: Path | None = None) -> str:
    """The REST API URL `chalice deploy` recorded for the stage."""
    return deployed_rest_api(stage, deployed_dir)["rest_api_url"]


def local_commit() -> str:
    """This checkout's commit, with `-dirty` when tracked files differ from it.

    Files the scripts generate (.chalice/, spa/config.js) do not count: deploy rewrites
    them from deploy/<stage>.toml and what AWS holds.
    """
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    dirty = [path for path in changed if not path.startswith(GENERATED_PATHS)]
    return head + ("-dirty" if dirty else "")


# The settings bootstrap reads back from AWS (scripts/stage_settings.py): each deploy
# rewrites them before `chalice deploy`, so they are never part of what was tested.
DERIVED_SETTINGS = ("DISTRIBUTION_ID", "TABLE_STREAM_ARN")


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def without_derived(config_text: str) -> Any:
    """A config.json with every stage's AWS-derived settings blanked."""
    config = json.loads(config_text)
    for block in config.get("stages", {}).values():
        env = block.get("environment_variables", {})
        for name in DERIVED_SETTINGS:
            if name in env:
                env[name] = ""
    return config


def same_release(tested: str, here: str) -> bool:
    """True when two commits differ at most in the settings derived from AWS.

    Committing the derived files after a bootstrap (the stream ARN, the distribution
    id) moves HEAD but changes no code, page or decided setting: prod may still take
    what staging tested from the commit before.
    """
    if tested == here:
        return True
    changed = _git("diff", "--name-only", tested, here)
    if changed is None:
        return False
    paths = [line for line in changed.splitlines() if line.strip()]
    config = ".chalice/config.json"
    if any(path != config for path in paths):
        return False
    before, after = _git("show", f"{tested}:{config}"), _git("show", f"{here}:{config}")
    if before is None or after is None:
        return False
    try:
        return bool(without_derived(before) == without_derived(after))
    except json.JSONDecodeError:
        return False


# --- boto3 ------------------------------------------------------------------------


def session(profile: str | None = None, region: str | None = None) -> Any:
    import boto3

    made = boto3.Session(profile_name=profile or None, region_name=region or None)
    # Remember each request as it is built, so a refusal can name the call and what it
    # was about (botocore's ClientError carries the operation, not its parameters).
    made.events.register("before-parameter-build", remember_call)
    return made


@dataclass
class Call:
    """The AWS request a script made last: service, operation, region and parameters."""

    service: str = ""
    operation: str = ""
    region: str = ""
    params: dict[str, Any] = field(default_factory=dict)


LAST_CALL = Call()
# The parameters that say which resource a request is about, in the order shown.
RESOURCE_PARAMS = (
    "TableName",
    "Bucket",
    "Key",
    "Prefix",
    "SecretId",
    "Name",
    "Id",
    "DistributionId",
    "FunctionName",
    "restApiId",
    "RoleName",
    "CertificateArn",
    "HostedZoneId",
    "IndexName",
    "StreamArn",
    "EmailIdentity",
    "LogGroupName",
)


def remember_call(params: dict[str, Any], model: Any, context: Any = None, **_: Any) -> None:
    LAST_CALL.service = model.service_model.service_name
    LAST_CALL.operation = model.name
    LAST_CALL.region = (context or {}).get("client_region") or ""
    LAST_CALL.params = {k: params[k] for k in RESOURCE_PARAMS if params.get(k)}


def add_aws_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help="AWS profile to use (default: the usual boto3 chain)")
    parser.add_argument(
        "--region", help="AWS region (default: the stage's region in deploy/<stage>.toml)"
    )


def clients(args: argparse.Namespace) -> Callable[[str], Any]:
    """A client factory for the profile and region on the command line."""
    region = getattr(args, "region", None) or _settings_region(getattr(args, "stage", None))
    boto = session(getattr(args, "profile", None), region)
    made: dict[str, Any] = {}

    def make(service: str) -> Any:
        """`service`, or `service@region` for one that must live in a given region."""
        if service not in made:
            name, _, fixed = service.partition("@")
            region = fixed or (CLOUDFRONT_REGION if name == "cloudfront" else None)
            made[service] = boto.client(name, region_name=region)
        return made[service]

    return make


def _settings_region(stage: str | None) -> str | None:
    """The region in deploy/<stage>.toml: the operator's choice, over the profile's default.

    Read here, beneath stage_settings (which checks the whole file), so the scripts'
    imports run one way: stage_settings uses awstools, never the reverse.
    """
    if not stage:
        return None
    path = SETTINGS_DIR / f"{stage}.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from None
    region = raw.get("region")
    return region if isinstance(region, str) and region else None


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


# --- output -----------------------------------------------------------------------


def say(message: str = "", stream: TextIO | None = None) -> None:
    print(message, file=stream or sys.stdout, flush=True)


def step(message: str) -> None:
    """A step heading: what the script is about to do."""
    say(f"==> {message}")


def detail(message: str) -> None:
    say(f"    {message}")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table, columns padded to their widest cell."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def confirm(question: str, assume_yes: bool, stdin: TextIO | None = None) -> bool:
    """Ask before a change that is hard to undo; `--yes` answers for the user.

    With no terminal to ask on (CI, a pipe), refuse rather than guess.
    """
    if assume_yes:
        return True
    stdin = stdin or sys.stdin
    if stdin is None or not stdin.isatty():
        raise UserError(
            f"{question} needs a yes, and there is no terminal to ask: rerun with --yes"
        )
    sys.stdout.write(f"{question} [y/N] ")
    sys.stdout.flush()
    answer = stdin.readline().strip().lower()
    return answer in ("y", "yes")


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `2d` (a bare number is minutes)."""
    match = _DURATION.match(text or "")
    if not match:
        raise UserError(f"cannot read {text!r} as a duration: use e.g. 30m, 1h, 2d")
    amount, unit = int(match.group(1)), match.group(2) or "m"
    return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})


# --- CloudFront -------------------------------------------------------------------


def invalidate(cloudfront: Any, distribution_id: str, paths: Sequence[str]) -> str:
    """Start an invalidation of `paths` and return its id."""
    unique = sorted(set(paths))
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(unique), "Items": unique},
            # Unique per call: CloudFront treats a repeated reference as the same request.
            "CallerReference": f"shipcaptaincrew-{time.time_ns()}",
        },
    )
    return answer["Invalidation"]["Id"]


# --- running ----------------------------------------------------------------------


def guard(run: Callable[[], int]) -> int:
    """Run a script body; turn the expected failures into one line and an exit code."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
        ProfileNotFound,
    )

    try:
        return run()
    except UserError as exc:
        say(f"error: {exc}", sys.stderr)
        return 2
    except NoCredentialsError:
        say(
            "error: no AWS credentials found: run `aws configure` (or `aws sso login`), "
            "or pass --profile",
            sys.stderr,
        )
        return 2
    except NoRegionError:
        say("error: no AWS region: pass --region or set AWS_REGION", sys.stderr)
        return 2
    except ProfileNotFound as exc:
        say(f"error: {exc}", sys.stderr)
        return 2
    except ClientError as exc:
        say(f"error: {refusal(exc)}", sys.stderr)
        return 1
    except BotoCoreError as exc:
        say(f"error: {exc}", sys.stderr)
        return 1
    except KeyboardInterrupt:
        say("\ninterrupted", sys.stderr)
        return 130


# What to do about a refusal, by AWS's error code (or HTTP status, for HEAD requests
# that have no body: "404: Not Found").
_ADVICE = {
    "AccessDenied": "the profile lacks this permission: use an admin profile (--profile) or "
    "ask for {service}:{operation}",
    "AccessDeniedException": "the profile lacks this permission: use an admin profile "
    "(--profile) or ask for {service}:{operation}",
    "UnauthorizedOperation": "the profile lacks this permission: use an admin profile",
    "403": "the profile may not read it, or it belongs to another account: check --profile",
    "ExpiredToken": "the session expired: `aws sso login` (or refresh the credentials), then "
    "run again",
    "ExpiredTokenException": "the session expired: `aws sso login`, then run again",
    "InvalidClientTokenId": "the credentials are not valid: check --profile",
    "UnrecognizedClientException": "the credentials are not valid: check --profile",
    "ThrottlingException": "AWS is limiting the request rate: wait a minute and run again",
    "Throttling": "AWS is limiting the request rate: wait a minute and run again",
    "TooManyRequestsException": "AWS is limiting the request rate: wait a minute and run again",
    "PreconditionFailed": "it changed while this ran: run again",
    "ConditionalCheckFailedException": "it changed while this ran: run again",
    "ResourceInUseException": "it is being changed (creating, updating): wait and run again",
}
_MISSING = {
    "404",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFound",
    "NotFoundException",
    "NoSuchDistribution",
    "ResourceNotFoundException",
    "NoSuchEntity",
}


def refusal(exc: Any, call: Call | None = None) -> str:
    """One line for an AWS refusal: the call, the resource, AWS's words, what to do."""
    call = call or LAST_CALL
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
    message = (error.get("Message") or "").strip().rstrip(".")
    operation = getattr(exc, "operation_name", "") or call.operation
    service = call.service if call.operation == operation else ""
    what = f"{service} {operation}".strip()
    if call.operation == operation and call.params:
        what += " (" + ", ".join(f"{k}={v}" for k, v in call.params.items()) + ")"
    if call.operation == operation and call.region not in ("", "aws-global"):
        what += f" in {call.region}"
    words = f"{code}: {message}" if message and message != code else code
    if code in _MISSING:
        advice = (
            "it does not exist there: check the stage and --region (the stage's region is "
            "in deploy/<stage>.toml), or run scripts/bootstrap.py --stage <stage> to make it"
        )
    else:
        advice = _ADVICE.get(
            code, "the script stopped at this call: fix what AWS names, then run it again"
        )
        advice = advice.format(service=service or "the service", operation=operation)
    return f"AWS refused {what}: {words}. What to do: {advice}"


def run_script(
    build_parser: Callable[[], argparse.ArgumentParser],
    run: Callable[[argparse.Namespace], int],
    argv: list[str] | None = None,
) -> int:
    """A script's `main`: read the command line, then run the body inside `guard()`."""
    args = build_parser().parse_args(argv)
    return guard(lambda: run(args))
