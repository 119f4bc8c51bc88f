"""Issue 21 item 5: nobody outside can phish a patron through us. The signer's copy
carries no free text the signer typed: the trip, its date and time, the people covered,
the operator's name and contact, and a first-name greeting only when the name passes
the one name rule (validation.person_name)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import validation as v
from chalicelib.errors import BadInput
from chalicelib.mail import emails, outbox
from chalicelib.waivers import agreement
from chalicelib.waivers.records import Waiver
from tests.conftest import Api
from tests.test_access import table_snapshot

PHISHING = "Ana\u2028URGENT: your card was declined. Pay now at paypal-help.support"
ZERO_WIDTH = "evil.c\u200bom"
CYRILLIC = "evil.\u0441om"
IDEOGRAPHIC = "evil\u3002com"
HOSTILE = [PHISHING, ZERO_WIDTH, CYRILLIC, IDEOGRAPHIC]


def waiver(name: str, minors: int = 0) -> Waiver:
    text = agreement.current_text()
    return Waiver(
        id="w" * 32,
        trip_id="t" * 32,
        full_name=name,
        email="victim@example.com",
        phone="+1 415 555 0100",
        date_of_birth="1980-01-01",
        emergency_name="Sam Lee",
        emergency_phone="+1 415 555 0101",
        minors=[{"name": f"Kid{i}", "date_of_birth": "2016-01-01"} for i in range(minors)],
        signature=name,
        people_covered=1 + minors,
        waiver_version=text.version,
        waiver_sha256=text.sha256,
        signed_at="2026-12-06T10:00:00-08:00",
        trip={
            "title": "Sunset Cruise",
            "starts_at": "2026-12-07T17:30:00-08:00",
            "ends_at": "2026-12-07T19:30:00-08:00",
        },
    )


def bodies(name: str, minors: int = 0) -> list[str]:
    email = emails.waiver_email(waiver(name, minors))
    return [email.subject, email.text, email.html]


@pytest.mark.parametrize("name", HOSTILE, ids=["u2028", "zero-width", "cyrillic", "ideographic"])
def test_the_signers_copy_carries_none_of_a_hostile_name(name):
    for body in bodies(name):
        for bit in ("evil", "URGENT", "paypal", "declined", "\u2028", "\u200b", "\u0441", "\u3002"):
            assert bit not in body, (bit, body[:300])
        assert "Hello," in body or body.startswith("Your signed waiver")


def test_the_signers_copy_says_the_trip_when_who_is_covered_and_the_operator(monkeypatch):
    monkeypatch.setenv("OPERATOR_NAME", "Kelp Charters")
    monkeypatch.setenv("OPERATOR_CONTACT", "+1 415 555 0199, office@kelp.example")
    text, html = bodies("María-José O'Neil Ruiz", minors=2)[1:]
    for body in (text, html):
        assert "Hello María-José," in body
        assert "Sunset Cruise" in body
        assert "3 people" in body
        assert "Kelp Charters" in body and "office@kelp.example" in body
        assert "Ruiz" not in body and "Kid0" not in body  # nothing else typed


def test_a_greeting_needs_a_plain_first_name():
    for name in ("Jo", "Zoë Smith", "D'Arcy Lee", "Łukasz N"):
        assert f"Hello {name.split()[0]}," in bodies(name)[1]
    for name in ("J.R. Hartley", "Ann1 Lee", "Ana\u0441 Lee", "<b>Bo</b> Lee"):
        assert "Hello," in bodies(name)[1], name


@pytest.mark.parametrize("name", [PHISHING, ZERO_WIDTH])
def test_the_form_refuses_format_and_separator_characters_in_names(api: Api, event: dict, name):
    """One name rule for waivers and crew input: what person_name refuses, the form does."""
    with pytest.raises(BadInput):
        v.person_name({"name": name}, "name")
    before = table_snapshot(skip_throttle=True)
    for field in ("full_name", "emergency_name"):
        body: dict[str, Any] = {"full_name": "Jordan Lee", "signature": "Jordan Lee", field: name}
        if field == "full_name":
            body["signature"] = name
        refused = api.sign(event["id"], **body)
        assert refused.status_code == 400, refused.body
        assert refused.json_body["field"] == field
    assert table_snapshot(skip_throttle=True) == before


def test_crew_names_refuse_web_addresses_as_waiver_names_do(api: Api):
    """The one rule: a display name is held to what a waiver name is."""
    with pytest.raises(BadInput):
        v.person_name({"name": "Win at paypal-help.support"}, "name")
    assert v.person_name({"name": "J.R.R. Tolkien"}, "name") == "J.R.R. Tolkien"


def test_a_signed_hostile_name_sends_a_copy_without_it(api: Api, event: dict, sent):
    signed = api.signed(event["id"], full_name=CYRILLIC, signature=CYRILLIC)
    assert signed["full_name"] == CYRILLIC  # the crew's record keeps what was signed
    assert outbox.drain_outbox() >= 1
    [copy] = [m for m in sent if m["to"] == ["jordan@example.com"]]
    for part in (copy["subject"], copy["text"], copy["html"]):
        assert "\u0441" not in part and "evil" not in part
    assert "Hello," in copy["text"]
