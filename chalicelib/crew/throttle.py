"""Counting attempts per source in DynamoDB, so every Lambda instance sees the same count.

A counter lives per (scope, source) for one window that starts at the first
attempt; DynamoDB's TTL removes it afterwards.
"""

from __future__ import annotations

import ipaddress
import time

from chalicelib import timeutil
from chalicelib.db import get_store
from chalicelib.db.counters import Counter
from chalicelib.errors import Throttled

# How a pause is taken (tests record it instead).
_sleep = time.sleep


def source_key(address: str) -> str:
    """What a per-source limit counts under: an IPv4 address whole, an IPv6 address by
    its /64 (one subscriber's allocation: any address in it is the same source), an
    IPv4-mapped IPv6 address as its IPv4. Anything else as it is."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def pause(seconds: float) -> None:
    """Slow this answer down (a soft limit: slower, never refused)."""
    if seconds > 0:
        _sleep(seconds)


def _now() -> int:
    return int(timeutil.now().timestamp())


def _refuse_over_limit(counter: Counter, *, limit: int, window_seconds: int) -> None:
    now = _now()
    window_end = counter.window_start + window_seconds
    if counter.count >= limit and now < window_end:
        wait = window_end - now
        raise Throttled(f"too many attempts; try again in {wait} seconds", retry_after=wait)


def check(scope: str, source: str, *, limit: int, window_seconds: int) -> bool:
    """Raise 429 with Retry-After while `source` has used up `limit` in the window.

    Answers whether a counter exists, so a caller can skip clearing what isn't there.
    """
    counter = get_store().counters.get(scope, source)
    if counter is None:
        return False
    _refuse_over_limit(counter, limit=limit, window_seconds=window_seconds)
    return True


def record(scope: str, source: str, *, window_seconds: int) -> Counter:
    """Count one attempt (one UpdateItem); answers the counter as it now stands."""
    return get_store().counters.add(scope, source, now=_now(), window_seconds=window_seconds)


def hit(scope: str, source: str, *, limit: int, window_seconds: int) -> None:
    """Count an attempt and refuse it (429) once it goes over `limit` in the window."""
    counter = record(scope, source, window_seconds=window_seconds)
    if counter.count > limit:
        _refuse_over_limit(
            Counter(counter.count - 1, counter.window_start),
            limit=limit,
            window_seconds=window_seconds,
        )


def clear(scope: str, source: str) -> None:
    get_store().counters.clear(scope, source)


def take_back(scope: str, source: str) -> None:
    """Uncount an attempt counted up front that was not a failure after all."""
    get_store().counters.take_back(scope, source)
