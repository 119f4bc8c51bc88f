"""Many crew phones at once: totals stay exact and a resent tap counts once.

moto's DynamoDB is not thread-safe (a transaction deep-copies the table to roll
back), so each AWS call goes into moto under one lock, as the local stack's
emulator does; the app's requests still interleave between calls, which is
what these tests are about. Threads call chalicelib directly: chalice.test.Client
swaps os.environ per request and is not safe to share between threads.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws as app_aws
from chalicelib import errors
from chalicelib.money import payments
from chalicelib.trips import schedule
from tests.conftest import serialize_dynamodb, trip

THREADS = 8


@pytest.fixture
def serialized_aws(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every DynamoDB call into moto under one lock; threads interleave between calls."""
    serialize_dynamodb(monkeypatch)
    yield


@pytest.fixture
def trip_id(serialized_aws: None) -> str:
    return schedule.create_trip(trip(), by="Dana").id


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs on THREADS threads, released together; results (or exceptions) in order."""
    go = threading.Event()

    def wrapped(job: Callable[[], Any]) -> Any:
        go.wait(timeout=10)
        try:
            return job()
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(wrapped, job) for job in jobs]
        go.set()
        return [future.result(timeout=120) for future in futures]


def log(trip_id: str, **body: Any) -> Callable[[], payments.Logged]:
    fields = {"patron_name": "Ana Ruiz", "amount_cents": 100, "method": "cash", **body}
    return lambda: payments.log_payment(trip_id, dict(fields), by="Dana")


def test_fifty_payments_from_eight_threads_give_exact_totals(trip_id):
    rng = random.Random(3)
    amounts = [rng.randint(1, 250_000) for _ in range(50)]
    results = run_together(
        [
            log(trip_id, amount_cents=cents, patron_name=f"Patron {i}")
            for i, cents in enumerate(amounts)
        ]
    )
    assert all(isinstance(r, payments.Logged) and r.created for r in results), results
    shown = schedule.trip_detail(trip_id)
    assert shown["event"]["paid_cents"] == sum(amounts)
    assert shown["event"]["payment_count"] == 50
    assert sorted(p["amount_cents"] for p in shown["payments"]) == sorted(amounts)
    assert shown["event"]["version"] == 1


def test_concurrent_replays_of_one_payment_id_count_once(trip_id):
    chosen = str(uuid.uuid4())
    results = run_together([log(trip_id, payment_id=chosen, amount_cents=4200)] * 16)
    assert all(isinstance(r, payments.Logged) for r in results), results
    assert sum(r.created for r in results) == 1
    assert {r.payment.id for r in results} == {chosen}
    shown = schedule.trip_detail(trip_id)
    assert shown["event"]["paid_cents"] == 4200
    assert shown["event"]["payment_count"] == 1
    assert len(shown["payments"]) == 1


def test_concurrent_replays_with_other_content_are_refused_not_counted(trip_id):
    chosen = str(uuid.uuid4())
    jobs = [log(trip_id, payment_id=chosen, amount_cents=cents) for cents in (100, 200) * 6]
    results = run_together(jobs)
    created = [r for r in results if isinstance(r, payments.Logged) and r.created]
    assert len(created) == 1
    winner = created[0].payment.amount_cents
    for job_cents, result in zip((100, 200) * 6, results, strict=True):
        if job_cents == winner:
            assert isinstance(result, payments.Logged)
        else:
            assert isinstance(result, errors.Conflict)
    assert schedule.load_trip(trip_id).paid_cents == winner


def test_concurrent_voids_of_one_payment_take_it_out_once(trip_id):
    keep = payments.log_payment(
        trip_id, {"patron_name": "Bo Li", "amount_cents": 700, "method": "card"}, by="Dana"
    )
    paid = log(trip_id, amount_cents=5000)().payment

    def void() -> payments.VoidOutcome:
        return payments.void_payment(trip_id, paid.id, {"reason": "double tap"}, by="Sam")

    results = run_together([void] * THREADS)
    assert all(isinstance(r, payments.VoidOutcome) for r in results), results
    assert sum(not r.already_void for r in results) == 1
    totals = schedule.load_trip(trip_id).to_json()
    assert totals["paid_cents"] == keep.payment.amount_cents
    assert totals["payment_count"] == 1


def test_payments_while_the_trip_is_cancelled_are_counted_only_if_logged_before(trip_id):
    jobs: list[Callable[[], Any]] = [log(trip_id, amount_cents=100) for _ in range(12)]
    jobs.insert(6, lambda: schedule.cancel_trip(trip_id, by="Maria"))
    results = run_together(jobs)
    logged = [r for r in results if isinstance(r, payments.Logged)]
    refused = [r for r in results if isinstance(r, errors.Conflict)]
    assert len(logged) + len(refused) == 12
    shown = schedule.trip_detail(trip_id)
    assert shown["event"]["status"] == "cancelled"
    assert shown["event"]["paid_cents"] == 100 * len(logged)
    assert len(shown["payments"]) == len(logged)


# --- Transaction conflicts (DynamoDB serializes transactions on one item) ----------


def conflict_error() -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
        },
        "TransactWriteItems",
    )


def conflicts_first(times: int) -> Callable[[str, dict], Any]:
    client = app_aws.dynamodb()
    original = client._make_api_call
    left = {"conflicts": times}

    def call(operation: str, params: dict) -> Any:
        if operation == "TransactWriteItems" and left["conflicts"] > 0:
            left["conflicts"] -= 1
            raise conflict_error()
        return original(operation, params)

    client._make_api_call = call
    return original


def test_payment_that_collides_with_another_write_is_retried_not_refused(trip_id):
    original = conflicts_first(2)
    try:
        result = log(trip_id, amount_cents=900)()
    finally:
        app_aws.dynamodb()._make_api_call = original
    assert result.created
    assert schedule.load_trip(trip_id).paid_cents == 900


def test_payment_that_keeps_colliding_is_a_503_to_retry_and_writes_nothing(trip_id):
    original = conflicts_first(100)
    try:
        with pytest.raises(errors.Unavailable):
            log(trip_id, amount_cents=900)()
    finally:
        app_aws.dynamodb()._make_api_call = original
    assert schedule.trip_detail(trip_id)["payments"] == []
