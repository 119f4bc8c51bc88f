#!/usr/bin/env python3
"""The local edge: what CloudFront does in AWS, on http://127.0.0.1:PORT/.

It applies the same routing table (chalicelib.web.edge) as the CloudFront
distribution: API paths are proxied to `chalice local`, everything else is a
static file from spa/ (index.html for the page's own client-side paths), with the
headers the bucket and CloudFront give it (the Content-Type and Cache-Control that
`sync_spa.py push` sets, an ETag, gzip when the browser accepts it; API answers
gzipped as API Gateway's `minimum_compression_size` does), so a page measured here
loads as it would from AWS. It
also answers the local-only `/_dev/outbox` pages with the emails sent.

Used by scripts/dev_stack.py. Run alone, it fronts a `chalice local` you started
yourself: `python scripts/local_edge.py --api-port 8001` (no emulator, no outbox).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from jinja2 import Environment
from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge
from werkzeug.security import safe_join
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from chalicelib.web import edge
from scripts import sync_spa
from scripts.emulator import bind_server

ROOT = Path(__file__).resolve().parents[1]

# Headers that describe one connection, not the message (RFC 9110 7.6.1): never relayed.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Like CloudFront's AllViewerExceptHostHeader: the origin gets its own Host.
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "expect"}
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
ORIGIN_HEADER = "X-Local-Origin"  # which origin answered: api, spa or dev (tests read it)
COMPRESSIBLE = {
    "application/json",
    "application/javascript",
    "image/svg+xml",
    "application/manifest+json",
}

PLACEHOLDER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ship Captain Crew</title></head>
<body><h1>Ship Captain Crew</h1>
<p>The dispatch page (spa/index.html) is not there yet. The API answers at
<a href="/api/health">/api/health</a>; emails sent are at <a href="/_dev/outbox">/_dev/outbox</a>.</p>
</body></html>
"""

