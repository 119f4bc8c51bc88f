"""moto's server on a free 127.0.0.1 port, in this process, one request at a time.

moto's DynamoDB code is not thread-safe (design.md, runtime facts), so every
request runs under one lock. Only the benchmark's own subprocesses talk to it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class _Serialized:
    """WSGI middleware: one request at a time into moto (body read inside the lock)."""

    def __init__(self, app: Callable) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self._lock:
            result = self._app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]


@contextlib.contextmanager
def running() -> Iterator[str]:
    """Start the emulator; yields its endpoint URL and stops it afterwards."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """No access log: the benchmark prints its own progress."""

    app: Any = _Serialized(DomainDispatcherApplication(create_backend_app))
    # Port 0: the kernel picks a free port, so parallel runs never collide.
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="bench-emulator", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
