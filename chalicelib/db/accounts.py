"""Crew accounts, their usernames and their one-time setup codes.

    ACCOUNT#<id>    / ACCOUNT   the account (GSI1PK = ACCOUNTS, GSI1SK = username)
    USERNAME#<name> / USERNAME  holds the username for one account; written in the
                                same transaction as the account, so two can never share one
    SETUP#<sha256>  / SETUP     a setup code, stored hashed, removed by TTL after expiry

Listing accounts is one Query on the date index's sparse ACCOUNTS partition (the
outbox's pattern): its cost grows with the accounts, not with the table.
The authorizer reads `token_state` (one consistent GetItem) on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.crew.records import Account, AccountStatus, Role
from chalicelib.db import keys
from chalicelib.db.table import Part, Update
from chalicelib.records import Kind

_BUSY = "the account is busy: try again in a moment"


@dataclass(frozen=True)
class TokenState:
    """What the authorizer needs of an account: is it on, and which tokens count."""

    version: int
    active: bool
    role: Role | None
    display_name: str | None


@dataclass(frozen=True)
class SetupCode:
    account_id: str
    expires_epoch: int
    # The role the code was made for: it sets up the account only while it has that role.
    # None: a code from before codes named a role (honoured for a crew account only).
    role: Role | None = None


def _account_item(account: Account) -> dict[str, Any]:
    return {
        **keys.account_key(account.id),
        "GSI1PK": keys.ACCOUNTS,
        "GSI1SK": account.username,
        "kind": str(Kind.ACCOUNT),
        **account.attributes(),
    }


def _new_password(
    password_hash: str,
    condition: str,
    values: dict[str, Any],
    also: str = "",
    names: dict[str, str] | None = None,
) -> Update:
    """Set an active account's password and end its other tokens, if `condition` holds."""
    return Update(
        f"SET #hash = :hash ADD token_version :one {also}".strip(),
        condition=f"{condition} AND #status = :active",
        names={"#hash": "password_hash", "#status": "status", **(names or {})},
        values={
            ":hash": password_hash,
            ":one": 1,
            ":active": str(AccountStatus.ACTIVE),
            **values,
        },
    )


