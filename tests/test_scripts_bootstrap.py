"""scripts/bootstrap.py against moto: table, secrets, SES check; idempotent."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import boto3
import pytest
from moto import mock_aws

from chalicelib import table
from scripts import awstools, bootstrap

PASSWORD = "anchors aweigh 1852"
PROD_TABLE = "shipcaptaincrew-prod"
PROD_KEY = "shipcaptaincrew/prod/token-signing-key"
PROD_HASH = "shipcaptaincrew/prod/admin-pass-hash"
SENDER = "dispatch@shipcaptaincrew.example"


@pytest.fixture(autouse=True)
def settings_in_us_east_1(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stages' settings files, in the region the moto clients here use."""
    from scripts import stage_settings

    folder = tmp_path_factory.mktemp("deploy")
    for path in stage_settings.SETTINGS_DIR.glob("*.toml"):
        text = path.read_text().replace('region = "us-west-2"', 'region = "us-east-1"')
        (folder / path.name).write_text(text)
    monkeypatch.setattr(stage_settings, "SETTINGS_DIR", folder)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def aws_mock() -> Iterator[dict[str, Any]]:
    with mock_aws():
        yield {
            name: boto3.client(name, region_name="us-east-1")
            for name in ("dynamodb", "secretsmanager", "sesv2")
        }


