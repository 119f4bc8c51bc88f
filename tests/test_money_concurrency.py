"""Fares, tips, refunds and voids from many crew phones at once: every total exact.

As tests/test_payments_concurrency.py: threads call chalicelib directly, each AWS
call goes into moto under one lock (moto's DynamoDB is not thread-safe), and the
app's requests interleave between calls, which is what these tests are about.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib import errors
from chalicelib.crew import accounts
from chalicelib.crew.records import Role
from chalicelib.money import payments, refunds
from chalicelib.records import Actor
from chalicelib.trips import schedule
from tests.conftest import serialize_dynamodb, trip
from tests.test_payments_concurrency import run_together

OWNER = Actor("Dana", "admin")


def crew_account(name: str) -> str:
    made = accounts.create_account(
        {"username": f"u{uuid.uuid4().hex[:8]}", "display_name": name, "role": "crew"},
        by=OWNER,
        role=Role.OWNER,
    )
    return made["account"]["id"]


@pytest.fixture
def crewed(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """A trip crewed by three accounts; every DynamoDB call into moto under one lock."""
    serialize_dynamodb(monkeypatch)
    crew = sorted(crew_account(name) for name in ("Jo", "Sam", "Lee"))
    return schedule.create_trip(trip(crew_ids=crew), by=OWNER).id, crew


def fare(trip_id: str, cents: int, method: str = "cash") -> Callable[[], Any]:
    body = {"patron_name": "Ana Ruiz", "amount_cents": cents, "method": method}
    return lambda: payments.log_payment(trip_id, dict(body), by=OWNER)


def tip(trip_id: str, cents: int, tip_for: Any = "crew") -> Callable[[], Any]:
    body = {
        "patron_name": "Bo Li",
        "amount_cents": cents,
        "method": "cash",
        "kind": "tip",
        "tip_for": tip_for,
    }
    return lambda: payments.log_payment(trip_id, dict(body), by=OWNER)


def refund(
    trip_id: str, cents: int, refund_id: str | None = None, payment_id: str | None = None
) -> Callable[[], Any]:
    body: dict[str, Any] = {"amount_cents": cents, "method": "cash", "reason": "cut short"}
    if refund_id:
        body["refund_id"] = refund_id
    if payment_id:
        body["payment_id"] = payment_id
    return lambda: refunds.log_refund(trip_id, dict(body), by=OWNER)


def void(trip_id: str, payment_id: str) -> Callable[[], Any]:
    return lambda: payments.void_payment(trip_id, payment_id, {"reason": "mistake"}, by=OWNER)


def void_refund(trip_id: str, refund_id: str) -> Callable[[], Any]:
    return lambda: refunds.void_refund(trip_id, refund_id, {"reason": "mistake"}, by=OWNER)


def ledger_totals(trip_id: str) -> dict[str, int]:
    """The trip's totals worked out from its ledger rows alone."""
    entries = payments.ledger_of(trip_id)
    logged = [p for p in entries.payments if not p.void]
    kept_refunds = [r for r in entries.refunds if not r.void]
    fares = [p.amount_cents for p in logged if not p.tip]
    refunded = sum(r.amount_cents for r in kept_refunds)
    return {
        "paid_cents": sum(fares) - refunded,
        "payment_count": len(fares),
        "tips_cents": sum(p.amount_cents for p in logged if p.tip),
        "refunded_cents": refunded,
        "refund_count": len(kept_refunds),
    }


def stored_totals(trip_id: str) -> dict[str, int]:
    shown = schedule.load_trip(trip_id).to_json()
    return {name: shown[name] for name in ledger_totals(trip_id)}


