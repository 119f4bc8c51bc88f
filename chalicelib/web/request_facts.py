"""Facts about who is asking: the client's address, the crew member, and the
request as the patron's pages see it (apart from Chalice's request object)."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalicelib import config, logs
from chalicelib.crew.records import Role

JSON_TYPE = "application/json"
# CloudFront adds both to every request it sends the API: the viewer's address
# (ip:port) and, as an origin custom header, the origin-verify secret.
VIEWER_ADDRESS = "cloudfront-viewer-address"
ORIGIN_VERIFY = "x-origin-verify"


def source_ip(headers: Mapping[str, str], context: Mapping[str, Any]) -> str:
    """The client's address: the viewer's as our edge saw it, else the API's caller.

    Behind CloudFront, API Gateway's caller is an AWS edge address shared by
    everyone using that edge, so CloudFront's viewer-address header is used, but
    only on a request that carries the origin-verify secret CloudFront adds:
    without it (someone calling the API's own URL) the header could be anyone's
    invention, and the caller's own address is used. X-Forwarded-For never
    decides: every hop appends to it and a client can start it with anything.
    """
    viewer = _viewer_address(headers)
    if viewer is not None:
        return viewer
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")[:64]


def _viewer_address(headers: Mapping[str, str]) -> str | None:
    given, address = headers.get(ORIGIN_VERIFY), headers.get(VIEWER_ADDRESS)
    if not given or not address or not from_our_edge(given):
        return None
    return viewer_ip(address)


def from_our_edge(given: str) -> bool:
    """Whether `given` is the origin-verify secret (current or, mid-rotation, previous)."""
    if _matches(given, config.origin_verify_secrets()):
        return True
    # Rotated since this instance read it? Look again (config limits how often).
    try:
        return _matches(given, config.origin_verify_secrets(recheck=True))
    except Exception as exc:  # what was cached still answers; the caller's address is used
        logs.exception("origin-verify secret recheck failed", exc)
        return False


def _matches(given: str, accepted: Iterable[str]) -> bool:
    sent = given.encode("utf-8", "replace")
    found = False
    for value in accepted:  # every value compared, in constant time
        found |= hmac.compare_digest(sent, value.encode("utf-8"))
    return found


def viewer_ip(address: str) -> str | None:
    """The IP of CloudFront's `ip:port` (IPv6 has colons: the port follows the last)."""
    host, colon, port = address.strip().rpartition(":")
    if not colon or not port.isdigit():
        return None
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, else None."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def site_origins(headers: Mapping[str, str]) -> set[str]:
    """The origins that are this site: SITE_URL's when it is set, else the origin of
    the page asking, as the browser reports it (`Origin`, or the `Referer`'s origin;
    the dispatch page asks for its own origin). Empty when nothing says."""
    configured = config.site_url()
    if configured:
        return {o for o in (origin_of(configured),) if o}
    said = (headers.get("origin", ""), headers.get("referer", ""))
    return {o for o in (origin_of(value) for value in said if value) if o}


@dataclass(frozen=True)
class Caller:
    """The crew member the authorizer let in: who, and with which role."""

    name: str
    role: Role
    account_id: str | None = None

    def may(self, roles: Iterable[Role]) -> bool:
        return self.role in set(roles)


def caller(context: Mapping[str, Any] | None) -> Caller:
    """The caller the authorizer described (its principal and context)."""
    found = (context or {}).get("authorizer") or {}
    try:
        role = Role(found.get("role") or Role.CREW)
    except ValueError:
        role = Role.CREW  # an unknown role gets the least
    return Caller(
        name=str(found.get("principalId") or "crew"),
        role=role,
        account_id=found.get("account_id") or None,
    )


def crew_name(context: Mapping[str, Any] | None) -> str:
    """The crew member's name, for `logged_by` and the like."""
    return caller(context).name


def lower_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


@dataclass(frozen=True)
class Incoming:
    """What a page route needs of the request."""

    method: str
    headers: Mapping[str, str]  # names in lower case
    raw_body: bytes
    source_ip: str

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")

    @property
    def wants_json(self) -> bool:
        """JSON when the client asks for it, or posts JSON; a browser gets HTML."""
        if JSON_TYPE in self.headers.get("accept", ""):
            return True
        return self.method == "POST" and self.content_type == JSON_TYPE


def incoming(request: Any) -> Incoming:
    """An `Incoming` from Chalice's current request."""
    headers = lower_headers(request.headers)
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    return Incoming(
        method=str(request.method).upper(),
        headers=headers,
        raw_body=raw,
        source_ip=source_ip(headers, request.context or {}),
    )
