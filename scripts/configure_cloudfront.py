#!/usr/bin/env python3
"""Apply the edge routing table (chalicelib/web/edge.py ROUTES) to a CloudFront distribution.

    python scripts/configure_cloudfront.py --stage prod [--distribution-id ID]
                                           [--api-url URL] [--dry-run]

What it does, in order:
1. reads the distribution's config with its ETag;
2. makes the API origin point at the stage's API Gateway (domain from
   .chalice/deployed/<stage>.json or --api-url; origin path = the Chalice API stage,
   because routes are declared with their public paths: /api/..., /g/...), sending the
   stage's origin-verify secret as the X-Origin-Verify header (the app trusts
   CloudFront-Viewer-Address only next to it; the value is never printed);
3. puts one behaviour per routing-table pattern at the front of the list, so nothing
   else can catch those paths first (the incident: /g/*/waiver fell through to the S3
   dispatch page). API behaviours: `https-only` (no redirect), all methods,
   CachingDisabled, AllViewerExceptHostHeader (API Gateway answers 403 when it gets the viewer's Host),
   and the default behaviour's response headers policy;
4. leaves every other origin and behaviour exactly as it was, updates with IfMatch,
   waits for CloudFront to deploy, then invalidates the paths whose routing changed
   (their old, cached answers came from the wrong origin).

A second run reports "no changes". --dry-run prints the difference and changes nothing.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from chalicelib.web import edge
from scripts import awstools
from scripts.awstools import UserError

API_ORIGIN_ID = "shipcaptaincrew-api"
# AWS managed policies (the same ids in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
# Forwards every viewer header except Host (API Gateway answers 403 to the viewer's
# Host) and CloudFront's own headers, CloudFront-Viewer-Address among them: the app reads
# the viewer's address from it, trusting it only next to the origin-verify header.
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# CloudFront adds this header, with the stage's origin-verify secret as its value, to
# every request it sends the API: it proves a request came through the distribution.
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
# A behaviour with a cache policy may not also carry the legacy cache settings.
LEGACY_CACHE_KEYS = ("ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL")


# --- the wanted configuration ------------------------------------------------------


def api_origin_target(api_url: str, api_gateway_stage: str) -> tuple[str, str]:
    """(domain, origin path) of the API origin from the REST API URL."""
    parsed = urlparse(api_url if "//" in api_url else f"https://{api_url}")
    if not parsed.hostname:
        raise UserError(f"cannot read an API domain from {api_url!r}")
    path = parsed.path.rstrip("/") or f"/{api_gateway_stage}"
    return parsed.hostname, path


def custom_headers(verify: str) -> dict[str, Any]:
    if not verify:
        return {"Quantity": 0}
    return {"Quantity": 1, "Items": [{"HeaderName": ORIGIN_VERIFY_HEADER, "HeaderValue": verify}]}


def api_origin(domain: str, origin_path: str, verify: str = "") -> dict[str, Any]:
    return {
        "Id": API_ORIGIN_ID,
        "DomainName": domain,
        "OriginPath": origin_path,
        "CustomHeaders": custom_headers(verify),
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only",
            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
            "OriginReadTimeout": 30,
            "OriginKeepaliveTimeout": 5,
        },
        "ConnectionAttempts": 3,
        "ConnectionTimeout": 10,
        "OriginShield": {"Enabled": False},
    }


def _origin_must(domain: str, origin_path: str, verify: str = "") -> dict[str, Any]:
    """The parts of the API origin this script insists on (others may differ)."""
    must = {
        "Id": API_ORIGIN_ID,
        "DomainName": domain,
        "OriginPath": origin_path,
        "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"},
    }
    if verify:
        must["CustomHeaders"] = custom_headers(verify)
    return must


def origin_verify_of(config: dict[str, Any]) -> str | None:
    """The X-Origin-Verify value the API origin sends (None: no API origin yet)."""
    for origin in (config.get("Origins") or {}).get("Items") or []:
        if origin["Id"] == API_ORIGIN_ID:
            for header in (origin.get("CustomHeaders") or {}).get("Items") or []:
                if header["HeaderName"].lower() == ORIGIN_VERIFY_HEADER.lower():
                    return header["HeaderValue"]
            return ""
    return None


def set_origin_verify(config: dict[str, Any], verify: str) -> dict[str, Any]:
    """A copy of the config whose API origin sends `verify` (the other headers stay)."""
    config = copy.deepcopy(config)
    for origin in config["Origins"]["Items"]:
        if origin["Id"] == API_ORIGIN_ID:
            others = [
                h
                for h in (origin.get("CustomHeaders") or {}).get("Items") or []
                if h["HeaderName"].lower() != ORIGIN_VERIFY_HEADER.lower()
            ]
            items = [*others, {"HeaderName": ORIGIN_VERIFY_HEADER, "HeaderValue": verify}]
            origin["CustomHeaders"] = {"Quantity": len(items), "Items": items}
    return config


def api_behaviour_defaults(pattern: str) -> dict[str, Any]:
    return {
        "PathPattern": pattern,
        "TargetOriginId": API_ORIGIN_ID,
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
        "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "SmoothStreaming": False,
        "Compress": True,
        "LambdaFunctionAssociations": {"Quantity": 0},
        "FunctionAssociations": {"Quantity": 0},
        "FieldLevelEncryptionId": "",
    }


def api_behaviour_must(pattern: str, headers_policy: str | None = None) -> dict[str, Any]:
    must = {
        "PathPattern": pattern,
        "TargetOriginId": API_ORIGIN_ID,
        # HTTPS or nothing: a redirect would first carry a login, a token or a signed
        # waiver over plain HTTP (a POST is not replayed by the redirect anyway).
        # Patrons follow the https links the app prints; the page itself redirects.
        "ViewerProtocolPolicy": "https-only",
        "AllowedMethods": {
            "Quantity": len(ALL_METHODS),
            "Items": list(ALL_METHODS),
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "CachePolicyId": CACHING_DISABLED,
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
    }
    if headers_policy:
        # The waiver page is HTML: it needs the site's frame-ancestors and HSTS too.
        must["ResponseHeadersPolicyId"] = headers_policy
    return must


def _spa_behaviour(pattern: str, default: dict[str, Any]) -> tuple[dict, dict]:
    """A routing-table pattern sent to the SPA: a copy of the default behaviour."""
    base = copy.deepcopy(default)
    base["PathPattern"] = pattern
    return base, {"PathPattern": pattern, "TargetOriginId": default["TargetOriginId"]}


def covers(have: Any, want: Any) -> bool:
    """True when `have` already holds every value in `want` (extra keys are fine).

    Lists of plain values compare as sets: CloudFront may reorder e.g. methods.
    """
    if isinstance(want, dict):
        return isinstance(have, dict) and all(covers(have.get(k), v) for k, v in want.items())
    if isinstance(want, list) and all(isinstance(v, str | int) for v in want):
        return isinstance(have, list) and sorted(map(str, have)) == sorted(map(str, want))
    return have == want


def _overlay(base: dict[str, Any], must: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in must.items():
        out[key] = copy.deepcopy(value)
    return out


def wanted_config(
    current: dict[str, Any], domain: str, origin_path: str, verify: str = ""
) -> tuple[dict[str, Any], list[str], set[str]]:
    """The distribution config with the routing table applied.

    Returns (config, human-readable changes, patterns whose routing changed).
    Everything not managed here is carried over untouched, in its order.
    """
    config = copy.deepcopy(current)
    changes: list[str] = []
    rerouted: set[str] = set()
    api_patterns = [p for p, origin in edge.ROUTES if origin == edge.API]

    # 1. The API origin.
    origins = config.setdefault("Origins", {"Quantity": 0, "Items": []})
    items = origins.get("Items") or []
    found = next((o for o in items if o["Id"] == API_ORIGIN_ID), None)
    if found is None:
        items.append(api_origin(domain, origin_path, verify))
        changes.append(f"+ origin {API_ORIGIN_ID}: https://{domain}{origin_path}")
        rerouted.update(api_patterns)
    elif not covers(found, _origin_must(domain, origin_path, verify)):
        was = f"https://{found.get('DomainName')}{found.get('OriginPath', '')}"
        updated = _overlay(found, _origin_must(domain, origin_path, verify))
        updated["CustomOriginConfig"] = {
            **api_origin(domain, origin_path)["CustomOriginConfig"],
            **(found.get("CustomOriginConfig") or {}),
            "OriginProtocolPolicy": "https-only",
        }
        items[items.index(found)] = updated
        now = f"https://{domain}{origin_path}"
        if was == now:
            changes.append(f"~ origin {API_ORIGIN_ID}: its {ORIGIN_VERIFY_HEADER} header")
        else:
            changes.append(f"~ origin {API_ORIGIN_ID}: {was} -> {now}")
            rerouted.update(api_patterns)
    origins["Items"] = items
    origins["Quantity"] = len(items)

    # 2. Behaviours: the routing table first, in its order, then everything else.
    default = config["DefaultCacheBehavior"]
    headers_policy = default.get("ResponseHeadersPolicyId") or None
    behaviours = config.setdefault("CacheBehaviors", {"Quantity": 0})
    existing = list(behaviours.get("Items") or [])
    table_patterns = [pattern for pattern, _ in edge.ROUTES]
    by_pattern = {b["PathPattern"]: b for b in existing}

    def managed(behaviour: dict[str, Any]) -> bool:
        return (
            behaviour["PathPattern"] in table_patterns
            or behaviour.get("TargetOriginId") == API_ORIGIN_ID
        )

    ours: list[dict[str, Any]] = []
    for pattern, origin in edge.ROUTES:
        if origin == edge.API:
            base = api_behaviour_defaults(pattern)
            must = api_behaviour_must(pattern, headers_policy)
        else:
            base, must = _spa_behaviour(pattern, default)
        have = by_pattern.get(pattern)
        if have is not None and covers(have, must):
            ours.append(have)
            continue
        if have is None:
            built = _overlay(base, must)
            changes.append(f"+ behaviour {pattern} -> {must['TargetOriginId']}")
        else:
            built = _overlay({**base, **have}, must)
            changes.append(f"~ behaviour {pattern} -> {must['TargetOriginId']}")
        if origin == edge.API:
            for key in LEGACY_CACHE_KEYS:
                built.pop(key, None)
        ours.append(built)
        rerouted.add(pattern)

    others = [b for b in existing if not managed(b)]
    for gone in (b for b in existing if managed(b) and b["PathPattern"] not in table_patterns):
        changes.append(f"- behaviour {gone['PathPattern']} (no longer in the routing table)")
        rerouted.add(gone["PathPattern"])

    new_items = ours + others
    old_order = [b["PathPattern"] for b in existing]
    new_order = [b["PathPattern"] for b in new_items]
    if not changes and old_order != new_order:
        changes.append(f"~ behaviour order: {old_order} -> {new_order}")
        rerouted.update(p for p in table_patterns if old_order.index(p) != new_order.index(p))
    behaviours["Items"] = new_items
    behaviours["Quantity"] = len(new_items)
    return config, changes, rerouted


def shadowed(config: dict[str, Any]) -> list[str]:
    """Behaviours that can never match because a routing-table pattern is ahead of them."""
    table_patterns = [pattern for pattern, _ in edge.ROUTES]
    notes = []
    for behaviour in (config.get("CacheBehaviors") or {}).get("Items") or []:
        pattern = behaviour["PathPattern"]
        if pattern in table_patterns:
            continue
        # A pattern's own text (with * as a literal run) is a path it matches.
        sample = pattern.replace("*", "x").replace("?", "x")
        for ours in table_patterns:
            if edge.matches(ours, sample):
                notes.append(f"{pattern} is behind {ours}: paths like {sample} go to {ours}")
                break
    return notes


def invalidation_paths(patterns: set[str]) -> list[str]:
    """CloudFront invalidation paths for behaviour patterns (`*` only at the end)."""
    paths = set()
    for pattern in patterns:
        star = pattern.find("*")
        paths.add(pattern if star < 0 else pattern[: star + 1])
    return sorted(paths)


def config_diff(before: dict[str, Any], after: dict[str, Any], hide: tuple[str, ...] = ()) -> str:
    """A unified diff of two configs; the values in `hide` (secrets) are never printed."""

    def lines(config: dict[str, Any]) -> list[str]:
        text = json.dumps(config, indent=2, sort_keys=True, default=str)
        for value in hide:
            if value:
                text = text.replace(value, "<secret>")
        return text.splitlines()

    return "\n".join(
        difflib.unified_diff(lines(before), lines(after), "current", "wanted", lineterm="")
    )


# --- talking to CloudFront -----------------------------------------------------------


def wait_deployed(
    cloudfront: Any, distribution_id: str, poll_seconds: float, timeout_seconds: float
) -> bool:
    """Poll until the distribution reports Deployed, printing progress; False on timeout."""
    started = time.monotonic()
    while True:
        status = cloudfront.get_distribution(Id=distribution_id)["Distribution"]["Status"]
        elapsed = int(time.monotonic() - started)
        if status == "Deployed":
            awstools.detail(f"deployed ({elapsed // 60}:{elapsed % 60:02d} elapsed)")
            return True
        if elapsed >= timeout_seconds:
            return False
        awstools.detail(f"CloudFront status {status} ({elapsed // 60}:{elapsed % 60:02d} elapsed)")
        time.sleep(poll_seconds)


def origin_verify_secret(secretsmanager: Any, stage: awstools.Stage) -> str:
    """The current origin-verify value of the stage ("" for a stage without one)."""
    secret_id = stage.setting("ORIGIN_VERIFY_SECRET_ID")
    if not secret_id:
        return ""
    try:
        return secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]
    except secretsmanager.exceptions.ResourceNotFoundException:
        raise UserError(
            f"secret {secret_id} does not exist: run `scripts/bootstrap.py --stage {stage.name}`"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Apply the edge routing table (API behaviours) to the stage's CloudFront "
        "distribution.",
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    parser.add_argument("--distribution-id", help="default: the stage's DISTRIBUTION_ID")
    parser.add_argument(
        "--api-url",
        help="the REST API URL (default: rest_api_url in .chalice/deployed/<stage>.json)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the difference only")
    parser.add_argument("--yes", action="store_true", help="do not ask before changing it")
    parser.add_argument(
        "--poll-seconds", type=float, default=20.0, help="how often to check the deployment"
    )
    parser.add_argument(
        "--timeout-minutes", type=float, default=30.0, help="how long to wait for CloudFront"
    )
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    distribution_id = args.distribution_id or stage.distribution_id
    if not distribution_id:
        raise UserError(
            f"stage {stage.name} has no DISTRIBUTION_ID: set it in .chalice/config.json or "
            "pass --distribution-id (docs/deploy.md: create the distribution first)"
        )
    api_url = args.api_url or awstools.deployed_api_url(stage)
    domain, origin_path = api_origin_target(api_url, stage.api_gateway_stage)
    clients = awstools.clients(args)
    cloudfront = clients("cloudfront")
    verify = origin_verify_secret(clients("secretsmanager"), stage)

    awstools.step(f"Reading distribution {distribution_id}")
    try:
        answer = cloudfront.get_distribution_config(Id=distribution_id)
    except Exception as exc:
        if awstools.error_code(exc) == "NoSuchDistribution":
            raise UserError(f"no CloudFront distribution {distribution_id}") from None
        raise
    current, etag = answer["DistributionConfig"], answer["ETag"]
    awstools.detail(f"API origin: https://{domain}{origin_path}")

    wanted, changes, rerouted = wanted_config(current, domain, origin_path, verify)
    for note in shadowed(wanted):
        awstools.detail(f"warning: {note}")
    if not changes:
        awstools.step("No changes: the distribution already follows the routing table")
        return 0

    awstools.step(f"{len(changes)} change(s):")
    for change in changes:
        awstools.detail(change)
    paths = invalidation_paths(rerouted)
    if args.dry_run:
        awstools.say(config_diff(current, wanted, hide=(verify,)))
        awstools.step(
            f"Dry run: nothing changed (would then invalidate {', '.join(paths) or 'nothing'})"
        )
        return 0

    if not awstools.confirm(
        f"Apply {len(changes)} change(s) to {stage.name}'s distribution {distribution_id}?",
        args.yes,
    ):
        awstools.say("Nothing changed.")
        return 1
    awstools.step("Updating the distribution (IfMatch the ETag just read)")
    try:
        cloudfront.update_distribution(Id=distribution_id, IfMatch=etag, DistributionConfig=wanted)
    except Exception as exc:
        if awstools.error_code(exc) == "PreconditionFailed":
            raise UserError(
                "the distribution changed while this ran (its ETag moved): run again"
            ) from None
        raise

    awstools.step("Waiting for CloudFront to deploy the change")
    if not wait_deployed(cloudfront, distribution_id, args.poll_seconds, args.timeout_minutes * 60):
        awstools.say(
            f"error: still deploying after {args.timeout_minutes:g} minutes; it finishes on "
            f"its own. Then invalidate: {', '.join(paths)}",
            sys.stderr,
        )
        return 1

    if not paths:
        awstools.step("Done (no path changed origin: nothing to invalidate)")
        return 0
    # Answers for these paths may be cached from the origin that used to serve them.
    awstools.step(f"Invalidating {', '.join(paths)}")
    invalidation = awstools.invalidate(cloudfront, distribution_id, paths)
    awstools.detail(f"invalidation {invalidation} started")
    awstools.step("Done")
    return 0


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
