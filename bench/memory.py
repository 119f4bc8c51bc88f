"""`python -m bench.memory`: a bcrypt login's time per Lambda memory size, and the size
to give each function. A MODEL, not a Lambda measurement; docs/performance.md says how.

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one full vCPU, so
at 128 MB a CPU-bound step takes 1769 / 128 = 13.8 times as long as on a whole vCPU
(above 1,769 MB a single-threaded step gains nothing). The login's cost is one bcrypt
check at cost 12, single-threaded and CPU-bound, plus a few DynamoDB calls whose time
does not depend on memory (LOGIN_OTHER_SECONDS, a budget).

Two estimates of the login's bcrypt time on a whole vCPU:
- measured here: the median CPU time (time.process_time) of bcrypt.checkpw at cost 12
  on this machine, which stands in for a Lambda vCPU;
- observed on Lambda (issue 22): about 3.7 s at Chalice's default 128 MB, i.e.
  3.7 x 128 / 1769 = 0.268 s on a whole vCPU.

Each size's login time is the slower of the two, times the CPU share, plus the budget;
the API's function gets the smallest size (in Lambda's 64 MB steps used here) whose
login stays under 500 ms. Its cost per login barely moves with size below one vCPU
(GB-seconds of a CPU-bound step are constant), while the I/O-bound requests cost in
proportion to memory: so the smallest size that meets the target is the cheapest.
The authorizer (a token check and one GetItem) and the email functions (a template and
an SES call) do no bcrypt: they get AUXILIARY_MB, enough that their imports do not
crawl at a fourteenth of a vCPU on a cold start.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import bcrypt

from bench import common

FULL_VCPU_MB = 1769
SIZES = tuple(range(128, 3009 + 1, 64))
TARGET_SECONDS = 0.5
LOGIN_ROUNDS = 12
# The login's DynamoDB calls (5: the throttle counters, the account) and its token:
# a budget in-region, whatever the memory.
LOGIN_OTHER_SECONDS = 0.05
# Issue 22: a login at 128 MB on Lambda took about 3.7 s.
OBSERVED_MB, OBSERVED_SECONDS = 128, 3.7
AUXILIARY_MB = 256
AUXILIARY_FUNCTIONS = ("crew", "deliver_new_emails", "drain_email_outbox")


def observed_full_vcpu_seconds() -> float:
    """The bcrypt check on a whole Lambda vCPU, from the observation at 128 MB."""
    return OBSERVED_SECONDS * OBSERVED_MB / FULL_VCPU_MB


def measure_full_vcpu_seconds(repeats: int = 5, rounds: int = LOGIN_ROUNDS) -> float:
    """The median CPU time of one bcrypt check at `rounds` on this machine."""
    hashed = bcrypt.hashpw(common.PASSWORD.encode(), bcrypt.gensalt(rounds=rounds))
    times = []
    for _ in range(repeats):
        started = time.process_time()
        assert bcrypt.checkpw(common.PASSWORD.encode(), hashed)
        times.append(time.process_time() - started)
    return statistics.median(times)


def login_seconds(memory_mb: int, full_vcpu_seconds: float) -> float:
    """A login's time at `memory_mb`: bcrypt at the CPU share, plus the I/O budget."""
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return full_vcpu_seconds / share + LOGIN_OTHER_SECONDS


def choose(full_vcpu_seconds: float, target: float = TARGET_SECONDS) -> int:
    """The smallest size whose login stays under `target`."""
    for size in SIZES:
        if login_seconds(size, full_vcpu_seconds) < target:
            return size
    raise ValueError(f"no size up to {SIZES[-1]} MB logs in under {target} s")


def memory_sizes(api_mb: int) -> dict[str, int]:
    """Each function's lambda_memory_size."""
    return {"api_handler": api_mb, **dict.fromkeys(AUXILIARY_FUNCTIONS, AUXILIARY_MB)}


def run(repeats: int = 5) -> dict[str, Any]:
    measured = measure_full_vcpu_seconds(repeats)
    observed = observed_full_vcpu_seconds()
    slower = max(measured, observed)
    rows = [
        {
            "memory_mb": size,
            "cpu_share": round(min(1.0, size / FULL_VCPU_MB), 3),
            "login_ms_measured_model": round(login_seconds(size, measured) * 1000),
            "login_ms_observed_model": round(login_seconds(size, observed) * 1000),
        }
        for size in SIZES
        if size in (128, 256, 512, 768, 1024) or size % 256 == 0 or size == choose(slower)
    ]
    api_mb = choose(slower)
    return {
        "bcrypt_rounds": LOGIN_ROUNDS,
        "full_vcpu_seconds_measured": round(measured, 4),
        "full_vcpu_seconds_observed": round(observed, 4),
        "target_ms": TARGET_SECONDS * 1000,
        "rows": rows,
        "chosen": memory_sizes(api_mb),
        "login_ms_at_chosen": round(login_seconds(api_mb, slower) * 1000),
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"bcrypt cost {result['bcrypt_rounds']} on a whole vCPU: measured here "
        f"{result['full_vcpu_seconds_measured'] * 1000:.0f} ms, observed on Lambda "
        f"{result['full_vcpu_seconds_observed'] * 1000:.0f} ms",
        "",
        "| memory (MB) | CPU share | login, measured model (ms) | login, observed model (ms) |",
        "|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['memory_mb']} | {row['cpu_share']} | {row['login_ms_measured_model']} "
            f"| {row['login_ms_observed_model']} |"
        )
    chosen = result["chosen"]
    lines += [
        "",
        f"Chosen: api_handler {chosen['api_handler']} MB (login ~{result['login_ms_at_chosen']} ms "
        f"< {result['target_ms']:.0f} ms); "
        + ", ".join(f"{name} {chosen[name]} MB" for name in AUXILIARY_FUNCTIONS),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory",
        description="A bcrypt login's time per Lambda memory size (a model from a local "
        "measurement and Lambda's CPU share), and each function's memory.",
    )
    parser.add_argument("--repeats", type=int, default=5, help="bcrypt checks to time")
    parser.add_argument(
        "--output",
        type=Path,
        default=common.ROOT / "build" / "bench" / "memory.json",
        help="where to write the result (default: build/bench/memory.json)",
    )
    args = parser.parse_args(argv)
    result = run(args.repeats)
    print(table(result))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
