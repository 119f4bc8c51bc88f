"""scripts/deploy.py (orchestration, and prod's promote against moto's S3) and
scripts/smoke.py (against a tiny local site). verify_deploy: test_scripts_verify_deploy.py."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import awstools, configure_cloudfront, deploy, smoke, sync_spa
from tests import test_scripts_support as support

cloudfront_gaps = support.cloudfront_gaps
REAL_SYNC_MAIN = sync_spa.main
REAL_MARK_TESTED = deploy.run_mark_tested
workspace = support.workspace

# --- deploy ------------------------------------------------------------------------


pytestmark = pytest.mark.usefixtures("settings_in_us_east_1")


@pytest.fixture
def staged_config(workspace: Path) -> Path:
    """config.json with a distribution for staging, as an admin has it after setup."""
    config = awstools.read_config()
    config["stages"]["staging"]["environment_variables"]["DISTRIBUTION_ID"] = "E1STAGING"
    path = awstools.CONFIG_PATH
    path.write_text(json.dumps(config))
    return path


class Steps:
    """Stand-ins for the real steps: record the order, fail where told."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ran: list[str] = []
        self.codes: dict[str, int] = {}
        fakes = {
            (deploy, "preflight"): "preflight",
            (deploy, "run_settings"): "settings",
            (deploy, "run_code_deploy"): "chalice",
            (deploy, "run_mark_tested"): "tested",
            (deploy, "run_authorizer_mapping"): "gateway",
            (deploy, "run_limits"): "limits",
            (deploy, "run_alarms"): "alarms",
            (configure_cloudfront, "main"): "cloudfront",
            (sync_spa, "main"): "spa",
            (smoke, "main"): "smoke",
        }
        for (module, name), label in fakes.items():
            monkeypatch.setattr(module, name, self._fake(label))
        monkeypatch.setattr(deploy, "site_url", lambda args, stage: ("https://site/", False))
        # The lock is tested against moto's S3 in test_scripts_deployed_state.py.
        monkeypatch.setattr(deploy, "acquire_lock", lambda *args: "etag")
        monkeypatch.setattr(deploy, "release_lock", lambda *args: None)

    def _fake(self, label: str) -> Any:
        def step(*_args: Any, **_kwargs: Any) -> int:
            self.ran.append(label)
            return self.codes.get(label, 0)

        return step


