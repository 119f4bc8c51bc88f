"""scripts/sync_spa.py against moto's S3 (and CloudFront for invalidations)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import awstools, sync_spa

BUCKET = "shipcaptaincrew-site"
PAGE = {
    "index.html": "<!doctype html><title>Dispatch</title><script src=app.js></script>",
    "app.js": "export const version = 1;\n",
    "styles.css": "body { margin: 0 }\n",
    "config.js": 'export const API_BASE = "";\n',
    "img/icon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
}


pytestmark = pytest.mark.usefixtures("settings_in_us_east_1")


class Terminal(io.StringIO):
    """stdin as a person at a terminal answering the prompt."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def spa(tmp_path: Path) -> Path:
    root = tmp_path / "spa"
    for rel, text in PAGE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".DS_Store").write_text("finder junk")
    return root


def sync(spa: Path, *args: str) -> int:
    return sync_spa.main(["--bucket", BUCKET, "--spa-dir", str(spa), *args])


def keys(s3: Any, prefix: str = "") -> set[str]:
    """The page's objects (the staging release record is bookkeeping, not page)."""
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"] for o in listed if not o["Key"].startswith("_releases/")}


COMMIT = "c0ffee1234567890c0ffee1234567890c0ffee12"


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch: pytest.MonkeyPatch) -> str:
    """The commit this checkout is at (a clean tree)."""
    monkeypatch.setattr(awstools, "local_commit", lambda: COMMIT)
    return COMMIT


def tested_in_staging(s3: Any, spa: Path) -> None:
    """What deploy.py --stage staging does: push, check, then mark the release tested."""
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    sync_spa.mark_tested(s3, BUCKET, COMMIT)


def body(s3: Any, key: str) -> str:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()


def someone_else_puts(s3: Any, key: str, text: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=text.encode())


