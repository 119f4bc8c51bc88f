#!/usr/bin/env python3
"""Keep the dispatch page (spa/) in step with S3, where the live copy is the truth.

    python scripts/sync_spa.py [--stage prod] pull   [--slot prod|staging] [--force]
    python scripts/sync_spa.py [--stage prod] status
    python scripts/sync_spa.py [--stage prod] push   --slot staging|prod [--force] [--yes] [--dry-run]
    python scripts/sync_spa.py [--stage prod] promote [--yes] [--dry-run]
    python scripts/sync_spa.py [--stage prod] rollback [--yes] [--dry-run]
    python scripts/sync_spa.py stamp

`stamp` writes what the page derives from its own files: the service worker's
VERSION and list of files (spa/sw.js), and the module list of index.html's first
script with that script's hash in the Content-Security-Policy. `push` refuses a
stale stamp: phones would keep the old page, or the CSP would block its first script.

The prod page lives at the root of the stage's SPA_BUCKET, the staging page under
`_staging/`. `pull` records the ETag of every object it downloaded in
spa/.sync-state.json (git-ignored); `push` refuses to overwrite a slot that changed
in S3 since then (the incident: a stale local copy replaced a newer page), naming the
files, unless --force. `config.js` holds a slot's own settings: push creates it when
the slot has none and otherwise leaves it alone unless --config; promote copies it only
to a prod that has none yet. After a change, the changed paths are invalidated on the slot's distribution
(the DISTRIBUTION_ID of the stage serving that slot, or --distribution-id).

Prod gets the page that was tested in staging, byte for byte. A push to staging records
the release (this checkout's commit and the slot's ETags) in `_releases/staging.json`;
deploy.py marks it tested once staging's smoke checks pass; `promote` refuses a staging
page that was never tested, changed since, or comes from another commit than this
checkout. `push --slot prod` is for emergencies only (it asks, and says so).

Before either changes prod, the prod page's object versions are recorded in
`_releases/prod-previous.json`; `rollback` copies those versions back (the bucket is
versioned) and invalidates what it put back. A second rollback rolls forward again.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import mimetypes
import posixpath
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from scripts import awstools
from scripts.awstools import UserError

STATE_NAME = ".sync-state.json"
SLOTS = ("prod", "staging")
# The files a browser must revalidate every time: they name everything else. The
# service worker is checked for a new version on every load, and holds the rest.
NO_CACHE = {"index.html", "config.js", "sw.js"}
SHORT_CACHE = "public, max-age=300"
# Per-slot settings (which API, which zone): never carried from one slot to another.
SLOT_FILES = {"config.js"}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
# Past this many paths one wildcard is cheaper than naming each (first 1000 paths/month free).
MAX_NAMED_PATHS = 15


# --- local and remote listings -------------------------------------------------------


def md5_hex(data: bytes) -> str:
    # S3's ETag of a single-part upload is the MD5 of the body: a comparison, not security.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def local_files(spa_dir: Path) -> dict[str, str]:
    """{relative path: md5} of the dispatch page's files (dotfiles and the state file skipped)."""
    if not spa_dir.is_dir():
        raise UserError(f"{spa_dir} is not a directory")
    found = {}
    for path in sorted(spa_dir.rglob("*")):
        rel = path.relative_to(spa_dir).as_posix()
        if path.is_file() and not any(part.startswith(".") for part in rel.split("/")):
            found[rel] = md5_hex(path.read_bytes())
    return found


def remote_files(s3: Any, bucket: str, slot: str) -> dict[str, str]:
    """{relative path: ETag without quotes} of the slot's objects."""
    prefix = awstools.SLOT_PREFIXES[slot]
    found = {}
    paginator = s3.get_paginator("list_objects_v2")
    try:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                rel = key[len(prefix) :]
                # The prod slot is the bucket root: the staging slot and the release
                # record are not part of it.
                if (
                    not rel
                    or key.endswith("/")
                    or (
                        slot == "prod"
                        and key.startswith((awstools.STAGING_PREFIX, awstools.RELEASES_PREFIX))
                    )
                ):
                    continue
                found[rel] = obj["ETag"].strip('"')
    except Exception as exc:
        if awstools.error_code(exc) == "NoSuchBucket":
            raise UserError(f"bucket {bucket} does not exist (docs/deploy.md: create it)") from None
        raise
    return found


