"""One error type for everything a client can get wrong, mapped to HTTP in app.py.

It subclasses Chalice's `ChaliceUnhandledError` so it reaches the app's middleware,
which answers JSON `{"code", "message", "field"}` (or an HTML page on HTML routes).
"""

from __future__ import annotations

from chalice.app import ChaliceUnhandledError


class ApiError(ChaliceUnhandledError):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.headers = headers or {}

    def body(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class BadInput(ApiError):
    status = 400
    code = "invalid"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Gone(ApiError):
    status = 410
    code = "gone"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class TooLarge(ApiError):
    status = 413
    code = "too_large"


class Throttled(ApiError):
    status = 429
    code = "throttled"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})


class Unavailable(ApiError):
    status = 503
    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class InternalError(ApiError):
    status = 500
    code = "internal"


# DynamoDB answers these when it is busy; the client retried already (botocore's
# standard mode), so the caller gets a clear 503 and nothing was half-written.
_BUSY_CODES = frozenset(
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


def from_exception(exc: BaseException) -> ApiError:
    """What a client should hear about an exception that was not its fault."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        reasons = exc.response.get("CancellationReasons") or []
        if code in _BUSY_CODES or any(r.get("Code") in _BUSY_CODES for r in reasons):
            return Unavailable("the database is busy: try again in a moment")
    if isinstance(exc, BotoCoreError):
        return Unavailable("a service we depend on is unreachable: try again in a moment")
    return InternalError("something went wrong on our side; nothing you sent was the cause")
