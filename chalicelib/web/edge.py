"""The edge routing table: which origin answers which path.

One table, two users: scripts/configure_cloudfront.py applies it to the
CloudFront distribution, and the local stack's edge applies it on localhost.
Order is CloudFront's: the first pattern that matches wins, and `*` matches
any run of characters, `/` included. Whatever matches nothing goes to the
default origin (the dispatch page in S3).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
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


# The security headers every answer of the site carries: CloudFront's response headers
# policy (scripts/site_setup.py builds it from this) and the local edge apply the same,
# so what is tested locally is what ships. HSTS is the policy's alone (the local edge
# is plain http). (name, value, override): override False keeps the origin's own value,
# so the waiver page's `Referrer-Policy: no-referrer` and its CSP are never replaced.
SECURITY_HEADERS: tuple[tuple[str, str, bool], ...] = (
    ("X-Frame-Options", "DENY", True),
    ("X-Content-Type-Options", "nosniff", True),
    ("Referrer-Policy", "strict-origin-when-cross-origin", False),
    ("Content-Security-Policy", "frame-ancestors 'none'", False),
)


def security_header(name: str) -> tuple[str, bool]:
    """(value, override) of one of SECURITY_HEADERS."""
    for header, value, override in SECURITY_HEADERS:
        if header == name:
            return value, override
    raise KeyError(name)


def add_security_headers(headers: MutableMapping[str, str]) -> None:
    """Apply SECURITY_HEADERS to an answer's headers as the CloudFront policy does.

    `headers` must look names up case-insensitively (werkzeug's Headers do)."""
    for name, value, override in SECURITY_HEADERS:
        if override or name not in headers:
            headers[name] = value


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
