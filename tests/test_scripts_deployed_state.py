"""The stage's deployed state kept in its site bucket, the deploy lock, and rollback
(scripts/deployed_state.py, scripts/deploy.py), against moto's S3. `chalice deploy`
is a stand-in that does what matters here: it reads the state file, adds to it what it
made, and writes it back, in the folder it was started in."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import awstools, deploy, deployed_state, smoke
from scripts.awstools import UserError
from tests import test_scripts_support as support

workspace = support.workspace
BUCKET = "shipcaptaincrew-site"
KEY = "_releases/deployed/staging.json"

FAKE_CHALICE = """#!{python}
# Stands in for `chalice deploy --stage S`: updates .chalice/deployed/S.json like Chalice.
import json, os, sys
from pathlib import Path
stage = sys.argv[sys.argv.index("--stage") + 1]
path = Path(".chalice/deployed") / (stage + ".json")
state = json.loads(path.read_text()) if path.exists() else {{"resources": []}}
code = Path("app.py").read_text() if Path("app.py").exists() else ""
with open({log!r}, "a") as log:
    log.write(json.dumps({{"cwd": os.getcwd(), "deploys": len(state["resources"]), "code": code}}) + "\\n")
if os.environ.get("FAKE_CHALICE_WRITES", "1") == "1":
    state["resources"].append({{"name": "api_handler", "n": len(state["resources"]) + 1}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state))
sys.exit(int(os.environ.get("FAKE_CHALICE_EXIT", "0")))
"""


@pytest.fixture
def s3(workspace: Path) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield client


@pytest.fixture
def chalice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in's log: one JSON line per deploy (where, what it found, which code)."""
    log = tmp_path / "chalice.log"
    fake = tmp_path / "chalice"
    fake.write_text(FAKE_CHALICE.format(python=sys.executable, log=str(log)))
    fake.chmod(0o755)
    monkeypatch.setattr(deploy, "chalice_command", lambda: str(fake))
    monkeypatch.setattr(awstools, "local_commit", lambda: "c0ffee" * 6 + "abcd")
    return log


def runs(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def args_for(*argv: str) -> Any:
    args = deploy.build_parser().parse_args(["--stage", "staging", *argv])
    args.region = "us-east-1"
    return args


def stored(s3: Any) -> dict[str, Any]:
    answer = s3.get_object(Bucket=BUCKET, Key=KEY)
    return {"state": json.loads(answer["Body"].read()), "meta": answer["Metadata"]}


def test_a_fresh_checkout_deploys_onto_the_state_another_operator_left_in_s3(
    s3: Any, chalice: Path, workspace: Path
) -> None:
    earlier = {"resources": [{"name": "api_handler", "n": 1}]}
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(earlier).encode())
    assert not (workspace / ".chalice" / "deployed" / "staging.json").exists()

    assert deploy.run_code_deploy(args_for()) == 0

    # Chalice found what was made before (so it updates it, not makes a second API) ...
    assert runs(chalice)[0]["deploys"] == 1
    # ... and what it made now is with the stage, a new version, with its commit.
    kept = stored(s3)
    assert [r["n"] for r in kept["state"]["resources"]] == [1, 2]
    assert kept["meta"]["outcome"] == "ok"
    assert kept["meta"]["commit"].startswith("c0ffee")
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=KEY)["Versions"]
    assert len(versions) == 2


