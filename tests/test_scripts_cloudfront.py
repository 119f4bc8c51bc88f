"""scripts/configure_cloudfront.py against moto's CloudFront.

The distribution starts as an admin would have made it by hand: an S3 origin for the
dispatch page as the default, plus an unrelated origin and behaviour that the script
must leave exactly as they were.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.moto_api import state_manager

from chalicelib.web import edge
from scripts import awstools
from scripts import configure_cloudfront as cc

API_URL = "https://abc123def4.execute-api.us-west-2.amazonaws.com/api/"
API_DOMAIN = "abc123def4.execute-api.us-west-2.amazonaws.com"
S3_DOMAIN = "shipcaptaincrew-site.s3.us-west-2.amazonaws.com"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


pytestmark = pytest.mark.usefixtures("settings_in_us_east_1")


def behaviour(pattern: str, origin: str, **extra: Any) -> dict[str, Any]:
    return {
        "PathPattern": pattern,
        "TargetOriginId": origin,
        "ViewerProtocolPolicy": "https-only",
        "CachePolicyId": CACHING_OPTIMIZED,
        **extra,
    }


def site_config(*behaviours: dict[str, Any]) -> dict[str, Any]:
    return {
        "CallerReference": "site",
        "Comment": "Ship Captain Crew",
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "Origins": {
            "Quantity": 2,
            "Items": [
                {
                    "Id": "site-bucket",
                    "DomainName": S3_DOMAIN,
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                },
                {
                    "Id": "blog",
                    "DomainName": "blog.example.org",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                },
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "site-bucket",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": CACHING_OPTIMIZED,
        },
        "CacheBehaviors": {"Quantity": len(behaviours), "Items": list(behaviours)},
    }


class Recorder:
    """Clients for the script that log each call's parameters and can fail one call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, tuple[int, str]] = {}

    def clients(self, _args: Any) -> Any:
        def make(service: str) -> Any:
            client = boto3.client(service, region_name="us-east-1")
            client.meta.events.register("before-parameter-build", self._params)
            client.meta.events.register("before-call", self._maybe_fail)
            return client

        return make

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, copy.deepcopy(params)))

    def _maybe_fail(self, model: Any, **_: Any) -> Any:
        if model.name in self.failures:
            status, code = self.failures[model.name]
            http = type("Http", (), {"status_code": status, "headers": {}})()
            return http, {"Error": {"Code": code, "Message": "injected by the test"}}
        return None

    def ops(self) -> list[str]:
        return [name for name, _ in self.calls]


ORIGIN_VERIFY = "origin-verify-value-from-secrets-manager"


@pytest.fixture
def cloudfront() -> Iterator[Any]:
    with mock_aws():
        # bootstrap made the stage's origin-verify secret
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="shipcaptaincrew/prod/origin-verify", SecretString=ORIGIN_VERIFY
        )
        yield boto3.client("cloudfront", region_name="us-east-1")


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    found = Recorder()
    monkeypatch.setattr(awstools, "clients", found.clients)
    return found


def make_distribution(cloudfront: Any, *behaviours: dict[str, Any]) -> str:
    answer = cloudfront.create_distribution(DistributionConfig=site_config(*behaviours))
    return answer["Distribution"]["Id"]


def configure(distribution_id: str, *extra: str) -> int:
    return cc.main(
        [
            "--stage",
            "prod",
            "--distribution-id",
            distribution_id,
            "--poll-seconds",
            "0",
            "--yes",
            *extra,
        ]
    )


def current(cloudfront: Any, distribution_id: str) -> dict[str, Any]:
    return cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"]


def behaviours(config: dict[str, Any]) -> list[dict[str, Any]]:
    return config["CacheBehaviors"].get("Items") or []


def edge_origin(config: dict[str, Any], path: str) -> str:
    """Which origin CloudFront would pick for `path`: the first matching behaviour wins."""
    for item in behaviours(config):
        if edge.matches(item["PathPattern"], path):
            return item["TargetOriginId"]
    return config["DefaultCacheBehavior"]["TargetOriginId"]


