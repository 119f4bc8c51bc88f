"""Signing a waiver (POST /g/{id}/waiver): validation, immutable storage, abuse limits, email."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import struct
import urllib.parse
import zlib
from datetime import date, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws, config, timeutil
from chalicelib.db import codec, get_store, keys
from chalicelib.db import table as db_table
from chalicelib.mail import emails
from chalicelib.trips import schedule
from chalicelib.waivers import agreement, signing
from chalicelib.waivers.records import Waiver
from tests.conftest import SENDER, Api, from_viewer, trip

FORM = {"content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
TEXT_FILE = agreement.TEXT_DIR / "v1.txt"
# (No zero-width joiner: the one name rule refuses format characters, issue 21.)
HOSTILE_NAME = '<script>alert(1)</script> O\'Brien "Skip" & 🛥️👩👧'


# --- Helpers (also used by the other waiver test modules) ---------------------------


def years_ago(years: int, *, days: int = 0) -> date:
    """The date `years` before today in the operator's zone, shifted by `days`."""
    today = timeutil.today_local()
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # 29 February in a common year
        anniversary = today.replace(year=today.year - years, day=28)
    return anniversary + timedelta(days=days)


def signer(**overrides: Any) -> dict[str, Any]:
    """A valid adult's form fields (values as a form would send them)."""
    fields: dict[str, Any] = {
        "full_name": "Ana María López",
        "email": "ana@example.com",
        "phone": "+1 (415) 555-0134",
        "date_of_birth": years_ago(34).isoformat(),
        "emergency_name": "Bo López",
        "emergency_phone": "415 555 0199",
        "minor_name": ["", "", ""],
        "minor_dob": ["", "", ""],
        "agree": "yes",
        "signature": "ana maría  lópez",
        "website": "",
    }
    fields.update(overrides)
    return fields


def encode(fields: dict[str, Any]) -> str:
    return urllib.parse.urlencode(fields, doseq=True)


def post_form(api: Api, event_id: str, fields: dict[str, Any], **headers: str) -> Any:
    sent = {**FORM, "user-agent": "Mozilla/5.0 (iPhone) test", **headers}
    return api.post(f"/g/{event_id}/waiver", raw=encode(fields), headers=sent, token=False)


def post_json(api: Api, event_id: str, body: dict[str, Any], **headers: str) -> Any:
    return api.post(f"/g/{event_id}/waiver", body, headers=headers, token=False)


def json_signer(**overrides: Any) -> dict[str, Any]:
    body = {k: v for k, v in signer().items() if k not in ("minor_name", "minor_dob")}
    body["agree"] = True
    body.update(overrides)
    return body


def make_png(width: int = 60, height: int = 20, *, noise: bool = False) -> bytes:
    """A real PNG (RGB, 8-bit); with noise it barely compresses, for size limits."""
    row = (lambda: os.urandom(width * 3)) if noise else (lambda: b"\xff" * (width * 3))
    raw = b"".join(b"\x00" + row() for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 0 if noise else 9))
        + chunk(b"IEND", b"")
    )


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def stored(event_id: str) -> list[dict[str, Any]]:
    """Every item in the trip's partition (waivers, signatures, the event)."""
    reply = aws.dynamodb().query(
        TableName=config.table_name(),
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": codec.to_value(keys.trip_pk(event_id))},
        ConsistentRead=True,
    )
    return [codec.from_item(i) for i in reply["Items"]]


def waiver_items(event_id: str) -> list[dict[str, Any]]:
    return [i for i in stored(event_id) if i["SK"].startswith(keys.WAIVER_PREFIX)]


def waiver_count(crew_api: Api, event_id: str) -> int:
    return crew_api.get(f"/api/events/{event_id}").json_body["event"]["waiver_count"]


def escaped(text: str) -> str:
    """Text as the templates write it into HTML (Jinja's autoescape)."""
    import markupsafe

    return str(markupsafe.escape(text))


def page_text(body: bytes) -> str:
    return body.decode("utf-8")


def input_value(page: str, element_id: str) -> str:
    found = re.search(rf'<input id="{re.escape(element_id)}"[^>]*\bvalue="([^"]*)"', page)
    assert found, f"no input #{element_id}"
    return html.unescape(found.group(1))


# --- Signing --------------------------------------------------------------------------


