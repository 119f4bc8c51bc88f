"""Plain Python values to DynamoDB's attribute-value shape and back.

boto3's own (de)serializer does the work; it is imported on first use, so a
cold start that never touches the table never loads it.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _codecs() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def to_value(value: Any) -> dict[str, Any]:
    return _codecs()[0].serialize(value)


def to_item(data: dict[str, Any], *, keep_nulls: bool = False) -> dict[str, Any]:
    """A plain dict in attribute-value shape; None values are dropped unless kept."""
    return {k: to_value(v) for k, v in data.items() if keep_nulls or v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB's shape to plain Python; numbers come back as int (money is cents)."""
    deserializer = _codecs()[1]
    return {k: plain(deserializer.deserialize(v)) for k, v in item.items()}


def plain(value: Any) -> Any:
    """Decimals as int (or float), sets as sorted lists, Binary as bytes, all the way down."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return sorted(plain(v) for v in value)
    inner = getattr(value, "value", None)
    if isinstance(inner, bytes):  # boto3's Binary wraps the bytes
        return inner
    return value
