"""The hand-written IAM policies grant exactly what the code calls, per stage.

Chalice's automatic policy reads only app.py: it misses chalicelib/, sesv2 and
TransactWriteItems, so config.json turns it off and .chalice/policy-<stage>.json
is written by hand. This test evaluates those policies (Allow statements, IAM
wildcards, the condition operators they use) against:

- every AWS operation the test suite made through chalicelib.aws (recorded by
  tests/conftest.py; pytest runs this module last so the record is complete);
- EXPECTED_APP_OPERATIONS, a floor that holds when this module runs alone, and which
  is itself checked against the operations chalicelib's source calls;
- what the platform does with the function's role: its logs and the outbox's
  DynamoDB stream.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from tests.conftest import RECORDED_AWS_CALLS

ROOT = Path(__file__).resolve().parents[1]
CHALICE_DIR = ROOT / ".chalice"
AWS_STAGES = ("dev", "staging", "prod")
POLICY_STAGES = ("local", *AWS_STAGES)
REGION, ACCOUNT = "us-west-2", "123456789012"
# The key of the one item the code deletes: a throttle counter (chalicelib/crew/throttle.py).
THROTTLE_KEY = "THROTTLE#login#203.0.113.9"

# What chalicelib calls at run time (service, operation).
EXPECTED_APP_OPERATIONS = {
    ("dynamodb", "GetItem"),
    ("dynamodb", "PutItem"),
    ("dynamodb", "UpdateItem"),
    ("dynamodb", "DeleteItem"),
    ("dynamodb", "Query"),
    ("dynamodb", "TransactWriteItems"),
    ("secretsmanager", "GetSecretValue"),
    ("sesv2", "SendEmail"),
}
# Made through chalicelib's clients but never by a request. chalicelib/db/schema.py's
# create_table (used by fixtures and the local stack) makes the first three; the
# suite's own inspection and fault set-up make the rest. The recorder cannot tell
# who called, so test_not_app_operations_never_appear_in_chalicelib proves that
# chalicelib's code makes none of them (outside that one helper).
SETUP_OPERATIONS = {
    ("dynamodb", "CreateTable"),
    ("dynamodb", "DescribeTable"),
    ("dynamodb", "UpdateTimeToLive"),
}
TEST_SIDE_OPERATIONS = {
    ("dynamodb", "Scan"),  # counting rows in assertions
    ("secretsmanager", "CreateSecret"),  # secrets for the fault tests
    ("ses", "VerifyEmailIdentity"),  # the sender and crew addresses in moto
    ("ses", "DeleteIdentity"),  # an unverified sender, to make sends fail
    ("sesv2", "CreateEmailIdentity"),
}
NOT_APP_OPERATIONS = SETUP_OPERATIONS | TEST_SIDE_OPERATIONS
SETUP_MODULES = {"db/schema.py"}
# Actions AWS only authorizes on Resource "*".
RESOURCE_STAR_ONLY = {"dynamodb:ListStreams"}
IAM_PREFIX = {"sesv2": "ses", "dynamodbstreams": "dynamodb"}
SCANNED_SERVICES = ("dynamodb", "sesv2", "ses", "secretsmanager")
# Method names that are also AWS operation names but belong to other libraries.
NOT_AWS_CALLS = {"get_template"}  # Jinja2's Environment.get_template


SECRET_NAMES = {
    "ADMIN_PASS_HASH_SECRET_ID": "admin-pass-hash",
    "TOKEN_SIGNING_KEY_SECRET_ID": "token-signing-key",
    "ORIGIN_VERIFY_SECRET_ID": "origin-verify",
}


def policy(stage: str) -> dict[str, Any]:
    return json.loads((CHALICE_DIR / f"policy-{stage}.json").read_text())


def stage_env(stage: str) -> dict[str, str]:
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    return {
        **config.get("environment_variables", {}),
        **config["stages"][stage].get("environment_variables", {}),
    }


def chalicelib_sources() -> dict[str, str]:
    lib = ROOT / "chalicelib"
    return {str(p.relative_to(lib)): p.read_text() for p in sorted(lib.rglob("*.py"))}


# --- mapping calls to IAM actions and resources ------------------------------------------


# A transaction is authorized item by item: each kind of item needs its own action.
TRANSACTION_ITEM_ACTIONS = {
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Delete": "dynamodb:DeleteItem",
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
}


def iam_actions(service: str, operation: str, detail: str = "") -> set[str]:
    """The IAM actions AWS checks for one API operation. `detail`, for a
    TransactWriteItems, names the kinds of item in it ("ConditionCheck Put Update");
    without it, every kind chalicelib's code puts in one."""
    prefix = IAM_PREFIX.get(service, service)
    if (service, operation) == ("dynamodb", "TransactWriteItems") and detail:
        return {TRANSACTION_ITEM_ACTIONS[kind] for kind in detail.split()}
    if (service, operation) == ("dynamodb", "TransactWriteItems"):
        code = "\n".join(chalicelib_sources().values())
        kinds = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
        if re.search(r"[\"']Delete[\"']\s*:", code):
            kinds.add("dynamodb:DeleteItem")
        if re.search(r"[\"']ConditionCheck[\"']\s*:", code):
            kinds.add("dynamodb:ConditionCheckItem")
        return kinds
    if (service, operation) == ("dynamodb", "TransactGetItems"):
        return {"dynamodb:GetItem"}
    return {f"{prefix}:{operation}"}


