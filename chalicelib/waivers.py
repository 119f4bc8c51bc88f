"""Guest waivers: the patron's signing page, immutable signed records, the crew's view.

A signed waiver is a legal record: it must be exactly what the patron saw and
agreed to, and it never changes. So:

- The agreement text is a published, versioned file (chalicelib/waiver_text.py)
  whose SHA-256 is pinned; the page renders that file verbatim, and the record
  keeps its version and the SHA-256 of its bytes.
- Signing is one TransactWriteItems: put the waiver (condition: the key is
  new, so nothing is ever overwritten), put the drawn signature if any under
  `XSIG#<id>` (above the event-detail Query's ceiling, so it never rides along)
  and add the people covered to the trip's `waiver_count` (condition: the trip
  exists and is not cancelled). No code path updates or deletes a waiver's
  signed content; only the email outbox's delivery bookkeeping (`notification`
  and `_notify_*`) changes afterwards.
- The signer's copy goes out through the email outbox: the request never waits
  for SES, and a failed send is retried.

Reading and checking the form lives in chalicelib/waiver_form.py; this module
has the pages, storing, the crew's read and the email.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from typing import Any

from chalice import Response

from chalicelib import (
    aws,
    config,
    events,
    logs,
    notifications,
    outbox,
    table,
    templates,
    throttle,
    timeutil,
    transactions,
    waiver_form,
    webpages,
)
from chalicelib import validation as v
from chalicelib.errors import Conflict, Gone, NotFound, TooLarge
from chalicelib.waiver_form import (
    EMAIL_MAX,
    MAX_BODY_BYTES,
    MAX_MINORS,
    NAME_MAX,
    PNG_DATA_URL,
    TYPED_FIELDS,
    Problem,
    Submission,
)
from chalicelib.waiver_text import WaiverText, current_text, signed_text, text_version
from chalicelib.webpages import Incoming

SIGN_SCOPE = "waiver"
# Counted per source address on every signing attempt. Generous, because a whole
# boat may sign at once on the marina's Wi-Fi (one address) and some will mistype.
SIGN_LIMIT = 30
SIGN_WINDOW_SECONDS = 10 * 60
MINOR_ROWS = 3  # blank rows for children on a fresh form
MORE_ROWS = 3  # rows the "Add rows for more children" button adds
USER_AGENT_MAX = 512
SIGNATURE_KIND = "waiver_signature"
# What a waiver keeps of its trip, as the page showed it when signed.
TRIP_SNAPSHOT = ("title", "starts_at", "ends_at", "boat")


# --- Trips as patrons see them ---------------------------------------------------


class TripClosed(Gone):
    """410: the trip is cancelled or over; the page names the trip."""

    def __init__(self, message: str, *, code: str, trip: dict[str, Any]) -> None:
        super().__init__(message, field="event_id", code=code)
        self.trip = trip


def _local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(config.operator_tz())


def _human_day(moment: datetime) -> str:
    return f"{moment:%A}, {moment:%B} {moment.day}, {moment.year}"


def _human_time(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def human_span(starts_at: str, ends_at: str) -> str:
    """'Saturday, November 28, 2026, 5:30 PM – 7:30 PM PST' in the operator's zone."""
    starts, ends = _local(starts_at), _local(ends_at)
    if starts.date() == ends.date():
        end_text = _human_time(ends)
    else:
        end_text = f"{_human_day(ends)}, {_human_time(ends)}"
    return f"{_human_day(starts)}, {_human_time(starts)} – {end_text} {ends.tzname()}"


def human_stamp(stamp: str) -> str:
    """'Thursday, November 26, 2026 at 9:05 AM PST' in the operator's zone."""
    moment = _local(stamp)
    return f"{_human_day(moment)} at {_human_time(moment)} {moment.tzname()}"


def _trip_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": item.get("title", ""),
        "boat": item.get("boat"),
        "starts_at": item.get("starts_at"),
        "ends_at": item.get("ends_at"),
        "when": human_span(item["starts_at"], item["ends_at"]),
    }