def content_type(rel: str) -> str:
    suffix = Path(rel).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(rel)[0] or "application/octet-stream"


def cache_control(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    # No build step means no content hashes in file names, so even assets stay short-lived.
    return "no-cache" if name in NO_CACHE or name.endswith(".html") else SHORT_CACHE


# --- the page's stamp (service worker version, first script) -------------------------

WORKER = "sw.js"
# Per slot, so outside the version: a slot's own config.js reaches phones with the next page.
UNVERSIONED = SLOT_FILES | {WORKER}
_BOOT = re.compile(r"(<script>)(.*?)(</script>)", re.S)
_MODULES = re.compile(r"const MODULES = \[[^\]]*\];")
_CSP_HASH = re.compile(r"script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')?")
_VERSION = re.compile(r'const VERSION = "[^"]*";')
_SHELL = re.compile(r"const SHELL = \[[^\]]*\];")


ENTRY = "app.js"
_IMPORT = re.compile(r'^(?:import|export)\s[^;]*?\sfrom\s+"\./([^"]+)"', re.M)


def static_imports(spa_dir: Path, entry: str) -> list[str]:
    """`entry` and every module it imports statically, at any depth: what the page needs
    before it can run (modules loaded with import() come later, and are not listed)."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        rel = todo.pop()
        if rel not in seen:
            seen.add(rel)
            todo.extend(_IMPORT.findall((spa_dir / rel).read_text()))
    return sorted(seen)


def _js_list(names: list[str]) -> str:
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


def stamped(spa_dir: Path) -> dict[str, str]:
    """{file: text} of index.html and sw.js as `stamp` would write them (others unchanged)."""
    files = local_files(spa_dir)
    shell = sorted(rel for rel in files if rel != WORKER)
    modules = static_imports(spa_dir, ENTRY) if (spa_dir / ENTRY).is_file() else []
    page = (spa_dir / "index.html").read_text()
    boot = _BOOT.search(page)
    if boot:
        script = _MODULES.sub(f"const MODULES = {_js_list(modules)};", boot.group(2))
        page = page[: boot.start(2)] + script + page[boot.end(2) :]
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        page = _CSP_HASH.sub(f"script-src 'self' 'sha256-{digest}'", page, count=1)
    version = hashlib.sha256()
    for rel in shell:
        if rel not in UNVERSIONED:
            body = page.encode() if rel == "index.html" else (spa_dir / rel).read_bytes()
            version.update(rel.encode() + b"\0" + body + b"\0")
    worker = (spa_dir / WORKER).read_text()
    worker = _VERSION.sub(f'const VERSION = "{version.hexdigest()[:12]}";', worker)
    worker = _SHELL.sub(f"const SHELL = {_js_list(shell)};", worker)
    return {"index.html": page, WORKER: worker}


def stale_stamp(spa_dir: Path) -> list[str]:
    """The files `stamp` would change; none when the page has no service worker."""
    if not (spa_dir / WORKER).is_file():
        return []
    return [rel for rel, text in stamped(spa_dir).items() if (spa_dir / rel).read_text() != text]


def cmd_stamp(args: argparse.Namespace, spa_dir: Path) -> int:
    stale = stale_stamp(spa_dir)
    for rel, text in stamped(spa_dir).items():
        if rel in stale:
            (spa_dir / rel).write_text(text)
            awstools.detail(f"stamped {rel}")
    awstools.step(f"Stamped {len(stale)} file(s)" if stale else "The stamp is up to date")
    return 0


# --- the state file ------------------------------------------------------------------


@dataclass
class State:
    """What this checkout last saw of each slot: {bucket: {slot: {file: {etag, md5}}}}."""

    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> State:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            data = {}
        except json.JSONDecodeError:
            raise UserError(f"{path} is damaged: delete it and pull again") from None
        data.setdefault("version", 1)
        data.setdefault("buckets", {})
        return cls(path, data)

    def slot(self, bucket: str, slot: str) -> dict[str, dict[str, str]] | None:
        """The slot's files as last pulled or pushed, or None if never."""
        entry = self.data["buckets"].get(bucket, {}).get(slot)
        return None if entry is None else entry["files"]

    def record(self, bucket: str, slot: str, files: dict[str, dict[str, str]]) -> None:
        self.data["buckets"].setdefault(bucket, {})[slot] = {
            "files": files,
            "synced_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.path.write_text(json.dumps(self.data, indent=2, sort_keys=True) + "\n")


def remote_changes(
    remote: dict[str, str], seen: dict[str, dict[str, str]] | None
) -> list[tuple[str, str]]:
    """Files whose S3 copy differs from what was last pulled or pushed: (file, how)."""
    seen = seen or {}
    changed = []
    for rel in sorted(set(remote) | set(seen)):
        was = seen.get(rel, {}).get("etag")
        now = remote.get(rel)
        if was == now:
            continue
        how = "added in S3" if was is None else "deleted in S3" if now is None else "changed in S3"
        changed.append((rel, how))
    return changed


# --- CloudFront -----------------------------------------------------------------------


def viewer_paths(cloudfront: Any, distribution_id: str, keys: list[str]) -> list[str]:
    """The viewer paths at which the distribution serves these S3 keys.

    A distribution can serve a slot through an origin path (a staging distribution
    whose S3 origin path is /_staging): its viewers see keys without that prefix.
    """
    config = cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]
    target = config["DefaultCacheBehavior"]["TargetOriginId"]
    origin = next(o for o in config["Origins"]["Items"] if o["Id"] == target)
    prefix = (origin.get("OriginPath") or "").strip("/")
    prefix = f"{prefix}/" if prefix else ""
    paths: set[str] = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        path = "/" + key[len(prefix) :]
        paths.add(path)
        if path.endswith("/index.html"):
            paths.add(path[: -len("index.html")])  # the directory URL serves it too
    if len(paths) > MAX_NAMED_PATHS:
        paths = {posixpath.commonpath(sorted(paths)).rstrip("/") + "/*"}
    return sorted(paths)


def invalidate_slot(ctx: Context, slot: str, keys: list[str]) -> None:
    distribution_id = ctx.distribution_for(slot)
    if not distribution_id:
        awstools.detail(f"no distribution serves the {slot} slot: nothing to invalidate")
        return
    cloudfront = ctx.client("cloudfront")
    paths = viewer_paths(cloudfront, distribution_id, keys)
    if not paths:
        awstools.detail(f"distribution {distribution_id} does not serve these files")
        return
    awstools.step(f"Invalidating {', '.join(paths)} on {distribution_id}")
    invalidation = awstools.invalidate(cloudfront, distribution_id, paths)
    awstools.detail(f"invalidation {invalidation} started")


# --- the staging release record ------------------------------------------------------

RELEASE_KEY = awstools.RELEASES_PREFIX + "staging.json"


def read_release(s3: Any, bucket: str) -> dict[str, Any] | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=RELEASE_KEY)["Body"].read()
    except Exception as exc:
        if awstools.error_code(exc) in ("NoSuchKey", "404"):
            return None
        raise
    return json.loads(body)


