#!/usr/bin/env python3
"""The embedded AWS emulator of the local stack: moto's server, in-process, on loopback.

moto keeps its state in memory and its DynamoDB code is not thread-safe (a
transaction deep-copies the table to roll back, so a concurrent write can be
lost or a scan can die with "dictionary changed size during iteration"). So the
server runs every request under ONE lock, and this module also keeps what must
outlive the process: the table (snapshotted to JSON after writes) and the
emails sent (the SES outbox).

Used by scripts/dev_stack.py; `python scripts/emulator.py` runs the emulator alone.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import io
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

DEFAULT_PORT = 4566
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
# DynamoDB operations (X-Amz-Target suffixes) that change the table.
DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)
SNAPSHOT_FORMAT = 1


class SerializedApp:
    """WSGI middleware: one request at a time into moto, and notice what changed.

    The response body is read inside the lock too: moto may build it lazily.
    `on_request(environ, request_body, response_body)` runs under the lock after
    each request; the request body is only read (and put back) for SES calls.
    """

    def __init__(self, app: Callable, on_request: Callable[[dict, bytes, bytes], None]) -> None:
        self._app = app
        self._on_request = on_request
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_body = b""
        if "/ses/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request_body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(request_body)
        with self.lock:
            result = self._app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            self._on_request(environ, request_body, body)
        return [body]


class Emulator:
    """moto's server on 127.0.0.1:<port> in a daemon thread.

    The port is bound in the constructor, so a busy port fails early with OSError.
    `changed` is set whenever a DynamoDB write or a new SES email went through.
    """

    def __init__(
        self, port: int = DEFAULT_PORT, host: str = "127.0.0.1", fill_gaps: bool = False
    ) -> None:
        # Imported here: moto's server pulls in Flask and takes a moment to load.
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        self.changed = threading.Event()
        self.table_dirty = False
        self._emails_seen = 0
        self._text_parts: dict[str, str] = {}  # SES message id -> its plain-text part
        moto_app: Callable = DomainDispatcherApplication(create_backend_app)
        if fill_gaps:  # what a go-live needs and moto lacks (scripts/emulator_gaps.py)
            from scripts import emulator_gaps

            emulator_gaps.patch_moto()
            moto_app = emulator_gaps.Gaps(moto_app)
        self.app = SerializedApp(moto_app, self._after_request)

        class QuietHandler(MotoRequestHandler):
            """No access-log line per AWS call: the app's own log says what happened."""

            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self._server = bind_server(host, port, self.app, QuietHandler)
        self.host = host
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="emulator", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        # shutdown() waits for serve_forever to notice: only call it once that runs.
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def _after_request(self, environ: dict, request_body: bytes, response_body: bytes) -> None:
        # Runs under the lock, once per request: keep it cheap.
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.rpartition(".")[2] in DYNAMODB_WRITES:
            self.table_dirty = True
            self.changed.set()
        if request_body:
            self._keep_text_part(environ, request_body, response_body)
        if len(_sent_messages()) != self._emails_seen:
            self.changed.set()

    def _keep_text_part(self, environ: dict, request_body: bytes, response_body: bytes) -> None:
        """moto keeps only the HTML of a message that has both parts: keep the text too."""
        text: str | None = None
        try:
            if environ.get("PATH_INFO", "").startswith("/v2/email/outbound-emails"):
                content = json.loads(request_body).get("Content", {})
                text = content.get("Simple", {}).get("Body", {}).get("Text", {}).get("Data")
            else:
                form = urllib.parse.parse_qs(request_body.decode("utf-8"))
                if form.get("Action") == ["SendEmail"]:
                    text = (form.get("Message.Body.Text.Data") or [None])[0]
        except (ValueError, AttributeError):
            return
        found = _MESSAGE_ID.search(response_body.decode("utf-8", "replace"))
        if text is not None and found:
            self._text_parts[found.group(1)] = text

    def take_new_emails(self) -> list[dict[str, Any]]:
        """Emails SES accepted since the last call, as plain dicts (sent_at = now)."""
        with self.app.lock:
            sent = _sent_messages()
            fresh = sent[self._emails_seen :]
            self._emails_seen = len(sent)
            texts = [self._text_parts.pop(str(getattr(m, "id", "")), None) for m in fresh]
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return [email_record(m, now, text) for m, text in zip(fresh, texts, strict=True)]


