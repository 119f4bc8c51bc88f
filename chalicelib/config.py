"""Settings, read from the environment inside functions (never at import time).

`chalice.test.Client` and `chalice local` apply a stage's environment variables
only while a request runs, so nothing here may be cached at import.
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from zoneinfo import ZoneInfo

from chalicelib import aws

DEFAULT_TZ = "America/Los_Angeles"
# A warm Lambda keeps a secret this long (SECRET_CACHE_SECONDS), so a reset password
# or a rotated key is used everywhere within minutes, not when instances recycle.
DEFAULT_SECRET_CACHE_SECONDS = 300
# After a rotation the edge may send a value newer than the one cached: a mismatch
# looks again, but no more often than this (a stranger's guesses cost no AWS calls).
ORIGIN_VERIFY_RECHECK_SECONDS = 10
CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"
# (secret id, staging label) -> (when fetched, by _clock; the value, or None)
_secret_cache: dict[tuple[str, str], tuple[float, str | None]] = {}


def _clock() -> float:
    """Seconds on a monotonic clock (tests move it by patching this)."""
    return time.monotonic()


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


def operator_name() -> str:
    """The charter operation's name, as patrons' receipts are signed (OPERATOR_NAME)."""
    return os.environ.get("OPERATOR_NAME") or "Ship Captain Crew"


def operator_contact() -> str:
    """How patrons reach the operator, as the signer's copy says (OPERATOR_CONTACT: a
    phone or an address); without it, the address emails are sent from."""
    return os.environ.get("OPERATOR_CONTACT") or sender_email()


def waiver_sign_limit(default: int) -> int:
    """Waiver posts one source may make in 10 minutes (WAIVER_SIGN_LIMIT): a marina's or a
    hotel's shared Wi-Fi may need more than the default."""
    raw = os.environ.get("WAIVER_SIGN_LIMIT", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def crew_notify_emails() -> list[str]:
    raw = os.environ.get("CREW_NOTIFY_EMAILS", "")
    return [addr.strip() for addr in raw.split(",") if addr.strip()]


def shore_contact_emails() -> list[str]:
    """Who ashore gets the departure manifest and the overdue and all-back emails.

    SHORE_CONTACT_EMAILS (comma separated); without it the crew's addresses, so a
    manifest is never addressed to nobody.
    """
    raw = os.environ.get("SHORE_CONTACT_EMAILS", "")
    found = [addr.strip() for addr in raw.split(",") if addr.strip()]
    return found or crew_notify_emails()


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


def origin_verify_secrets(*, recheck: bool = False) -> tuple[str, ...]:
    """The values CloudFront's `X-Origin-Verify` header may carry: none, when unset.

    ORIGIN_VERIFY_SECRET (local and test stages) or the Secrets Manager secret named by
    ORIGIN_VERIFY_SECRET_ID: its current value and, during a rotation, its previous one.
    `recheck` fetches them again unless they were fetched in the last few seconds.
    """
    value = os.environ.get("ORIGIN_VERIFY_SECRET")
    if value:
        return (value,)
    secret_id = os.environ.get("ORIGIN_VERIFY_SECRET_ID")
    if not secret_id:
        return ()
    max_age = ORIGIN_VERIFY_RECHECK_SECONDS if recheck else None
    found = (_secret(secret_id, stage, max_age=max_age) for stage in (CURRENT, PREVIOUS))
    return tuple(v for v in found if v)


def secret_cache_seconds() -> float:
    """How long a warm instance keeps a secret it fetched (SECRET_CACHE_SECONDS, 300)."""
    try:
        return max(
            0.0, float(os.environ.get("SECRET_CACHE_SECONDS") or DEFAULT_SECRET_CACHE_SECONDS)
        )
    except ValueError:
        return DEFAULT_SECRET_CACHE_SECONDS


def _setting_or_secret(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    secret_id = os.environ.get(f"{name}_SECRET_ID")
    if not secret_id:
        raise RuntimeError(f"{name} is not configured (set {name} or {name}_SECRET_ID)")
    found = _secret(secret_id, CURRENT)
    if found is None:
        raise RuntimeError(f"{name}: the secret {secret_id} has no current value")
    return found


def _secret(secret_id: str, version_stage: str, *, max_age: float | None = None) -> str | None:
    """A secret's value at a staging label, fetched again once the cached one is too old."""
    now = _clock()
    cached = _secret_cache.get((secret_id, version_stage))
    limit = secret_cache_seconds() if max_age is None else max_age
    if cached is not None and now - cached[0] < limit:
        return cached[1]
    value = aws.secret_version(secret_id, version_stage)
    _secret_cache[(secret_id, version_stage)] = (now, value)
    return value


def reset() -> None:
    """Forget cached secrets (tests, and a local stack pointed at another emulator)."""
    _secret_cache.clear()
