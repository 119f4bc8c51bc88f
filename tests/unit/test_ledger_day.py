"""The ledger's day-index keys (pure): the operator's date an entry was logged on."""

from __future__ import annotations

from datetime import date

from chalicelib.db import keys

KEY = {"PK": "EVENT#t1", "SK": "PAY#p1"}


def test_the_day_is_the_operators_date_not_utcs() -> None:
    # 23:30 in Los Angeles is already the next day in UTC: the entry is the 4th's.
    fields = keys.ledger_day_fields("2026-07-04T23:30:00-07:00", KEY)
    assert fields["GSI2PK"] == keys.ledger_month(date(2026, 7, 4)) == "LEDGER#2026-07"
    assert fields["GSI2SK"] == "2026-07-04#2026-07-05T06:30:00Z#EVENT#t1#PAY#p1"
    assert fields["GSI2SK"].startswith(keys.ledger_day_prefix(date(2026, 7, 4)))


def test_a_month_partition_sorts_by_day_then_instant_across_a_dst_change() -> None:
    # 1:30 before and after the clocks go back: the same wall time, an hour apart.
    stamps = [
        "2026-11-01T01:30:00-08:00",
        "2026-11-01T01:10:00-07:00",
        "2026-10-31T23:59:59-07:00",
        "2026-11-01T01:30:00-07:00",
    ]
    order = sorted(stamps, key=lambda s: keys.ledger_day_fields(s, KEY)["GSI2SK"])
    assert order == [
        "2026-10-31T23:59:59-07:00",
        "2026-11-01T01:10:00-07:00",
        "2026-11-01T01:30:00-07:00",
        "2026-11-01T01:30:00-08:00",
    ]
    months = {keys.ledger_day_fields(s, KEY)["GSI2PK"] for s in stamps}
    assert months == {"LEDGER#2026-10", "LEDGER#2026-11"}


def test_entries_of_one_day_never_share_a_sort_key() -> None:
    other = {"PK": "EVENT#t2", "SK": "REFUND#r1"}
    stamp = "2026-07-04T12:00:00-07:00"
    assert (
        keys.ledger_day_fields(stamp, KEY)["GSI2SK"]
        != keys.ledger_day_fields(stamp, other)["GSI2SK"]
    )
