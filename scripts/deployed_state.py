#!/usr/bin/env python3
"""What `chalice deploy` made for a stage, kept with the stage in AWS, and the stage's
deploy lock.

Chalice records the functions, roles and API it made in `.chalice/deployed/<stage>.json`
and updates those on the next deploy; without the file it makes new ones. That file
is git-ignored, so on one laptop it would be one lost disk (or one other operator)
away from a second API. deploy.py keeps it in the stage's site bucket instead (private,
versioned; under `_releases/`, which no distribution may read):

- `_releases/deployed/<stage>.json`: read before each `chalice deploy` into the
  checkout, written back after it, also after a failed deploy that wrote one (what it
  made is then tracked, not orphaned). Each write is a new version of the object, with
  the commit, the outcome, who and when in its metadata: the stage's deploy history,
  and what `deploy.py rollback` goes back to;
- `_releases/deployed/<stage>.lock`: made with a conditional put (only if absent), so
  two operators cannot deploy one stage at once; it names its owner, commit and start.
  A deploy that died leaves it behind: `deploy.py --stage S unlock` breaks it (asks).

    scripts/deployed_state.py --stage staging            # the deploy history and the lock
"""

from __future__ import annotations

import argparse
import getpass
import json
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from scripts import awstools
from scripts.awstools import UserError

STATE_PREFIX = awstools.RELEASES_PREFIX + "deployed/"


def state_key(stage: str) -> str:
    return f"{STATE_PREFIX}{stage}.json"


def lock_key(stage: str) -> str:
    return f"{STATE_PREFIX}{stage}.lock"


def local_path(stage: str) -> Path:
    return awstools.DEPLOYED_DIR / f"{stage}.json"


def operator() -> str:
    """Who is deploying, as the lock and the history name them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "someone"
    return f"{user}@{socket.gethostname()}"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def bucket_of(stage: awstools.Stage) -> str:
    if not stage.spa_bucket:
        raise UserError(
            f"stage {stage.name} has no site bucket (SPA_BUCKET): its deployed state lives "
            f"there. Run `scripts/bootstrap.py --stage {stage.name}` first"
        )
    return stage.spa_bucket


# --- the state -------------------------------------------------------------------------


def pull(s3: Any, bucket: str, stage: str) -> str | None:
    """Put the stage's deployed state from S3 into the checkout; its text, or None.

    With none in S3 yet, a local file (a stage deployed before this existed) is kept:
    the next push takes it to S3.
    """
    path = local_path(stage)
    try:
        answer = s3.get_object(Bucket=bucket, Key=state_key(stage))
    except s3.exceptions.NoSuchKey:
        if path.exists():
            awstools.detail(
                f"s3://{bucket}/{state_key(stage)} does not exist yet: this checkout's "
                f"{path.name} is kept and goes there after the deploy"
            )
        else:
            awstools.detail(f"no deployed state for {stage} yet: Chalice makes everything new")
        return None
    text = answer["Body"].read().decode()
    meta = answer.get("Metadata", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() != text:
        awstools.detail(f"this checkout's {path.name} differed from the stage's: replaced")
    path.write_text(text)
    awstools.detail(
        f"deployed state of {stage} from s3://{bucket}/{state_key(stage)} "
        f"(commit {meta.get('commit', '?')[:12]}, {meta.get('outcome', '?')}, "
        f"{meta.get('deployed-at', '?')} by {meta.get('deployed-by', '?')})"
    )
    return text


def push(s3: Any, bucket: str, stage: str, commit: str, outcome: str) -> str | None:
    """Write the checkout's deployed state to S3 as a new version; its version id."""
    path = local_path(stage)
    if not path.exists():
        awstools.detail(f"Chalice wrote no {path.name}: nothing to keep")
        return None
    text = path.read_text()
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON ({exc}): not stored") from None
    answer = s3.put_object(
        Bucket=bucket,
        Key=state_key(stage),
        Body=text.encode(),
        ContentType="application/json",
        Metadata={
            "commit": commit,
            "outcome": outcome,
            "deployed-at": now(),
            "deployed-by": operator(),
        },
    )
    version = answer.get("VersionId") or ""
    awstools.detail(
        f"deployed state of {stage} ({outcome}) kept in s3://{bucket}/{state_key(stage)}"
        + (f", version {version}" if version else "")
    )
    return version


def history(s3: Any, bucket: str, stage: str) -> list[dict[str, Any]]:
    """Each stored version of the stage's state, newest first, with its metadata."""
    found: list[dict[str, Any]] = []
    key = state_key(stage)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for version in page.get("Versions", []):
            if version["Key"] != key:
                continue
            head = s3.head_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
            meta = head.get("Metadata", {})
            found.append(
                {
                    "version": version["VersionId"],
                    "modified": version["LastModified"],
                    "commit": meta.get("commit", ""),
                    "outcome": meta.get("outcome", ""),
                    "deployed_at": meta.get("deployed-at", ""),
                    "deployed_by": meta.get("deployed-by", ""),
                }
            )
    found.sort(key=lambda item: item["modified"], reverse=True)
    return found


