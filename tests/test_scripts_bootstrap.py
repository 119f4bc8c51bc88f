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

from chalicelib.db import codec, keys, schema
from scripts import awstools, bootstrap
from tests import test_scripts_support as support
from tests.test_scripts_support import HeadersPolicies

workspace = support.workspace
cloudfront_gaps = support.cloudfront_gaps

PASSWORD = "anchors aweigh 1852"
PROD_TABLE = "shipcaptaincrew-prod"
PROD_KEY = "shipcaptaincrew/prod/token-signing-key"
PROD_HASH = "shipcaptaincrew/prod/admin-pass-hash"
PROD_VERIFY = "shipcaptaincrew/prod/origin-verify"
SITE_BUCKET = "shipcaptaincrew-site"
API_URL = "https://abc123def4.execute-api.us-east-1.amazonaws.com/api/"
SENDER = "dispatch@shipcaptaincrew.example"


@pytest.fixture(autouse=True)
def scratch(workspace: Path, cloudfront_gaps: HeadersPolicies) -> Path:
    """Every test here writes config.json into a scratch copy, and CloudFront's gaps in
    moto are filled."""
    return workspace


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def aws_mock() -> Iterator[dict[str, Any]]:
    with mock_aws():
        yield {
            name: boto3.client(name, region_name="us-east-1")
            for name in (
                "dynamodb",
                "secretsmanager",
                "sesv2",
                "s3",
                "cloudfront",
                "acm",
                "route53",
            )
        }


def site_distribution(aws: dict[str, Any], stage: str = "prod") -> dict[str, Any]:
    items = aws["cloudfront"].list_distributions()["DistributionList"].get("Items") or []
    found = [d for d in items if d["Comment"] == f"shipcaptaincrew-{stage}"]
    assert len(found) == 1, [d["Comment"] for d in items]
    return found[0]


def distribution_config(aws: dict[str, Any], stage: str = "prod") -> dict[str, Any]:
    dist = site_distribution(aws, stage)
    return aws["cloudfront"].get_distribution_config(Id=dist["Id"])["DistributionConfig"]


def bucket_policy(aws: dict[str, Any]) -> dict[str, Any]:
    return json.loads(aws["s3"].get_bucket_policy(Bucket=SITE_BUCKET)["Policy"])


def cloudfront_may_read(policy: dict[str, Any], distribution_arn: str, key: str) -> bool:
    """IAM's rule for the bucket policy: an explicit Deny wins, else any Allow."""
    import fnmatch

    allowed = False
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if statement["Principal"] != {"Service": "cloudfront.amazonaws.com"}:
            continue
        if statement["Action"] != "s3:GetObject":
            continue
        if not any(fnmatch.fnmatchcase(f"arn:aws:s3:::{SITE_BUCKET}/{key}", r) for r in resources):
            continue
        if statement["Condition"]["StringEquals"]["AWS:SourceArn"] != distribution_arn:
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def deployed_api(scratch: Path, stage: str = "prod") -> None:
    """What `chalice deploy` records: the REST API's URL."""
    (scratch / ".chalice" / "deployed" / f"{stage}.json").write_text(
        json.dumps({"resources": [{"name": "rest_api", "rest_api_url": API_URL}]})
    )


