"""Checks on what clients send. Each failure names the field; nothing is written."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from chalicelib.errors import BadInput, NotFound, TooLarge

MAX_JSON_BYTES = 64 * 1024


class _Lazy:
    """A pattern compiled on its first use: a cold start whose route checks no email, name
    or id does not pay for compiling them (a few milliseconds of every cold start)."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern, self._flags = pattern, flags
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return getattr(self._compiled, name)


_MISSING = object()
EMAIL_MAX = 254
EMAIL = _Lazy(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)


def json_object(raw: bytes | str | None, *, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request body as a JSON object, or a 400/413 that says what is wrong."""
    if raw is None or raw in (b"", ""):
        raise BadInput("the request body must be a JSON object", field="body", code="malformed")
    if len(raw) > max_bytes:
        raise TooLarge(f"the request body is larger than {max_bytes} bytes", field="body")
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError):
        raise BadInput(
            "the request body is not valid JSON", field="body", code="malformed"
        ) from None
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object", field="body", code="malformed")
    for name, value in body.items():
        _sound(name, value)
    return body


# No route reads deeper than a list of objects in an object; a few more levels are harmless.
MAX_JSON_DEPTH = 16


def _too_deep() -> BadInput:
    return BadInput(
        f"the request body nests more than {MAX_JSON_DEPTH} levels deep",
        field="body",
        code="malformed",
    )


def _has_surrogate(text: str) -> bool:
    """Whether text holds a lone UTF-16 surrogate ("\ud800"): JSON can carry one, but it
    is no character, and no store or email can take it."""
    return any("\ud800" <= c <= "\udfff" for c in text)


def _sound(field: str, value: Any) -> None:
    """Refuse (400 naming the top-level field, or the body) a value nested too deeply or
    holding a lone surrogate in any string or key, before any route reads it.

    Walked without recursion, so no depth of input can exhaust the stack."""
    if _has_surrogate(field):
        raise BadInput(
            "a field name in the request body is not valid text (a lone surrogate)",
            field="body",
            code="malformed",
        )
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(item, str):
            if _has_surrogate(item):
                raise BadInput(
                    f"{field} is not valid text (it holds a lone UTF-16 surrogate)", field=field
                )
        elif isinstance(item, dict):
            for key, inner in item.items():
                pending.append((key, depth + 1))
                pending.append((inner, depth + 1))
        elif isinstance(item, list):
            pending.extend((inner, depth + 1) for inner in item)


def reject_unknown(body: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadInput(f"unknown field: {unknown[0]}", field=unknown[0], code="unknown_field")


def text(
    body: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    min_len: int = 1,
    max_len: int = 200,
    multiline: bool = False,
) -> str | None:
    """A trimmed string field; empty counts as absent unless required."""
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadInput(f"{name} is required", field=name, code="required")
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text", field=name)
    value = value.strip()
    if len(value) < min_len or len(value) > max_len:
        raise BadInput(f"{name} must be {min_len} to {max_len} characters", field=name)
    if any(ord(c) < 32 and not (multiline and c in "\n\r\t") for c in value):
        raise BadInput(f"{name} contains control characters", field=name)
    return value


# Characters that reorder or hide text (bidirectional overrides and marks).
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# Names never hold a link or an address. Refusing them keeps a trip link from being used
# to send (through the signer's copy) or show the crew someone's advertising.
LINK_OR_ADDRESS = _Lazy(
    r"@|://|\bwww\.|\bxn--"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|io|co|me|ly|gl|to|gg|xyz|top"
    r"|site|online|link|click|app|dev|page|ru|cn|tk|ml|ga|cf|gq|us|uk|de|fr|eu|ca|au|in"
    r"|shop|store|live|win|vip|bit|pro|club|icu|cc|tv|ws|su|ai|support|help|email)\b",
    re.IGNORECASE,
)
# Control, format (zero-width, soft hyphen), surrogate and line/paragraph separators.
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


def name_problem(value: str) -> str | None:
    """The one rule for a person's name, waivers and crew alike: "characters" when it
    holds control, format, separator or direction characters (they hide or break text),
    "address" when it reads as a web or email address, else None."""
    import unicodedata

    if any(c in BIDI or unicodedata.category(c) in _HIDDEN_CATEGORIES for c in value):
        return "characters"
    if LINK_OR_ADDRESS.search(unicodedata.normalize("NFKC", value)):
        return "address"
    return None


def person_name(body: dict[str, Any], name: str, *, max_len: int = 60) -> str | None:
    """A name shown to others: 1 to `max_len` characters that pass `name_problem`."""
    value = text(body, name, max_len=max_len)
    if value is None:
        return None
    problem = name_problem(value)
    if problem == "characters":
        raise BadInput(f"{name} contains control or direction characters", field=name)
    if problem == "address":
        raise BadInput(f"{name} can't contain a web or email address", field=name)
    return value


def greeting_name(full_name: str) -> str | None:
    """The first name to greet someone by in an email, or None: only when the whole name
    passes `person_name` and its first word is letters of one script (with inner
    apostrophes or hyphens), so nothing typed can pose as a link or a message."""
    import unicodedata

    try:
        if person_name({"name": full_name}, "name", max_len=200) is None:
            return None
    except BadInput:
        return None
    first = full_name.split()[0] if full_name.split() else ""
    if not 1 <= len(first) <= 40 or not first[0].isalpha() or not first[-1].isalpha():
        return None
    scripts = set()
    for c in first:
        if c in "'\u2019-":
            continue
        if not (c.isalpha() or unicodedata.category(c).startswith("M")):
            return None
        if c.isalpha():
            scripts.add(unicodedata.name(c, "?").split()[0])
    return first if len(scripts) == 1 else None


def integer(
    body: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """A whole number (JSON integer, not a float and not a boolean)."""
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise BadInput(f"{name} is required", field=name, code="required")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a whole number", field=name)
    if minimum is not None and value < minimum:
        raise BadInput(f"{name} must be at least {minimum}", field=name)
    if maximum is not None and value > maximum:
        raise BadInput(f"{name} must be at most {maximum}", field=name)
    return value


def choice(
    body: dict[str, Any], name: str, options: Iterable[str], *, required: bool = False
) -> str | None:
    value = text(body, name, required=required, max_len=40)
    allowed = tuple(options)
    if value is not None and value not in allowed:
        raise BadInput(f"{name} must be one of: {', '.join(allowed)}", field=name)
    return value


def name_list(
    body: dict[str, Any], name: str, *, max_items: int = 20, max_len: int = 80
) -> list[str] | None:
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, list):
        raise BadInput(f"{name} must be a list of names", field=name)
    if len(value) > max_items:
        raise BadInput(f"{name} may hold at most {max_items} names", field=name)
    names = []
    for entry in value:
        if not isinstance(entry, str) or not entry.strip():
            raise BadInput(f"{name} must be a list of names", field=name)
        entry = entry.strip()
        if len(entry) > max_len or any(ord(c) < 32 for c in entry):
            raise BadInput(f"each name in {name} must be 1 to {max_len} characters", field=name)
        names.append(entry)
    return names


def email(body: dict[str, Any], name: str) -> str | None:
    """An email address (one address, like name@example.com); None when absent or empty."""
    value = text(body, name, max_len=EMAIL_MAX)
    if value is not None and not EMAIL.fullmatch(value):
        raise BadInput(f"{name} must be an email address like name@example.com", field=name)
    return value


def id_list(body: dict[str, Any], name: str, *, max_items: int = 20) -> list[str] | None:
    """A list of record ids (32 hex digits), each once, sorted; None when absent or null."""
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise BadInput(f"{name} must be a list of account ids", field=name)
    if len(value) > max_items:
        raise BadInput(f"{name} may hold at most {max_items} ids", field=name)
    for entry in value:
        ref_id({name: entry}, name)
    return sorted(set(value))


def uuid_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name, _MISSING)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a UUID", field=name)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadInput(f"{name} must be a UUID", field=name) from None


def ref_id(body: dict[str, Any], name: str) -> str | None:
    """An id of another record in a body (32 hex digits); None when absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BadInput(f"{name} must be the id of a record (32 hex digits)", field=name)
    return value


def path_id(value: str, what: str = "event") -> str:
    """Ids are UUIDs (32 hex digits, or the dashed form); anything else cannot exist: 404."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise NotFound(f"no such {what}", field=f"{what}_id")
    return value


_ID = _Lazy(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