def test_signed_form_stores_the_exact_text_version_and_who_signed(crew_api: Api, event: dict):
    fields = signer(minor_name=["Lía López", "Tom López", ""])
    fields["minor_dob"] = [years_ago(8).isoformat(), years_ago(12).isoformat(), ""]
    # As CloudFront relays it: a forged X-Forwarded-For start, the edge's own entry.
    headers = {**from_viewer("203.0.113.7"), "x-forwarded-for": "198.51.100.9, 130.176.0.1"}
    response = post_form(crew_api, event["id"], fields, **headers)
    assert response.status_code == 201, response.body
    [item] = waiver_items(event["id"])
    assert item["waiver_version"] == "v1"
    assert item["waiver_sha256"] == hashlib.sha256(TEXT_FILE.read_bytes()).hexdigest()
    assert item["ip"] == "203.0.113.7"  # the viewer, as our edge saw it
    assert item["user_agent"] == "Mozilla/5.0 (iPhone) test"
    assert item["full_name"] == "Ana María López"
    assert item["signature"] == "ana maría  lópez"
    assert item["date_of_birth"] == years_ago(34).isoformat()
    assert item["minors"] == [
        {"name": "Lía López", "date_of_birth": years_ago(8).isoformat()},
        {"name": "Tom López", "date_of_birth": years_ago(12).isoformat()},
    ]
    assert item["agreed"] is True and item["drawn_signature"] is False
    assert item["trip"]["title"] == "Sunset Cruise"
    assert timeutil.parse_datetime(item["signed_at"], "signed_at")
    assert item["notification"] == "pending" and item["GSI1PK"] == "OUTBOX"


def test_confirmation_page_names_the_people_covered(api: Api, event: dict):
    fields = signer(minor_name=["Lía López"], minor_dob=[years_ago(8).isoformat()])
    response = post_form(api, event["id"], fields)
    assert response.status_code == 201
    page = page_text(response.body)
    assert "your waiver is signed" in page
    assert "Lía López" in page and "Sunset Cruise" in page
    assert "ana@example.com" in page
    [item] = waiver_items(event["id"])
    assert item["id"] in page


def test_waiver_count_grows_by_the_signer_plus_their_children(crew_api: Api, event: dict):
    assert waiver_count(crew_api, event["id"]) == 0
    fields = signer(
        minor_name=["A", "B", ""],
        minor_dob=[years_ago(5).isoformat(), years_ago(9).isoformat(), ""],
    )
    assert post_form(crew_api, event["id"], fields).status_code == 201
    assert waiver_count(crew_api, event["id"]) == 3
    assert (
        post_form(crew_api, event["id"], signer(full_name="Cy", signature="CY")).status_code == 201
    )
    assert waiver_count(crew_api, event["id"]) == 4


def test_signing_twice_keeps_both_waivers(crew_api: Api, event: dict):
    first = post_json(crew_api, event["id"], json_signer())
    second = post_json(crew_api, event["id"], json_signer())
    assert first.status_code == second.status_code == 201
    ids = {first.json_body["waiver"]["id"], second.json_body["waiver"]["id"]}
    assert len(ids) == 2
    detail = crew_api.get(f"/api/events/{event['id']}").json_body
    assert {w["id"] for w in detail["waivers"]} == ids


def test_a_stored_waiver_cannot_be_overwritten(crew_api: Api, event: dict):
    post_json(crew_api, event["id"], json_signer())
    [item] = waiver_items(event["id"])
    forged = {**item, "full_name": "Someone Else", "minors": []}
    with pytest.raises(db_table.Cancelled) as refused:
        get_store().waivers.add(Waiver.from_item(forged), None, busy="busy")
    assert refused.value.refusals[0].condition_failed
    [after] = waiver_items(event["id"])
    assert after["full_name"] == "Ana María López"
    assert waiver_count(crew_api, event["id"]) == 1  # the whole transaction was refused


def test_json_signing_answers_201_with_the_waiver(api: Api, event: dict):
    body = json_signer(minors=[{"name": "Lía", "date_of_birth": years_ago(8).isoformat()}])
    response = post_json(api, event["id"], body)
    assert response.status_code == 201, response.body
    waiver = response.json_body["waiver"]
    assert waiver["full_name"] == "Ana María López"
    assert waiver["minors"] == [{"name": "Lía", "date_of_birth": years_ago(8).isoformat()}]
    assert waiver["waiver_version"] == "v1"
    assert waiver["people_covered"] == 2
    assert "email" not in waiver and "ip" not in waiver
    assert timeutil.parse_datetime(waiver["signed_at"], "signed_at")