def test_a_failed_deploy_still_keeps_what_chalice_made(
    s3: Any, chalice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CHALICE_EXIT", "1")

    assert deploy.run_code_deploy(args_for()) == 1

    kept = stored(s3)
    assert kept["meta"]["outcome"] == "failed"
    assert kept["state"]["resources"][0]["name"] == "api_handler"


def test_a_failed_deploy_that_wrote_nothing_stores_nothing(
    s3: Any, chalice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CHALICE_EXIT", "1")
    monkeypatch.setenv("FAKE_CHALICE_WRITES", "0")

    assert deploy.run_code_deploy(args_for()) == 1

    assert "Versions" not in s3.list_object_versions(Bucket=BUCKET, Prefix=KEY)


def test_a_stage_being_deployed_is_refused_naming_who_and_how_to_break_a_stale_lock(
    s3: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(deployed_state, "operator", lambda: "alice@laptop")
    deployed_state.acquire(s3, BUCKET, "staging", "a" * 40)
    monkeypatch.setattr(deployed_state, "operator", lambda: "bob@desk")
    ran: list[str] = []
    monkeypatch.setattr(deploy, "run_steps", lambda steps: ran.append("steps") or 0)

    assert deploy.main(["--stage", "staging", "--yes"]) == 2

    err = capsys.readouterr().err
    assert "being deployed by alice@laptop since" in err
    assert "aaaaaaaaaaaa" in err
    assert "scripts/deploy.py --stage staging unlock" in err
    assert ran == []


def test_the_lock_is_given_back_after_a_deploy_even_a_failed_one(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []

    def steps(_steps: Any) -> int:
        seen.append(deployed_state.read_lock(s3, BUCKET, "staging"))
        return 1

    monkeypatch.setattr(deploy, "run_steps", steps)

    assert deploy.main(["--stage", "staging", "--yes"]) == 1

    assert seen[0]["action"] == "deploy"
    assert deployed_state.read_lock(s3, BUCKET, "staging") is None


def test_unlock_asks_then_breaks_a_stale_lock(
    s3: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed_state.acquire(s3, BUCKET, "staging", "a" * 40)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert deploy.main(["unlock", "--stage", "staging"]) == 2
    assert deployed_state.read_lock(s3, BUCKET, "staging") is not None

    assert deploy.main(["unlock", "--stage", "staging", "--yes"]) == 0
    assert deployed_state.read_lock(s3, BUCKET, "staging") is None
    assert "Lock of staging broken" in capsys.readouterr().out


def test_a_run_whose_lock_was_broken_and_retaken_leaves_the_new_owners_lock(s3: Any) -> None:
    mine = deployed_state.acquire(s3, BUCKET, "staging", "a" * 40)
    held = deployed_state.read_lock(s3, BUCKET, "staging")
    assert held is not None
    s3.delete_object(Bucket=BUCKET, Key=deployed_state.lock_key("staging"))
    deployed_state.acquire(s3, BUCKET, "staging", "b" * 40)

    deployed_state.release(s3, BUCKET, "staging", mine)

    assert deployed_state.read_lock(s3, BUCKET, "staging")["commit"] == "b" * 40  # type: ignore[index]


def test_two_acquires_at_once_leave_exactly_one_owner(s3: Any) -> None:
    deployed_state.acquire(s3, BUCKET, "staging", "a" * 40)
    with pytest.raises(UserError):
        deployed_state.acquire(s3, BUCKET, "staging", "b" * 40)


# --- rollback ---------------------------------------------------------------------------


def git(repo: Path, *argv: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *argv],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_rollback_redeploys_the_code_deployed_before_in_one_command(
    s3: Any, chalice: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(workspace, "init", "-q")
    (workspace / "app.py").write_text("VERSION = 1\n")
    git(workspace, "add", "app.py", ".chalice", "deploy", "spa")
    git(workspace, "commit", "-qm", "one")
    first = git(workspace, "rev-parse", "HEAD")
    (workspace / "app.py").write_text("VERSION = 2\n")
    git(workspace, "commit", "-qam", "two")
    second = git(workspace, "rev-parse", "HEAD")
    monkeypatch.setattr(deploy, "run_authorizer_mapping", lambda args: 0)
    monkeypatch.setattr(smoke, "main", lambda argv: 0)
    for commit in (first, second):
        monkeypatch.setattr(awstools, "local_commit", lambda commit=commit: commit)
        assert deploy.run_code_deploy(args_for()) == 0

    assert deploy.main(["rollback", "--stage", "staging", "--yes"]) == 0

    last = runs(chalice)[-1]
    assert last["code"] == "VERSION = 1\n"  # the previous commit's code went out ...
    assert last["deploys"] == 2  # ... onto the same functions and API
    assert Path(last["cwd"]) != workspace
    kept = stored(s3)
    assert kept["meta"]["commit"] == first
    assert kept["meta"]["outcome"] == "ok"
    # This checkout is as it was: the rollback ran in an exported copy.
    assert (workspace / "app.py").read_text() == "VERSION = 2\n"
    assert workspace == awstools.REPO_ROOT
    assert deployed_state.read_lock(s3, BUCKET, "staging") is None


def test_rollback_with_one_release_only_has_nothing_to_go_back_to(
    s3: Any, chalice: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy.run_code_deploy(args_for()) == 0

    assert deploy.main(["rollback", "--stage", "staging", "--yes"]) == 2

    assert "nothing older to go back to" in capsys.readouterr().err


def test_history_lists_each_deploy_with_its_commit_and_outcome(
    s3: Any, chalice: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy.run_code_deploy(args_for()) == 0
    monkeypatch.setenv("FAKE_CHALICE_EXIT", "1")
    assert deploy.run_code_deploy(args_for()) == 1
    capsys.readouterr()

    assert deployed_state.main(["--stage", "staging"]) == 0

    out = capsys.readouterr().out
    assert "not locked" in out
    assert out.index("failed") < out.index(" ok ")
    assert out.count("c0ffeec0ffee") == 2