def test_routing_table_goes_first_and_every_other_behaviour_and_origin_is_untouched(
    cloudfront: Any,
) -> None:
    dist = make_distribution(
        cloudfront, behaviour("/blog/*", "blog"), behaviour("/g/*", "site-bucket")
    )
    before = current(cloudfront, dist)

    assert configure(dist, "--api-url", API_URL) == 0

    after = current(cloudfront, dist)
    patterns = [b["PathPattern"] for b in behaviours(after)]
    assert patterns == ["/api/*", "/g/*/waiver", "/blog/*", "/g/*"]
    assert behaviours(after)[2:] == behaviours(before)
    origins = {o["Id"]: o for o in after["Origins"]["Items"]}
    for untouched in before["Origins"]["Items"]:
        assert origins[untouched["Id"]] == untouched
    assert after["DefaultCacheBehavior"] == before["DefaultCacheBehavior"]
    for key in ("Comment", "DefaultRootObject", "Enabled", "PriceClass", "ViewerCertificate"):
        assert after[key] == before[key]
    # The incident this exists for: patrons' waiver links reach the app, not S3.
    assert edge_origin(after, "/g/4f1c2a/waiver") == cc.API_ORIGIN_ID
    assert edge_origin(after, "/g/4f1c2a/other") == "site-bucket"
    assert edge_origin(after, "/index.html") == "site-bucket"