def test_form_post_asking_for_json_gets_json(api: Api, event: dict):
    response = post_form(api, event["id"], signer(email="nope"), accept="application/json")
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json_body["field"] == "email"
    assert "email" in response.json_body["message"]


# --- Validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"full_name": ""}, "full_name", "required"),
        ({"full_name": "x" * 5000}, "full_name", "invalid"),
        ({"full_name": "Ana\u202eLópez"}, "full_name", "invalid"),
        ({"email": "ana@"}, "email", "invalid"),
        ({"email": "ana example.com"}, "email", "invalid"),
        ({"email": "x" * 5000 + "@example.com"}, "email", "invalid"),
        ({"phone": "call me"}, "phone", "invalid"),
        ({"phone": "123"}, "phone", "invalid"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth", "invalid"),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "invalid"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "invalid"),
        ({"emergency_name": ""}, "emergency_name", "required"),
        ({"emergency_phone": ""}, "emergency_phone", "required"),
        ({"agree": False}, "agree", "required"),
        ({"signature": ""}, "signature", "required"),
        ({"signature": "Ana Lopez"}, "signature", "mismatch"),
        ({"signature_png": "data:image/gif;base64,R0lGODlh"}, "signature_png", "invalid"),
    ],
)
def test_bad_waiver_is_400_naming_the_field_and_stores_nothing(
    crew_api: Api, event: dict, change: dict, field: str, code: str
):
    response = post_json(crew_api, event["id"], json_signer(**change))
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == field
    assert response.json_body["code"] == code
    assert field in response.json_body["message"]
    assert waiver_items(event["id"]) == []
    assert waiver_count(crew_api, event["id"]) == 0


def test_signer_must_be_18_on_the_day_of_signing(api: Api, event: dict):
    too_young = post_json(
        api, event["id"], json_signer(date_of_birth=years_ago(18, days=1).isoformat())
    )
    assert too_young.status_code == 400
    assert too_young.json_body["code"] == "underage"
    just_18 = post_json(api, event["id"], json_signer(date_of_birth=years_ago(18).isoformat()))
    assert just_18.status_code == 201, just_18.body


def test_children_must_be_under_18_on_the_trip_date(crew_api: Api):
    # The trip is in 10 days; a child who turns 18 in 5 days must sign for themselves.
    day = timeutil.today_local() + timedelta(days=10)
    event = crew_api.post(
        "/api/events", trip(starts_at=f"{day}T10:00:00", ends_at=f"{day}T12:00:00")
    ).json_body["event"]
    turning = years_ago(18, days=5).isoformat()
    response = post_json(
        crew_api, event["id"], json_signer(minors=[{"name": "Kai", "date_of_birth": turning}])
    )
    assert response.status_code == 400
    assert response.json_body["field"] == "minors[0].date_of_birth"
    assert response.json_body["code"] == "not_minor"
    after_trip = years_ago(18, days=11).isoformat()
    ok = post_json(
        crew_api, event["id"], json_signer(minors=[{"name": "Kai", "date_of_birth": after_trip}])
    )
    assert ok.status_code == 201, ok.body


def test_half_filled_child_row_is_a_problem_and_blank_rows_are_ignored(api: Api, event: dict):
    fields = signer(minor_name=["", "Lía", ""], minor_dob=["", "", ""])
    response = post_form(api, event["id"], fields)
    assert response.status_code == 400
    page = page_text(response.body)
    assert 'href="#minor_dob-1"' in page
    assert 'id="minor_dob-1-error"' in page


def test_invalid_form_is_shown_again_with_errors_beside_fields_and_values_kept(
    api: Api, event: dict
):
    fields = signer(
        email="ana@@example",
        signature="Someone Else",
        minor_name=["Lía López", "", ""],
        minor_dob=[years_ago(8).isoformat(), "", ""],
    )
    response = post_form(api, event["id"], fields)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    page = page_text(response.body)
    # The summary links to each field with a problem, in page order.
    summary = page[page.index('class="error-summary"') : page.index("</ul>")]
    assert summary.index("#email") < summary.index("#signature")
    assert "<title>Error: Waiver for Sunset Cruise" in page
    # Each field with a problem says so next to it, tied to the input for screen readers.
    assert 'aria-describedby="email-hint email-error" aria-invalid="true"' in page
    assert 'id="signature-error"' in page
    # Everything typed is still there.
    assert input_value(page, "full_name") == "Ana María López"
    assert input_value(page, "email") == "ana@@example"
    assert input_value(page, "phone") == "+1 (415) 555-0134"
    assert input_value(page, "date_of_birth") == years_ago(34).isoformat()
    assert input_value(page, "emergency_name") == "Bo López"
    assert input_value(page, "emergency_phone") == "415 555 0199"
    assert input_value(page, "signature") == "Someone Else"
    assert input_value(page, "minor_name-0") == "Lía López"
    assert input_value(page, "minor_dob-0") == years_ago(8).isoformat()
    assert re.search(r'<input type="checkbox" id="agree" name="agree" value="yes" checked', page)
    assert waiver_items(event["id"]) == []


