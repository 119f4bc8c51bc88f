#!/usr/bin/env python3
"""Create (or bring up to date) everything a stage needs on AWS, from an empty account.

    python scripts/bootstrap.py --stage prod [--dry-run] [--yes] [--password-stdin]
                                [--domain NAME] [--reset-password]
                                [--rotate-origin-verify] [--[no-]deletion-protection]
                                [--reindex-ledger]

It reads deploy/<stage>.toml, inspects the account, prints the plan, asks (--yes for
automation), applies it and prints what it made:

- the DynamoDB table from chalicelib.db.schema.definition, with its date and day indexes
  and stream (an index added to an existing table is waited for; when the day index is
  added, the ledger entries already stored are put on it, once: --reindex-ledger reruns it),
  point-in-time recovery, TTL on `expires_at_epoch`, and deletion protection (on for
  staging and prod; off for dev, whose table is disposable: override with the flags);
- the Secrets Manager secrets the stage's code reads: the token-signing key and the
  origin-verify value (random), and the crew password's bcrypt hash (asked for twice
  without echo, or one line on stdin with --password-stdin);
- a check that SES may send as the stage's sender and has production access;
- the site (scripts/site_setup.py): buckets, origin access control, security headers
  policy, the stage's CloudFront distribution with access logs, the bucket policy, and
  with a domain its certificate (us-east-1) and DNS records;
- then .chalice/config.json, the stage's policy and spa/config.js from the settings
  and what it found (scripts/stage_settings.py).

It only creates what is missing and switches on what is off: a second run changes
nothing. --reset-password stores a new password hash AND a new token-signing key (every
crew login ends). --rotate-origin-verify puts a new origin-verify value in the secret,
waits for the app's secret cache to turn over, then sends the new value from CloudFront.
scripts/deploy.py runs the same table-and-secrets inspection read-only first.
"""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from chalicelib.db import keys, schema
from scripts import awstools, configure_cloudfront, ledger_index, site_setup, stage_settings
from scripts.awstools import UserError

PROTECTED_STAGES = {"staging", "prod"}
# What each index is for, as the plan says it.
INDEX_PURPOSE = {
    keys.DATE_INDEX: "trips by date, the outbox, accounts",
    keys.LEDGER_DAY_INDEX: "the ledger by the day money changed hands: the cash-up",
}
# How long to wait for a new index to turn active: 10 s polls, an hour at most.
INDEX_WAIT_POLLS = 360
# How long the app may keep a secret value cached; a rotation waits this long between
# putting the new value in Secrets Manager and sending it from CloudFront.
ORIGIN_VERIFY_GRACE_SECONDS = 300
MIN_PASSWORD_CHARS = 10
# bcrypt reads at most 72 bytes, and bcrypt 5 refuses longer input outright.
MAX_PASSWORD_BYTES = 72


@dataclass
class Action:
    """One change bootstrap would make."""

    what: str
    apply: Callable[[], None]
    # Without it the deployed code cannot serve requests (deploy refuses to go ahead).
    essential: bool = False


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    fine: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)
    needs_password: bool = False

    def notes(self) -> list[str]:
        return list(self.attention)

    def ok(self, message: str) -> None:
        self.fine.append(message)

    def todo(self, what: str, apply: Callable[[], None], *, essential: bool = False) -> None:
        self.actions.append(Action(what, apply, essential))


# --- inspecting -----------------------------------------------------------------------