def _write_release(s3: Any, bucket: str, release: dict[str, Any]) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=RELEASE_KEY,
        Body=json.dumps(release, indent=2, sort_keys=True).encode(),
        ContentType="application/json",
        CacheControl="no-store",
    )


def record_release(s3: Any, bucket: str, commit: str) -> dict[str, Any]:
    """What staging holds now, from which commit; untested until deploy's checks pass."""
    files = remote_files(s3, bucket, "staging")
    release = read_release(s3, bucket)
    if release and release.get("commit") == commit and release.get("files") == files:
        return release  # the same page from the same commit keeps its test result
    release = {
        "commit": commit,
        "files": files,
        "pushed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tested_at": None,
    }
    _write_release(s3, bucket, release)
    awstools.detail(f"recorded the staging release: commit {commit[:12]}, untested")
    return release


def mark_tested(s3: Any, bucket: str, commit: str) -> dict[str, Any]:
    """Staging passed its checks: the page it holds may now be promoted."""
    release = read_release(s3, bucket)
    files = remote_files(s3, bucket, "staging")
    if release is None or release.get("commit") != commit or release.get("files") != files:
        raise UserError("staging changed while it was being checked: deploy staging again")
    release["tested_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    _write_release(s3, bucket, release)
    awstools.detail(f"staging release {commit[:12]} marked tested")
    return release


def check_promotable(s3: Any, bucket: str, commit: str) -> dict[str, Any]:
    """The staging release, if prod may have it; else a UserError saying why not."""
    release = read_release(s3, bucket)
    again = "run `scripts/deploy.py --stage staging` from this checkout first"
    if release is None:
        raise UserError(f"staging has no recorded release: {again}")
    if commit.endswith("-dirty") or str(release.get("commit", "")).endswith("-dirty"):
        raise UserError(
            "prod gets only committed, tested pages: commit your changes, then deploy "
            "staging from that commit"
        )
    if release.get("commit") != commit and not awstools.same_release(
        str(release.get("commit", "")), commit
    ):
        raise UserError(
            f"staging holds commit {str(release.get('commit'))[:12]}, this checkout is at "
            f"{commit[:12]}: prod gets only what staging tested; {again}"
        )
    if release.get("commit") != commit:
        awstools.detail(
            f"this checkout ({commit[:12]}) differs from staging's ({str(release['commit'])[:12]}) "
            "only in settings read from AWS (distribution id, stream ARN): the same release"
        )
    if not release.get("tested_at"):
        raise UserError(
            f"the staging page pushed at {release.get('pushed_at')} never passed its checks: {again}"
        )
    moved = remote_changes(
        remote_files(s3, bucket, "staging"),
        {rel: {"etag": etag} for rel, etag in release["files"].items()},
    )
    if moved:
        raise UserError(
            "staging changed since it was tested ("
            + ", ".join(f"{rel} {how}" for rel, how in moved)
            + f"): {again}"
        )
    return release


# --- the prod page before its last change, for `rollback` ---------------------------

PREVIOUS_KEY = awstools.RELEASES_PREFIX + "prod-previous.json"


def slot_versions(s3: Any, bucket: str, slot: str) -> dict[str, str]:
    """{relative path: S3 version id} of the slot's current objects (the bucket is
    versioned by bootstrap: every earlier version stays restorable)."""
    prefix = awstools.SLOT_PREFIXES[slot]
    wanted = set(remote_files(s3, bucket, slot))
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            rel = version["Key"][len(prefix) :]
            if version.get("IsLatest") and rel in wanted:
                found[rel] = version["VersionId"]
    return {rel: version for rel, version in found.items() if version != "null"}


def remember_prod(s3: Any, bucket: str) -> None:
    """Before prod's page changes: record it, so `rollback` can put it back."""
    files = slot_versions(s3, bucket, "prod")
    unversioned = sorted(set(remote_files(s3, bucket, "prod")) - set(files))
    if unversioned:
        awstools.say(
            f"warning: bucket {bucket} keeps no versions of {', '.join(unversioned[:3])}: "
            "this release cannot be rolled back (scripts/bootstrap.py turns versioning on)"
        )
        return
    if not files:
        return  # the first release: nothing to go back to
    s3.put_object(
        Bucket=bucket,
        Key=PREVIOUS_KEY,
        Body=json.dumps(
            {"saved_at": datetime.now(UTC).isoformat(timespec="seconds"), "files": files},
            indent=2,
            sort_keys=True,
        ).encode(),
        ContentType="application/json",
        CacheControl="no-store",
    )
    awstools.detail(f"recorded prod's page as it was ({len(files)} files) for a rollback")


def cmd_rollback(args: argparse.Namespace, ctx: Context) -> int:
    """Put back the prod page as it was before its last promote (or push to prod)."""
    s3 = ctx.client("s3")
    try:
        saved = json.loads(s3.get_object(Bucket=ctx.bucket, Key=PREVIOUS_KEY)["Body"].read())
    except Exception as exc:
        if awstools.error_code(exc) in ("NoSuchKey", "404"):
            raise UserError(
                f"s3://{ctx.bucket}/{PREVIOUS_KEY} is missing: prod's page has not changed "
                "since it was first released, so there is nothing to roll back to"
            ) from None
        raise
    now = slot_versions(s3, ctx.bucket, "prod")
    todo = sorted(rel for rel, version in saved["files"].items() if now.get(rel) != version)
    awstools.step(f"Roll {ctx.url('prod')} back to the page of {saved['saved_at']}")
    for rel in sorted(set(now) - set(saved["files"])):
        awstools.detail(f"{rel} is newer than that page (left in place: nothing names it)")
    if not todo:
        awstools.step("Nothing to roll back: prod already holds that page")
        return 0
    for rel in todo:
        awstools.detail(f"back: {rel}")
    if args.dry_run:
        awstools.step(f"Dry run: would put back {len(todo)} file(s)")
        return 0
    if not awstools.confirm(f"Put back {len(todo)} file(s) of the PROD page?", args.yes):
        awstools.say("Nothing rolled back.")
        return 1
    remember_prod(s3, ctx.bucket)  # a second rollback rolls forward again
    for rel in todo:
        # COPY keeps the Content-Type and Cache-Control the old version was stored with.
        s3.copy_object(
            Bucket=ctx.bucket,
            Key=rel,
            CopySource={"Bucket": ctx.bucket, "Key": rel, "VersionId": saved["files"][rel]},
            MetadataDirective="COPY",
        )
        awstools.detail(f"put back {rel}")
    invalidate_slot(ctx, "prod", todo)
    awstools.step("Rolled back: phones take the old page on their next load (its sw.js differs)")
    return 0


# --- the operator's zone in a slot's config.js ---------------------------------------

ZONE_LINE = re.compile(r'(export const OPERATOR_TZ\s*=\s*)"([^"]*)"')


def config_zone(text: str) -> str | None:
    found = ZONE_LINE.search(text)
    return found.group(2) if found else None


def zone_fix(s3: Any, bucket: str, slot: str, zone: str | None) -> tuple[str, bytes] | None:
    """(the zone it has, the slot's config.js with OPERATOR_TZ = `zone`), keeping the
    slot's other settings; None when it already has that zone (or there is no file).

    config.js is a slot's own file, never overwritten by a push or a promote; but the
    operator's zone is every stage's (deploy/<stage>.toml `operator_tz`, written into
    spa/config.js by stage_settings.py), so it must reach each slot's copy."""
    if not zone:
        return None
    key = awstools.SLOT_PREFIXES[slot] + "config.js"
    try:
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except Exception as exc:
        if awstools.error_code(exc) in ("NoSuchKey", "404"):
            return None
        raise
    have = config_zone(text)
    if have is None or have == zone:
        return None
    return have, ZONE_LINE.sub(lambda m: f'{m.group(1)}"{zone}"', text, count=1).encode("utf-8")


def put_config(s3: Any, bucket: str, slot: str, body: bytes) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=awstools.SLOT_PREFIXES[slot] + "config.js",
        Body=body,
        ContentType=content_type("config.js"),
        CacheControl=cache_control("config.js"),
    )


