"""Issue 22, item 8: a flood costs little. The API stage's throttling, its access log
and log retention (scripts/stage_limits.py, against moto), and each function's reserved
concurrency as Chalice deploys it (from the stage settings, through config.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.config import Config
from chalice.deploy.appgraph import ApplicationGraphBuilder
from moto import mock_aws

from scripts import awstools, stage_limits, stage_settings
from scripts.awstools import UserError
from tests import test_scripts_support as support

workspace = support.workspace
REGION = "us-east-1"


@pytest.fixture
def aws(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto, with a REST API deployed to stage `api` as `chalice deploy` leaves it."""
    # AWS's managed policies exist in every account; moto loads them when asked.
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name=REGION)
        api_id = apigateway.create_rest_api(name="shipcaptaincrew")["id"]
        root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
        apigateway.put_method(
            restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE"
        )
        apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
        apigateway.create_deployment(restApiId=api_id, stageName="api")
        (workspace / ".chalice" / "deployed" / "prod.json").write_text(
            json.dumps(
                {
                    "resources": [
                        {
                            "name": "rest_api",
                            "rest_api_id": api_id,
                            "rest_api_url": f"https://{api_id}.execute-api.{REGION}.amazonaws.com/api/",
                        }
                    ]
                }
            )
        )
        # The API's handler has logged once already: Lambda made its group, kept forever.
        logs = boto3.client("logs", region_name=REGION)
        logs.create_log_group(logGroupName="/aws/lambda/shipcaptaincrew-prod")
        yield {"apigateway": apigateway, "logs": logs, "api_id": api_id}


def retention(logs: Any) -> dict[str, int | None]:
    groups = logs.describe_log_groups()["logGroups"]
    return {g["logGroupName"]: g.get("retentionInDays") for g in groups}


def run(*extra: str) -> int:
    return stage_limits.main(["--stage", "prod", *extra])