OUTBOX_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Outbox ({{ emails|length }}) · Ship Captain Crew (local)</title>
<style>
 body { font: 15px/1.4 system-ui, sans-serif; margin: 1rem auto; max-width: 60rem; padding: 0 1rem; }
 article { border: 1px solid #ccd; border-radius: 6px; margin: 0 0 1rem; padding: .5rem 1rem; }
 h2 { font-size: 1.05rem; margin: .3rem 0; }
 dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 .75rem; margin: 0; color: #334; }
 dt { font-weight: 600; }
 dd { margin: 0; }
 pre { white-space: pre-wrap; background: #f5f6fa; padding: .5rem; border-radius: 4px; }
</style></head>
<body>
<h1>Emails sent ({{ emails|length }})</h1>
<p>The local stack's SES outbox, newest first. Nothing here left this machine.
 <a href="/_dev/outbox">Refresh</a> · <a href="/_dev/outbox.json">JSON</a> · <a href="/">Dispatch page</a></p>
{% for mail in emails %}
<article>
 <h2>{{ mail.subject or "(no subject)" }}</h2>
 <dl>
  <dt>Time</dt><dd><time datetime="{{ mail.sent_at }}">{{ readable(mail.sent_at) }}</time></dd>
  <dt>From</dt><dd>{{ mail["from"] }}</dd>
  <dt>To</dt><dd>{{ mail.to|join(", ") }}</dd>
  {% if mail.cc %}<dt>Cc</dt><dd>{{ mail.cc|join(", ") }}</dd>{% endif %}
  {% if mail.bcc %}<dt>Bcc</dt><dd>{{ mail.bcc|join(", ") }}</dd>{% endif %}
 </dl>
 <pre>{{ mail.text }}</pre>
</article>
{% else %}
<p>No emails yet.</p>
{% endfor %}
</body></html>
"""
_templates = Environment(autoescape=True)


class Edge:
    """The WSGI app: dev pages, then the routing table (API proxy or static SPA)."""

    def __init__(
        self,
        api_port: int,
        spa_dir: Path,
        emails: Callable[[], list[dict[str, Any]]],
        tz_name: str = "America/Los_Angeles",
        api_host: str = "127.0.0.1",
        api_timeout: float = 60.0,
    ) -> None:
        self.api_host = api_host
        self.api_port = api_port
        self.spa_dir = spa_dir.resolve()
        self.emails = emails
        self.tz = ZoneInfo(tz_name)
        self.api_timeout = api_timeout
        self._outbox_page = _templates.from_string(OUTBOX_TEMPLATE)
        self.origin_for = edge.origin_for
        self.api_origin = edge.API
        self.minimum_compression_size = minimum_compression_size()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        try:
            # Local-only pages come before the routing table: CloudFront has no such path.
            if request.path.startswith("/_dev/"):
                response = self.dev_page(request)
                origin = "dev"
            elif self.origin_for(request.path) == self.api_origin:
                response = self.proxy(request)
                origin = "api"
            else:
                response = self.static(request)
                origin = "spa"
        except HTTPException as error:
            response = error.get_response(environ)
            origin = "edge"
        response.headers[ORIGIN_HEADER] = origin
        # What CloudFront's response headers policy adds (HSTS aside: this is plain http).
        edge.add_security_headers(response.headers)
        return response(environ, start_response)

    # --- /_dev ----------------------------------------------------------------

    def dev_page(self, request: Request) -> Response:
        if request.path not in ("/_dev/outbox", "/_dev/outbox.json"):
            raise NotFound()
        # Times in the operator's zone, like every time the API answers.
        emails = [
            dict(mail, sent_at=self._local_iso(mail.get("sent_at"))) for mail in self.emails()
        ]
        if request.path.endswith(".json"):
            return Response(
                _json({"emails": emails}), mimetype="application/json", headers=_NO_STORE
            )
        page = self._outbox_page.render(emails=emails, readable=self._readable)
        return Response(page, mimetype="text/html", headers=_NO_STORE)

    def _local_iso(self, stamp: str | None) -> str | None:
        try:
            moment = datetime.fromisoformat(stamp or "")
        except ValueError:
            return stamp
        return moment.astimezone(self.tz).isoformat(timespec="seconds")

    @staticmethod
    def _readable(stamp: str | None) -> str:
        try:
            return datetime.fromisoformat(stamp or "").strftime("%a %d %b %Y %H:%M:%S (UTC%z)")
        except ValueError:
            return stamp or ""

    # --- API origin -------------------------------------------------------------

    def proxy(self, request: Request) -> Response:
        """Relay the request to `chalice local` as CloudFront relays it to API Gateway."""
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return _json_error(413, "too_large", "the request body is over 10 MB")
        headers = {
            name: value
            for name, value in request.headers
            if name.lower() not in NOT_FORWARDED | SET_BY_EDGE
        }
        # CloudFront appends the viewer's address (the app does not trust this header).
        forwarded = request.headers.get("X-Forwarded-For")
        client_ip = request.remote_addr or "127.0.0.1"
        headers["X-Forwarded-For"] = f"{forwarded}, {client_ip}" if forwarded else client_ip
        headers.update(viewer_headers(request))
        if body or request.method in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        target = request.environ.get("RAW_URI") or request.full_path.rstrip("?")
        connection = http.client.HTTPConnection(
            self.api_host, self.api_port, timeout=self.api_timeout
        )
        try:
            connection.request(request.method, target, body=body or None, headers=headers)
            upstream = connection.getresponse()
            payload = upstream.read()
            relayed = [
                (name, value)
                for name, value in upstream.getheaders()
                if name.lower() not in HOP_BY_HOP | {"content-length", "server", "date"}
            ]
            response = Response(payload, status=upstream.status)
            # Replace werkzeug's default Content-Type with the app's own headers.
            response.headers.clear()
            for name, value in relayed:
                response.headers.add(name, value)
            return self._api_compressed(response, request)
        except (ConnectionError, TimeoutError, http.client.HTTPException, OSError) as exc:
            return _json_error(502, "bad_gateway", f"the app (chalice local) did not answer: {exc}")
        finally:
            connection.close()

    def _api_compressed(self, response: Response, request: Request) -> Response:
        """API Gateway's compression: a body of at least `minimum_compression_size`
        bytes is gzipped when the client accepts gzip (any type: API Gateway does not
        look at it), unless the app already encoded it."""
        body = response.get_data()
        accepted = _accepts_gzip(request.headers.get("Accept-Encoding", ""))
        threshold = self.minimum_compression_size
        if threshold is None or not accepted or len(body) < threshold:
            return response
        if response.headers.get("Content-Encoding") or request.method == "HEAD":
            return response
        response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response

    # --- SPA origin ---------------------------------------------------------------

    def static(self, request: Request) -> Response:
        """A file from spa/, or index.html for the page's own (extension-less) paths."""
        if request.method not in ("GET", "HEAD"):
            return Response("Method not allowed\n", status=405, headers={"Allow": "GET, HEAD"})
        relative = request.path.lstrip("/")
        found = safe_join(str(self.spa_dir), relative) if relative else None
        if found and os.path.isfile(found):
            return self._file(Path(found), request)
        last_segment = relative.rsplit("/", 1)[-1]
        if "." in last_segment:
            raise NotFound()
        index = self.spa_dir / "index.html"
        if index.is_file():
            return self._file(index, request)
        return Response(
            PLACEHOLDER_PAGE, mimetype="text/html", headers={"Cache-Control": "no-cache"}
        )

    def _file(self, path: Path, request: Request) -> Response:
        """The file as S3 behind CloudFront serves it: the object's Content-Type and
        Cache-Control as `sync_spa.py push` sets them, an ETag, and CloudFront's gzip."""
        rel = path.relative_to(self.spa_dir).as_posix()
        body = path.read_bytes()
        etag = sync_spa.md5_hex(body)
        headers = {
            "Cache-Control": sync_spa.cache_control(rel),
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
        }
        kind = sync_spa.content_type(rel)
        zipped = _compressible(kind, len(body)) and "gzip" in request.headers.get(
            "Accept-Encoding", ""
        )
        if zipped:
            etag += "-gz"  # another representation, another tag (as CloudFront weakens it)
        headers["ETag"] = f'"{etag}"'
        if etag in {tag.strip('" ') for tag in request.headers.get("If-None-Match", "").split(",")}:
            return Response(status=304, headers=headers)
        if zipped:
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
        response = Response(body, headers=headers, content_type=kind)
        if request.method == "HEAD":
            response.set_data(b"")
            response.headers["Content-Length"] = str(len(body))
        return response


def _compressible(kind: str, size: int) -> bool:
    # CloudFront compresses text types between 1,000 bytes and 10 MB when the viewer asks.
    text = kind.startswith("text/") or kind.split(";")[0] in COMPRESSIBLE
    return text and 1000 <= size <= 10_000_000


def _accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding value accepts gzip (and not as `gzip;q=0`)."""
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            quality = params.strip().lower().removeprefix("q=")
            try:
                return not params.strip() or float(quality) > 0
            except ValueError:
                return True
    return False


def minimum_compression_size(stage: str = "local") -> int | None:
    """API Gateway's `minimum_compression_size` for a stage, as Chalice reads it from
    .chalice/config.json (the stage's own value, else the top level's); None: off."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    block = config.get("stages", {}).get(stage, {})
    value = block.get("minimum_compression_size", config.get("minimum_compression_size"))
    return int(value) if value is not None else None


_NO_STORE = {"Cache-Control": "no-store"}


def _json(data: Any) -> str:
    return json.dumps(data, indent=1)


def _json_error(status: int, code: str, message: str) -> Response:
    return Response(
        _json({"code": code, "message": message}), status=status, mimetype="application/json"
    )


# What CloudFront sets on every request to the API, over any value the client sent.
SET_BY_EDGE = frozenset({"x-forwarded-for", "cloudfront-viewer-address", "x-origin-verify"})


def viewer_headers(request: Request) -> dict[str, str]:
    """As CloudFront adds them: the viewer's address and port, and the origin-verify secret.

    The app believes the address only with the secret (chalicelib/web/request_facts.py);
    locally that is the `local` stage's ORIGIN_VERIFY_SECRET, which `chalice local` reads.
    """
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))["stages"]
    address = request.remote_addr or "127.0.0.1"
    port = request.environ.get("REMOTE_PORT") or "0"
    return {
        "CloudFront-Viewer-Address": f"{address}:{port}",
        "X-Origin-Verify": str(stages["local"]["environment_variables"]["ORIGIN_VERIFY_SECRET"]),
    }


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per request: chalice local already logs each API call."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class EdgeServer:
    """The edge on a threaded werkzeug server; binds in the constructor (busy port → OSError)."""

    def __init__(self, app: Edge, port: int, host: str = "127.0.0.1") -> None:
        self.server: BaseWSGIServer = bind_server(host, port, app, _QuietHandler)
        self.host = host
        self.port = self.server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="edge", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        # shutdown() waits for serve_forever to notice: only call it once that runs.
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Serve spa/ and proxy the API paths to a running `chalice local`, "
        "as CloudFront does. `make run` starts it for you with everything else."
    )
    parser.add_argument("--port", type=int, default=os.environ.get("PORT") or "8000")
    parser.add_argument("--api-port", type=int, required=True, help="chalice local's port")
    parser.add_argument("--spa-dir", type=Path, default=ROOT / "spa")
    args = parser.parse_args(argv)
    try:
        server = EdgeServer(Edge(args.api_port, args.spa_dir, emails=list), args.port)
    except OSError as exc:
        print(f"Port {args.port} is busy ({exc.strerror}): choose another with --port.")
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(f"Edge on {server.url} → API on 127.0.0.1:{args.api_port} (Ctrl-C stops it)")
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