def local_zone(spa_dir: Path) -> str | None:
    path = spa_dir / "config.js"
    return config_zone(path.read_text(encoding="utf-8")) if path.is_file() else None


# --- commands --------------------------------------------------------------------------


@dataclass
class Context:
    bucket: str
    spa_dir: Path
    state: State
    client: Any
    stage: awstools.Stage
    distribution_override: str | None

    def distribution_for(self, slot: str) -> str:
        if self.distribution_override:
            return self.distribution_override
        serving = awstools.stage_for_slot(self.bucket, slot)
        if serving is not None:
            return serving.distribution_id
        return self.stage.distribution_id if self.stage.spa_slot == slot else ""

    def url(self, slot: str) -> str:
        return f"s3://{self.bucket}/{awstools.SLOT_PREFIXES[slot]}"


def cmd_pull(args: argparse.Namespace, ctx: Context) -> int:
    slot = args.slot or "prod"
    s3 = ctx.client("s3")
    awstools.step(f"Listing {ctx.url(slot)}")
    remote = remote_files(s3, ctx.bucket, slot)
    if not remote:
        raise UserError(f"{ctx.url(slot)} is empty: nothing to pull")
    local = local_files(ctx.spa_dir) if ctx.spa_dir.exists() else {}
    seen = ctx.state.slot(ctx.bucket, slot) or {}
    # A local file that differs from S3 and from what was last synced is an edit not pushed.
    edited = sorted(
        rel
        for rel, md5 in local.items()
        if rel in remote and md5 != remote[rel] and md5 != seen.get(rel, {}).get("md5")
    )
    if edited and not args.force:
        raise UserError(
            f"pull would overwrite local edits in {ctx.spa_dir.name}/: {', '.join(edited)}. "
            "Push them, move them aside, or pull with --force"
        )
    todo = sorted(rel for rel, etag in remote.items() if local.get(rel) != etag)
    for rel in todo:
        target = ctx.spa_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        body = s3.get_object(Bucket=ctx.bucket, Key=awstools.SLOT_PREFIXES[slot] + rel)["Body"]
        target.write_bytes(body.read())
        awstools.detail(f"pulled {rel}")
    for rel in sorted(set(local) - set(remote)):
        awstools.detail(f"{rel} is only local (left alone)")
    ctx.state.record(
        ctx.bucket,
        slot,
        {
            rel: {"etag": etag, "md5": md5_hex((ctx.spa_dir / rel).read_bytes())}
            for rel, etag in remote.items()
        },
    )
    awstools.step(f"Pulled {len(todo)} file(s); {len(remote) - len(todo)} already the same")
    return 0


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    s3 = ctx.client("s3")
    local = local_files(ctx.spa_dir)
    remote = {slot: remote_files(s3, ctx.bucket, slot) for slot in SLOTS}
    rows = []
    for rel in sorted(set(local) | set(remote["prod"]) | set(remote["staging"])):
        row = [rel]
        for slot in ("staging", "prod"):
            there = remote[slot].get(rel)
            if rel not in local:
                row.append("only in S3" if there else "-")
            elif there is None:
                row.append("missing")
            else:
                row.append("same" if there == local[rel] else "changed")
        rows.append(row)
    awstools.say(f"local {ctx.spa_dir} vs s3://{ctx.bucket}")
    awstools.say(awstools.table(["file", "staging", "prod"], rows))
    for slot in SLOTS:
        moved = remote_changes(remote[slot], ctx.state.slot(ctx.bucket, slot))
        if ctx.state.slot(ctx.bucket, slot) is None:
            awstools.say(f"{slot}: never pulled or pushed from this checkout")
        elif moved:
            awstools.say(
                f"{slot}: changed in S3 since your last sync: " + ", ".join(f for f, _ in moved)
            )
    return 0