def test_more_rows_button_adds_child_rows_and_signs_nothing(api: Api, event: dict):
    fields = signer(minor_name=["A", "B", "C"])
    fields["minor_dob"] = [years_ago(3).isoformat()] * 3
    fields["more_rows"] = "yes"
    response = post_form(api, event["id"], fields)
    assert response.status_code == 200
    page = page_text(response.body)
    assert 'id="minor_name-5"' in page and 'id="minor_name-6"' not in page
    assert input_value(page, "minor_name-2") == "C"
    assert "Nothing has been signed yet" in page
    assert waiver_items(event["id"]) == []


def test_changed_waiver_text_must_be_read_again_before_signing(api: Api, event: dict):
    response = post_form(api, event["id"], signer(waiver_version="v0"))
    assert response.status_code == 409
    page = page_text(response.body)
    assert "The waiver text was updated" in page
    assert 'id="agree" name="agree" value="yes" checked' not in page  # must tick again
    assert input_value(page, "full_name") == "Ana María López"
    assert waiver_items(event["id"]) == []
    as_json = post_json(api, event["id"], json_signer(waiver_sha256="0" * 64))
    assert as_json.status_code == 409
    assert as_json.json_body["code"] == "waiver_changed"


def test_signing_a_cancelled_or_unknown_trip_stores_nothing(crew_api: Api, event: dict):
    crew_api.post(f"/api/events/{event['id']}/cancel")
    gone = post_form(crew_api, event["id"], signer())
    assert gone.status_code == 410
    assert "cancelled" in page_text(gone.body)
    assert post_json(crew_api, event["id"], json_signer()).json_body["code"] == "cancelled"
    missing = post_json(crew_api, "0" * 32, json_signer())
    assert missing.status_code == 404
    assert waiver_items(event["id"]) == []


def test_trip_cancelled_while_signing_refuses_the_whole_transaction(
    crew_api: Api, event: dict, monkeypatch: pytest.MonkeyPatch
):
    # The trip is open when the request reads it and cancelled by the time it writes.
    real_open = signing.open_trip
    calls = []

    def open_then_cancel(event_id: str) -> Any:
        calls.append(event_id)
        found = real_open(event_id)
        if len(calls) == 1:
            schedule.cancel_trip(event_id, by="Dana")
        return found

    monkeypatch.setattr(signing, "open_trip", open_then_cancel)
    response = post_json(crew_api, event["id"], json_signer())
    assert response.status_code == 410
    assert waiver_items(event["id"]) == []
    assert waiver_count(crew_api, event["id"]) == 0


