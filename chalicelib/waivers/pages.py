"""The patron's waiver pages: GET shows the trip and the form, POST signs.

HTTP only: which page (or JSON) answers what, with the values typed kept on
every page shown again. The rules are chalicelib/waivers.py; reading and
checking the form is chalicelib/waiver_form.py; page plumbing (headers, CSP)
is chalicelib/pages.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib import logs, timeutil
from chalicelib.errors import ApiError, Conflict
from chalicelib.trips.records import Trip
from chalicelib.waivers import form, signing
from chalicelib.waivers.agreement import WaiverText, current_text
from chalicelib.waivers.form import (
    EMAIL_MAX,
    MAX_MINORS,
    NAME_MAX,
    TYPED_FIELDS,
    Problem,
    Submission,
)
from chalicelib.waivers.records import Waiver
from chalicelib.web import pages
from chalicelib.web.request_facts import Incoming

MINOR_ROWS = 3  # blank rows for children on a fresh form
MORE_ROWS = 3  # rows the "Add rows for more children" button adds


def trip_view(trip: Trip) -> dict[str, Any]:
    """The trip as the page shows it."""
    return {
        "title": trip.title,
        "boat": trip.boat,
        "starts_at": trip.starts_at,
        "ends_at": trip.ends_at,
        "when": timeutil.human_span(trip.starts_at, trip.ends_at),
    }


def _closed_trip(error: ApiError) -> dict[str, Any]:
    """A closed or full trip's page names the trip."""
    if isinstance(error, (signing.TripClosed, signing.TripFull)):
        return {"trip": trip_view(error.trip)}
    return {}


def _answer(request: Incoming, produce: Callable[[], Response]) -> Response:
    return pages.answer(request, produce, context_of=_closed_trip)


def waiver_page(trip_id: str, request: Incoming) -> Response:
    """GET /g/{id}/waiver: the trip, the current agreement and an empty form."""
    return _answer(request, lambda: _form_page(signing.open_trip(trip_id), current_text()))


def sign_waiver(trip_id: str, request: Incoming) -> Response:
    """POST /g/{id}/waiver: validate, store immutably, confirm (a page, or JSON if asked)."""
    return _answer(request, lambda: _sign(trip_id, request))


def _sign(trip_id: str, request: Incoming) -> Response:
    signing.check_size(len(request.raw_body))
    signing.count_attempt(request.source_ip)
    trip = signing.open_trip(trip_id)
    sub = form.read(request)
    text = current_text()
    if sub.website.strip():
        return _pretend_signed(trip, sub, text, request)
    if sub.more_rows and not request.wants_json:
        notice = "More rows for children were added below. Nothing has been signed yet."
        return _form_page(trip, text, sub, notice=notice)
    if not signing.agreed_to(sub, text):
        return _text_changed(trip, text, sub, request)
    clean, drawing, problems = form.validate(sub, trip_date=signing.trip_day(trip))
    too_many = signing.party_problem(trip, 1 + len(clean["minors"])) if not problems else None
    if too_many is not None:
        problems = [Problem("minors", "minors", too_many, "no_room")]
    if problems:
        if request.wants_json:
            return _json_problems(problems)
        return _form_page(trip, text, sub, problems, status=400)
    waiver = signing.store_signed(
        trip, clean, drawing, text, ip=request.source_ip, user_agent=request.user_agent
    )
    return _signed(trip, waiver, request)


def _form_page(
    trip: Trip,
    text: WaiverText,
    submitted: Submission | None = None,
    problems: list[Problem] | tuple[Problem, ...] = (),
    *,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    sub = submitted or Submission()
    rows = list(sub.minors)
    while rows and not any(s.strip() for s in rows[-1]):
        rows.pop()  # trailing blank rows: the page adds fresh ones
    wanted = len(rows) + (MORE_ROWS if sub.more_rows else 1)
    wanted = max(MINOR_ROWS, min(wanted, MAX_MINORS))
    rows += [("", "")] * (wanted - len(rows))
    return pages.page(
        "waiver/page.html",
        status=status,
        script=True,
        trip=trip_view(trip),
        text=text,
        values={name: sub.values.get(name, "") for name in TYPED_FIELDS},
        minor_rows=[{"index": i, "name": n, "dob": d} for i, (n, d) in enumerate(rows)],
        can_add_rows=len(rows) < MAX_MINORS,
        max_minors=MAX_MINORS,
        agree=sub.agree,
        drawing_dropped=bool(sub.signature_png),
        errors={p.anchor: p.message for p in problems},
        summary=[(p.anchor, p.message) for p in problems],
        notice=notice,
        today=timeutil.today_local().isoformat(),
    )


def _signed(trip: Trip, waiver: Waiver, request: Incoming) -> Response:
    if request.wants_json:
        return pages.json_answer({"waiver": waiver.receipt_json()}, status=201)
    return pages.page(
        "waiver/confirmation.html",
        status=201,
        trip=trip_view(trip),
        waiver=waiver.receipt_json(),
        signed=timeutil.human_stamp(waiver.signed_at),
        email=waiver.email,
    )


def _pretend_signed(trip: Trip, sub: Submission, text: WaiverText, request: Incoming) -> Response:
    """The honeypot was filled: answer as if signed so a bot learns nothing; store nothing."""
    logs.line(level="warning", message="waiver honeypot filled; nothing stored")
    minors = [{"name": n.strip(), "date_of_birth": d.strip()} for n, d in sub.minors if n.strip()]
    minors = minors[:MAX_MINORS]
    waiver = Waiver(
        id=uuid.uuid4().hex,
        trip_id=trip.id,
        full_name=sub.values.get("full_name", "").strip()[:NAME_MAX],
        email=sub.values.get("email", "").strip()[:EMAIL_MAX],
        phone="",
        date_of_birth="",
        emergency_name="",
        emergency_phone="",
        minors=minors,
        signature="",
        people_covered=1 + len(minors),
        waiver_version=text.version,
        waiver_sha256=text.sha256,
        signed_at=timeutil.now_iso(),
    )
    return _signed(trip, waiver, request)


def _text_changed(trip: Trip, text: WaiverText, sub: Submission, request: Incoming) -> Response:
    """The agreement changed after the page was loaded: they must agree to the new one."""
    if request.wants_json:
        raise Conflict(
            f"waiver_version: the waiver text is now version {text.version}; "
            "show it to the signer and send again",
            field="waiver_version",
            code="waiver_changed",
        )
    sub.agree = False
    return _form_page(
        trip,
        text,
        sub,
        status=409,
        notice=(
            "The waiver text was updated after you opened this page. Please read the "
            "new version below, then tick the box and sign again. Nothing has been signed yet."
        ),
    )


def _json_problems(problems: list[Problem]) -> Response:
    first = problems[0]
    body = {
        "code": first.code,
        "message": f"{first.field}: {first.message}",
        "field": first.field,
        "errors": [
            {"code": p.code, "message": f"{p.field}: {p.message}", "field": p.field}
            for p in problems
        ],
    }
    return pages.json_answer(body, status=400, headers={"Vary": "Accept"})
