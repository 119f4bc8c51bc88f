"""What one trip link cannot be used for (issue 12): a drawing that is a
decompression bomb, names that carry links or addresses, more people than the
boat could ever carry, and an email that repeats personal data to any address.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.mail import emails
from chalicelib.waivers import agreement, form, signing
from chalicelib.waivers.records import Waiver
from tests.conftest import Api, trip
from tests.test_waivers_signing import (
    data_url,
    json_signer,
    make_png,
    page_text,
    post_form,
    signer,
    waiver_items,
    years_ago,
)

# --- The drawn signature ---------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(2001, 20), (20, 2001), (4096, 4096)])
def test_drawing_over_2000_pixels_a_side_is_refused(api: Api, event: dict, width: int, height: int):
    fields = signer(signature_png=data_url(make_png(width, height)))
    response = post_form(api, event["id"], fields, accept="application/json")
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == "signature_png"
    assert waiver_items(event["id"]) == []


def test_drawing_of_2000_pixels_a_side_is_accepted(api: Api, event: dict):
    assert form.check_png(make_png(2000, 2000)) == (2000, 2000)
    fields = signer(signature_png=data_url(make_png(2000, 30)))
    assert post_form(api, event["id"], fields).status_code == 201


# --- Names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Visit cheap-pills.com",
        "https://spam.example/x",
        "www.spam-site.example",
        "ana@example.com",
        "Ana ＠ spam．com",  # fullwidth forms read the same once normalized
        "bit.ly/abc",
    ],
)
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (lambda typed: {"full_name": typed, "signature": typed}, "full_name"),
        (lambda typed: {"emergency_name": typed}, "emergency_name"),
        (
            lambda typed: {"minors": [{"name": typed, "date_of_birth": years_ago(8).isoformat()}]},
            "minors[0].name",
        ),
        (lambda typed: {"signature": typed}, "signature"),
    ],
)
def test_names_with_a_web_or_email_address_are_refused(
    api: Api, event: dict, typed: str, fields: Any, field: str
):
    response = api.sign(event["id"], json_signer(**fields(typed)))
    assert response.status_code == 400, response.body
    assert field in {problem["field"] for problem in response.json_body["errors"]}
    assert "web or email address" in response.body.decode()
    assert waiver_items(event["id"]) == []


@pytest.mark.parametrize(
    "name", ["J.R.R. Tolkien", "St.John Smith", "Dr. Jo Co", "Mary-Jane O'Neil", "Zoë Ng"]
)
def test_names_with_dots_are_still_names(api: Api, event: dict, name: str):
    api.signed(event["id"], json_signer(full_name=name, signature=name, emergency_name=name))


# --- How many people one trip's waivers may cover -------------------------------------------


def kids(n: int) -> list[dict[str, str]]:
    return [{"name": f"Kid {i}", "date_of_birth": years_ago(8).isoformat()} for i in range(n)]


def small_trip(crew_api: Api, capacity: int = 2) -> dict:
    response = crew_api.post("/api/events", trip(capacity=capacity))
    assert response.status_code == 201
    return response.json_body["event"]


def covered(crew_api: Api, event_id: str) -> int:
    return crew_api.get(f"/api/events/{event_id}").json_body["event"]["waiver_count"]


def test_waivers_may_cover_at_most_twice_the_trips_capacity(crew_api: Api):
    boat = small_trip(crew_api, capacity=2)  # up to 4 people covered, children included
    crew_api.signed(boat["id"], json_signer(minors=kids(1)))
    # Past the seats, one person at a time (a swapped guest, a re-signed form).
    crew_api.signed(boat["id"], json_signer())
    crew_api.signed(boat["id"], json_signer())
    assert covered(crew_api, boat["id"]) == 4
    refused = crew_api.sign(boat["id"], json_signer())
    assert refused.status_code == 409, refused.body
    assert refused.json_body["code"] == "trip_full"
    assert covered(crew_api, boat["id"]) == 4
    assert len(waiver_items(boat["id"])) == 3


def test_a_full_trips_page_tells_the_patron_to_see_the_crew(crew_api: Api):
    boat = small_trip(crew_api, capacity=1)
    crew_api.signed(boat["id"], json_signer())
    crew_api.signed(boat["id"], json_signer())
    page = post_form(crew_api, boat["id"], signer())
    assert page.status_code == 409
    text = page_text(page.body)
    assert "see the crew" in text.lower()
    assert "Sunset Cruise" in text  # the page names the trip
    assert "Nothing you typed has been stored" in text
    assert covered(crew_api, boat["id"]) == 2


def test_one_waiver_covering_more_than_the_limit_is_refused(crew_api: Api):
    boat = small_trip(crew_api, capacity=2)
    refused = crew_api.sign(boat["id"], json_signer(minors=kids(4)))  # 5 people > 2 seats
    assert refused.status_code == 400
    assert (refused.json_body["code"], refused.json_body["field"]) == ("no_room", "minors")
    assert covered(crew_api, boat["id"]) == 0
    crew_api.signed(boat["id"], json_signer(minors=kids(1)))  # exactly the 2 seats


def _clean() -> dict[str, Any]:
    """A validated waiver's fields, as form.validate returns them."""
    return {
        "full_name": "Late Comer",
        "email": "late@example.com",
        "phone": "415 555 0100",
        "date_of_birth": years_ago(40).isoformat(),
        "emergency_name": "Someone Else",
        "emergency_phone": "415 555 0101",
        "minors": [],
        "signature": "Late Comer",
    }


