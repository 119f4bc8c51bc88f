"""What moto (5.2) lacks for a go-live on the emulator, filled in on the server side.

tests/test_scripts_support.py fills the same gaps for in-process tests on the client
side (botocore event hooks); the rehearsal (scripts/rehearse.py) runs the scripts and
`chalice deploy` as separate processes against the emulator's server, so there the
server answers:

- CloudFront response headers policies (moto has none): kept in memory, answered in
  CloudFront's XML, the config echoed back as it was sent;
- an origin's OriginAccessControlId and S3OriginConfig, which moto accepts but drops
  (real CloudFront keeps them, and bootstrap compares them on its second run);
- API Gateway's REST API import of a Swagger 2.0 document, which is what Chalice sends
  (moto imports OpenAPI 3 only, and requires an info.description Chalice leaves out);
- SES's account: the request for production access (PutAccountDetails) and what
  GetAccount then says;
- a bucket policy's statements for a service principal (CloudFront's reads) apply to
  that service's requests only: moto applies their Deny to everyone, so the operator
  could not read the bucket's `_releases/` that prod's distribution is denied;
- the bucket policy's Deny of requests without TLS: moto evaluates a statement without
  its condition, so it would refuse every request, and the emulator on loopback has no
  TLS (AWS's clients always use it);
- AWS's managed IAM policies, which exist in every account and moto loads only when
  asked;
- Lambda invocations (a DynamoDB stream's, after each write): moto would start a
  Docker container; here they do not run, quietly (scripts/rehearsal_site.py runs the
  stage's functions itself).

Requests are still checked by botocore against the real API model on the client side
before they reach here, so a wrong request still fails.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

_PATCHED = threading.Lock()
_done = False
HEADERS_POLICY_PATH = "/2020-05-31/response-headers-policy"
_XMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"


def patch_moto() -> None:
    """Patch moto's models once per process (the emulator runs moto in-process)."""
    global _done
    with _PATCHED:
        if _done:
            return
        _keep_origin_access_control()
        _import_swagger()
        _bucket_policy_principals()
        _no_docker()
        _aws_managed_policies()
        _done = True


def _aws_managed_policies() -> None:
    """AWS's managed policies exist in every account (stage_limits.py attaches
    AmazonAPIGatewayPushToCloudWatchLogs to API Gateway's logging role); moto loads them
    only when asked."""
    from moto import settings

    settings.default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True


