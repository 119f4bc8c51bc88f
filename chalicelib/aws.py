"""The one place AWS clients are made: lazily, once per process, resettable.

Clients come from botocore's own session, not boto3: boto3 adds nothing a
low-level client uses (its extras are the resource layer and S3 transfers), and
not importing it is Lambda cold-start time saved. A client made before moto's
`mock_aws` starts would talk to real AWS, so tests call `reset()` inside the
mock; it drops the session too, as `mock_aws` drops boto3's default session,
so credentials and region are read afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from chalicelib.errors import ApiError, InternalError, Unavailable

_clients: dict[str, Any] = {}
_session: Any = None
_lock = threading.Lock()
# Callables (service, operation, params) told of every AWS call the app makes:
# the tests use it to check the IAM policy, the benchmarks to count calls.
observers: list[Callable[[str, str, dict], None]] = []


def client(service: str) -> Any:
    global _session
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                import botocore.session
                from botocore.config import Config

                if _session is None:
                    _session = botocore.session.get_session()
                found = _session.create_client(
                    service,
                    # Backoff and timeouts stay well inside API Gateway's 29 s limit,
                    # so a busy dependency is the app's clear 503, never a gateway 504.
                    config=Config(
                        connect_timeout=2,
                        read_timeout=5,
                        retries={"total_max_attempts": 3, "mode": "standard"},
                    ),
                )
                found.meta.events.register("before-call", _tell_observers)
                _clients[service] = found
    return found


def _tell_observers(model: Any, params: dict, **_: Any) -> None:
    for observer in observers:
        observer(model.service_model.service_name, model.name, params)


def dynamodb() -> Any:
    return client("dynamodb")


def secret_string(secret_id: str) -> str:
    return client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]


def secret_version(secret_id: str, version_stage: str) -> str | None:
    """A secret's value at a staging label (AWSCURRENT, AWSPREVIOUS), or None if none has it."""
    from botocore.exceptions import ClientError

    try:
        found = client("secretsmanager").get_secret_value(
            SecretId=secret_id, VersionStage=version_stage
        )
    except ClientError as error:
        # A secret never rotated has no AWSPREVIOUS.
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return found.get("SecretString")


def reset() -> None:
    global _session
    with _lock:
        _clients.clear()
        _session = None


# DynamoDB answers these when it is busy; the client retried already (botocore's
# standard mode), so the caller gets a clear 503 and nothing was half-written.
# The same words in a cancelled transaction's reasons make it worth another try.
BUSY_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def is_busy(code: str) -> bool:
    return code in BUSY_CODES


def api_error(exc: BaseException) -> ApiError:
    """What a client should hear about an exception that was not its fault."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        reasons = exc.response.get("CancellationReasons") or []
        if is_busy(code) or any(is_busy(str(r.get("Code"))) for r in reasons):
            return Unavailable("the database is busy: try again in a moment")
    if isinstance(exc, BotoCoreError):
        return Unavailable("a service we depend on is unreachable: try again in a moment")
    return InternalError("something went wrong on our side; nothing you sent was the cause")
