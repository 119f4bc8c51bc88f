"""Settings, read from the environment inside functions (never at import time).

`chalice.test.Client` and `chalice local` apply a stage's environment variables
only while a request runs, so nothing here may be cached at import.
"""

from __future__ import annotations

import os
from functools import lru_cache
from zoneinfo import ZoneInfo

from chalicelib import aws

DEFAULT_TZ = "America/Los_Angeles"
_secret_cache: dict[str, str] = {}


def stage() -> str:
    return os.environ.get("STAGE", "local")


def app_version() -> str:
    return os.environ.get("APP_VERSION", "0.0.0")


def table_name() -> str:
    return os.environ.get("TABLE_NAME", f"shipcaptaincrew-{stage()}")


def operator_tz_name() -> str:
    return os.environ.get("OPERATOR_TZ") or DEFAULT_TZ


def operator_tz() -> ZoneInfo:
    return _zone(operator_tz_name())


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def sender_email() -> str:
    return os.environ.get("SENDER_EMAIL", "dispatch@shipcaptaincrew.example")


def crew_notify_emails() -> list[str]:
    raw = os.environ.get("CREW_NOTIFY_EMAILS", "")
    return [addr.strip() for addr in raw.split(",") if addr.strip()]


def token_ttl_seconds() -> int:
    return int(float(os.environ.get("TOKEN_TTL_HOURS", "12")) * 3600)


def site_url() -> str:
    """Where the dispatch page is (for setup links); empty: the requesting page's origin."""
    return os.environ.get("SITE_URL", "")


def bcrypt_rounds() -> int:
    """bcrypt's cost for new password hashes (12; the tests use 4)."""
    return int(os.environ.get("BCRYPT_ROUNDS", "12"))


def admin_password_hash() -> bytes:
    """The bcrypt hash of the crew password: an env value locally, a secret on AWS."""
    return _setting_or_secret("ADMIN_PASS_HASH").encode()


def token_signing_key() -> str:
    return _setting_or_secret("TOKEN_SIGNING_KEY")


def _setting_or_secret(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    secret_id = os.environ.get(f"{name}_SECRET_ID")
    if not secret_id:
        raise RuntimeError(f"{name} is not configured (set {name} or {name}_SECRET_ID)")
    if secret_id not in _secret_cache:
        _secret_cache[secret_id] = aws.secret_string(secret_id)
    return _secret_cache[secret_id]


def reset() -> None:
    """Forget cached secrets (tests, and after a secret rotation)."""
    _secret_cache.clear()