def test_fares_tips_refunds_and_voids_at_once_keep_every_total_exact(crewed):
    trip_id, crew = crewed
    rng = random.Random(15)
    early_fares = [fare(trip_id, 20_000)().payment for _ in range(4)]
    early_tip = tip(trip_id, 1_001)().payment
    early_refund = refund(trip_id, 3_000)().refund
    replayed = str(uuid.uuid4())
    jobs: list[Callable[[], Any]] = []
    jobs += [fare(trip_id, rng.randint(1, 50_000), rng.choice(["cash", "card"])) for _ in range(16)]
    jobs += [tip(trip_id, rng.randint(1, 10_000)) for _ in range(8)]
    jobs += [tip(trip_id, rng.randint(1, 10_000), [crew[0], crew[2]]) for _ in range(4)]
    jobs += [refund(trip_id, rng.randint(1, 5_000)) for _ in range(8)]
    jobs += [refund(trip_id, 2_500, replayed)] * 4
    jobs += [void(trip_id, early_fares[0].id), void(trip_id, early_fares[1].id)]
    jobs += [void(trip_id, early_tip.id), void_refund(trip_id, early_refund.id)]
    rng.shuffle(jobs)
    results = run_together(jobs)
    unexpected = [r for r in results if isinstance(r, Exception)]
    assert not unexpected, unexpected
    assert stored_totals(trip_id) == ledger_totals(trip_id)
    totals = stored_totals(trip_id)
    assert totals["paid_cents"] >= 0
    entries = payments.ledger_of(trip_id)
    assert sum(r.id == replayed for r in entries.refunds) == 1
    for payment in entries.payments:
        if payment.tip:
            assert sum(share["cents"] for share in payment.tip_shares) == payment.amount_cents


def test_refunds_at_once_never_hand_back_more_than_was_paid(crewed):
    trip_id, _ = crewed
    fare(trip_id, 10_000)()
    results = run_together([refund(trip_id, 3_000) for _ in range(8)])
    done = [r for r in results if isinstance(r, refunds.RefundOutcome)]
    refused = [r for r in results if isinstance(r, errors.Conflict)]
    assert (len(done), len(refused)) == (3, 5)
    assert all(r.code == "refund_exceeds_paid" for r in refused)
    assert stored_totals(trip_id) == ledger_totals(trip_id)
    assert schedule.load_trip(trip_id).paid_cents == 1_000


def test_refunds_of_one_fare_at_once_never_hand_back_more_than_that_fare(crewed):
    """Issue 21 item 7: the fare's own condition, not the trip's paid total, holds."""
    trip_id, _ = crewed
    fare(trip_id, 50_000)()
    small = fare(trip_id, 1_000)().payment
    results = run_together([refund(trip_id, 300, payment_id=small.id) for _ in range(8)])
    done = [r for r in results if isinstance(r, refunds.RefundOutcome)]
    refused = [r for r in results if isinstance(r, errors.Conflict)]
    assert (len(done), len(refused)) == (3, 5)
    assert all(r.code == "refund_exceeds_paid" for r in refused)
    assert stored_totals(trip_id) == ledger_totals(trip_id)
    assert schedule.load_trip(trip_id).refunded_cents == 900


def test_tips_while_the_crew_changes_split_among_one_crew_or_the_other(crewed):
    trip_id, crew = crewed
    newcomer = crew_account("Ray")
    version = schedule.load_trip(trip_id).version

    def change_crew() -> Any:
        return schedule.update_trip(
            trip_id, {"crew_ids": [crew[0], newcomer], "version": version}, by=OWNER
        )

    jobs: list[Callable[[], Any]] = [tip(trip_id, 1_000) for _ in range(10)]
    jobs.insert(5, change_crew)
    results = run_together(jobs)
    assert not [r for r in results if isinstance(r, Exception)], results
    crews = {tuple(crew), tuple(sorted([crew[0], newcomer]))}
    for payment in payments.ledger_of(trip_id).payments:
        assert tuple(share["account_id"] for share in payment.tip_shares) in crews
        assert sum(share["cents"] for share in payment.tip_shares) == 1_000
    assert stored_totals(trip_id)["tips_cents"] == 10_000