def test_the_api_is_throttled_logged_and_every_log_kept_90_days(aws: dict[str, Any]) -> None:
    assert run("--yes") == 0

    stage = aws["apigateway"].get_stage(restApiId=aws["api_id"], stageName="api")
    every = stage["methodSettings"]["*/*"]
    assert every["throttlingRateLimit"] == 25.0
    assert every["throttlingBurstLimit"] == 50
    group = "/aws/apigateway/shipcaptaincrew-prod/access"
    kept = retention(aws["logs"])
    assert stage["accessLogSettings"]["destinationArn"].endswith(f"log-group:{group}")
    fields = json.loads(stage["accessLogSettings"]["format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    assert kept[group] == 90
    for name in ("", "-crew", "-deliver_new_emails", "-drain_email_outbox"):
        assert kept[f"/aws/lambda/shipcaptaincrew-prod{name}"] == 90, name
    # API Gateway writes logs with the account's role; made once, for every stage.
    account = aws["apigateway"].get_account()
    assert account["cloudwatchRoleArn"].endswith(f"role/{stage_limits.API_GATEWAY_LOG_ROLE}")
    iam = boto3.client("iam", region_name=REGION)
    attached = iam.list_attached_role_policies(RoleName=stage_limits.API_GATEWAY_LOG_ROLE)
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [
        stage_limits.API_GATEWAY_LOG_POLICY
    ]


def test_a_second_run_changes_nothing(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--yes") == 0
    capsys.readouterr()

    assert run("--yes") == 0

    out = capsys.readouterr().out
    assert "nothing to change" in out
    assert "Plan for" not in out


def test_a_dry_run_prints_the_plan_and_changes_nothing(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--dry-run") == 0

    out = capsys.readouterr().out
    assert "throttle the API at 25 requests/s, bursts of 50" in out
    assert "/aws/apigateway/shipcaptaincrew-prod/access" in out
    stage = aws["apigateway"].get_stage(restApiId=aws["api_id"], stageName="api")
    assert "*/*" not in (stage.get("methodSettings") or {})
    assert retention(aws["logs"]) == {"/aws/lambda/shipcaptaincrew-prod": None}


def test_without_yes_and_without_a_terminal_it_changes_nothing(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert run() != 0
    assert retention(aws["logs"]) == {"/aws/lambda/shipcaptaincrew-prod": None}


def test_changed_settings_change_the_limits(aws: dict[str, Any], workspace: Path) -> None:
    path = workspace / "deploy" / "prod.toml"
    text = path.read_text()
    text = text.replace("api_rate_limit = 25", "api_rate_limit = 5")
    text = text.replace("api_burst_limit = 50", "api_burst_limit = 10")
    text = text.replace("log_retention_days = 90", "log_retention_days = 30")
    path.write_text(text)

    assert run("--yes") == 0

    stage = aws["apigateway"].get_stage(restApiId=aws["api_id"], stageName="api")
    assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 5.0
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 10
    assert set(retention(aws["logs"]).values()) == {30}


@pytest.mark.parametrize(
    ("line", "replacement", "named"),
    [
        ("api_rate_limit = 25", "api_rate_limit = 0", "api_rate_limit"),
        ("api_burst_limit = 50", "api_burst_limit = 10", "api_burst_limit"),
        ("api_burst_limit = 50", 'api_burst_limit = "lots"', "api_burst_limit"),
        ("log_retention_days = 90", "log_retention_days = 100", "log_retention_days"),
        ("crew = 4", "crew = 0", "reserved_concurrency.crew"),
        ("crew = 4", "authoriser = 4", "reserved_concurrency.authoriser"),
    ],
)
def test_a_bad_limit_is_refused_naming_the_setting(
    workspace: Path, line: str, replacement: str, named: str
) -> None:
    path = workspace / "deploy" / "prod.toml"
    path.write_text(path.read_text().replace(line, replacement))
    with pytest.raises(UserError) as raised:
        stage_settings.load("prod")
    assert named in str(raised.value) and "prod.toml" in str(raised.value)


def chalice_functions(stage: str, config: dict[str, Any]) -> dict[str, Any]:
    """Each Lambda function as `chalice deploy` would make it for the stage."""
    from app import app

    chalice_config = Config(
        chalice_stage=stage,
        config_from_disk=config,
        user_provided_params={"chalice_app": app, "project_dir": str(awstools.REPO_ROOT)},
    )
    graph = ApplicationGraphBuilder().build(chalice_config, stage)
    found: dict[str, Any] = {}

    def walk(resource: Any) -> None:
        if type(resource).__name__ == "LambdaFunction":
            found[resource.resource_name] = resource
        for child in getattr(resource, "dependencies", lambda: [])():
            walk(child)

    for resource in graph.resources:
        walk(resource)
    return found


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_each_function_reserves_the_copies_the_settings_name(stage: str) -> None:
    config = awstools.read_config()
    functions = chalice_functions(stage, config)
    assert {"api_handler", "crew", "drain_email_outbox"} <= set(functions)
    wanted = dict(stage_settings.load(stage).reserved_concurrency)
    for name, function in functions.items():
        assert function.reserved_concurrency == wanted[name], name


def test_an_empty_reservation_table_reserves_nothing(workspace: Path) -> None:
    path = workspace / "deploy" / "staging.toml"
    head = path.read_text().rsplit("[reserved_concurrency]", 1)[0]
    path.write_text(head + "[reserved_concurrency]\n")
    discovered = stage_settings.kept("staging", awstools.read_config())

    rendered = stage_settings.render("staging", discovered)

    config = json.loads(rendered.files[awstools.CONFIG_PATH])
    per_function = config["stages"]["staging"].get("lambda_functions", {})
    assert all("reserved_concurrency" not in f for f in per_function.values())
    functions = chalice_functions("staging", config)
    assert all(f.reserved_concurrency is None for f in functions.values())


# --- memory per function (issue 22, item 6) ------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "staging", "prod"])
def test_each_function_has_the_memory_the_login_bench_chose(stage: str) -> None:
    from bench import memory

    config = awstools.read_config()
    functions = chalice_functions(stage, config)
    sizes = {name: function.memory_size for name, function in functions.items()}
    api_mb = sizes["api_handler"]
    assert {name: memory.memory_sizes(api_mb)[name] for name in sizes} == sizes
    # Never below what a login on Lambda's own CPU needs to stay under 500 ms.
    assert api_mb >= memory.choose(memory.observed_full_vcpu_seconds())
    assert memory.login_seconds(api_mb, memory.observed_full_vcpu_seconds()) < 0.5
    # The functions without bcrypt get less, but not Chalice's default 128 MB.
    for name in ("crew", "drain_email_outbox"):
        assert 128 < sizes[name] < api_mb, name


def test_the_memory_model_is_lambdas_cpu_share() -> None:
    from bench import memory

    # At 128 MB a CPU-bound step takes 1769/128 times as long as on a whole vCPU...
    full = memory.observed_full_vcpu_seconds()
    at_128 = memory.login_seconds(128, full) - memory.LOGIN_OTHER_SECONDS
    assert abs(at_128 - memory.OBSERVED_SECONDS) < 1e-9
    # ...and above one vCPU a single thread gains nothing.
    assert memory.login_seconds(1769, full) == memory.login_seconds(3008, full)
    chosen = memory.choose(full)
    assert memory.login_seconds(chosen, full) < 0.5 <= memory.login_seconds(chosen - 64, full)
