"""`chalice package --stage prod`: what would go to Lambda, and a template that lints.

Runs Chalice on a copy of the app (app.py, chalicelib/, requirements.txt, .chalice
config and policies) under build/packaging-test/, so the repo's .chalice/ gets no
build cache while the wheel downloads are reused between runs. Chalice fetches the
Lambda (manylinux) wheels of requirements.txt from the package index the first time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORK = ROOT / "build" / "packaging-test"
# The largest zip Lambda accepts as a direct upload.
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024
# cfn-lint rules deliberately ignored, each with the reason. None are needed today.
IGNORED_CFN_LINT_RULES: dict[str, str] = {}

pytestmark = pytest.mark.skipif(
    not (ROOT / "app.py").exists(), reason="app.py is not written yet: nothing to package"
)


def copy_project(target: Path) -> None:
    """The files `chalice package` reads; .chalice/deployments (the wheel cache) is kept."""
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, target / name)
    shutil.rmtree(target / "chalicelib", ignore_errors=True)
    shutil.copytree(
        ROOT / "chalicelib", target / "chalicelib", ignore=shutil.ignore_patterns("__pycache__")
    )
    chalice_dir = target / ".chalice"
    chalice_dir.mkdir(exist_ok=True)
    for source in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(source, chalice_dir / source.name)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    copy_project(WORK)
    out = tmp_path_factory.mktemp("package") / "out"
    # pip (inside chalice) keeps its own settings from the environment and HOME.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # Packaging needs a region name only; no AWS call is made.
    env.update(
        AWS_DEFAULT_REGION="us-west-2", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
    )
    done = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", "prod", str(out)],
        cwd=WORK,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def zip_names(package: Path) -> list[str]:
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        return archive.namelist()


def template(package: Path) -> dict[str, Any]:
    return json.loads((package / "sam.json").read_text())


def test_deployment_zip_size_is_reported_and_within_lambdas_limit(
    package: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = (package / "deployment.zip").stat().st_size
    with capsys.disabled():
        print(f"\ndeployment.zip for prod: {size / 1024 / 1024:.2f} MiB ({size} bytes)")
    assert 0 < size < LAMBDA_ZIP_LIMIT


def test_boto3_and_dev_tools_are_not_shipped(package: Path) -> None:
    """boto3 is in the Lambda runtime; shipping it only slows cold starts."""
    tops = {name.split("/")[0] for name in zip_names(package)}
    for unwanted in ("boto3", "botocore", "s3transfer", "moto", "pytest", "playwright"):
        assert unwanted not in tops, unwanted


def test_the_app_and_its_runtime_dependencies_are_shipped(package: Path) -> None:
    names = set(zip_names(package))
    assert "app.py" in names
    for module in (ROOT / "chalicelib").rglob("*"):
        if module.is_file() and "__pycache__" not in module.parts:
            assert module.relative_to(ROOT).as_posix() in names
    # Lambda's image may lack the zone database: the operator's zone must ride along.
    assert "tzdata/zoneinfo/America/Los_Angeles" in names
    assert any(n.startswith("bcrypt/") and n.endswith(".so") for n in names)
    assert any(n.startswith("jwt/") for n in names)
    assert any(n.startswith("jinja2/") for n in names)


def test_every_function_runs_python_3_11_with_its_own_prod_policy(package: Path) -> None:
    from chalice.utils import to_cfn_resource_name

    from scripts import stage_settings

    resources = template(package)["Resources"]
    functions = {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert functions
    own = {
        to_cfn_resource_name(name): json.loads(
            (ROOT / ".chalice" / f"policy-prod-{name}.json").read_text()
        )
        for name in stage_settings.FUNCTIONS
    }
    own["APIHandler"] = own.pop("ApiHandler")  # Chalice's own name for the API's handler
    for name, function in functions.items():
        assert function["Properties"]["Runtime"] == "python3.11", name
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        documents = [p["PolicyDocument"] for p in role["Properties"]["Policies"]]
        assert documents == [own[name]], name


def test_the_generated_template_passes_cfn_lint(package: Path) -> None:
    command = [str(BIN / "cfn-lint"), "--format", "parseable", str(package / "sam.json")]
    if IGNORED_CFN_LINT_RULES:
        command += ["--ignore-checks", *IGNORED_CFN_LINT_RULES]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