def plan_table(
    plan: Plan, dynamodb: Any, name: str, protect: bool | None, *, reindex: bool = False
) -> None:
    """What the table needs: created, or each missing setting switched on. `reindex`:
    put the ledger's entries on the day index again (a rerun of the one-time step)."""
    try:
        described = dynamodb.describe_table(TableName=name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        described = None

    if described is None:
        wanted = bool(protect)

        def create() -> None:
            dynamodb.create_table(**schema.definition(name), DeletionProtectionEnabled=wanted)
            awstools.detail("waiting for the table to become active")
            dynamodb.get_waiter("table_exists").wait(
                TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 90}
            )

        plan.todo(
            f"create table {name} (on-demand, indexes {keys.DATE_INDEX} and"
            f" {keys.LEDGER_DAY_INDEX}, stream, "
            f"deletion protection {'on' if wanted else 'off'})",
            create,
            essential=True,
        )
        plan.todo(f"turn on TTL ({keys.TTL_ATTRIBUTE}) for {name}", lambda: _ttl(dynamodb, name))
        plan.todo(f"turn on point-in-time recovery for {name}", lambda: _pitr(dynamodb, name))
        return

    plan.ok(f"table {name} exists ({described.get('TableStatus', '?').lower()})")
    indexes = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes") or []}
    spec = schema.definition(name)
    for index in spec["GlobalSecondaryIndexes"]:
        index_name = index["IndexName"]
        if index_name in indexes:
            plan.ok(f"index {index_name} exists")
            continue
        plan.todo(
            f"add index {index_name} to {name} ({INDEX_PURPOSE[index_name]})",
            lambda index=index: _add_index(dynamodb, name, spec, index),
            essential=True,
        )
        # The app puts new entries on it; the older ones are put there once.
        reindex = reindex or index_name == keys.LEDGER_DAY_INDEX
    if reindex:
        _plan_ledger_days(plan, dynamodb, name)

    stream = described.get("StreamSpecification") or {}
    wanted_stream = schema.definition(name)["StreamSpecification"]
    if (
        stream.get("StreamEnabled")
        and stream.get("StreamViewType") == wanted_stream["StreamViewType"]
    ):
        plan.ok(f"stream on ({stream['StreamViewType']})")
    elif stream.get("StreamEnabled"):
        plan.attention.append(
            f"the table's stream is {stream.get('StreamViewType')}, the code expects "
            f"{wanted_stream['StreamViewType']}: a stream's view type cannot be changed in "
            "place (turn it off, then run bootstrap again)"
        )
    else:
        plan.todo(
            f"turn on the table stream ({wanted_stream['StreamViewType']})",
            lambda: dynamodb.update_table(TableName=name, StreamSpecification=wanted_stream),
            essential=True,
        )

    protected = bool(described.get("DeletionProtectionEnabled"))
    if protect is None or protect == protected:
        plan.ok(f"deletion protection {'on' if protected else 'off'}")
    else:
        plan.todo(
            f"turn deletion protection {'on' if protect else 'off'} for {name}",
            lambda: dynamodb.update_table(TableName=name, DeletionProtectionEnabled=protect),
        )

    ttl = dynamodb.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        if ttl.get("AttributeName") == keys.TTL_ATTRIBUTE:
            plan.ok(f"TTL on ({keys.TTL_ATTRIBUTE})")
        else:
            plan.attention.append(
                f"TTL is on for {ttl.get('AttributeName')!r}, not {keys.TTL_ATTRIBUTE!r}: "
                "turn it off, wait an hour (AWS's rule), then run bootstrap again"
            )
    else:
        plan.todo(f"turn on TTL ({keys.TTL_ATTRIBUTE}) for {name}", lambda: _ttl(dynamodb, name))

    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
    if pitr == "ENABLED":
        plan.ok("point-in-time recovery on")
    else:
        plan.todo(f"turn on point-in-time recovery for {name}", lambda: _pitr(dynamodb, name))


def _add_index(dynamodb: Any, name: str, spec: dict[str, Any], index: dict[str, Any]) -> None:
    """Create one index (one per UpdateTable, AWS's rule) and wait until it is active:
    DynamoDB fills it from the items already in the table meanwhile."""
    dynamodb.update_table(
        TableName=name,
        AttributeDefinitions=spec["AttributeDefinitions"],
        GlobalSecondaryIndexUpdates=[{"Create": index}],
    )
    for waited in range(INDEX_WAIT_POLLS):
        described = dynamodb.describe_table(TableName=name)["Table"]
        status = next(
            (
                i.get("IndexStatus", "ACTIVE")
                for i in described.get("GlobalSecondaryIndexes") or []
                if i["IndexName"] == index["IndexName"]
            ),
            "CREATING",
        )
        if status == "ACTIVE":
            return
        awstools.detail(f"index {index['IndexName']} is {status.lower()} ({waited * 10} s)")
        _sleep(10)
    raise UserError(
        f"index {index['IndexName']} of {name} is still not active: run bootstrap again later"
    )


def _plan_ledger_days(plan: Plan, dynamodb: Any, name: str) -> None:
    def index_them() -> None:
        def progress(examined: int, put: int) -> None:
            awstools.detail(f"{examined} items examined, {put} ledger entries put on the index")

        put = ledger_index.index_ledger_days(dynamodb, name, progress)
        awstools.detail(f"{put} ledger entries put on index {keys.LEDGER_DAY_INDEX}")

    plan.todo(
        f"put the ledger entries already in {name} on index {keys.LEDGER_DAY_INDEX}"
        " (one Scan of the table; entries already on it are left alone)",
        index_them,
        essential=True,
    )


def _ttl(dynamodb: Any, name: str) -> None:
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": keys.TTL_ATTRIBUTE},
    )


def _pitr(dynamodb: Any, name: str) -> None:
    dynamodb.update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )


def _secret_exists(secretsmanager: Any, secret_id: str) -> bool:
    try:
        described = secretsmanager.describe_secret(SecretId=secret_id)
    except secretsmanager.exceptions.ResourceNotFoundException:
        return False
    if described.get("DeletedDate"):
        raise UserError(
            f"secret {secret_id} is scheduled for deletion: restore it with "
            f"`aws secretsmanager restore-secret --secret-id {secret_id}`, then run again"
        )
    return True


def _random_secret() -> str:
    return secrets.token_urlsafe(48)


def plan_secrets(
    plan: Plan,
    secretsmanager: Any,
    stage: awstools.Stage,
    reset_password: bool,
    password: Any,
) -> None:
    """The stage's secrets: created when missing, never replaced (except a reset)."""
    key_id = stage.setting("TOKEN_SIGNING_KEY_SECRET_ID")
    if _secret_exists(secretsmanager, key_id):
        if reset_password:
            plan.todo(
                f"store a new token-signing key in {key_id}: EVERY CREW LOGIN ENDS "
                "(everyone logs in again with the new password)",
                lambda: secretsmanager.put_secret_value(
                    SecretId=key_id, SecretString=_random_secret()
                ),
            )
        else:
            plan.ok(f"secret {key_id} exists (left as it is)")
    else:
        plan.todo(
            f"create secret {key_id} (a random token-signing key)",
            lambda: secretsmanager.create_secret(
                Name=key_id,
                Description=f"Ship Captain Crew ({stage.name}): signs crew login tokens",
                SecretString=_random_secret(),
            ),
            essential=True,
        )

    verify_id = stage.setting("ORIGIN_VERIFY_SECRET_ID")
    if verify_id:
        if _secret_exists(secretsmanager, verify_id):
            plan.ok(f"secret {verify_id} exists (--rotate-origin-verify to change it)")
        else:
            plan.todo(
                f"create secret {verify_id} (CloudFront's proof to the API, random)",
                lambda: secretsmanager.create_secret(
                    Name=verify_id,
                    Description=f"Ship Captain Crew ({stage.name}): the X-Origin-Verify "
                    "value CloudFront sends the API",
                    SecretString=_random_secret(),
                ),
                essential=True,
            )

    hash_id = stage.setting("ADMIN_PASS_HASH_SECRET_ID")
    if _secret_exists(secretsmanager, hash_id):
        if reset_password:
            plan.needs_password = True
            plan.todo(
                f"store a new crew password hash in {hash_id}",
                lambda: secretsmanager.put_secret_value(SecretId=hash_id, SecretString=password()),
            )
        else:
            plan.ok(f"secret {hash_id} exists (--reset-password to change the password)")
    else:
        plan.needs_password = True
        plan.todo(
            f"create secret {hash_id} (the crew password's bcrypt hash; asks for the password)",
            lambda: secretsmanager.create_secret(
                Name=hash_id,
                Description=f"Ship Captain Crew ({stage.name}): bcrypt hash of the crew password",
                SecretString=password(),
            ),
            essential=True,
        )


def plan_origin_verify_rotation(
    plan: Plan, clients: Callable[[str], Any], stage: awstools.Stage, grace_seconds: float
) -> None:
    """A new origin-verify value, in the order that refuses no request.

    1. the new value goes into the secret (AWSCURRENT); the old one becomes AWSPREVIOUS,
       and the app accepts both, so CloudFront's old header still passes;
    2. wait for the app's cached secret values to expire, so every warm function knows
       the new value before it arrives;
    3. CloudFront sends the new value (the distribution deploys it edge by edge over a
       few minutes: both values are in flight meanwhile, and both pass).
    The previous value stays accepted until the next rotation.
    """
    secretsmanager = clients("secretsmanager")
    verify_id = stage.setting("ORIGIN_VERIFY_SECRET_ID")
    if not verify_id or not _secret_exists(secretsmanager, verify_id):
        raise UserError(f"stage {stage.name} has no origin-verify secret yet: run bootstrap first")
    settings = stage_settings.load(stage.name)
    cloudfront = clients("cloudfront")
    summary = stage_settings.find_distribution(cloudfront, settings)
    if summary is not None and summary.get("Status") != "Deployed":
        raise UserError(
            f"distribution {summary['Id']} is still deploying the last change: rotate once "
            "it shows Deployed, or the value before last could still be in flight"
        )
    value: list[str] = []

    def put() -> None:
        value.append(_random_secret())
        secretsmanager.put_secret_value(SecretId=verify_id, SecretString=value[0])

    plan.todo(f"put a new value in {verify_id} (the old one stays accepted as AWSPREVIOUS)", put)
    plan.todo(
        f"wait {grace_seconds:g} s so every warm function has re-read {verify_id}",
        lambda: _sleep(grace_seconds),
    )
    if summary is None:
        plan.attention.append("no distribution yet: the new value reaches it when it is made")
        return

    def send() -> None:
        answer = cloudfront.get_distribution_config(Id=summary["Id"])
        config = answer["DistributionConfig"]
        if configure_cloudfront.origin_verify_of(config) is None:
            awstools.detail("the distribution has no API origin yet: deploy adds it")
            return
        cloudfront.update_distribution(
            Id=summary["Id"],
            IfMatch=answer["ETag"],
            DistributionConfig=configure_cloudfront.set_origin_verify(config, value[0]),
        )

    plan.todo(
        f"send the new value as {configure_cloudfront.ORIGIN_VERIFY_HEADER} from distribution "
        f"{summary['Id']} (deploys in 5-15 minutes; both values pass meanwhile)",
        send,
    )