def cmd_push(args: argparse.Namespace, ctx: Context) -> int:
    slot = args.slot
    stale = stale_stamp(ctx.spa_dir)
    if stale:
        raise UserError(
            f"the page's stamp is stale ({', '.join(stale)}): run `scripts/sync_spa.py stamp`, "
            "commit, then push"
        )
    s3 = ctx.client("s3")
    prefix = awstools.SLOT_PREFIXES[slot]
    local = local_files(ctx.spa_dir)
    if "index.html" not in local:
        raise UserError(f"{ctx.spa_dir}/index.html is missing: is --spa-dir right?")
    awstools.step(f"Comparing {ctx.spa_dir} with {ctx.url(slot)}")
    remote = remote_files(s3, ctx.bucket, slot)
    seen = ctx.state.slot(ctx.bucket, slot)
    moved = remote_changes(remote, seen)
    if moved and not args.force:
        names = ", ".join(f"{rel} ({how})" for rel, how in moved)
        hint = "you never pulled it" if seen is None else "since your last pull"
        raise UserError(
            f"refusing to push: {ctx.url(slot)} has changes {hint}: {names}. "
            f"Run `scripts/sync_spa.py pull --slot {slot}`, redo your edits, then push "
            "(or push --force to overwrite them)"
        )
    todo = []
    kept = []
    for rel, md5 in local.items():
        if remote.get(rel) == md5:
            continue
        if rel in SLOT_FILES and rel in remote and not args.config:
            kept.append(rel)
            continue
        todo.append(rel)
    for rel in kept:
        awstools.detail(f"{rel} differs but holds the slot's own settings: kept (--config to push)")
    for rel in sorted(set(remote) - set(local)):
        awstools.detail(f"{rel} is only in S3 (left in place)")
    bodies: dict[str, bytes] = {}
    fixed = zone_fix(s3, ctx.bucket, slot, local_zone(ctx.spa_dir)) if kept else None
    if fixed:
        awstools.detail(
            f"config.js: OPERATOR_TZ {fixed[0]} -> {local_zone(ctx.spa_dir)} (the operator's "
            "zone; the slot's other settings kept)"
        )
        bodies["config.js"] = fixed[1]
        todo.append("config.js")
    if not todo:
        awstools.step(f"Nothing to push: {ctx.url(slot)} already matches {ctx.spa_dir.name}/")
        if not args.dry_run:
            _record_synced(ctx, slot, remote, local)
            if slot == "staging":
                record_release(s3, ctx.bucket, awstools.local_commit())
        return 0
    for rel in todo:
        awstools.detail(
            f"{'new' if rel not in remote else 'changed'}: {rel}  ({content_type(rel)}; {cache_control(rel)})"
        )
    if args.dry_run:
        awstools.step(f"Dry run: would upload {len(todo)} file(s) to {ctx.url(slot)}")
        return 0
    if slot == "prod" and ctx.stage.name != "dev":
        awstools.say(
            "warning: prod normally gets staging's tested page with `promote`; pushing this "
            "folder straight to prod skips staging (an emergency path)"
        )
    where = "the PROD dispatch page" if slot == "prod" else f"the {slot} dispatch page"
    if not awstools.confirm(f"Upload {len(todo)} file(s) to {where} ({ctx.url(slot)})?", args.yes):
        awstools.say("Nothing pushed.")
        return 1
    if slot == "prod":
        remember_prod(s3, ctx.bucket)
    awstools.step(f"Uploading {len(todo)} file(s) to {ctx.url(slot)}")
    for rel in todo:
        s3.put_object(
            Bucket=ctx.bucket,
            Key=prefix + rel,
            Body=bodies.get(rel) or (ctx.spa_dir / rel).read_bytes(),
            ContentType=content_type(rel),
            CacheControl=cache_control(rel),
        )
        awstools.detail(f"uploaded {rel}")
    _record_synced(ctx, slot, remote_files(s3, ctx.bucket, slot), local)
    if slot == "staging":
        record_release(s3, ctx.bucket, awstools.local_commit())
    invalidate_slot(ctx, slot, [prefix + rel for rel in todo])
    awstools.step("Done")
    return 0


