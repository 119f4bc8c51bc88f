"""Crew login, tokens and the throttle on wrong passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import timeutil
from chalicelib.crew import auth
from tests.conftest import TEST_PASSWORD, from_viewer


def test_health_answers_without_login(api):
    response = api.get("/api/health", token=False)
    assert response.status_code == 200
    assert response.json_body == {"status": "ok", "stage": "test", "version": "0.1.0"}


def test_right_password_gives_an_expiring_token(api):
    response = api.post("/api/login", {"password": TEST_PASSWORD}, token=False)
    assert response.status_code == 200
    assert set(response.json_body) == {"token", "expires_at", "account"}
    assert response.json_body["account"]["role"] == "owner"
    expires = timeutil.parse_datetime(response.json_body["expires_at"], "expires_at")
    assert timedelta(hours=11, minutes=59) < expires - timeutil.now() <= timedelta(hours=12)


def test_wrong_password_is_401_naming_the_field(api):
    response = api.post("/api/login", {"password": "nope"}, token=False)
    assert response.status_code == 401
    assert response.json_body["field"] == "password"


def test_password_over_72_bytes_is_401_not_500(api):
    response = api.post("/api/login", {"password": "é" * 100}, token=False)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{not json", "body"),
        ("[]", "body"),
        ('{"password": 5}', "password"),
        ('{"password": "x", "admin": true}', "admin"),
        ("", "body"),
    ],
)
def test_malformed_login_is_400_naming_the_field(api, raw, field):
    response = api.post("/api/login", raw=raw, token=False)
    assert response.status_code == 400
    assert response.json_body["field"] == field


def test_twenty_wrong_passwords_from_one_address_are_throttled(api):
    headers = from_viewer("203.0.113.7")
    for n in range(20):  # other usernames each time: the address's count, not a username's
        wrong = {"username": f"guess{n}", "password": "bad"}
        assert api.post("/api/login", wrong, headers=headers, token=False).status_code == 401
    response = api.post("/api/login", {"password": TEST_PASSWORD}, headers=headers, token=False)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    other = api.post(
        "/api/login",
        {"password": TEST_PASSWORD},
        headers=from_viewer("198.51.100.2"),
        token=False,
    )
    assert other.status_code == 200


def test_throttle_lifts_after_fifteen_minutes(api, monkeypatch):
    headers = from_viewer("203.0.113.9")
    for _ in range(5):
        api.post("/api/login", {"password": "bad"}, headers=headers, token=False)
    later = timeutil.now() + timedelta(minutes=16)
    monkeypatch.setattr(timeutil, "now", lambda: later)
    response = api.post("/api/login", {"password": TEST_PASSWORD}, headers=headers, token=False)
    assert response.status_code == 200


def test_crew_routes_refuse_a_missing_token(api):
    response = api.get("/api/events", token=False)
    assert response.status_code == 401


def test_crew_routes_refuse_a_tampered_token(api):
    token = api.login()
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}xx"
    assert api.get("/api/events", token=forged).status_code in (401, 403)


def test_crew_routes_refuse_an_expired_token(api, monkeypatch):
    past = timeutil.now() - timedelta(hours=13)
    with monkeypatch.context() as patched:
        patched.setattr(timeutil, "now", lambda: past)
        token = auth.issue_token("Dana")["token"]
    assert api.get("/api/events", token=token).status_code in (401, 403)


def test_bcrypt_runs_at_login_only(crew_api, monkeypatch):
    import bcrypt

    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real(*a))
    crew_api.get("/api/events")
    assert calls == []
    crew_api.login()
    assert calls == [1]