def table_arn(stage: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/shipcaptaincrew-{stage}"


def requests_for(
    stage: str, service: str, operation: str, detail: str = ""
) -> list[tuple[str, str, dict]]:
    """(action, resource ARN, condition context) triples one call needs to be allowed."""
    env = stage_env(stage)
    out = []
    for action in iam_actions(service, operation, detail):
        prefix = action.split(":")[0]
        if prefix == "dynamodb":
            if operation in ("DescribeStream", "GetRecords", "GetShardIterator"):
                resources = [f"{table_arn(stage)}/stream/2026-11-26T00:00:00.000"]
            elif operation == "ListStreams":
                resources = ["*"]
            elif operation in ("Query", "Scan"):
                resources = [table_arn(stage), f"{table_arn(stage)}/index/GSI1"]
            else:
                resources = [table_arn(stage)]
            # IAM sees the partition key of the item a single-item call touches.
            context = {"dynamodb:LeadingKeys": THROTTLE_KEY} if operation == "DeleteItem" else {}
            out += [(action, r, context) for r in resources]
        elif prefix == "secretsmanager":
            for name, short in SECRET_NAMES.items():
                secret_id = env.get(name) or f"shipcaptaincrew/{stage}/{short}"
                arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret_id}-AbCdEf"
                out.append((action, arn, {}))
        elif prefix == "ses":
            sender = env["SENDER_EMAIL"]
            arn = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender.split('@')[1]}"
            out.append((action, arn, {"ses:FromAddress": sender}))
        else:
            out.append((action, "*", {}))
    return out


# --- a small IAM evaluator --------------------------------------------------------------


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            have = context.get(key)
            if operator == "Null":
                # "false" means the key must be present.
                if (have is None) != (str(wanted).lower() == "true"):
                    return False
                continue
            if operator.startswith("ForAllValues:"):
                # Every value in the request must match; an absent key passes (IAM's rule,
                # which is why the policies pair it with a Null check).
                inner = operator.split(":", 1)[1]
                values = [] if have is None else _listed(have)
                if not all(_matches(inner, v, wanted) for v in values):
                    return False
                continue
            if have is None or not _matches(operator, have, wanted):
                return False
    return True


def _matches(operator: str, have: str, wanted: str | list[str]) -> bool:
    if operator == "StringEquals":
        return have in _listed(wanted)
    if operator == "StringLike":
        return any(fnmatch.fnmatchcase(have, w) for w in _listed(wanted))
    raise AssertionError(f"the evaluator does not know {operator}: extend it")


