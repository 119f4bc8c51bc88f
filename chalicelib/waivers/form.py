"""The waiver form: reading what the patron sent, and checking it field by field.

A submission arrives as a form post (the page works without JavaScript) or as
JSON; both become one `Submission`, exactly as typed, so the page can be shown
again with every value kept. `validate` turns it into clean fields and a list of
`Problem`s in page order: each names the field (for JSON clients) and the
element on the page (for the error summary's links), and says how to fix it.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import unicodedata
import urllib.parse
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import zip_longest
from typing import Any

from chalicelib import timeutil
from chalicelib import validation as v
from chalicelib.errors import BadInput
from chalicelib.web.request_facts import JSON_TYPE, Incoming

MAX_BODY_BYTES = 256 * 1024
# A form with more fields than this is not ours (the waiver form has about 40).
MAX_FORM_FIELDS = 200
MAX_SIGNATURE_PNG_BYTES = 100 * 1024
# A side longer than this is no signature pad (the page draws 600 x 200): refused,
# so whoever views the record never has a decompression bomb expanded in their browser.
MAX_PNG_SIDE = 2000
MAX_MINORS = 12
NAME_MAX = 120
EMAIL_MAX = v.EMAIL_MAX
PHONE_MAX = 40
ADULT_AGE = 18
OLDEST_AGE = 120
PNG_DATA_URL = "data:image/png;base64,"

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
# The one-line fields kept exactly as typed, to fill the form in again.
TYPED_FIELDS = (*PERSON_FIELDS, "signature")
_TRUE_WORDS = frozenset({"yes", "on", "true", "1"})
# Direction overrides and isolates can make a name display as something else.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_EMAIL = v.EMAIL
_PHONE = re.compile(r"(\+?[\d\s().\-/]+?)(?:\s*(?:x|ext\.?|extension)\s*\d{1,6})?", re.IGNORECASE)
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> the bit depths it allows (PNG spec, IHDR).
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


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


# --- Reading ---------------------------------------------------------------------


def read(request: Incoming) -> Submission:
    """The submission from a form post or a JSON body (400 for a body we cannot read)."""
    if request.content_type == JSON_TYPE:
        return _read_json(v.json_object(request.raw_body, max_bytes=MAX_BODY_BYTES))
    form = parse_form(request.raw_body)
    return Submission(
        values={name: first(form, name) for name in TYPED_FIELDS},
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
        values={name: _json_text(body, name) for name in TYPED_FIELDS},
        minors=minors,
        agree=bool(agree),
        signature_png=_json_text(body, "signature_png"),
        website=_json_text(body, "website"),
        waiver_version=_json_text(body, "waiver_version"),
        waiver_sha256=_json_text(body, "waiver_sha256"),
    )


# --- Form posts ------------------------------------------------------------------------


def parse_form(raw: bytes) -> dict[str, list[str]]:
    """An urlencoded form body: every name with all its values, blanks kept."""
    try:
        text = raw.decode("utf-8")
        return urllib.parse.parse_qs(
            text,
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise BadInput(
            "the form could not be read (it must be UTF-8 form data)",
            field="body",
            code="malformed",
        ) from None


def first(form: Mapping[str, list[str]], name: str) -> str:
    """The first value of a form field, or "" when absent."""
    values = form.get(name) or [""]
    return values[0]


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


def _name(problems: list[Problem], value: str, name: str, anchor: str, *, what: str) -> str | None:
    """A person's name: one-line text that passes the one name rule (no hidden, format
    or separator characters, no web or email address)."""
    found = _text(problems, value, name, anchor, what=what, max_len=NAME_MAX)
    # The one name rule (chalicelib/validation.py), as for crew names.
    problem = v.name_problem(found) if found is not None else None
    if problem == "characters":
        problems.append(
            Problem(name, anchor, f"{_upper_first(what)} contains characters we can't accept")
        )
        return None
    if problem == "address":
        problems.append(
            Problem(name, anchor, f"{_upper_first(what)} can't contain a web or email address")
        )
        return None
    return found


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


def validate(
    sub: Submission, *, trip_date: date
) -> tuple[dict[str, Any], bytes | None, list[Problem]]:
    """Clean fields, the drawn signature's PNG bytes, and every problem found (in page order).

    `trip_date` is the trip's day in the operator's zone: a child must still be a
    minor on it (or today, for a trip already under way).
    """
    problems: list[Problem] = []
    values = sub.values
    today = timeutil.today_local()
    trip_day = max(today, trip_date)
    clean: dict[str, Any] = {}

    clean["full_name"] = _name(
        problems, values["full_name"], "full_name", "full_name", what="your full name"
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
    clean["emergency_name"] = _name(
        problems,
        values["emergency_name"],
        "emergency_name",
        "emergency_name",
        what="the name of someone we can call in an emergency",
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
    signature = _name(
        problems,
        values["signature"],
        "signature",
        "signature",
        what="your full name as your signature",
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
        name = _name(
            problems,
            name_typed,
            f"minors[{i}].name",
            f"minor_name-{i}",
            what=f"the full name of child {i + 1}",
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


# --- The drawn signature ---------------------------------------------------------


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
