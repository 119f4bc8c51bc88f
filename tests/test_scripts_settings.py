"""deploy/<stage>.toml is the one place an operator edits: scripts/stage_settings.py
derives .chalice/config.json, the stage's IAM policy and spa/config.js from it and from
what bootstrap made in AWS (moto), and --check catches any drift."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.db import schema
from scripts import awstools, stage_settings

REPO = awstools.REPO_ROOT


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the files the script reads and writes, so the checkout stays clean."""
    (tmp_path / ".chalice").mkdir()
    for path in (REPO / ".chalice").glob("*.json"):
        shutil.copy(path, tmp_path / ".chalice" / path.name)
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    (tmp_path / "spa").mkdir()
    shutil.copy(REPO / "spa" / "config.js", tmp_path / "spa" / "config.js")
    monkeypatch.setattr(awstools, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(awstools, "CONFIG_PATH", tmp_path / ".chalice" / "config.json")
    monkeypatch.setattr(awstools, "SETTINGS_DIR", tmp_path / "deploy")
    monkeypatch.setattr(stage_settings, "SPA_CONFIG", tmp_path / "spa" / "config.js")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def stage_env(root: Path, stage: str) -> dict[str, str]:
    config = json.loads((root / ".chalice" / "config.json").read_text())
    return config["stages"][stage]["environment_variables"]


@pytest.mark.parametrize("stage", stage_settings.AWS_STAGES)
def test_the_committed_files_agree_with_the_committed_settings(stage: str) -> None:
    assert stage_settings.main(["--stage", stage, "--check", "--offline"]) == 0


def test_a_new_sender_reaches_the_config_and_every_place_in_the_policy(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        workspace / "deploy" / "prod.toml",
        "dispatch@shipcaptaincrew.example",
        "boats@harbor.example",
    )

    assert stage_settings.main(["--stage", "prod", "--check", "--offline"]) == 1
    assert "policy-prod.json differs" in capsys.readouterr().out

    assert stage_settings.main(["--stage", "prod", "--offline"]) == 0

    assert stage_env(workspace, "prod")["SENDER_EMAIL"] == "boats@harbor.example"
    policy = (workspace / ".chalice" / "policy-prod.json").read_text()
    assert "boats@harbor.example" in policy
    assert "dispatch@shipcaptaincrew.example" not in policy
    # Other stages keep their own sender.
    assert stage_env(workspace, "staging")["SENDER_EMAIL"] == "dispatch@shipcaptaincrew.example"
    assert stage_settings.main(["--stage", "prod", "--check", "--offline"]) == 0


def test_the_time_zone_reaches_the_api_and_the_dispatch_page_together(workspace: Path) -> None:
    for stage in stage_settings.AWS_STAGES:
        edit(workspace / "deploy" / f"{stage}.toml", "America/Los_Angeles", "America/New_York")

    assert stage_settings.main(["--stage", "prod", "--offline"]) == 0

    config = json.loads((workspace / ".chalice" / "config.json").read_text())
    assert config["environment_variables"]["OPERATOR_TZ"] == "America/New_York"
    page = (workspace / "spa" / "config.js").read_text()
    assert 'OPERATOR_TZ = "America/New_York"' in page
    assert 'API_BASE = ""' in page  # the rest of the page's settings stay


def test_stages_that_disagree_on_the_zone_are_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(workspace / "deploy" / "dev.toml", "America/Los_Angeles", "Europe/Lisbon")

    assert stage_settings.main(["--stage", "prod", "--offline"]) == 2

    assert "disagree on operator_tz" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ('sender = "dispatch@shipcaptaincrew.example"', 'sender = "dispatch"', "not an email"),
        ('domain = ""', 'domain = "https://crew.example.org"', "not a host name"),
        ('domain = ""', 'domian = "crew.example.org"', "unknown setting 'domian'"),
        ('operator_tz = "America/Los_Angeles"', 'operator_tz = "Pacific"', "not a time zone"),
    ],
)
def test_a_mistake_in_the_settings_file_is_named(
    workspace: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, complaint: str
) -> None:
    edit(workspace / "deploy" / "prod.toml", old, new)
    assert stage_settings.main(["--stage", "prod", "--offline"]) == 2
    assert complaint in capsys.readouterr().err


OPERATOR_NAME_LINE = 'operator_name = "Ship Captain Crew"'


def test_the_operators_name_reaches_the_stages_environment(workspace: Path) -> None:
    # Patrons' receipts are signed with it (chalicelib.config.operator_name).
    edit(workspace / "deploy" / "prod.toml", OPERATOR_NAME_LINE, 'operator_name = " Harbor & Co. "')

    assert stage_settings.main(["--stage", "prod", "--offline"]) == 0

    assert stage_env(workspace, "prod")["OPERATOR_NAME"] == "Harbor & Co."
    # Other stages keep their own name.
    assert stage_env(workspace, "staging")["OPERATOR_NAME"] == "Ship Captain Crew"
    assert stage_settings.main(["--stage", "prod", "--check", "--offline"]) == 0


def test_the_operators_contact_reaches_the_stages_environment(workspace: Path) -> None:
    # The signer's waiver copy says how to reach the operator (config.operator_contact).
    edit(
        workspace / "deploy" / "prod.toml",
        OPERATOR_NAME_LINE,
        OPERATOR_NAME_LINE + '\noperator_contact = " +1 415 555 0100 "',
    )
    assert stage_settings.main(["--stage", "prod", "--offline"]) == 0
    assert stage_env(workspace, "prod")["OPERATOR_CONTACT"] == "+1 415 555 0100"
    # Left out, the app says the sender address (an empty value falls back to it).
    assert stage_env(workspace, "staging")["OPERATOR_CONTACT"] == ""


