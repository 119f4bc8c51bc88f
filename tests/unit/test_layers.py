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


# The domains, in the order their imports may run: a domain may use the rules of the
# domains before it, never of those after it (and the store and the floor beneath all).
DOMAINS = ("crew", "web", "trips", "money", "waivers", "dock", "mail")
# The shared basics every floor may use.
BASICS = {"errors", "config", "aws", "timeutil", "validation", "logs", "templates", "records"}


def _name(path: Path) -> str:
    parts = path.relative_to(CHALICELIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _chalicelib_imports(path: Path) -> set[str]:
    """The chalicelib modules a file imports, lazy imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "chalicelib":
            found.update(f"chalicelib.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib."):
            module = node.module or ""
            found.add(module)
            # `from chalicelib.money import payments` imports the module payments.
            found.update(
                f"{module}.{alias.name}"
                for alias in node.names
                if (CHALICELIB.parent / module.replace(".", "/") / f"{alias.name}.py").exists()
            )
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("chalicelib"))
    return found


def _floor(module: str) -> str:
    """Which floor a module stands on: basics, records, store, or its domain."""
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] == "db":
        return "store"
    if len(parts) == 2 and parts[1] in BASICS:
        return "basics"
    if len(parts) == 3 and parts[2] == "records" and parts[1] in DOMAINS:
        return "records"
    if parts[1] in DOMAINS:
        return parts[1]
    raise AssertionError(f"{module} is in no floor: add it to a domain or to the basics")


def _may_import(importer: str, imported: str) -> bool:
    low, high = _floor(importer), _floor(imported)
    if high == "package" or (imported.count(".") == 1 and imported.split(".")[1] in DOMAINS):
        return True  # a package's __init__ is its docstring
    if low == "basics":
        return high == "basics"
    if low == "records":
        return high == "basics" or imported == importer  # records use only the shared base
    if low == "store":
        return high in ("basics", "records", "store")
    if high in ("basics", "records", "store"):
        return True
    return DOMAINS.index(high) <= DOMAINS.index(low)


def test_every_module_stands_in_a_domain_package_or_the_basics() -> None:
    flat = sorted(p.stem for p in CHALICELIB.glob("*.py") if p.stem not in BASICS | {"__init__"})
    assert flat == []
    for package in [*DOMAINS, "db"]:
        init = CHALICELIB / package / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring and len(docstring) > 80, f"{package}/__init__.py says what it owns"


def test_imports_run_one_way_domains_then_store_then_basics() -> None:
    offenders = {
        _name(path): sorted(
            module for module in _chalicelib_imports(path) if not _may_import(_name(path), module)
        )
        for path in _modules()
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_the_store_imports_records_never_services() -> None:
    offenders = {
        _name(path): sorted(
            module
            for module in _chalicelib_imports(path)
            if _floor(module) not in ("basics", "records", "store", "package")
        )
        for path in STORE.glob("*.py")
    }
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_the_domain_order_is_what_the_code_does() -> None:
    """Each domain uses some domain before it, or none: the order is not a made-up one."""
    used = {
        _floor(_name(path)): {_floor(m) for m in _chalicelib_imports(path)}
        for path in _modules()
        if _floor(_name(path)) in DOMAINS
    }
    assert set(used) == set(DOMAINS)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle's members (strongly connected parts with more than one node, or a
    node importing itself), by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                member = stack.pop()
                part.append(member)
                if member == node:
                    break
            if len(part) > 1 or node in graph.get(node, ()):
                found.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_in_the_lambda_code() -> None:
    graph = {_name(p): _chalicelib_imports(p) for p in _modules()}
    # A package's __init__ importing its own submodules lazily is the store's accessor.
    graph = {
        name: {m for m in deps if m != name and not name.startswith(m + ".")}
        for name, deps in graph.items()
    }
    graph = {name: {m for m in deps if m in graph} for name, deps in graph.items()}
    graph.pop("chalicelib.db", None)
    assert _cycles(graph) == []


def test_no_import_cycles_in_the_scripts() -> None:
    scripts = CHALICELIB.parent / "scripts"
    graph: dict[str, set[str]] = {}
    for path in scripts.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "scripts":
                deps.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scripts."):
                deps.add((node.module or "").split(".")[1])
            elif isinstance(node, ast.Import):
                deps.update(
                    a.name.split(".")[1] for a in node.names if a.name.startswith("scripts.")
                )
        graph[path.stem] = deps
    assert _cycles(graph) == []


_JS_IMPORT = re.compile(
    r"""(?:\bimport\b[^"'();]*?\bfrom\s*|\bimport\s*\(\s*)["']\./([\w-]+)\.js["']"""
)


def test_no_import_cycles_in_the_page() -> None:
    spa = CHALICELIB.parent / "spa"
    graph = {
        path.stem: set(_JS_IMPORT.findall(path.read_text(encoding="utf-8")))
        for path in spa.glob("*.js")
    }
    assert graph["app"], "the pattern finds the page's imports"
    assert _cycles(graph) == []
