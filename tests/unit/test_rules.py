"""Pure rules of the app, checked without moto or HTTP: dates, validation, money,
PNG checks, retry delays, CSV neutralising and records (the codec has test_codec.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chalicelib import timeutil
from chalicelib import validation as v
from chalicelib.db import keys
from chalicelib.errors import BadInput, NotFound, TooLarge
from chalicelib.mail import outbox
from chalicelib.money import amounts, ledger
from chalicelib.money.records import Payment, PaymentMethod
from chalicelib.trips import schedule
from chalicelib.trips.records import Trip, TripStatus
from chalicelib.waivers.form import age_on, check_png, parse_day
from tests.test_waivers_signing import make_png

# --- Date windows ------------------------------------------------------------------


def test_board_window_defaults_to_today_and_the_next_six_days(monkeypatch):
    monkeypatch.setattr(timeutil, "now", lambda: datetime(2026, 7, 4, 19, 0, tzinfo=UTC))
    assert schedule.window(None, None) == (date(2026, 7, 4), date(2026, 7, 10))


def test_window_refuses_backwards_and_too_long_spans():
    with pytest.raises(BadInput) as backwards:
        schedule.window("2026-07-10", "2026-07-01")
    assert backwards.value.field == "to"
    with pytest.raises(BadInput) as too_long:
        schedule.window("2026-01-01", "2026-12-31")
    assert too_long.value.field == "to"


@pytest.mark.parametrize("text", ["2026-02-30", "2026-7-4", "July 4", "2026-07-04T00:00"])
def test_window_dates_must_be_real_calendar_dates(text):
    with pytest.raises(BadInput) as refused:
        schedule.window(text, None)
    assert refused.value.field == "from"


def test_local_window_spans_a_dst_day_by_instants():
    start, end = timeutil.local_window(date(2026, 11, 1), date(2026, 11, 1))
    length = end.astimezone(UTC) - start.astimezone(UTC)
    assert length.total_seconds() == 25 * 3600  # the day clocks go back


def test_times_without_an_offset_are_in_the_operators_zone():
    moment = timeutil.parse_datetime("2026-07-04T17:30:00", "starts_at")
    assert moment.utcoffset() is not None
    assert timeutil.to_local_iso(moment) == "2026-07-04T17:30:00-07:00"
    with pytest.raises(BadInput):
        timeutil.parse_datetime("2026-07-04", "starts_at")


def test_human_span_names_the_day_and_the_zone():
    span = timeutil.human_span("2026-11-28T17:30:00-08:00", "2026-11-28T19:30:00-08:00")
    assert span == "Saturday, November 28, 2026, 5:30 PM – 7:30 PM PST"


# --- Validation --------------------------------------------------------------------


def test_json_body_must_be_an_object_of_bounded_size():
    with pytest.raises(BadInput):
        v.json_object(b"[1, 2]")
    with pytest.raises(BadInput):
        v.json_object(b"{not json")
    with pytest.raises(TooLarge):
        v.json_object(b"{}" + b" " * 70_000)
    assert v.json_object(b'{"a": 1}') == {"a": 1}


def test_integers_refuse_floats_and_booleans():
    for bad in (1.5, True, "3"):
        with pytest.raises(BadInput) as refused:
            v.integer({"capacity": bad}, "capacity")
        assert refused.value.field == "capacity"
    assert v.integer({"capacity": 3}, "capacity", minimum=1) == 3


def test_text_is_trimmed_and_refuses_control_characters():
    assert v.text({"title": "  Sunset  "}, "title") == "Sunset"
    with pytest.raises(BadInput):
        v.text({"title": "a\x00b"}, "title")
    assert v.text({"note": "line 1\nline 2"}, "note", multiline=True) == "line 1\nline 2"


def test_unknown_fields_are_named():
    with pytest.raises(BadInput) as refused:
        v.reject_unknown({"title": "x", "colour": "red"}, ("title",))
    assert refused.value.field == "colour"


def test_ids_that_cannot_exist_are_404():
    with pytest.raises(NotFound):
        v.path_id("../etc/passwd")
    assert v.path_id("0" * 32) == "0" * 32


def test_new_trip_needs_its_end_after_its_start():
    body = {
        "title": "Sunset",
        "starts_at": "2026-07-04T19:00:00",
        "ends_at": "2026-07-04T18:00:00",
        "capacity": 6,
    }
    with pytest.raises(BadInput) as refused:
        schedule.new_trip(body, by="Dana")
    assert refused.value.field == "ends_at"


# --- Waiver form rules -------------------------------------------------------------


def test_dates_of_birth_are_read_in_both_common_forms():
    assert parse_day("1984-07-31") == parse_day("7/31/1984") == date(1984, 7, 31)
    assert parse_day("31/31/1984") is None


def test_a_leap_day_birthday_counts_on_the_first_of_march():
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


def test_png_check_reads_the_size_and_refuses_damage():
    png = make_png(60, 20)
    assert check_png(png) == (60, 20)
    with pytest.raises(ValueError):
        check_png(png[:-4])
    with pytest.raises(ValueError):
        check_png(b"GIF89a" + png[6:])


# --- Money, retries, CSV -------------------------------------------------------------


def test_money_is_formatted_from_cents_without_floats():
    assert amounts.dollars(12050) == "120.50"
    assert amounts.display_dollars(1205000) == "$12,050.00"
    assert amounts.display_dollars(-500) == "-$5.00"
    assert amounts.method_label("venmo") == "Venmo"


def test_retry_delays_grow_and_are_capped():
    delays = [outbox.retry_delay(n) for n in range(1, outbox.MAX_ATTEMPTS + 1)]
    assert delays == sorted(delays)
    assert delays[0] == outbox.RETRY_FIRST_SECONDS
    assert max(delays) == outbox.RETRY_MAX_SECONDS


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ana", "Ana"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_cells_starting_like_formulas_get_a_leading_quote(cell, shown):
    assert ledger.neutralise(cell) == shown


# --- Records and keys ----------------------------------------------------------------


def test_trip_json_has_the_contracts_balance():
    trip = Trip("t1", "Sunset", "2026-07-04T17:30:00-07:00", "2026-07-04T19:30:00-07:00")
    assert trip.to_json()["balance_cents"] is None
    trip.price_cents, trip.paid_cents = 60000, 12000
    assert trip.to_json()["balance_cents"] == 48000
    assert Trip.from_item({**trip.attributes(), "PK": "x"}).status is TripStatus.SCHEDULED


def test_payment_round_trips_through_its_stored_attributes():
    payment = Payment(
        "p1", "t1", "Ana", 12000, PaymentMethod.CASH, None, "2026-07-04T17:30:00-07:00"
    )
    stored = payment.attributes()
    assert stored["event_id"] == "t1" and "trip_id" not in stored
    assert Payment.from_item(stored) == payment
    assert payment.to_json()["method"] == "cash"


def test_keys_keep_a_trips_items_in_one_partition():
    trip, pay = keys.trip_key("t1"), keys.payment_key("t1", "p1")
    assert trip["PK"] == pay["PK"] == keys.waiver_key("t1", "w1")["PK"]
    assert keys.signature_key("t1", "w1")["SK"] > keys.DETAIL_SK_CEILING > pay["SK"]
