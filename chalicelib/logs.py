"""Structured logs: one JSON line per request. Never a token, password or email address."""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any


def line(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def exception(message: str, exc: BaseException, **fields: Any) -> None:
    line(
        level="error",
        message=message,
        error=type(exc).__name__,
        trace="".join(traceback.format_exception(exc))[-4000:],
        **fields,
    )
