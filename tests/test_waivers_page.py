"""The patron's waiver page (GET /g/{id}/waiver): content, accessibility, errors, headers."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from chalicelib import config, templates, timeutil
from chalicelib.waivers import agreement
from chalicelib.waivers import pages as waiver_pages
from tests.conftest import Api, trip
from tests.test_waivers_signing import escaped, post_form, signer

GENERATOR = b'<meta name="generator" content="shipcaptaincrew">'


def get_page(api: Api, event_id: str) -> Any:
    return api.get(f"/g/{event_id}/waiver", headers={"accept": "text/html"}, token=False)


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, in order."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def assert_secure_page(response: Any) -> None:
    """The headers and markers every HTML page of the app carries."""
    headers = response.headers
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy and "base-uri 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    page = response.body.decode("utf-8")
    # Every inline block is allowed by its own hash, and nothing else is inline.
    for kind, directive in (("style", "style-src"), ("script", "script-src")):
        blocks = re.findall(rf"<{kind}[^>]*>(.*?)</{kind}>", page, re.DOTALL)
        for block in blocks:
            assert csp_hash(block) in policy.split(f"{directive} ", 1)[1].split(";")[0]
    assert not re.search(r"\sstyle=|\son[a-z]+=", page), "inline style or handler attribute"
    assert GENERATOR in response.body


# --- The page --------------------------------------------------------------------------


def test_page_shows_the_trip_in_the_operators_time_and_the_current_text(
    crew_api: Api,
):
    day = timeutil.today_local() + timedelta(days=30)
    event = crew_api.post(
        "/api/events",
        trip(starts_at=f"{day}T17:30:00", ends_at=f"{day}T19:45:00", boat="Osprey II"),
    ).json_body["event"]
    response = get_page(crew_api, event["id"])
    assert response.status_code == 200
    page = response.body.decode("utf-8")
    assert "<h1>Waiver for Sunset Cruise</h1>" in page
    assert "Osprey II" in page
    zone = datetime(day.year, day.month, day.day, 19, tzinfo=config.operator_tz()).tzname()
    assert f"{day:%A}, {day:%B} {day.day}, {day.year}, 5:30 PM – 7:45 PM {zone}" in page
    text = agreement.TEXT_DIR.joinpath("v1.txt").read_text(encoding="utf-8")
    for paragraph in text.split("\n\n"):
        assert escaped(paragraph.strip("\n")) in page
    sha = hashlib.sha256(agreement.TEXT_DIR.joinpath("v1.txt").read_bytes()).hexdigest()
    assert 'data-waiver-version="v1"' in page
    assert f'<input type="hidden" name="waiver_sha256" value="{sha}">' in page
    assert "Waiver text version v1" in page


def test_trip_over_midnight_shows_both_days(crew_api: Api):
    day = timeutil.today_local() + timedelta(days=3)
    event = crew_api.post(
        "/api/events",
        trip(starts_at=f"{day}T22:00:00", ends_at=f"{day + timedelta(days=1)}T01:00:00"),
    ).json_body["event"]
    page = get_page(crew_api, event["id"]).body.decode("utf-8")
    after = day + timedelta(days=1)
    assert f"10:00 PM – {after:%A}, {after:%B} {after.day}, {after.year}, 1:00 AM" in page


def test_page_is_an_accessible_form_that_works_without_scripts(api: Api, event: dict):
    response = get_page(api, event["id"])
    page = response.body.decode("utf-8")
    tags = Tags(page)
    assert tags.all("html")[0]["lang"] == "en"
    assert any(m.get("name") == "viewport" for m in tags.all("meta"))
    [form] = tags.all("form")
    assert form["method"] == "post" and "action" not in form  # posts back to this URL
    labels = {attrs["for"] for attrs in tags.all("label")}
    for field in tags.all("input"):
        if field["type"] == "hidden":
            continue
        assert field["id"] in labels, f"input {field['id']} has no label"
    by_id = {attrs["id"]: attrs for attrs in tags.all("input") if attrs.get("id")}
    assert by_id["full_name"]["autocomplete"] == "name"
    assert by_id["email"]["autocomplete"] == "email" and by_id["email"]["type"] == "email"
    assert by_id["phone"]["autocomplete"] == "tel" and by_id["phone"]["type"] == "tel"
    assert by_id["date_of_birth"]["autocomplete"] == "bday"
    # Not the signer's own details: autofill must not put them there.
    for other in ("emergency_name", "emergency_phone", "minor_name-0", "signature"):
        assert by_id[other]["autocomplete"] == "off"
    assert by_id["email"]["aria-describedby"] == "email-hint"
    assert len(tags.all("fieldset")) == len(tags.all("legend"))
    assert [a["name"] for a in tags.all("input") if a.get("name") == "minor_name"] == [
        "minor_name"
    ] * waiver_pages.MINOR_ROWS
    # The honeypot is out of reach for people: no tab stop, hidden from screen readers.
    assert by_id["website"]["tabindex"] == "-1"
    assert re.search(r'<div class="hp" aria-hidden="true">', page)
    # The drawing pad needs a script, so it is hidden until the script shows it.
    assert re.search(r'id="signature-pad" hidden>', page)
    assert page.index('class="implicit-submit"') < page.index('name="more_rows"')


def test_every_page_carries_the_security_headers(crew_api: Api, event: dict):
    assert_secure_page(get_page(crew_api, event["id"]))
    assert_secure_page(get_page(crew_api, "0" * 32))
    assert_secure_page(post_form(crew_api, event["id"], signer(email="bad")))
    assert_secure_page(post_form(crew_api, event["id"], signer()))
    assert_secure_page(post_form(crew_api, event["id"], signer(full_name="x" * 300_000)))
    crew_api.post(f"/api/events/{event['id']}/cancel")
    assert_secure_page(get_page(crew_api, event["id"]))


def test_page_script_is_allowed_by_its_hash_only(api: Api, event: dict):
    response = get_page(api, event["id"])
    page = response.body.decode("utf-8")
    [script] = re.findall(r'<script type="module">(.*?)</script>', page, re.DOTALL)
    assert script == (templates.TEMPLATE_DIR / "waiver/signature.js").read_text()
    policy = response.headers["Content-Security-Policy"]
    assert f"script-src {csp_hash(script)};" in policy


# --- Closed and unknown trips -------------------------------------------------------------


@pytest.mark.parametrize("event_id", ["0" * 32, "nope", "0123456789abcdef0123456789abcdeg"])
def test_unknown_trip_is_a_404_page(api: Api, event_id: str):
    response = get_page(api, event_id)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"find this trip" in response.body
    assert GENERATOR in response.body


def test_cancelled_trip_is_a_410_page_that_says_so(crew_api: Api, event: dict):
    crew_api.post(f"/api/events/{event['id']}/cancel")
    response = get_page(crew_api, event["id"])
    assert response.status_code == 410
    page = response.body.decode("utf-8")
    assert "This trip was cancelled" in page and "Sunset Cruise" in page
    assert 'name="full_name"' not in page


def test_finished_trip_is_a_410_page_that_says_so(crew_api: Api):
    event = crew_api.post(
        "/api/events", trip(starts_at="2024-07-04T10:00:00", ends_at="2024-07-04T12:00:00")
    ).json_body["event"]
    response = get_page(crew_api, event["id"])
    assert response.status_code == 410
    assert b"already finished" in response.body
    signing = post_form(crew_api, event["id"], signer())
    assert signing.status_code == 410


def test_trip_underway_can_still_be_signed_for(crew_api: Api, monkeypatch: pytest.MonkeyPatch):
    event = crew_api.post("/api/events", trip()).json_body["event"]
    during = datetime.fromisoformat(event["ends_at"]) - timedelta(minutes=5)
    monkeypatch.setattr(timeutil, "now", lambda: during)
    assert get_page(crew_api, event["id"]).status_code == 200
    after = datetime.fromisoformat(event["ends_at"]) + timedelta(seconds=1)
    monkeypatch.setattr(timeutil, "now", lambda: after)
    assert get_page(crew_api, event["id"]).status_code == 410


# --- The published texts ------------------------------------------------------------------


def test_published_waiver_texts_match_their_pinned_hashes():
    index = json.loads((agreement.TEXT_DIR / "index.json").read_text())
    assert index["current"] in index["versions"]
    listed = {entry["file"] for entry in index["versions"].values()}
    assert listed == {p.name for p in agreement.TEXT_DIR.glob("*.txt")}
    for version, entry in index["versions"].items():
        raw = (agreement.TEXT_DIR / entry["file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == entry["sha256"], (
            f"{entry['file']} changed after it was published: restore it and publish a new version"
        )
        assert b"\r" not in raw
        assert agreement.text_version(version).sha256 == entry["sha256"]


@pytest.fixture
def edited_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A copy of waiver_texts/ where the published v1 was edited in place."""
    copy = tmp_path / "waiver_texts"
    shutil.copytree(agreement.TEXT_DIR, copy)
    path = copy / "v1.txt"
    path.write_text(path.read_text().replace("RELEASE", "RELEASES", 1))
    monkeypatch.setattr(agreement, "TEXT_DIR", copy)
    agreement._index.cache_clear()
    agreement.text_version.cache_clear()
    yield copy
    agreement._index.cache_clear()
    agreement.text_version.cache_clear()


