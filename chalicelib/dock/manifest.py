"""At the dock: who is aboard, casting off with a manifest ashore, and coming back.

A captain needs to know, at the moment of casting off, that everyone aboard has
signed, that the count is within the vessel's legal limit and that someone
ashore has the list. So:

- The passengers are the people the trip's signed waivers cover (each signer
  and each minor); only they can be marked aboard, one tap each.
- Boarding past the boat's limit is refused by the transaction's condition on
  the trip's `boarded_count` (chalicelib/db/dock.py), not by a read-then-write.
- Departing records the time, who and the headcount once, and in the same
  transaction owes the shore contacts the manifest email (the outbox sends it,
  so an SES hiccup delays it but never loses it) and starts the float-plan
  watch: 30 minutes past the expected return the scheduled Lambda flags the
  trip overdue and emails the shore contacts, once; a return after that sends
  an "all back".
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection
from datetime import UTC
from typing import Any

from chalicelib import logs, timeutil
from chalicelib import validation as v
from chalicelib.crew.records import Role
from chalicelib.db import get_store
from chalicelib.db.dock import Refused, Voyage, WaiverStruck
from chalicelib.dock.records import Boarding, Departure, Passenger
from chalicelib.errors import BadInput, Conflict, NotFound, found
from chalicelib.records import Action, Actor, Notification
from chalicelib.trips import schedule
from chalicelib.trips.records import Boat, Trip
from chalicelib.web.request_facts import Caller

# A trip without a boat of the fleet and without a capacity: the most the app books.
FALLBACK_LIMIT = 150
# The most people one waiver covers (the signer and the form's most minors), as ids.
MAX_PEOPLE = 99
_BUSY = "the trip is busy at the gangway: try again in a moment"
# The waiver link's origin as the dispatch page sees it (scheme, host, optional port).
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]{1,190}(:[0-9]{1,5})?")


def _actor(who: Caller) -> Actor:
    return Actor(who.name, who.account_id)


def sees_contacts(who: Caller) -> bool:
    """Emergency contacts are for the captain and the owner, not every deckhand."""
    return who.role in (Role.CAPTAIN, Role.OWNER)


def _voyage(trip_id: str) -> Voyage:
    v.path_id(trip_id)
    return found(get_store().dock.voyage(trip_id))


def _boat(trip: Trip) -> Boat | None:
    return get_store().boats.get(trip.boat_id) if trip.boat_id else None


def allowed_aboard(trip: Trip, boat: Boat | None) -> int:
    """The legal limit: the boat's as it stands now, else the trip's own figure."""
    if boat is not None:
        return boat.passenger_limit
    return trip.allowed_aboard or FALLBACK_LIMIT


def passengers(voyage: Voyage) -> list[Passenger]:
    """One passenger per person a signed waiver covers, in signing order."""
    marks = {(b.waiver_id, b.person): b for b in voyage.boardings}
    people: list[Passenger] = []
    # Signing order; within a second by name, so the list does not shuffle between reads.
    # A struck waiver (issue 21) covers nobody: it is not on the manifest.
    waivers = sorted(
        (w for w in voyage.waivers if not w.struck),
        key=lambda w: (timeutil.instant(w.signed_at), w.full_name, w.id),
    )
    for waiver in waivers:
        names = [waiver.full_name, *(str(m.get("name", "")) for m in waiver.minors)]
        for person, name in enumerate(names):
            mark = marks.get((waiver.id, person))
            aboard = bool(mark and mark.boarded)
            people.append(
                Passenger(
                    name=name,
                    minor=person > 0,
                    waiver_id=waiver.id,
                    person=person,
                    signed_at=waiver.signed_at,
                    boarded=aboard,
                    boarded_at=mark.at if mark and aboard else None,
                    boarded_by=mark.by if mark and aboard else None,
                    emergency_name=waiver.emergency_name,
                    emergency_phone=waiver.emergency_phone,
                )
            )
    return people


def _answer(voyage: Voyage, boat: Boat | None, who: Caller) -> dict[str, Any]:
    trip = voyage.trip
    people = passengers(voyage)
    contacts = sees_contacts(who)
    departure = voyage.departure
    return {
        "trip": trip.to_json(),
        "boat": boat.to_json() if boat else None,
        "passengers": [p.to_json(contacts=contacts) for p in people],
        "counts": {
            "signed": len(people),
            "boarded": sum(1 for p in people if p.boarded),
            "capacity": trip.capacity,
            "limit": allowed_aboard(trip, boat),
        },
        "departure": None
        if departure is None
        else {
            "departed_at": departure.departed_at,
            "departed_by": departure.departed_by,
            "headcount": departure.headcount,
            "limit": departure.limit,
            "notification": None if departure.notification is None else str(departure.notification),
        },
    }


def manifest(trip_id: str, who: Caller) -> dict[str, Any]:
    """The trip, its boat, every person covered by a waiver and the counts."""
    voyage = _voyage(trip_id)
    return _answer(voyage, _boat(voyage.trip), who)


def set_boarding(trip_id: str, body: dict[str, Any], who: Caller) -> dict[str, Any]:
    """Mark one person aboard or ashore; answers the manifest as it now stands.

    The person is `person`, their stable id within the waiver (0 the signer, 1.. the
    minors in the order the waiver lists them). A body with `name` alone (a page of
    an older version) marks the first person of that name not yet as asked.

    `mark_id` (optional, a UUID the phone makes for each tap it queues without
    signal): a replay of the mark that is the person's latest changes nothing, even
    when someone else changed the person meanwhile and the replay would undo it.
    """
    v.reject_unknown(body, ("waiver_id", "person", "name", "boarded", "mark_id"))
    mark_id = v.uuid_text(body, "mark_id")
    waiver_id = v.ref_id(body, "waiver_id")
    if waiver_id is None:
        raise BadInput("waiver_id is required", field="waiver_id", code="required")
    index = v.integer(body, "person", minimum=0, maximum=MAX_PEOPLE)
    name = v.text(body, "name", required=index is None, max_len=200)
    boarded = body.get("boarded")
    if not isinstance(boarded, bool):
        raise BadInput("boarded must be true or false", field="boarded")
    voyage = _voyage(trip_id)
    if boarded and any(w.id == waiver_id and w.struck for w in voyage.waivers):
        raise _struck()
    person = _find_person(voyage, waiver_id, index, name or "", boarded)
    if mark_id is not None and any(
        b.mark_id == mark_id and (b.waiver_id, b.person) == (person.waiver_id, person.person)
        for b in voyage.boardings
    ):
        return _answer(voyage, _boat(voyage.trip), who)  # a replay: counted once already
    trip = voyage.trip
    _gone_cancelled_or_out(trip)
    boat = _boat(trip)
    limit = allowed_aboard(trip, boat)
    mark = Boarding(
        trip_id=trip.id,
        waiver_id=person.waiver_id,
        person=person.person,
        name=person.name,
        boarded=boarded,
        at=timeutil.now_iso(),
        by=who.name,
        mark_id=mark_id,
    )
    try:
        action, verb = (Action.BOARDED, "aboard") if boarded else (Action.PUT_ASHORE, "ashore")
        entry = schedule.activity_entry(
            trip.id, _actor(who), action, f"{who.name} marked {person.name} {verb}"
        )
        get_store().dock.board(mark, limit=limit, busy=_BUSY, activity=entry)
    except WaiverStruck:
        raise _struck() from None
    except Refused as refused:
        now = _gone_cancelled_or_out(refused.trip)
        if boarded:
            raise Conflict(
                f"over the limit: {now.boarded_count} aboard already and "
                f"{limit} allowed on {boat.name if boat else 'this trip'}",
                field="boarded",
                code="over_limit",
            ) from None
        raise Conflict("nobody is counted aboard", field="boarded", code="conflict") from None
    return manifest(trip.id, who)


def _find_person(
    voyage: Voyage, waiver_id: str, index: int | None, name: str, boarded: bool
) -> Passenger:
    """The person of that waiver with that id (or, by name alone, case and spacing
    aside, the first not yet as asked), or 400."""
    covered = [p for p in passengers(voyage) if p.waiver_id == waiver_id]
    if not covered:
        raise BadInput(
            "waiver_id is not a signed waiver of this trip: only people with a signed "
            "waiver can be boarded",
            field="waiver_id",
            code="no_waiver",
        )
    if index is not None:
        if index >= len(covered):
            raise BadInput(
                f"person must be one of the {len(covered)} people this waiver covers"
                f" (0 to {len(covered) - 1})",
                field="person",
                code="no_waiver",
            )
        return covered[index]
    wanted = _folded(name)
    named = [p for p in covered if _folded(p.name) == wanted]
    if not named:
        raise BadInput(
            "name is not one of the people this waiver covers", field="name", code="no_waiver"
        )
    return next((p for p in named if p.boarded != boarded), named[0])


def _struck() -> Conflict:
    return Conflict(
        "this waiver was struck from the trip: nobody it covers can be boarded",
        field="waiver_id",
        code="struck",
    )


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def _gone_cancelled_or_out(now: Trip | None) -> Trip:
    """The trip as it stands after a refused change, unless that is why: gone (404),
    cancelled or already out (409)."""
    if now is None:
        raise NotFound("no such event", field="event_id")
    if now.cancelled:
        raise Conflict("this trip is cancelled", field="event_id", code="cancelled")
    if now.departed_at:
        raise _departed_already(now)
    return now


def _departed_already(trip: Trip) -> Conflict:
    return Conflict(
        f"this trip departed at {trip.departed_at}: the manifest is final",
        field="event_id",
        code="already_departed",
    )


def depart(trip_id: str, who: Caller) -> dict[str, Any]:
    """Cast off: record the departure and the headcount, owe the shore contacts the
    manifest, start the overdue watch. 409 when over the limit or departed already."""
    voyage = _voyage(trip_id)
    trip = voyage.trip
    _gone_cancelled_or_out(trip)
    boat = _boat(trip)
    limit = allowed_aboard(trip, boat)
    aboard = [p for p in passengers(voyage) if p.boarded]
    if len(aboard) > limit:
        raise Conflict(
            f"{len(aboard)} aboard of {limit} allowed: put {len(aboard) - limit} ashore "
            "before departing",
            field="boarded",
            code="over_limit",
        )
    departed_at = timeutil.now_iso()
    departure = Departure(
        trip_id=trip.id,
        departed_at=departed_at,
        departed_by=who.name,
        headcount=len(aboard),
        limit=limit,
        manifest=_snapshot(trip, boat, aboard, departed_at, who),
        notification=Notification.PENDING,
    )
    try:
        entry = schedule.activity_entry(
            trip.id,
            _actor(who),
            Action.DEPARTED,
            f"{who.name} departed with {len(aboard)} aboard",
        )
        get_store().dock.depart(
            departure, overdue_after=trip.overdue_after(), busy=_BUSY, activity=entry
        )
    except Refused as refused:
        _gone_cancelled_or_out(refused.trip)
        raise Conflict(
            "someone boarded or put ashore a passenger meanwhile: check the list and depart again",
            field="boarded",
            code="conflict",
        ) from None
    logs.line(level="info", message="trip departed", event_id=trip.id, headcount=len(aboard))
    return manifest(trip.id, who)


def _snapshot(
    trip: Trip, boat: Boat | None, aboard: list[Passenger], departed_at: str, who: Caller
) -> dict[str, Any]:
    """What the shore contacts' email says, as it stood at departure."""
    return {
        "trip": {
            "title": trip.title,
            "starts_at": trip.starts_at,
            "ends_at": trip.ends_at,
            "captain": trip.captain,
            "crew": list(trip.crew),
        },
        "boat": {
            "name": boat.name if boat else trip.boat,
            "uscg_number": boat.uscg_number if boat else None,
            "passenger_limit": boat.passenger_limit if boat else None,
            "inspected": boat.inspected if boat else None,
        },
        "departed_at": departed_at,
        "departed_by": who.name,
        "expected_return": trip.ends_at,
        "people": [
            {
                "name": p.name,
                "minor": p.minor,
                "emergency_name": p.emergency_name,
                "emergency_phone": p.emergency_phone,
            }
            for p in aboard
        ],
    }


