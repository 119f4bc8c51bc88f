"""Secrets are cached for minutes, not for the life of a warm Lambda (issue 12, point 3).

After `bootstrap.py --reset-password` (or a rotated signing key) every warm
instance uses the new value within SECRET_CACHE_SECONDS (300 by default).
"""

from __future__ import annotations

import bcrypt
import boto3
import pytest

from chalicelib import aws, config
from tests.conftest import TEST_PASSWORD, Api
from tests.test_faults import secrets_on_aws  # noqa: F401  (the fixture, used by name)

NEW_PASSWORD = "a new password after a reset"


class Clock:
    """config's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def secret_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(config, "_clock", lambda: clock.now)
    return clock


def login_status(api: Api, password: str) -> int:
    return api.post("/api/login", {"password": password}, token=False).status_code


def reset_password(password: str) -> None:
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    boto3.client("secretsmanager").put_secret_value(
        SecretId="scc/test/admin-pass-hash", SecretString=hashed
    )


@pytest.mark.usefixtures("secrets_on_aws")
def test_a_reset_password_replaces_the_old_one_within_five_minutes(api: Api, secret_clock: Clock):
    assert login_status(api, TEST_PASSWORD) == 200
    reset_password(NEW_PASSWORD)
    secret_clock.advance(config.DEFAULT_SECRET_CACHE_SECONDS + 1)
    assert login_status(api, TEST_PASSWORD) == 401
    assert login_status(api, NEW_PASSWORD) == 200


@pytest.mark.usefixtures("secrets_on_aws")
def test_a_secret_is_fetched_once_per_cache_period(
    api: Api, secret_clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    calls: list[str] = []
    real = aws.secret_version

    def counted(secret_id: str, version_stage: str) -> str | None:
        calls.append(secret_id)
        return real(secret_id, version_stage)

    monkeypatch.setattr(aws, "secret_version", counted)
    for _ in range(3):
        assert login_status(api, TEST_PASSWORD) == 200
        secret_clock.advance(60)
    assert calls.count("scc/test/admin-pass-hash") == 1
    secret_clock.advance(config.DEFAULT_SECRET_CACHE_SECONDS)
    assert login_status(api, TEST_PASSWORD) == 200
    assert calls.count("scc/test/admin-pass-hash") == 2


@pytest.mark.usefixtures("secrets_on_aws")
def test_tokens_signed_with_a_rotated_key_end_within_five_minutes(api: Api, secret_clock: Clock):
    token = api.login()
    assert api.get("/api/events", token=token).status_code == 200
    boto3.client("secretsmanager").put_secret_value(
        SecretId="scc/test/token-signing-key", SecretString="a-new-signing-key-" + "x" * 40
    )
    secret_clock.advance(config.DEFAULT_SECRET_CACHE_SECONDS + 1)
    assert api.get("/api/events", token=token).status_code in (401, 403)
    assert api.get("/api/events", token=api.login()).status_code == 200


@pytest.mark.usefixtures("secrets_on_aws")
def test_the_cache_time_is_a_setting(
    api: Api, secret_clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SECRET_CACHE_SECONDS", "30")
    assert config.secret_cache_seconds() == 30
    assert login_status(api, TEST_PASSWORD) == 200
    reset_password(NEW_PASSWORD)
    secret_clock.advance(31)
    assert login_status(api, NEW_PASSWORD) == 200


def test_a_bad_cache_setting_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SECRET_CACHE_SECONDS", "soon")
    assert config.secret_cache_seconds() == config.DEFAULT_SECRET_CACHE_SECONDS
