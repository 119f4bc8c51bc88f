"""Guest waivers: the signing rules, storing a signed record, and the crew's read.

A signed waiver is a legal record: it must be exactly what the patron saw and
agreed to, and it never changes. So:

- The agreement text is a published, versioned file (chalicelib/waiver_text.py)
  whose SHA-256 is pinned; the record keeps its version and the SHA-256 of its
  bytes, and a signing against any other version is refused.
- Signing is one transaction (chalicelib/db/waivers.py): the waiver (never
  over an existing key), the drawn signature if any (kept out of the
  trip-detail Query), and the people covered added to the trip's count
  (the trip exists and is not cancelled).
- The signer's copy goes out through the email outbox: the request never waits
  for SES, and a failed send is retried.

The patron's pages are chalicelib/waiver_pages.py; reading and checking the
form is chalicelib/waiver_form.py.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import date
from typing import Any

from chalicelib import config, timeutil
from chalicelib import validation as v
from chalicelib.crew import throttle
from chalicelib.db import get_store
from chalicelib.db.table import Cancelled
from chalicelib.db.waivers import StrikeRefused, TripRefused
from chalicelib.errors import Conflict, Gone, NotFound, TooLarge
from chalicelib.records import Action, Actor, Notification
from chalicelib.trips import schedule
from chalicelib.trips.records import Trip
from chalicelib.waivers.agreement import WaiverText, signed_text
from chalicelib.waivers.form import MAX_BODY_BYTES, PNG_DATA_URL, Submission
from chalicelib.waivers.records import Signature, Waiver

SIGN_SCOPE = "waiver"
# Counted per source address on every signing attempt. Generous, because a whole
# boat may sign at once on the marina's Wi-Fi (one address) and some will mistype.
SIGN_LIMIT = 30
SIGN_WINDOW_SECONDS = 10 * 60
USER_AGENT_MAX = 512
# A trip accepts waivers covering at most this many people per seat: room for
# no-shows replaced and re-signed forms, not for a stranger inflating "N covered".
COVERED_PER_SEAT = 2
_BUSY = "Many people are signing right now: please send the form again"


class TripFull(Conflict):
    """409: the trip's waivers already cover as many people as it accepts."""

    def __init__(self, trip: Trip) -> None:
        super().__init__(
            "This trip already has all the waivers it can take, so yours was not stored. "
            "Please see the crew at the dock: they will sort it out with you.",
            field="event_id",
            code="trip_full",
        )
        self.trip = trip


def most_covered(trip: Trip) -> int | None:
    """How many people a trip's waivers may cover in all (None: no capacity, no limit)."""
    return None if trip.capacity is None else COVERED_PER_SEAT * trip.capacity


def check_room(trip: Trip, people: int) -> None:
    """409 when `people` more would take the trip past what it accepts."""
    most = most_covered(trip)
    if most is not None and trip.waiver_count + people > most:
        raise TripFull(trip)


def party_room(trip: Trip) -> int | None:
    """The most people one waiver may cover now: the trip's seats not yet covered, but
    always one (a replaced no-show, a re-signed form); None without a capacity."""
    if trip.capacity is None:
        return None
    return max(1, trip.capacity - trip.waiver_count)


def party_problem(trip: Trip, people: int) -> str | None:
    """Why one waiver may not cover `people` on this trip now (None: it may)."""
    room = party_room(trip)
    if room is None or people <= room:
        return None
    return (
        f"This trip has room for {room} more {'person' if room == 1 else 'people'}, so one"
        f" waiver can cover at most {room}: please see the crew at the dock about the others"
    )


def check_party(trip: Trip, people: int) -> None:
    """409 naming `minors` when one waiver would cover more than the trip has room for."""
    problem = party_problem(trip, people)
    if problem is not None:
        raise Conflict(problem, field="minors", code="no_room")


class TripClosed(Gone):
    """410: the trip is cancelled or over; the page names the trip."""

    def __init__(self, message: str, *, code: str, trip: Trip) -> None:
        super().__init__(message, field="event_id", code=code)
        self.trip = trip


def open_trip(trip_id: str) -> Trip:
    """The trip if patrons may sign for it now; 404 unknown, 410 cancelled or over."""
    trip = schedule.load_trip(trip_id)
    if trip.cancelled:
        raise TripClosed(
            "This trip was cancelled, so there is no waiver to sign for it. "
            "If you have questions, contact the crew who sent you the link.",
            code="cancelled",
            trip=trip,
        )
    if schedule.trip_is_over(trip):
        raise TripClosed(
            "This trip has already finished, so waivers can no longer be signed for it.",
            code="finished",
            trip=trip,
        )
    return trip


def check_size(body_bytes: int) -> None:
    if body_bytes > MAX_BODY_BYTES:
        raise TooLarge(
            f"The form was larger than we accept ({MAX_BODY_BYTES // 1024} KB). "
            "If you drew a signature, clear it and send the form again.",
            field="body",
        )


def count_attempt(source_ip: str) -> None:
    """Count a signing attempt from this address; 429 past the limit."""
    throttle.hit(
        SIGN_SCOPE,
        throttle.source_key(source_ip),
        limit=config.waiver_sign_limit(SIGN_LIMIT),
        window_seconds=SIGN_WINDOW_SECONDS,
    )


def agreed_to(sub: Submission, text: WaiverText) -> bool:
    """Whether the page the patron signed showed this text (when it says which it showed)."""
    return not (
        (sub.waiver_version and sub.waiver_version != text.version)
        or (sub.waiver_sha256 and sub.waiver_sha256 != text.sha256)
    )


def trip_day(trip: Trip) -> date:
    """The trip's date in the operator's zone (children must be minors on it)."""
    return timeutil.local(trip.starts_at).date()