def return_trip(trip_id: str, who: Caller) -> dict[str, Any]:
    """Back at the dock: record the return once; after an overdue email, send all-back."""
    for _ in range(3):
        trip = schedule.load_trip(trip_id)
        if not trip.departed_at:
            raise Conflict(
                "this trip has not departed: record the departure first",
                field="event_id",
                code="not_departed",
            )
        if trip.returned_at:
            raise Conflict(
                f"this trip returned at {trip.returned_at} already",
                field="event_id",
                code="already_returned",
            )
        try:
            get_store().dock.come_back(
                trip.id,
                at=timeutil.now_iso(),
                by=who.name,
                overdue_sent=trip.overdue_at is not None,
                busy=_BUSY,
                activity=schedule.activity_entry(
                    trip.id, _actor(who), Action.RETURNED, f"{who.name} recorded the return"
                ),
            )
        except Refused:
            continue  # flagged overdue (or returned) meanwhile: read it again
        logs.line(level="info", message="trip returned", event_id=trip.id)
        return manifest(trip.id, who)
    raise Conflict("the trip changed meanwhile: try again", field="event_id", code="conflict")


def flag_overdue_trips(limit: int = 25) -> int:
    """The scheduled check: flag trips out past due and owe their overdue email, once.

    Never raises: the outbox drain runs after it in the same schedule, and the
    next minute tries again.
    """
    now = timeutil.now()
    dock = get_store().dock
    flagged = 0
    try:
        for trip_id in dock.overdue_now(now.astimezone(UTC), limit):
            if dock.flag_overdue(trip_id, at=timeutil.to_local_iso(now)):
                flagged += 1
                logs.line(level="warning", message="trip overdue", event_id=trip_id)
    except Exception as exc:
        logs.exception("overdue check failed; the next round retries", exc)
    return flagged


