#!/usr/bin/env python3
"""Demo data for the local stack: three boats and a realistic week of charters from today.

The trips are created through the app's own logic (chalicelib.trips.schedule.create_trip),
so they have exactly the shape the API stores. `make run` seeds once, when the
table holds no events; run alone, this seeds a running local stack's emulator:

    python scripts/seed.py            # only if there are no events yet
    python scripts/seed.py --force    # add another demo week anyway
    python scripts/seed.py --dry-run  # show what it would create
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

ROOT = Path(__file__).resolve().parents[1]
LOCAL_STAGE = "local"
SEEDED_BY = "demo seed"


def local_stage_env(stage: str = LOCAL_STAGE) -> dict[str, str]:
    """The stage's environment variables from .chalice/config.json (global ones merged)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return {key: str(value) for key, value in env.items()}


def _sunset_start(day: date) -> time:
    """When the sunset cruise casts off: earlier in winter, later in summer."""
    if day.month in (11, 12, 1, 2):
        return time(16, 0)
    if day.month in (5, 6, 7, 8):
        return time(19, 0)
    return time(17, 30)


def demo_week(today: date, zone: ZoneInfo) -> list[dict[str, Any]]:
    """A week of charters from `today`, as create_event request bodies.

    Prices are what the booking party pays for the trip, in integer cents.
    """

    def at(offset: int, start: time, hours: float) -> tuple[str, str]:
        day = today + timedelta(days=offset)
        starts = datetime.combine(day, start, tzinfo=zone)
        ends = starts + timedelta(hours=hours)
        return starts.isoformat(timespec="seconds"), ends.isoformat(timespec="seconds")

    def trip(offset: int, start: time, hours: float, **fields: Any) -> dict[str, Any]:
        starts_at, ends_at = at(offset, start, hours)
        return {"starts_at": starts_at, "ends_at": ends_at, **fields}

    return [
        trip(
            0,
            _sunset_start(today),
            2,
            title="Sunset cruise: Nguyen anniversary",
            boat="Sea Wren",
            capacity=24,
            price_cents=145_000,
            captain="Maria Alvarez",
            crew=["Jonah Pike", "Lena Ortiz"],
            notes="Cake arrives 30 min before departure at slip B7. Two guests vegetarian.",
        ),
        trip(
            1,
            time(6, 0),
            5.5,
            title="Half-day fishing: rockfish & lingcod",
            boat="Miss Kelp",
            capacity=12,
            price_cents=168_000,
            captain="Dale Okafor",
            crew=["Rosa Jimenez"],
            notes="Six anglers; four need one-day licenses. Bait and tackle provided.",
        ),
        trip(
            2,
            time(9, 30),
            2.5,
            title="Whale watching: Bayview Middle School",
            boat="Sea Wren",
            capacity=40,
            price_cents=210_000,
            captain="Maria Alvarez",
            crew=["Jonah Pike", "Lena Ortiz", "Sam Whitaker"],
            notes="32 students + 6 chaperones. A parent signs the waiver for every minor.",
        ),
        trip(
            3,
            time(13, 0),
            3,
            title="Private charter: harbor & seal rocks",
            boat="Lady Grace",
            capacity=6,
            price_cents=120_000,
            captain="Tom Brennan",
            crew=["Rosa Jimenez"],
            notes="Corporate group of 6; picnic lunch on board. Invoice to Harborline Ltd.",
        ),
        trip(
            4,
            time(8, 0),
            2,
            title="Crew training: man-overboard and fire drills",
            boat="Miss Kelp",
            capacity=8,
            captain="Dale Okafor",
            crew=["Sam Whitaker", "Jonah Pike"],
            notes="Not bookable. Bring foul-weather gear.",
        ),
        trip(
            4,
            time(10, 30),
            2.5,
            title="Whale watching: Ramirez family",
            boat="Lady Grace",
            capacity=6,
            price_cents=95_000,
            captain="Tom Brennan",
            crew=["Lena Ortiz"],
            notes="Two kids (8 and 11). Grandmother uses a cane: board at the low dock.",
        ),
        trip(
            5,
            time(5, 0),
            12,
            title="Full-day tuna run",
            boat="Miss Kelp",
            capacity=10,
            price_cents=320_000,
            captain="Dale Okafor",
            crew=["Rosa Jimenez", "Sam Whitaker"],
            notes="Depart 5:00 sharp. Ice and fish cleaning included.",
        ),
        trip(
            6,
            _sunset_start(today + timedelta(days=6)),
            2,
            title="Sunset cruise: Harbor Rotary Club",
            boat="Sea Wren",
            capacity=30,
            price_cents=175_000,
            captain="Maria Alvarez",
            crew=["Jonah Pike", "Lena Ortiz"],
            notes="Cash bar; Rotary brings its own caterer.",
        ),
    ]


# The demo fleet: two inspected vessels and one six-pack (uninspected, six passengers).
DEMO_BOATS = [
    {
        "name": "Sea Wren",
        "passenger_limit": 49,
        "inspected": True,
        "uscg_number": "1234567",
        "notes": "Certificate of inspection: 49 passengers, 3 crew.",
    },
    {
        "name": "Miss Kelp",
        "passenger_limit": 18,
        "inspected": True,
        "uscg_number": "2345678",
        "notes": "Sportfishing; certificate of inspection: 18 passengers.",
    },
    {
        "name": "Lady Grace",
        "passenger_limit": 6,
        "inspected": False,
        "uscg_number": "3456789",
        "notes": "Uninspected: a six-pack charter.",
    },
]