def test_api_behaviours_are_https_all_methods_uncached_and_do_not_forward_host(
    cloudfront: Any,
) -> None:
    dist = make_distribution(cloudfront)
    assert configure(dist, "--api-url", API_URL) == 0

    api_patterns = [p for p, origin in edge.ROUTES if origin == edge.API]
    found = {b["PathPattern"]: b for b in behaviours(current(cloudfront, dist))}
    for pattern in api_patterns:
        item = found[pattern]
        assert item["TargetOriginId"] == cc.API_ORIGIN_ID
        # No redirect: a login or a signed waiver never crosses plain HTTP first.
        assert item["ViewerProtocolPolicy"] == "https-only"
        assert sorted(item["AllowedMethods"]["Items"]) == sorted(
            ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
        )
        assert item["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
        assert item["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_api_behaviours_an_earlier_release_left_redirecting_become_https_only(
    cloudfront: Any,
) -> None:
    dist = make_distribution(cloudfront)
    assert configure(dist, "--api-url", API_URL) == 0
    config = current(cloudfront, dist)
    for item in behaviours(config):
        item["ViewerProtocolPolicy"] = "redirect-to-https"  # as releases before issue 22 did
    etag = cloudfront.get_distribution_config(Id=dist)["ETag"]
    cloudfront.update_distribution(Id=dist, IfMatch=etag, DistributionConfig=config)

    assert configure(dist, "--api-url", API_URL) == 0

    found = {b["PathPattern"]: b for b in behaviours(current(cloudfront, dist))}
    for pattern in (p for p, origin in edge.ROUTES if origin == edge.API):
        assert found[pattern]["ViewerProtocolPolicy"] == "https-only", pattern


def test_api_origin_is_the_stages_api_gateway_with_the_chalice_stage_as_origin_path(
    cloudfront: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = tmp_path / "deployed"
    deployed.mkdir()
    (deployed / "prod.json").write_text(
        json.dumps(
            {
                "schema_version": "2.0",
                "backend": "api",
                "resources": [
                    {"name": "api_handler", "resource_type": "lambda_function"},
                    {"name": "rest_api", "resource_type": "rest_api", "rest_api_url": API_URL},
                ],
            }
        )
    )
    monkeypatch.setattr(awstools, "DEPLOYED_DIR", deployed)
    dist = make_distribution(cloudfront)

    assert configure(dist) == 0

    origins = {o["Id"]: o for o in current(cloudfront, dist)["Origins"]["Items"]}
    api = origins[cc.API_ORIGIN_ID]
    assert api["DomainName"] == API_DOMAIN
    assert api["OriginPath"] == "/api"
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_second_run_says_no_changes_and_updates_nothing(
    cloudfront: Any, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = make_distribution(cloudfront, behaviour("/blog/*", "blog"))
    assert configure(dist, "--api-url", API_URL) == 0
    recorder.calls.clear()
    capsys.readouterr()

    assert configure(dist, "--api-url", API_URL) == 0

    assert "no changes" in capsys.readouterr().out.lower()
    assert "UpdateDistribution" not in recorder.ops()
    assert "CreateInvalidation" not in recorder.ops()


def test_dry_run_prints_the_difference_and_changes_nothing(
    cloudfront: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = make_distribution(cloudfront, behaviour("/blog/*", "blog"))
    before = current(cloudfront, dist)

    assert configure(dist, "--api-url", API_URL, "--dry-run") == 0

    out = capsys.readouterr().out
    assert "+ behaviour /g/*/waiver" in out
    assert any(line.startswith("+") and API_DOMAIN in line for line in out.splitlines())
    assert "--- current" in out and "+++ wanted" in out
    assert current(cloudfront, dist) == before
    assert cloudfront.list_invalidations(DistributionId=dist)["InvalidationList"]["Quantity"] == 0


def test_waits_for_the_deployment_with_progress_then_invalidates_what_changed(
    cloudfront: Any, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    state_manager.set_transition(
        model_name="cloudfront::distribution", transition={"progression": "manual", "times": 5}
    )
    try:
        dist = make_distribution(cloudfront, behaviour("/blog/*", "blog"))
        assert configure(dist, "--api-url", API_URL) == 0
    finally:
        state_manager.unset_transition("cloudfront::distribution")

    out = capsys.readouterr().out
    assert "status InProgress" in out
    assert "deployed" in out
    ops = recorder.ops()
    # Invalidate only once every edge serves the new behaviours, or the old origin's
    # answer could be cached again.
    assert ops.index("UpdateDistribution") < ops.index("GetDistribution")
    assert ops[-1] == "CreateInvalidation"
    batch = recorder.calls[-1][1]["InvalidationBatch"]
    assert sorted(batch["Paths"]["Items"]) == ["/api/*", "/g/*"]


def test_a_deployment_that_outlasts_the_timeout_is_reported_and_not_invalidated(
    cloudfront: Any, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    state_manager.set_transition(
        model_name="cloudfront::distribution", transition={"progression": "manual", "times": 999}
    )
    try:
        dist = make_distribution(cloudfront)
        assert configure(dist, "--api-url", API_URL, "--timeout-minutes", "0") == 1
    finally:
        state_manager.unset_transition("cloudfront::distribution")

    assert "still deploying" in capsys.readouterr().err
    assert "CreateInvalidation" not in recorder.ops()


def test_update_carries_the_etag_it_read(cloudfront: Any, recorder: Recorder) -> None:
    dist = make_distribution(cloudfront)
    etag = cloudfront.get_distribution_config(Id=dist)["ETag"]

    assert configure(dist, "--api-url", API_URL) == 0

    update = next(params for name, params in recorder.calls if name == "UpdateDistribution")
    assert update["IfMatch"] == etag


def test_a_change_made_meanwhile_is_reported_in_one_line_without_a_traceback(
    cloudfront: Any, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = make_distribution(cloudfront)
    recorder.failures["UpdateDistribution"] = (412, "PreconditionFailed")

    assert configure(dist, "--api-url", API_URL) == 2

    err = capsys.readouterr().err
    assert "changed while this ran" in err
    assert "Traceback" not in err


def test_waiver_behaviour_stuck_behind_a_bucket_catch_all_is_moved_back_to_the_front(
    cloudfront: Any,
) -> None:
    dist = make_distribution(cloudfront)
    assert configure(dist, "--api-url", API_URL) == 0
    # Someone adds /g/* for the bucket by hand, ahead of the waiver behaviour.
    answer = cloudfront.get_distribution_config(Id=dist)
    config = answer["DistributionConfig"]
    items = behaviours(config)
    items.insert(0, behaviour("/g/*", "site-bucket"))
    config["CacheBehaviors"] = {"Quantity": len(items), "Items": items}
    cloudfront.update_distribution(Id=dist, IfMatch=answer["ETag"], DistributionConfig=config)
    assert edge_origin(current(cloudfront, dist), "/g/abc/waiver") == "site-bucket"

    assert configure(dist, "--api-url", API_URL) == 0

    after = current(cloudfront, dist)
    assert edge_origin(after, "/g/abc/waiver") == cc.API_ORIGIN_ID
    assert [b["PathPattern"] for b in behaviours(after)] == ["/api/*", "/g/*/waiver", "/g/*"]


def test_a_new_api_gateway_domain_moves_the_api_origin_and_nothing_else(
    cloudfront: Any, recorder: Recorder
) -> None:
    dist = make_distribution(cloudfront, behaviour("/blog/*", "blog"))
    assert configure(dist, "--api-url", API_URL) == 0
    before = current(cloudfront, dist)
    recorder.calls.clear()

    new_url = "https://zzz999yyy8.execute-api.us-west-2.amazonaws.com/api/"
    assert configure(dist, "--api-url", new_url) == 0

    after = current(cloudfront, dist)
    origins = {o["Id"]: o for o in after["Origins"]["Items"]}
    assert (
        origins[cc.API_ORIGIN_ID]["DomainName"] == "zzz999yyy8.execute-api.us-west-2.amazonaws.com"
    )
    assert [o for o in after["Origins"]["Items"] if o["Id"] != cc.API_ORIGIN_ID] == [
        o for o in before["Origins"]["Items"] if o["Id"] != cc.API_ORIGIN_ID
    ]
    assert behaviours(after) == behaviours(before)
    invalidation = recorder.calls[-1]
    assert invalidation[0] == "CreateInvalidation"
    assert sorted(invalidation[1]["InvalidationBatch"]["Paths"]["Items"]) == ["/api/*", "/g/*"]


def test_a_stage_without_a_distribution_id_gets_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cc.main(["--stage", "prod", "--api-url", API_URL]) == 2
    err = capsys.readouterr().err
    assert "DISTRIBUTION_ID" in err
    assert "Traceback" not in err


def test_without_a_chalice_deploy_record_it_says_deploy_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(awstools, "DEPLOYED_DIR", tmp_path)
    assert configure("E2QWRUHAPOMQZL") == 2
    assert "chalice deploy --stage prod" in capsys.readouterr().err


def test_an_unknown_distribution_is_named_in_the_error(
    cloudfront: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert configure("E2QWRUHAPOMQZL", "--api-url", API_URL) == 2
    assert "no CloudFront distribution E2QWRUHAPOMQZL" in capsys.readouterr().err


def test_invalidation_paths_end_at_the_first_wildcard() -> None:
    assert cc.invalidation_paths({"/api/*", "/g/*/waiver", "/exact.html"}) == [
        "/api/*",
        "/exact.html",
        "/g/*",
    ]


def test_the_api_origin_sends_the_origin_verify_secret_and_a_dry_run_never_prints_it(
    cloudfront: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = make_distribution(cloudfront)

    assert configure(dist, "--api-url", API_URL, "--dry-run") == 0
    assert ORIGIN_VERIFY not in capsys.readouterr().out

    assert configure(dist, "--api-url", API_URL) == 0
    origins = {o["Id"]: o for o in current(cloudfront, dist)["Origins"]["Items"]}
    assert origins[cc.API_ORIGIN_ID]["CustomHeaders"]["Items"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": ORIGIN_VERIFY}
    ]
    assert ORIGIN_VERIFY not in capsys.readouterr().out


def test_a_rotated_secret_reaches_the_origin_header_and_nothing_is_rerouted(
    cloudfront: Any, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = make_distribution(cloudfront)
    assert configure(dist, "--api-url", API_URL) == 0
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId="shipcaptaincrew/prod/origin-verify", SecretString="the next value"
    )
    recorder.calls.clear()

    assert configure(dist, "--api-url", API_URL) == 0

    assert cc.origin_verify_of(current(cloudfront, dist)) == "the next value"
    assert "X-Origin-Verify header" in capsys.readouterr().out
    assert "CreateInvalidation" not in recorder.ops()


def test_api_behaviours_carry_the_sites_security_headers_policy(cloudfront: Any) -> None:
    config = site_config()
    config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] = (
        "5cc3b908-e619-4b99-88e5-2cf7f45965bd"
    )
    dist = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]

    assert configure(dist, "--api-url", API_URL) == 0

    for item in behaviours(current(cloudfront, dist)):
        assert item["ResponseHeadersPolicyId"] == "5cc3b908-e619-4b99-88e5-2cf7f45965bd"


def test_it_asks_before_changing_the_distribution_and_changes_nothing_without_a_yes(
    cloudfront: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = make_distribution(cloudfront)
    before = current(cloudfront, dist)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    code = cc.main(["--stage", "prod", "--distribution-id", dist, "--api-url", API_URL])

    assert code == 2
    assert "--yes" in capsys.readouterr().err
    assert current(cloudfront, dist) == before
