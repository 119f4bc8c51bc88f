"""Crew login: one shared password (bcrypt, at login only) and signed, expiring tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from chalicelib import config, throttle, timeutil
from chalicelib.errors import BadInput, Unauthorized
from chalicelib.records import Role

LOGIN_SCOPE = "login"
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW = 15 * 60
BCRYPT_MAX_BYTES = 72
ISSUER = "shipcaptaincrew"


def login(password: object, name: object, source: str) -> dict:
    """Check the crew password; answer a bearer token, or 401, or 429 when throttled."""
    if not isinstance(password, str) or not password:
        raise BadInput("password is required", field="password", code="required")
    crew_name = "crew"
    if name is not None:
        if not isinstance(name, str) or len(name.strip()) > 60:
            raise BadInput("name must be text of at most 60 characters", field="name")
        crew_name = name.strip() or "crew"
    counted = throttle.check(
        LOGIN_SCOPE, source, limit=MAX_FAILED_LOGINS, window_seconds=FAILED_LOGIN_WINDOW
    )
    if not _password_matches(password):
        throttle.record(LOGIN_SCOPE, source, window_seconds=FAILED_LOGIN_WINDOW)
        raise Unauthorized("wrong password", field="password")
    if counted:
        throttle.clear(LOGIN_SCOPE, source)
    return issue_token(crew_name)


def _password_matches(password: str) -> bool:
    import bcrypt  # imported here: only logins pay for it

    raw = password.encode("utf-8")
    # bcrypt 5 raises on more than 72 bytes; such a password was never set, so it is wrong.
    if len(raw) > BCRYPT_MAX_BYTES:
        return False
    return bcrypt.checkpw(raw, config.admin_password_hash())


def issue_token(crew_name: str, role: Role = Role.OWNER) -> dict:
    """A signed token for this crew member and role.

    The one shared password logs in as the owner (the break-glass login).
    """
    import jwt

    issued = timeutil.now()
    expires = issued + timedelta(seconds=config.token_ttl_seconds())
    claims = {
        "sub": crew_name,
        "role": str(role),
        "iss": ISSUER,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(8),
    }
    token = jwt.encode(claims, config.token_signing_key(), algorithm="HS256")
    return {"token": token, "expires_at": timeutil.to_local_iso(expires)}


@dataclass(frozen=True)
class TokenHolder:
    name: str
    role: Role


def crew_from_token(header_value: str | None) -> TokenHolder:
    """Who holds a valid `Bearer <token>`; raises Unauthorized otherwise."""
    import jwt

    if not header_value or not header_value.startswith("Bearer "):
        raise Unauthorized("log in first: send Authorization: Bearer <token>")
    token = header_value[len("Bearer ") :].strip()
    try:
        claims = jwt.decode(
            token,
            config.token_signing_key(),
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("your login has expired: log in again", code="token_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized(
            "the login token is not valid: log in again", code="token_invalid"
        ) from None
    try:
        role = Role(claims.get("role") or Role.OWNER)
    except ValueError:
        raise Unauthorized(
            "the login token is not valid: log in again", code="token_invalid"
        ) from None
    return TokenHolder(name=str(claims["sub"]), role=role)
