"""Eight crew phones at once, through the whole HTTP handler: totals exact, replays counted once.

tests/test_payments_concurrency.py drives chalicelib directly; these go through
the Lambda handler (middleware, request parsing, the logged-in name), with the
current request kept per thread as `chalice local` keeps it. moto's DynamoDB is
not thread-safe, so each AWS call goes into moto under one lock; the requests
still interleave between calls, which is the point.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice.local import LocalChalice

from bench.common import api_event, lambda_context
from chalicelib.trips import schedule
from tests.conftest import serialize_dynamodb, trip

THREADS = 8
PAYMENTS = 100


class PerThreadChalice(LocalChalice):
    """The app with its current request kept per thread (what `chalice local` does)."""

    _THREAD_LOCAL = threading.local()


@pytest.fixture
def handler(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict], dict]]:
    """The route Lambda, safe to call from threads; every AWS call into moto under one lock."""
    import app as app_module

    serialize_dynamodb(monkeypatch)
    monkeypatch.setattr(app_module.app, "__class__", PerThreadChalice)

    def call(event: dict) -> dict:
        answer = app_module.app(event, lambda_context())
        body = answer.get("body")
        answer["json"] = json.loads(body) if body else None
        return answer

    yield call


@pytest.fixture
def trip_id(handler) -> str:
    return schedule.create_trip(trip(), by="Dana").id


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs on THREADS threads released at once; results in job order."""
    go = threading.Event()

    def wrapped(job: Callable[[], Any]) -> Any:
        go.wait(timeout=10)
        return job()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(wrapped, job) for job in jobs]
        go.set()
        return [future.result(timeout=300) for future in futures]


def payment(trip_id: str, crew: str, **body: Any) -> dict:
    return api_event(
        "POST",
        "/api/events/{event_id}/payments",
        {"event_id": trip_id},
        body={"method": "cash", **body},
        principal=crew,
    )


def detail(handler, trip_id: str) -> dict:
    answer = handler(api_event("GET", "/api/events/{event_id}", {"event_id": trip_id}))
    assert answer["statusCode"] == 200, answer["body"]
    return answer["json"]


def test_hundred_payments_from_eight_threads_give_exact_totals_and_keep_who_logged_each(
    handler, trip_id
):
    rng = random.Random(7)
    amounts = [rng.randint(1, 250_000) for _ in range(PAYMENTS)]
    jobs: list[Callable[[], dict]] = [
        # Each request names its crew member and patron by the same number: a request
        # that read another thread's body or login would pair them wrongly.
        (
            lambda i=i, c=c: handler(
                payment(trip_id, f"Crew {i}", patron_name=f"P{i}", amount_cents=c)
            )
        )
        for i, c in enumerate(amounts)
    ]
    # Crew refreshing the trip meanwhile.
    for n in range(0, PAYMENTS, 10):
        jobs.insert(
            n, lambda: handler(api_event("GET", "/api/events/{event_id}", {"event_id": trip_id}))
        )
    answers = run_together(jobs)
    statuses = Counter(a["statusCode"] for a in answers)
    assert statuses == {201: PAYMENTS, 200: PAYMENTS // 10}, statuses

    shown = detail(handler, trip_id)
    assert shown["event"]["paid_cents"] == sum(amounts)
    assert shown["event"]["payment_count"] == PAYMENTS
    assert sorted(p["amount_cents"] for p in shown["payments"]) == sorted(amounts)
    for stored in shown["payments"]:
        number = stored["patron_name"][1:]
        assert stored["logged_by"] == f"Crew {number}", stored
        assert stored["amount_cents"] == amounts[int(number)]


def test_concurrent_duplicates_of_each_payment_id_count_once(handler, trip_id):
    ids = [str(uuid.uuid4()) for _ in range(12)]
    cents = {pid: 1000 + n for n, pid in enumerate(ids)}
    copies = [pid for pid in ids for _ in range(4)]
    random.Random(11).shuffle(copies)
    answers = run_together(
        [
            (
                lambda pid=pid: handler(
                    payment(
                        trip_id, "Dana", payment_id=pid, patron_name="Ana", amount_cents=cents[pid]
                    )
                )
            )
            for pid in copies
        ]
    )
    by_id: dict[str, list[int]] = {}
    for pid, answer in zip(copies, answers, strict=True):
        assert answer["statusCode"] in (200, 201), answer["body"]
        assert answer["json"]["payment"]["id"] == pid
        by_id.setdefault(pid, []).append(answer["statusCode"])
    # Exactly one of the four copies logged it; the others were answered as replays.
    assert all(sorted(codes) == [200, 200, 200, 201] for codes in by_id.values()), by_id

    shown = detail(handler, trip_id)
    assert shown["event"]["paid_cents"] == sum(cents.values())
    assert shown["event"]["payment_count"] == len(ids)
    assert sorted(p["id"] for p in shown["payments"]) == sorted(ids)


def test_voids_racing_new_payments_leave_totals_equal_to_the_ledger(handler, trip_id):
    first = [
        handler(payment(trip_id, "Dana", patron_name=f"P{n}", amount_cents=500 + n))["json"]
        for n in range(16)
    ]
    to_void = [p["payment"]["id"] for p in first[::2]]

    def void(pid: str) -> dict:
        return handler(
            api_event(
                "POST",
                "/api/events/{event_id}/payments/{payment_id}/void",
                {"event_id": trip_id, "payment_id": pid},
                body={"reason": "double tap"},
                principal="Sam",
            )
        )

    jobs: list[Callable[[], dict]] = [(lambda pid=pid: void(pid)) for pid in to_void * 2]
    jobs += [
        (lambda n=n: handler(payment(trip_id, "Jo", patron_name=f"Q{n}", amount_cents=900)))
        for n in range(16)
    ]
    random.Random(5).shuffle(jobs)
    answers = run_together(jobs)
    assert all(a["statusCode"] in (200, 201) for a in answers), [a["body"] for a in answers]
    newly_voided = [a for a in answers if a["json"].get("already_void") is False]
    assert len(newly_voided) == len(to_void)

    shown = detail(handler, trip_id)
    logged = [p for p in shown["payments"] if p["status"] == "logged"]
    assert shown["event"]["paid_cents"] == sum(p["amount_cents"] for p in logged)
    assert shown["event"]["payment_count"] == len(logged) == 16 - len(to_void) + 16
