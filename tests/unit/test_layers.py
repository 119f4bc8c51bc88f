"""The structure holds: only the store speaks DynamoDB, imports point one way."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CHALICELIB = Path(__file__).resolve().parents[2] / "chalicelib"
STORE = CHALICELIB / "db"
# The adapters that may import botocore: the store and the client factory.
ADAPTERS = {CHALICELIB / "aws.py"}
DYNAMODB_CALLS = re.compile(
    r"\.(get_item|put_item|update_item|delete_item|query|scan|transact_write_items|"
    r"batch_write_item|batch_get_item)\("
)


def _modules() -> list[Path]:
    return sorted(CHALICELIB.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_the_store_builds_dynamodb_requests() -> None:
    offenders = [
        str(path.relative_to(CHALICELIB))
        for path in _modules()
        if STORE not in path.parents and DYNAMODB_CALLS.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_only_the_store_and_the_client_factory_import_boto() -> None:
    offenders = [
        str(path.relative_to(CHALICELIB))
        for path in _modules()
        if STORE not in path.parents
        and path not in ADAPTERS
        and any(name.split(".")[0] in ("boto3", "botocore") for name in _imports(path))
    ]
    assert offenders == []


def test_nothing_on_the_lambda_path_imports_boto_at_module_level() -> None:
    offenders = [
        str(path.relative_to(CHALICELIB))
        for path in _modules()
        if any(name.split(".")[0] in ("boto3", "botocore") for name in _top_level_imports(path))
    ]
    assert offenders == []


def test_the_lambda_code_never_imports_boto3() -> None:
    """boto3 costs a cold start its import: clients come from botocore (chalicelib/aws.py)."""
    app = CHALICELIB.parent / "app.py"
    offenders = [
        path.name
        for path in [app, *_modules()]
        if any(name.split(".")[0] == "boto3" for name in _imports(path))
    ]
    assert offenders == []


def test_the_store_never_imports_a_service() -> None:
    services = {"chalicelib." + p.stem for p in CHALICELIB.glob("*.py") if p.stem not in _FLOOR}
    offenders = {
        str(path.relative_to(CHALICELIB)): sorted(_imports(path) & services)
        for path in STORE.glob("*.py")
        if _imports(path) & services
    }
    assert offenders == {}


# What the store may use beneath it.
_FLOOR = {"__init__", "aws", "config", "errors", "records", "timeutil", "logs"}
