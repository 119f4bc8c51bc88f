#!/usr/bin/env python3
"""One settings file per stage (deploy/<stage>.toml), and everything derived from it.

    python scripts/stage_settings.py --stage prod [--check] [--offline] [--dry-run]

The operator decides a handful of things per stage and writes them once, in
deploy/<stage>.toml (committed; never a secret): region, domain, sender, crew and shore
emails, the operator's name (receipts are signed with it) and time zone, the site
bucket. What bootstrap made is read back from AWS each time (the table's stream ARN, the
stage's distribution id), so nothing has to be copied by hand and a `git checkout` of an
older config cannot drop it.

From those two sources this writes:
- the stage's block of .chalice/config.json (its environment variables, its REGIONAL
  API endpoint) and the global OPERATOR_TZ;
- .chalice/policy-<stage>.json, the stage's least-privilege IAM policy (the sender's
  address appears in it, so it is generated, not hand-edited);
- the OPERATOR_TZ line of spa/config.js.

`--check` writes nothing and exits 1 listing every difference (deploy.py runs it).
`--offline` skips AWS and keeps the discovered values config.json already holds.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from scripts import awstools
from scripts.awstools import UserError

SPA_CONFIG = awstools.SPA_DIR / "config.js"
AWS_STAGES = ("dev", "staging", "prod")
# The secrets each AWS stage's code reads (Secrets Manager names under the stage).
SECRETS = {
    "ADMIN_PASS_HASH_SECRET_ID": "admin-pass-hash",
    "TOKEN_SIGNING_KEY_SECRET_ID": "token-signing-key",
    "ORIGIN_VERIFY_SECRET_ID": "origin-verify",
}
# Where CloudFront's standard logs go inside the log bucket; verify_deploy reads them.
CLOUDFRONT_LOG_PREFIX = "cloudfront/{stage}/"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
DEFAULT_OPERATOR_NAME = "Ship Captain Crew"
OPERATOR_NAME_MAX = 80
# The stage's Lambda functions as Chalice names them (app.py): the REST API's handler,
# the authorizer, the outbox's stream handler and its one-minute schedule.
FUNCTIONS = ("api_handler", "crew", "deliver_new_emails", "drain_email_outbox")
# Limits under a flood (issue 22), when the settings file does not say.
DEFAULT_API_RATE_LIMIT = 25.0  # requests per second, steady, for the whole API
DEFAULT_API_BURST_LIMIT = 50
DEFAULT_LOG_RETENTION_DAYS = 90
DEFAULT_RESERVED_CONCURRENCY = {
    "api_handler": 10,
    "crew": 4,
    "deliver_new_emails": 2,
    # One drain at a time: two would race for the same outbox items.
    "drain_email_outbox": 1,
}
# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_CHOICES = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip
# Control characters (newline, tab, ...) and line/paragraph separators: the name goes
# into a receipt's subject line and text, where a line break would be a new header.
_NOT_IN_A_NAME = ("Cc", "Zl", "Zp")


@dataclass(frozen=True)
class Settings:
    """What the operator decided for one stage (deploy/<stage>.toml)."""

    stage: str
    region: str
    account_id: str
    sender: str
    crew_emails: tuple[str, ...]
    operator_tz: str
    site_bucket: str
    spa_slot: str = "prod"
    domain: str = ""
    shore_emails: tuple[str, ...] = ()
    operator_name: str = DEFAULT_OPERATOR_NAME
    # How patrons reach the operator, as the waiver copy says ("" : the sender address).
    operator_contact: str = ""
    # Who the stage's alarms email (the owner): SNS asks them to confirm once.
    alarm_email: str = ""
    api_rate_limit: float = DEFAULT_API_RATE_LIMIT
    api_burst_limit: int = DEFAULT_API_BURST_LIMIT
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    # (function, copies) pairs; a function left out has no reservation.
    reserved_concurrency: tuple[tuple[str, int], ...] = tuple(DEFAULT_RESERVED_CONCURRENCY.items())
    app_name: str = "shipcaptaincrew"

    def secret_id(self, variable: str) -> str:
        return f"{self.app_name}/{self.stage}/{SECRETS[variable]}"

    @property
    def table_name(self) -> str:
        return f"{self.app_name}-{self.stage}"

    @property
    def log_bucket(self) -> str:
        return f"{self.site_bucket}-logs"

    @property
    def log_prefix(self) -> str:
        return CLOUDFRONT_LOG_PREFIX.format(stage=self.stage)

    def function_name(self, function: str) -> str:
        """A function's name in Lambda (Chalice names the API's handler after the stage)."""
        base = f"{self.app_name}-{self.stage}"
        return base if function == "api_handler" else f"{base}-{function}"

    @property
    def access_log_group(self) -> str:
        """Where API Gateway writes the stage's access log, one line per request."""
        return f"/aws/apigateway/{self.app_name}-{self.stage}/access"