def previous_release(entries: list[dict[str, Any]]) -> tuple[str, str]:
    """(current commit, the commit deployed with success before it) from the history."""
    done = [e for e in entries if e["outcome"] == "ok" and e["commit"]]
    if not entries or not done:
        raise UserError("no successful deploy is recorded for this stage: nothing to go back to")
    current = entries[0]["commit"]
    for entry in done:
        if entry["commit"] != current:
            return current, entry["commit"]
    raise UserError(
        f"every recorded deploy of this stage is commit {current[:12]}: nothing older to go "
        "back to (pass --to <commit> for another one)"
    )


# --- the lock ---------------------------------------------------------------------------


def read_lock(s3: Any, bucket: str, stage: str) -> dict[str, Any] | None:
    try:
        answer = s3.get_object(Bucket=bucket, Key=lock_key(stage))
    except s3.exceptions.NoSuchKey:
        return None
    try:
        held = json.loads(answer["Body"].read())
    except json.JSONDecodeError:
        held = {}
    held["etag"] = answer["ETag"]
    return dict(held)


def describe_lock(held: dict[str, Any]) -> str:
    return (
        f"{held.get('owner', 'someone')} since {held.get('started_at', '?')} "
        f"({held.get('action', 'deploy')} of commit {str(held.get('commit', '?'))[:12]})"
    )


def acquire(s3: Any, bucket: str, stage: str, commit: str, action: str = "deploy") -> str:
    """Take the stage's deploy lock; its ETag. A held lock is a UserError naming its owner."""
    body = {"owner": operator(), "started_at": now(), "commit": commit, "action": action}
    try:
        answer = s3.put_object(
            Bucket=bucket,
            Key=lock_key(stage),
            Body=json.dumps(body).encode(),
            ContentType="application/json",
            IfNoneMatch="*",
        )
    except Exception as exc:
        if awstools.error_code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise
        held = read_lock(s3, bucket, stage) or {}
        raise UserError(
            f"stage {stage} is being deployed by {describe_lock(held)}: wait until it ends. "
            f"If that deploy died (its terminal closed, its laptop lost), break the lock "
            f"with `scripts/deploy.py --stage {stage} unlock`"
        ) from None
    awstools.detail(f"deploy lock of {stage} taken (s3://{bucket}/{lock_key(stage)})")
    return str(answer["ETag"])


def release(s3: Any, bucket: str, stage: str, etag: str) -> None:
    """Give the lock back: only the one this run took (a broken and retaken lock stays)."""
    try:
        s3.delete_object(Bucket=bucket, Key=lock_key(stage), IfMatch=etag)
    except Exception as exc:
        if awstools.error_code(exc) not in ("PreconditionFailed", "NoSuchKey", "404"):
            raise
        awstools.detail(f"the deploy lock of {stage} was broken meanwhile: left as it is")
        return
    awstools.detail(f"deploy lock of {stage} given back")


def break_lock(s3: Any, bucket: str, stage: str, assume_yes: bool) -> int:
    held = read_lock(s3, bucket, stage)
    if held is None:
        awstools.step(f"Stage {stage} is not locked: nothing to break")
        return 0
    awstools.step(f"Stage {stage} is locked by {describe_lock(held)}")
    if not awstools.confirm(
        "Break it? Only if that deploy is no longer running (two at once can leave the stage "
        "half one release and half the other)",
        assume_yes,
    ):
        awstools.say("Lock kept.")
        return 1
    s3.delete_object(Bucket=bucket, Key=lock_key(stage), IfMatch=held["etag"])
    awstools.step(f"Lock of {stage} broken")
    return 0


# --- command line ----------------------------------------------------------------------


def show(s3: Any, bucket: str, stage: str) -> int:
    held = read_lock(s3, bucket, stage)
    awstools.step(
        f"Stage {stage}: " + (f"locked by {describe_lock(held)}" if held else "not locked")
    )
    entries = history(s3, bucket, stage)
    if not entries:
        awstools.detail(f"no deployed state in s3://{bucket}/{state_key(stage)} yet")
        return 0
    awstools.say(
        awstools.table(
            ["deployed at", "commit", "outcome", "by", "version"],
            [
                [e["deployed_at"], e["commit"][:12], e["outcome"], e["deployed_by"], e["version"]]
                for e in entries
            ],
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Show a stage's deploy history (its deployed state, kept in the site "
        "bucket) and its deploy lock. Read-only: deploy.py writes them."
    )
    parser.add_argument("--stage", required=True, help="stage in .chalice/config.json")
    awstools.add_aws_args(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    stage = awstools.load_stage(args.stage)
    return show(awstools.clients(args)("s3"), bucket_of(stage), stage.name)


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