def waiver_link(trip_id: str, origin: str | None, site: Collection[str]) -> str:
    """The patrons' waiver link on the site the dispatch page is served from.

    `site`: the origins that are this site (request_facts.site_origins); any other
    origin is refused, so no QR code ever sends a patron elsewhere.
    """
    if not origin:
        raise BadInput("origin is required (e.g. https://dock.example.com)", field="origin")
    if not _ORIGIN.fullmatch(origin):
        raise BadInput(
            "origin must be a site's scheme and host, like https://dock.example.com",
            field="origin",
        )
    if origin.lower() not in {s.lower() for s in site}:
        raise BadInput(
            "origin must be this site's own origin (the dispatch page's)", field="origin"
        )
    return f"{origin}/g/{trip_id}/waiver"


def waiver_qr_svg(trip_id: str, origin: str | None, site: Collection[str]) -> str:
    """The waiver link as a QR code (SVG, drawn by segno) for patrons to scan at the dock."""
    trip = schedule.load_trip(trip_id)
    link = waiver_link(trip.id, origin, site)
    import segno  # imported here: only this route pays for it

    code = segno.make(link, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=8,
        border=4,
        xmldecl=False,
        title=f"Waiver link for {trip.title}",
        dark="#000",
        light="#fff",
    )
    return out.getvalue().decode("utf-8")
