"""moto's server on a free 127.0.0.1 port, in this process, one request at a time.

It is the local stack's emulator (scripts/emulator.py: one lock around every
request, since moto's DynamoDB code is not thread-safe) on a port the kernel
picks. Only the benchmark's own subprocesses talk to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from scripts.emulator import Emulator


@contextlib.contextmanager
def running() -> Iterator[str]:
    """Start the emulator; yields its endpoint URL and stops it afterwards."""
    emulator = Emulator(port=0)
    emulator.start()
    try:
        yield emulator.url
    finally:
        emulator.stop()
