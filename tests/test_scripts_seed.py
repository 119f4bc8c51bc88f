"""The demo week (scripts/seed.py): its trips carry their crew as accounts (issue 23)."""

from __future__ import annotations

from scripts import seed


def test_the_demo_week_has_its_crew_accounts_on_its_trips(crew_api) -> None:
    seed.seed_accounts()
    created = seed.seed_demo_week()
    assert created
    accounts = {a["username"]: a for a in crew_api.get("/api/accounts").json_body["accounts"]}
    sam = accounts["sam"]["id"]
    for event in created:
        named = [a["name"] for a in event["crew_accounts"]]
        # Every name on the trip's crew is an account on it, and only those.
        assert sorted(named) == sorted(event["crew"]), event["title"]
    with_sam = [e for e in created if sam in e["crew_ids"]]
    assert with_sam, "the demo deckhand (sam) is on some trip's crew"
    # Sam can share a cash tip on his trip.
    token = crew_api.post("/api/login", {"username": "sam", "password": "crew-local-pass"})
    tip = {
        "patron_name": "Ana Ruiz",
        "amount_cents": 2000,
        "method": "cash",
        "kind": "tip",
        "tip_for": "crew",
    }
    answer = crew_api.post(
        f"/api/events/{with_sam[0]['id']}/payments", tip, token=token.json_body["token"]
    )
    assert answer.status_code == 201, answer.body
    shares = answer.json_body["payment"]["tip_shares"]
    assert sam in [s["account_id"] for s in shares]
    assert sum(s["cents"] for s in shares) == 2000
    # Seeding again adds no second set of accounts.
    seed.seed_accounts()
    again = crew_api.get("/api/accounts").json_body["accounts"]
    assert sorted(a["username"] for a in again) == sorted(accounts)
