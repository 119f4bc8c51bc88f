"""What runs the deployed stage in a rehearsal: the parts of AWS moto cannot run.

moto stores the Lambda functions, the REST API and the distribution that `chalice
deploy`, bootstrap and configure_cloudfront made, but runs none of them. So that
smoke.py and verify_deploy.py prove a rehearsed stage the way they prove a real one,
this stands in for the three, each driven by what the scripts put in the emulator:

- the functions: `chalice local --stage S` (the API handler and its authorizer) and the
  outbox's schedule (`drain_email_outbox`, as EventBridge calls it, every second), in
  the stage's environment against the emulator; what they print goes to their
  CloudWatch Logs groups, as Lambda sends it;
- the distribution: a loopback HTTP server that reads the stage's distribution config
  from the emulator on each request and follows it: behaviours in order, the S3
  origin with its origin path (reads refused as the bucket policy refuses the
  distribution's ARN), the API origin with its custom headers (the origin-verify
  secret), the behaviour's response headers policy, and a standard access log in the
  log bucket.
"""

from __future__ import annotations

import contextlib
import fnmatch
import gzip
import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from chalicelib.web import edge

DRAIN = """
import json, sys, time, uuid
from datetime import datetime, timezone
sys.path.insert(0, ".")
import app
while True:
    event = {  # what EventBridge hands a scheduled function
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012",
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1", "resources": [], "detail": {},
    }
    try:
        app.drain_email_outbox(event, None)
    except Exception as exc:  # printed as Lambda would log it
        print(json.dumps({"level": "error", "message": f"drain failed: {exc}"}), flush=True)
    time.sleep(1)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LogShipper:
    """A child's stdout, line by line, into a CloudWatch Logs group (as Lambda does)."""

    def __init__(self, logs: Any, group: str, source: Any, echo: list[str]) -> None:
        self.logs, self.group, self.source, self.echo = logs, group, source, echo
        self.stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=self.stream)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for raw in iter(self.source.readline, ""):
            line = raw.rstrip("\n")
            if not line:
                continue
            self.echo.append(f"[{self.group}] {line}")
            self.logs.put_log_events(
                logGroupName=self.group,
                logStreamName=self.stream,
                logEvents=[{"timestamp": int(time.time() * 1000), "message": line}],
            )