@dataclass
class Discovered:
    """What bootstrap made, read back from AWS (or kept from config.json offline)."""

    stream_arn: str = ""
    distribution_id: str = ""
    notes: list[str] = field(default_factory=list)


def settings_path(stage: str) -> Path:
    return awstools.SETTINGS_DIR / f"{stage}.toml"


def has_settings(stage: str) -> bool:
    return settings_path(stage).is_file()


def load(stage: str) -> Settings:
    """The stage's settings file, checked field by field."""
    path = settings_path(stage)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(
            f"{path} is missing: copy deploy/prod.toml to it and edit it for {stage}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from None
    known = {
        "region",
        "account_id",
        "domain",
        "sender",
        "crew_emails",
        "shore_emails",
        "operator_name",
        "operator_contact",
        "operator_tz",
        "site_bucket",
        "spa_slot",
        "api_rate_limit",
        "api_burst_limit",
        "log_retention_days",
        "reserved_concurrency",
        "alarm_email",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(
            f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    for name in ("region", "account_id", "sender", "crew_emails", "operator_tz", "site_bucket"):
        if not raw.get(name):
            raise UserError(f"{path}: {name} is required")
    account_id = str(raw["account_id"])
    if not re.fullmatch(r"\d{12}", account_id):
        raise UserError(
            f"{path}: account_id {account_id!r} is not an AWS account id (12 digits, as "
            "`aws sts get-caller-identity` prints it)"
        )
    crew = tuple(raw["crew_emails"])
    shore = tuple(raw.get("shore_emails") or ())
    alarm_email = str(raw.get("alarm_email") or "").strip()
    for address in (raw["sender"], *crew, *shore, *([alarm_email] if alarm_email else [])):
        if not isinstance(address, str) or not _EMAIL.match(address):
            raise UserError(f"{path}: {address!r} is not an email address")
    domain = str(raw.get("domain") or "").strip().lower().rstrip(".")
    if domain and not _DOMAIN.match(domain):
        raise UserError(f"{path}: domain {domain!r} is not a host name like crew.example.org")
    slot = raw.get("spa_slot", "prod")
    if slot not in awstools.SLOT_PREFIXES:
        raise UserError(f"{path}: spa_slot must be one of {', '.join(awstools.SLOT_PREFIXES)}")
    operator_name = _operator_name(path, raw.get("operator_name", DEFAULT_OPERATOR_NAME))
    contact = raw.get("operator_contact")
    operator_contact = "" if contact is None else _operator_name(path, contact, "operator_contact")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(raw["operator_tz"])
    except Exception:
        raise UserError(f"{path}: operator_tz {raw['operator_tz']!r} is not a time zone") from None
    rate, burst = _limits(path, raw)
    return Settings(
        stage=stage,
        region=raw["region"],
        account_id=account_id,
        sender=raw["sender"],
        crew_emails=crew,
        operator_tz=raw["operator_tz"],
        site_bucket=raw["site_bucket"],
        spa_slot=slot,
        domain=domain,
        shore_emails=shore,
        operator_name=operator_name,
        operator_contact=operator_contact,
        alarm_email=alarm_email,
        api_rate_limit=rate,
        api_burst_limit=burst,
        log_retention_days=_retention(path, raw),
        reserved_concurrency=_reserved(path, raw),
    )


def _whole(path: Path, name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UserError(
            f"{path}: {name} must be a whole number from {low} to {high}, not {value!r}"
        )
    return value


def _limits(path: Path, raw: dict[str, Any]) -> tuple[float, int]:
    """API Gateway's steady rate (requests per second) and burst for the stage."""
    rate = raw.get("api_rate_limit", DEFAULT_API_RATE_LIMIT)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 1 <= rate <= 10_000:
        raise UserError(
            f"{path}: api_rate_limit must be 1 to 10000 requests per second, not {rate!r}"
        )
    burst = _whole(
        path, "api_burst_limit", raw.get("api_burst_limit", DEFAULT_API_BURST_LIMIT), 1, 5000
    )
    if burst < rate:
        raise UserError(
            f"{path}: api_burst_limit ({burst}) is below api_rate_limit ({rate}): "
            "a burst is at least one second's worth of requests"
        )
    return float(rate), burst


def _retention(path: Path, raw: dict[str, Any]) -> int:
    days = raw.get("log_retention_days", DEFAULT_LOG_RETENTION_DAYS)
    if days not in LOG_RETENTION_CHOICES or isinstance(days, bool):
        raise UserError(
            f"{path}: log_retention_days {days!r} is not one CloudWatch Logs offers "
            f"({', '.join(map(str, LOG_RETENTION_CHOICES))})"
        )
    return int(days)


def _reserved(path: Path, raw: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """[reserved_concurrency]: copies per function; an empty table reserves nothing."""
    table = raw.get("reserved_concurrency", DEFAULT_RESERVED_CONCURRENCY)
    if not isinstance(table, dict):
        raise UserError(f"{path}: reserved_concurrency must be a table like [reserved_concurrency]")
    for name, copies in table.items():
        if name not in FUNCTIONS:
            raise UserError(
                f"{path}: reserved_concurrency.{name}: no such function "
                f"(the functions: {', '.join(FUNCTIONS)})"
            )
        # 0 would stop the function altogether: leave it out to reserve nothing.
        _whole(path, f"reserved_concurrency.{name}", copies, 1, 1000)
    return tuple(sorted(table.items()))


def _operator_name(path: Path, value: Any, setting: str = "operator_name") -> str:
    """operator_name (receipts are signed with it) or operator_contact (the waiver copy
    says it): one short line of text, as it goes into an email."""
    if not isinstance(value, str):
        raise UserError(f"{path}: {setting} must be a string, not {value!r}")
    name = value.strip()
    if not 1 <= len(name) <= OPERATOR_NAME_MAX:
        raise UserError(
            f"{path}: {setting} must be 1 to {OPERATOR_NAME_MAX} characters (it has {len(name)})"
        )
    if any(unicodedata.category(c) in _NOT_IN_A_NAME for c in name):
        raise UserError(
            f"{path}: {setting} {value!r} has a control character (a newline, tab, ...): "
            "it goes into an email, so it must be one line of text"
        )
    return name


def region_for(stage: str) -> str | None:
    """The stage's region from its settings file, when it has one."""
    return load(stage).region if has_settings(stage) else None


# --- what is derived ---------------------------------------------------------------


def environment(settings: Settings, discovered: Discovered) -> dict[str, str]:
    """The stage's environment_variables in .chalice/config.json."""
    env = {
        "STAGE": settings.stage,
        "TABLE_NAME": settings.table_name,
        "SENDER_EMAIL": settings.sender,
        "CREW_NOTIFY_EMAILS": ",".join(settings.crew_emails),
        "SHORE_CONTACT_EMAILS": ",".join(settings.shore_emails),
        "OPERATOR_NAME": settings.operator_name,
        "OPERATOR_CONTACT": settings.operator_contact,
        "SITE_DOMAIN": settings.domain,
        **{name: settings.secret_id(name) for name in SECRETS},
        "SPA_BUCKET": settings.site_bucket,
        "DISTRIBUTION_ID": discovered.distribution_id,
        "TABLE_STREAM_ARN": discovered.stream_arn,
    }
    env["SPA_SLOT"] = settings.spa_slot
    return env


def lambda_functions(settings: Settings) -> dict[str, Any]:
    """The stage's per-function Chalice settings: each function's own IAM policy file
    and its reserved concurrency."""
    functions: dict[str, dict[str, Any]] = {
        name: {"iam_policy_file": function_policy_file(settings.stage, name)} for name in FUNCTIONS
    }
    for name, copies in settings.reserved_concurrency:
        functions[name]["reserved_concurrency"] = copies
    return {"lambda_functions": functions}


def function_policy_file(stage: str, function: str) -> str:
    return f"policy-{stage}-{function}.json"


def function_policies(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each function's own IAM policy: exactly what its code calls, on ARNs that name
    the stage's region and account (tests/test_iam_policy.py checks them against the
    calls the test suite recorded, function by function).

    - api_handler: the table (reads, writes, the throttle counters' deletes) and the
      three secrets (the owner's password hash, the signing key, origin-verify); no email:
      the outbox's functions send it.
    - crew (the authorizer): one GetItem (the account's token version) and the signing key.
    - deliver_new_emails: the table's stream, the outbox item (GetItem, its claim and
      result by UpdateItem), and SES as the stage's sender.
    - drain_email_outbox: the due emails (Query of the outbox index), the overdue watch
      (Query, and the flag with its emails in one TransactWriteItems of Put and Update),
      and SES as the stage's sender.
    """
    where = f"{settings.region}:{settings.account_id}"
    table = f"arn:aws:dynamodb:{where}:table/{settings.table_name}"
    secret = f"arn:aws:secretsmanager:{where}:secret:{settings.app_name}/{settings.stage}"

    def secrets(*names: str) -> dict[str, Any]:
        return {
            "Sid": "StageSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            # Secrets Manager appends six random characters to every secret's ARN.
            "Resource": [f"{secret}/{name}-??????" for name in sorted(names)],
        }

    def table_actions(sid: str, actions: list[str], indexes: bool) -> dict[str, Any]:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions if len(actions) > 1 else actions[0],
            "Resource": [table, f"{table}/index/*"] if indexes else table,
        }

    email = {
        "Sid": "CrewEmail",
        "Effect": "Allow",
        "Action": "ses:SendEmail",
        "Resource": f"arn:aws:ses:{where}:identity/*",
        "Condition": {"StringEquals": {"ses:FromAddress": settings.sender}},
    }

    def logs(function: str) -> list[dict[str, Any]]:
        group = f"arn:aws:logs:{where}:log-group:/aws/lambda/{settings.function_name(function)}"
        return [
            {
                "Sid": "FunctionLogGroup",
                "Effect": "Allow",
                "Action": "logs:CreateLogGroup",
                "Resource": group,
            },
            {
                "Sid": "FunctionLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{group}:log-stream:*",
            },
        ]

    statements: dict[str, list[dict[str, Any]]] = {
        "api_handler": [
            table_actions(
                "TableReadWrite",
                [
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                ],
                indexes=True,
            ),
            {
                "Sid": "ThrottleCountersDelete",
                "Effect": "Allow",
                "Action": "dynamodb:DeleteItem",
                "Resource": table,
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["THROTTLE#*"]},
                    "Null": {"dynamodb:LeadingKeys": "false"},
                },
            },
            secrets(*SECRETS.values()),
        ],
        "crew": [
            table_actions("AccountTokenState", ["dynamodb:GetItem"], indexes=False),
            secrets(SECRETS["TOKEN_SIGNING_KEY_SECRET_ID"]),
        ],
        "deliver_new_emails": [
            table_actions(
                "OutboxItems", ["dynamodb:GetItem", "dynamodb:UpdateItem"], indexes=False
            ),
            *stream_reads(table),
            email,
        ],
        "drain_email_outbox": [
            # Its one transaction (the overdue flag) puts and updates: a transaction's
            # items are authorized one by one, so it needs no ConditionCheckItem.
            table_actions(
                "OutboxAndOverdueWatch",
                [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                ],
                indexes=True,
            ),
            email,
        ],
    }
    return {
        name: {"Version": "2012-10-17", "Statement": [*found, *logs(name)]}
        for name, found in statements.items()
    }


def stream_reads(table: str) -> list[dict[str, Any]]:
    """Reading the table's stream: what the outbox's stream handler needs (Lambda's
    event source mapping reads it with the function's role)."""
    return [
        {
            "Sid": "OutboxStreamRead",
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            "Resource": f"{table}/stream/*",
        },
        {
            "Sid": "OutboxStreamList",
            "Effect": "Allow",
            "Action": "dynamodb:ListStreams",
            "Resource": "*",
        },
    ]


def stage_policy(stage: str, sender: str, app_name: str = "shipcaptaincrew") -> dict[str, Any]:
    """The IAM policy of a stage's functions: exactly the calls the code makes.

    DeleteItem is granted only on throttle counters (keys starting THROTTLE#), the one
    place the code deletes: payments and waivers are append-only.
    """
    table = f"arn:aws:dynamodb:*:*:table/{app_name}-{stage}"
    secret = f"arn:aws:secretsmanager:*:*:secret:{app_name}/{stage}"
    group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{app_name}-{stage}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TableReadWrite",
                "Effect": "Allow",
                "Action": [
                    # A transaction's ConditionCheck (a struck waiver is never boarded).
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                ],
                "Resource": [table, f"{table}/index/*"],
            },
            {
                "Sid": "ThrottleCountersDelete",
                "Effect": "Allow",
                "Action": "dynamodb:DeleteItem",
                "Resource": table,
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["THROTTLE#*"]},
                    "Null": {"dynamodb:LeadingKeys": "false"},
                },
            },
            *stream_reads(table),
            {
                "Sid": "StageSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                # Secrets Manager appends six random characters to every secret's ARN.
                "Resource": [f"{secret}/{name}-??????" for name in sorted(SECRETS.values())],
            },
            {
                "Sid": "CrewEmail",
                "Effect": "Allow",
                "Action": "ses:SendEmail",
                "Resource": "arn:aws:ses:*:*:identity/*",
                "Condition": {"StringEquals": {"ses:FromAddress": sender}},
            },
            {
                "Sid": "FunctionLogGroups",
                "Effect": "Allow",
                "Action": "logs:CreateLogGroup",
                "Resource": [group, f"{group}-*"],
            },
            {
                "Sid": "FunctionLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"{group}:log-stream:*", f"{group}-*:log-stream:*"],
            },
        ],
    }


def policy_text(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def config_text(config: dict[str, Any]) -> str:
    return json.dumps(config, indent=2) + "\n"


def spa_config_text(current: str, operator_tz: str) -> str:
    """spa/config.js with its OPERATOR_TZ set; the rest of the file is left as it is."""
    line = re.compile(r'(export const OPERATOR_TZ\s*=\s*)"[^"]*"')
    if not line.search(current):
        raise UserError(f'{SPA_CONFIG} has no `export const OPERATOR_TZ = "..."` line')
    return line.sub(lambda m: f'{m.group(1)}"{operator_tz}"', current, count=1)


def all_settings(config: dict[str, Any]) -> list[Settings]:
    return [load(name) for name in awstools.stage_names(config) if has_settings(name)]


def shared_zone(settings: list[Settings], config: dict[str, Any]) -> str:
    """The one operator time zone every stage and the dispatch page share."""
    zones = {s.operator_tz for s in settings}
    if len(zones) > 1:
        raise UserError(
            "the stages disagree on operator_tz ("
            + ", ".join(f"{s.stage}: {s.operator_tz}" for s in settings)
            + "): the dispatch page has one zone, so they must agree"
        )
    return zones.pop() if zones else config.get("environment_variables", {}).get("OPERATOR_TZ", "")


@dataclass
class Rendered:
    files: dict[Path, str]


def render(stage: str, discovered: Discovered, config: dict[str, Any] | None = None) -> Rendered:
    """The files as they should be for `stage` (and the settings every stage shares)."""
    config = json.loads(json.dumps(config or awstools.read_config()))
    settings = load(stage)
    if stage not in config.get("stages", {}):
        raise UserError(f"stage {stage} is not in .chalice/config.json")
    zone = shared_zone(all_settings(config), config)
    config.setdefault("environment_variables", {})["OPERATOR_TZ"] = zone
    block = config["stages"][stage]
    extra = {
        k: v
        for k, v in block.items()
        if k
        not in (
            "api_gateway_stage",
            "api_gateway_endpoint_type",
            "iam_policy_file",
            "environment_variables",
        )
    }
    extra.pop("lambda_functions", None)
    config["stages"][stage] = {
        "api_gateway_stage": block.get("api_gateway_stage", "api"),
        # CloudFront is the edge: an EDGE endpoint would put a second CloudFront in front.
        "api_gateway_endpoint_type": "REGIONAL",
        "iam_policy_file": f"policy-{stage}.json",
        **extra,
        "environment_variables": environment(settings, discovered),
        **lambda_functions(settings),
    }
    policy = stage_policy(stage, settings.sender, config.get("app_name", "shipcaptaincrew"))
    spa_now = SPA_CONFIG.read_text() if SPA_CONFIG.exists() else ""
    folder = awstools.CONFIG_PATH.parent
    return Rendered(
        {
            awstools.CONFIG_PATH: config_text(config),
            folder / f"policy-{stage}.json": policy_text(policy),
            **{
                folder / function_policy_file(stage, name): policy_text(document)
                for name, document in function_policies(settings).items()
            },
            SPA_CONFIG: spa_config_text(spa_now, zone),
        }
    )


def differences(rendered: Rendered) -> dict[Path, str]:
    """{file: unified diff} for each file that is not as rendered."""
    out = {}
    for path, wanted in rendered.files.items():
        have = path.read_text() if path.exists() else ""
        if have != wanted:
            diff = difflib.unified_diff(
                have.splitlines(), wanted.splitlines(), str(path), "wanted", lineterm=""
            )
            out[path] = "\n".join(diff)
    return out


def write(rendered: Rendered) -> list[Path]:
    written = []
    for path, text in rendered.files.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


# --- reading back what bootstrap made ------------------------------------------------


def distribution_comment(settings: Settings) -> str:
    """How bootstrap marks the stage's distribution (list_distributions finds it by this)."""
    return f"{settings.app_name}-{settings.stage}"


def find_distribution(cloudfront: Any, settings: Settings) -> dict[str, Any] | None:
    """The stage's distribution summary, found by its comment; None when there is none."""
    wanted = distribution_comment(settings)
    for page in cloudfront.get_paginator("list_distributions").paginate():
        for item in (page.get("DistributionList") or {}).get("Items") or []:
            if item.get("Comment") == wanted:
                return item
    return None


def check_account(settings: Settings, clients: Any) -> None:
    """Refuse to work on an account other than the one the stage's settings name."""
    have = str(clients("sts").get_caller_identity()["Account"])
    if have != settings.account_id:
        raise UserError(
            f"these credentials are for AWS account {have}, but "
            f"{settings_path(settings.stage)} says stage {settings.stage} lives in "
            f"{settings.account_id} (sts GetCallerIdentity): use that account's profile, "
            "or correct account_id"
        )


def discover(settings: Settings, clients: Any) -> Discovered:
    """The stream ARN and distribution id as they are in AWS now."""
    check_account(settings, clients)
    found = Discovered()
    dynamodb = clients("dynamodb")
    try:
        described = dynamodb.describe_table(TableName=settings.table_name)["Table"]
        found.stream_arn = described.get("LatestStreamArn", "")
    except dynamodb.exceptions.ResourceNotFoundException:
        found.notes.append(f"table {settings.table_name} does not exist yet: run bootstrap")
    distribution = find_distribution(clients("cloudfront"), settings)
    if distribution:
        found.distribution_id = distribution["Id"]
    else:
        found.notes.append(f"no distribution for {settings.stage} yet: run bootstrap")
    return found


def kept(stage: str, config: dict[str, Any]) -> Discovered:
    """Offline: the discovered values config.json already holds."""
    env = config["stages"].get(stage, {}).get("environment_variables", {})
    return Discovered(env.get("TABLE_STREAM_ARN", ""), env.get("DISTRIBUTION_ID", ""))


def sync(stage: str, clients: Any | None, *, check: bool, dry_run: bool = False) -> int:
    """Render, then check or write. Returns 0 when the files agree (or were written)."""
    config = awstools.read_config()
    settings = load(stage)
    discovered = discover(settings, clients) if clients else kept(stage, config)
    for note in discovered.notes:
        awstools.detail(f"note: {note}")
    rendered = render(stage, discovered, config)
    diffs = differences(rendered)
    if not diffs:
        awstools.detail(f"{stage}: config.json, policy-{stage}.json and spa/config.js agree")
        return 0
    for path, diff in diffs.items():
        awstools.detail(f"{_shown(path)} differs from {settings_path(stage).name}")
        awstools.say(diff)
    if check:
        awstools.say(
            f"error: the files above do not agree with {settings_path(stage)}: run "
            f"`scripts/stage_settings.py --stage {stage}` and commit",
            sys.stderr,
        )
        return 1
    if dry_run:
        awstools.step("Dry run: nothing written")
        return 0
    for path in write(rendered):
        awstools.detail(f"wrote {_shown(path)}")
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(awstools.REPO_ROOT))
    except ValueError:
        return str(path)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Write .chalice/config.json, the stage's IAM policy and spa/config.js "
        "from deploy/<stage>.toml and what bootstrap made (or --check that they agree)."
    )
    parser.add_argument("--stage", required=True, help=f"one of {', '.join(AWS_STAGES)}")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 on a difference"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the differences only")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not ask AWS; keep the stream ARN and distribution id config.json holds",
    )
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    awstools.step(f"Settings of {args.stage} from {settings_path(args.stage)}")
    clients = None if args.offline else awstools.clients(args)
    return sync(args.stage, clients, check=args.check, dry_run=args.dry_run)


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