def make_distribution(origin_path: str = "") -> str:
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    config = {
        "CallerReference": f"site{origin_path}",
        "Comment": "",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "site-bucket",
                    "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
                    "OriginPath": origin_path,
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "site-bucket",
            "ViewerProtocolPolicy": "redirect-to-https",
        },
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def invalidated(distribution_id: str) -> list[list[str]]:
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    out = []
    for item in listed.get("Items") or []:
        found = cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])
        out.append(sorted(found["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]))
    return out


def test_push_to_staging_uploads_under_the_staging_prefix_with_type_and_cache_headers(
    s3: Any, spa: Path
) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0

    assert keys(s3) == {f"_staging/{rel}" for rel in PAGE}
    index = s3.head_object(Bucket=BUCKET, Key="_staging/index.html")
    assert index["ContentType"].startswith("text/html")
    assert index["CacheControl"] == "no-cache"
    config = s3.head_object(Bucket=BUCKET, Key="_staging/config.js")
    assert config["CacheControl"] == "no-cache"
    script = s3.head_object(Bucket=BUCKET, Key="_staging/app.js")
    assert script["ContentType"].startswith("text/javascript")
    assert "max-age=" in script["CacheControl"]
    assert s3.head_object(Bucket=BUCKET, Key="_staging/styles.css")["ContentType"].startswith(
        "text/css"
    )
    assert s3.head_object(Bucket=BUCKET, Key="_staging/img/icon.svg")["ContentType"] == (
        "image/svg+xml"
    )


def test_push_never_uploads_dotfiles_or_the_state_file(s3: Any, spa: Path) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    assert (spa / ".sync-state.json").exists()
    assert not any(".sync-state" in key or "DS_Store" in key for key in keys(s3))


def test_second_push_uploads_only_the_changed_file(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    (spa / "app.js").write_text("export const version = 2;\n")
    capsys.readouterr()

    assert sync(spa, "push", "--slot", "staging", "--yes") == 0

    out = capsys.readouterr().out
    assert "uploaded app.js" in out
    assert "uploaded index.html" not in out
    assert body(s3, "_staging/app.js") == "export const version = 2;\n"


def test_push_with_nothing_changed_says_so(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    capsys.readouterr()
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    assert "Nothing to push" in capsys.readouterr().out


def test_push_refuses_when_s3_changed_since_the_last_pull_and_names_the_file(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    someone_else_puts(s3, "_staging/index.html", "<title>newer, from a colleague</title>")
    (spa / "app.js").write_text("export const version = 3;\n")

    assert sync(spa, "push", "--slot", "staging", "--yes") == 2

    err = capsys.readouterr().err
    assert "index.html (changed in S3)" in err
    assert "pull --slot staging" in err
    assert body(s3, "_staging/index.html") == "<title>newer, from a colleague</title>"
    assert body(s3, "_staging/app.js") == PAGE["app.js"]


def test_force_push_overwrites_a_slot_changed_in_s3(s3: Any, spa: Path) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    someone_else_puts(s3, "_staging/index.html", "<title>newer</title>")

    assert sync(spa, "push", "--slot", "staging", "--yes", "--force") == 0

    assert body(s3, "_staging/index.html") == PAGE["index.html"]


def test_push_refuses_a_slot_this_checkout_never_pulled(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    someone_else_puts(s3, "index.html", "<title>live</title>")

    assert sync(spa, "push", "--slot", "prod", "--yes") == 2

    assert "never pulled" in capsys.readouterr().err
    assert body(s3, "index.html") == "<title>live</title>"


def test_pull_brings_the_slot_down_and_then_push_is_allowed(s3: Any, spa: Path) -> None:
    someone_else_puts(s3, "index.html", "<title>live</title>")
    someone_else_puts(s3, "app.js", "live js")
    someone_else_puts(s3, "_staging/index.html", "<title>staging only</title>")

    assert sync(spa, "pull", "--slot", "prod", "--force") == 0

    assert (spa / "index.html").read_text() == "<title>live</title>"
    assert (spa / "app.js").read_text() == "live js"
    state = json.loads((spa / ".sync-state.json").read_text())
    recorded = state["buckets"][BUCKET]["prod"]["files"]
    assert set(recorded) == {"index.html", "app.js"}  # the staging slot is not prod
    assert recorded["index.html"]["etag"] == s3.head_object(Bucket=BUCKET, Key="index.html")[
        "ETag"
    ].strip('"')

    (spa / "app.js").write_text("fixed js")
    assert sync(spa, "push", "--slot", "prod", "--yes") == 0
    assert body(s3, "app.js") == "fixed js"


def test_pull_will_not_overwrite_local_edits(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    someone_else_puts(s3, "_staging/app.js", "their change")
    (spa / "app.js").write_text("my unpushed change")

    assert sync(spa, "pull", "--slot", "staging") == 2

    assert "app.js" in capsys.readouterr().err
    assert (spa / "app.js").read_text() == "my unpushed change"


def test_pushing_to_prod_asks_first_and_no_means_nothing_changes(
    s3: Any, spa: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))

    assert sync(spa, "push", "--slot", "prod") == 1

    assert "PROD" in capsys.readouterr().out
    assert keys(s3) == set()


def test_pushing_to_prod_with_a_yes_at_the_prompt_uploads_to_the_bucket_root(
    s3: Any, spa: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))

    assert sync(spa, "push", "--slot", "prod") == 0

    assert keys(s3) == set(PAGE)


def test_pushing_to_prod_without_a_terminal_refuses_and_names_yes(
    s3: Any, spa: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert sync(spa, "push", "--slot", "prod") == 2

    assert "--yes" in capsys.readouterr().err
    assert keys(s3) == set()


def test_prod_listing_leaves_the_staging_slot_out(s3: Any, spa: Path) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    assert sync_spa.remote_files(s3, BUCKET, "prod") == {}
    assert set(sync_spa.remote_files(s3, BUCKET, "staging")) == set(PAGE)


def test_status_shows_each_file_against_staging_and_prod(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    someone_else_puts(s3, "index.html", PAGE["index.html"])
    someone_else_puts(s3, "old.js", "gone locally")
    (spa / "app.js").write_text("edited")
    capsys.readouterr()

    assert sync(spa, "status") == 0

    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert rows["index.html"] == ["same", "same"]
    assert rows["app.js"] == ["changed", "missing"]
    assert rows["old.js"] == ["-", "only", "in", "S3"]


def test_config_js_keeps_each_slots_own_settings_unless_asked(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    (spa / "config.js").write_text('export const API_BASE = "https://elsewhere";\n')

    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    assert body(s3, "_staging/config.js") == PAGE["config.js"]
    assert "config.js" in capsys.readouterr().out

    assert sync(spa, "push", "--slot", "staging", "--yes", "--config") == 0
    assert "elsewhere" in body(s3, "_staging/config.js")


def test_push_dry_run_lists_files_and_uploads_nothing(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(spa, "push", "--slot", "prod", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "index.html" in out and "Dry run" in out
    assert keys(s3) == set()


def test_promote_copies_staging_to_prod_with_its_headers_and_invalidates_prod(
    s3: Any, spa: Path
) -> None:
    distribution = make_distribution()
    tested_in_staging(s3, spa)

    assert sync(spa, "--distribution-id", distribution, "promote", "--yes") == 0

    # The first promote: prod has no config.js of its own yet, so staging's starts it.
    assert keys(s3, "") - keys(s3, "_staging/") == set(PAGE)
    index = s3.head_object(Bucket=BUCKET, Key="index.html")
    assert index["CacheControl"] == "no-cache"
    assert index["ContentType"].startswith("text/html")
    assert body(s3, "app.js") == PAGE["app.js"]
    assert invalidated(distribution) == [
        ["/", "/app.js", "/config.js", "/img/icon.svg", "/index.html", "/styles.css"]
    ]


def test_promote_dry_run_copies_nothing(s3: Any, spa: Path) -> None:
    tested_in_staging(s3, spa)
    assert sync(spa, "promote", "--dry-run") == 0
    assert keys(s3) == keys(s3, "_staging/")


def test_push_invalidates_only_the_changed_paths(s3: Any, spa: Path) -> None:
    distribution = make_distribution()
    args = ("--distribution-id", distribution, "push", "--slot", "prod", "--yes")
    assert sync(spa, *args) == 0
    (spa / "styles.css").write_text("body { margin: 1px }\n")

    assert sync(spa, *args) == 0

    assert invalidated(distribution)[-1] == ["/styles.css"]


def test_a_staging_distribution_with_an_origin_path_is_invalidated_at_its_viewer_paths(
    s3: Any,
) -> None:
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    distribution = make_distribution(origin_path="/_staging")

    paths = sync_spa.viewer_paths(
        cloudfront, distribution, ["_staging/index.html", "_staging/app.js"]
    )

    assert paths == ["/", "/app.js", "/index.html"]


def test_a_missing_bucket_is_a_clear_error(spa: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with mock_aws():
        assert sync(spa, "push", "--slot", "staging", "--yes") == 2
    err = capsys.readouterr().err
    assert f"bucket {BUCKET} does not exist" in err
    assert "Traceback" not in err


# --- prod gets only what staging tested ----------------------------------------------------


def test_promote_copies_the_tested_staging_page_byte_for_byte(s3: Any, spa: Path) -> None:
    tested_in_staging(s3, spa)

    assert sync(spa, "promote", "--yes") == 0

    for rel in set(PAGE) - {"config.js"}:
        staged = s3.get_object(Bucket=BUCKET, Key=f"_staging/{rel}")
        live = s3.get_object(Bucket=BUCKET, Key=rel)
        assert live["Body"].read() == staged["Body"].read()
        assert live["ETag"] == staged["ETag"]


def test_promote_refuses_a_staging_page_that_never_passed_its_checks(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0

    assert sync(spa, "promote", "--yes") == 2

    assert "never passed its checks" in capsys.readouterr().err
    assert keys(s3) == keys(s3, "_staging/")


def test_promote_refuses_when_staging_changed_after_it_was_tested(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tested_in_staging(s3, spa)
    someone_else_puts(s3, "_staging/app.js", "export const version = 2;\n")

    assert sync(spa, "promote", "--yes") == 2

    err = capsys.readouterr().err
    assert "staging changed since it was tested" in err and "app.js" in err
    assert keys(s3) == keys(s3, "_staging/")


def test_promote_refuses_when_staging_is_behind_this_checkout(
    s3: Any, spa: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tested_in_staging(s3, spa)
    monkeypatch.setattr(awstools, "local_commit", lambda: "beef" * 10)

    assert sync(spa, "promote", "--yes") == 2

    err = capsys.readouterr().err
    assert "staging holds commit c0ffee123456, this checkout is at beefbeefbeef" in err


def test_promote_refuses_uncommitted_changes(
    s3: Any, spa: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tested_in_staging(s3, spa)
    monkeypatch.setattr(awstools, "local_commit", lambda: COMMIT + "-dirty")

    assert sync(spa, "promote", "--yes") == 2

    assert "commit your changes" in capsys.readouterr().err


def test_a_new_push_to_staging_needs_testing_again(s3: Any, spa: Path) -> None:
    tested_in_staging(s3, spa)
    (spa / "app.js").write_text("export const version = 3;\n")

    assert sync(spa, "push", "--slot", "staging", "--yes") == 0

    assert sync_spa.read_release(s3, BUCKET)["tested_at"] is None
    assert sync(spa, "promote", "--yes") == 2


def test_promote_keeps_the_config_js_prod_already_has(s3: Any, spa: Path) -> None:
    someone_else_puts(s3, "config.js", 'export const API_BASE = "https://prod.example";\n')
    tested_in_staging(s3, spa)

    assert sync(spa, "promote", "--yes") == 0

    assert "prod.example" in body(s3, "config.js")
    assert body(s3, "app.js") == PAGE["app.js"]


def test_pushing_to_staging_asks_first_and_uploads_nothing_without_a_yes(
    s3: Any, spa: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert sync(spa, "push", "--slot", "staging") == 2

    assert "--yes" in capsys.readouterr().err
    assert keys(s3, "_staging/") == set()


# --- derived settings do not make a new release (issue 22, item 3) -------------------


def git(repo: Path, *args: str) -> str:
    import subprocess

    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git checkout with the real config.json committed (as after `Our stage settings`)."""
    repo = tmp_path / "checkout"
    (repo / ".chalice").mkdir(parents=True)
    (repo / ".chalice" / "config.json").write_text(awstools.CONFIG_PATH.read_text())
    (repo / "app.py").write_text("# the code\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "settings")
    monkeypatch.setattr(awstools, "REPO_ROOT", repo)
    monkeypatch.setattr(awstools, "CONFIG_PATH", repo / ".chalice" / "config.json")
    return repo


def commit_config(repo: Path, stage: str, **env: str) -> str:
    path = repo / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    config["stages"][stage]["environment_variables"].update(env)
    path.write_text(json.dumps(config, indent=2) + "\n")
    git(repo, "commit", "-qam", "derived")
    return git(repo, "rev-parse", "HEAD")


def test_committing_prods_derived_settings_after_staging_was_tested_still_promotes(
    s3: Any, spa: Path, checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tested = git(checkout, "rev-parse", "HEAD")
    monkeypatch.setattr(awstools, "local_commit", lambda: tested)
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    sync_spa.mark_tested(s3, BUCKET, tested)
    # The docs' order: bootstrap prod, which reads back its stream ARN and distribution.
    after = commit_config(
        checkout,
        "prod",
        DISTRIBUTION_ID="E2PRODDIST",
        TABLE_STREAM_ARN="arn:aws:dynamodb:us-west-2:1:table/shipcaptaincrew-prod/stream/x",
    )
    monkeypatch.setattr(awstools, "local_commit", lambda: after)

    assert sync_spa.check_promotable(s3, BUCKET, after)["commit"] == tested


def test_a_decided_setting_committed_after_staging_was_tested_is_a_new_release(
    s3: Any, spa: Path, checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tested = git(checkout, "rev-parse", "HEAD")
    monkeypatch.setattr(awstools, "local_commit", lambda: tested)
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    sync_spa.mark_tested(s3, BUCKET, tested)
    after = commit_config(checkout, "prod", DISTRIBUTION_ID="E2", SENDER_EMAIL="x@example.org")

    with pytest.raises(awstools.UserError, match="prod gets only what staging tested"):
        sync_spa.check_promotable(s3, BUCKET, after)


def test_a_code_change_committed_after_staging_was_tested_is_a_new_release(
    s3: Any, spa: Path, checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tested = git(checkout, "rev-parse", "HEAD")
    monkeypatch.setattr(awstools, "local_commit", lambda: tested)
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    sync_spa.mark_tested(s3, BUCKET, tested)
    (checkout / "app.py").write_text("# other code\n")
    git(checkout, "commit", "-qam", "code")

    with pytest.raises(awstools.UserError, match="prod gets only what staging tested"):
        sync_spa.check_promotable(s3, BUCKET, git(checkout, "rev-parse", "HEAD"))


# --- the operator's zone reaches each slot's config.js (issue 22) ------------------------

ZONED = 'export const API_BASE = "{api}";\nexport const OPERATOR_TZ = "{zone}";\n'


def test_a_new_operator_tz_reaches_the_staging_slots_config_and_keeps_its_own_settings(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (spa / "config.js").write_text(ZONED.format(api="", zone="America/Los_Angeles"))
    assert sync(spa, "push", "--slot", "staging", "--yes") == 0
    # The slot has its own API; then stage_settings.py writes a new zone into spa/config.js.
    someone_else_puts(
        s3,
        "_staging/config.js",
        ZONED.format(api="https://staging.example", zone="America/Los_Angeles"),
    )
    assert sync(spa, "pull", "--slot", "staging", "--force") == 0
    (spa / "config.js").write_text(ZONED.format(api="", zone="Pacific/Honolulu"))
    capsys.readouterr()

    assert sync(spa, "push", "--slot", "staging", "--yes") == 0

    live = body(s3, "_staging/config.js")
    assert 'OPERATOR_TZ = "Pacific/Honolulu"' in live
    assert "https://staging.example" in live  # the slot's own API is kept
    assert "America/Los_Angeles -> Pacific/Honolulu" in capsys.readouterr().out
    assert (
        sync(spa, "push", "--slot", "staging", "--yes") == 0
    )  # and a second push has nothing to do
    assert body(s3, "_staging/config.js") == live


def test_promote_sets_the_operator_tz_of_prods_own_config(s3: Any, spa: Path) -> None:
    (spa / "config.js").write_text(ZONED.format(api="", zone="Pacific/Honolulu"))
    someone_else_puts(
        s3, "config.js", ZONED.format(api="https://prod.example", zone="America/Los_Angeles")
    )
    tested_in_staging(s3, spa)

    assert sync(spa, "promote", "--yes") == 0

    live = body(s3, "config.js")
    assert 'OPERATOR_TZ = "Pacific/Honolulu"' in live and "prod.example" in live


# --- rolling the prod page back (issue 22) ----------------------------------------------


def test_rollback_puts_back_the_prod_page_of_before_the_last_promote(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    distribution = make_distribution()
    tested_in_staging(s3, spa)
    assert sync(spa, "promote", "--yes") == 0
    good = {rel: body(s3, rel) for rel in PAGE}
    # A bad release: changed in staging, tested, promoted.
    (spa / "app.js").write_text("export const broken = true;\n")
    tested_in_staging(s3, spa)
    assert sync(spa, "promote", "--yes") == 0
    assert "broken" in body(s3, "app.js")
    capsys.readouterr()

    assert sync(spa, "rollback", "--dry-run") == 0
    assert "back: app.js" in capsys.readouterr().out
    assert "broken" in body(s3, "app.js")

    assert sync(spa, "--distribution-id", distribution, "rollback", "--yes") == 0

    assert {rel: body(s3, rel) for rel in PAGE} == good
    head = s3.head_object(Bucket=BUCKET, Key="app.js")
    assert head["ContentType"].startswith("text/javascript")
    assert invalidated(distribution)[-1] == ["/app.js"]
    # Rolling back again rolls forward: the last release is one command away too.
    assert sync(spa, "rollback", "--yes") == 0
    assert "broken" in body(s3, "app.js")


def test_rollback_without_an_earlier_release_says_so(
    s3: Any, spa: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    tested_in_staging(s3, spa)
    assert sync(spa, "promote", "--yes") == 0  # the first release

    assert sync(spa, "rollback", "--yes") != 0
    assert "nothing to roll back to" in capsys.readouterr().err


def test_rollback_asks_first_and_without_a_terminal_changes_nothing(
    s3: Any, spa: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    tested_in_staging(s3, spa)
    assert sync(spa, "promote", "--yes") == 0
    (spa / "app.js").write_text("export const broken = true;\n")
    tested_in_staging(s3, spa)
    assert sync(spa, "promote", "--yes") == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert sync(spa, "rollback") != 0
    assert "broken" in body(s3, "app.js")
