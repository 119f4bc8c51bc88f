"""The login screen judged by Lighthouse (npm, pinned), against the local stack.

    python -m bench.lighthouse              (make lighthouse)  -> build/bench/lighthouse.json

Lighthouse's own mobile run (a simulated phone on a throttled line) of `/` with no login
kept: the screen every crew member meets first. Prints the four category scores and the
load figures; exits 1 when a category scores under 100, naming the audits that cost it.
`make lighthouse` installs Lighthouse into build/lighthouse (git-ignored) first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import common
from bench.page import CHROMIUM, local_stack

LIGHTHOUSE = common.ROOT / "build" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
OUTPUT = common.ROOT / "build" / "bench" / "lighthouse.json"
FIGURES = (
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
)


def audit(url: str, report: Path) -> dict[str, Any]:
    """One Lighthouse run of `url`; its JSON report."""
    done = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        env={**os.environ, "CHROME_PATH": str(CHROMIUM)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not report.is_file():
        raise RuntimeError(f"lighthouse failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads(report.read_text())


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Scores per category (0-100), the load figures, and what cost any point."""
    audits = report["audits"]
    scores = {key: round(cat["score"] * 100) for key, cat in report["categories"].items()}
    lost = [
        f"{key}: {audits[ref['id']]['title']}"
        for key, cat in report["categories"].items()
        for ref in cat["auditRefs"]
        if ref["weight"] > 0
        and (audits[ref["id"]].get("score") or 0) < 1
        and audits[ref["id"]].get("scoreDisplayMode") in ("binary", "numeric")
    ]
    return {
        "lighthouse": report["lighthouseVersion"],
        "url": report["finalDisplayedUrl"],
        "scores": scores,
        "figures": {key: audits[key]["displayValue"] for key in FIGURES},
        "lost": lost,
    }


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    if not LIGHTHOUSE.exists():
        sys.stderr.write("Lighthouse is not installed: run `make lighthouse`\n")
        return 2
    with tempfile.TemporaryDirectory(prefix="scc-lighthouse-") as scratch:
        data = Path(scratch) / "data"
        data.mkdir()
        with local_stack(data) as url:
            common.progress(f"lighthouse: {url}/ (the login screen)")
            result = summary(audit(url + "/", Path(scratch) / "report.json"))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(result, indent=2) + "\n")
    scores = ", ".join(f"{key} {score}" for key, score in result["scores"].items())
    print(f"Lighthouse {result['lighthouse']}, the login screen: {scores}")
    print("  " + ", ".join(f"{key} {value}" for key, value in result["figures"].items()))
    for line in result["lost"]:
        print(f"  lost: {line}")
    return 0 if all(score == 100 for score in result["scores"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