def _open_trip(event_id: str) -> dict[str, Any]:
    """The trip item if patrons may sign for it now; 404 unknown, 410 cancelled or over."""
    item = events.load_event(event_id)
    if item.get("status") == "cancelled":
        raise TripClosed(
            "This trip was cancelled, so there is no waiver to sign for it. "
            "If you have questions, contact the crew who sent you the link.",
            code="cancelled",
            trip=_trip_view(item),
        )
    if datetime.fromisoformat(item["ends_at"]) <= timeutil.now():
        raise TripClosed(
            "This trip has already finished, so waivers can no longer be signed for it.",
            code="finished",
            trip=_trip_view(item),
        )
    return item


# --- The page --------------------------------------------------------------------


def waiver_page(event_id: str, request: Incoming) -> Response:
    """GET /g/{id}/waiver: the trip, the current agreement and an empty form."""
    return webpages.answer(request, lambda: _form_page(_open_trip(event_id), current_text()))


def _form_page(
    trip: dict[str, Any],
    text: WaiverText,
    submitted: Submission | None = None,
    problems: list[Problem] | tuple[Problem, ...] = (),
    *,
    status: int = 200,
    notice: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    sub = submitted or Submission()
    rows = list(sub.minors)
    while rows and not any(s.strip() for s in rows[-1]):
        rows.pop()  # trailing blank rows: the page adds fresh ones
    wanted = len(rows) + (MORE_ROWS if sub.more_rows else 1)
    wanted = max(MINOR_ROWS, min(wanted, MAX_MINORS))
    rows += [("", "")] * (wanted - len(rows))
    errors = {p.anchor: p.message for p in problems}
    return webpages.page(
        "waiver/page.html",
        status=status,
        script=True,
        headers=headers,
        trip=_trip_view(trip),
        text=text,
        values={name: sub.values.get(name, "") for name in TYPED_FIELDS},
        minor_rows=[{"index": i, "name": n, "dob": d} for i, (n, d) in enumerate(rows)],
        can_add_rows=len(rows) < MAX_MINORS,
        max_minors=MAX_MINORS,
        agree=sub.agree,
        drawing_dropped=bool(sub.signature_png),
        errors=errors,
        summary=[(p.anchor, p.message) for p in problems],
        notice=notice,
        today=timeutil.today_local().isoformat(),
    )


# --- Signing ---------------------------------------------------------------------


def sign_waiver(event_id: str, request: Incoming) -> Response:
    """POST /g/{id}/waiver: validate, store immutably, confirm (a page, or JSON if asked)."""
    return webpages.answer(request, lambda: _sign(event_id, request))


def _sign(event_id: str, request: Incoming) -> Response:
    if len(request.raw_body) > MAX_BODY_BYTES:
        raise TooLarge(
            f"The form was larger than we accept ({MAX_BODY_BYTES // 1024} KB). "
            "If you drew a signature, clear it and send the form again.",
            field="body",
        )
    throttle.hit(
        SIGN_SCOPE, request.source_ip, limit=SIGN_LIMIT, window_seconds=SIGN_WINDOW_SECONDS
    )
    trip = _open_trip(event_id)
    sub = waiver_form.read(request)
    text = current_text()
    if sub.website.strip():
        return _pretend_signed(trip, sub, text, request)
    if sub.more_rows and not request.wants_json:
        notice = "More rows for children were added below. Nothing has been signed yet."
        return _form_page(trip, text, sub, notice=notice)
    if (sub.waiver_version and sub.waiver_version != text.version) or (
        sub.waiver_sha256 and sub.waiver_sha256 != text.sha256
    ):
        return _text_changed(trip, text, sub, request)
    trip_date = _local(trip["starts_at"]).date()
    clean, drawing, problems = waiver_form.validate(sub, trip_date=trip_date)
    if problems:
        if request.wants_json:
            return _json_problems(problems)
        return _form_page(trip, text, sub, problems, status=400)
    item = _store(event_id, trip, clean, drawing, text, request)
    return _signed(trip, item, request, email=clean["email"])


# --- Storing ---------------------------------------------------------------------


def waiver_sk(waiver_id: str) -> str:
    return f"{table.WAIVER_PREFIX}{waiver_id}"


def signature_sk(waiver_id: str) -> str:
    return f"{table.SIGNATURE_PREFIX}{waiver_id}"


def _store(
    event_id: str,
    trip: dict[str, Any],
    clean: dict[str, Any],
    drawing: bytes | None,
    text: WaiverText,
    request: Incoming,
) -> dict[str, Any]:
    """Write the waiver, its drawing and the trip's count in one transaction."""
    waiver_id = uuid.uuid4().hex
    pk, sk = table.event_pk(event_id), waiver_sk(waiver_id)
    signed_at = timeutil.now_iso()
    people = 1 + len(clean["minors"])
    snapshot = {k: trip.get(k) for k in TRIP_SNAPSHOT}
    item = {
        "PK": pk,
        "SK": sk,
        "kind": "waiver",
        "id": waiver_id,
        "event_id": event_id,
        **clean,
        "people_covered": people,
        "agreed": True,
        "drawn_signature": drawing is not None,
        "drawn_signature_sha256": hashlib.sha256(drawing).hexdigest() if drawing else None,
        "waiver_version": text.version,
        "waiver_sha256": text.sha256,
        # The trip as the page showed it when signed (a later edit of the trip
        # does not change what this waiver was signed for).
        "trip": {k: val for k, val in snapshot.items() if val is not None},
        "signed_at": signed_at,
        "ip": request.source_ip,
        "user_agent": request.user_agent[:USER_AGENT_MAX],
        **outbox.enqueue_fields(pk, sk),
    }
    drawn = None
    if drawing is not None:
        drawn = {
            "PK": pk,
            "SK": signature_sk(waiver_id),
            "kind": SIGNATURE_KIND,
            "waiver_id": waiver_id,
            "event_id": event_id,
            "png": drawing,
            "sha256": item["drawn_signature_sha256"],
            "signed_at": signed_at,
        }
    try:
        transactions.transact_write(
            signing_writes(item, drawn, people),
            busy="Many people are signing right now: please send the form again",
        )
    except transactions.Cancelled as cancelled:
        if not cancelled.codes or cancelled.codes[-1] == transactions.CONDITION_FAILED:
            _open_trip(event_id)  # cancelled or removed meanwhile: its 404/410 page
        raise Conflict(
            "Your waiver could not be stored; please send it again", code="not_stored"
        ) from None
    return item


def signing_writes(
    item: dict[str, Any], drawn: dict[str, Any] | None, people: int
) -> list[dict[str, Any]]:
    """The TransactItems of one signing. Both puts refuse an existing key: never overwrite."""
    name = config.table_name()
    writes = [
        {
            "Put": {
                "TableName": name,
                "Item": table.to_item(record),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        for record in (item, drawn)
        if record is not None
    ]
    writes.append(
        {
            "Update": {
                "TableName": name,
                "Key": table.to_item({"PK": item["PK"], "SK": table.EVENT_SK}),
                "UpdateExpression": "ADD waiver_count :people",
                "ConditionExpression": "attribute_exists(PK) AND #status <> :cancelled",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":people": table.to_value(people),
                    ":cancelled": table.to_value("cancelled"),
                },
            }
        }
    )
    return writes


# --- Answers ---------------------------------------------------------------------


def public_waiver(item: dict[str, Any]) -> dict[str, Any]:
    """What the signer's client gets back: enough to confirm, no contact details."""
    return {
        "id": item["id"],
        "event_id": item["event_id"],
        "full_name": item["full_name"],
        "minors": item["minors"],
        "people_covered": item["people_covered"],
        "signed_at": item["signed_at"],
        "waiver_version": item["waiver_version"],
        "waiver_sha256": item["waiver_sha256"],
    }


def _signed(
    trip: dict[str, Any], item: dict[str, Any], request: Incoming, *, email: str
) -> Response:
    if request.wants_json:
        return webpages.json_answer({"waiver": public_waiver(item)}, status=201)
    return webpages.page(
        "waiver/confirmation.html",
        status=201,
        trip=_trip_view(trip),
        waiver=item,
        signed=human_stamp(item["signed_at"]),
        email=email,
    )


def _pretend_signed(
    trip: dict[str, Any], sub: Submission, text: WaiverText, request: Incoming
) -> Response:
    """The honeypot was filled: answer as if signed so a bot learns nothing; store nothing."""
    logs.line(level="warning", message="waiver honeypot filled; nothing stored")
    minors = [{"name": n.strip(), "date_of_birth": d.strip()} for n, d in sub.minors if n.strip()]
    item = {
        "id": uuid.uuid4().hex,
        "event_id": trip["id"],
        "full_name": sub.values.get("full_name", "").strip()[:NAME_MAX],
        "minors": minors[:MAX_MINORS],
        "people_covered": 1 + len(minors[:MAX_MINORS]),
        "signed_at": timeutil.now_iso(),
        "waiver_version": text.version,
        "waiver_sha256": text.sha256,
    }
    return _signed(trip, item, request, email=sub.values.get("email", "").strip()[:EMAIL_MAX])


def _text_changed(
    trip: dict[str, Any], text: WaiverText, sub: Submission, request: Incoming
) -> Response:
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
    return webpages.json_answer(body, status=400, headers={"Vary": "Accept"})


# --- Crew ------------------------------------------------------------------------


def get_waiver(event_id: str, waiver_id: str) -> dict[str, Any]:
    """One signed waiver, whole: its fields, the drawn signature and the text signed."""
    v.path_id(event_id)
    v.path_id(waiver_id, "waiver")
    pk = table.event_pk(event_id)

    def stored(sk: str) -> dict[str, Any] | None:
        found = aws.dynamodb().get_item(
            TableName=config.table_name(),
            Key=table.to_item({"PK": pk, "SK": sk}),
            ConsistentRead=True,
        )
        return table.from_item(found["Item"]) if "Item" in found else None

    item = stored(waiver_sk(waiver_id))
    if item is None:
        raise NotFound("no such waiver", field="waiver_id")
    record = events.public_child(item)
    record["signature_png"] = None
    if item.get("drawn_signature"):
        drawn = stored(signature_sk(waiver_id))
        if drawn is not None:
            png = drawn["png"]
            png = getattr(png, "value", png)  # boto3's Binary wraps the bytes
            record["signature_png"] = PNG_DATA_URL + base64.b64encode(png).decode("ascii")
    record["waiver_text"] = signed_text(item)
    return record


def email_for(item: dict[str, Any]) -> notifications.Email:
    """The signer's copy: the full agreement they signed, their details, the time signed.

    Called by the outbox for items of kind "waiver". Raises (so the outbox
    retries and then logs an error) rather than send a text that is not the one
    signed.
    """
    text = text_version(item["waiver_version"])
    if text.sha256 != item["waiver_sha256"]:
        raise RuntimeError(f"waiver {item['id']}: the text signed is no longer available")
    snapshot = item.get("trip") or {}
    trip = {k: snapshot.get(k) for k in TRIP_SNAPSHOT}
    starts_at, ends_at = trip["starts_at"], trip["ends_at"]
    when = human_span(starts_at, ends_at) if starts_at and ends_at else ""
    day = _local(starts_at) if starts_at else None
    subject = f"Your signed waiver: {trip['title'] or 'your trip'}"
    if day:
        subject += f", {day:%a %b} {day.day}"
    context = {
        "subject": subject,
        "waiver": item,
        "trip": trip,
        "when": when,
        "signed": human_stamp(item["signed_at"]),
        "text": text,
    }
    return notifications.Email(
        to=[item["email"]],
        subject=subject,
        text=templates.render("email/waiver.txt", **context),
        html=templates.render("email/waiver.html", **context),
    )
