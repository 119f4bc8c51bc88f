"""Ship Captain Crew: the HTTP routes. Each parses the request, calls one
chalicelib function and answers; the logic lives in chalicelib/."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Chalice, Response

from chalicelib import auth, config, errors, events, logs, throttle
from chalicelib import validation as v

app = Chalice(app_name="shipcaptaincrew")

# API Gateway caches an authorizer's answer per token for this long.
AUTH_CACHE_SECONDS = 60


@app.authorizer(ttl_seconds=AUTH_CACHE_SECONDS)
def crew(auth_request: Any) -> AuthResponse:
    """Crew routes need `Authorization: Bearer <token>` from /api/login."""
    try:
        name = auth.crew_from_token(auth_request.token)
    except errors.Unauthorized:
        return AuthResponse(routes=[], principal_id="anonymous")
    return AuthResponse(routes=["*"], principal_id=name)


@app.middleware("http")
def answer_errors_and_log(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Turn ApiErrors into JSON answers and write one log line per request."""
    started = time.perf_counter()
    try:
        response = get_response(event)
    except errors.ApiError as error:
        response = Response(
            body=error.body(), status_code=error.status, headers=dict(error.headers)
        )
    context = event.context or {}
    logs.line(
        level="info",
        method=event.method,
        route=context.get("resourcePath"),
        status=response.status_code,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
        request_id=context.get("requestId"),
    )
    return response


def guarded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map every failure to a clear answer: a client's fault is 4xx, ours is 503/500."""

    @functools.wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except errors.ApiError:
            raise
        except Exception as exc:
            error = errors.from_exception(exc)
            logs.exception("request failed", exc, status=error.status)
            raise error from exc

    return run


def body() -> dict[str, Any]:
    return v.json_object(app.current_request.raw_body)


def crew_name() -> str:
    return (app.current_request.context.get("authorizer") or {}).get("principalId") or "crew"


def source_ip() -> str:
    request = app.current_request
    return throttle.source_ip(request.headers, request.context)


def query(name: str) -> str | None:
    return (app.current_request.query_params or {}).get(name)


# --- Public -------------------------------------------------------------------


@app.route("/api/health", methods=["GET"])
@guarded
def health() -> dict:
    return {"status": "ok", "stage": config.stage(), "version": config.app_version()}


@app.route("/api/login", methods=["POST"])
@guarded
def login() -> dict:
    data = body()
    v.reject_unknown(data, ("password", "name"))
    return auth.login(data.get("password"), data.get("name"), source_ip())


# --- Events (crew) --------------------------------------------------------------


@app.route("/api/events", methods=["GET"], authorizer=crew)
@guarded
def list_events() -> dict:
    first, last = events.window(query("from"), query("to"))
    return {"events": events.events_between(first, last)}


@app.route("/api/events", methods=["POST"], authorizer=crew)
@guarded
def create_event() -> Response:
    event = events.create_event(body(), by=crew_name())
    return Response(body={"event": event}, status_code=201)


@app.route("/api/events/{event_id}", methods=["GET"], authorizer=crew)
@guarded
def event_detail(event_id: str) -> dict:
    return events.event_detail(event_id)


@app.route("/api/events/{event_id}", methods=["PATCH"], authorizer=crew)
@guarded
def update_event(event_id: str) -> dict:
    return {"event": events.update_event(event_id, body(), by=crew_name())}


@app.route("/api/events/{event_id}/cancel", methods=["POST"], authorizer=crew)
@guarded
def cancel_event(event_id: str) -> dict:
    return {"event": events.cancel_event(event_id, by=crew_name())}


# --- Payments (crew) ------------------------------------------------------------


# --- Waivers --------------------------------------------------------------------
