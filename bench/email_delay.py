"""4. Email does not slow payments: payment p50 with SES answering 1 s late against SES fast.

The delay sits in the SES path itself (a hook on the app's SES clients that
sleeps before each send), so it slows whatever calls SES, wherever that is.
Payments alternate between the two settings. Then the outbox is drained with
the delay on, to show where the second went: into delivery, after the response.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from bench import common

SES_DELAY_SECONDS = 1.0
GOAL = 1.2


class _SlowSes:
    """A before-send hook on SES clients: sleeps `delay` seconds, counts sends."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.sends = 0

    def __call__(self, **_: Any) -> None:
        self.sends += 1
        if self.delay:
            time.sleep(self.delay)

    def attach(self) -> None:
        from chalicelib import aws

        for service in ("sesv2", "ses"):
            # First in line: moto's own before-send answers the call and ends the chain.
            aws.client(service).meta.events.register_first(f"before-send.{service}", self)


def run(payments: int) -> dict[str, Any]:
    """`payments` payments with each SES setting, alternating; p50s, ratio, SES calls made."""
    from chalicelib import aws
    from chalicelib.mail import outbox

    slow_ses = _SlowSes()
    times: dict[str, list[float]] = {"fast": [], "slow": []}
    sends_during_requests = 0
    with common.app_on_moto() as app_module:
        trip = common.trip_record(uuid.uuid4().hex, _board_start())
        common.batch_write(aws.dynamodb(), [trip])
        slow_ses.attach()
        for n in range(payments * 2):
            # ABBA order: slow, fast, fast, slow, ... so drift hits both alike.
            mode = "slow" if (n % 2 == 0) == (n // 2 % 2 == 0) else "fast"
            slow_ses.delay = SES_DELAY_SECONDS if mode == "slow" else 0.0
            event = common.request_event("payment", trip["id"])
            before = slow_ses.sends
            started = time.perf_counter()
            answer = common.run_quietly(app_module.app, event)
            times[mode].append(time.perf_counter() - started)
            sends_during_requests += slow_ses.sends - before
            if answer["statusCode"] != 201:
                raise RuntimeError(f"email delay: payment answered {answer['statusCode']}")
        # Where the delay went: the outbox sends the crew emails after the responses.
        slow_ses.delay = SES_DELAY_SECONDS
        before = slow_ses.sends
        started = time.perf_counter()
        with common.quiet_stdout():
            delivered = outbox.drain_outbox(limit=2)
        drain_seconds = time.perf_counter() - started
        drain_sends = slow_ses.sends - before
    fast, slow = common.median(times["fast"]), common.median(times["slow"])
    return {
        "payments_each": payments,
        "ses_delay_s": SES_DELAY_SECONDS,
        "fast_p50_ms": common.ms(fast),
        "slow_p50_ms": common.ms(slow),
        "ratio": common.ratio(slow, fast),
        "goal": GOAL,
        "ses_calls_during_payment_requests": sends_during_requests,
        "outbox_delivered": delivered,
        "outbox_ses_calls": drain_sends,
        "outbox_drain_ms": common.ms(drain_seconds),
    }


def _board_start() -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(f"{common.BOARD_FIRST}T17:30:00").replace(
        tzinfo=ZoneInfo(common.OPERATOR_TZ)
    )
