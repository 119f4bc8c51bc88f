"""Ship Captain Crew: the HTTP routes. Each parses the request, calls one
chalicelib function and answers; the logic lives in chalicelib/."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Chalice, Rate, Response
from chalice.app import Request

from chalicelib import aws, config, errors, logs
from chalicelib import validation as v
from chalicelib.crew.records import Role
from chalicelib.records import Actor
from chalicelib.trips import schedule
from chalicelib.web import request_facts

# payments, ledger, waiver_pages, waivers and outbox are imported inside the routes
# that use them: a Lambda cold start then pays only for what its first request needs.

app = Chalice(app_name="shipcaptaincrew")

# API Gateway caches an authorizer's answer per token for this long.
AUTH_CACHE_SECONDS = 60
SERVED_BY_HEADER = "X-Served-By"
SERVED_BY = "shipcaptaincrew-app"
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@app.authorizer(ttl_seconds=AUTH_CACHE_SECONDS)
def crew(auth_request: Any) -> AuthResponse:
    """Crew routes need `Authorization: Bearer <token>` from /api/login, not yet revoked.

    AWS calls per run: one GetItem (the account's token version and status).
    """
    from chalicelib.crew import auth

    try:
        holder = auth.crew_from_token(auth_request.token)
    except errors.Unauthorized:
        return AuthResponse(routes=[], principal_id="anonymous")
    return AuthResponse(routes=["*"], principal_id=holder.name, context=holder.context())


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
    # S3 never sets this: a deploy check proves a path reached the app, not the bucket.
    response.headers[SERVED_BY_HEADER] = SERVED_BY
    if str(event.path or "").startswith("/api/"):
        # No API answer is kept by a browser or a proxy (a waiver record holds a date of
        # birth, an address, a phone), and none is sniffed into another type.
        response.headers.update(API_HEADERS)
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
            failure = aws.api_error(exc)
            logs.exception("request failed", exc, status=failure.status)
            raise failure from exc

    return run


def current() -> Request:
    """The request being answered (routes run only inside one)."""
    request = app.current_request
    assert request is not None
    return request


EVERY_ROLE = (Role.CREW, Role.CAPTAIN, Role.OWNER)
CAPTAINS = (Role.CAPTAIN, Role.OWNER)


def allow(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let only these roles call the route (403 `forbidden` for the others).

    Put it under @app.route and @guarded. The view keeps `allowed_roles` (copied up
    by functools.wraps), so the role-matrix test can read what each route declares.
    """
    allowed = frozenset(roles)

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def check(*args: Any, **kwargs: Any) -> Any:
            who = request_facts.caller(current().context)
            if not who.may(allowed):
                names = " or ".join(sorted(str(r) for r in allowed))
                raise errors.Forbidden(f"this needs a {names} login", code="forbidden")
            return view(*args, **kwargs)

        check.allowed_roles = allowed  # type: ignore[attr-defined]
        return check

    return wrap


def body() -> dict[str, Any]:
    return v.json_object(current().raw_body)


def caller() -> request_facts.Caller:
    return request_facts.caller(current().context)


def actor() -> Actor:
    """Who is asking, as writes record them (`*_by` and `*_by_id`)."""
    who = caller()
    return Actor(who.name, who.account_id)


def origin() -> str | None:
    """The requesting page's origin (for setup links), if the browser sent one."""
    return request_facts.lower_headers(current().headers).get("origin")


def source_ip() -> str:
    request = current()
    return request_facts.source_ip(request_facts.lower_headers(request.headers), request.context)


def query(name: str) -> str | None:
    params = current().query_params
    return None if params is None else params.get(name)


# --- Public -------------------------------------------------------------------


@app.route("/api/health", methods=["GET"])
@guarded
def health() -> dict:
    return {"status": "ok", "stage": config.stage(), "version": config.app_version()}


@app.route("/api/login", methods=["POST"])
@guarded
def login() -> dict:
    from chalicelib.crew import auth

    data = body()
    v.reject_unknown(data, ("username", "password", "name"))
    return auth.login(data.get("username"), data.get("password"), data.get("name"), source_ip())


@app.route("/api/accounts/setup", methods=["POST"])
@guarded
def set_up_account() -> dict:
    from chalicelib.crew import accounts

    return accounts.set_up(body())


# --- Accounts --------------------------------------------------------------------


@app.route("/api/me", methods=["GET"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def me() -> dict:
    from chalicelib.crew import accounts, auth

    who = caller()
    return accounts.me(who.account_id or auth.ADMIN, who.name)


@app.route("/api/me/password", methods=["POST"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def change_my_password() -> dict:
    from chalicelib.crew import accounts, auth

    return accounts.change_own_password(caller().account_id or auth.ADMIN, body())


@app.route("/api/logout", methods=["POST"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def log_out() -> dict:
    from chalicelib.crew import auth

    auth.log_out(caller().account_id or auth.ADMIN)
    return {"logged_out": True}


@app.route("/api/accounts", methods=["GET"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def list_accounts() -> dict:
    from chalicelib.crew import accounts

    return {"accounts": accounts.list_accounts()}


@app.route("/api/accounts", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def create_account() -> Response:
    from chalicelib.crew import accounts

    made = accounts.create_account(body(), by=actor(), role=caller().role, origin=origin())
    return Response(body=made, status_code=201)


@app.route("/api/accounts/{account_id}", methods=["PATCH"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def change_account(account_id: str) -> dict:
    from chalicelib.crew import accounts

    return accounts.change_account(account_id, body(), by=actor(), role=caller().role)


@app.route("/api/accounts/{account_id}/reset", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def reset_account(account_id: str) -> dict:
    from chalicelib.crew import accounts

    return accounts.reset_account(account_id, by=actor(), role=caller().role, origin=origin())


# --- Events (crew) --------------------------------------------------------------


@app.route("/api/events", methods=["GET"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def list_events() -> dict:
    first, last = schedule.window(query("from"), query("to"))
    listed = schedule.trips_between(first, last)
    if schedule.board_view(query("view")):
        return {"view": "board", "events": [trip.to_card() for trip in listed]}
    return {"events": [trip.to_json() for trip in listed]}


@app.route("/api/events", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def create_event() -> Response:
    trip = schedule.create_trip(body(), by=actor())
    return Response(body={"event": trip.to_json()}, status_code=201)


@app.route("/api/events/{event_id}", methods=["GET"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def event_detail(event_id: str) -> dict:
    return schedule.trip_detail(event_id)


@app.route("/api/events/{event_id}", methods=["PATCH"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def update_event(event_id: str) -> dict:
    return {"event": schedule.update_trip(event_id, body(), by=actor()).to_json()}


@app.route("/api/events/{event_id}/crew", methods=["POST"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def join_trip_crew(event_id: str) -> dict:
    """Put me on this trip's crew (my own account only): tips for the crew then reach me."""
    return {"event": schedule.join_crew(event_id, body(), by=actor()).to_json()}


@app.route("/api/events/{event_id}/cancel", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def cancel_event(event_id: str) -> dict:
    return {"event": schedule.cancel_trip(event_id, by=actor()).to_json()}


# --- Payments (crew) ------------------------------------------------------------


@app.route("/api/events/{event_id}/payments", methods=["POST"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def log_payment(event_id: str) -> Response:
    from chalicelib.money import payments

    logged = payments.log_payment(event_id, body(), by=actor())
    # 201 for a new payment; 200 when a resent tap replays one already logged.
    return Response(
        body={"payment": logged.payment.to_json(), "event": logged.trip.to_json()},
        status_code=201 if logged.created else 200,
    )


@app.route("/api/events/{event_id}/payments/{payment_id}/void", methods=["POST"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def void_payment(event_id: str, payment_id: str) -> dict:
    from chalicelib.money import payments

    # Crew: only their own payment, within 30 minutes (checked in payments).
    voided = payments.void_payment(event_id, payment_id, body(), by=actor(), role=caller().role)
    return voided.to_json()


def csv_file(text: str, filename: str) -> Response:
    """A CSV download (never cached: it is the books)."""
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def own_rows_only() -> str | None:
    """For reports: the account whose rows alone a crew member may see (None: all)."""
    who = caller()
    return (who.account_id or "") if who.role is Role.CREW else None


@app.route("/api/payments.csv", methods=["GET"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def payments_csv() -> Response:
    from chalicelib.money import ledger

    export = ledger.payments_csv(query("from"), query("to"))
    return csv_file(export.text, export.filename)


# --- Refunds, tips and the cash-up (issue 15) ----------------------------------------


@app.route("/api/events/{event_id}/refunds", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def log_refund(event_id: str) -> Response:
    from chalicelib.money import refunds

    logged = refunds.log_refund(event_id, body(), by=actor())
    # 201 for a new refund; 200 when a resent tap replays one already logged.
    return Response(body=logged.to_json(), status_code=201 if logged.created else 200)


@app.route("/api/events/{event_id}/refunds/{refund_id}/void", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def void_refund(event_id: str, refund_id: str) -> dict:
    from chalicelib.money import refunds

    return refunds.void_refund(event_id, refund_id, body(), by=actor()).void_json()


@app.route("/api/tips", methods=["GET"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def tips_report() -> dict:
    from chalicelib.money import tips

    return tips.tips_report(query("from"), query("to"), only=own_rows_only())


@app.route("/api/cashup", methods=["GET"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def cashup() -> Any:
    from chalicelib.money import cashup

    shape = cashup.cashup_format(query("format"))
    report = cashup.cashup(cashup.cashup_day(query("date")), only=own_rows_only())
    if shape == "csv":
        return csv_file(cashup.cashup_csv(report), f"cashup-{report['date']}.csv")
    return report


# --- Waivers --------------------------------------------------------------------
# The patron's pages answer HTML (or JSON when the client asks for it), so they
# render their own errors instead of the middleware's JSON.
WAIVER_FORM_TYPES = ["application/x-www-form-urlencoded", "application/json"]


@app.route("/g/{event_id}/waiver", methods=["GET"])
@guarded
def waiver_page(event_id: str) -> Response:
    from chalicelib.waivers import pages as waiver_pages

    return waiver_pages.waiver_page(event_id, request_facts.incoming(current()))


@app.route("/g/{event_id}/waiver", methods=["POST"], content_types=WAIVER_FORM_TYPES)
@guarded
def sign_waiver(event_id: str) -> Response:
    from chalicelib.waivers import pages as waiver_pages

    return waiver_pages.sign_waiver(event_id, request_facts.incoming(current()))


@app.route("/api/events/{event_id}/waivers/{waiver_id}", methods=["GET"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def waiver_record(event_id: str, waiver_id: str) -> dict:
    from chalicelib.waivers import signing

    return {"waiver": signing.get_waiver(event_id, waiver_id)}


@app.route("/api/events/{event_id}/waivers/{waiver_id}/strike", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def strike_waiver(event_id: str, waiver_id: str) -> dict:
    from chalicelib.waivers import signing

    # The signed record stays as signed; the strike is recorded beside it (issue 21).
    return signing.strike_waiver(event_id, waiver_id, body(), by=actor())


# --- At the dock: boats, who is aboard, departure and return ---------------------------


@app.route("/api/boats", methods=["GET"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def list_boats() -> dict:
    from chalicelib.trips import fleet

    return {"boats": [boat.to_json() for boat in fleet.list_boats()]}


@app.route("/api/boats", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def add_boat() -> Response:
    from chalicelib.trips import fleet

    boat = fleet.add_boat(body(), by=caller().name)
    return Response(body={"boat": boat.to_json()}, status_code=201)


@app.route("/api/boats/{boat_id}", methods=["PATCH"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def update_boat(boat_id: str) -> dict:
    from chalicelib.trips import fleet

    return {"boat": fleet.update_boat(boat_id, body(), by=caller().name).to_json()}


@app.route("/api/events/{event_id}/manifest", methods=["GET"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def trip_manifest(event_id: str) -> dict:
    from chalicelib.dock import manifest

    return manifest.manifest(event_id, caller())


@app.route("/api/events/{event_id}/boarding", methods=["POST"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def mark_boarding(event_id: str) -> dict:
    from chalicelib.dock import manifest

    return manifest.set_boarding(event_id, body(), caller())


@app.route("/api/events/{event_id}/depart", methods=["POST"], authorizer=crew)
@guarded
@allow(*CAPTAINS)
def depart_trip(event_id: str) -> dict:
    from chalicelib.dock import manifest

    return manifest.depart(event_id, caller())


# Any crew member may record the return: whoever ties up ends the overdue watch.
@app.route("/api/events/{event_id}/return", methods=["POST"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def return_trip(event_id: str) -> dict:
    from chalicelib.dock import manifest

    return manifest.return_trip(event_id, caller())


@app.route("/api/events/{event_id}/waiver-qr.svg", methods=["GET"], authorizer=crew)
@guarded
@allow(*EVERY_ROLE)
def waiver_qr(event_id: str) -> Response:
    from chalicelib.dock import manifest

    site = request_facts.site_origins(request_facts.lower_headers(current().headers))
    svg = manifest.waiver_qr_svg(event_id, query("origin"), site)
    return Response(
        body=svg,
        status_code=200,
        headers={"Content-Type": "image/svg+xml"},
    )


# --- Email outbox -----------------------------------------------------------------
# Crew emails leave after the response (chalicelib/outbox.py). On AWS the table's
# stream delivers each new one within seconds and a schedule retries failures.
# Chalice needs the stream's ARN when it reads this file at deploy time, so it is
# the one setting read at import: TABLE_STREAM_ARN in the stage's config (printed
# by scripts/bootstrap.py). Without it (chalice local, tests) no stream handler is
# registered and the schedule (or the local stack's drain thread) sends the emails.


def deliver_new_emails(event: Any) -> dict:
    """DynamoDB stream: send the email of each newly written outbox item."""
    images = (record.new_image for record in event if record.event_name == "INSERT")
    from chalicelib.mail import outbox

    return {"sent": outbox.deliver_new(image for image in images if image)}


TABLE_STREAM_ARN = os.environ.get("TABLE_STREAM_ARN", "")
if TABLE_STREAM_ARN:
    deliver_new_emails = app.on_dynamodb_record(
        stream_arn=TABLE_STREAM_ARN, batch_size=25, starting_position="LATEST"
    )(deliver_new_emails)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def drain_email_outbox(event: Any) -> dict:
    """Every minute: flag trips overdue (their emails join the outbox), then send what
    is due (new ones the stream missed, failures to retry)."""
    from chalicelib.dock import manifest
    from chalicelib.mail import outbox

    overdue = manifest.flag_overdue_trips(limit=25)
    # The alarm "overdue watch stopped" counts these lines (scripts/alarms.py).
    logs.line(level="info", message="overdue watch ran", overdue=overdue)
    return {"overdue": overdue, "sent": outbox.drain_outbox(limit=25)}
