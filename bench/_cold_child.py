"""One cold Lambda start, run as a fresh process by bench/coldstart.py.

`python bench/_cold_child.py app|authorizer|bare` imports its handler (Lambda's
init phase), serves one event from BENCH_EVENT (the first invocation) and prints
one `BENCH-RESULT {json}` line with perf_counter stamps (CLOCK_MONOTONIC on
Linux, so the parent can compare them with the moment it spawned this process)
and the CPU time this process had used by then.
Kept free of imports that one side would pay for and the other not.
"""

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


class _Context:
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    function_name = "shipcaptaincrew-bench"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _bare(client, event: dict) -> dict:
    """The smallest handler that reads what the event-detail route reads."""
    event_id = event["pathParameters"]["event_id"]
    found = client.query(
        TableName=os.environ["TABLE_NAME"],
        KeyConditionExpression="PK = :pk AND SK < :ceiling",
        ExpressionAttributeValues={":pk": {"S": f"EVENT#{event_id}"}, ":ceiling": {"S": "X"}},
        ConsistentRead=True,
    )
    return {"statusCode": 200, "body": json.dumps({"items": found["Items"]})}


def main() -> None:
    mode = sys.argv[1]
    event = json.loads(os.environ["BENCH_EVENT"])
    if mode == "bare":
        import boto3

        client = boto3.client("dynamodb")
        initialised, initialised_cpu = time.perf_counter(), time.process_time()
        result = _bare(client, event)
        status = result["statusCode"]
    else:
        import app

        initialised, initialised_cpu = time.perf_counter(), time.process_time()
        if mode == "app":
            result = app.app(event, _Context())
            status = result["statusCode"]
        else:
            result = app.crew(event, _Context())
            # A deny is an Allow statement over no resources (Chalice's AuthResponse).
            allowed = bool(result["policyDocument"]["Statement"][0]["Resource"])
            status = 200 if allowed else 403
    done, done_cpu = time.perf_counter(), time.process_time()
    stamps = {
        "started": STARTED,
        "initialised": initialised,
        "done": done,
        # CPU seconds of this process since it was created (interpreter start included).
        "initialised_cpu": initialised_cpu,
        "done_cpu": done_cpu,
        "status": status,
    }
    sys.stdout.write("BENCH-RESULT " + json.dumps(stamps) + "\n")


main()