def run(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return bootstrap.main(list(args))


def secret(aws: dict[str, Any], name: str) -> str:
    return aws["secretsmanager"].get_secret_value(SecretId=name)["SecretString"]


def test_first_run_creates_the_table_with_its_index_stream_ttl_recovery_and_protection(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    dynamodb = aws_mock["dynamodb"]
    described = dynamodb.describe_table(TableName=PROD_TABLE)["Table"]
    wanted = table.definition(PROD_TABLE)
    assert described["KeySchema"] == wanted["KeySchema"]
    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == [table.DATE_INDEX]
    assert described["StreamSpecification"] == wanted["StreamSpecification"]
    assert described["DeletionProtectionEnabled"] is True
    ttl = dynamodb.describe_time_to_live(TableName=PROD_TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": table.TTL_ATTRIBUTE}
    backups = dynamodb.describe_continuous_backups(TableName=PROD_TABLE)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_first_run_stores_a_random_signing_key_and_a_bcrypt_hash_of_the_password(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    key = secret(aws_mock, PROD_KEY)
    assert len(key) >= 48
    stored = secret(aws_mock, PROD_HASH)
    assert PASSWORD not in stored
    assert bcrypt.checkpw(PASSWORD.encode(), stored.encode())
    assert int(stored.split("$")[2]) >= 12  # a production work factor
    assert not bcrypt.checkpw(b"wrong password", stored.encode())


def test_second_run_changes_nothing_and_asks_for_no_password(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0
    key, hashed = secret(aws_mock, PROD_KEY), secret(aws_mock, PROD_HASH)
    capsys.readouterr()

    assert run(monkeypatch, "--stage", "prod") == 0

    assert "Nothing to change" in capsys.readouterr().out
    assert secret(aws_mock, PROD_KEY) == key
    assert secret(aws_mock, PROD_HASH) == hashed


def test_dry_run_lists_the_changes_and_makes_none(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--dry-run") == 0

    out = capsys.readouterr().out
    assert f"create table {PROD_TABLE}" in out
    assert f"create secret {PROD_HASH}" in out
    assert aws_mock["dynamodb"].list_tables()["TableNames"] == []
    assert aws_mock["secretsmanager"].list_secrets()["SecretList"] == []


def test_an_existing_table_gets_its_missing_settings_and_keeps_its_data(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb = aws_mock["dynamodb"]
    table.create_table(dynamodb, PROD_TABLE)
    item = table.to_item({"PK": "EVENT#a1", "SK": "EVENT", "title": "Sunset Cruise"})
    dynamodb.put_item(TableName=PROD_TABLE, Item=item)

    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    kept = dynamodb.get_item(TableName=PROD_TABLE, Key={"PK": item["PK"], "SK": item["SK"]})
    assert kept["Item"] == item
    assert dynamodb.describe_table(TableName=PROD_TABLE)["Table"]["DeletionProtectionEnabled"]
    backups = dynamodb.describe_continuous_backups(TableName=PROD_TABLE)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_dev_tables_are_unprotected_by_default_and_the_flag_protects_them(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("--stage", "dev", "--password-stdin")
    assert run(monkeypatch, *args, stdin=PASSWORD + "\n") == 0
    dynamodb = aws_mock["dynamodb"]
    assert not dynamodb.describe_table(TableName="shipcaptaincrew-dev")["Table"][
        "DeletionProtectionEnabled"
    ]

    assert run(monkeypatch, *args, "--deletion-protection") == 0

    assert dynamodb.describe_table(TableName="shipcaptaincrew-dev")["Table"][
        "DeletionProtectionEnabled"
    ]


def test_it_prints_the_stream_arn_to_configure_and_is_satisfied_once_it_is_set(
    aws_mock: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0
    arn = aws_mock["dynamodb"].describe_table(TableName=PROD_TABLE)["Table"]["LatestStreamArn"]
    assert f'"TABLE_STREAM_ARN": "{arn}"' in capsys.readouterr().out

    config = awstools.read_config()
    config["stages"]["prod"]["environment_variables"]["TABLE_STREAM_ARN"] = arn
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setattr(awstools, "CONFIG_PATH", tmp_path / "config.json")

    assert run(monkeypatch, "--stage", "prod") == 0

    out = capsys.readouterr().out
    assert "ok: TABLE_STREAM_ARN" in out
    assert 'ACTION NEEDED: set "TABLE_STREAM_ARN"' not in out


def test_an_unverified_sender_gets_instructions(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_mock["sesv2"].create_email_identity(EmailIdentity=SENDER)  # link not clicked yet

    assert run(monkeypatch, "--stage", "prod", "--dry-run") == 0

    out = capsys.readouterr().out
    assert f"ACTION NEEDED: SES may not send as {SENDER}" in out
    assert f"create-email-identity --email-identity {SENDER}" in out


def test_a_verified_sender_domain_is_reported_ok(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    aws_mock["sesv2"].create_email_identity(EmailIdentity="shipcaptaincrew.example")
    # moto cannot click the DNS check; mark the identity verified the way SES would.
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    backend.email_identities["shipcaptaincrew.example"].verified_for_sending_status = True

    assert run(monkeypatch, "--stage", "prod", "--dry-run") == 0

    out = capsys.readouterr().out
    assert f"SES may send as {SENDER} (verified: shipcaptaincrew.example)" in out
    assert "ACTION NEEDED: SES" not in out


def test_mismatched_passwords_at_the_terminal_change_nothing(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["first try 12345", "second try 6789"])
    monkeypatch.setattr(bootstrap.getpass, "getpass", lambda prompt="": next(answers))
    monkeypatch.setattr("sys.stdin", Terminal(""))

    assert bootstrap.main(["--stage", "prod"]) == 2

    assert "differ" in capsys.readouterr().err
    assert aws_mock["dynamodb"].list_tables()["TableNames"] == []
    assert aws_mock["secretsmanager"].list_secrets()["SecretList"] == []


def test_the_password_is_asked_twice_without_echo_at_a_terminal(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr(bootstrap.getpass, "getpass", fake_getpass)
    monkeypatch.setattr("sys.stdin", Terminal(""))

    assert bootstrap.main(["--stage", "prod"]) == 0

    assert len(prompts) == 2
    assert bcrypt.checkpw(PASSWORD.encode(), secret(aws_mock, PROD_HASH).encode())


def test_without_a_terminal_it_asks_for_password_stdin(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "--stage", "prod") == 2
    assert "--password-stdin" in capsys.readouterr().err


@pytest.mark.parametrize("password", ["short", "x" * 73])
def test_a_password_bcrypt_cannot_take_well_is_refused_clearly(
    aws_mock: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    password: str,
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=password) == 2
    err = capsys.readouterr().err
    assert "crew password" in err
    assert "Traceback" not in err


def test_reset_password_replaces_only_the_hash(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0
    key = secret(aws_mock, PROD_KEY)

    new = "a brand new password 2"
    args = ("--stage", "prod", "--reset-password", "--password-stdin")
    assert run(monkeypatch, *args, stdin=new + "\n") == 0

    assert bcrypt.checkpw(new.encode(), secret(aws_mock, PROD_HASH).encode())
    assert secret(aws_mock, PROD_KEY) == key


def test_a_local_stage_is_refused_with_a_pointer_to_make_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "--stage", "local") == 2
    assert "make run" in capsys.readouterr().err


def test_an_unknown_stage_lists_the_real_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "--stage", "prdo") == 2
    err = capsys.readouterr().err
    assert "unknown stage 'prdo'" in err and "prod" in err