def bind_server(host: str, port: int, app: Callable, handler: type) -> Any:
    """A threaded werkzeug server on host:port; a busy port raises OSError.

    werkzeug's make_server prints and calls sys.exit() on a busy port, so the
    socket is bound here first and handed over.
    """
    from werkzeug.serving import make_server

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        return make_server(
            host, port, app, threaded=True, request_handler=handler, fd=listener.fileno()
        )
    finally:
        listener.close()  # the server holds its own duplicate of the socket


def _sent_messages() -> list[Any]:
    """moto's SES outbox (sesv2 sends land in the same core SES backend)."""
    from moto.ses.models import ses_backends

    return ses_backends[ACCOUNT_ID][REGION].sent_messages


_TAG = re.compile(r"<[^>]+>")
_MESSAGE_ID = re.compile(r'"?MessageId"?\s*[:>]\s*"?([^"<\s]+)')


def _html_to_text(markup: str) -> str:
    text = re.sub(r"(?is)<(script|style|title)\b.*?</\1>", "", markup)
    text = re.sub(r"(?i)</td>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>|</h\d>", "\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _addresses(destinations: Any) -> dict[str, list[str]]:
    """SES destinations (a dict of To/Cc/Bcc lists, or a plain list) to to/cc/bcc."""
    out: dict[str, list[str]] = {"to": [], "cc": [], "bcc": []}
    if isinstance(destinations, dict):
        for key, name in (("ToAddresses", "to"), ("CcAddresses", "cc"), ("BccAddresses", "bcc")):
            value = destinations.get(key) or []
            out[name] = [value] if isinstance(value, str) else list(value)
    elif isinstance(destinations, list | tuple):
        out["to"] = [str(address) for address in destinations]
    # moto may list a raw message's recipients twice (its Destination and its headers).
    return {name: list(dict.fromkeys(found)) for name, found in out.items()}


def email_record(message: Any, sent_at: str, text_part: str | None = None) -> dict[str, Any]:
    """One moto SES message (simple, raw or templated) as a JSON-ready dict.

    `text_part` is the plain-text body the sender gave, when moto kept only the HTML.
    """
    record: dict[str, Any] = {
        "id": str(getattr(message, "id", "") or ",".join(getattr(message, "ids", []) or [])),
        "sent_at": sent_at,
        "from": str(getattr(message, "source", "") or ""),
        "subject": "",
        "text": "",
        "html": None,
    }
    record.update(_addresses(getattr(message, "destinations", None)))
    raw = getattr(message, "raw_data", None)
    if raw is not None:
        parsed = email.message_from_string(raw, policy=email.policy.default)
        record["subject"] = str(parsed.get("Subject", ""))
        record["from"] = str(parsed.get("From", "")) or record["from"]
        if not record["to"] and parsed.get("To"):
            record["to"] = [a.strip() for a in str(parsed["To"]).split(",")]
        plain = parsed.get_body(preferencelist=("plain",))
        rich = parsed.get_body(preferencelist=("html",))
        record["html"] = rich.get_content() if rich is not None else None
        if plain is not None:
            record["text"] = plain.get_content().replace("\r\n", "\n")
        elif record["html"]:
            record["text"] = _html_to_text(record["html"])
    elif hasattr(message, "template"):
        record["subject"] = f"(template {message.template})"
        record["text"] = str(message.template_data)
    else:
        record["subject"] = str(getattr(message, "subject", "") or "")
        body = str(getattr(message, "body", "") or "")
        # moto keeps only the HTML part when a message has both.
        if re.search(r"(?i)<(html|body|p|div|br|table)\b", body):
            record["html"] = body
            record["text"] = text_part if text_part is not None else _html_to_text(body)
        else:
            record["text"] = body
    return record


def write_json_atomically(path: Path, data: Any) -> None:
    """Write JSON to a temp file beside `path` and rename it over: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(data, out, indent=1, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def snapshot_table(client: Any, table_name: str, path: Path) -> int:
    """Save every item (DynamoDB JSON) to `path`; returns the item count.

    A Scan is fine here: this is dev tooling, never a request path.
    """
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table_name, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    items.sort(key=lambda item: (item["PK"].get("S", ""), item["SK"].get("S", "")))
    write_json_atomically(
        path,
        {
            "format": SNAPSHOT_FORMAT,
            "table": table_name,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "items": items,
        },
    )
    return len(items)


def restore_table(client: Any, table_name: str, path: Path) -> int:
    """Load a snapshot into the (empty) table with BatchWriteItem; returns the count."""
    if not path.exists():
        return 0
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"{path} has an unknown format: {data.get('format')!r}")
    items = data.get("items", [])
    for start in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        for attempt in range(10):
            reply = client.batch_write_item(RequestItems={table_name: pending})
            pending = reply.get("UnprocessedItems", {}).get(table_name, [])
            if not pending:
                break
            time.sleep(0.05 * (attempt + 1))
        if pending:
            raise RuntimeError(f"could not restore {len(pending)} items into {table_name}")
    return len(items)


class Outbox:
    """The emails sent, kept across restarts in a JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._emails: list[dict[str, Any]] = []
        self._dirty = False

    def load(self) -> int:
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            with self._lock:
                self._emails = list(data.get("emails", []))
        return len(self._emails)

    def add(self, emails: list[dict[str, Any]]) -> None:
        if emails:
            with self._lock:
                self._emails.extend(emails)
                self._dirty = True

    def newest_first(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(reversed(self._emails))

    def save_if_changed(self) -> bool:
        with self._lock:
            if not self._dirty:
                return False
            self._dirty = False
            emails = list(self._emails)
        write_json_atomically(self.path, {"format": SNAPSHOT_FORMAT, "emails": emails})
        return True


class Persister:
    """Snapshots the table and the outbox within about a second of a change.

    Writes are batched: after the first change it waits a moment, so a burst of
    writes (the seed, a busy page) costs one snapshot, not one per write.
    """

    def __init__(
        self,
        emulator: Emulator,
        client: Any,
        table_name: str,
        table_path: Path,
        outbox: Outbox,
        log: Callable[[str], None] = print,
    ) -> None:
        self.emulator = emulator
        self.client = client
        self.table_name = table_name
        self.table_path = table_path
        self.outbox = outbox
        self.log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="persister", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.emulator.changed.wait(timeout=0.5):
                continue
            time.sleep(0.3)
            try:
                self.flush()
            except Exception as exc:  # keep snapshotting: the next write retries
                self.log(f"snapshot failed (will retry): {exc}")
                self.emulator.table_dirty = True
                self.emulator.changed.set()
                self._stop.wait(1)

    def flush(self, force: bool = False) -> None:
        """Write whatever changed (everything when `force`)."""
        # Clear before reading, so a write landing mid-snapshot triggers another.
        self.emulator.changed.clear()
        self.outbox.add(self.emulator.take_new_emails())
        self.outbox.save_if_changed()
        if self.emulator.table_dirty or force:
            self.emulator.table_dirty = False
            snapshot_table(self.client, self.table_name, self.table_path)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the embedded AWS emulator (moto server, one request at a time) "
        "on loopback until Ctrl-C. Keeps nothing: `make run` adds persistence."
    )
    parser.add_argument(
        "--port",
        type=int,
        default=os.environ.get("EMULATOR_PORT") or str(DEFAULT_PORT),
        help="port on 127.0.0.1 (default: $EMULATOR_PORT or %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        emulator = Emulator(args.port)
    except OSError as exc:
        print(f"Port {args.port} is busy ({exc.strerror}): set --port or EMULATOR_PORT.")
        return 1
    emulator.start()
    print(f"AWS emulator on {emulator.url} (Ctrl-C stops it)")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    emulator.stop()
    print("Emulator stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