def has_events(client: Any, table_name: str) -> bool:
    """Whether the table holds any event (a Scan: dev tooling, never a request path)."""
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "FilterExpression": "SK = :event",
        "ExpressionAttributeValues": {":event": {"S": "EVENT"}},
        "Select": "COUNT",
    }
    while True:
        page = client.scan(**kwargs)
        if page.get("Count", 0):
            return True
        if "LastEvaluatedKey" not in page:
            return False
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def seed_demo_week(today: date | None = None) -> list[dict[str, Any]]:
    """Create the demo week through the app's logic; the environment must point at the table."""
    from chalicelib import config, timeutil
    from chalicelib.trips import fleet, schedule

    day = today or timeutil.today_local()
    boats = {boat["name"]: fleet.add_boat(boat, by=SEEDED_BY).id for boat in DEMO_BOATS}
    crew = crew_accounts()
    return [
        schedule.create_trip(
            {
                **body,
                "boat_id": boats[body["boat"]],
                # The trip's crew as accounts: who shares a tip for the crew.
                "crew_ids": [crew[name] for name in body["crew"] if name in crew],
            },
            by=SEEDED_BY,
        ).to_json()
        for body in demo_week(day, config.operator_tz())
    ]


def crew_accounts() -> dict[str, str]:
    """The demo crew's accounts by display name (those that exist): name -> account id."""
    from chalicelib.db import get_store

    accounts = get_store().accounts
    found = {}
    for username, name, *_ in (*DEMO_ACCOUNTS, *DEMO_CREW):
        account = accounts.by_username(username)
        if account is not None and account.active:
            found[name] = account.id
    return found


# Local-only logins beside the owner's, printed by `make run` (the emulator holds nothing real).
DEMO_ACCOUNTS = (
    ("maria", "Maria (captain)", "captain", "LOCAL_CAPTAIN_PASSWORD", "captain-local-pass"),
    ("sam", "Sam Whitaker", "crew", "LOCAL_CREW_PASSWORD", "crew-local-pass"),
)
# The rest of the demo week's crew: accounts (on their trips' crew, sharing its tips)
# with no password until the owner sends them a setup link.
DEMO_CREW = (
    ("jonah", "Jonah Pike", "crew"),
    ("lena", "Lena Ortiz", "crew"),
    ("rosa", "Rosa Jimenez", "crew"),
)


def seed_accounts() -> list[tuple[str, str, str]]:
    """A captain and a crew account with known passwords, and the demo week's other
    crew (accounts without a password), unless their usernames exist.

    Answers (username, role, password) of each demo login. The environment must
    point at the table.
    """
    import uuid

    from chalicelib import timeutil
    from chalicelib.crew import auth
    from chalicelib.crew.records import Account, Role
    from chalicelib.db import get_store

    store = get_store()
    logins = []
    for username, name, role, variable, default in DEMO_ACCOUNTS:
        password = os.environ.get(variable) or default
        logins.append((username, role, password))
        if store.accounts.by_username(username) is not None:
            continue
        account = Account(
            id=uuid.uuid4().hex,
            username=username,
            display_name=name,
            role=Role(role),
            password_hash=auth.hash_password(password),
            created_at=timeutil.now_iso(),
            created_by=SEEDED_BY,
        )
        store.accounts.add(account, None)
    for username, name, role in DEMO_CREW:
        if store.accounts.by_username(username) is None:
            store.accounts.add(
                Account(
                    id=uuid.uuid4().hex,
                    username=username,
                    display_name=name,
                    role=Role(role),
                    created_at=timeutil.now_iso(),
                    created_by=SEEDED_BY,
                ),
                None,
            )
    return logins


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def main(argv: list[str] | None = None) -> int:
    stage_env = local_stage_env()
    default_endpoint = f"http://127.0.0.1:{os.environ.get('EMULATOR_PORT', '4566')}"
    parser = argparse.ArgumentParser(
        description="Seed a week of demo charters (from today, in the operator's zone) "
        "into the local stack's emulator. Needs `make run` to be running."
    )
    parser.add_argument(
        "--endpoint",
        default=default_endpoint,
        help="the emulator's URL (default: %(default)s, from EMULATOR_PORT)",
    )
    parser.add_argument("--table", default=stage_env.get("TABLE_NAME", "shipcaptaincrew-local"))
    parser.add_argument("--force", action="store_true", help="seed even if events exist")
    parser.add_argument("--dry-run", action="store_true", help="print the trips; write nothing")
    args = parser.parse_args(argv)

    zone_name = stage_env.get("OPERATOR_TZ", "America/Los_Angeles")
    if args.dry_run:
        from datetime import UTC

        today = datetime.now(UTC).astimezone(ZoneInfo(zone_name)).date()
        for body in demo_week(today, ZoneInfo(zone_name)):
            print(f"would create: {body['starts_at']}  {body['title']}")
        return 0
    if not _is_loopback(args.endpoint):
        # Demo trips must never land in a real stage's table.
        print(f"Refusing to seed {args.endpoint}: only the local emulator (127.0.0.1) is seeded.")
        return 2

    os.environ.update(
        {
            **stage_env,
            "TABLE_NAME": args.table,
            "AWS_ENDPOINT_URL": args.endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": args.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    from botocore.exceptions import BotoCoreError, ClientError

    from chalicelib import aws

    aws.reset()
    try:
        print(f"Checking {args.table} at {args.endpoint} ...")
        if has_events(aws.dynamodb(), args.table) and not args.force:
            print("The table already has events: nothing to do (--force adds a demo week anyway).")
            return 0
        seed_accounts()  # the demo crew first: the trips carry their accounts
        created = seed_demo_week()
    except (BotoCoreError, ClientError) as exc:
        print(f"Could not reach the table: {exc}\nIs the local stack running (`make run`)?")
        return 1
    for event in created:
        print(f"created: {event['starts_at']}  {event['title']}")
    print(f"Seeded {len(created)} trips.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