@pytest.fixture
def conflicting(monkeypatch: pytest.MonkeyPatch):
    """The next `n` signing transactions are cancelled as DynamoDB does under contention."""
    client = aws.dynamodb()
    real = client.transact_write_items
    left = {"n": 0}

    def transact(**kwargs: Any) -> Any:
        if left["n"] > 0:
            left["n"] -= 1
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                    "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
                },
                "TransactWriteItems",
            )
        return real(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", transact)
    monkeypatch.setattr(db_table.time, "sleep", lambda seconds: None)
    return left


def test_signing_at_the_same_moment_as_others_still_counts_once(
    crew_api: Api, event: dict, conflicting: dict
):
    conflicting["n"] = 2
    response = post_json(crew_api, event["id"], json_signer())
    assert response.status_code == 201, response.body
    assert len(waiver_items(event["id"])) == 1
    assert waiver_count(crew_api, event["id"]) == 1


def test_signing_that_keeps_conflicting_is_a_503_page_and_writes_nothing(
    crew_api: Api, event: dict, conflicting: dict
):
    conflicting["n"] = 100
    response = post_form(crew_api, event["id"], signer())
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "has not been signed yet" in page_text(response.body)
    assert waiver_items(event["id"]) == []
    assert waiver_count(crew_api, event["id"]) == 0


# --- The drawn signature --------------------------------------------------------------


def test_drawn_signature_is_stored_apart_from_the_event_detail(crew_api: Api, event: dict):
    png = make_png()
    response = post_form(crew_api, event["id"], signer(signature_png=data_url(png)))
    assert response.status_code == 201, response.body
    [item] = waiver_items(event["id"])
    assert item["drawn_signature"] is True
    assert item["drawn_signature_sha256"] == hashlib.sha256(png).hexdigest()
    assert "png" not in item and "signature_png" not in item
    [drawn] = [i for i in stored(event["id"]) if i["SK"].startswith(keys.SIGNATURE_PREFIX)]
    assert drawn["SK"] == f"XSIG#{item['id']}"
    assert drawn["png"] == png
    detail = crew_api.get(f"/api/events/{event['id']}").json_body
    assert "iVBOR" not in json.dumps(detail)  # no PNG (base64) rides along
    whole = crew_api.get(f"/api/events/{event['id']}/waivers/{item['id']}").json_body["waiver"]
    assert whole["drawn_signature"] is True


@pytest.mark.parametrize(
    "value",
    [
        "not a data url",
        "data:image/png;base64,%%%notbase64",
        data_url(b"GIF89a" + b"\x00" * 40),
        data_url(make_png()[:-6]),  # truncated
        data_url(make_png()[:-4] + b"\x00\x00\x00\x00"),  # IEND's CRC broken
        data_url(make_png().replace(b"IHDR", b"IHDX")),
        data_url(make_png(5000, 1)),  # wider than any canvas
        data_url(make_png() + b"trailing"),
        data_url(make_png(200, 200, noise=True)),  # about 120 KB
    ],
)
def test_drawn_signature_must_be_a_real_png_of_at_most_100_kb(api: Api, event: dict, value: str):
    response = post_json(api, event["id"], json_signer(signature_png=value))
    assert response.status_code == 400, response.body
    assert response.json_body["field"] == "signature_png"
    written = [i for i in stored(event["id"]) if i["SK"] != "EVENT"]
    assert [i for i in written if not i["SK"].startswith("ACT#")] == []
    assert [i["action"] for i in written] == ["created"]  # the trip's own activity only


# --- Abuse -------------------------------------------------------------------------


def test_oversized_body_is_413_page_or_json(api: Api, event: dict):
    huge = signer(full_name="A" * (300 * 1024))
    page = post_form(api, event["id"], huge)
    assert page.status_code == 413
    assert page.headers["Content-Type"].startswith("text/html")
    assert b'name="generator" content="shipcaptaincrew"' in page.body
    as_json = post_form(api, event["id"], huge, accept="application/json")
    assert as_json.status_code == 413
    assert as_json.json_body["code"] == "too_large"
    assert waiver_items(event["id"]) == []


def test_signing_is_rate_limited_per_address(
    api: Api, event: dict, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(signing, "SIGN_LIMIT", 3)
    address = from_viewer("192.0.2.44")
    for _ in range(3):
        assert post_form(api, event["id"], signer(), **address).status_code == 201
    refused = post_form(api, event["id"], signer(), **address)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many" in page_text(refused.body)
    assert len(waiver_items(event["id"])) == 3
    # Another address is not held up.
    other = post_form(api, event["id"], signer(), **from_viewer("192.0.2.45"))
    assert other.status_code == 201


def test_the_operator_sets_how_many_signings_one_address_may_make(
    api: Api, event: dict, monkeypatch: pytest.MonkeyPatch
):
    """WAIVER_SIGN_LIMIT: a marina's shared Wi-Fi may need more (or a stage fewer)."""
    monkeypatch.setenv("WAIVER_SIGN_LIMIT", "2")
    address = from_viewer("192.0.2.46")
    for _ in range(2):
        assert post_form(api, event["id"], signer(), **address).status_code == 201
    assert post_form(api, event["id"], signer(), **address).status_code == 429
    assert len(waiver_items(event["id"])) == 2


def test_honeypot_answers_like_success_but_stores_nothing(crew_api: Api, event: dict):
    response = post_form(crew_api, event["id"], signer(website="http://spam.example"))
    assert response.status_code == 201
    assert "your waiver is signed" in page_text(response.body)
    assert waiver_items(event["id"]) == []
    assert waiver_count(crew_api, event["id"]) == 0


def test_unreadable_form_is_a_400_page(api: Api, event: dict):
    response = api.post(
        f"/g/{event['id']}/waiver", raw=b"full_name=%ff%fe", headers=FORM, token=False
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    broken_json = api.post(f"/g/{event['id']}/waiver", raw="{nope", token=False)
    assert broken_json.status_code == 400
    assert broken_json.json_body["code"] == "malformed"


# --- Hostile input --------------------------------------------------------------------


def test_hostile_names_are_stored_as_typed_and_escaped_on_every_page(crew_api: Api, event: dict):
    fields = signer(
        full_name=HOSTILE_NAME,
        signature=HOSTILE_NAME,
        emergency_name='"><img src=x onerror=alert(2)>',
        minor_name=["<b>Kid</b> 🧒", "", ""],
        minor_dob=[years_ago(7).isoformat(), "", ""],
    )
    signed = post_form(crew_api, event["id"], fields)
    assert signed.status_code == 201, signed.body
    [item] = waiver_items(event["id"])
    assert item["full_name"] == HOSTILE_NAME
    assert item["emergency_name"] == '"><img src=x onerror=alert(2)>'
    assert item["minors"][0]["name"] == "<b>Kid</b> 🧒"
    # The confirmation shows them as text.
    confirmation = page_text(signed.body)
    assert "<script>alert(1)" not in confirmation and "<b>Kid" not in confirmation
    assert escaped(HOSTILE_NAME) in confirmation
    # The form, shown again with an error, keeps them as text too.
    again = page_text(post_form(crew_api, event["id"], {**fields, "agree": ""}).body)
    assert "<script>alert(1)" not in again and "<img src=x" not in again
    assert input_value(again, "full_name") == HOSTILE_NAME
    assert input_value(again, "emergency_name") == '"><img src=x onerror=alert(2)>'
    # The crew API returns them as typed (the dispatch page sets them as text).
    detail = crew_api.get(f"/api/events/{event['id']}").json_body
    assert detail["waivers"][0]["full_name"] == HOSTILE_NAME
    # And the signer's email carries none of it (issue 21: no free text the signer typed).
    email = emails.waiver_email(Waiver.from_item(item))
    assert "<script>alert(1)" not in email.html and "<b>Kid" not in email.html
    assert escaped(HOSTILE_NAME) not in email.html
    assert HOSTILE_NAME not in email.text


def test_hostile_trip_title_is_escaped_on_the_page(crew_api: Api):
    title = "</title><script>alert(3)</script>"
    event = crew_api.post("/api/events", trip(title=title)).json_body["event"]
    page = page_text(crew_api.get(f"/g/{event['id']}/waiver", token=False).body)
    assert "<script>alert(3)" not in page
    assert escaped(title) in page


# --- The signer's copy ----------------------------------------------------------------


def test_signer_gets_an_email_copy_of_the_full_text_they_signed(api: Api, event: dict):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.mail import outbox

    fields = signer(minor_name=["Lía López"], minor_dob=[years_ago(8).isoformat()])
    assert post_form(api, event["id"], fields).status_code == 201
    assert outbox.drain_outbox() == 1
    [item] = waiver_items(event["id"])
    assert item["notification"] == "sent" and "GSI1PK" not in item
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    [message] = [m for m in backend.sent_messages if "ana@example.com" in str(m.destinations)]
    assert message.source == SENDER
    assert message.subject.startswith("Your signed waiver: Sunset Cruise")
    assert "Hello Ana," in message.body  # a first-name greeting: nothing else they typed
    assert "Ana María López" not in message.body
    for paragraph in agreement.current_text().paragraphs:
        assert escaped(paragraph) in message.body
    email = emails.waiver_email(Waiver.from_item(item))
    assert TEXT_FILE.read_text(encoding="utf-8") in email.text
    assert item["waiver_sha256"] in email.text
    assert email.to == ["ana@example.com"]


def test_email_refuses_a_text_that_no_longer_matches_what_was_signed(api: Api, event: dict):
    post_form(api, event["id"], signer())
    [item] = waiver_items(event["id"])
    with pytest.raises(RuntimeError):
        emails.waiver_email(Waiver.from_item({**item, "waiver_sha256": "0" * 64}))
