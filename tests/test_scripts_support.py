"""What the script tests share: a scratch copy of the files the scripts write, and the
two CloudFront features moto 5.2 lacks, filled in after botocore has checked each request
against the real API model (so a wrong shape still fails the test).

A test module takes the fixtures with `workspace = support.workspace` (and the same for
`cloudfront_gaps`), after `from tests import test_scripts_support as support`.
"""

from __future__ import annotations

import copy
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from botocore.exceptions import ParamValidationError
from moto import mock_aws

from scripts import awstools, stage_settings

REPO = awstools.REPO_ROOT


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """.chalice/, deploy/ (region us-east-1, like the moto clients) and spa/, copied:
    the scripts write there, and the checkout stays clean."""
    root = tmp_path / "repo"
    (root / ".chalice" / "deployed").mkdir(parents=True)
    for path in (REPO / ".chalice").glob("*.json"):
        shutil.copy(path, root / ".chalice" / path.name)
    (root / "deploy").mkdir()
    for path in (REPO / "deploy").glob("*.toml"):
        text = path.read_text().replace('region = "us-west-2"', 'region = "us-east-1"')
        (root / "deploy" / path.name).write_text(text)
    shutil.copytree(REPO / "spa", root / "spa", ignore=shutil.ignore_patterns(".*"))
    monkeypatch.setattr(awstools, "REPO_ROOT", root)
    monkeypatch.setattr(awstools, "SPA_DIR", root / "spa")
    monkeypatch.setattr(awstools, "CONFIG_PATH", root / ".chalice" / "config.json")
    monkeypatch.setattr(awstools, "DEPLOYED_DIR", root / ".chalice" / "deployed")
    monkeypatch.setattr(awstools, "SETTINGS_DIR", root / "deploy")
    monkeypatch.setattr(stage_settings, "SPA_CONFIG", root / "spa" / "config.js")
    return root


class HeadersPolicies:
    """CloudFront's response headers policies, kept in memory (moto has none)."""

    OPERATIONS: ClassVar[set[str]] = {
        "ListResponseHeadersPolicies",
        "CreateResponseHeadersPolicy",
        "GetResponseHeadersPolicy",
        "UpdateResponseHeadersPolicy",
    }

    def __init__(self) -> None:
        self.policies: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self._params: dict[str, Any] = {}

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.cloudfront", self._remember)
        client.meta.events.register("before-call.cloudfront", self._answer)

    def _remember(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._params = copy.deepcopy(params)

    def _policy(self, policy_id: str) -> dict[str, Any]:
        return {
            "Id": policy_id,
            "LastModifiedTime": datetime.now(UTC),
            "ResponseHeadersPolicyConfig": self.policies[policy_id],
        }

    def _answer(self, model: Any, **_: Any) -> Any:
        if model.name not in self.OPERATIONS:
            return None
        self.calls.append(model.name)
        params = self._params
        if model.name == "ListResponseHeadersPolicies":
            items = [
                {"Type": "custom", "ResponseHeadersPolicy": self._policy(pid)}
                for pid in self.policies
            ]
            body = {
                "ResponseHeadersPolicyList": {
                    "MaxItems": 100,
                    "Quantity": len(items),
                    "Items": items,
                }
            }
        elif model.name == "CreateResponseHeadersPolicy":
            policy_id = str(uuid.uuid4())
            self.policies[policy_id] = params["ResponseHeadersPolicyConfig"]
            body = {"ResponseHeadersPolicy": self._policy(policy_id), "ETag": "E1"}
        elif model.name == "UpdateResponseHeadersPolicy":
            self.policies[params["Id"]] = params["ResponseHeadersPolicyConfig"]
            body = {"ResponseHeadersPolicy": self._policy(params["Id"]), "ETag": "E2"}
        else:
            body = {"ResponseHeadersPolicy": self._policy(params["Id"]), "ETag": "E1"}
        http = type("Http", (), {"status_code": 200, "headers": {}})()
        return http, body


@pytest.fixture
def cloudfront_gaps(monkeypatch: pytest.MonkeyPatch) -> HeadersPolicies:
    """Fill moto's CloudFront gaps for the scripts' clients.

    - response headers policies: answered by HeadersPolicies;
    - an origin's OriginAccessControlId and S3OriginConfig, which moto accepts but does
      not return (real CloudFront does), so a second bootstrap would see a change.
    """
    import moto.cloudfront.models as models

    original_origin = models.Origin.__init__

    def origin_init(self: Any, origin: dict[str, Any]) -> None:
        original_origin(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId", "")
        if "S3OriginConfig" in origin:
            self.s3_origin_config = origin["S3OriginConfig"]

    monkeypatch.setattr(models.Origin, "__init__", origin_init)
    headers = HeadersPolicies()
    real = awstools.clients

    def clients(args: Any) -> Any:
        make = real(args)
        attached: set[int] = set()

        def wrapped(service: str) -> Any:
            client = make(service)
            if service == "cloudfront" and id(client) not in attached:
                headers.attach(client)
                attached.add(id(client))
            return client

        return wrapped

    monkeypatch.setattr(awstools, "clients", clients)
    return headers


def test_the_headers_policy_stand_in_still_checks_requests_against_the_api_model(
    cloudfront_gaps: HeadersPolicies,
) -> None:
    with mock_aws():
        cloudfront = awstools.clients(None)("cloudfront")
        with pytest.raises(ParamValidationError):
            cloudfront.create_response_headers_policy(
                ResponseHeadersPolicyConfig={"Name": "x", "SecurityHeadersConfig": {"Nope": 1}}
            )
        made = cloudfront.create_response_headers_policy(
            ResponseHeadersPolicyConfig={"Name": "x", "Comment": "ok"}
        )
        listed = cloudfront.list_response_headers_policies(Type="custom")
    assert (
        listed["ResponseHeadersPolicyList"]["Items"][0]["ResponseHeadersPolicy"]["Id"]
        == (made["ResponseHeadersPolicy"]["Id"])
    )