class Accounts(Part):
    def get(self, account_id: str) -> Account | None:
        item = self.table.get(keys.account_key(account_id))
        return Account.from_item(item) if item and item.get("username") else None

    def by_username(self, username: str) -> Account | None:
        held = self.table.get(keys.username_key(username))
        return self.get(held["account_id"]) if held else None

    def all(self) -> list[Account]:
        """Every account, by username: one Query on the index's ACCOUNTS partition."""
        items = self.table.query(
            "GSI1PK = :accounts", {":accounts": keys.ACCOUNTS}, index=keys.DATE_INDEX
        )
        return [Account.from_item(i) for i in items]

    def token_state(self, account_id: str) -> TokenState:
        """The account's token version and status (the break-glass owner's: version only)."""
        item = self.table.get(keys.account_key(account_id)) or {}
        role = item.get("role")
        return TokenState(
            version=int(item.get("token_version", 0)),
            active=item.get("status", str(AccountStatus.ACTIVE)) == AccountStatus.ACTIVE,
            role=Role(role) if role else None,
            display_name=item.get("display_name"),
        )

    def end_tokens(self, account_id: str) -> None:
        """Every token issued so far stops working (log out, password set elsewhere)."""
        self.table.update(
            keys.account_key(account_id),
            Update("ADD token_version :one", values={":one": 1}),
            answer=False,
        )

    def add(self, account: Account, code_sha256: str | None, expires_epoch: int = 0) -> bool:
        """Store a new account, hold its username and its setup code (if any); False if
        the username is taken."""
        writes = [
            self.table.put_write(_account_item(account), condition="attribute_not_exists(PK)"),
            self.table.put_write(
                {
                    **keys.username_key(account.username),
                    "kind": str(Kind.USERNAME),
                    "account_id": account.id,
                },
                condition="attribute_not_exists(PK)",
            ),
        ]
        if code_sha256 is not None:
            writes.append(self._setup_write(account.id, code_sha256, expires_epoch, account.role))
        return self.table.try_transact(writes, busy=_BUSY)

    def _setup_write(
        self, account_id: str, code_sha256: str, expires_epoch: int, role: Role
    ) -> dict:
        return self.table.put_write(
            {
                **keys.setup_key(code_sha256),
                "kind": str(Kind.SETUP),
                "account_id": account_id,
                "role": str(role),
                keys.TTL_ATTRIBUTE: expires_epoch,
            },
            condition="attribute_not_exists(PK)",
        )

    def change(
        self,
        account_id: str,
        changes: dict[str, Any],
        *,
        end_tokens: bool = False,
        end_setup: bool = False,
        only_role: Role | None = None,
    ) -> Account | None:
        """Set fields (and end its tokens, and its pending setup code); None when it is
        gone or not of `only_role`."""
        names = {f"#f{i}": name for i, name in enumerate(changes)}
        values: dict[str, Any] = {f":v{i}": value for i, value in enumerate(changes.values())}
        sets = [f"#f{i} = :v{i}" for i in range(len(changes))]
        expression = "SET " + ", ".join(sets) if sets else ""
        if end_tokens:
            expression += " ADD token_version :one"
            values[":one"] = 1
        if end_setup:
            # The code's SETUP item stays until its TTL, but sets up nothing without this.
            expression += " REMOVE setup_sha256"
        condition = "attribute_exists(username)"
        if only_role is not None:
            condition += " AND #role = :only_role"
            names["#role"] = "role"
            values[":only_role"] = str(only_role)
        updated = self.table.update(
            keys.account_key(account_id),
            Update(expression.strip(), condition=condition, names=names or None, values=values),
        )
        return Account.from_item(updated) if updated else None

    def reset(
        self,
        account_id: str,
        code_sha256: str,
        expires_epoch: int,
        at: str,
        *,
        role: Role,
        only_role: Role | None = None,
    ) -> bool:
        """Forget the password, end every token and allow only this new setup code,
        made for the account as `role` (its role as the caller saw it)."""
        names = {"#hash": "password_hash", "#role": "role"}
        values: dict[str, Any] = {
            ":sha": code_sha256,
            ":one": 1,
            ":at": at,
            ":role": str(role),
        }
        # The code is for the role the account has: a role changed meanwhile refuses it.
        condition = "attribute_exists(username) AND #role = :role"
        if only_role is not None:
            condition += " AND #role = :only_role"
            names["#role"] = "role"
            values[":only_role"] = str(only_role)
        writes = [
            self.table.update_write(
                keys.account_key(account_id),
                Update(
                    "SET setup_sha256 = :sha, updated_at = :at ADD token_version :one REMOVE #hash",
                    condition=condition,
                    names=names,
                    values=values,
                ),
            ),
            self._setup_write(account_id, code_sha256, expires_epoch, role),
        ]
        return self.table.try_transact(writes, busy=_BUSY)

    def setup_code(self, code_sha256: str) -> SetupCode | None:
        item = self.table.get(keys.setup_key(code_sha256))
        if not item or item.get("used"):
            return None
        role = item.get("role")
        return SetupCode(
            item["account_id"], int(item[keys.TTL_ATTRIBUTE]), Role(role) if role else None
        )

    def use_setup_code(
        self, code_sha256: str, account_id: str, password_hash: str, role: Role | None
    ) -> bool:
        """Set the password with the code, once: the code goes in the same transaction.

        False when the code was used meanwhile, replaced by a reset, ended by a role
        change or a disable, made for another role than the account has now, or the
        account is disabled.
        """
        writes = [
            # Marked used rather than deleted (the role deletes only throttle counters);
            # TTL removes it with the rest.
            self.table.update_write(
                keys.setup_key(code_sha256),
                Update(
                    "SET used = :yes",
                    condition="attribute_exists(PK) AND attribute_not_exists(used)",
                    values={":yes": True},
                ),
            ),
            self.table.update_write(
                keys.account_key(account_id),
                _new_password(
                    password_hash,
                    "setup_sha256 = :sha AND #role = :role",
                    {":sha": code_sha256, ":role": str(role or Role.CREW)},
                    "REMOVE setup_sha256",
                    names={"#role": "role"},
                ),
            ),
        ]
        return self.table.try_transact(writes, busy=_BUSY)

    def set_password(self, account_id: str, password_hash: str, *, version: int) -> bool:
        """Replace the password and end every other token, if no one changed it meanwhile."""
        updated = self.table.update(
            keys.account_key(account_id),
            _new_password(password_hash, "token_version = :version", {":version": version}),
            answer=False,
        )
        return updated is not None

    def logged_in(self, account_id: str, at: str) -> None:
        self.table.update(
            keys.account_key(account_id),
            Update("SET last_login_at = :at", values={":at": at}),
            answer=False,
        )