def trip_snapshot(trip: Trip) -> dict[str, Any]:
    """What a waiver keeps of its trip, as the page showed it when signed."""
    shown = {"title": trip.title, "starts_at": trip.starts_at, "ends_at": trip.ends_at}
    if trip.boat is not None:
        shown["boat"] = trip.boat
    return shown


def store_signed(
    trip: Trip,
    clean: dict[str, Any],
    drawing: bytes | None,
    text: WaiverText,
    *,
    ip: str,
    user_agent: str,
) -> Waiver:
    """Write the waiver, its drawing and the trip's count in one transaction."""
    signed_at = timeutil.now_iso()
    digest = hashlib.sha256(drawing).hexdigest() if drawing else None
    waiver = Waiver(
        id=uuid.uuid4().hex,
        trip_id=trip.id,
        **clean,
        people_covered=1 + len(clean["minors"]),
        waiver_version=text.version,
        waiver_sha256=text.sha256,
        signed_at=signed_at,
        agreed=True,
        drawn_signature=drawing is not None,
        drawn_signature_sha256=digest,
        # A later edit of the trip does not change what this waiver was signed for.
        trip=trip_snapshot(trip),
        ip=ip,
        user_agent=user_agent[:USER_AGENT_MAX],
        notification=Notification.PENDING,
    )
    drawn = None
    if drawing is not None and digest is not None:
        drawn = Signature(waiver.id, trip.id, drawing, digest, signed_at)
    people = waiver.people_covered
    entry = schedule.activity_entry(
        trip.id,
        Actor(waiver.full_name),  # the patron: no account
        Action.WAIVER_SIGNED,
        f"{waiver.full_name} signed a waiver ({people} {'person' if people == 1 else 'people'})",
    )
    # The count is checked in the transaction's condition too, so signings at the
    # same moment cannot slip past it; a trip whose capacity changed meanwhile is
    # read again and tried once more.
    for last_try in (False, True):
        check_room(trip, waiver.people_covered)
        check_party(trip, waiver.people_covered)
        try:
            get_store().waivers.add(
                waiver,
                drawn,
                busy=_BUSY,
                capacity=trip.capacity,
                most_covered=most_covered(trip),
                party_room=_seats_condition(trip, waiver.people_covered),
                activity=entry,
            )
            return waiver
        except TripRefused:
            trip = open_trip(trip.id)  # cancelled or removed meanwhile: its 404/410
            check_room(trip, waiver.people_covered)
            check_party(trip, waiver.people_covered)
            if last_try:
                raise _not_stored() from None
        except Cancelled:
            raise _not_stored() from None
    raise _not_stored()


def _seats_condition(trip: Trip, people: int) -> int | None:
    """The most the trip's count may be before a waiver of `people` (the transaction's
    side of `party_room`); None when any count will do (one person, no capacity)."""
    if trip.capacity is None or people <= 1:
        return None
    return trip.capacity - people


def strike_waiver(
    trip_id: str, waiver_id: str, body: dict[str, Any], *, by: Actor | str
) -> dict[str, Any]:
    """Strike a waiver from its trip (a captain's or the owner's call, with a reason).

    The signed record stays stored and unchanged; the strike is written beside it
    once (who, when, why), its people stop counting toward the trip's waivers and
    the manifest, and none of them can be boarded. Striking again changes nothing
    (`already_struck: true`); 409 `aboard` while someone it covers is marked aboard.
    """
    by = Actor.of(by)
    v.path_id(trip_id)
    v.path_id(waiver_id, "waiver")
    v.reject_unknown(body, ("reason",))
    reason = v.text(body, "reason", required=True, max_len=300, multiline=True) or ""
    store = get_store()
    waiver = store.waivers.get(trip_id, waiver_id)
    if waiver is None:
        raise NotFound("no such waiver", field="waiver_id")
    already = waiver.struck
    if not already:
        people = waiver.people_covered
        entry = schedule.activity_entry(
            trip_id,
            by,
            Action.WAIVER_STRUCK,
            f"{by.name} struck the waiver of {waiver.full_name}"
            f" ({people} {'person' if people == 1 else 'people'}): {reason}",
        )
        try:
            store.waivers.strike(
                waiver, at=entry.at, by=by, reason=reason, busy=_BUSY, activity=entry
            )
        except StrikeRefused as refused:
            if refused.why == "aboard":
                raise Conflict(
                    "someone this waiver covers is marked aboard: put them ashore first",
                    field="waiver_id",
                    code="aboard",
                ) from None
            if refused.why == "gone":
                raise NotFound("no such waiver", field="waiver_id") from None
            already = True
        waiver = store.waivers.get(trip_id, waiver_id) or waiver
    return {
        "waiver": waiver.summary_json(),
        "event": schedule.load_trip(trip_id).to_json(),
        "already_struck": already,
    }


def _not_stored() -> Conflict:
    return Conflict("Your waiver could not be stored; please send it again", code="not_stored")


def get_waiver(trip_id: str, waiver_id: str) -> dict[str, Any]:
    """One signed waiver, whole: its fields, the drawn signature and the text signed."""
    v.path_id(trip_id)
    v.path_id(waiver_id, "waiver")
    store = get_store()
    waiver = store.waivers.get(trip_id, waiver_id)
    if waiver is None:
        raise NotFound("no such waiver", field="waiver_id")
    record = waiver.to_json()
    record["signature_png"] = None
    if waiver.drawn_signature:
        drawn = store.waivers.signature(trip_id, waiver_id)
        if drawn is not None:
            record["signature_png"] = PNG_DATA_URL + base64.b64encode(drawn.png).decode("ascii")
    record["waiver_text"] = signed_text(waiver.waiver_version, waiver.waiver_sha256)
    return record
