"""Apply the edge routing table (chalicelib/edge.py ROUTES) to a CloudFront distribution.

    python scripts/configure_cloudfront.py --stage prod [--distribution-id ID]
                                           [--api-url URL] [--dry-run]

What it does, in order:
1. reads the distribution's config with its ETag;
2. makes the API origin point at the stage's API Gateway (domain from
   .chalice/deployed/<stage>.json or --api-url; origin path = the Chalice API stage,
   because routes are declared with their public paths: /api/..., /g/...);
3. puts one behaviour per routing-table pattern at the front of the list, so nothing
   else can catch those paths first (the incident: /g/*/waiver fell through to the S3
   dispatch page). API behaviours: HTTPS only, all methods, CachingDisabled,
   AllViewerExceptHostHeader (API Gateway answers 403 when it gets the viewer's Host);
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

from chalicelib import edge
from scripts import awstools
from scripts.awstools import UserError

API_ORIGIN_ID = "shipcaptaincrew-api"
# AWS managed policies (the same ids in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
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


def api_origin(domain: str, origin_path: str) -> dict[str, Any]:
    return {
        "Id": API_ORIGIN_ID,
        "DomainName": domain,
        "OriginPath": origin_path,
        "CustomHeaders": {"Quantity": 0},
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


def _origin_must(domain: str, origin_path: str) -> dict[str, Any]:
    """The parts of the API origin this script insists on (others may differ)."""
    return {
        "Id": API_ORIGIN_ID,
        "DomainName": domain,
        "OriginPath": origin_path,
        "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"},
    }


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


def api_behaviour_must(pattern: str) -> dict[str, Any]:
    return {
        "PathPattern": pattern,
        "TargetOriginId": API_ORIGIN_ID,
        # Patrons follow https links; a redirect keeps a typed http:// address working.
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {
            "Quantity": len(ALL_METHODS),
            "Items": list(ALL_METHODS),
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "CachePolicyId": CACHING_DISABLED,
        "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
    }


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
    current: dict[str, Any], domain: str, origin_path: str
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
        items.append(api_origin(domain, origin_path))
        changes.append(f"+ origin {API_ORIGIN_ID}: https://{domain}{origin_path}")
        rerouted.update(api_patterns)
    elif not covers(found, _origin_must(domain, origin_path)):
        was = f"https://{found.get('DomainName')}{found.get('OriginPath', '')}"
        updated = _overlay(found, _origin_must(domain, origin_path))
        updated["CustomOriginConfig"] = {
            **api_origin(domain, origin_path)["CustomOriginConfig"],
            **(found.get("CustomOriginConfig") or {}),
            "OriginProtocolPolicy": "https-only",
        }
        items[items.index(found)] = updated
        changes.append(f"~ origin {API_ORIGIN_ID}: {was} -> https://{domain}{origin_path}")
        rerouted.update(api_patterns)
    origins["Items"] = items
    origins["Quantity"] = len(items)

    # 2. Behaviours: the routing table first, in its order, then everything else.
    default = config["DefaultCacheBehavior"]
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
            base, must = api_behaviour_defaults(pattern), api_behaviour_must(pattern)
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


def config_diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    def lines(config: dict[str, Any]) -> list[str]:
        return json.dumps(config, indent=2, sort_keys=True, default=str).splitlines()

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
    cloudfront = awstools.clients(args)("cloudfront")

    awstools.step(f"Reading distribution {distribution_id}")
    try:
        answer = cloudfront.get_distribution_config(Id=distribution_id)
    except Exception as exc:
        if awstools.error_code(exc) == "NoSuchDistribution":
            raise UserError(f"no CloudFront distribution {distribution_id}") from None
        raise
    current, etag = answer["DistributionConfig"], answer["ETag"]
    awstools.detail(f"API origin: https://{domain}{origin_path}")

    wanted, changes, rerouted = wanted_config(current, domain, origin_path)
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
        awstools.say(config_diff(current, wanted))
        awstools.step(f"Dry run: nothing changed (would then invalidate {', '.join(paths)})")
        return 0

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