def test_deploy_dry_run_prints_every_step_in_order_and_runs_none(
    staged_config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = Steps(monkeypatch)

    assert deploy.main(["--stage", "staging", "--dry-run"]) == 0

    out = capsys.readouterr().out
    order = [
        "scripts/bootstrap.py --stage staging",
        "scripts/stage_settings.py --stage staging",
        "chalice deploy --stage staging",
        "put-gateway-response AUTHORIZER_FAILURE 503",
        "scripts/stage_limits.py --stage staging",
        "scripts/alarms.py --stage staging",
        "scripts/configure_cloudfront.py --stage staging",
        "scripts/sync_spa.py --stage staging push --slot staging",
        "scripts/smoke.py",
        "_releases/staging.json",
    ]
    positions = [out.index(text) for text in order]
    assert positions == sorted(positions)
    assert steps.ran == []


def test_deploy_runs_each_step_once_in_order(
    staged_config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = Steps(monkeypatch)

    assert deploy.main(["--stage", "staging", "--yes"]) == 0

    assert steps.ran == [
        "preflight",
        "settings",
        "chalice",
        "gateway",
        "limits",
        "alarms",
        "cloudfront",
        "spa",
        "smoke",
        "tested",
    ]
    assert "Deployed" in capsys.readouterr().out


def test_a_failing_step_stops_the_chain_and_names_what_did_not_run(
    staged_config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = Steps(monkeypatch)
    steps.codes["cloudfront"] = 1

    assert deploy.main(["--stage", "staging", "--yes"]) == 1

    assert steps.ran == [
        "preflight",
        "settings",
        "chalice",
        "gateway",
        "limits",
        "alarms",
        "cloudfront",
    ]
    err = capsys.readouterr().err
    assert "step 7" in err
    assert "Not run: push the dispatch page" in err


def test_code_is_not_deployed_when_the_stage_is_not_bootstrapped(
    staged_config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = Steps(monkeypatch)
    steps.codes["preflight"] = 1

    assert deploy.main(["--stage", "staging", "--yes"]) == 1

    assert steps.ran == ["preflight"]
    assert "Not run: settings" in capsys.readouterr().err


def test_authorizer_failures_answer_503_once_mapped_and_a_second_run_changes_nothing() -> None:
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name="us-east-1")
        api_id = apigateway.create_rest_api(name="shipcaptaincrew")["id"]
        root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
        apigateway.put_method(
            restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE"
        )
        apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")

        assert deploy.map_authorizer_failure(apigateway, api_id, "api") is True
        mapped = apigateway.get_gateway_response(
            restApiId=api_id, responseType="AUTHORIZER_FAILURE"
        )
        assert mapped["statusCode"] == "503"
        assert mapped["responseParameters"]["gatewayresponse.header.Retry-After"] == "'5'"
        body = json.loads(mapped["responseTemplates"]["application/json"])
        assert body["code"] == "unavailable"
        deployments = apigateway.get_deployments(restApiId=api_id)["items"]

        assert deploy.map_authorizer_failure(apigateway, api_id, "api") is False
        assert apigateway.get_deployments(restApiId=api_id)["items"] == deployments


def test_preflight_refuses_a_stage_whose_table_and_secrets_are_missing(
    staged_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = deploy.build_parser().parse_args(["--stage", "staging"])
    with mock_aws():
        assert deploy.preflight(args) == 1
    err = capsys.readouterr().err
    assert "create table shipcaptaincrew-staging" in err
    assert "scripts/bootstrap.py --stage staging" in err


def test_preflight_passes_once_bootstrap_has_run(
    staged_config: Path, monkeypatch: pytest.MonkeyPatch, cloudfront_gaps: Any
) -> None:
    from scripts import bootstrap

    args = deploy.build_parser().parse_args(["--stage", "staging"])
    with mock_aws():
        monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
        assert bootstrap.main(["--stage", "staging", "--password-stdin", "--yes"]) == 0
        assert deploy.preflight(args) == 0


def test_a_chalice_failure_stops_before_cloudfront(
    staged_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = Steps(monkeypatch)
    steps.codes["chalice"] = 2

    assert deploy.main(["--stage", "staging", "--yes"]) == 2

    assert steps.ran == ["preflight", "settings", "chalice"]


def test_deploying_any_stage_without_a_terminal_needs_yes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = Steps(monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert deploy.main(["--stage", "prod"]) == 2

    assert "--yes" in capsys.readouterr().err
    assert steps.ran == []


def test_a_stage_whose_distribution_is_missing_skips_cloudfront_and_smoke_checks_the_api(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        awstools, "deployed_api_url", lambda stage, deployed_dir=None: "https://api.example/api/"
    )
    args = deploy.build_parser().parse_args(["--stage", "dev"])

    assert deploy.run_cloudfront(args) == 0

    assert "has no distribution: skipped" in capsys.readouterr().out
    assert deploy.site_url(args, awstools.load_stage("dev")) == ("https://api.example/api/", True)


# --- prod gets staging's tested page ---------------------------------------------------

COMMIT = "c0ffee1234567890c0ffee1234567890c0ffee12"
SITE = "shipcaptaincrew-site"


def test_prod_dry_run_promotes_staging_and_never_pushes_the_local_folder(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy.main(["--stage", "prod", "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert "staging tested this commit" in out
    assert "sync_spa.py --stage prod promote" in out
    assert "push --slot prod" not in out


@pytest.fixture
def site_bucket(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(awstools, "local_commit", lambda: COMMIT)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=SITE)
        yield s3


def push_staging(workspace: Path) -> None:
    assert sync_spa.main(["--stage", "staging", "push", "--slot", "staging", "--yes"]) == 0


def test_deploying_prod_refuses_before_any_step_when_staging_is_untested(
    site_bucket: Any, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push_staging(workspace)

    assert deploy.main(["--stage", "prod", "--yes"]) == 2

    err = capsys.readouterr().err
    assert "never passed its checks" in err
    assert "Not run: settings" in err
    assert site_bucket.list_objects_v2(Bucket=SITE, Prefix="index").get("KeyCount") == 0


def test_deploying_staging_marks_its_page_tested_only_after_the_smoke_checks_pass(
    site_bucket: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = Steps(monkeypatch)
    monkeypatch.setattr(sync_spa, "main", REAL_SYNC_MAIN)
    monkeypatch.setattr(deploy, "run_mark_tested", REAL_MARK_TESTED)
    steps.codes["smoke"] = 1

    assert deploy.main(["--stage", "staging", "--yes"]) == 1
    assert sync_spa.read_release(site_bucket, SITE)["tested_at"] is None

    steps.codes["smoke"] = 0
    assert deploy.main(["--stage", "staging", "--yes"]) == 0
    release = sync_spa.read_release(site_bucket, SITE)
    assert release["tested_at"] and release["commit"] == COMMIT


def test_deploying_prod_promotes_the_tested_staging_page_byte_for_byte(
    site_bucket: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    push_staging(workspace)
    sync_spa.mark_tested(site_bucket, SITE, COMMIT)
    # The local folder differs from what staging tested: prod must not get it.
    (workspace / "spa" / "index.html").write_text("<!doctype html><title>untested</title>")
    steps = Steps(monkeypatch)
    monkeypatch.setattr(sync_spa, "main", REAL_SYNC_MAIN)

    assert deploy.main(["--stage", "prod", "--yes"]) == 0

    assert "spa" not in steps.ran  # the page step was the real one
    staged = site_bucket.get_object(Bucket=SITE, Key="_staging/index.html")["Body"].read()
    live = site_bucket.get_object(Bucket=SITE, Key="index.html")["Body"].read()
    assert live == staged
    assert b"untested" not in live


# --- smoke --------------------------------------------------------------------------

SPA_PAGE = b"<!doctype html><title>Dispatch</title><main id=login-view></main>"
APP_404 = (
    b'<!doctype html><meta name="generator" content="shipcaptaincrew"><title>No such trip</title>'
)


class Site:
    """A stand-in for the deployed site; `broken` reproduces one fault at a time."""

    def __init__(self) -> None:
        self.broken: set[str] = set()


def make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def spa(self) -> None:
            self.answer(200, "text/html; charset=utf-8", SPA_PAGE)

        def do_GET(self) -> None:
            if self.path == "/api/health":
                if "health" in site.broken:
                    return self.answer(502, "application/json", b'{"message": "bad gateway"}')
                return self.answer(200, "application/json", b'{"status": "ok", "stage": "t"}')
            if self.path.startswith("/g/") and self.path.endswith("/waiver"):
                if "waiver" in site.broken:
                    return self.spa()  # the old bug: CloudFront handed it to S3
                return self.answer(404, "text/html; charset=utf-8", APP_404)
            return self.spa()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.startswith("/api/events/") and self.path.endswith("/payments"):
                if "payments" in site.broken:
                    return self.answer(404, "application/json", b'{"code": "not_found"}')
                return self.answer(401, "application/json", b'{"code": "unauthorized"}')
            return self.answer(403, "application/xml", b"<Error>AccessDenied</Error>")

    return Handler


@pytest.fixture
def site() -> Iterator[tuple[Site, str]]:
    state = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_smoke_passes_against_a_healthy_site(
    site: tuple[Site, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = site
    assert smoke.main(["--base-url", url]) == 0
    out = capsys.readouterr().out
    assert out.count(" ok") >= 4
    assert "All 4 checks passed" in out


def test_smoke_fails_when_the_waiver_falls_through_to_the_dispatch_page(
    site: tuple[Site, str], capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = site
    state.broken.add("waiver")

    assert smoke.main(["--base-url", url]) == 1

    captured = capsys.readouterr()
    assert "the dispatch page: CloudFront sent it to S3" in captured.out
    assert "waiver page from app" in captured.err


def test_smoke_fails_when_the_payment_route_is_missing(
    site: tuple[Site, str], capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = site
    state.broken.add("payments")

    assert smoke.main(["--base-url", url]) == 1

    assert "route missing" in capsys.readouterr().out


def test_smoke_fails_when_health_is_not_ok(site: tuple[Site, str]) -> None:
    state, url = site
    state.broken.add("health")
    assert smoke.main(["--base-url", url]) == 1


def test_smoke_fails_when_nothing_answers(capsys: pytest.CaptureFixture[str]) -> None:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()  # a port that was free a moment ago: nothing listens now

    assert smoke.main(["--base-url", f"http://127.0.0.1:{port}/", "--timeout", "2"]) == 1

    assert "no answer" in capsys.readouterr().out


def test_smoke_api_only_skips_the_dispatch_page(
    site: tuple[Site, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = site
    assert smoke.main(["--base-url", url, "--api-only"]) == 0
    assert "dispatch page" not in capsys.readouterr().out


def test_smoke_rejects_a_base_url_without_a_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    assert smoke.main(["--base-url", "example.org"]) == 2
    assert "https://" in capsys.readouterr().err


def test_the_commit_is_dirty_for_edits_but_not_for_the_files_deploy_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / ".chalice").mkdir()
    (tmp_path / "spa").mkdir()
    for rel in (".chalice/config.json", "spa/config.js", "spa/app.js", "app.py"):
        (tmp_path / rel).write_text("x\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.email=a@b.c", "-c", "user.name=t", "commit", "-qm", "start")
    monkeypatch.setattr(awstools, "REPO_ROOT", tmp_path)
    clean = awstools.local_commit()
    assert len(clean) == 40

    (tmp_path / ".chalice" / "config.json").write_text("derived\n")
    (tmp_path / "spa" / "config.js").write_text("derived\n")
    assert awstools.local_commit() == clean

    (tmp_path / "spa" / "app.js").write_text("edited\n")
    assert awstools.local_commit() == clean + "-dirty"


# --- the stage's region, whatever the profile says (issue 22, item 1) ----------------

FAKE_CHALICE = """#!{python}
# Stands in for `chalice deploy`: resolves the region the way Chalice itself does
# (chalice.cli.factory.create_botocore_session) and writes it down.
import os, sys
from chalice.cli.factory import create_botocore_session
session = create_botocore_session(profile=os.environ.get("AWS_PROFILE"))
open({out!r}, "w").write(str(session.get_config_variable("region")))
"""


@pytest.fixture
def profile_in_another_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An AWS profile whose own region is us-west-1 (the stages say us-east-1 here)."""
    config = tmp_path / "aws-config"
    config.write_text("[profile elsewhere]\nregion = us-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    return "elsewhere"


def test_chalice_deploys_in_the_stages_region_not_the_profiles(
    workspace: Path, tmp_path: Path, profile_in_another_region: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    out = tmp_path / "region.txt"
    fake = tmp_path / "chalice"
    fake.write_text(FAKE_CHALICE.format(python=sys.executable, out=str(out)))
    fake.chmod(0o755)
    monkeypatch.setattr(deploy, "chalice_command", lambda: str(fake))
    args = deploy.build_parser().parse_args(
        ["--stage", "staging", "--profile", profile_in_another_region]
    )

    assert deploy.run_chalice_deploy(args) == 0

    assert out.read_text() == "us-east-1"


def test_with_no_region_anywhere_chalice_still_gets_the_stages(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    args = deploy.build_parser().parse_args(["--stage", "prod"])

    env = deploy.chalice_environment(args)

    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"] == "us-east-1"


def test_every_step_gets_the_stages_region(
    staged_config: Path, monkeypatch: pytest.MonkeyPatch, profile_in_another_region: str
) -> None:
    seen: dict[str, list[str]] = {}
    Steps(monkeypatch)

    def recorder(name: str) -> Any:
        def main(argv: list[str]) -> int:
            seen[name] = argv
            return 0

        return main

    monkeypatch.setattr(configure_cloudfront, "main", recorder("cloudfront"))
    monkeypatch.setattr(sync_spa, "main", recorder("spa"))

    assert deploy.main(["--stage", "staging", "--profile", profile_in_another_region, "--yes"]) == 0

    assert "--region=us-east-1" in seen["cloudfront"]
    assert "--region=us-east-1" in seen["spa"]
    assert awstools.clients(deploy.build_parser().parse_args(["--stage", "staging"]))(
        "dynamodb"
    ).meta.region_name == ("us-east-1")