def _sleep(seconds: float) -> None:
    import time

    remaining = seconds
    while remaining > 0:
        awstools.detail(f"{remaining:.0f} s to go")
        step = min(30.0, remaining)
        time.sleep(step)
        remaining -= step


def check_ses(plan: Plan, sesv2: Any, stage: awstools.Stage) -> None:
    """SES must let the stage send as SENDER_EMAIL (the address, or its whole domain)."""
    sender = stage.sender_email
    if not sender:
        plan.attention.append(f"stage {stage.name} has no SENDER_EMAIL in .chalice/config.json")
        return
    domain = sender.rsplit("@", 1)[-1]
    verified = None
    for identity in (sender, domain):
        try:
            found = sesv2.get_email_identity(EmailIdentity=identity)
        except sesv2.exceptions.NotFoundException:
            continue
        if found.get("VerifiedForSendingStatus"):
            verified = identity
            break
    if verified:
        plan.ok(f"SES may send as {sender} (verified: {verified})")
    else:
        plan.attention.append(
            f"SES may not send as {sender} yet. Verify the address: `aws sesv2 "
            f"create-email-identity --email-identity {sender}` and click the link AWS emails "
            f"to it; or verify the domain {domain} (SES console > Identities, add the DKIM "
            "records). Until then payments still log, but crew emails fail."
        )
    try:
        account = sesv2.get_account()
    except Exception:  # an optional hint: some accounts and emulators lack GetAccount
        return
    if not account.get("ProductionAccessEnabled", True):
        plan.attention.append(
            "SES is in the sandbox: it delivers only to verified addresses, and patrons' "
            "waiver copies go to addresses nobody can verify. Production access is REQUIRED "
            "before patrons use the site: request it now (SES console > Account dashboard > "
            "Request production access; AWS reviews it, usually within a day). Meanwhile "
            "verify each crew address to test with."
        )


def inspect(
    stage: awstools.Stage,
    clients: Callable[[str], Any],
    *,
    protect: bool | None,
    reset_password: bool = False,
    password: Callable[[], str] | None = None,
    site: site_setup.Site | None = None,
    reindex: bool = False,
) -> Plan:
    """Read what exists and plan what to change. Read-only: deploy's preflight uses it
    without a `site` (the table and secrets are what the code needs)."""
    if not stage.setting("ADMIN_PASS_HASH_SECRET_ID") or not stage.setting(
        "TOKEN_SIGNING_KEY_SECRET_ID"
    ):
        raise UserError(
            f"stage {stage.name} reads its secrets from the environment (a local stage): "
            "there is nothing to bootstrap on AWS (`make run` sets up the local stack)"
        )
    plan = Plan()
    plan_table(plan, clients("dynamodb"), stage.table_name, protect, reindex=reindex)
    plan_secrets(plan, clients("secretsmanager"), stage, reset_password, password or _no_password)
    check_ses(plan, clients("sesv2"), stage)
    if site is not None:
        site_setup.plan_site(plan, site)
    return plan


def _no_password() -> str:
    raise UserError("a password is needed but none was given")


# --- the password ----------------------------------------------------------------------


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"the crew password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise UserError(f"the crew password may be at most {MAX_PASSWORD_BYTES} bytes (bcrypt)")
    return password


def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str:
    """The new crew password: one line on stdin, or asked twice on the terminal."""
    stdin = stdin or sys.stdin
    if from_stdin:
        return check_password(stdin.readline().rstrip("\r\n"))
    if stdin is None or not stdin.isatty():
        raise UserError(
            "the crew password is needed and there is no terminal to ask on: "
            "pipe it in with --password-stdin"
        )
    first = getpass.getpass("New crew password: ")
    if getpass.getpass("Again: ") != first:
        raise UserError("the two passwords differ: nothing was changed")
    return check_password(first)


