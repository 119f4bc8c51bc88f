"""A tip split among crew in whole cents: it always adds up exactly, evenly, and the
extra cents go to the lowest account ids (the order docs/api.md states)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.money.amounts import split_cents

account_ids = st.lists(
    st.text(alphabet="0123456789abcdef", min_size=32, max_size=32), min_size=1, max_size=20
)
amounts = st.integers(min_value=0, max_value=10_000_000)


@given(amounts, account_ids)
def test_shares_always_add_up_to_the_tip_exactly(cents, ids):
    shares = split_cents(cents, ids)
    assert sum(share for _, share in shares) == cents
    assert all(isinstance(share, int) for _, share in shares)


@given(amounts, account_ids)
def test_shares_differ_by_at_most_one_cent_and_the_extra_goes_to_the_lowest_ids(cents, ids):
    shares = split_cents(cents, ids)
    people = [account for account, _ in shares]
    assert people == sorted(set(ids))
    amounts_in_order = [share for _, share in shares]
    assert max(amounts_in_order) - min(amounts_in_order) <= 1
    assert amounts_in_order == sorted(amounts_in_order, reverse=True)
    assert sum(1 for share in amounts_in_order if share > cents // len(people)) == cents % len(
        people
    )


@given(amounts, account_ids)
def test_the_split_does_not_depend_on_the_order_ids_are_given_in(cents, ids):
    assert split_cents(cents, ids) == split_cents(cents, list(reversed(ids)))


def test_a_thousand_cents_three_ways_is_334_333_333():
    assert split_cents(1000, ["c" * 32, "a" * 32, "b" * 32]) == [
        ("a" * 32, 334),
        ("b" * 32, 333),
        ("c" * 32, 333),
    ]


def test_an_account_named_twice_gets_one_share():
    assert split_cents(100, ["a" * 32, "a" * 32]) == [("a" * 32, 100)]


@pytest.mark.parametrize(("cents", "ids"), [(100, []), (-1, ["a" * 32])])
def test_no_one_to_split_among_or_a_negative_amount_is_refused(cents, ids):
    with pytest.raises(ValueError):
        split_cents(cents, ids)
