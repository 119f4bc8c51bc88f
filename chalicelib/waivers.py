"""Guest waivers: the patron's signing page, immutable signed records, the crew's view.

A signed waiver is a legal record: it must be exactly what the patron saw and
agreed to, and it never changes. So:

- The agreement text is a published, versioned file in `waiver_texts/` whose
  SHA-256 is pinned in `waiver_texts/index.json`; the page renders that file
  verbatim, and the record keeps its version and the SHA-256 of its bytes.
- Signing is one TransactWriteItems: put the waiver (condition: the key is
  new, so nothing is ever overwritten), put the drawn signature if any under
  `XSIG#<id>` (above the event-detail Query's ceiling, so it never rides along)
  and add the people covered to the trip's `waiver_count` (condition: the trip
  exists and is not cancelled). No code path updates or deletes a waiver's
  signed content; only the email outbox's delivery bookkeeping (`notification`
  and `_notify_*`) changes afterwards.
- The signer's copy goes out through the email outbox: the request never waits
  for SES, and a failed send is retried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import struct
import time
import unicodedata
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from itertools import zip_longest
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from chalice import Response

from chalicelib import (
    aws,
    config,
    events,
    logs,
    notifications,
    outbox,
    table,
    templates,
    throttle,
    timeutil,
    webpages,
)
from chalicelib import validation as v
from chalicelib.errors import BadInput, Conflict, Gone, NotFound, TooLarge, Unavailable
from chalicelib.webpages import Incoming

TEXT_DIR = Path(__file__).parent / "waiver_texts"
SIGN_SCOPE = "waiver"
# Counted per source address on every signing attempt. Generous, because a whole
# boat may sign at once on the marina's Wi-Fi (one address) and some will mistype.
SIGN_LIMIT = 30
SIGN_WINDOW_SECONDS = 10 * 60
MAX_BODY_BYTES = 256 * 1024
MAX_SIGNATURE_PNG_BYTES = 100 * 1024
MAX_PNG_SIDE = 4096
MAX_MINORS = 12
MINOR_ROWS = 3  # blank rows for children on a fresh form
MORE_ROWS = 3  # rows the "Add rows for more children" button adds
NAME_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 40
USER_AGENT_MAX = 512
ADULT_AGE = 18
OLDEST_AGE = 120
PNG_DATA_URL = "data:image/png;base64,"
SIGNATURE_KIND = "waiver_signature"
# Cancellation reasons worth another go: another transaction held the trip item.
_RETRYABLE = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
_TRANSACTION_TRIES = 4

PERSON_FIELDS = (
    "full_name",
    "email",
    "phone",
    "date_of_birth",
    "emergency_name",
    "emergency_phone",
)
JSON_FIELDS = (
    *PERSON_FIELDS,
    "minors",
    "minor_name",
    "minor_dob",
    "signature",
    "agree",
    "signature_png",
    "website",
    "waiver_version",
    "waiver_sha256",
)
_TRUE_WORDS = frozenset({"yes", "on", "true", "1"})
# Direction overrides and isolates can make a name display as something else.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)
_PHONE = re.compile(r"(\+?[\d\s().\-/]+?)(?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?", re.IGNORECASE)
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> the bit depths it allows (PNG spec, IHDR).
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


# --- The published texts ---------------------------------------------------------


@dataclass(frozen=True)
class WaiverText:
    """One published version of the agreement: its exact text and that text's SHA-256."""

    version: str
    text: str
    sha256: str
    reviewed_by_counsel: bool

    @property
    def paragraphs(self) -> list[str]:
        """The text as shown: every paragraph of the file, in order, word for word."""
        return [p.strip("\n") for p in self.text.split("\n\n") if p.strip()]


