"""Crew accounts: adding, listing, changing, resetting; one-time setup links; own password.

Who may do what to whom:
- the owner: every account, every field;
- a captain: `crew` accounts only (add, rename, disable or enable, reset), never a role;
- everyone: their own account (`/api/me`), and their own password (but the
  break-glass owner, whose password is the deployment's `ADMIN_PASS_HASH`).

A setup link carries a random code; only its SHA-256 is stored, under its own key
with a TTL, and the account keeps the hash of the one code that may still set its
password, so a reset makes every older link useless. Setting the password deletes
the code in the same transaction: a link works once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from chalicelib import config, timeutil
from chalicelib import validation as v
from chalicelib.crew import auth, throttle
from chalicelib.crew.records import Account, AccountStatus, Role
from chalicelib.db import get_store, keys
from chalicelib.errors import BadInput, Conflict, Forbidden, Gone, NotFound
from chalicelib.records import Actor

USERNAME = re.compile(r"[a-z0-9._-]{3,32}")
RESERVED_USERNAMES = frozenset({keys.ADMIN_ACCOUNT_ID, "owner", "root"})
SETUP_HOURS = 72
MIN_PASSWORD = 10
SETUP_PATH = "/#/setup/"


def _username(body: dict[str, Any]) -> str:
    raw = body.get("username")
    if not isinstance(raw, str) or not raw.strip():
        raise BadInput("username is required", field="username", code="required")
    name = raw.strip().casefold()
    if not USERNAME.fullmatch(name):
        raise BadInput(
            "username must be 3 to 32 of a-z, 0-9, dot, underscore or hyphen", field="username"
        )
    if name in RESERVED_USERNAMES:
        raise BadInput(f"the username {name} is reserved", field="username")
    return name


def _display_name(body: dict[str, Any], *, required: bool) -> str | None:
    value = v.person_name(body, "display_name", max_len=60)
    if value is None and required:
        raise BadInput("display_name is required", field="display_name", code="required")
    return value


def new_password(body: dict[str, Any], name: str) -> str:
    """A password to set: 10 or more characters, at most 72 bytes (bcrypt's limit)."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadInput(f"{name} is required", field=name, code="required")
    if len(value) < MIN_PASSWORD:
        raise BadInput(f"{name} must be at least {MIN_PASSWORD} characters", field=name)
    if len(value.encode("utf-8")) > auth.BCRYPT_MAX_BYTES:
        raise BadInput(f"{name} must be at most 72 bytes", field=name)
    return value


def _may_manage(caller_role: Role, target_role: Role) -> None:
    """The owner manages every account; a captain only crew accounts."""
    if caller_role is Role.OWNER:
        return
    if caller_role is Role.CAPTAIN and target_role is Role.CREW:
        return
    raise Forbidden(f"managing a {target_role} account needs an owner login", code="forbidden")


def _new_code() -> tuple[str, str, int, str]:
    """A setup code, its SHA-256, and when it expires (epoch, local ISO)."""
    code = secrets.token_urlsafe(24)
    expires = timeutil.now() + timedelta(hours=SETUP_HOURS)
    return code, _sha(code), int(expires.timestamp()), timeutil.to_local_iso(expires)


def _sha(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def setup_url(code: str, origin: str | None) -> str:
    """The link a new deckhand opens: the dispatch page's set-your-password screen."""
    base = config.site_url() or origin or ""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        base = ""
    return base.rstrip("/") + SETUP_PATH + code


def setup_qr(url: str) -> list[str] | None:
    """The link as a QR code for the deckhand's phone camera: rows of modules ("1" dark),
    quiet zone included, for the page to draw. None where segno is not installed."""
    try:
        import segno  # imported here: only adding and resetting accounts pay for it
    except ImportError:
        return None
    code = segno.make(url, error="m", micro=False)
    return ["".join("1" if dark else "0" for dark in row) for row in code.matrix_iter(border=4)]


def _setup_answer(account: Account, code: str, expires_at: str, origin: str | None) -> dict:
    url = setup_url(code, origin)
    return {
        "account": account.to_json(),
        "setup_url": url,
        "setup_expires_at": expires_at,
        "setup_qr": setup_qr(url),
    }


def list_accounts() -> list[dict[str, Any]]:
    return [a.to_json() for a in get_store().accounts.all()]


def create_account(
    body: dict[str, Any], *, by: Actor, role: Role, origin: str | None = None
) -> dict[str, Any]:
    """Add an account with a one-time setup link (no password until it is used)."""
    v.reject_unknown(body, ("username", "display_name", "role"))
    username = _username(body)
    display_name = _display_name(body, required=True) or username
    new_role = Role(v.choice(body, "role", [r.value for r in Role], required=True) or "")
    _may_manage(role, new_role)
    code, sha, expires_epoch, expires_at = _new_code()
    account = Account(
        id=uuid.uuid4().hex,
        username=username,
        display_name=display_name,
        role=new_role,
        status=AccountStatus.ACTIVE,
        token_version=1,
        created_at=timeutil.now_iso(),
        created_by=by.name,
        created_by_id=by.id,
        setup_sha256=sha,
    )
    if not get_store().accounts.add(account, sha, expires_epoch):
        raise Conflict("that username is taken", field="username", code="username_taken")
    return _setup_answer(account, code, expires_at, origin)


def load_account(account_id: str) -> Account:
    if not isinstance(account_id, str) or not re.fullmatch(r"[0-9a-f]{32}", account_id):
        raise NotFound("no such account", field="account_id")
    account = get_store().accounts.get(account_id)
    if account is None:
        raise NotFound("no such account", field="account_id")
    return account


def change_account(
    account_id: str, body: dict[str, Any], *, by: Actor, role: Role
) -> dict[str, Any]:
    """Rename, change the role of, disable or enable an account; disabling ends its tokens."""
    v.reject_unknown(body, ("display_name", "role", "status"))
    target = load_account(account_id)
    _may_manage(role, target.role)
    changes: dict[str, Any] = {}
    name = _display_name(body, required=False)
    if name is not None:
        changes["display_name"] = name
    role_changes = False
    if body.get("role") is not None:
        new_role = Role(v.choice(body, "role", [r.value for r in Role], required=True) or "")
        if role is not Role.OWNER:
            raise Forbidden("changing a role needs an owner login", code="forbidden")
        changes["role"] = str(new_role)
        role_changes = new_role is not target.role
    status = v.choice(body, "status", [s.value for s in AccountStatus])
    if status is not None:
        changes["status"] = status
    if not changes:
        raise BadInput("send display_name, role or status", field="body", code="required")
    changes["updated_at"] = timeutil.now_iso()
    disabling = status == AccountStatus.DISABLED and target.active
    # A captain's change holds only while the account is still a crew account.
    only = None if role is Role.OWNER else Role.CREW
    # A setup link made before a role change or a disable is for what the account was:
    # it ends (issue 21: a captain's kept link must not set up an owner).
    updated = get_store().accounts.change(
        account_id,
        changes,
        end_tokens=disabling,
        end_setup=disabling or role_changes,
        only_role=only,
    )
    if updated is None:
        raise Conflict("the account changed meanwhile: reload and try again", code="stale")
    return {"account": updated.to_json()}


def reset_account(
    account_id: str, *, by: Actor, role: Role, origin: str | None = None
) -> dict[str, Any]:
    """A new setup link; the old password, older links and every token stop working."""
    target = load_account(account_id)
    _may_manage(role, target.role)
    code, sha, expires_epoch, expires_at = _new_code()
    only = None if role is Role.OWNER else Role.CREW
    if not get_store().accounts.reset(
        account_id, sha, expires_epoch, timeutil.now_iso(), role=target.role, only_role=only
    ):
        raise Conflict("the account changed meanwhile: reload and try again", code="stale")
    return _setup_answer(load_account(account_id), code, expires_at, origin)


def set_up(body: dict[str, Any]) -> dict[str, Any]:
    """Set an account's password with its one-time setup code; a session for it."""
    v.reject_unknown(body, ("code", "password"))
    code = body.get("code")
    if not isinstance(code, str) or not code or len(code) > 200:
        raise BadInput("code is required", field="code", code="required")
    password = new_password(body, "password")
    sha = _sha(code)
    store = get_store()
    found = store.accounts.setup_code(sha)
    used = Gone(
        "this setup link was used or has expired: ask your captain for a new one",
        field="code",
        code="setup_link_used",
    )
    if found is None or found.expires_epoch <= int(timeutil.now().timestamp()):
        raise used
    hashed = auth.hash_password(password)
    if not store.accounts.use_setup_code(sha, found.account_id, hashed, found.role):
        raise used
    return auth.session(load_account(found.account_id))


def me(account_id: str, name: str) -> dict[str, Any]:
    if account_id == keys.ADMIN_ACCOUNT_ID:
        return {"account": auth.owner_account(name).to_json()}
    return {"account": load_account(account_id).to_json()}


def change_own_password(account_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Check the current password, set the new one; every other token stops working."""
    v.reject_unknown(body, ("current_password", "new_password"))
    if account_id == keys.ADMIN_ACCOUNT_ID:
        raise Forbidden(
            "the owner's break-glass password is ADMIN_PASS_HASH: rotate it in the"
            " deployment (docs/operating.md)",
            code="forbidden",
        )
    current = body.get("current_password")
    if not isinstance(current, str) or not current:
        raise BadInput("current_password is required", field="current_password", code="required")
    new = new_password(body, "new_password")
    account = load_account(account_id)
    # Wrong current passwords count against this account alone (only its own logins can
    # ask), apart from the login counts that strangers' guesses move.
    throttle.hit(
        auth.REAUTH_SCOPE,
        account.id,
        limit=auth.MAX_FAILED_LOGINS,
        window_seconds=auth.FAILED_LOGIN_WINDOW,
    )
    if account.password_hash is None or not auth.password_matches(
        current, account.password_hash.encode()
    ):
        # Not 401: that would read as "your session ended" to the dispatch page.
        raise BadInput(
            "the current password is wrong", field="current_password", code="wrong_password"
        )
    throttle.clear(auth.REAUTH_SCOPE, account.id)
    if not get_store().accounts.set_password(
        account_id, auth.hash_password(new), version=account.token_version
    ):
        raise Conflict("the account changed meanwhile: log in again", code="stale")
    return auth.session(load_account(account_id))