class Functions:
    """The stage's functions, run here: chalice local and the outbox's schedule."""

    def __init__(
        self, stage: str, region: str, root: Path, env: dict[str, str], clients: Callable
    ) -> None:
        self.port = free_port()
        self.output: list[str] = []
        env = {**env, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
        # boto3 in chalice local: every service at the emulator (chalice overwrites only
        # AWS_ENDPOINT_URL from a stage's config, and staging's has none).
        function = f"shipcaptaincrew-{stage}"
        self.api = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("chalice")),
                "local",
                "--stage",
                stage,
                "--port",
                str(self.port),
                "--no-autoreload",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        stage_env = self._stage_env(root, stage)
        self.drain = subprocess.Popen(
            [sys.executable, "-c", DRAIN],
            cwd=root,
            env={**env, **stage_env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        logs = clients("logs")
        self.shippers = [
            LogShipper(logs, f"/aws/lambda/{function}", self.api.stdout, self.output),
            LogShipper(
                logs, f"/aws/lambda/{function}-drain_email_outbox", self.drain.stdout, self.output
            ),
        ]
        self._wait()

    @staticmethod
    def _stage_env(root: Path, stage: str) -> dict[str, str]:
        config = json.loads((root / ".chalice" / "config.json").read_text())
        merged = {**config.get("environment_variables", {})}
        merged.update(config["stages"][stage].get("environment_variables", {}))
        return {k: str(v) for k, v in merged.items()}

    def _wait(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                raise RuntimeError(
                    "chalice local stopped while starting:\n" + "\n".join(self.output[-20:])
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"chalice local did not answer on port {self.port}")

    def stop(self) -> None:
        for child in (self.api, self.drain):
            child.terminate()
        for child in (self.api, self.drain):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


class Distribution:
    """The stage's CloudFront distribution, as its config in the emulator says."""

    def __init__(
        self, distribution_id: str, clients: Callable, api_port: int, account: str
    ) -> None:
        self.id = distribution_id
        self.cloudfront = clients("cloudfront")
        self.s3 = clients("s3")
        self.api_port = api_port
        self.arn = f"arn:aws:cloudfront::{account}:distribution/{distribution_id}"
        self.server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self, request_handler=_Quiet, threaded=True
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/"

    def stop(self) -> None:
        self.server.shutdown()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        config = self.cloudfront.get_distribution_config(Id=self.id)["DistributionConfig"]
        behaviour = self._behaviour(config, request.path)
        origins = {o["Id"]: o for o in config["Origins"]["Items"]}
        origin = origins[behaviour["TargetOriginId"]]
        if origin.get("CustomOriginConfig"):
            response = self._api(request, origin)
        else:
            response = self._bucket(request, origin)
        self._headers_policy(response, behaviour.get("ResponseHeadersPolicyId"))
        self._access_log(config, request, response)
        return response(environ, start_response)

    @staticmethod
    def _behaviour(config: dict[str, Any], path: str) -> dict[str, Any]:
        for item in (config.get("CacheBehaviors") or {}).get("Items") or []:
            if edge.matches(item["PathPattern"], path):
                return dict(item)
        return dict(config["DefaultCacheBehavior"])

    def _api(self, request: Request, origin: dict[str, Any]) -> Response:
        """To the API origin: here `chalice local` serves what API Gateway's stage would."""
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        for item in (origin.get("CustomHeaders") or {}).get("Items") or []:
            headers[item["HeaderName"]] = item["HeaderValue"]
        headers["CloudFront-Viewer-Address"] = f"{request.remote_addr}:0"
        connection = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=60)
        try:
            connection.request(
                request.method, request.full_path.rstrip("?"), request.get_data(), headers
            )
            answer = connection.getresponse()
            body = answer.read()
            relayed = [
                (k, v)
                for k, v in answer.getheaders()
                if k.lower() not in ("transfer-encoding", "connection", "content-length")
            ]
            return Response(body, status=answer.status, headers=relayed)
        finally:
            connection.close()

    def _bucket(self, request: Request, origin: dict[str, Any]) -> Response:
        bucket = origin["DomainName"].split(".s3", 1)[0]
        key = (origin.get("OriginPath") or "").strip("/")
        rel = request.path.lstrip("/") or "index.html"
        if "." not in rel.rsplit("/", 1)[-1]:
            rel = "index.html"  # the page's own paths (the distribution's error page)
        full = f"{key}/{rel}" if key else rel
        if not self._may_read(bucket, full):
            return _s3_error(403, "AccessDenied")
        try:
            found = self.s3.get_object(Bucket=bucket, Key=full)
        except self.s3.exceptions.NoSuchKey:
            return _s3_error(403, "AccessDenied")  # S3 says 403 to a reader without List
        headers = {"ETag": found["ETag"], "Cache-Control": found.get("CacheControl", "")}
        return Response(
            found["Body"].read(), headers=headers, content_type=found.get("ContentType")
        )

    def _may_read(self, bucket: str, key: str) -> bool:
        """The bucket policy, for this distribution's GetObject of `key`."""
        try:
            policy = json.loads(self.s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except Exception:
            return False
        resource = f"arn:aws:s3:::{bucket}/{key}"
        allowed = False
        for statement in policy.get("Statement", []):
            condition = statement.get("Condition", {}).get("StringEquals", {})
            if condition.get("AWS:SourceArn") not in (None, self.arn):
                continue
            if (
                str(statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport"))
                == "false"
            ):
                continue  # a Deny of requests without TLS: CloudFront reads S3 over TLS
            resources = statement.get("Resource")
            patterns = resources if isinstance(resources, list) else [resources]
            if not any(fnmatch.fnmatchcase(resource, p) for p in patterns):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = True
        return allowed

    def _headers_policy(self, response: Response, policy_id: str | None) -> None:
        if not policy_id:
            return
        found = self.cloudfront.get_response_headers_policy(Id=policy_id)
        security = found["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"].get(
            "SecurityHeadersConfig", {}
        )
        hsts = security.get("StrictTransportSecurity")
        if hsts:
            value = f"max-age={hsts['AccessControlMaxAgeSec']}"
            value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
            response.headers["Strict-Transport-Security"] = value
        if security.get("FrameOptions"):
            response.headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
        if security.get("ContentTypeOptions"):
            response.headers["X-Content-Type-Options"] = "nosniff"
        if security.get("ReferrerPolicy"):
            response.headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
        if security.get("ContentSecurityPolicy"):
            csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
            response.headers.setdefault("Content-Security-Policy", csp)

    def _access_log(self, config: dict[str, Any], request: Request, response: Response) -> None:
        """One standard log file per request, as CloudFront writes them (gzip, by hour)."""
        logging = config.get("Logging") or {}
        if not logging.get("Enabled"):
            return
        now = datetime.now(UTC)
        fields = [
            "date",
            "time",
            "x-edge-location",
            "sc-bytes",
            "c-ip",
            "cs-method",
            "cs(Host)",
            "cs-uri-stem",
            "sc-status",
            "sc-content-type",
        ]
        row = [
            now.strftime("%Y-%m-%d"),
            now.strftime("%H:%M:%S"),
            "LOOPBACK",
            str(len(response.get_data())),
            request.remote_addr or "127.0.0.1",
            request.method,
            request.host,
            request.path,
            str(response.status_code),
            response.headers.get("Content-Type", "-"),
        ]
        text = "#Version: 1.0\n#Fields: " + " ".join(fields) + "\n" + "\t".join(row) + "\n"
        bucket = logging["Bucket"].split(".s3", 1)[0]
        key = f"{logging.get('Prefix', '')}{self.id}.{now:%Y-%m-%d-%H}.{uuid.uuid4().hex[:8]}.gz"
        self.s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(text.encode()))


def _s3_error(status: int, code: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code></Error>'
    return Response(body, status=status, content_type="application/xml")


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass
