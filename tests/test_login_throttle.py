"""Issue 21 items 1-3: nobody outside can lock a person out (OWASP's lockout without DoS).

- per (username, source): 5 failures in 15 minutes, then 429 with Retry-After;
- per source, across usernames: 20 failures in 15 minutes, then 429; a good login in
  between takes nothing off (it only gives back its own attempt);
- per username, from every source: never refused, only slowed (a pause before the
  password check once more than 5 failures are on it);
- a source is an IPv4 address, or an IPv6 /64.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.crew import auth, throttle
from tests.conftest import ACCOUNT_PASSWORD, TEST_PASSWORD, from_viewer


def login(api: Any, username: str | None, password: str, address: str) -> Any:
    body: dict[str, Any] = {"password": password}
    if username is not None:
        body["username"] = username
    return api.post("/api/login", body, headers=from_viewer(address), token=False)


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The pauses the login throttle asks for (recorded, not slept: tests stay fast)."""
    asked: list[float] = []
    monkeypatch.setattr(throttle, "_sleep", asked.append, raising=False)
    return asked


@pytest.mark.parametrize("who", ["break-glass", "account"])
def test_the_right_password_from_a_clean_source_works_while_another_guesses(api, pauses, who):
    if who == "account":
        deckhand = api.account("crew")
        username, password = deckhand["username"], ACCOUNT_PASSWORD
    else:
        username, password = None, TEST_PASSWORD
    statuses = {login(api, username, "guess", "203.0.113.66").status_code for _ in range(30)}
    assert statuses == {401, 429}  # the guessing source is stopped...
    # ...and the stranger's guessing does not keep the owner (or the deckhand) out.
    assert login(api, username, password, "198.51.100.20").status_code == 200
    # Nor does it lift for the guesser.
    assert login(api, username, password, "203.0.113.66").status_code == 429


def test_guesses_at_one_username_from_many_sources_slow_it_down_never_refuse(api, pauses):
    deckhand = api.account("crew")
    for n in range(12):  # 12 sources, 2 guesses each: under every per-source limit
        for _ in range(2):
            wrong = login(api, deckhand["username"], "guess", f"192.0.2.{n + 1}")
            assert wrong.status_code == 401
    assert pauses and max(pauses) <= auth.MAX_LOGIN_PAUSE_SECONDS
    asked = len(pauses)
    good = login(api, deckhand["username"], ACCOUNT_PASSWORD, "198.51.100.77")
    assert good.status_code == 200
    assert len(pauses) == asked + 1  # the right password waited too: no timing tell
    # The right password lifts the slowdown for everyone.
    login(api, deckhand["username"], ACCOUNT_PASSWORD, "198.51.100.78")
    assert len(pauses) == asked + 1


def test_a_source_limit_counts_failures_whatever_succeeds_in_between(api, pauses):
    """One account's good login every 4 guesses must not reset the source's count."""
    source = "203.0.113.90"
    mine = api.account("crew")
    wrong = 0
    refused = None
    for n in range(40):
        if n % 5 == 4:
            good = login(api, mine["username"], ACCOUNT_PASSWORD, source)
            if good.status_code == 429:
                refused = good
                break
            continue
        answer = login(api, f"someone{n}", "guess", source)
        if answer.status_code == 429:
            refused = answer
            break
        assert answer.status_code == 401
        wrong += 1
    assert refused is not None, "the source guessed on for ever"
    assert wrong == auth.MAX_FAILED_PER_SOURCE
    assert 0 < int(refused.headers["Retry-After"]) <= auth.FAILED_LOGIN_WINDOW
    # Another source is unaffected.
    assert login(api, mine["username"], ACCOUNT_PASSWORD, "198.51.100.3").status_code == 200


def test_an_ipv6_source_is_its_64(api, pauses):
    guesses = [f"2001:db8:7:8::{n:x}" for n in range(1, 40)]
    answers = [login(api, f"user{n}", "guess", a).status_code for n, a in enumerate(guesses)]
    assert answers.index(429) == auth.MAX_FAILED_PER_SOURCE  # one /64: one source
    # Five guesses at the owner from one /64 (five addresses) stop that /64 only.
    for n in range(5):
        assert login(api, None, "guess", f"2001:db8:9:9:{n}::1").status_code == 401
    assert login(api, None, TEST_PASSWORD, "2001:db8:9:9:ffff::2").status_code == 429
    assert login(api, None, TEST_PASSWORD, "2001:db8:9:a::1").status_code == 200


def test_source_keys():
    assert throttle.source_key("203.0.113.5") == "203.0.113.5"
    assert throttle.source_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert throttle.source_key("2001:DB8:1:2::ff") == "2001:db8:1:2::/64"
    assert throttle.source_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert throttle.source_key("unknown") == "unknown"


def test_outside_guessing_does_not_stop_a_password_change(api, pauses):
    deckhand = api.account("crew")
    for n in range(10):
        login(api, deckhand["username"], "guess", f"192.0.2.{n + 100}")
    changed = api.post(
        "/api/me/password",
        {"current_password": ACCOUNT_PASSWORD, "new_password": "a brand new password"},
        token=deckhand["token"],
    )
    assert changed.status_code == 200, changed.body