def _keep_origin_access_control() -> None:
    import moto.cloudfront.models as models

    original = models.Origin.__init__

    def origin_init(self: Any, origin: dict[str, Any]) -> None:
        original(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId", "")
        if "S3OriginConfig" in origin:
            self.s3_origin_config = origin["S3OriginConfig"]

    models.Origin.__init__ = origin_init  # type: ignore[method-assign]


def _import_swagger() -> None:
    from moto.apigateway.models import APIGatewayBackend

    put = APIGatewayBackend.put_rest_api

    def put_rest_api(
        self: Any,
        function_id: str,
        api_doc: dict[str, Any],
        fail_on_warnings: bool,
        mode: str = "merge",
    ) -> Any:
        if api_doc.get("swagger") == "2.0":
            # Paths, methods and integrations read the same in both versions.
            doc = {k: v for k, v in api_doc.items() if k != "swagger"}
            doc["openapi"] = "3.0.1"
            return put(self, function_id, doc, False, mode)
        return put(self, function_id, api_doc, fail_on_warnings, mode)

    def import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        info = api_doc.get("info") or {}
        api = self.create_rest_api(
            name=info.get("title", ""), description=info.get("description", "")
        )
        self.put_rest_api(api.id, api_doc, fail_on_warnings=fail_on_warnings)
        return api

    APIGatewayBackend.put_rest_api = put_rest_api  # type: ignore[method-assign]
    APIGatewayBackend.import_rest_api = import_rest_api  # type: ignore[method-assign]


def _bucket_policy_principals() -> None:
    import json

    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    original = FakeBucket.get_permission

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = [
            s
            for s in policy.get("Statement", [])
            if not (isinstance(s.get("Principal"), dict) and "Service" in s["Principal"])
            and not _tls_only(s)
        ]
        if not statements:
            return PermissionResult.NEUTRAL
        saved = self.policy
        self.policy = json.dumps({**policy, "Statement": statements}).encode()
        try:
            return original(self, action, resource)
        finally:
            self.policy = saved

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def _tls_only(statement: dict[str, Any]) -> bool:
    """The bucket's Deny of requests without TLS. moto evaluates a statement without its
    condition, so it would refuse every request; AWS's clients all use TLS, and the
    emulator on loopback has none, so the statement is left out of moto's evaluation."""
    condition = statement.get("Condition") or {}
    return statement.get("Effect") == "Deny" and "aws:SecureTransport" in condition.get("Bool", {})


def _no_docker() -> None:
    from moto.awslambda.models import LambdaFunction

    def invoke_lambda(self: Any, event: str | None = None) -> tuple[str, bool, str]:
        return "", True, "functions do not run in the emulator"

    LambdaFunction._invoke_lambda = invoke_lambda  # type: ignore[method-assign]


class Gaps:
    """WSGI middleware ahead of moto: CloudFront's response headers policies and SES's
    account."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.policies: dict[str, tuple[str, Any]] = {}  # id -> (modified, config dict)
        self.production_access = False

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        signed = environ.get("HTTP_AUTHORIZATION", "")
        if "/ses/aws4_request" in signed and path.startswith("/v2/email/account"):
            return self._ses_account(environ, start_response, path)
        if "/cloudfront/aws4_request" not in signed or not path.startswith(HEADERS_POLICY_PATH):
            return self.app(environ, start_response)
        return self._headers_policy(environ, start_response, path)

    def _ses_account(self, environ: dict, start_response: Callable, path: str) -> list[bytes]:
        import json

        method = environ["REQUEST_METHOD"]
        if path.rstrip("/") == "/v2/email/account/details" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            asked = json.loads(environ["wsgi.input"].read(length) or b"{}")
            self.production_access = bool(asked.get("ProductionAccessEnabled"))
            body = b"{}"
        elif path.rstrip("/") == "/v2/email/account" and method == "GET":
            body = json.dumps(
                {
                    "ProductionAccessEnabled": self.production_access,
                    "SendingEnabled": True,
                    "EnforcementStatus": "HEALTHY",
                    "DedicatedIpAutoWarmupEnabled": False,
                }
            ).encode()
        else:
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def _headers_policy(self, environ: dict, start_response: Callable, path: str) -> Any:
        import xmltodict

        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        policy_id = path[len(HEADERS_POLICY_PATH) :].strip("/").split("/")[0]
        if method == "GET" and not policy_id:
            items = [
                {"Type": "custom", "ResponseHeadersPolicy": self._policy(pid)}
                for pid in self.policies
            ]
            answer = {
                "ResponseHeadersPolicyList": {
                    "@xmlns": _XMLNS,
                    "MaxItems": "100",
                    "Quantity": str(len(items)),
                    **({"Items": {"ResponseHeadersPolicySummary": items}} if items else {}),
                }
            }
            return self._answer(start_response, "200 OK", answer)
        if method in ("POST", "PUT"):
            config = xmltodict.parse(body)["ResponseHeadersPolicyConfig"]
            config.pop("@xmlns", None)
            if method == "POST":
                policy_id = str(uuid.uuid4())
            elif policy_id not in self.policies:
                return self._missing(start_response, policy_id)
            self.policies[policy_id] = (datetime.now(UTC).isoformat(), config)
            status = "201 Created" if method == "POST" else "200 OK"
            return self._answer(start_response, status, self._wrapped(policy_id))
        if method == "GET":
            if policy_id not in self.policies:
                return self._missing(start_response, policy_id)
            return self._answer(start_response, "200 OK", self._wrapped(policy_id))
        return self.app(environ, start_response)

    def _policy(self, policy_id: str) -> dict[str, Any]:
        modified, config = self.policies[policy_id]
        return {
            "Id": policy_id,
            "LastModifiedTime": modified,
            "ResponseHeadersPolicyConfig": config,
        }

    def _wrapped(self, policy_id: str) -> dict[str, Any]:
        return {"ResponseHeadersPolicy": {"@xmlns": _XMLNS, **self._policy(policy_id)}}

    def _answer(self, start_response: Callable, status: str, answer: Any) -> list[bytes]:
        import xmltodict

        body = xmltodict.unparse(answer).encode()
        start_response(
            status,
            [("Content-Type", "text/xml"), ("ETag", "E1"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _missing(self, start_response: Callable, policy_id: str) -> list[bytes]:
        import xmltodict

        answer = {
            "ErrorResponse": {
                "Error": {
                    "Type": "Sender",
                    "Code": "NoSuchResponseHeadersPolicy",
                    "Message": f"no response headers policy {policy_id}",
                }
            }
        }
        body = xmltodict.unparse(answer).encode()
        start_response("404 Not Found", [("Content-Type", "text/xml")])
        return [body]