def test_signings_at_the_same_moment_cannot_slip_past_the_limit(crew_api: Api):
    """Two patrons read the trip with one place left; the transaction lets one in."""
    boat = small_trip(crew_api, capacity=2)
    crew_api.signed(boat["id"], json_signer(minors=kids(1)))
    crew_api.signed(boat["id"], json_signer())
    seen = signing.open_trip(boat["id"])  # 3 of 4: room for one
    crew_api.signed(boat["id"], json_signer())  # the other patron is quicker
    text = agreement.current_text()
    with pytest.raises(signing.TripFull):
        signing.store_signed(seen, _clean(), None, text, ip="192.0.2.1", user_agent="test")
    assert covered(crew_api, boat["id"]) == 4
    assert len(waiver_items(boat["id"])) == 3


def test_a_capacity_lowered_meanwhile_is_the_limit_that_counts(crew_api: Api):
    boat = small_trip(crew_api, capacity=3)
    crew_api.signed(boat["id"], json_signer(minors=kids(2)))
    crew_api.signed(boat["id"], json_signer())
    seen = signing.open_trip(boat["id"])  # 4 of 6
    edit = {"capacity": 2, "version": boat["version"]}
    assert crew_api.patch(f"/api/events/{boat['id']}", edit).status_code == 200  # 4 of 4
    text = agreement.current_text()
    with pytest.raises(signing.TripFull):
        signing.store_signed(seen, _clean(), None, text, ip="192.0.2.1", user_agent="test")
    assert covered(crew_api, boat["id"]) == 4


def test_a_capacity_raised_meanwhile_lets_the_signing_through(crew_api: Api):
    boat = small_trip(crew_api, capacity=2)
    crew_api.signed(boat["id"], json_signer(minors=kids(1)))
    crew_api.signed(boat["id"], json_signer())
    seen = signing.open_trip(boat["id"])  # 3 of 4
    edit = {"capacity": 5, "version": boat["version"]}
    assert crew_api.patch(f"/api/events/{boat['id']}", edit).status_code == 200
    text = agreement.current_text()
    signing.store_signed(seen, _clean(), None, text, ip="192.0.2.1", user_agent="test")
    assert covered(crew_api, boat["id"]) == 4


# --- The signer's copy ----------------------------------------------------------------------


def test_the_signers_copy_repeats_no_personal_data_but_a_first_name(api: Api, event: dict):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.mail import outbox

    kid_born = years_ago(8).isoformat()
    fields = signer(minor_name=["Lía López"], minor_dob=[kid_born])
    assert post_form(api, event["id"], fields).status_code == 201
    assert outbox.drain_outbox() == 1
    [item] = waiver_items(event["id"])
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    [message] = [m for m in backend.sent_messages if "ana@example.com" in str(m.destinations)]
    email = emails.waiver_email(Waiver.from_item(item))
    for body in (message.body, email.text, email.html):
        assert "Hello Ana," in body and "Ana María López" not in body  # issue 21
        assert "Sunset Cruise" in body
        assert item["waiver_version"] in body and item["waiver_sha256"] in body
        assert "crew hold the signed record" in body
        for private in (
            "Lía López",
            kid_born,
            fields["date_of_birth"],
            "555-0134",
            "555 0199",
            "Bo López",
            "ana maría  lópez",  # the typed signature, as typed
        ):
            assert private not in body, private
    assert "ana@example.com" not in email.text and "ana@example.com" not in email.html
