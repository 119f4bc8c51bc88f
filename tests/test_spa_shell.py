"""The dispatch page's offline shell: the stamp, its first script, and how it is served."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from werkzeug.test import Client as WsgiClient

from scripts import local_edge, sync_spa
from scripts.awstools import UserError

ROOT = Path(__file__).resolve().parent.parent
SPA = ROOT / "spa"


def test_the_committed_page_is_stamped() -> None:
    # A stale stamp means phones keep the old page, or the CSP blocks the first script.
    assert sync_spa.stale_stamp(SPA) == [], "run `python scripts/sync_spa.py stamp`"


def test_the_service_worker_caches_every_file_of_the_page() -> None:
    worker = (SPA / "sw.js").read_text()
    for rel in sync_spa.local_files(SPA):
        if rel != "sw.js":
            assert f'"{rel}"' in worker, rel


def test_the_boards_path_weighs_at_most_20_kb_gzipped() -> None:
    # The page weight (design): what travels before the first card, at about 27 ms a
    # kilobyte on slow 3G. Screens loaded later do not count; bench/page.py reports it too.
    board = ["index.html", "styles.css", *sync_spa.static_imports(SPA, sync_spa.ENTRY)]
    assert "forms.js" not in board and "saved.js" not in board
    weight = sum(len(gzip.compress((SPA / name).read_bytes(), compresslevel=9)) for name in board)
    assert weight <= 20_000, f"the board's path is {weight:,} bytes gzipped: {board}"


def test_the_first_script_is_allowed_by_hash_and_nothing_else_inline() -> None:
    page = (SPA / "index.html").read_text()
    assert page.count("<script>") == 1
    assert "'unsafe-inline'" not in page
    assert "script-src 'self' 'sha256-" in page


def test_a_changed_file_changes_the_version_and_push_refuses_until_stamped(
    tmp_path: Path,
) -> None:
    site = tmp_path / "spa"
    shutil.copytree(SPA, site)
    (site / "board.js").write_text((site / "board.js").read_text() + "\n// changed\n")
    assert sync_spa.stale_stamp(site) == ["sw.js"]
    with pytest.raises(UserError, match="stamp"):
        sync_spa.cmd_push(_push_args(), _context(site))
    assert sync_spa.main(["--spa-dir", str(site), "stamp"]) == 0
    assert sync_spa.stale_stamp(site) == []
    old = (SPA / "sw.js").read_text().split('VERSION = "')[1][:12]
    assert old not in (site / "sw.js").read_text()


def test_a_slots_own_config_does_not_change_the_version(tmp_path: Path) -> None:
    site = tmp_path / "spa"
    shutil.copytree(SPA, site)
    (site / "config.js").write_text('export const API_BASE = "https://api.example";\n')
    assert sync_spa.stale_stamp(site) == []


def test_the_worker_and_the_page_are_never_cached_by_the_browser() -> None:
    for name in ("index.html", "sw.js", "config.js"):
        assert sync_spa.cache_control(name) == "no-cache"
    assert sync_spa.cache_control("board.js") == sync_spa.SHORT_CACHE


def test_local_edge_serves_the_page_with_cloudfront_headers_and_gzip() -> None:
    client = WsgiClient(local_edge.Edge(9, SPA, emails=list))
    plain = client.get("/board.js")
    zipped = client.get("/board.js", headers={"Accept-Encoding": "gzip, br"})
    assert plain.headers.get("Content-Encoding") is None
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data == (SPA / "board.js").read_bytes()
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["Cache-Control"] == sync_spa.SHORT_CACHE
    assert zipped.headers["Content-Type"] == "text/javascript; charset=utf-8"
    worker = client.get("/sw.js", headers={"Accept-Encoding": "gzip"})
    assert worker.headers["Cache-Control"] == "no-cache"
    again = client.get("/board.js", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304
    again = client.get(
        "/board.js",
        headers={"If-None-Match": zipped.headers["ETag"], "Accept-Encoding": "gzip"},
    )
    assert again.status_code == 304
    assert len(client.get("/icon.svg", headers={"Accept-Encoding": "gzip"}).data) < 1000


def _push_args():
    import argparse

    return argparse.Namespace(slot="staging", force=False, config=False, yes=True, dry_run=False)


def _context(site: Path) -> sync_spa.Context:
    class NoAws:
        def __call__(self, service: str):
            raise AssertionError("push must refuse before it talks to AWS")

    state = sync_spa.State.load(site / ".sync-state.json")
    return sync_spa.Context("bucket", site, state, NoAws(), None, None)  # type: ignore[arg-type]


def test_local_edge_gzips_the_apis_json_as_api_gateway_compression_does() -> None:
    import http.server
    import json
    import threading

    answer = json.dumps({"events": [{"title": "Sunset cruise", "n": i} for i in range(80)]})

    class Upstream(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = answer.encode() if self.path.startswith("/api/events") else b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = WsgiClient(local_edge.Edge(server.server_address[1], SPA, emails=list))
        plain = client.get("/api/events")
        zipped = client.get("/api/events", headers={"Accept-Encoding": "gzip, br"})
        assert plain.headers.get("Content-Encoding") is None
        assert plain.data == answer.encode()
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert zipped.headers["Vary"] == "Accept-Encoding"
        assert gzip.decompress(zipped.data) == answer.encode()
        assert len(zipped.data) < len(answer) / 4
        small = client.get("/api/health", headers={"Accept-Encoding": "gzip"})
        assert small.headers.get("Content-Encoding") is None  # under 1,000 bytes: as is
    finally:
        server.shutdown()
        server.server_close()
