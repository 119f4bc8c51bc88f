"""Dates at the edge of the calendar are a 400 naming the field, never a 500.

Python's dates end at years 1 and 9999: a window ending on 9999-12-31 (the day
after it does not exist) or a trip in year 1 (whose UTC time does not exist)
used to raise OverflowError. The app accepts years 2000-2100.
"""

from __future__ import annotations

import pytest

from chalicelib import timeutil
from chalicelib.errors import BadInput
from tests.conftest import trip


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=9999-12-31", "from"),
        ("from=9999-12-25&to=9999-12-31", "from"),
        ("from=2099-12-31&to=9999-12-31", "to"),
        ("from=0001-01-01", "from"),
        ("from=1999-12-31&to=2000-01-02", "from"),
        ("from=2100-12-31&to=2101-01-01", "to"),
    ],
)
@pytest.mark.parametrize("path", ["/api/events", "/api/payments.csv"])
def test_window_at_the_calendar_edge_is_400_naming_the_field(crew_api, path, query, field):
    response = crew_api.get(f"{path}?{query}")
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field
    assert field in response.json_body["message"]


def test_the_last_days_of_2100_are_a_window_that_answers(crew_api):
    assert crew_api.get("/api/events?from=2100-12-25&to=2100-12-31").status_code == 200
    assert crew_api.get("/api/payments.csv?from=2000-01-01&to=2000-01-07").status_code == 200


@pytest.mark.parametrize(
    "starts_at",
    [
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:00:00",
        "9999-12-31T23:59:59-12:00",
        "1999-12-31T10:00:00",
        "2101-01-01T10:00:00",
    ],
)
def test_trip_at_the_calendar_edge_is_400_naming_the_field(crew_api, starts_at):
    response = crew_api.post("/api/events", trip(starts_at=starts_at, ends_at=starts_at))
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == "starts_at"


def test_moving_a_trip_to_the_calendar_edge_is_400(crew_api, event):
    response = crew_api.patch(
        f"/api/events/{event['id']}",
        {"ends_at": "9999-12-31T23:59:59", "version": event["version"]},
    )
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == "ends_at"


@pytest.mark.parametrize("text", ["2000-01-01", "2100-12-31"])
def test_years_2000_to_2100_parse(text):
    assert timeutil.parse_date(text, "from").isoformat() == text
    assert timeutil.parse_datetime(text + "T12:00:00Z", "starts_at").year == int(text[:4])


@pytest.mark.parametrize("text", ["1999-12-31", "2101-01-01", "9999-12-31", "0001-01-01"])
def test_years_outside_2000_to_2100_are_refused(text):
    with pytest.raises(BadInput) as refused:
        timeutil.parse_date(text, "from")
    assert refused.value.field == "from"
    with pytest.raises(BadInput) as refused:
        timeutil.parse_datetime(text + "T12:00:00", "starts_at")
    assert refused.value.field == "starts_at"
