#!/usr/bin/env python3
"""Smoke-check a running site: the four answers that prove a deploy is wired right.

    python scripts/smoke.py --base-url https://d111111abcdef8.cloudfront.net/ [--api-only]

1. the dispatch page loads (GET / is 200 text/html);
2. GET /api/health is 200 with {"status": "ok"};
3. POST /api/events/<id>/payments without a token is 401 (a 404 means the route or
   the CloudFront behaviour is missing: the request never reached the app);
4. GET /g/<id>/waiver is the app's HTML (its pages carry
   <meta name="generator" content="shipcaptaincrew">), not the dispatch page: the
   old bug was CloudFront handing this path to S3. An unknown trip's 404 page counts:
   it proves the app answered.

Prints a table and exits 1 if any check fails. --api-only skips the dispatch page (for
an API Gateway URL with no CloudFront in front).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from scripts import awstools
from scripts.awstools import UserError

APP_MARKER = '<meta name="generator" content="shipcaptaincrew">'
USER_AGENT = "shipcaptaincrew-smoke/1"


@dataclass
class Answer:
    status: int
    content_type: str
    body: str
    error: str = ""


@dataclass
class Check:
    name: str
    expected: str
    got: str
    ok: bool


def fetch(url: str, method: str = "GET", data: bytes | None = None, timeout: float = 10) -> Answer:
    """One HTTP request; an error status is an answer too, a dead host is `error`."""
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("User-Agent", USER_AGENT)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(
                response.status,
                response.headers.get("Content-Type", ""),
                response.read(200_000).decode("utf-8", "replace"),
            )
    except urllib.error.HTTPError as exc:
        body = exc.read(200_000).decode("utf-8", "replace") if exc.fp else ""
        return Answer(exc.code, exc.headers.get("Content-Type", ""), body)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Answer(0, "", "", error=f"no answer: {reason}")


def _got(answer: Answer) -> str:
    if answer.error:
        return answer.error
    kind = answer.content_type.split(";")[0] or "no content type"
    return f"{answer.status} {kind}"


def check_dispatch_page(base: str, timeout: float) -> tuple[Check, Answer]:
    answer = fetch(base, timeout=timeout)
    ok = answer.status == 200 and answer.content_type.startswith("text/html")
    return Check("dispatch page", "200 text/html", _got(answer), ok), answer


def check_health(base: str, timeout: float) -> Check:
    answer = fetch(base + "api/health", timeout=timeout)
    got = _got(answer)
    ok = False
    if answer.status == 200:
        try:
            payload = json.loads(answer.body)
        except ValueError:
            got += " (not JSON)"
        else:
            ok = isinstance(payload, dict) and payload.get("status") == "ok"
            if isinstance(payload, dict):
                got += f" stage={payload.get('stage')} version={payload.get('version')}"
    return Check("health", '200 {"status": "ok"}', got, ok)


def check_payment_needs_login(base: str, event_id: str, timeout: float) -> Check:
    answer = fetch(
        f"{base}api/events/{event_id}/payments", method="POST", data=b"{}", timeout=timeout
    )
    got = _got(answer)
    if answer.status == 404:
        got += " (route missing: the request never reached the payment handler)"
    elif answer.status in (200, 201):
        got += " (accepted WITHOUT a login!)"
    return Check("payment needs login", "401", got, answer.status == 401)


def check_waiver_from_app(
    base: str, event_id: str, dispatch: Answer | None, timeout: float
) -> Check:
    answer = fetch(f"{base}g/{event_id}/waiver", timeout=timeout)
    got = _got(answer)
    from_app = APP_MARKER in answer.body
    if not from_app and not answer.error:
        if dispatch is not None and dispatch.body and answer.body == dispatch.body:
            got += " (the dispatch page: CloudFront sent it to S3)"
        else:
            got += " (not the app's page: no generator marker)"
    ok = from_app and answer.content_type.startswith("text/html") and answer.status < 500
    return Check("waiver page from app", "app HTML (200, or 404 for this unknown trip)", got, ok)


def run_checks(base_url: str, *, api_only: bool = False, timeout: float = 10) -> list[Check]:
    base = base_url if base_url.endswith("/") else base_url + "/"
    # A made-up trip id: every check must pass without touching real data.
    event_id = uuid.uuid4().hex
    checks: list[Check] = []
    dispatch = None
    if not api_only:
        check, dispatch = check_dispatch_page(base, timeout)
        checks.append(check)
    checks.append(check_health(base, timeout))
    checks.append(check_payment_needs_login(base, event_id, timeout))
    checks.append(check_waiver_from_app(base, event_id, dispatch, timeout))
    return checks


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Smoke-check a deployed Ship Captain Crew site.")
    parser.add_argument(
        "--base-url", required=True, help="the site root, e.g. https://example.org/"
    )
    parser.add_argument(
        "--api-only", action="store_true", help="skip the dispatch page (API Gateway URL)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    return parser


def run(args: argparse.Namespace) -> int:
    if not args.base_url.startswith(("http://", "https://")):
        raise UserError(f"--base-url must start with https:// (got {args.base_url!r})")
    awstools.step(f"Smoke checks against {args.base_url}")
    checks = run_checks(args.base_url, api_only=args.api_only, timeout=args.timeout)
    rows = [(c.name, c.expected, c.got, "ok" if c.ok else "FAIL") for c in checks]
    awstools.say(awstools.table(["check", "expected", "got", "result"], rows))
    failed = [c.name for c in checks if not c.ok]
    if failed:
        awstools.say(f"FAILED: {', '.join(failed)}", sys.stderr)
        return 1
    awstools.step(f"All {len(checks)} checks passed")
    return 0


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
