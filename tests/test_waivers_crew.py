"""The crew's side of waivers: who signed (event detail, board count) and one record, whole."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import timeutil
from chalicelib.waivers import agreement
from tests.conftest import Api, from_viewer
from tests.test_waivers_signing import (
    data_url,
    json_signer,
    make_png,
    post_form,
    signer,
    years_ago,
)

HIDDEN = ("PK", "SK", "GSI1PK", "GSI1SK", "kind", "_notify_attempts")


def test_event_detail_lists_who_signed_with_their_children_and_when(
    crew_api: Api, event: dict, monkeypatch: pytest.MonkeyPatch
):
    real_now = timeutil.now
    start = real_now()
    monkeypatch.setattr(timeutil, "now", lambda: start + timedelta(minutes=2))
    later = crew_api.signed(event["id"], json_signer(full_name="Zed Late", signature="zed late"))
    monkeypatch.setattr(timeutil, "now", lambda: start + timedelta(minutes=1))
    kid = {"name": "Lía", "date_of_birth": years_ago(6).isoformat()}
    earlier = crew_api.signed(
        event["id"], json_signer(minors=[kid], signature_png=data_url(make_png()))
    )
    monkeypatch.setattr(timeutil, "now", real_now)
    detail = crew_api.get(f"/api/events/{event['id']}").json_body
    assert [w["id"] for w in detail["waivers"]] == [earlier["id"], later["id"]]
    first = detail["waivers"][0]
    assert first["full_name"] == "Ana María López"
    assert first["minor_names"] == ["Lía"]
    assert first["people_covered"] == 2
    assert first["signed_at"] == earlier["signed_at"]
    assert first["waiver_version"] == "v1"
    assert "signature_png" not in first and "png" not in first
    assert not set(HIDDEN) & set(first)
    assert detail["event"]["waiver_count"] == 3


def test_event_detail_carries_no_guest_personal_data_beyond_names(crew_api: Api, event: dict):
    kid = {"name": "Lía López", "date_of_birth": years_ago(6).isoformat()}
    signed = crew_api.signed(
        event["id"], json_signer(minors=[kid]), headers={"user-agent": "Mozilla/5.0 (Pixel)"}
    )
    [summary] = crew_api.get(f"/api/events/{event['id']}").json_body["waivers"]
    assert set(summary) == {
        "id",
        "full_name",
        "minor_names",
        "people_covered",
        "signed_at",
        "waiver_version",
        "waiver_sha256",
        "struck",
    }
    assert summary["id"] == signed["id"]
    assert summary["minor_names"] == ["Lía López"]
    # The whole record stays behind its own route.
    whole = crew_api.get(f"/api/events/{event['id']}/waivers/{signed['id']}").json_body["waiver"]
    for name in ("email", "phone", "date_of_birth", "emergency_name", "emergency_phone", "ip"):
        assert whole[name], name
        assert name not in summary
    assert whole["minors"] == [kid]
    assert whole["user_agent"] == "Mozilla/5.0 (Pixel)"


def test_board_card_counts_the_people_covered(crew_api: Api, event: dict):
    crew_api.signed(
        event["id"],
        json_signer(minors=[{"name": "Kim", "date_of_birth": years_ago(4).isoformat()}]),
    )
    day = event["starts_at"][:10]
    [card] = crew_api.get(f"/api/events?from={day}&to={day}").json_body["events"]
    assert card["waiver_count"] == 2


def test_crew_get_the_whole_record_with_the_drawing_and_the_text_signed(crew_api: Api, event: dict):
    png = make_png(120, 40)
    fields = signer(
        signature_png=data_url(png),
        minor_name=["Lía López"],
        minor_dob=[years_ago(8).isoformat()],
    )
    response = post_form(crew_api, event["id"], fields, **from_viewer("203.0.113.7"))
    assert response.status_code == 201
    [listed] = crew_api.get(f"/api/events/{event['id']}").json_body["waivers"]
    reply = crew_api.get(f"/api/events/{event['id']}/waivers/{listed['id']}")
    assert reply.status_code == 200
    record = reply.json_body["waiver"]
    assert record["signature_png"] == data_url(png)
    assert record["waiver_text"] == (agreement.TEXT_DIR / "v1.txt").read_text(encoding="utf-8")
    assert record["waiver_sha256"] == agreement.current_text().sha256
    assert record["email"] == "ana@example.com"
    assert record["emergency_phone"] == "415 555 0199"
    assert record["ip"] == "203.0.113.7"
    assert record["user_agent"] == "Mozilla/5.0 (iPhone) test"
    assert record["minors"] == [{"name": "Lía López", "date_of_birth": years_ago(8).isoformat()}]
    assert not set(HIDDEN) & set(record)


def test_record_without_a_drawing_says_so(crew_api: Api, event: dict):
    waiver = crew_api.signed(event["id"], json_signer())
    record = crew_api.get(f"/api/events/{event['id']}/waivers/{waiver['id']}").json_body["waiver"]
    assert record["signature_png"] is None and record["drawn_signature"] is False


def test_waiver_record_needs_a_crew_login(crew_api: Api, event: dict):
    waiver = crew_api.signed(event["id"], json_signer())
    response = crew_api.get(f"/api/events/{event['id']}/waivers/{waiver['id']}", token=False)
    assert response.status_code == 401


def test_unknown_waiver_is_404(crew_api: Api, event: dict):
    waiver = crew_api.signed(event["id"], json_signer())
    other = crew_api.post("/api/events", {**_trip_body(event)}).json_body["event"]
    for path in (
        f"/api/events/{event['id']}/waivers/{'0' * 32}",
        f"/api/events/{event['id']}/waivers/not-an-id",
        f"/api/events/{other['id']}/waivers/{waiver['id']}",  # another trip's waiver
        f"/api/events/nope/waivers/{waiver['id']}",
    ):
        response = crew_api.get(path)
        assert response.status_code == 404, path
        assert response.json_body["code"] == "not_found"


def _trip_body(event: dict) -> dict:
    from tests.conftest import trip

    return trip(title="Another trip")
