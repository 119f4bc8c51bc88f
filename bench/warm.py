"""2. Warm overhead: time inside the app per request, with AWS answered by botocore's Stubber.

Each request is first run once against moto to record the AWS calls it makes
and their answers; the timed runs replay those answers through a Stubber on the
app's own clients, so no network and no emulator is timed, only the app
(Chalice's handler, validation, serialising, botocore's request building).
Side by side: the same recorded calls made on the stubbed client alone, which
is the floor any handler making those calls would pay.

Times are the CPU time of the thread (time.thread_time), so other work on the
machine does not show up as app overhead; wall-clock p50/p99 are kept in the
JSON too.
"""

from __future__ import annotations

import contextlib
import gc
import time
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from bench import common


def _record(app_module: Any, board_id: str) -> dict[str, dict[str, Any]]:
    """Run each scenario once on moto; its event and the AWS calls it made."""
    from chalicelib import aws

    recorded = {}
    client = aws.dynamodb()
    for name in common.SCENARIOS:
        event = common.request_event(name, board_id)
        log = common.CallLog()
        log.attach(client)
        try:
            answer = common.run_quietly(app_module.app, event)
        finally:
            log.detach(client)
        if answer["statusCode"] >= 300:
            raise RuntimeError(f"warm {name}: recording run answered {answer['statusCode']}")
        recorded[name] = {"event": event, "calls": log.calls, "status": answer["statusCode"]}
    return recorded


def _queue(stubber: Stubber, calls: list[dict[str, Any]]) -> None:
    for call in calls:
        method, response = xform_name(call["operation"]), call["response"]
        error = response.get("Error")
        if error is None:
            stubber.add_response(method, response)
            continue
        # An expected failure (a condition that did not hold): replay it as the same error.
        modeled = {k: v for k, v in response.items() if k not in ("Error", "ResponseMetadata")}
        stubber.add_client_error(
            method,
            service_error_code=error.get("Code", ""),
            service_message=error.get("Message", ""),
            http_status_code=call.get("status") or 400,
            modeled_fields=modeled or None,
        )


def run(iterations: int) -> dict[str, Any]:
    """p50/p99 per scenario for the app and for its AWS calls alone on the stub."""
    from chalicelib import aws, config

    with common.app_on_moto() as app_module:
        client = aws.dynamodb()
        trips = common.board_trips(50)
        board_id = trips[0]["id"]
        common.batch_write(client, trips + common.children(board_id))
        recorded = _record(app_module, board_id)

    results: dict[str, Any] = {"iterations": iterations}
    settings = {**common.fake_credentials(), **common.app_settings(common.password_hash())}
    with common.environment(settings), common.quiet_stdout():
        aws.reset()
        config.reset()
        client = aws.dynamodb()
        stubber = Stubber(client)
        stubber.activate()
        auth_event = common.authorizer_event(common.crew_token())
        for name, run_data in recorded.items():
            common.progress(f"warm: {name} x {iterations}")
            event, calls = run_data["event"], run_data["calls"]
            app_times: list[float] = []
            stub_times: list[float] = []
            app_wall: list[float] = []
            # Warm-up: first-call caches (botocore's models, Jinja's templates) are not steady state.
            for _ in range(5):
                _queue(stubber, calls)
                app_module.app(event, common.lambda_context())
            gc.collect()
            for _ in range(iterations):
                _queue(stubber, calls)
                context = common.lambda_context()
                started, started_wall = time.thread_time(), time.perf_counter()
                answer = app_module.app(event, context)
                app_times.append(time.thread_time() - started)
                app_wall.append(time.perf_counter() - started_wall)
                if answer["statusCode"] != run_data["status"]:
                    raise RuntimeError(f"warm {name}: answered {answer['statusCode']}")
                _queue(stubber, calls)
                started = time.thread_time()
                for call in calls:
                    # A recorded answer may be an error (a condition that failed): expected.
                    with contextlib.suppress(ClientError):
                        getattr(client, xform_name(call["operation"]))(**call["params"])
                stub_times.append(time.thread_time() - started)
            stubber.assert_no_pending_responses()
            results[name] = _summary(app_times, stub_times, len(calls))
            results[name]["wall_p50_ms"] = common.ms(common.percentile(app_wall, 50))
            results[name]["wall_p99_ms"] = common.ms(common.percentile(app_wall, 99))
        auth_times = []
        for _ in range(iterations):
            # The authorizer's revocation read (the break-glass owner: no account item).
            stubber.add_response("get_item", {})
            started = time.thread_time()
            app_module.crew(auth_event, common.lambda_context())
            auth_times.append(time.thread_time() - started)
        results["authorizer"] = {
            "app_p50_ms": common.ms(common.percentile(auth_times, 50)),
            "app_p99_ms": common.ms(common.percentile(auth_times, 99)),
        }
        stubber.deactivate()
        aws.reset()
        config.reset()
    return results


def _summary(app_times: list[float], stub_times: list[float], calls: int) -> dict[str, Any]:
    app_p50, app_p99 = common.percentile(app_times, 50), common.percentile(app_times, 99)
    stub_p50, stub_p99 = common.percentile(stub_times, 50), common.percentile(stub_times, 99)
    return {
        "aws_calls": calls,
        "app_p50_ms": common.ms(app_p50),
        "app_p99_ms": common.ms(app_p99),
        "stub_p50_ms": common.ms(stub_p50),
        "stub_p99_ms": common.ms(stub_p99),
        "ratio_p50": common.ratio(app_p50, stub_p50),
        "overhead_p50_ms": common.ms(app_p50 - stub_p50),
    }
