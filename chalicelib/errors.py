"""One error type for everything a client can get wrong, mapped to HTTP in app.py.

It subclasses Chalice's `ChaliceUnhandledError` so it reaches the app's middleware,
which answers JSON `{"code", "message", "field"}` (or an HTML page on HTML routes).
"""

from __future__ import annotations

from typing import TypeVar

from chalice.app import ChaliceUnhandledError

T = TypeVar("T")


class ApiError(ChaliceUnhandledError):
    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None) -> None:
        super().__init_subclass__()
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

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


# Each answer a client can get, by its HTTP status and machine-readable code.
class BadInput(ApiError, status=400, code="invalid"): ...


class Unauthorized(ApiError, status=401, code="unauthorized"): ...


class Forbidden(ApiError, status=403, code="forbidden"): ...


class NotFound(ApiError, status=404, code="not_found"): ...


def found(value: T | None, what: str = "event", field: str = "event_id") -> T:
    """`value`, or a 404 "no such <what>" naming `field` when there is none."""
    if value is None:
        raise NotFound(f"no such {what}", field=field)
    return value


class Gone(ApiError, status=410, code="gone"): ...


class Conflict(ApiError, status=409, code="conflict"): ...


class TooLarge(ApiError, status=413, code="too_large"): ...


class Throttled(ApiError, status=429, code="throttled"):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})


class Unavailable(ApiError, status=503, code="unavailable"):
    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class InternalError(ApiError, status=500, code="internal"): ...
