"""Every Chalice route reaches the API through the edge routing table.

The regression test for the old bug: requests for /g/*/waiver fell through
CloudFront to the S3 dispatch page. Routes are declared with their public paths,
so each one, with sample values for its parameters, must match an API pattern in
chalicelib/web/edge.py ROUTES (which scripts/configure_cloudfront.py applies to
CloudFront and the local stack's edge applies on localhost).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.web import edge

ROOT = Path(__file__).resolve().parents[1]
# Ordinary ids, and values CloudFront's `*` must also span: slashes, dots, escapes.
SAMPLE_VALUES = ["4f1c2a9e", "a/b", "a/b/c", "x.y", "2026-07-04", "%2F", "waiver"]

pytestmark = pytest.mark.skipif(
    not (ROOT / "app.py").exists(), reason="app.py is not written yet: no routes to walk"
)


def public_paths() -> list[str]:
    from app import app

    return sorted(app.routes)


def with_values(route: str) -> list[str]:
    names = re.findall(r"{(\w+)}", route)
    if not names:
        return [route]
    return [re.sub(r"{\w+}", value, route) for value in SAMPLE_VALUES]


def test_the_app_declares_routes() -> None:
    paths = public_paths()
    assert "/api/health" in paths
    assert len(paths) >= 3


@pytest.mark.parametrize("route", public_paths() if (ROOT / "app.py").exists() else [])
def test_every_route_goes_to_the_api_at_the_edge(route: str) -> None:
    for path in with_values(route):
        assert edge.origin_for(path) == edge.API, f"{route} as {path} would reach the SPA bucket"


def test_waiver_links_reach_the_app_not_the_dispatch_page() -> None:
    assert edge.origin_for("/g/4f1c2a9e/waiver") == edge.API
    assert edge.origin_for("/g/a/b/waiver") == edge.API


@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/styles.css", "/_staging/"])
def test_the_dispatch_page_and_its_files_come_from_the_bucket(path: str) -> None:
    assert edge.origin_for(path) == edge.SPA


def test_patterns_are_valid_cloudfront_path_patterns() -> None:
    for pattern, origin in edge.ROUTES:
        assert pattern.startswith("/") and len(pattern) <= 255
        assert origin in (edge.API, edge.SPA)
    patterns = [pattern for pattern, _ in edge.ROUTES]
    assert len(patterns) == len(set(patterns))
