"""The store's attribute-value converter: our own, held to boto3's rules for what we store."""

from __future__ import annotations

from decimal import Decimal, DecimalException
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.db import codec
from chalicelib.money.records import PaymentMethod

# What the records hold: text, whole numbers (cents, counts, versions), flags, None,
# bytes (a signature's PNG), lists of text or of small maps, and maps.
LARGEST = 10**38 - 1  # DynamoDB's 38 significant digits
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-LARGEST, max_value=LARGEST)
    | st.text()
    | st.binary()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
items = st.dictionaries(st.text(min_size=1), values, max_size=8)
# Numbers DynamoDB holds that are not whole or not small: read back as int or float.
decimals = st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.integers(min_value=-20, max_value=20),
)


def _boto3_plain(value: Any) -> Any:
    """What the store read before: boto3's deserializer, then Decimals to int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_boto3_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _boto3_plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return sorted(_boto3_plain(v) for v in value)
    if isinstance(value, Binary):
        return value.value
    return value


def _typed(value: Any) -> Any:
    """A value with its types spelled out, so True and 1 (or 1 and 1.0) differ."""
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    return (type(value).__name__, value)


@given(items)
def test_an_item_comes_back_as_it_was_stored(item):
    assert _typed(codec.from_item(codec.to_item(item, keep_nulls=True))) == _typed(item)


@given(values)
def test_values_are_written_as_boto3_wrote_them(value):
    assert codec.to_value(value) == TypeSerializer().serialize(value)


@given(items)
def test_items_are_read_as_boto3_read_them(item):
    stored = TypeSerializer().serialize(item)["M"]
    before = {k: _boto3_plain(TypeDeserializer().deserialize(v)) for k, v in stored.items()}
    assert _typed(codec.from_item(stored)) == _typed(before)


@given(st.lists(decimals, max_size=5))
def test_numbers_are_whole_ints_or_floats_as_before(numbers):
    for number in numbers:
        written = codec.to_value(number)
        assert written == TypeSerializer().serialize(number)
        read = codec.from_value(written)
        assert _typed(read) == _typed(_boto3_plain(TypeDeserializer().deserialize(written)))
    assert codec.from_value({"L": [{"N": "1.5"}, {"N": "2.0"}, {"N": "1E+2"}]}) == [1.5, 2, 100]


def test_money_stays_integer_cents():
    item = codec.to_item({"amount": 12000, "none": None, "list": [1, "a"]})
    assert "none" not in item
    assert item["amount"] == {"N": "12000"}
    plain = codec.from_item(item)
    assert plain == {"amount": 12000, "list": [1, "a"]}
    assert isinstance(plain["amount"], int)


def test_statuses_are_stored_as_their_words():
    assert codec.to_value(PaymentMethod.CASH) == {"S": "cash"}
    assert codec.to_item({"flags": (True, None)}) == {
        "flags": {"L": [{"BOOL": True}, {"NULL": True}]}
    }


def test_sets_are_written_typed_and_read_back_sorted():
    for value in ({"b", "a"}, {3, Decimal(1)}, {b"y", b"x"}, frozenset({"z"})):
        ours, boto3s = codec.to_value(value), TypeSerializer().serialize(value)
        # A set has no order of its own: compare the members.
        assert {k: sorted(v) for k, v in ours.items()} == {k: sorted(v) for k, v in boto3s.items()}
    assert codec.from_value({"SS": ["b", "a"]}) == ["a", "b"]
    assert codec.from_value({"NS": ["3", "1.5"]}) == [1.5, 3]
    assert codec.from_value({"BS": [b"y", b"x"]}) == [b"x", b"y"]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.5, TypeError),  # floats lose cents: refused, as boto3 refuses them
        (object(), TypeError),
        ({1, "a"}, TypeError),
        (10**38, DecimalException),  # more digits than DynamoDB keeps
    ],
)
def test_what_dynamodb_cannot_hold_is_refused(value, error):
    with pytest.raises(error):
        codec.to_value(value)


@pytest.mark.parametrize("value", [{}, {"S": "a", "N": "1"}, {"X": "1"}])
def test_a_malformed_attribute_value_is_refused(value):
    with pytest.raises(TypeError):
        codec.from_value(value)
