"""Plain Python values to DynamoDB's attribute-value shape and back.

Our own converter, not boto3's `TypeSerializer`/`TypeDeserializer`: the Lambda
path never imports boto3 (a cold start pays for every module it loads), and
reading an item straight into plain values is several times faster than
deserializing to Decimals and cleaning them up after.

It keeps boto3's rules for what the app stores: None is NULL, bool is BOOL
(before int: a bool is an int), int and Decimal are N (at most 38 digits, as
DynamoDB allows; a float is refused, as boto3 refuses it), str is S (a StrEnum
as it is), bytes are B, lists and tuples are L, dicts are M, sets are SS, NS or
BS. Read back, numbers come as int when whole (money is integer cents) and
float otherwise, B as bytes, and sets as sorted lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any, TypedDict

# Stored or sent: what to_value takes.
Value = (
    str
    | int
    | bool
    | None
    | Decimal
    | bytes
    | bytearray
    | list["Value"]
    | tuple["Value", ...]
    | Mapping[str, "Value"]
    | Set[str]
    | Set[int]
    | Set[Decimal]
    | Set[bytes]
)
# Read back: what from_value answers.
Plain = str | int | float | bool | None | bytes | list["Plain"] | dict[str, "Plain"]


class AttributeValue(TypedDict, total=False):
    """One of DynamoDB's typed values: exactly one of these keys is set."""

    S: str
    N: str
    B: bytes
    BOOL: bool
    NULL: bool
    L: list[AttributeValue]
    M: dict[str, AttributeValue]
    SS: list[str]
    NS: list[str]
    BS: list[bytes]


# DynamoDB's numbers: 38 significant digits, exponents -130 to +125; anything
# that would be rounded or clamped is refused rather than stored changed.
_NUMBERS = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)


def _number(value: int | Decimal) -> str:
    return str(_NUMBERS.create_decimal(value))


def to_value(value: Value) -> AttributeValue:
    """One plain value in attribute-value shape; TypeError for what DynamoDB can't hold."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": _number(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, list | tuple):
        return {"L": [to_value(v) for v in value]}
    if isinstance(value, Mapping):
        return {"M": {k: to_value(v) for k, v in value.items()}}
    if isinstance(value, Set):
        return _set(value)
    if isinstance(value, float):
        raise TypeError("float is not stored: use int (cents) or Decimal")
    raise TypeError(f"{type(value).__name__} is not a type DynamoDB stores")


def _set(values: Set[Any]) -> AttributeValue:
    # Like boto3, an empty set is an NS (which DynamoDB refuses: nothing stores one).
    if all(isinstance(v, int | Decimal) and not isinstance(v, bool) for v in values):
        return {"NS": [_number(v) for v in values]}
    if all(isinstance(v, str) for v in values):
        return {"SS": list(values)}
    if all(isinstance(v, bytes | bytearray) for v in values):
        return {"BS": [bytes(v) for v in values]}
    raise TypeError("a set holds only numbers, only strings or only bytes")


def from_value(value: Mapping[str, Any]) -> Plain:
    """One attribute value as plain Python."""
    if len(value) != 1:
        raise TypeError(f"an attribute value has exactly one type: {sorted(value)}")
    ((tag, inner),) = value.items()
    if tag == "S":
        return str(inner)
    if tag == "N":
        return _from_number(inner)
    if tag == "M":
        return {k: from_value(v) for k, v in inner.items()}
    if tag == "L":
        return [from_value(v) for v in inner]
    if tag == "BOOL":
        return bool(inner)
    if tag == "NULL":
        return None
    if tag == "B":
        return bytes(inner)
    # Sets come back as sorted lists ([*...]: a list of plain values, to the type checker).
    if tag == "SS":
        return [*sorted(str(v) for v in inner)]
    if tag == "NS":
        return [*sorted(_from_number(v) for v in inner)]
    if tag == "BS":
        return [*sorted(bytes(v) for v in inner)]
    raise TypeError(f"{tag} is not an attribute-value type")


def _from_number(text: str) -> int | float:
    """A whole number as int (money is cents), any other as float."""
    if "." not in text and "e" not in text and "E" not in text:
        return int(text)
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def to_item(data: Mapping[str, Value], *, keep_nulls: bool = False) -> dict[str, AttributeValue]:
    """A plain dict in attribute-value shape; None values are dropped unless kept."""
    return {k: to_value(v) for k, v in data.items() if keep_nulls or v is not None}


def from_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """DynamoDB's shape to plain Python; numbers come back as int (money is cents)."""
    return {k: from_value(v) for k, v in item.items()}
