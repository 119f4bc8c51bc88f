"""Create (or bring up to date) what a stage needs on AWS before its code is deployed.

    python scripts/bootstrap.py --stage prod [--dry-run] [--password-stdin]
                                [--reset-password] [--[no-]deletion-protection]

- the DynamoDB table from chalicelib.table.definition, with its date index and stream,
  point-in-time recovery, TTL on `expires_at_epoch`, and deletion protection (on for
  staging and prod; off for dev, whose table is disposable: override with the flags);
- the Secrets Manager secrets the stage's code reads: the token-signing key (random)
  and the crew password's bcrypt hash (asked for twice without echo, or one line on
  stdin with --password-stdin);
- a check that SES may send as the stage's SENDER_EMAIL, with what to do if not.

It only creates what is missing and switches on what is off: it never replaces the
table or a secret, so a second run changes nothing. (A new password needs
--reset-password.) scripts/deploy.py runs the same inspection read-only first, so
code is never deployed before the settings it needs.
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

from chalicelib.db import keys, schema
from scripts import awstools
from scripts.awstools import UserError

PROTECTED_STAGES = {"staging", "prod"}
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
    # What to put in config.json so the outbox's stream handler is deployed, if anything.
    stream_note: str | None = None

    def notes(self) -> list[str]:
        return self.attention + ([self.stream_note] if self.stream_note else [])

    def ok(self, message: str) -> None:
        self.fine.append(message)

    def todo(self, what: str, apply: Callable[[], None], *, essential: bool = False) -> None:
        self.actions.append(Action(what, apply, essential))


# --- inspecting -----------------------------------------------------------------------


def plan_table(plan: Plan, dynamodb: Any, name: str, protect: bool | None) -> None:
    """What the table needs: created, or each missing setting switched on."""
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
            f"create table {name} (on-demand, index {keys.DATE_INDEX}, stream, "
            f"deletion protection {'on' if wanted else 'off'})",
            create,
            essential=True,
        )
        plan.todo(f"turn on TTL ({keys.TTL_ATTRIBUTE}) for {name}", lambda: _ttl(dynamodb, name))
        plan.todo(f"turn on point-in-time recovery for {name}", lambda: _pitr(dynamodb, name))
        return

    plan.ok(f"table {name} exists ({described.get('TableStatus', '?').lower()})")
    indexes = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes") or []}
    if keys.DATE_INDEX not in indexes:
        spec = schema.definition(name)
        index = next(i for i in spec["GlobalSecondaryIndexes"] if i["IndexName"] == keys.DATE_INDEX)
        plan.todo(
            f"add index {keys.DATE_INDEX} to {name}",
            lambda: dynamodb.update_table(
                TableName=name,
                AttributeDefinitions=spec["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            ),
            essential=True,
        )
    else:
        plan.ok(f"index {keys.DATE_INDEX} exists")

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


def stream_setting_note(dynamodb: Any, stage: awstools.Stage) -> str | None:
    """What to do when the stage's TABLE_STREAM_ARN is not the table's stream.

    app.py registers the outbox's stream handler only when TABLE_STREAM_ARN is set
    (Chalice needs the ARN at deploy time); without it crew emails still go out, but
    only on the once-a-minute schedule.
    """
    try:
        described = dynamodb.describe_table(TableName=stage.table_name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        return (
            f"once the table exists, put its stream ARN in .chalice/config.json as "
            f"stages.{stage.name}.environment_variables.TABLE_STREAM_ARN (run bootstrap again to see it)"
        )
    arn = described.get("LatestStreamArn", "")
    if arn and stage.setting("TABLE_STREAM_ARN") == arn:
        return None
    return (
        f'set "TABLE_STREAM_ARN": "{arn}" in .chalice/config.json under '
        f"stages.{stage.name}.environment_variables, then deploy: without it the outbox "
        "emails wait for the once-a-minute schedule"
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


def plan_secrets(
    plan: Plan, secretsmanager: Any, stage: awstools.Stage, reset_password: bool, password: Any
) -> None:
    """The two secrets: created when missing, never replaced (except a password reset)."""
    key_id = stage.setting("TOKEN_SIGNING_KEY_SECRET_ID")
    if _secret_exists(secretsmanager, key_id):
        plan.ok(f"secret {key_id} exists (left as it is)")
    else:
        plan.todo(
            f"create secret {key_id} (a random token-signing key)",
            lambda: secretsmanager.create_secret(
                Name=key_id,
                Description=f"Ship Captain Crew ({stage.name}): signs crew login tokens",
                SecretString=secrets.token_urlsafe(48),
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
            "SES is in the sandbox: it only delivers to verified addresses, so verify each "
            "of CREW_NOTIFY_EMAILS too, or request production access (SES console > "
            "Account dashboard)"
        )


def inspect(
    stage: awstools.Stage,
    clients: Callable[[str], Any],
    *,
    protect: bool | None,
    reset_password: bool = False,
    password: Callable[[], str] | None = None,
) -> Plan:
    """Read what exists and plan what to change. Read-only: deploy's preflight uses it."""
    if not stage.setting("ADMIN_PASS_HASH_SECRET_ID") or not stage.setting(
        "TOKEN_SIGNING_KEY_SECRET_ID"
    ):
        raise UserError(
            f"stage {stage.name} reads its secrets from the environment (a local stage): "
            "there is nothing to bootstrap on AWS (`make run` sets up the local stack)"
        )
    plan = Plan()
    plan_table(plan, clients("dynamodb"), stage.table_name, protect)
    plan_secrets(plan, clients("secretsmanager"), stage, reset_password, password or _no_password)
    check_ses(plan, clients("sesv2"), stage)
    plan.stream_note = stream_setting_note(clients("dynamodb"), stage)
    if plan.stream_note is None:
        plan.ok("TABLE_STREAM_ARN in .chalice/config.json is the table's stream")
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
        description="Create or update the stage's table, secrets and SES check (idempotent)."
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--dry-run", action="store_true", help="say what would change only")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the crew password from the first line of stdin (automation)",
    )
    parser.add_argument(
        "--reset-password", action="store_true", help="store a new crew password hash"
    )
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
    awstools.step(f"Inspecting stage {stage.name}")
    plan = inspect(
        stage,
        clients,
        protect=protect,
        reset_password=args.reset_password,
        password=password,
    )
    for line in plan.fine:
        awstools.detail(f"ok: {line}")

    if not plan.actions:
        awstools.step("Nothing to change: everything is in place")
    elif args.dry_run:
        awstools.step(f"Dry run: would make {len(plan.actions)} change(s):")
        for action in plan.actions:
            awstools.detail(action.what)
    else:
        # Ask before changing anything, so a typo leaves no half-made stage behind.
        if plan.needs_password:
            hashed.append(bcrypt_hash(read_password(args.password_stdin)))
        awstools.step(f"Making {len(plan.actions)} change(s)")
        for action in plan.actions:
            awstools.detail(action.what)
            action.apply()
        awstools.step("Done")
        # A table made just now has a stream ARN to report.
        plan.stream_note = stream_setting_note(clients("dynamodb"), stage)

    for line in plan.notes():
        awstools.say(f"ACTION NEEDED: {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
