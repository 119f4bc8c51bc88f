"""Crew accounts: a login per person, setup links, roles, revocation, throttling,
and who did what (each change's activity written in the same transaction)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import errors
from chalicelib.crew import auth
from chalicelib.db import activity as db_activity
from chalicelib.db import ledger as db_ledger
from chalicelib.db import trips as db_trips
from chalicelib.db import waivers as db_waivers
from tests.conftest import ACCOUNT_PASSWORD, TEST_PASSWORD, from_viewer, serialize_dynamodb, trip
from tests.test_access import table_snapshot
from tests.test_payments_concurrency import run_together


def login(api: Any, username: str | None, password: str, **headers: str) -> Any:
    body = (
        {"password": password} if username is None else {"username": username, "password": password}
    )
    return api.post("/api/login", body, headers=headers or None, token=False)


# --- adding and setting up --------------------------------------------------------


def test_owner_adds_a_deckhand_who_sets_a_password_and_logs_in(api):
    made = api.add_account("crew", username="Sam.Deck", display_name="Sam Deckhand")
    account = made["account"]
    assert account["username"] == "sam.deck"  # case-folded
    assert account["role"] == "crew" and account["status"] == "active"
    assert account["password_set"] is False
    assert "/#/setup/" in made["setup_url"] and made["setup_expires_at"]
    assert api.set_up(made["setup_url"]).status_code == 200
    answer = login(api, "SAM.deck", ACCOUNT_PASSWORD)
    assert answer.status_code == 200, answer.body
    assert answer.json_body["account"]["display_name"] == "Sam Deckhand"
    me = api.get("/api/me", token=answer.json_body["token"])
    assert me.json_body["account"]["id"] == account["id"]
    assert me.json_body["account"]["last_login_at"]


def test_the_hash_and_setup_codes_are_never_returned(api):
    made = api.add_account("crew")
    api.set_up(made["setup_url"])
    listed = api.get("/api/accounts", token=api.owner_token()).json_body["accounts"]
    for shown in [made["account"], *listed]:
        assert not {"password_hash", "setup_sha256", "token_version"} & set(shown)


def test_duplicate_username_is_409(api):
    api.add_account("crew", username="lee")
    again = api.post(
        "/api/accounts",
        {"username": "LEE", "display_name": "Other Lee", "role": "crew"},
        token=api.owner_token(),
    )
    assert again.status_code == 409
    assert again.json_body["field"] == "username"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ab", "display_name": "A", "role": "crew"}, "username"),
        ({"username": "has space", "display_name": "A", "role": "crew"}, "username"),
        ({"username": "admin", "display_name": "A", "role": "crew"}, "username"),
        ({"username": "abc", "display_name": "Eve\u202egnp.exe", "role": "crew"}, "display_name"),
        ({"username": "abc", "display_name": "x" * 61, "role": "crew"}, "display_name"),
        ({"username": "abc", "display_name": "A", "role": "admiral"}, "role"),
        ({"username": "abc", "display_name": "A", "role": "crew", "password": "x"}, "password"),
    ],
)
def test_bad_account_fields_are_400_naming_the_field(api, body, field):
    answer = api.post("/api/accounts", body, token=api.owner_token())
    assert answer.status_code == 400, answer.body
    assert answer.json_body["field"] == field


@pytest.mark.parametrize("password", ["nine char", "é" * 37])
def test_setup_needs_10_characters_and_at_most_72_bytes(api, password):
    made = api.add_account("crew")
    answer = api.set_up(made["setup_url"], password)
    assert answer.status_code == 400
    assert answer.json_body["field"] == "password"


def test_a_setup_link_works_once(api):
    made = api.add_account("crew")
    assert api.set_up(made["setup_url"]).status_code == 200
    again = api.set_up(made["setup_url"], "someone else's password")
    assert again.status_code == 410
    assert again.json_body["code"] == "setup_link_used"
    assert login(api, made["account"]["username"], "someone else's password").status_code == 401


def test_a_setup_link_expires_after_72_hours(api, clock):
    made = api.add_account("crew")
    clock.advance(72 * 3600 + 1)
    assert api.set_up(made["setup_url"]).status_code == 410


def test_an_unknown_setup_code_is_410(api):
    assert api.set_up("https://x/#/setup/not-a-code").status_code == 410


# --- who may manage whom ------------------------------------------------------------


def test_a_captain_adds_crew_but_not_captains_or_owners(api):
    captain = api.account("captain")["token"]
    api.add_account("crew", token=captain)
    for role in ("captain", "owner"):
        refused = api.post(
            "/api/accounts",
            {"username": f"new-{role}", "display_name": "X", "role": role},
            token=captain,
        )
        assert refused.status_code == 403
        assert refused.json_body["code"] == "forbidden"
        assert "owner" in refused.json_body["message"]


def test_a_captain_renames_and_disables_crew_but_changes_no_role_and_no_captain(api):
    captain = api.account("captain")["token"]
    deckhand = api.account("crew")
    other_captain = api.account("captain")
    path = f"/api/accounts/{deckhand['account']['id']}"
    renamed = api.patch(path, {"display_name": "Sam D."}, token=captain)
    assert renamed.status_code == 200 and renamed.json_body["account"]["display_name"] == "Sam D."
    assert api.patch(path, {"role": "captain"}, token=captain).status_code == 403
    assert (
        api.patch(
            f"/api/accounts/{other_captain['account']['id']}", {"status": "disabled"}, token=captain
        ).status_code
        == 403
    )
    assert (
        api.post(f"/api/accounts/{other_captain['account']['id']}/reset", token=captain).status_code
        == 403
    )
    assert api.patch(path, {"status": "disabled"}, token=captain).status_code == 200


def test_the_owner_promotes_and_the_new_role_applies_at_once(api):
    deckhand = api.account("crew")
    token = deckhand["token"]
    assert api.get("/api/accounts", token=token).status_code == 403
    promoted = api.patch(
        f"/api/accounts/{deckhand['account']['id']}", {"role": "captain"}, token=api.owner_token()
    )
    assert promoted.json_body["account"]["role"] == "captain"
    assert api.get("/api/accounts", token=token).status_code == 200


# --- revocation ----------------------------------------------------------------------


def refused(api: Any, token: str) -> bool:
    return api.get("/api/events", token=token).status_code in (401, 403)


def test_disabling_ends_the_accounts_tokens_and_its_logins(api):
    deckhand = api.account("crew")
    assert not refused(api, deckhand["token"])
    api.patch(
        f"/api/accounts/{deckhand['account']['id']}",
        {"status": "disabled"},
        token=api.owner_token(),
    )
    assert refused(api, deckhand["token"])
    assert login(api, deckhand["username"], ACCOUNT_PASSWORD).status_code == 401
    # Enabling again lets them log in; the old token stays dead.
    api.patch(
        f"/api/accounts/{deckhand['account']['id']}", {"status": "active"}, token=api.owner_token()
    )
    assert login(api, deckhand["username"], ACCOUNT_PASSWORD).status_code == 200
    assert refused(api, deckhand["token"])


def test_reset_ends_the_old_password_old_links_and_tokens(api):
    made = api.add_account("crew")
    first_link = made["setup_url"]
    reset = api.post(f"/api/accounts/{made['account']['id']}/reset", token=api.owner_token())
    assert reset.status_code == 200
    assert api.set_up(first_link).status_code == 410  # the older link is dead
    assert api.set_up(reset.json_body["setup_url"]).status_code == 200
    token = login(api, made["account"]["username"], ACCOUNT_PASSWORD).json_body["token"]
    again = api.post(f"/api/accounts/{made['account']['id']}/reset", token=api.owner_token())
    assert refused(api, token)
    assert login(api, made["account"]["username"], ACCOUNT_PASSWORD).status_code == 401
    assert api.set_up(again.json_body["setup_url"], "a fresh password").status_code == 200


def test_changing_my_password_ends_my_other_tokens(api):
    deckhand = api.account("crew")
    other_phone = login(api, deckhand["username"], ACCOUNT_PASSWORD).json_body["token"]
    changed = api.post(
        "/api/me/password",
        {"current_password": ACCOUNT_PASSWORD, "new_password": "a brand new password"},
        token=deckhand["token"],
    )
    assert changed.status_code == 200, changed.body
    assert refused(api, other_phone) and refused(api, deckhand["token"])
    assert not refused(api, changed.json_body["token"])
    assert login(api, deckhand["username"], "a brand new password").status_code == 200
    assert login(api, deckhand["username"], ACCOUNT_PASSWORD).status_code == 401


def test_a_wrong_current_password_is_400_not_a_lost_session(api):
    deckhand = api.account("crew")
    answer = api.post(
        "/api/me/password",
        {"current_password": "not my password", "new_password": "a brand new password"},
        token=deckhand["token"],
    )
    assert answer.status_code == 400
    assert answer.json_body["field"] == "current_password"
    assert not refused(api, deckhand["token"])


def test_the_break_glass_owner_cannot_change_its_password_through_the_api(api):
    answer = api.post(
        "/api/me/password",
        {"current_password": TEST_PASSWORD, "new_password": "a brand new password"},
        token=api.owner_token(),
    )
    assert answer.status_code == 403


@pytest.mark.parametrize("who", ["crew", "break-glass owner"])
def test_log_out_ends_the_token_server_side(api, who):
    token = api.owner_token() if who == "break-glass owner" else api.account("crew")["token"]
    assert api.post("/api/logout", {}, token=token).status_code == 200
    assert refused(api, token)


def test_the_authorizer_reads_the_account_once_per_run(api):
    from chalicelib import aws

    token = api.account("crew")["token"]
    seen: list[str] = []
    aws.observers.append(lambda service, op, params: seen.append(op))
    try:
        auth.crew_from_token(f"Bearer {token}")
    finally:
        aws.observers.pop()
    assert seen == ["GetItem"]


# --- login: no enumeration, throttled per address and per username --------------------


def test_unknown_username_and_wrong_password_look_the_same(api, monkeypatch):
    import bcrypt

    deckhand = api.account("crew")
    calls: list[int] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: calls.append(1) or real(*a))
    wrong = login(api, deckhand["username"], "not the password", **from_viewer("192.0.2.1"))
    unknown = login(api, "nobody-here", "not the password", **from_viewer("192.0.2.2"))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.body == unknown.body
    assert calls == [1, 1]  # bcrypt ran for the unknown name too (a dummy hash)


def test_five_failures_for_one_username_from_one_address_lock_that_pair_only(api):
    """Issue 21: the username is not locked for every address (tests/test_login_throttle.py)."""
    deckhand = api.account("crew")
    address = from_viewer("198.51.100.1")
    for _ in range(5):
        assert login(api, deckhand["username"], "guess", **address).status_code == 401
    locked = login(api, deckhand["username"], ACCOUNT_PASSWORD, **address)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    elsewhere = login(api, deckhand["username"], ACCOUNT_PASSWORD, **from_viewer("192.0.2.9"))
    assert elsewhere.status_code == 200


def test_parallel_guesses_are_counted_before_the_password_check(aws, monkeypatch):
    """40 wrong guesses at once from one address: at most 5 reach bcrypt, the rest 429."""
    serialize_dynamodb(monkeypatch)
    outcomes = run_together(
        [lambda: auth.login("admin", "wrong guess", None, "203.0.113.40") for _ in range(40)]
    )
    wrong = [o for o in outcomes if isinstance(o, errors.Unauthorized)]
    throttled = [o for o in outcomes if isinstance(o, errors.Throttled)]
    assert len(wrong) + len(throttled) == 40, outcomes
    assert len(wrong) <= 5
    assert len(throttled) >= 35


# --- who did what --------------------------------------------------------------------


def test_writes_record_the_account_and_the_trip_keeps_its_activity(api):
    captain = api.account("captain", display_name="Cap Maria")
    deckhand = api.account("crew", display_name="Sam Deckhand")
    made = api.post("/api/events", trip(), token=captain["token"])
    event = made.json_body["event"]
    path = f"/api/events/{event['id']}"
    api.patch(path, {"notes": "Bring ice", "version": event["version"]}, token=captain["token"])
    paid = api.post(
        f"{path}/payments",
        {"patron_name": "Ana", "amount_cents": 2500, "method": "cash"},
        token=deckhand["token"],
    ).json_body["payment"]
    assert paid["logged_by"] == "Sam Deckhand"
    assert paid["logged_by_id"] == deckhand["account"]["id"]
    voided = api.post(
        f"{path}/payments/{paid['id']}/void", {"reason": "typo"}, token=deckhand["token"]
    )
    assert voided.json_body["payment"]["voided_by_id"] == deckhand["account"]["id"]
    api.sign(event["id"])
    api.post(f"{path}/cancel", {}, token=captain["token"])
    detail = api.get(path, token=captain["token"]).json_body
    actions = [(a["action"], a["by_id"]) for a in detail["activity"]]
    cap, deck = captain["account"]["id"], deckhand["account"]["id"]
    assert sorted(actions) == sorted(
        [
            ("created", cap),
            ("edited", cap),
            ("payment_logged", deck),
            ("payment_voided", deck),
            ("waiver_signed", None),
            ("cancelled", cap),
        ]
    )
    assert all(a["at"] and a["by"] and a["summary"] for a in detail["activity"])


def test_crew_void_only_their_own_payment_within_30_minutes(api, clock):
    owner = api.owner_token()
    event = api.post("/api/events", trip(), token=owner).json_body["event"]
    path = f"/api/events/{event['id']}/payments"
    deckhand = api.account("crew")["token"]
    captain = api.account("captain")["token"]
    body = {"patron_name": "Ana", "amount_cents": 2500, "method": "cash"}
    theirs = api.post(path, body, token=owner).json_body["payment"]
    assert (
        api.post(f"{path}/{theirs['id']}/void", {"reason": "x"}, token=deckhand).status_code == 403
    )
    mine = api.post(path, body, token=deckhand).json_body["payment"]
    late = api.post(path, body, token=deckhand).json_body["payment"]
    assert api.post(f"{path}/{mine['id']}/void", {"reason": "x"}, token=deckhand).status_code == 200
    clock.advance(31 * 60)
    refused_late = api.post(f"{path}/{late['id']}/void", {"reason": "x"}, token=deckhand)
    assert refused_late.status_code == 403
    assert refused_late.json_body["code"] == "forbidden"
    assert api.post(f"{path}/{late['id']}/void", {"reason": "x"}, token=captain).status_code == 200


def test_the_crew_email_names_who_logged_the_payment(api):
    from chalicelib.mail import emails
    from chalicelib.money import payments

    deckhand = api.account("crew", display_name="Sam Deckhand")
    event = api.post("/api/events", trip(), token=api.owner_token()).json_body["event"]
    api.post(
        f"/api/events/{event['id']}/payments",
        {"patron_name": "Ana", "amount_cents": 2500, "method": "cash"},
        token=deckhand["token"],
    )
    (payment,) = payments.ledger_of(event["id"]).payments
    assert "Logged by:  Sam Deckhand" in emails.payment_email(payment).text


def test_a_change_whose_activity_fails_is_not_written_either(crew_api, event, monkeypatch):
    path = f"/api/events/{event['id']}"
    paid = crew_api.paid(event["id"])
    before = table_snapshot(skip_throttle=True)
    real = db_activity.activity_write

    def refused_write(table: Any, entry: Any) -> dict:
        write = real(table, entry)
        write["Put"]["ConditionExpression"] = "attribute_exists(PK)"
        return write

    for module in (db_trips, db_ledger, db_waivers):
        monkeypatch.setattr(module, "activity_write", refused_write)
    attempts = [
        crew_api.post("/api/events", trip(title="Never stored")),
        crew_api.patch(path, {"notes": "never", "version": event["version"]}),
        crew_api.post(f"{path}/cancel", {}),
        crew_api.pay(event["id"], patron_name="Never"),
        crew_api.void(event["id"], paid["id"]),
        crew_api.sign(event["id"]),
    ]
    assert all(a.status_code >= 400 for a in attempts), [a.status_code for a in attempts]
    assert table_snapshot(skip_throttle=True) == before


def test_the_setup_link_comes_with_a_qr_code_of_itself(api):
    segno = pytest.importorskip("segno")
    made = api.add_account("crew")
    rows = made["setup_qr"]
    size = len(rows)
    assert all(len(row) == size and set(row) <= {"0", "1"} for row in rows)
    assert (size - 2 * 4 - 17) % 4 == 0  # a QR version's size plus the quiet zone
    drawn = segno.make(made["setup_url"], error="m", micro=False)
    assert rows == [
        "".join("1" if dark else "0" for dark in row) for row in drawn.matrix_iter(border=4)
    ]


def test_login_as_speaks_as_a_new_account_of_that_role(api):
    made = api.login_as("captain", display_name="Cap Lee")
    me = api.get("/api/me").json_body["account"]
    assert (me["id"], me["role"], me["display_name"]) == (
        made["account"]["id"],
        "captain",
        "Cap Lee",
    )