@lru_cache(maxsize=1)
def _index() -> dict[str, Any]:
    return json.loads((TEXT_DIR / "index.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=16)
def text_version(version: str) -> WaiverText:
    """A published text; refuses one whose bytes no longer match the pinned SHA-256.

    Signing against, or emailing, an edited "published" text would make the
    records lie about what people agreed to, so that is an error, loudly.
    """
    entry = _index()["versions"].get(version)
    if entry is None:
        raise KeyError(f"no published waiver text {version!r}")
    raw = (TEXT_DIR / entry["file"]).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != entry["sha256"]:
        raise RuntimeError(
            f"waiver text {version} does not match its published SHA-256: "
            "published texts must never change; publish a new version instead"
        )
    return WaiverText(
        version=version,
        text=raw.decode("utf-8"),
        sha256=digest,
        reviewed_by_counsel=bool(entry.get("reviewed_by_counsel")),
    )


def current_text() -> WaiverText:
    """The version patrons sign now (`current` in waiver_texts/index.json)."""
    return text_version(_index()["current"])


# --- Trips as patrons see them ---------------------------------------------------


class TripClosed(Gone):
    """410: the trip is cancelled or over; the page names the trip."""

    def __init__(self, message: str, *, code: str, trip: dict[str, Any]) -> None:
        super().__init__(message, field="event_id", code=code)
        self.trip = trip


def _local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(config.operator_tz())


def _human_day(moment: datetime) -> str:
    return f"{moment:%A}, {moment:%B} {moment.day}, {moment.year}"


def _human_time(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def human_span(starts_at: str, ends_at: str) -> str:
    """'Saturday, November 28, 2026, 5:30 PM – 7:30 PM PST' in the operator's zone."""
    starts, ends = _local(starts_at), _local(ends_at)
    if starts.date() == ends.date():
        end_text = _human_time(ends)
    else:
        end_text = f"{_human_day(ends)}, {_human_time(ends)}"
    return f"{_human_day(starts)}, {_human_time(starts)} – {end_text} {ends.tzname()}"


def human_stamp(stamp: str) -> str:
    """'Thursday, November 26, 2026 at 9:05 AM PST' in the operator's zone."""
    moment = _local(stamp)
    return f"{_human_day(moment)} at {_human_time(moment)} {moment.tzname()}"


def _trip_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": item.get("title", ""),
        "boat": item.get("boat"),
        "starts_at": item.get("starts_at"),
        "ends_at": item.get("ends_at"),
        "when": human_span(item["starts_at"], item["ends_at"]),
    }


def _open_trip(event_id: str) -> dict[str, Any]:
    """The trip item if patrons may sign for it now; 404 unknown, 410 cancelled or over."""
    item = events.load_event(event_id)
    if item.get("status") == "cancelled":
        raise TripClosed(
            "This trip was cancelled, so there is no waiver to sign for it. "
            "If you have questions, contact the crew who sent you the link.",
            code="cancelled",
            trip=_trip_view(item),
        )
    if datetime.fromisoformat(item["ends_at"]) <= timeutil.now():
        raise TripClosed(
            "This trip has already finished, so waivers can no longer be signed for it.",
            code="finished",
            trip=_trip_view(item),
        )
    return item


# --- The page --------------------------------------------------------------------


def waiver_page(event_id: str, request: Incoming) -> Response:
    """GET /g/{id}/waiver: the trip, the current agreement and an empty form."""
    return webpages.answer(request, lambda: _form_page(_open_trip(event_id), current_text()))


@dataclass
class Submission:
    """What the patron sent, exactly as typed (for showing the form again)."""

    values: dict[str, str] = field(default_factory=dict)
    minors: list[tuple[str, str]] = field(default_factory=list)
    agree: bool = False
    signature_png: str = ""
    website: str = ""
    waiver_version: str = ""
    waiver_sha256: str = ""
    more_rows: bool = False


@dataclass(frozen=True)
class Problem:
    """One thing to fix: `field` names it for JSON clients, `anchor` is its id on the page."""

    field: str
    anchor: str
    message: str
    code: str = "invalid"


def _form_page(
    trip: dict[str, Any],
    text: WaiverText,
    submitted: Submission | None = None,
    problems: list[Problem] | tuple[Problem, ...] = (),
    *,
    status: int = 200,
    notice: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    sub = submitted or Submission()
    rows = list(sub.minors)
    while rows and not any(s.strip() for s in rows[-1]):
        rows.pop()  # trailing blank rows: the page adds fresh ones
    wanted = len(rows) + (MORE_ROWS if sub.more_rows else 1)
    wanted = max(MINOR_ROWS, min(wanted, MAX_MINORS))
    rows += [("", "")] * (wanted - len(rows))
    errors = {p.anchor: p.message for p in problems}
    return webpages.page(
        "waiver/page.html",
        status=status,
        script=True,
        headers=headers,
        trip=_trip_view(trip),
        text=text,
        values={name: sub.values.get(name, "") for name in (*PERSON_FIELDS, "signature")},
        minor_rows=[{"index": i, "name": n, "dob": d} for i, (n, d) in enumerate(rows)],
        can_add_rows=len(rows) < MAX_MINORS,
        max_minors=MAX_MINORS,
        agree=sub.agree,
        drawing_dropped=bool(sub.signature_png),
        errors=errors,
        summary=[(p.anchor, p.message) for p in problems],
        notice=notice,
        today=timeutil.today_local().isoformat(),
    )


# --- Signing ---------------------------------------------------------------------


def sign_waiver(event_id: str, request: Incoming) -> Response:
    """POST /g/{id}/waiver: validate, store immutably, confirm (a page, or JSON if asked)."""
    return webpages.answer(request, lambda: _sign(event_id, request))


def _sign(event_id: str, request: Incoming) -> Response:
    if len(request.raw_body) > MAX_BODY_BYTES:
        raise TooLarge(
            f"The form was larger than we accept ({MAX_BODY_BYTES // 1024} KB). "
            "If you drew a signature, clear it and send the form again.",
            field="body",
        )
    throttle.hit(
        SIGN_SCOPE, request.source_ip, limit=SIGN_LIMIT, window_seconds=SIGN_WINDOW_SECONDS
    )
    trip = _open_trip(event_id)
    sub = _read(request)
    text = current_text()
    if sub.website.strip():
        return _pretend_signed(trip, sub, text, request)
    if sub.more_rows and not request.wants_json:
        notice = "More rows for children were added below. Nothing has been signed yet."
        return _form_page(trip, text, sub, notice=notice)
    if (sub.waiver_version and sub.waiver_version != text.version) or (
        sub.waiver_sha256 and sub.waiver_sha256 != text.sha256
    ):
        return _text_changed(trip, text, sub, request)
    clean, drawing, problems = _validate(sub, trip)
    if problems:
        if request.wants_json:
            return _json_problems(problems)
        return _form_page(trip, text, sub, problems, status=400)
    item = _store(event_id, trip, clean, drawing, text, request)
    return _signed(trip, item, request, email=clean["email"])


def _read(request: Incoming) -> Submission:
    """The submission from a form post or a JSON body (400 for a body we cannot read)."""
    if request.content_type == webpages.JSON_TYPE:
        return _read_json(v.json_object(request.raw_body, max_bytes=MAX_BODY_BYTES))
    form = webpages.parse_form(request.raw_body)
    first = webpages.first
    return Submission(
        values={name: first(form, name) for name in (*PERSON_FIELDS, "signature")},
        minors=list(
            zip_longest(form.get("minor_name", []), form.get("minor_dob", []), fillvalue="")
        ),
        agree=bool(first(form, "agree").strip()),
        signature_png=first(form, "signature_png"),
        website=first(form, "website"),
        waiver_version=first(form, "waiver_version"),
        waiver_sha256=first(form, "waiver_sha256"),
        more_rows=bool(first(form, "more_rows")),
    )


def _json_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text", field=name)
    return value


def _read_json(body: dict[str, Any]) -> Submission:
    v.reject_unknown(body, JSON_FIELDS)
    minors: list[tuple[str, str]] = []
    listed = body.get("minors")
    if listed is not None:
        if not isinstance(listed, list):
            raise BadInput("minors must be a list of {name, date_of_birth}", field="minors")
        for i, entry in enumerate(listed):
            if not isinstance(entry, dict):
                raise BadInput(f"minors[{i}] must be {{name, date_of_birth}}", field="minors")
            v.reject_unknown(entry, ("name", "date_of_birth"))
            minors.append((_json_text(entry, "name"), _json_text(entry, "date_of_birth")))
    else:
        names, dobs = body.get("minor_name"), body.get("minor_dob")
        names = [names] if isinstance(names, str) else names or []
        dobs = [dobs] if isinstance(dobs, str) else dobs or []
        for name, values in (("minor_name", names), ("minor_dob", dobs)):
            if not isinstance(values, list) or not all(isinstance(x, str) for x in values):
                raise BadInput(f"{name} must be text or a list of text", field=name)
        minors = list(zip_longest(names, dobs, fillvalue=""))
    agree = body.get("agree")
    if isinstance(agree, str):
        agree = agree.strip().lower() in _TRUE_WORDS
    elif agree is not None and not isinstance(agree, bool):
        raise BadInput("agree must be true or false", field="agree")
    return Submission(
        values={name: _json_text(body, name) for name in (*PERSON_FIELDS, "signature")},
        minors=minors,
        agree=bool(agree),
        signature_png=_json_text(body, "signature_png"),
        website=_json_text(body, "website"),
        waiver_version=_json_text(body, "waiver_version"),
        waiver_sha256=_json_text(body, "waiver_sha256"),
    )


# --- Validation ------------------------------------------------------------------


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unsafe_characters(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI_CONTROLS for c in value)


def _text(
    problems: list[Problem], value: str, name: str, anchor: str, *, what: str, max_len: int
) -> str | None:
    """A required one-line text, trimmed, or None after noting the problem."""
    value = value.strip()
    if not value:
        problems.append(Problem(name, anchor, f"Enter {what}", "required"))
        return None
    if len(value) > max_len:
        problems.append(
            Problem(name, anchor, f"{_upper_first(what)} must be {max_len} characters or fewer")
        )
        return None
    if _unsafe_characters(value):
        problems.append(
            Problem(name, anchor, f"{_upper_first(what)} contains characters we can't accept")
        )
        return None
    return value


def parse_day(value: str) -> date | None:
    """A calendar date typed as 1984-07-31 (what date inputs send) or 7/31/1984."""
    value = value.strip()
    try:
        if match := _ISO_DAY.fullmatch(value):
            year, month, day = (int(x) for x in match.groups())
        elif match := _US_DAY.fullmatch(value):
            month, day, year = (int(x) for x in match.groups())
        else:
            return None
        return date(year, month, day)
    except ValueError:
        return None


def age_on(born: date, day: date) -> int:
    """Whole years of age on `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _day(
    problems: list[Problem], value: str, name: str, anchor: str, *, what: str, today: date
) -> date | None:
    if not value.strip():
        problems.append(Problem(name, anchor, f"Enter {what}", "required"))
        return None
    born = parse_day(value)
    if born is None:
        problems.append(Problem(name, anchor, f"Enter {what} as a real date, like 7/31/1984"))
        return None
    if born > today:
        problems.append(Problem(name, anchor, f"{_upper_first(what)} must be in the past"))
        return None
    if age_on(born, today) > OLDEST_AGE:
        problems.append(Problem(name, anchor, f"Check {what}: that is over {OLDEST_AGE} years ago"))
        return None
    return born


def _phone(problems: list[Problem], value: str, name: str, *, what: str) -> str | None:
    phone = _text(problems, value, name, name, what=what, max_len=PHONE_MAX)
    if phone is None:
        return None
    match = _PHONE.fullmatch(phone)
    digits = sum(c.isdigit() for c in match.group(1)) if match else 0
    if not 7 <= digits <= 15:
        problems.append(Problem(name, name, f"Enter {what} with its area code, like 415 555 0134"))
        return None
    return phone


def _same_name(a: str, b: str) -> bool:
    """Typed signature vs full name: case, accents' encoding and spacing don't matter."""

    def fold(s: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", s).casefold().split())

    return fold(a) == fold(b)


def _validate(
    sub: Submission, trip: dict[str, Any]
) -> tuple[dict[str, Any], bytes | None, list[Problem]]:
    """Clean fields, the drawn signature's PNG bytes, and every problem found (in page order)."""
    problems: list[Problem] = []
    values = sub.values
    today = timeutil.today_local()
    trip_day = max(today, _local(trip["starts_at"]).date())
    clean: dict[str, Any] = {}

    clean["full_name"] = _text(
        problems,
        values["full_name"],
        "full_name",
        "full_name",
        what="your full name",
        max_len=NAME_MAX,
    )
    email = _text(
        problems, values["email"], "email", "email", what="your email address", max_len=EMAIL_MAX
    )
    if email is not None and not _EMAIL.fullmatch(email):
        problems.append(Problem("email", "email", "Enter an email address like name@example.com"))
        email = None
    clean["email"] = email
    clean["phone"] = _phone(problems, values["phone"], "phone", what="your phone number")
    born = _day(
        problems,
        values["date_of_birth"],
        "date_of_birth",
        "date_of_birth",
        what="your date of birth",
        today=today,
    )
    # Capacity to contract is judged on the day of signing.
    if born is not None and age_on(born, today) < ADULT_AGE:
        problems.append(
            Problem(
                "date_of_birth",
                "date_of_birth",
                "You must be 18 or older to sign. A parent or guardian signs for "
                "anyone under 18, listing them as a child on their own waiver.",
                "underage",
            )
        )
    clean["date_of_birth"] = born.isoformat() if born else None
    clean["emergency_name"] = _text(
        problems,
        values["emergency_name"],
        "emergency_name",
        "emergency_name",
        what="the name of someone we can call in an emergency",
        max_len=NAME_MAX,
    )
    clean["emergency_phone"] = _phone(
        problems,
        values["emergency_phone"],
        "emergency_phone",
        what="your emergency contact's phone number",
    )
    clean["minors"] = _minors(problems, sub.minors, today=today, trip_day=trip_day)

    if not sub.agree:
        problems.append(
            Problem("agree", "agree", "Tick the box to agree to the waiver", "required")
        )
    signature = _text(
        problems,
        values["signature"],
        "signature",
        "signature",
        what="your full name as your signature",
        max_len=NAME_MAX,
    )
    if signature and clean["full_name"] and not _same_name(signature, clean["full_name"]):
        problems.append(
            Problem(
                "signature",
                "signature",
                "Your typed signature must match your full name as you entered it above",
                "mismatch",
            )
        )
    clean["signature"] = signature
    drawing = _drawing(problems, sub.signature_png)
    return clean, drawing, problems


def _minors(
    problems: list[Problem], rows: list[tuple[str, str]], *, today: date, trip_day: date
) -> list[dict[str, str]]:
    """The children listed; rows left blank are skipped, half-filled rows are problems."""
    minors: list[dict[str, str]] = []
    filled = [(i, n, d) for i, (n, d) in enumerate(rows) if n.strip() or d.strip()]
    if len(filled) > MAX_MINORS:
        problems.append(
            Problem(
                "minors",
                "minors",
                f"One waiver can cover at most {MAX_MINORS} children: "
                "please ask another adult to sign for the others",
            )
        )
        return []
    for i, name_typed, dob_typed in filled:
        name = _text(
            problems,
            name_typed,
            f"minors[{i}].name",
            f"minor_name-{i}",
            what=f"the full name of child {i + 1}",
            max_len=NAME_MAX,
        )
        born = _day(
            problems,
            dob_typed,
            f"minors[{i}].date_of_birth",
            f"minor_dob-{i}",
            what=f"the date of birth of child {i + 1}",
            today=today,
        )
        if born is not None and age_on(born, trip_day) >= ADULT_AGE:
            problems.append(
                Problem(
                    f"minors[{i}].date_of_birth",
                    f"minor_dob-{i}",
                    f"Child {i + 1} will be 18 or older on the trip date, "
                    "so they need to sign their own waiver",
                    "not_minor",
                )
            )
            born = None
        if name and born:
            minors.append({"name": name, "date_of_birth": born.isoformat()})
    return minors


def _drawing(problems: list[Problem], value: str) -> bytes | None:
    """The optional drawn signature: a data: URL of a real PNG of at most 100 KB."""
    value = value.strip()
    if not value:
        return None

    def problem(message: str) -> None:
        problems.append(Problem("signature_png", "signature-pad", message))

    if not value.startswith(PNG_DATA_URL):
        problem("The drawn signature must be a PNG image; clear it and draw it again")
        return None
    encoded = value[len(PNG_DATA_URL) :]
    limit_kb = MAX_SIGNATURE_PNG_BYTES // 1024
    # Refuse before decoding: base64 is 4 characters per 3 bytes.
    if len(encoded) > (MAX_SIGNATURE_PNG_BYTES + 2) // 3 * 4:
        problem(f"The drawn signature is too large (at most {limit_kb} KB); clear it and redraw")
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        problem("The drawn signature could not be read; clear it and draw it again")
        return None
    if len(data) > MAX_SIGNATURE_PNG_BYTES:
        problem(f"The drawn signature is too large (at most {limit_kb} KB); clear it and redraw")
        return None
    try:
        check_png(data)
    except ValueError:
        problem("The drawn signature is not a valid PNG image; clear it and draw it again")
        return None
    return data


def check_png(data: bytes) -> tuple[int, int]:
    """Width and height of a well-formed PNG, else ValueError (no image library needed).

    Checks the signature, that IHDR comes first with sane values, every chunk's
    length and CRC, at least one IDAT, and IEND as the very end.
    """
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG signature")
    position, size, seen = len(_PNG_SIGNATURE), None, set()
    while True:
        if position + 12 > len(data):
            raise ValueError("truncated chunk")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 8 + length
        if length > 2**31 - 1 or end + 4 > len(data) or not kind.isalpha():
            raise ValueError("bad chunk header")
        body = data[position + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"bad CRC in {kind!r}")
        if size is None:
            if kind != b"IHDR" or length != 13:
                raise ValueError("IHDR must come first")
            width, height, depth, colour, compression, filtering, interlace = struct.unpack(
                ">IIBBBBB", body
            )
            if not (0 < width <= MAX_PNG_SIDE and 0 < height <= MAX_PNG_SIDE):
                raise ValueError("bad image size")
            if depth not in _PNG_DEPTHS.get(colour, ()) or compression or filtering:
                raise ValueError("bad IHDR fields")
            if interlace not in (0, 1):
                raise ValueError("bad interlace method")
            size = (width, height)
        seen.add(kind)
        position = end + 4
        if kind == b"IEND":
            if position != len(data) or length:
                raise ValueError("data after IEND")
            if b"IDAT" not in seen:
                raise ValueError("no image data")
            return size


# --- Storing ---------------------------------------------------------------------


def waiver_sk(waiver_id: str) -> str:
    return f"{table.WAIVER_PREFIX}{waiver_id}"


def signature_sk(waiver_id: str) -> str:
    return f"{table.SIGNATURE_PREFIX}{waiver_id}"


def _store(
    event_id: str,
    trip: dict[str, Any],
    clean: dict[str, Any],
    drawing: bytes | None,
    text: WaiverText,
    request: Incoming,
) -> dict[str, Any]:
    """Write the waiver, its drawing and the trip's count in one transaction."""
    waiver_id = uuid.uuid4().hex
    pk, sk = table.event_pk(event_id), waiver_sk(waiver_id)
    signed_at = timeutil.now_iso()
    people = 1 + len(clean["minors"])
    snapshot = {k: trip.get(k) for k in ("title", "starts_at", "ends_at", "boat")}
    item = {
        "PK": pk,
        "SK": sk,
        "kind": "waiver",
        "id": waiver_id,
        "event_id": event_id,
        **clean,
        "people_covered": people,
        "agreed": True,
        "drawn_signature": drawing is not None,
        "drawn_signature_sha256": hashlib.sha256(drawing).hexdigest() if drawing else None,
        "waiver_version": text.version,
        "waiver_sha256": text.sha256,
        # The trip as the page showed it when signed (a later edit of the trip
        # does not change what this waiver was signed for).
        "trip": {k: val for k, val in snapshot.items() if val is not None},
        "signed_at": signed_at,
        "ip": request.source_ip,
        "user_agent": request.user_agent[:USER_AGENT_MAX],
        **outbox.enqueue_fields(pk, sk),
    }
    drawn = None
    if drawing is not None:
        drawn = {
            "PK": pk,
            "SK": signature_sk(waiver_id),
            "kind": SIGNATURE_KIND,
            "waiver_id": waiver_id,
            "event_id": event_id,
            "png": drawing,
            "sha256": item["drawn_signature_sha256"],
            "signed_at": signed_at,
        }
    writes = signing_writes(item, drawn, people)
    for attempt in range(_TRANSACTION_TRIES):
        try:
            aws.dynamodb().transact_write_items(TransactItems=writes)
            return item
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if not reasons or reasons[-1] == "ConditionalCheckFailed":
            _open_trip(event_id)  # cancelled or removed meanwhile: its 404/410 page
        if "ConditionalCheckFailed" in reasons or not set(reasons) & _RETRYABLE:
            raise Conflict(
                "Your waiver could not be stored; please send it again", code="not_stored"
            )
        # Another transaction held the trip (people signing at once, a payment being
        # logged): nothing was written, so the same writes can simply go again.
        if attempt < _TRANSACTION_TRIES - 1:
            time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
    raise Unavailable("Many people are signing right now: please send the form again")


def signing_writes(
    item: dict[str, Any], drawn: dict[str, Any] | None, people: int
) -> list[dict[str, Any]]:
    """The TransactItems of one signing. Both puts refuse an existing key: never overwrite."""
    name = config.table_name()
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": name,
                "Item": table.to_item(item),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
    ]
    if drawn is not None:
        writes.append(
            {
                "Put": {
                    "TableName": name,
                    "Item": table.to_item(drawn),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        )
    writes.append(
        {
            "Update": {
                "TableName": name,
                "Key": table.to_item({"PK": item["PK"], "SK": table.EVENT_SK}),
                "UpdateExpression": "ADD waiver_count :people",
                "ConditionExpression": "attribute_exists(PK) AND #status <> :cancelled",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":people": table.to_value(people),
                    ":cancelled": table.to_value("cancelled"),
                },
            }
        }
    )
    return writes


# --- Answers ---------------------------------------------------------------------


def public_waiver(item: dict[str, Any]) -> dict[str, Any]:
    """What the signer's client gets back: enough to confirm, no contact details."""
    return {
        "id": item["id"],
        "event_id": item["event_id"],
        "full_name": item["full_name"],
        "minors": item["minors"],
        "people_covered": item["people_covered"],
        "signed_at": item["signed_at"],
        "waiver_version": item["waiver_version"],
        "waiver_sha256": item["waiver_sha256"],
    }


def _signed(
    trip: dict[str, Any], item: dict[str, Any], request: Incoming, *, email: str
) -> Response:
    if request.wants_json:
        return webpages.json_answer({"waiver": public_waiver(item)}, status=201)
    return webpages.page(
        "waiver/confirmation.html",
        status=201,
        trip=_trip_view(trip),
        waiver=item,
        signed=human_stamp(item["signed_at"]),
        email=email,
    )


def _pretend_signed(
    trip: dict[str, Any], sub: Submission, text: WaiverText, request: Incoming
) -> Response:
    """The honeypot was filled: answer as if signed so a bot learns nothing; store nothing."""
    logs.line(level="warning", message="waiver honeypot filled; nothing stored")
    minors = [{"name": n.strip(), "date_of_birth": d.strip()} for n, d in sub.minors if n.strip()]
    item = {
        "id": uuid.uuid4().hex,
        "event_id": trip["id"],
        "full_name": sub.values.get("full_name", "").strip()[:NAME_MAX],
        "minors": minors[:MAX_MINORS],
        "people_covered": 1 + len(minors[:MAX_MINORS]),
        "signed_at": timeutil.now_iso(),
        "waiver_version": text.version,
        "waiver_sha256": text.sha256,
    }
    return _signed(trip, item, request, email=sub.values.get("email", "").strip()[:EMAIL_MAX])


def _text_changed(
    trip: dict[str, Any], text: WaiverText, sub: Submission, request: Incoming
) -> Response:
    """The agreement changed after the page was loaded: they must agree to the new one."""
    if request.wants_json:
        raise Conflict(
            f"waiver_version: the waiver text is now version {text.version}; "
            "show it to the signer and send again",
            field="waiver_version",
            code="waiver_changed",
        )
    sub.agree = False
    return _form_page(
        trip,
        text,
        sub,
        status=409,
        notice=(
            "The waiver text was updated after you opened this page. Please read the "
            "new version below, then tick the box and sign again. Nothing has been signed yet."
        ),
    )


def _json_problems(problems: list[Problem]) -> Response:
    first = problems[0]
    body = {
        "code": first.code,
        "message": f"{first.field}: {first.message}",
        "field": first.field,
        "errors": [
            {"code": p.code, "message": f"{p.field}: {p.message}", "field": p.field}
            for p in problems
        ],
    }
    return webpages.json_answer(body, status=400, headers={"Vary": "Accept"})


# --- Crew ------------------------------------------------------------------------


def get_waiver(event_id: str, waiver_id: str) -> dict[str, Any]:
    """One signed waiver, whole: its fields, the drawn signature and the text signed."""
    v.path_id(event_id)
    v.path_id(waiver_id, "waiver")
    client = aws.dynamodb()
    pk = table.event_pk(event_id)
    found = client.get_item(
        TableName=config.table_name(),
        Key=table.to_item({"PK": pk, "SK": waiver_sk(waiver_id)}),
        ConsistentRead=True,
    )
    if "Item" not in found:
        raise NotFound("no such waiver", field="waiver_id")
    item = table.from_item(found["Item"])
    record = events.public_child(item)
    record["signature_png"] = None
    if item.get("drawn_signature"):
        drawn = client.get_item(
            TableName=config.table_name(),
            Key=table.to_item({"PK": pk, "SK": signature_sk(waiver_id)}),
            ConsistentRead=True,
        )
        if "Item" in drawn:
            png = table.from_item(drawn["Item"])["png"]
            png = getattr(png, "value", png)  # boto3's Binary wraps the bytes
            record["signature_png"] = PNG_DATA_URL + base64.b64encode(png).decode("ascii")
    record["waiver_text"] = _signed_text(item)
    return record


def _signed_text(item: dict[str, Any]) -> str | None:
    """The agreement as signed, only if the published file still hashes to the record."""
    try:
        text = text_version(item["waiver_version"])
    except (KeyError, RuntimeError):
        return None
    return text.text if text.sha256 == item.get("waiver_sha256") else None


def email_for(item: dict[str, Any]) -> notifications.Email:
    """The signer's copy: the full agreement they signed, their details, the time signed.

    Called by the outbox for items of kind "waiver". Raises (so the outbox
    retries and then logs an error) rather than send a text that is not the one
    signed.
    """
    text = text_version(item["waiver_version"])
    if text.sha256 != item["waiver_sha256"]:
        raise RuntimeError(f"waiver {item['id']}: the text signed is no longer available")
    snapshot = item.get("trip") or {}
    trip = {k: snapshot.get(k) for k in ("title", "starts_at", "ends_at", "boat")}
    starts_at, ends_at = trip["starts_at"], trip["ends_at"]
    when = human_span(starts_at, ends_at) if starts_at and ends_at else ""
    day = _local(starts_at) if starts_at else None
    subject = f"Your signed waiver: {trip['title'] or 'your trip'}"
    if day:
        subject += f", {day:%a %b} {day.day}"
    context = {
        "subject": subject,
        "waiver": item,
        "trip": trip,
        "when": when,
        "signed": human_stamp(item["signed_at"]),
        "text": text,
    }
    return notifications.Email(
        to=[item["email"]],
        subject=subject,
        text=templates.render("email/waiver.txt", **context),
        html=templates.render("email/waiver.html", **context),
    )
