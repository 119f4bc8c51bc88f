"""Facts about who is asking: the client's address, the crew member, and the
request as the patron's pages see it (apart from Chalice's request object)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.records import Role

JSON_TYPE = "application/json"


def source_ip(headers: Mapping[str, str], context: Mapping[str, Any]) -> str:
    """The client's address: the edge's X-Forwarded-For entry when set, else the socket's.

    The edge (CloudFront, or the local edge) appends the viewer's address to
    X-Forwarded-For, so the right-most entry is the one a client cannot forge.
    """
    forwarded = headers.get("x-forwarded-for", "")
    if forwarded:
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:64]
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")[:64]


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
