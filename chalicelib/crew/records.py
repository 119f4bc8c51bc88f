"""A crew member's account and role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from chalicelib.records import Actor, Record


class Role(StrEnum):
    OWNER = "owner"
    CAPTAIN = "captain"
    CREW = "crew"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


@dataclass
class Account(Record):
    """A crew member's login. The password hash and setup codes never reach the API."""

    PUBLIC: ClassVar[tuple[str, ...]] = (
        "id",
        "username",
        "display_name",
        "role",
        "status",
        "created_at",
        "created_by",
        "created_by_id",
        "last_login_at",
        "password_set",
    )

    id: str
    username: str
    display_name: str
    role: Role
    status: AccountStatus = AccountStatus.ACTIVE
    password_hash: str | None = None
    token_version: int = 1
    created_at: str | None = None
    created_by: str | None = None
    created_by_id: str | None = None
    last_login_at: str | None = None
    updated_at: str | None = None
    # SHA-256 of the one setup code that may still set the password (a reset replaces it).
    setup_sha256: str | None = None

    def __post_init__(self) -> None:
        self.role = Role(self.role)
        self.status = AccountStatus(self.status)

    @property
    def active(self) -> bool:
        return self.status is AccountStatus.ACTIVE

    @property
    def password_set(self) -> bool:
        return self.password_hash is not None

    @property
    def actor(self) -> Actor:
        return Actor(self.display_name, self.id)