def allows(doc: dict[str, Any], action: str, resource: str, context: dict | None = None) -> bool:
    allowed = False
    for statement in doc["Statement"]:
        actions = _listed(statement["Action"])
        if not any(fnmatch.fnmatch(action.lower(), a.lower()) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"])):
            continue
        if not _condition_holds(statement.get("Condition", {}), context or {}):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def ungranted(stage: str, calls: set[tuple[str, str]]) -> list[str]:
    doc = policy(stage)
    missing = []
    for service, operation in sorted(calls):
        for action, resource, context in requests_for(stage, service, operation):
            if not allows(doc, action, resource, context):
                missing.append(f"{service}.{operation} needs {action} on {resource}")
    return missing


# --- the tests ----------------------------------------------------------------------------


def test_every_operation_the_app_is_known_to_call_is_granted_in_prod() -> None:
    assert ungranted("prod", EXPECTED_APP_OPERATIONS) == []


def test_every_aws_call_the_test_suite_recorded_is_granted_in_prod() -> None:
    recorded = {(s, o) for s, o, *_ in RECORDED_AWS_CALLS} - NOT_APP_OPERATIONS
    if not recorded:
        pytest.skip("nothing recorded: this module ran without the rest of the suite")
    missing = ungranted("prod", recorded)
    assert not missing, "\n".join(missing)


def test_chalicelib_calls_no_operation_missing_from_the_expected_list() -> None:
    """A new boto3 call in chalicelib must come with its IAM grant (and an entry here)."""
    session = botocore.session.get_session()
    found: set[tuple[str, str]] = set()
    for name, source in chalicelib_sources().items():
        for service in SCANNED_SERVICES:
            for operation in session.get_service_model(service).operation_names:
                method = xform_name(operation)
                if method not in NOT_AWS_CALLS and re.search(rf"\.{method}\(", source):
                    if (service, operation) in SETUP_OPERATIONS and name in SETUP_MODULES:
                        continue
                    found.add((service, operation))
    # ses and sesv2 share names (send_email): the app's client is sesv2, both need ses:SendEmail.
    found = {("sesv2", op) if svc == "ses" else (svc, op) for svc, op in found}
    assert found - EXPECTED_APP_OPERATIONS == set()


def test_chalicelib_makes_clients_only_for_services_the_policy_covers() -> None:
    services = set()
    for source in chalicelib_sources().values():
        services |= set(re.findall(r"aws\.client\(\s*[\"'](\w+)[\"']", source))
    assert services <= {"dynamodb", "sesv2", "secretsmanager"}


def test_not_app_operations_never_appear_in_chalicelib() -> None:
    for name, source in chalicelib_sources().items():
        for service, operation in NOT_APP_OPERATIONS:
            if name in SETUP_MODULES and (service, operation) in SETUP_OPERATIONS:
                continue
            assert f".{xform_name(operation)}(" not in source, f"{name} calls {operation}"


@pytest.mark.parametrize("stage", POLICY_STAGES)
def test_each_stage_may_use_its_own_table_secrets_and_stream(stage: str) -> None:
    assert ungranted(stage, EXPECTED_APP_OPERATIONS) == []
    stream_ops = {
        ("dynamodb", op)
        for op in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")
    }
    assert ungranted(stage, stream_ops) == []


@pytest.mark.parametrize("stage", POLICY_STAGES)
def test_no_stage_may_touch_another_stages_table_or_secrets(stage: str) -> None:
    doc = policy(stage)
    for other in POLICY_STAGES:
        if other == stage:
            continue
        assert not allows(doc, "dynamodb:PutItem", table_arn(other))
        assert not allows(doc, "dynamodb:Query", f"{table_arn(other)}/index/GSI1")
        secret = (
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shipcaptaincrew/{other}/x-AbCdEf"
        )
        assert not allows(doc, "secretsmanager:GetSecretValue", secret)
        text = json.dumps(doc)
        assert f'shipcaptaincrew-{other}"' not in text and f"shipcaptaincrew/{other}/" not in text
    # A table whose name merely starts like ours is someone else's.
    assert not allows(doc, "dynamodb:GetItem", table_arn(stage) + "-archive")


@pytest.mark.parametrize("stage", POLICY_STAGES)
def test_no_statement_grants_everything(stage: str) -> None:
    for statement in policy(stage)["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        actions = _listed(statement["Action"])
        assert all(a != "*" and not a.endswith(":*") for a in actions), statement
        if "*" in _listed(statement["Resource"]):
            assert set(actions) <= RESOURCE_STAR_ONLY, statement


@pytest.mark.parametrize("stage", POLICY_STAGES)
def test_email_may_be_sent_only_as_the_stages_sender(stage: str) -> None:
    doc = policy(stage)
    sender = stage_env(stage)["SENDER_EMAIL"]
    identity = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender}"
    assert allows(doc, "ses:SendEmail", identity, {"ses:FromAddress": sender})
    assert not allows(doc, "ses:SendEmail", identity, {"ses:FromAddress": "ceo@elsewhere.example"})


def test_no_scan_and_no_table_management_in_prod() -> None:
    doc = policy("prod")
    for action in ("Scan", "DeleteTable", "UpdateTable", "CreateTable", "BatchWriteItem"):
        assert not allows(doc, f"dynamodb:{action}", table_arn("prod")), action


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_the_functions_can_write_their_logs_and_only_theirs(stage: str) -> None:
    doc = policy(stage)
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda"
    for function in (f"shipcaptaincrew-{stage}", f"shipcaptaincrew-{stage}-outbox_handler"):
        assert allows(doc, "logs:CreateLogGroup", f"{logs}/{function}")
        stream = f"{logs}/{function}:log-stream:2026/11/26/[$LATEST]abc"
        assert allows(doc, "logs:CreateLogStream", stream)
        assert allows(doc, "logs:PutLogEvents", stream)
    other = "prod" if stage != "prod" else "staging"
    assert not allows(doc, "logs:PutLogEvents", f"{logs}/shipcaptaincrew-{other}:log-stream:x")


def test_config_turns_autogen_off_and_points_each_stage_at_its_policy() -> None:
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    assert config["autogen_policy"] is False
    for stage in POLICY_STAGES:
        assert config["stages"][stage]["iam_policy_file"] == f"policy-{stage}.json"


@pytest.mark.parametrize("stage", POLICY_STAGES)
def test_items_can_be_deleted_only_when_they_are_throttle_counters(stage: str) -> None:
    """Payments and waivers are append-only: the role itself cannot delete them."""
    doc = policy(stage)
    arn = table_arn(stage)
    assert allows(doc, "dynamodb:DeleteItem", arn, {"dynamodb:LeadingKeys": THROTTLE_KEY})
    for key in ("EVENT#4f1c2a", "EVENT#4f1c2a#THROTTLE#x", "throttle#login#x"):
        assert not allows(doc, "dynamodb:DeleteItem", arn, {"dynamodb:LeadingKeys": key}), key
    assert not allows(doc, "dynamodb:DeleteItem", arn, {})
    assert not allows(doc, "dynamodb:BatchWriteItem", arn, {"dynamodb:LeadingKeys": THROTTLE_KEY})


def test_chalicelib_deletes_only_throttle_counters() -> None:
    """If another module starts deleting, the policy's THROTTLE# condition must change."""
    sources = chalicelib_sources()
    deleting = {name for name, source in sources.items() if ".delete_item(" in source}
    # The store's one DeleteItem, used by the counters alone.
    assert deleting <= {"db/table.py"}
    callers = {name for name, source in sources.items() if ".table.delete(" in source}
    assert callers <= {"db/counters.py"}
    assert any('f"THROTTLE#' in source for source in sources.values())


@pytest.mark.parametrize("stage", POLICY_STAGES)
def test_the_origin_verify_secret_is_readable_by_its_stage_only(stage: str) -> None:
    doc = policy(stage)
    mine = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shipcaptaincrew/{stage}/origin-verify-AbCdEf"
    assert allows(doc, "secretsmanager:GetSecretValue", mine)
    # A secret merely starting with the name is another secret.
    longer = mine.replace("origin-verify-", "origin-verify-old-")
    assert not allows(doc, "secretsmanager:GetSecretValue", longer)


@pytest.mark.parametrize("stage", POLICY_STAGES)
def test_each_policy_file_is_the_one_generated_from_the_stage_settings(stage: str) -> None:
    """Hand edits drift (the sender in the policy, once): the file is generated."""
    from scripts import stage_settings

    wanted = stage_settings.stage_policy(stage, stage_env(stage)["SENDER_EMAIL"])
    assert policy(stage) == wanted


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_aws_stages_use_a_regional_api_and_name_their_origin_verify_secret(stage: str) -> None:
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    assert config["stages"][stage]["api_gateway_endpoint_type"] == "REGIONAL"
    env = stage_env(stage)
    assert env["ORIGIN_VERIFY_SECRET_ID"] == f"shipcaptaincrew/{stage}/origin-verify"
    assert "ORIGIN_VERIFY_SECRET" not in env


@pytest.mark.parametrize("stage", ("local", "test"))
def test_local_stages_carry_the_origin_verify_value_itself(stage: str) -> None:
    env = stage_env(stage)
    assert env["ORIGIN_VERIFY_SECRET"]
    assert "ORIGIN_VERIFY_SECRET_ID" not in env


# --- one policy per function (issue 22) ---------------------------------------------------

# What each function's code calls (service, operation, the secret it reads or the kinds of
# item its transactions hold). The suite's
# recorded calls, attributed to the function they ran in (tests/conftest.py reads it off
# the stack), must stay inside these; each function's policy grants exactly these.
FUNCTION_OPERATIONS: dict[str, set[tuple[str, str, str]]] = {
    "api_handler": {
        ("dynamodb", "GetItem", ""),
        ("dynamodb", "PutItem", ""),
        ("dynamodb", "UpdateItem", ""),
        ("dynamodb", "DeleteItem", ""),
        ("dynamodb", "Query", ""),
        # The kinds of item its transactions hold (each authorized as its own action).
        ("dynamodb", "TransactWriteItems", "ConditionCheck Put Update"),
        ("secretsmanager", "GetSecretValue", "admin-pass-hash"),
        ("secretsmanager", "GetSecretValue", "token-signing-key"),
        ("secretsmanager", "GetSecretValue", "origin-verify"),
    },
    "crew": {
        ("dynamodb", "GetItem", ""),
        ("secretsmanager", "GetSecretValue", "token-signing-key"),
    },
    "deliver_new_emails": {
        ("dynamodb", "GetItem", ""),
        ("dynamodb", "UpdateItem", ""),
        ("sesv2", "SendEmail", ""),
        # The event source mapping reads the table's stream with the function's role.
        ("dynamodb", "DescribeStream", ""),
        ("dynamodb", "GetRecords", ""),
        ("dynamodb", "GetShardIterator", ""),
        ("dynamodb", "ListStreams", ""),
    },
    "drain_email_outbox": {
        ("dynamodb", "GetItem", ""),
        ("dynamodb", "Query", ""),
        ("dynamodb", "UpdateItem", ""),
        # The overdue flag: the trip's update, the shore notice's put, the watch's update.
        ("dynamodb", "TransactWriteItems", "Put Update"),
        ("sesv2", "SendEmail", ""),
    },
}


def function_policy(stage: str, function: str) -> dict[str, Any]:
    return json.loads((CHALICE_DIR / f"policy-{stage}-{function}.json").read_text())


def function_requests(
    stage: str, service: str, operation: str, detail: str
) -> list[tuple[str, str, dict]]:
    """As requests_for, but a GetSecretValue names the one secret it reads (`detail`),
    and a transaction the kinds of item in it."""
    if operation != "GetSecretValue":
        return requests_for(stage, service, operation, detail)
    out = requests_for(stage, service, operation)
    short = detail.rsplit("/", 1)[-1]
    return [r for r in out if f"/{stage}/{short}-" in r[1]] if short else out


def declared(function: str, call: tuple[str, str, str]) -> bool:
    """Whether a recorded call is one of the function's own (FUNCTION_OPERATIONS): the
    same secret, or a transaction of no kind of item the function does not write."""
    service, operation, detail = call
    if operation == "TransactWriteItems":
        kinds = next(
            (d for s, o, d in FUNCTION_OPERATIONS[function] if (s, o) == (service, operation)),
            None,
        )
        return kinds is not None and set(detail.split()) <= set(kinds.split())
    return (service, operation, detail.rsplit("/", 1)[-1]) in FUNCTION_OPERATIONS[function]


def function_ungranted(stage: str, function: str, calls: set[tuple[str, str, str]]) -> list[str]:
    doc = function_policy(stage, function)
    missing = []
    for service, operation, secret in sorted(calls):
        for action, resource, context in function_requests(stage, service, operation, secret):
            if not allows(doc, action, resource, context):
                missing.append(f"{function}: {service}.{operation} needs {action} on {resource}")
    return missing


def test_every_function_chalice_deploys_has_its_own_policy_in_every_aws_stage() -> None:
    from app import app
    from scripts import stage_settings

    deployed = {"api_handler", "deliver_new_emails"}
    deployed |= {auth.name for auth in app.builtin_auth_handlers}
    deployed |= {source.name for source in app.event_sources}
    assert deployed == set(stage_settings.FUNCTIONS)
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    for stage in AWS_STAGES:
        per_function = config["stages"][stage]["lambda_functions"]
        for function in stage_settings.FUNCTIONS:
            wanted = f"policy-{stage}-{function}.json"
            assert per_function[function]["iam_policy_file"] == wanted, (stage, function)
            settings = stage_settings.load(stage)
            assert (
                function_policy(stage, function)
                == (stage_settings.function_policies(settings)[function])
            ), "generated by scripts/stage_settings.py, never edited by hand"


@pytest.mark.parametrize("function", sorted(FUNCTION_OPERATIONS))
def test_each_function_may_make_exactly_its_own_calls(function: str) -> None:
    assert function_ungranted("prod", function, FUNCTION_OPERATIONS[function]) == []
    # Nothing more: every action a statement grants is one of the function's calls.
    needed = {
        action
        for service, operation, detail in FUNCTION_OPERATIONS[function]
        for action in iam_actions(service, operation, detail)
    } | {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    for statement in function_policy("prod", function)["Statement"]:
        for action in _listed(statement["Action"]):
            assert action in needed, f"{function} is granted {action} it never calls"


@pytest.mark.parametrize("function", sorted(FUNCTION_OPERATIONS))
def test_each_function_was_recorded_making_only_calls_its_policy_grants(function: str) -> None:
    from tests.conftest import RECORDED_CALLS_BY_FUNCTION

    recorded = {
        call
        for call in RECORDED_CALLS_BY_FUNCTION.get(function, set())
        if call[:2] not in NOT_APP_OPERATIONS
    }
    if not recorded:
        pytest.skip(f"no call recorded in {function}: this module ran without the rest")
    outside = {call for call in recorded if not declared(function, call)}
    assert not outside, f"{function} made calls missing from FUNCTION_OPERATIONS: {outside}"
    missing = function_ungranted("prod", function, recorded)
    assert not missing, "\n".join(missing)


def test_the_authorizer_cannot_write_send_or_read_the_owners_password() -> None:
    doc = function_policy("prod", "crew")
    arn = table_arn("prod")
    for action in ("PutItem", "UpdateItem", "DeleteItem", "Query", "Scan"):
        assert not allows(doc, f"dynamodb:{action}", arn), action
    assert allows(doc, "dynamodb:GetItem", arn)
    sender = stage_env("prod")["SENDER_EMAIL"]
    identity = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender}"
    assert not allows(doc, "ses:SendEmail", identity, {"ses:FromAddress": sender})
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shipcaptaincrew/prod"
    assert allows(doc, "secretsmanager:GetSecretValue", f"{secret}/token-signing-key-AbCdEf")
    for other in ("admin-pass-hash", "origin-verify"):
        assert not allows(doc, "secretsmanager:GetSecretValue", f"{secret}/{other}-AbCdEf")


def test_only_the_email_functions_send_and_only_the_stream_handler_reads_the_stream() -> None:
    sender = stage_env("prod")["SENDER_EMAIL"]
    identity = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender}"
    stream = f"{table_arn('prod')}/stream/2026-11-26T00:00:00.000"
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:shipcaptaincrew/prod"
    for function in FUNCTION_OPERATIONS:
        doc = function_policy("prod", function)
        sends = allows(doc, "ses:SendEmail", identity, {"ses:FromAddress": sender})
        assert sends == (function in ("deliver_new_emails", "drain_email_outbox")), function
        reads = allows(doc, "dynamodb:GetRecords", stream)
        assert reads == (function == "deliver_new_emails"), function
        if function in ("deliver_new_emails", "drain_email_outbox"):
            for name in SECRET_NAMES.values():
                assert not allows(doc, "secretsmanager:GetSecretValue", f"{secret}/{name}-AbCdEf")


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_function_policies_name_the_stages_region_and_account(stage: str) -> None:
    from scripts import stage_settings

    settings = stage_settings.load(stage)
    for function in stage_settings.FUNCTIONS:
        for statement in function_policy(stage, function)["Statement"]:
            for resource in _listed(statement["Resource"]):
                if resource == "*":
                    assert _listed(statement["Action"]) == ["dynamodb:ListStreams"]
                    continue
                service = resource.split(":")[2]
                prefix = f"arn:aws:{service}:{settings.region}:{settings.account_id}:"
                assert resource.startswith(prefix), (function, resource)
        # Another region or account is not this stage's.
        doc = function_policy(stage, function)
        elsewhere = table_arn(stage).replace(REGION, "eu-west-1")
        assert not allows(doc, "dynamodb:GetItem", elsewhere)
        assert not allows(
            doc, "dynamodb:GetItem", table_arn(stage).replace(ACCOUNT, "999999999999")
        )


@pytest.mark.parametrize("stage", AWS_STAGES)
def test_chalice_gives_each_function_a_role_of_its_own_with_its_policy(stage: str) -> None:
    from tests.test_scripts_limits import chalice_functions

    config = json.loads((CHALICE_DIR / "config.json").read_text())
    config["stages"][stage]["environment_variables"]["TABLE_STREAM_ARN"] = (
        f"{table_arn(stage)}/stream/2026-11-26T00:00:00.000"
    )
    functions = chalice_functions(stage, config)
    assert {"api_handler", "crew", "drain_email_outbox"} <= set(functions)
    roles = set()
    for name, function in functions.items():
        assert function.role.policy.filename.endswith(f"policy-{stage}-{name}.json"), name
        roles.add(function.role.role_name)
    assert len(roles) == len(functions)