def _record_synced(ctx: Context, slot: str, remote: dict[str, str], local: dict[str, str]) -> None:
    """After a push the slot is known: remember it so the next push is not refused."""
    ctx.state.record(
        ctx.bucket,
        slot,
        {rel: {"etag": etag, "md5": local.get(rel, "")} for rel, etag in remote.items()},
    )


def cmd_promote(args: argparse.Namespace, ctx: Context) -> int:
    s3 = ctx.client("s3")
    awstools.step(f"Comparing {ctx.url('staging')} with {ctx.url('prod')}")
    staging = remote_files(s3, ctx.bucket, "staging")
    if "index.html" not in staging:
        raise UserError(f"{ctx.url('staging')} has no index.html: push to staging first")
    release = check_promotable(s3, ctx.bucket, awstools.local_commit())
    awstools.detail(
        f"staging release: commit {release['commit'][:12]}, tested {release['tested_at']}"
    )
    prod = remote_files(s3, ctx.bucket, "prod")
    # A slot's own settings file is carried over only to a prod that has none yet (the
    # first promote): without it the page would not start.
    todo = sorted(
        rel
        for rel, etag in staging.items()
        if prod.get(rel) != etag and (rel not in SLOT_FILES or rel not in prod)
    )
    for rel in sorted(SLOT_FILES & set(staging)):
        if rel in prod:
            awstools.detail(f"{rel} holds each slot's own settings: not promoted")
        else:
            awstools.detail(f"{rel}: prod has none yet, so staging's starts it")
    fixed = (
        zone_fix(s3, ctx.bucket, "prod", local_zone(ctx.spa_dir)) if "config.js" in prod else None
    )
    if fixed:
        awstools.detail(
            f"config.js: OPERATOR_TZ {fixed[0]} -> {local_zone(ctx.spa_dir)} (the operator's "
            "zone; prod's other settings kept)"
        )
    if not todo and not fixed:
        awstools.step("Nothing to promote: prod already matches staging")
        return 0
    for rel in todo:
        awstools.detail(f"{'new' if rel not in prod else 'changed'}: {rel}")
    if args.dry_run:
        awstools.step(f"Dry run: would copy {len(todo)} file(s) from staging to prod")
        return 0
    if not awstools.confirm(
        f"Copy {len(todo)} file(s) from staging to PROD"
        + (" and set its config.js's zone" if fixed else "")
        + "?",
        args.yes,
    ):
        awstools.say("Nothing promoted.")
        return 1
    remember_prod(s3, ctx.bucket)
    awstools.step(f"Copying {len(todo)} file(s) to {ctx.url('prod')}")
    for rel in todo:
        # COPY keeps the Content-Type and Cache-Control set when staging was pushed.
        s3.copy_object(
            Bucket=ctx.bucket,
            Key=rel,
            CopySource={"Bucket": ctx.bucket, "Key": awstools.STAGING_PREFIX + rel},
            MetadataDirective="COPY",
        )
        awstools.detail(f"copied {rel}")
    if fixed:
        put_config(s3, ctx.bucket, "prod", fixed[1])
        todo.append("config.js")
        awstools.detail("updated config.js's OPERATOR_TZ")
    # Prod now holds what this checkout knew of staging: carry that knowledge over.
    known = ctx.state.slot(ctx.bucket, "staging") or {}
    prod_seen = dict(ctx.state.slot(ctx.bucket, "prod") or {})
    for rel, etag in remote_files(s3, ctx.bucket, "prod").items():
        if rel in todo:
            prod_seen[rel] = {"etag": etag, "md5": known.get(rel, {}).get("md5", "")}
    ctx.state.record(ctx.bucket, "prod", prod_seen)
    invalidate_slot(ctx, "prod", todo)
    awstools.step("Done")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Sync the dispatch page (spa/) with S3: pull, status, push, promote, rollback."
    )
    parser.add_argument(
        "--stage", default="prod", help="stage whose SPA_BUCKET to use (default: prod)"
    )
    parser.add_argument("--bucket", help="default: the stage's SPA_BUCKET")
    parser.add_argument(
        "--distribution-id", help="default: the DISTRIBUTION_ID of the stage serving the slot"
    )
    parser.add_argument("--spa-dir", type=Path, default=awstools.SPA_DIR, help="default: spa/")
    parser.add_argument("--state-file", type=Path, help=f"default: <spa-dir>/{STATE_NAME}")
    awstools.add_aws_args(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    pull = commands.add_parser("pull", help="download a slot into spa/ and remember its ETags")
    pull.add_argument("--slot", choices=SLOTS, default="prod")
    pull.add_argument("--force", action="store_true", help="overwrite local edits")

    commands.add_parser("status", help="per file: local vs staging vs prod")

    push = commands.add_parser("push", help="upload what changed to a slot")
    push.add_argument("--slot", choices=SLOTS, required=True)
    push.add_argument("--force", action="store_true", help="overwrite changes made in S3")
    push.add_argument("--config", action="store_true", help="also push a changed config.js")
    push.add_argument("--yes", action="store_true", help="do not ask before pushing to prod")
    push.add_argument("--dry-run", action="store_true", help="show what would be uploaded")

    commands.add_parser(
        "stamp", help="write the service worker's version and index.html's first script (local)"
    )

    promote = commands.add_parser("promote", help="copy staging to prod inside S3")
    promote.add_argument("--yes", action="store_true", help="do not ask")
    promote.add_argument("--dry-run", action="store_true", help="show what would be copied")

    rollback = commands.add_parser(
        "rollback", help="put back the prod page as it was before its last promote or push"
    )
    rollback.add_argument("--yes", action="store_true", help="do not ask")
    rollback.add_argument("--dry-run", action="store_true", help="show what would be put back")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.command == "stamp":  # local files only: no stage, bucket or AWS
        return cmd_stamp(args, args.spa_dir.resolve())
    stage = awstools.load_stage(args.stage)
    bucket = args.bucket or stage.spa_bucket
    if not bucket:
        raise UserError(f"stage {stage.name} has no SPA_BUCKET: pass --bucket")
    spa_dir = args.spa_dir.resolve()
    state = State.load(args.state_file or spa_dir / STATE_NAME)
    ctx = Context(bucket, spa_dir, state, awstools.clients(args), stage, args.distribution_id)
    commands = {
        "pull": cmd_pull,
        "status": cmd_status,
        "push": cmd_push,
        "promote": cmd_promote,
        "rollback": cmd_rollback,
    }
    return commands[args.command](args, ctx)


def main(argv: list[str] | None = None) -> int:
    return awstools.run_script(build_parser, run, argv)


if __name__ == "__main__":
    sys.exit(main())
