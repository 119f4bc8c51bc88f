"""Issue 21 item 6: a setup link is for the role it was made for.

A captain made a crew account and kept its setup link; the owner made that account an
owner; the captain opened the link and held an owner session. A role change and a
disable now end the account's pending setup code, and a code is bound to the role it
was issued for, so a captain can never get a session above captain by any path.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from chalicelib.db import get_store, keys
from chalicelib.db.table import Update
from tests.conftest import setup_code


def captain_makes_crew(api: Any) -> tuple[str, dict[str, Any], str]:
    """(captain's token, the crew account, the setup link the captain kept)."""
    captain = api.account("captain")
    made = api.add_account("crew", token=captain["token"])
    return captain["token"], made["account"], made["setup_url"]


def refused(answer: Any) -> None:
    assert answer.status_code == 410, answer.body
    assert answer.json_body["code"] == "setup_link_used"
    assert "token" not in answer.json_body


@pytest.mark.parametrize("new_role", ["owner", "captain"])
def test_a_kept_link_is_dead_once_the_owner_promotes_the_account(api, new_role):
    captain, account, link = captain_makes_crew(api)
    owner = api.owner_token()
    promoted = api.patch(f"/api/accounts/{account['id']}", {"role": new_role}, token=owner)
    assert promoted.status_code == 200, promoted.body
    refused(api.set_up(link, "the captain's own password"))
    # No session above captain came out of it: the captain still cannot make an owner.
    more = api.post(
        "/api/accounts",
        {"username": "another-owner", "display_name": "Another", "role": "owner"},
        token=captain,
    )
    assert more.status_code == 403
    # The account itself is fine: the owner resets it and the new link works, as an owner.
    reset = api.post(f"/api/accounts/{account['id']}/reset", token=owner)
    used = api.set_up(reset.json_body["setup_url"])
    assert used.status_code == 200 and used.json_body["account"]["role"] == new_role


def test_disabling_ends_a_pending_link_for_good(api):
    _, account, link = captain_makes_crew(api)
    owner = api.owner_token()
    path = f"/api/accounts/{account['id']}"
    assert api.patch(path, {"status": "disabled"}, token=owner).status_code == 200
    assert api.patch(path, {"status": "active"}, token=owner).status_code == 200
    refused(api.set_up(link))


def test_a_rename_keeps_the_link(api):
    captain, account, link = captain_makes_crew(api)
    renamed = api.patch(f"/api/accounts/{account['id']}", {"display_name": "Sam"}, token=captain)
    assert renamed.status_code == 200
    same_role = api.patch(
        f"/api/accounts/{account['id']}", {"role": "crew"}, token=api.owner_token()
    )
    assert same_role.status_code == 200
    assert api.set_up(link).status_code == 200


def test_a_code_sets_up_only_the_role_it_was_made_for(api):
    """Even if the account's role moved without ending the code (a change written by an
    older version, say), the code made for a crew account gives no owner session."""
    _, account, link = captain_makes_crew(api)
    get_store().accounts.table.update(
        keys.account_key(account["id"]),
        Update("SET #role = :owner", names={"#role": "role"}, values={":owner": "owner"}),
        answer=False,
    )
    refused(api.set_up(link))
    sha = hashlib.sha256(setup_code(link).encode()).hexdigest()
    stored = get_store().accounts.table.get(keys.setup_key(sha))
    assert stored["role"] == "crew"