def test_edited_published_text_is_never_shown_or_signed(
    crew_api: Api, event: dict, edited_texts: Path
):
    response = get_page(crew_api, event["id"])
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.body
    assert post_form(crew_api, event["id"], signer()).status_code == 500
    detail = crew_api.get(f"/api/events/{event['id']}").json_body
    assert detail["waivers"] == []


def test_new_version_becomes_current_when_the_index_points_to_it(
    crew_api: Api, event: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    copy = tmp_path / "waiver_texts"
    shutil.copytree(agreement.TEXT_DIR, copy)
    raw = b"RELEASE OF LIABILITY (REVIEWED)\n\nYou agree to everything.\n"
    (copy / "v2.txt").write_bytes(raw)
    index = json.loads((copy / "index.json").read_text())
    index["current"] = "v2"
    index["versions"]["v2"] = {"file": "v2.txt", "sha256": hashlib.sha256(raw).hexdigest()}
    (copy / "index.json").write_text(json.dumps(index))
    monkeypatch.setattr(agreement, "TEXT_DIR", copy)
    agreement._index.cache_clear()
    agreement.text_version.cache_clear()
    try:
        page = get_page(crew_api, event["id"]).body.decode("utf-8")
        assert "You agree to everything." in page and "Waiver text version v2" in page
        assert post_form(crew_api, event["id"], signer(waiver_version="v2")).status_code == 201
        [w] = crew_api.get(f"/api/events/{event['id']}").json_body["waivers"]
        assert w["waiver_version"] == "v2"
        assert w["waiver_sha256"] == hashlib.sha256(raw).hexdigest()
    finally:
        agreement._index.cache_clear()
        agreement.text_version.cache_clear()
