"""The emails the app sends, rendered from templates, and which record gets which.

The outbox (chalicelib/outbox.py) asks `render` for the email an item owes
when it sends it; `RENDERERS` is that registry, by the item's kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib import config, templates, timeutil
from chalicelib import validation as v
from chalicelib.dock.records import Departure, ShoreNotice
from chalicelib.mail.notifications import Email
from chalicelib.money import amounts
from chalicelib.money.records import Payment, Receipt
from chalicelib.records import Kind, Record
from chalicelib.trips import schedule
from chalicelib.trips.records import Trip
from chalicelib.waivers.agreement import text_version
from chalicelib.waivers.records import Waiver

# What a waiver keeps of its trip, as the page showed it when signed.
TRIP_SNAPSHOT = ("title", "starts_at", "ends_at", "boat")


def payment_email(payment: Payment) -> Email:
    """The crew email for a logged payment.

    Totals are the trip's as the email goes out, normally seconds after the
    payment: with two payments at once both emails show the total of both.
    """
    trip = schedule.load_trip(payment.trip_id)
    starts = timeutil.local(trip.starts_at)
    method = amounts.method_label(payment.method)
    amount = amounts.display_dollars(payment.amount_cents)
    tip = " tip" if payment.tip else ""
    subject = (
        f"{amount} {method}{tip} from {payment.patron_name} — {trip.title},"
        f" {timeutil.short_day(starts)}"
    )
    logged = timeutil.local(payment.logged_at)
    balance = trip.balance_cents
    context = {
        "payment": payment.to_json(),
        "event": trip.to_json(),
        "amount": amount,
        "method": method,
        "trip_day": f"{starts:%A, %B} {starts.day}",
        "trip_time": timeutil.human_time(starts),
        "logged_time": f"{timeutil.human_time(logged)} {timeutil.short_day(logged)}",
        "paid": amounts.display_dollars(trip.paid_cents),
        "price": None if trip.price_cents is None else amounts.display_dollars(trip.price_cents),
        "balance": None if balance is None else amounts.display_dollars(balance),
        "tips": amounts.display_dollars(trip.tips_cents),
        "shares": ", ".join(
            f"{share['name']} {amounts.display_dollars(share['cents'])}"
            for share in payment.tip_shares
        ),
        "subject": subject,
    }
    return Email(
        to=config.crew_notify_emails(),
        subject=subject,
        text=templates.render("email/payment.txt", **context),
        html=templates.render("email/payment.html", **context),
    )


def receipt_email(receipt: Receipt) -> Email:
    """The patron's receipt: operator, trip, date, amount, method and the balance left.

    It goes to whoever's address the crew typed, so it says nothing of the crew (no
    names, notes or tip shares) or of other patrons (no names, no other payments):
    the balance left is the one figure about the trip as a whole.
    """
    from chalicelib.db import get_store

    payment = get_store().ledger.get(receipt.trip_id, receipt.payment_id)
    if payment is None:
        raise RuntimeError(f"receipt for payment {receipt.payment_id}: no such payment")
    trip = schedule.load_trip(receipt.trip_id)
    starts = timeutil.local(trip.starts_at)
    amount = amounts.display_dollars(payment.amount_cents)
    operator = config.operator_name()
    balance = None if payment.tip else trip.balance_cents
    subject = f"Your receipt from {operator}: {amount} — {trip.title}, {timeutil.short_day(starts)}"
    context = {
        "subject": subject,
        "operator": operator,
        "patron_name": payment.patron_name,
        "what": "tip for the crew" if payment.tip else "payment",
        "amount": amount,
        "method": amounts.method_label(payment.method),
        "paid_on": timeutil.human_stamp(payment.logged_at),
        "trip_title": trip.title,
        "trip_day": f"{starts:%A, %B} {starts.day}",
        "trip_time": timeutil.human_time(starts),
        "balance": None if balance is None else amounts.display_dollars(max(0, balance)),
        "voided": payment.void,
        "receipt_number": payment.id,
    }
    return Email(
        to=[receipt.email],
        subject=subject,
        text=templates.render("email/receipt.txt", **context),
        html=templates.render("email/receipt.html", **context),
    )


def waiver_email(waiver: Waiver) -> Email:
    """The signer's copy: the trip, its date and time, how many people it covers, the
    operator's name and contact, the agreement's version, fingerprint and text.

    Anyone with a trip link can type any name and any address, so the copy carries
    no free text the signer typed (issue 21): not the name (but a first-name greeting
    when it passes the one name rule, `validation.greeting_name`), no contact details,
    dates of birth, emergency contact or children.

    Raises (so the outbox retries and then logs an error) rather than send a
    text that is not the one signed.
    """
    text = text_version(waiver.waiver_version)
    if text.sha256 != waiver.waiver_sha256:
        raise RuntimeError(f"waiver {waiver.id}: the text signed is no longer available")
    trip = {k: waiver.trip.get(k) for k in TRIP_SNAPSHOT}
    starts_at, ends_at = trip["starts_at"], trip["ends_at"]
    when = timeutil.human_span(starts_at, ends_at) if starts_at and ends_at else ""
    subject = f"Your signed waiver: {trip['title'] or 'your trip'}"
    if starts_at:
        subject += f", {timeutil.short_day(timeutil.local(starts_at))}"
    people = waiver.people_covered
    context = {
        "subject": subject,
        "greeting": v.greeting_name(waiver.full_name),
        "covered": f"{people} {'person' if people == 1 else 'people'}",
        "operator": config.operator_name(),
        "contact": config.operator_contact(),
        "waiver": {
            "id": waiver.id,
            "waiver_version": waiver.waiver_version,
            "waiver_sha256": waiver.waiver_sha256,
        },
        "trip": trip,
        "when": when,
        "signed": timeutil.human_stamp(waiver.signed_at),
        "text": text,
    }
    return Email(
        to=[waiver.email],
        subject=subject,
        text=templates.render("email/waiver.txt", **context),
        html=templates.render("email/waiver.html", **context),
    )


def _when(stamp: str | None) -> str:
    return timeutil.human_stamp(stamp) if stamp else "not recorded"


def _shore_email(template: str, subject: str, context: dict[str, Any]) -> Email:
    context = {**context, "subject": subject}
    return Email(
        to=config.shore_contact_emails(),
        subject=subject,
        text=templates.render(f"email/{template}.txt", **context),
        html=templates.render(f"email/{template}.html", **context),
    )


def _voyage_context(manifest: dict[str, Any]) -> dict[str, Any]:
    trip = manifest["trip"]
    people = manifest["people"]
    return {
        "m": manifest,
        "trip": trip,
        "boat": manifest["boat"],
        "people": people,
        "minors": sum(1 for p in people if p["minor"]),
        "departed": _when(manifest["departed_at"]),
        "expected": _when(manifest["expected_return"]),
        "crew": ", ".join(trip.get("crew") or []) or "none listed",
    }


def departure_email(departure: Departure) -> Email:
    """The manifest ashore: trip, boat, captain, crew, each person aboard with minor
    flag and emergency contact, departure time and expected return."""
    m = departure.manifest
    subject = (
        f"Departed: {m['boat']['name'] or 'boat'}, {departure.headcount} aboard — "
        f"{m['trip']['title']}"
    )
    return _shore_email("departure", subject, _voyage_context(m))


def _notice_context(notice: ShoreNotice) -> tuple[Trip, dict[str, Any]]:
    from chalicelib.db import get_store

    trip = schedule.load_trip(notice.trip_id)
    departure = get_store().dock.departure(notice.trip_id)
    if departure is None:
        raise RuntimeError(f"trip {notice.trip_id}: a notice without a departure")
    context = _voyage_context(departure.manifest)
    context.update(
        headcount=departure.headcount,
        overdue_since=_when(timeutil.to_local_iso(trip.overdue_after())),
        returned=_when(trip.returned_at),
        returned_by=trip.returned_by,
        notice_at=_when(notice.at),
    )
    return trip, context


def overdue_email(notice: ShoreNotice) -> Email:
    """The float-plan alarm: the trip is 30 minutes past its expected return."""
    trip, context = _notice_context(notice)
    boat = context["boat"]["name"] or trip.boat or "the boat"
    return _shore_email("overdue", f"OVERDUE: {boat} has not returned — {trip.title}", context)


def all_back_email(notice: ShoreNotice) -> Email:
    """The overdue trip is back at the dock."""
    trip, context = _notice_context(notice)
    boat = context["boat"]["name"] or trip.boat or "the boat"
    return _shore_email("all_back", f"All back: {boat} returned — {trip.title}", context)


RENDERERS: dict[str, Callable[[Any], Email]] = {
    Kind.PAYMENT: payment_email,
    Kind.RECEIPT: receipt_email,
    Kind.WAIVER: waiver_email,
    Kind.DEPARTURE: departure_email,
    Kind.OVERDUE: overdue_email,
    Kind.ALL_BACK: all_back_email,
}


def render(kind: str, record: Record | None) -> Email:
    """The email an outbox item of this kind owes."""
    renderer = RENDERERS.get(kind)
    if renderer is None or record is None:
        raise ValueError(f"no email is defined for items of kind {kind!r}")
    return renderer(record)