def test_a_contact_of_more_than_one_line_is_refused(workspace: Path) -> None:
    edit(
        workspace / "deploy" / "prod.toml",
        OPERATOR_NAME_LINE,
        OPERATOR_NAME_LINE + '\noperator_contact = "call us\\nURGENT: pay at evil.example"',
    )
    with pytest.raises(awstools.UserError, match=r"operator_contact.*control character"):
        stage_settings.load("prod")


def test_without_an_operator_name_receipts_are_signed_with_the_default(workspace: Path) -> None:
    edit(workspace / "deploy" / "prod.toml", OPERATOR_NAME_LINE, "")
    assert "\noperator_name" not in (workspace / "deploy" / "prod.toml").read_text()

    assert stage_settings.load("prod").operator_name == "Ship Captain Crew"
    assert stage_settings.main(["--stage", "prod", "--check", "--offline"]) == 0
    assert stage_env(workspace, "prod")["OPERATOR_NAME"] == "Ship Captain Crew"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ('""', "1 to 80 characters"),
        ('"   "', "1 to 80 characters"),
        (f'"{"x" * 81}"', "1 to 80 characters"),
        ('"Harbor\\nCharters"', "control character"),
        ('"Harbor\\tCharters"', "control character"),
        ('"""Harbor\nCharters"""', "control character"),
        ('"Harbor\\u2028Charters"', "control character"),  # a line separator
        ("42", "must be a string"),
        ('["Harbor"]', "must be a string"),
    ],
)
def test_a_bad_operator_name_is_refused_and_named(
    workspace: Path, capsys: pytest.CaptureFixture[str], value: str, complaint: str
) -> None:
    edit(workspace / "deploy" / "prod.toml", OPERATOR_NAME_LINE, f"operator_name = {value}")

    with pytest.raises(awstools.UserError, match="operator_name") as raised:
        stage_settings.load("prod")
    assert "prod.toml" in str(raised.value)
    assert complaint in str(raised.value)

    assert stage_settings.main(["--stage", "prod", "--offline"]) == 2
    assert "operator_name" in capsys.readouterr().err
    # Nothing was written.
    assert stage_env(workspace, "prod")["OPERATOR_NAME"] == "Ship Captain Crew"


def test_eighty_characters_of_operator_name_are_enough(workspace: Path) -> None:
    name = "Á" * 80
    edit(workspace / "deploy" / "prod.toml", OPERATOR_NAME_LINE, f'operator_name = "{name}"')
    assert stage_settings.load("prod").operator_name == name


@pytest.fixture
def made_by_bootstrap(workspace: Path) -> Iterator[dict[str, Any]]:
    """The table and the distribution bootstrap makes, in the region prod.toml names."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-west-2")
        schema.create_table(dynamodb, "shipcaptaincrew-prod")
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        created = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "prod",
                "Comment": "shipcaptaincrew-prod",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "site",
                            "DomainName": "shipcaptaincrew-site.s3.us-west-2.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "site",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
            }
        )
        yield {
            "stream_arn": dynamodb.describe_table(TableName="shipcaptaincrew-prod")["Table"][
                "LatestStreamArn"
            ],
            "distribution_id": created["Distribution"]["Id"],
        }


def test_the_stream_arn_and_distribution_id_are_read_back_from_aws(
    made_by_bootstrap: dict[str, Any], workspace: Path
) -> None:
    assert stage_settings.main(["--stage", "prod"]) == 0

    env = stage_env(workspace, "prod")
    assert env["TABLE_STREAM_ARN"] == made_by_bootstrap["stream_arn"]
    assert env["DISTRIBUTION_ID"] == made_by_bootstrap["distribution_id"]


def test_a_rollback_that_dropped_them_is_caught_and_repaired(
    made_by_bootstrap: dict[str, Any], workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stage_settings.main(["--stage", "prod"]) == 0
    # `git checkout <old>` brings back a config.json from before bootstrap.
    shutil.copy(REPO / ".chalice" / "config.json", workspace / ".chalice" / "config.json")

    assert stage_settings.main(["--stage", "prod", "--check"]) == 1
    assert made_by_bootstrap["distribution_id"] in capsys.readouterr().out

    assert stage_settings.main(["--stage", "prod"]) == 0
    assert stage_env(workspace, "prod")["DISTRIBUTION_ID"] == made_by_bootstrap["distribution_id"]


def test_credentials_of_another_account_are_refused_before_anything_is_written(
    workspace: Path,
) -> None:
    edit(
        workspace / "deploy" / "prod.toml",
        'account_id = "123456789012"',
        'account_id = "210987654321"',
    )
    config_before = (workspace / ".chalice" / "config.json").read_text()
    with mock_aws():  # moto's credentials are account 123456789012's
        clients = awstools.clients(awstools.argparse.Namespace(profile=None, region="us-east-1"))
        with pytest.raises(stage_settings.UserError) as raised:
            stage_settings.sync("prod", clients, check=False)
    message = str(raised.value)
    assert "123456789012" in message and "210987654321" in message and "prod.toml" in message
    assert (workspace / ".chalice" / "config.json").read_text() == config_before


def test_an_account_id_that_is_not_12_digits_is_refused(workspace: Path) -> None:
    edit(workspace / "deploy" / "prod.toml", 'account_id = "123456789012"', 'account_id = "1234"')
    with pytest.raises(stage_settings.UserError) as raised:
        stage_settings.load("prod")
    assert "account_id" in str(raised.value)
