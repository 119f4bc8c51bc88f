"""`python -m bench`: run the benchmarks, print the table, write build/bench/results.json.

A full run takes a few minutes on two cores; `--quick` takes well under one
(fewer rounds, a smaller large table, no deployment package).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import common

SECTIONS = ("cold", "warm", "cost", "email", "footprint", "page")
# The page section drives Chromium for a few minutes: run it with --only page (or
# `make bench-page`, which writes build/bench/page.json).
DEFAULT_SECTIONS = SECTIONS[:-1]
FULL = {"cold_rounds": 15, "warm_iterations": 1000, "sizes": (1_000, 20_000), "payments": 15}
QUICK = {"cold_rounds": 4, "warm_iterations": 150, "sizes": (1_000, 3_000), "payments": 4}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Ship Captain Crew benchmarks: ratios measured side by side, and counts.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds and a 3,000-trip large table (~1 min)"
    )
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        action="append",
        help="run only this section (repeatable); default: all but page (Chromium, ~3 min)",
    )
    parser.add_argument(
        "--no-package",
        action="store_true",
        help="skip building deployment.zip with `chalice package` (skipped with --quick too)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=common.ROOT / "build" / "bench" / "results.json",
        help="where to write the results (default: build/bench/results.json, git-ignored; "
        "`make bench-record` refreshes the committed bench/results.json on purpose)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    wanted = args.only or list(DEFAULT_SECTIONS)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "sections": {},
    }
    sections = results["sections"]
    try:
        if "cold" in wanted:
            from bench import coldstart

            common.progress("1. cold start")
            sections["cold"] = coldstart.run(plan["cold_rounds"])
        if "warm" in wanted:
            from bench import warm

            common.progress("2. warm overhead")
            sections["warm"] = warm.run(plan["warm_iterations"])
        if "cost" in wanted:
            from bench import cost

            common.progress("3. DynamoDB cost")
            sections["cost"] = cost.run(plan["sizes"])
        if "email" in wanted:
            from bench import email_delay

            common.progress("4. email vs payments")
            sections["email"] = email_delay.run(plan["payments"])
        if "footprint" in wanted:
            from bench import footprint

            common.progress("5. counts and sizes")
            skip = args.quick or args.no_package
            sections["footprint"] = {
                "bcrypt": footprint.bcrypt_counts(),
                "package": (
                    {"bytes": None, "reason": "skipped (--quick or --no-package)"}
                    if skip
                    else footprint.deployment_zip()
                ),
                "page": footprint.page_bytes(),
            }
        if "page" in wanted:
            from bench import page

            common.progress("6. dispatch page in Chromium")
            sections["page"] = page.run(3 if args.quick else 5)
    except KeyboardInterrupt:
        common.progress("interrupted: nothing written")
        return 130
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    from bench import report

    results["rows"] = report.rows(sections)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    sys.stdout.write(report.table(results) + "\n")
    common.progress(f"wrote {args.output} in {results['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