def run(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    """bootstrap as CI runs it: no terminal, --yes."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return bootstrap.main([*args, "--yes"])


def secret(aws: dict[str, Any], name: str) -> str:
    return aws["secretsmanager"].get_secret_value(SecretId=name)["SecretString"]


def test_first_run_creates_the_table_with_its_index_stream_ttl_recovery_and_protection(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    dynamodb = aws_mock["dynamodb"]
    described = dynamodb.describe_table(TableName=PROD_TABLE)["Table"]
    wanted = schema.definition(PROD_TABLE)
    assert described["KeySchema"] == wanted["KeySchema"]
    assert {i["IndexName"] for i in described["GlobalSecondaryIndexes"]} == {
        keys.DATE_INDEX,
        keys.LEDGER_DAY_INDEX,
    }
    assert described["StreamSpecification"] == wanted["StreamSpecification"]
    assert described["DeletionProtectionEnabled"] is True
    ttl = dynamodb.describe_time_to_live(TableName=PROD_TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": keys.TTL_ATTRIBUTE}
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
    schema.create_table(dynamodb, PROD_TABLE)
    item = codec.to_item({"PK": "EVENT#a1", "SK": "EVENT", "title": "Sunset Cruise"})
    dynamodb.put_item(TableName=PROD_TABLE, Item=item)

    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    kept = dynamodb.get_item(TableName=PROD_TABLE, Key={"PK": item["PK"], "SK": item["SK"]})
    assert kept["Item"] == item
    assert dynamodb.describe_table(TableName=PROD_TABLE)["Table"]["DeletionProtectionEnabled"]
    backups = dynamodb.describe_continuous_backups(TableName=PROD_TABLE)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def older_table(dynamodb: Any) -> None:
    """The table as it was before the cash-up's day index, with ledger entries in it."""
    spec = schema.definition(PROD_TABLE)
    spec["GlobalSecondaryIndexes"] = [
        i for i in spec["GlobalSecondaryIndexes"] if i["IndexName"] == keys.DATE_INDEX
    ]
    spec["AttributeDefinitions"] = [
        a for a in spec["AttributeDefinitions"] if not a["AttributeName"].startswith("GSI2")
    ]
    dynamodb.create_table(**spec)
    entries = [
        ("PAY#p1", "2026-07-04T09:15:00-07:00"),
        ("PAY#p2", "2026-07-04T23:30:00-07:00"),  # the next day in UTC
        ("REFUND#r1", "2026-07-05T08:00:00-07:00"),
    ]
    for sk, logged_at in entries:
        item = {"PK": "EVENT#a1", "SK": sk, "logged_at": logged_at, "amount_cents": 100}
        dynamodb.put_item(TableName=PROD_TABLE, Item=codec.to_item(item))
    receipt = {"PK": "EVENT#a1", "SK": "RECEIPT#p1", "payment_id": "p1"}
    dynamodb.put_item(TableName=PROD_TABLE, Item=codec.to_item(receipt))


def on_day_index(dynamodb: Any, day: str) -> list[str]:
    found = dynamodb.query(
        TableName=PROD_TABLE,
        IndexName=keys.LEDGER_DAY_INDEX,
        KeyConditionExpression="GSI2PK = :month AND begins_with(GSI2SK, :day)",
        ExpressionAttributeValues={
            ":month": {"S": f"LEDGER#{day[:7]}"},
            ":day": {"S": f"{day}#"},
        },
    )
    return [item["SK"]["S"] for item in found["Items"]]


def test_an_older_table_gets_the_day_index_and_its_ledger_is_put_on_it(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dynamodb = aws_mock["dynamodb"]
    older_table(dynamodb)

    assert run(monkeypatch, "--stage", "prod", "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"add index {keys.LEDGER_DAY_INDEX} to {PROD_TABLE}" in out
    assert f"put the ledger entries already in {PROD_TABLE} on index" in out
    assert "GSI2PK" not in stored_names(dynamodb)

    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0
    assert "3 ledger entries put on index" in capsys.readouterr().out
    indexes = dynamodb.describe_table(TableName=PROD_TABLE)["Table"]["GlobalSecondaryIndexes"]
    assert {i["IndexName"] for i in indexes} == {keys.DATE_INDEX, keys.LEDGER_DAY_INDEX}
    # By the operator's date each was logged (the offset it was stored with).
    assert on_day_index(dynamodb, "2026-07-04") == ["PAY#p1", "PAY#p2"]
    assert on_day_index(dynamodb, "2026-07-05") == ["REFUND#r1"]

    assert run(monkeypatch, "--stage", "prod") == 0
    assert "Nothing to change" in capsys.readouterr().out
    assert run(monkeypatch, "--stage", "prod", "--reindex-ledger") == 0
    assert "0 ledger entries put on index" in capsys.readouterr().out


def stored_names(dynamodb: Any) -> set[str]:
    items = dynamodb.scan(TableName=PROD_TABLE)["Items"]
    return {name for item in items for name in item}


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


def test_it_writes_the_stream_arn_and_distribution_id_into_the_stage_config(
    aws_mock: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    scratch: Path,
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0
    arn = aws_mock["dynamodb"].describe_table(TableName=PROD_TABLE)["Table"]["LatestStreamArn"]
    distribution = site_distribution(aws_mock)

    env = awstools.load_stage("prod").env
    assert env["TABLE_STREAM_ARN"] == arn
    assert env["DISTRIBUTION_ID"] == distribution["Id"]
    capsys.readouterr()

    assert run(monkeypatch, "--stage", "prod") == 0

    out = capsys.readouterr().out
    assert "policy-prod.json and spa/config.js agree" in out
    assert "wrote" not in out


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

    assert bootstrap.main(["--stage", "prod", "--yes"]) == 0

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


def test_reset_password_also_rotates_the_signing_key_and_says_every_login_ends(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0
    key = secret(aws_mock, PROD_KEY)
    verify = secret(aws_mock, PROD_VERIFY)
    capsys.readouterr()

    new = "a brand new password 2"
    args = ("--stage", "prod", "--reset-password", "--password-stdin")
    assert run(monkeypatch, *args, stdin=new + "\n") == 0

    assert bcrypt.checkpw(new.encode(), secret(aws_mock, PROD_HASH).encode())
    # A leaked password may have made tokens: they are signed with the old key, which is gone.
    assert secret(aws_mock, PROD_KEY) != key
    assert len(secret(aws_mock, PROD_KEY)) >= 48
    assert secret(aws_mock, PROD_VERIFY) == verify
    out = capsys.readouterr().out
    assert "EVERY CREW LOGIN ENDS" in out
    assert "every crew login has ended" in out


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


# --- the site: bucket, distribution, headers, bucket policy, certificate, DNS -----------


def test_from_an_empty_account_it_makes_the_bucket_distribution_oac_and_bucket_policy(
    aws_mock: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cloudfront_gaps: HeadersPolicies,
) -> None:
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    s3 = aws_mock["s3"]
    assert s3.get_bucket_versioning(Bucket=SITE_BUCKET)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=SITE_BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    s3.head_bucket(Bucket=f"{SITE_BUCKET}-logs")

    oacs = aws_mock["cloudfront"].list_origin_access_controls()["OriginAccessControlList"]
    assert [o["Name"] for o in oacs["Items"]] == [f"{SITE_BUCKET}-oac"]
    config = distribution_config(aws_mock)
    origin = config["Origins"]["Items"][0]
    assert origin["DomainName"] == f"{SITE_BUCKET}.s3.us-east-1.amazonaws.com"
    assert origin["OriginPath"] == ""
    assert origin["OriginAccessControlId"] == oacs["Items"][0]["Id"]
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    headers = cloudfront_gaps.policies[default["ResponseHeadersPolicyId"]]["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert "frame-ancestors 'none'" in headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    assert config["Logging"] == {
        "Enabled": True,
        "IncludeCookies": False,
        "Bucket": f"{SITE_BUCKET}-logs.s3.amazonaws.com",
        "Prefix": "cloudfront/prod/",
    }
    assert config["DefaultRootObject"] == "index.html"
    assert config["CustomErrorResponses"]["Quantity"] == 0
    arn = site_distribution(aws_mock)["ARN"]
    assert cloudfront_may_read(bucket_policy(aws_mock), arn, "index.html")
    out = capsys.readouterr().out
    assert "Made:" in out and f"distribution {site_distribution(aws_mock)['Id']}" in out


def test_a_second_run_reports_no_change_and_changes_nothing(
    aws_mock: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cloudfront_gaps: HeadersPolicies,
    scratch: Path,
) -> None:
    deployed_api(scratch)  # the code is deployed too: the routing table is applied
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0
    dist = site_distribution(aws_mock)
    etag = aws_mock["cloudfront"].get_distribution_config(Id=dist["Id"])["ETag"]
    policy = bucket_policy(aws_mock)
    config_json = (scratch / ".chalice" / "config.json").read_text()
    cloudfront_gaps.calls.clear()
    capsys.readouterr()

    assert run(monkeypatch, "--stage", "prod") == 0

    out = capsys.readouterr().out
    assert "Nothing to change" in out
    assert "Plan:" not in out
    assert aws_mock["cloudfront"].get_distribution_config(Id=dist["Id"])["ETag"] == etag
    assert bucket_policy(aws_mock) == policy
    assert (scratch / ".chalice" / "config.json").read_text() == config_json
    assert set(cloudfront_gaps.calls) == {"ListResponseHeadersPolicies"}
    assert len(aws_mock["cloudfront"].list_distributions()["DistributionList"]["Items"]) == 1


def test_dry_run_from_empty_plans_the_site_and_makes_nothing(
    aws_mock: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cloudfront_gaps: HeadersPolicies,
    scratch: Path,
) -> None:
    config_json = (scratch / ".chalice" / "config.json").read_text()

    assert run(monkeypatch, "--stage", "prod", "--dry-run") == 0

    out = capsys.readouterr().out
    for planned in (
        f"create bucket {SITE_BUCKET} in us-east-1",
        "create origin access control",
        "create response headers policy",
        "create distribution shipcaptaincrew-prod",
        "bucket policy",
        f"create secret {PROD_VERIFY}",
    ):
        assert planned in out
    assert aws_mock["s3"].list_buckets()["Buckets"] == []
    assert aws_mock["cloudfront"].list_distributions()["DistributionList"].get("Items") in (
        None,
        [],
    )
    assert aws_mock["cloudfront"].list_origin_access_controls()["OriginAccessControlList"].get(
        "Items"
    ) in (None, [])
    assert cloudfront_gaps.policies == {}
    assert (scratch / ".chalice" / "config.json").read_text() == config_json


def test_without_yes_and_without_a_terminal_it_changes_nothing(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))

    assert bootstrap.main(["--stage", "prod", "--password-stdin"]) == 2

    assert "--yes" in capsys.readouterr().err
    assert aws_mock["dynamodb"].list_tables()["TableNames"] == []
    assert aws_mock["s3"].list_buckets()["Buckets"] == []


def test_the_site_bucket_refuses_every_request_without_tls(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for stage in ("staging", "prod"):
        assert run(monkeypatch, "--stage", stage, "--password-stdin", stdin=PASSWORD + "\n") == 0

    statements = bucket_policy(aws_mock)["Statement"]
    denies = [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    # One statement for the shared bucket, whoever bootstrapped it, covering everyone
    # and every action on the bucket and each of its objects.
    assert len(denies) == 1
    assert denies[0]["Principal"] == "*" and denies[0]["Action"] == "s3:*"
    assert sorted(denies[0]["Resource"]) == [
        f"arn:aws:s3:::{SITE_BUCKET}",
        f"arn:aws:s3:::{SITE_BUCKET}/*",
    ]


def test_staging_and_prod_share_the_bucket_and_prod_never_serves_the_staging_slot(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for stage in ("staging", "prod"):
        assert run(monkeypatch, "--stage", stage, "--password-stdin", stdin=PASSWORD + "\n") == 0

    staging, prod = site_distribution(aws_mock, "staging"), site_distribution(aws_mock, "prod")
    assert distribution_config(aws_mock, "staging")["Origins"]["Items"][0]["OriginPath"] == (
        "/_staging"
    )
    policy = bucket_policy(aws_mock)
    assert cloudfront_may_read(policy, prod["ARN"], "index.html")
    assert cloudfront_may_read(policy, staging["ARN"], "_staging/index.html")
    # The prod distribution answers /_staging/* with S3's 403: an unreviewed page never
    # runs on the prod origin, where prod logins live.
    assert not cloudfront_may_read(policy, prod["ARN"], "_staging/index.html")
    assert not cloudfront_may_read(policy, prod["ARN"], "_releases/staging.json")
    assert not cloudfront_may_read(policy, staging["ARN"], "index.html")
    # Bootstrapping prod kept staging's statement (the bucket serves both).
    assert len(aws_mock["s3"].list_buckets()["Buckets"]) == 2


def test_a_bucket_outside_us_east_1_is_created_in_its_region(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, scratch: Path
) -> None:
    toml = scratch / "deploy" / "dev.toml"
    toml.write_text(toml.read_text().replace('region = "us-east-1"', 'region = "eu-west-1"'))

    assert run(monkeypatch, "--stage", "dev", "--password-stdin", stdin=PASSWORD + "\n") == 0

    location = aws_mock["s3"].get_bucket_location(Bucket="shipcaptaincrew-dev-site")
    assert location["LocationConstraint"] == "eu-west-1"
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    assert dynamodb.list_tables()["TableNames"] == ["shipcaptaincrew-dev"]


def test_a_domain_outside_route_53_gets_its_certificate_and_the_dns_records_to_add(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--stage", "prod", "--password-stdin", "--domain", "crew.example.org")
    assert run(monkeypatch, *args, stdin=PASSWORD + "\n") == 0

    listed = aws_mock["acm"].list_certificates()["CertificateSummaryList"]
    assert [c["DomainName"] for c in listed] == ["crew.example.org"]
    record = aws_mock["acm"].describe_certificate(CertificateArn=listed[0]["CertificateArn"])[
        "Certificate"
    ]["DomainValidationOptions"][0]["ResourceRecord"]
    out = capsys.readouterr().out
    assert f"ACTION NEEDED: add DNS record {record['Name']} CNAME {record['Value']}" in out
    dist = site_distribution(aws_mock)
    assert f"add DNS record crew.example.org. CNAME {dist['DomainName']}" in out
    assert 'put domain = "crew.example.org" in' in out
    # Not issued yet: the distribution keeps its own name until a later run.
    assert distribution_config(aws_mock)["Aliases"]["Quantity"] == 0


def test_a_domain_in_route_53_gets_its_records_and_once_issued_the_distribution_takes_it(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, scratch: Path
) -> None:
    toml = scratch / "deploy" / "prod.toml"
    toml.write_text(toml.read_text().replace('domain = ""', 'domain = "crew.example.org"'))
    zone = aws_mock["route53"].create_hosted_zone(Name="example.org", CallerReference="z")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]

    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    records = aws_mock["route53"].list_resource_record_sets(HostedZoneId=zone_id)
    found = {(r["Name"], r["Type"]): r for r in records["ResourceRecordSets"]}
    dist = site_distribution(aws_mock)
    alias = found[("crew.example.org.", "A")]["AliasTarget"]
    assert alias["DNSName"].rstrip(".") == dist["DomainName"]
    assert alias["HostedZoneId"] == "Z2FDTNDATAQYW2"
    assert any(kind == "CNAME" and name.startswith("_") for name, kind in found)

    # ACM validates once the record is visible (moto: after MOTO_ACM_VALIDATION_WAIT).
    monkeypatch.setattr("moto.settings.ACM_VALIDATION_WAIT", -1)
    assert run(monkeypatch, "--stage", "prod") == 0

    config = distribution_config(aws_mock)
    assert config["Aliases"]["Items"] == ["crew.example.org"]
    assert config["ViewerCertificate"]["ACMCertificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"


# --- the origin-verify secret ---------------------------------------------------------------


def test_the_api_origin_sends_the_origin_verify_secret_once_the_code_is_deployed(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, scratch: Path
) -> None:
    deployed_api(scratch)

    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    config = distribution_config(aws_mock)
    api = next(o for o in config["Origins"]["Items"] if o["Id"] == "shipcaptaincrew-api")
    assert api["CustomHeaders"]["Items"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": secret(aws_mock, PROD_VERIFY)}
    ]
    patterns = [b["PathPattern"] for b in config["CacheBehaviors"]["Items"]]
    assert patterns == ["/api/*", "/g/*/waiver"]


def test_rotating_the_origin_verify_secret_keeps_the_old_value_and_then_moves_cloudfront(
    aws_mock: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    scratch: Path,
) -> None:
    deployed_api(scratch)
    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0
    old = secret(aws_mock, PROD_VERIFY)
    capsys.readouterr()

    args = ("--stage", "prod", "--rotate-origin-verify", "--grace-seconds", "0")
    assert run(monkeypatch, *args) == 0

    new = secret(aws_mock, PROD_VERIFY)
    assert new != old
    previous = aws_mock["secretsmanager"].get_secret_value(
        SecretId=PROD_VERIFY, VersionStage="AWSPREVIOUS"
    )["SecretString"]
    assert previous == old  # the app accepts both while CloudFront switches over
    api = next(
        o
        for o in distribution_config(aws_mock)["Origins"]["Items"]
        if o["Id"] == "shipcaptaincrew-api"
    )
    assert api["CustomHeaders"]["Items"][0]["HeaderValue"] == new
    out = capsys.readouterr().out
    assert (
        out.index(f"put a new value in {PROD_VERIFY}")
        < out.index("wait 0 s")
        < out.index("send the new value as X-Origin-Verify")
    )
    assert old not in out and new not in out


def test_an_issued_certificate_replaces_the_default_one_instead_of_joining_it() -> None:
    """CloudFront refuses a viewer certificate that names both."""
    from scripts import site_setup, stage_settings

    settings = stage_settings.load("prod")
    site = site_setup.Site(settings, awstools.load_stage("prod"), None, "crew.example.org")
    site.made.update(
        {
            "oac": "E1OAC",
            "headers": "h1",
            "certificate": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
            "certificate_status": "ISSUED",
        }
    )
    current, _ = site_setup.wanted_distribution(
        site_setup.Site(settings, site.stage, None, ""), None, None, ""
    )

    wanted, changes = site_setup.wanted_distribution(site, current, None, "")

    assert wanted["ViewerCertificate"] == {
        "ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "SSLSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert wanted["Aliases"] == {"Quantity": 1, "Items": ["crew.example.org"]}
    assert changes


def test_a_distribution_made_by_hand_is_adopted_not_duplicated(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, scratch: Path
) -> None:
    made = aws_mock["cloudfront"].create_distribution(
        DistributionConfig={
            "CallerReference": "console",
            "Comment": "made in the console",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "S3-site",
                        "DomainName": f"{SITE_BUCKET}.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "S3-site",
                "ViewerProtocolPolicy": "allow-all",
            },
        }
    )["Distribution"]
    config = awstools.read_config()
    config["stages"]["prod"]["environment_variables"]["DISTRIBUTION_ID"] = made["Id"]
    awstools.CONFIG_PATH.write_text(json.dumps(config))

    assert run(monkeypatch, "--stage", "prod", "--password-stdin", stdin=PASSWORD + "\n") == 0

    items = aws_mock["cloudfront"].list_distributions()["DistributionList"]["Items"]
    assert [d["Id"] for d in items] == [made["Id"]]
    adopted = distribution_config(aws_mock)
    assert adopted["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert adopted["Logging"]["Enabled"] is True


def test_ledger_index_alone_counts_first_asks_then_puts_and_a_second_run_has_nothing(
    aws_mock: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts import ledger_index

    dynamodb = aws_mock["dynamodb"]
    older_table(dynamodb)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert ledger_index.main(["--stage", "prod", "--dry-run"]) == 0
    assert "3 to put on the index" in capsys.readouterr().out
    assert "GSI2PK" not in stored_names(dynamodb)
    assert ledger_index.main(["--stage", "prod"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert "GSI2PK" not in stored_names(dynamodb)

    assert ledger_index.main(["--stage", "prod", "--yes"]) == 0
    assert "3 entries put on the day index" in capsys.readouterr().out
    assert ledger_index.main(["--stage", "prod", "--yes"]) == 0
    assert "Nothing to do" in capsys.readouterr().out
