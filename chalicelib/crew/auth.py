"""Crew login: per-person accounts (bcrypt, at login only), the break-glass owner
password, signed expiring tokens, and the authorizer's revocation check.

A token names its account (`aid`) and the account's token version (`ver`). The
authorizer reads the account's version and status (one GetItem) on every run, so
disabling an account, resetting it, changing its password or logging out ends
every token issued before. The break-glass owner (`ADMIN_PASS_HASH`) has no
account item but a token version of its own under the id `admin`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from chalicelib import config, timeutil
from chalicelib import validation as v
from chalicelib.crew import throttle
from chalicelib.crew.records import Account, Role
from chalicelib.db import get_store, keys
from chalicelib.errors import ApiError, BadInput, Unauthorized
from chalicelib.records import Actor

# Login limits, after OWASP's advice for lockout without denial of service:
# - per (username, source): 5 failures in 15 minutes, then 429 (tight: it stops a guesser
#   at one account without touching anyone else);
# - per source, across usernames: 20 failures in 15 minutes, then 429 (a spray);
# - per username, from every source: never refused, only slowed: past 5 failures each
#   attempt waits before the password check, so nobody outside can lock a person out.
# A source is an IPv4 address or an IPv6 /64 (throttle.source_key). Attempts are
# counted before bcrypt, so parallel guesses cannot slip past a limit.
LOGIN_SCOPE = "login"  # per source
LOGIN_PAIR_SCOPE = "login-pair"  # per (username, source)
LOGIN_USER_SCOPE = "login-user"  # per username (soft)
REAUTH_SCOPE = "reauth"  # per account: wrong current passwords at a password change
MAX_FAILED_LOGINS = 5  # per (username, source); and per account for password changes
MAX_FAILED_PER_SOURCE = 20
SLOW_AFTER_FAILURES = 5  # per username
LOGIN_PAUSE_STEP_SECONDS = 0.5
MAX_LOGIN_PAUSE_SECONDS = 3.0
FAILED_LOGIN_WINDOW = 15 * 60
BCRYPT_MAX_BYTES = 72
ISSUER = "shipcaptaincrew"
ADMIN = keys.ADMIN_ACCOUNT_ID
OWNER_NAME = "Owner"
# One answer for every refused login, so it never tells which usernames exist.
WRONG = "wrong username or password"


def login(username: object, password: object, name: object, source: str) -> dict:
    """Check a username and password (none, or `admin`: the owner's break-glass password).

    Answers `{token, expires_at, account}`, or 401, or 429 when this source is
    throttled (for this username, or for all). Each attempt is counted before the
    password is checked (one UpdateItem per count), so parallel guesses cannot slip
    past a limit. A good login clears the (username, source) count and the username's
    slowdown, and gives back its own attempt on the source's count: the failures stay.
    """
    if not isinstance(password, str) or not password:
        raise BadInput("password is required", field="password", code="required")
    user = _username(username)
    display = _break_glass_name(name) if user == ADMIN else None
    where = throttle.source_key(source)
    pair = f"{user}|{where}"
    counted: list[tuple[str, str]] = []
    for scope, key, limit in (
        (LOGIN_SCOPE, where, MAX_FAILED_PER_SOURCE),
        (LOGIN_PAIR_SCOPE, pair, MAX_FAILED_LOGINS),
    ):
        counted.append((scope, key))
        throttle.hit(scope, key, limit=limit, window_seconds=FAILED_LOGIN_WINDOW)
    _slow_down(user)
    counted.append((LOGIN_USER_SCOPE, user))
    try:
        account = _check(user, password)
    except ApiError:
        raise
    except Exception:
        # An outage is not a wrong password: give the attempts back.
        for scope, key in counted:
            throttle.take_back(scope, key)
        raise
    if account is None and user != ADMIN:
        raise Unauthorized(WRONG, field="password")
    # Not a failure: its own attempt comes off the source's count, which keeps the rest.
    throttle.take_back(LOGIN_SCOPE, where)
    throttle.clear(LOGIN_PAIR_SCOPE, pair)
    throttle.clear(LOGIN_USER_SCOPE, user)
    if account is None:
        return session(owner_account(display or OWNER_NAME))
    get_store().accounts.logged_in(account.id, timeutil.now_iso())
    account.last_login_at = timeutil.now_iso()
    return session(account)


def _slow_down(user: str) -> None:
    """Count the attempt against the username and, past a few failures, wait: every
    attempt waits alike, right password or not, so the pause tells nothing."""
    counter = throttle.record(LOGIN_USER_SCOPE, user, window_seconds=FAILED_LOGIN_WINDOW)
    over = counter.count - 1 - SLOW_AFTER_FAILURES
    if over > 0:
        throttle.pause(min(MAX_LOGIN_PAUSE_SECONDS, LOGIN_PAUSE_STEP_SECONDS * over))


def _username(value: object) -> str:
    """The case-folded username; none (or empty) is the break-glass owner."""
    if value is None or value == "":
        return ADMIN
    if not isinstance(value, str) or len(value) > 64:
        raise BadInput("username must be text of at most 32 characters", field="username")
    return value.strip().casefold() or ADMIN


def _break_glass_name(name: object) -> str | None:
    """The name the break-glass owner gave at login (recorded as `*_by`), if any."""
    if name is None:
        return None
    if not isinstance(name, str) or len(name.strip()) > 60:
        raise BadInput("name must be text of at most 60 characters", field="name")
    return v.person_name({"name": name}, "name", max_len=60)


def _check(user: str, password: str) -> Account | None:
    """The account whose password this is; None for the owner's break-glass password.

    Raises Unauthorized otherwise, after the same bcrypt work either way.
    """
    if user == ADMIN:
        if password_matches(password, config.admin_password_hash()):
            return None
        raise Unauthorized(WRONG, field="password")
    account = get_store().accounts.by_username(user)
    stored = account.password_hash if account is not None else None
    # An unknown username (or one not set up yet) costs the same bcrypt work.
    good = password_matches(password, (stored or dummy_hash()).encode())
    if account is None or stored is None or not good or not account.active:
        raise Unauthorized(WRONG, field="password")
    return account


def password_matches(password: str, hashed: bytes) -> bool:
    import bcrypt  # imported here: only logins pay for it

    raw = password.encode("utf-8")
    # bcrypt 5 raises on more than 72 bytes; such a password was never set, so it is wrong.
    if len(raw) > BCRYPT_MAX_BYTES:
        return False
    return bcrypt.checkpw(raw, hashed)


def hash_password(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(
        password.encode("utf-8"), bcrypt.gensalt(rounds=config.bcrypt_rounds())
    ).decode()


@lru_cache(maxsize=4)
def _dummy(rounds: int) -> str:
    import bcrypt

    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=rounds)).decode()


def dummy_hash() -> str:
    """A hash no password matches, at the cost real ones have."""
    return _dummy(config.bcrypt_rounds())


def owner_account(name: str = OWNER_NAME) -> Account:
    """The break-glass owner, as an account the API can show."""
    return Account(id=ADMIN, username=ADMIN, display_name=name, role=Role.OWNER)


def session(account: Account) -> dict:
    """A token for this account at its current token version, with the account."""
    version = account.token_version
    if account.id == ADMIN:
        version = get_store().accounts.token_state(ADMIN).version
    token = issue_token(account.display_name, account.role, account.id, version)
    return {**token, "account": account.to_json()}


def issue_token(
    crew_name: str, role: Role = Role.OWNER, account_id: str = ADMIN, version: int = 0
) -> dict:
    """A signed token for this account, role and token version."""
    import jwt

    issued = timeutil.now()
    expires = issued + timedelta(seconds=config.token_ttl_seconds())
    claims = {
        "sub": crew_name,
        "role": str(role),
        "aid": account_id,
        "ver": version,
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
    account_id: str = ADMIN

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.account_id)

    def context(self) -> dict[str, Any]:
        """What the authorizer hands the routes (API Gateway keeps strings only)."""
        return {"role": str(self.role), "account_id": self.account_id}


def _invalid() -> Unauthorized:
    return Unauthorized("the login token is not valid: log in again", code="token_invalid")


def crew_from_token(header_value: str | None) -> TokenHolder:
    """Who holds a valid, unrevoked `Bearer <token>`; raises Unauthorized otherwise.

    AWS calls: one consistent GetItem of the account (its token version and status).
    """
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
        raise _invalid() from None
    # Tokens from before accounts name no account: they are the break-glass owner's.
    account_id = str(claims.get("aid") or ADMIN)
    version = claims.get("ver", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise _invalid()
    state = get_store().accounts.token_state(account_id)
    if state.version != version or not state.active:
        raise Unauthorized("this login was ended: log in again", code="token_revoked")
    if account_id == ADMIN:
        try:
            role = Role(claims.get("role") or Role.OWNER)
        except ValueError:
            raise _invalid() from None
        return TokenHolder(name=str(claims["sub"]), role=role, account_id=ADMIN)
    if state.role is None:
        raise _invalid()
    # The account's role and name as stored now: a change takes effect without a new login.
    return TokenHolder(
        name=state.display_name or str(claims["sub"]), role=state.role, account_id=account_id
    )


def log_out(account_id: str) -> None:
    """End every token of this account (the token version moves on)."""
    get_store().accounts.end_tokens(account_id)
