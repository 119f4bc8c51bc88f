"""The edge routing table: which origin answers which path.

One table, two users: scripts/configure_cloudfront.py applies it to the
CloudFront distribution, and the local stack's edge applies it on localhost.
Order is CloudFront's: the first pattern that matches wins, and `*` matches
any run of characters, `/` included. Whatever matches nothing goes to the
default origin (the dispatch page in S3).
"""

from __future__ import annotations

import re
from functools import lru_cache

API = "api"
SPA = "spa"
DEFAULT_ORIGIN = SPA

# (path pattern, origin). The waiver route must stay ahead of the SPA default:
# when it fell through, patrons got the dispatch page instead of the waiver.
ROUTES: list[tuple[str, str]] = [
    ("/api/*", API),
    ("/g/*/waiver", API),
]


@lru_cache(maxsize=64)
def _regex(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in pattern.split("*"))
    body = ".*".join(parts).replace(r"\?", ".")
    return re.compile(f"^{body}$")


def matches(pattern: str, path: str) -> bool:
    """CloudFront path-pattern semantics: `*` spans `/`, `?` is one character."""
    return _regex(pattern).match(path) is not None


def origin_for(path: str) -> str:
    for pattern, origin in ROUTES:
        if matches(pattern, path):
            return origin
    return DEFAULT_ORIGIN