def bcrypt_hash(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


# --- main --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Create or update everything the stage needs on AWS: table, secrets, "
        "SES check, bucket, CloudFront distribution, certificate and DNS (idempotent)."
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--dry-run", action="store_true", help="say what would change only")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the crew password from the first line of stdin (automation)",
    )
    parser.add_argument(
        "--reset-password",
        action="store_true",
        help="store a new crew password hash and a new token-signing key (every login ends)",
    )
    parser.add_argument(
        "--rotate-origin-verify",
        action="store_true",
        help="new origin-verify secret: into Secrets Manager, wait, then into CloudFront",
    )
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=ORIGIN_VERIFY_GRACE_SECONDS,
        help="rotation: how long to wait for warm functions to re-read the secret",
    )
    parser.add_argument(
        "--reindex-ledger",
        action="store_true",
        help=f"put ledger entries missing from index {keys.LEDGER_DAY_INDEX} on it again "
        "(bootstrap does it once when it adds the index; this reruns it: one Scan)",
    )
    parser.add_argument("--domain", help="the site's name (default: domain in deploy/<stage>.toml)")
    parser.add_argument("--yes", action="store_true", help="do not ask before changing AWS")
    parser.add_argument(
        "--deletion-protection",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="table deletion protection (default: on for staging and prod; "
        "a table that has it keeps it)",
    )
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    protect = args.deletion_protection
    if protect is None and stage.name in PROTECTED_STAGES:
        protect = True
    hashed: list[str] = []

    def password() -> str:
        return hashed[0]

    clients = awstools.clients(args)
    settings = stage_settings.load(stage.name) if stage_settings.has_settings(stage.name) else None
    site = None
    if settings is not None:
        domain = (args.domain or settings.domain).lower().rstrip(".")
        site = site_setup.Site(settings, stage, clients, domain)
        awstools.step(
            f"Inspecting stage {stage.name} in {settings.region} ({stage_settings.settings_path(stage.name).name})"
        )
    else:
        awstools.step(f"Inspecting stage {stage.name}")
    plan = inspect(
        stage,
        clients,
        protect=protect,
        reset_password=args.reset_password,
        password=password,
        site=site,
        reindex=args.reindex_ledger,
    )
    if args.rotate_origin_verify:
        plan_origin_verify_rotation(plan, clients, stage, args.grace_seconds)
    for line in plan.fine:
        awstools.detail(f"ok: {line}")

    if not plan.actions:
        awstools.step("Nothing to change: everything is in place")
    else:
        awstools.step(f"Plan: {len(plan.actions)} change(s):")
        for number, action in enumerate(plan.actions, start=1):
            awstools.detail(f"{number}. {action.what}")
        if args.dry_run:
            awstools.step("Dry run: nothing changed")
        else:
            # The password first, then the question: a typo leaves no half-made stage.
            if plan.needs_password:
                hashed.append(bcrypt_hash(read_password(args.password_stdin)))
            if not awstools.confirm(
                f"Make these {len(plan.actions)} change(s) to {stage.name}?", args.yes
            ):
                awstools.say("Nothing changed.")
                return 1
            awstools.step(f"Making {len(plan.actions)} change(s)")
            for action in plan.actions:
                awstools.detail(action.what)
                action.apply()
            if site is not None and site.report:
                awstools.step("Made:")
                for line in site.report:
                    awstools.detail(line)
            if args.reset_password:
                awstools.say(
                    "NOTE: the token-signing key is new: every crew login has ended; crew log "
                    "in again with the new password (warm functions pick it up within minutes; "
                    "deploy to make it immediate)"
                )
            awstools.step("Done")

    if settings is not None:
        awstools.step("Settings derived from the stage (scripts/stage_settings.py)")
        stage_settings.sync(stage.name, clients, check=False, dry_run=args.dry_run)
        if args.domain and args.domain.lower().rstrip(".") != settings.domain:
            plan.attention.append(
                f'put domain = "{site.domain}" in {stage_settings.settings_path(stage.name)} '
                "so the next run and deploy use it too"
            )
        plan.attention += site.notes + site_setup.dns_notes(site)
        if site.made.get("certificate_status") == "PENDING_VALIDATION":
            plan.attention.append(
                f"the certificate for {site.domain} waits for its DNS record; once ACM shows "
                "it Issued (5-30 minutes after the record is visible), run bootstrap again to "
                "put the domain on the distribution"
            )
    for line in plan.notes():
        awstools.say(f"ACTION NEEDED: {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
