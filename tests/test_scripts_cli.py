"""What every admin script shares on the command line: it runs as the docs write it
(`scripts/<name>.py`, by its shebang), answers --help, and an AWS refusal names the
call and the resource and says what to do."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from pathlib import Path

import pytest
from moto import mock_aws

from scripts import awstools

REPO = awstools.REPO_ROOT
SCRIPTS = sorted(
    path
    for path in (REPO / "scripts").glob("*.py")
    if 'if __name__ == "__main__":' in path.read_text()
)
DOCS = [*(REPO / "docs").glob("*.md"), REPO / "README.md"]


def test_every_script_the_docs_call_has_a_main() -> None:
    # Called: `scripts/<name>.py` followed by an option or a subcommand.
    called = r"scripts/([a-z_]+)\.py +[-a-z]"
    named = {name for doc in DOCS for name in re.findall(called, doc.read_text())}
    assert named, "the docs name no script"
    assert named <= {path.stem for path in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_every_script_runs_by_its_shebang_and_answers_help(script: Path) -> None:
    assert script.read_text().startswith("#!/usr/bin/env python3\n")
    assert os.access(script, os.X_OK), f"{script.name} has no run bit"
    mode = subprocess.run(
        ["git", "ls-files", "-s", str(script.relative_to(REPO))],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert mode == "100755", f"{script.name} is not executable in git"
    # Outside the virtualenv, as an operator's shell is: it finds the repo's .venv.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "SCC_REPO_VENV")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin:" + env.get("PATH", "")
    done = subprocess.run(
        [str(script), "--help"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
    assert "Traceback" not in done.stderr


def clients(region: str = "us-west-2") -> object:
    return awstools.clients(argparse.Namespace(stage=None, region=region, profile=None))


def test_a_refusal_names_the_call_the_resource_and_the_region_and_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with mock_aws():
        make = clients()
        s3 = make("s3")  # type: ignore[operator]
        s3.create_bucket(
            Bucket="site-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
        )

        assert awstools.guard(lambda: s3.head_object(Bucket="site-bucket", Key="index.html")) == 1

    err = capsys.readouterr().err
    assert "AWS refused s3 HeadObject (Bucket=site-bucket, Key=index.html) in us-west-2" in err
    assert "404" in err
    assert "What to do:" in err
    assert "--region" in err and "bootstrap" in err


def test_a_refusal_of_a_table_names_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        dynamodb = clients("eu-west-1")("dynamodb")  # type: ignore[operator]

        assert awstools.guard(lambda: dynamodb.describe_table(TableName="nope-prod")) == 1

    err = capsys.readouterr().err
    assert "dynamodb DescribeTable (TableName=nope-prod) in eu-west-1" in err
    assert "ResourceNotFoundException" in err


def test_a_permission_refusal_says_which_permission_to_ask_for() -> None:
    from botocore.exceptions import ClientError

    call = awstools.Call("secretsmanager", "GetSecretValue", "us-west-2", {"SecretId": "x/y"})
    error = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "GetSecretValue"
    )

    line = awstools.refusal(error, call)

    assert "secretsmanager GetSecretValue (SecretId=x/y) in us-west-2" in line
    assert "secretsmanager:GetSecretValue" in line
