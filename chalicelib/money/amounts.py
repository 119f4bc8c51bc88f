"""Money for people and for the books: integer cents in, text out, never via float."""

from __future__ import annotations

from chalicelib.money.records import PaymentMethod

METHOD_LABELS = {
    PaymentMethod.CASH: "cash",
    PaymentMethod.CARD: "card",
    PaymentMethod.CHECK: "check",
    PaymentMethod.VENMO: "Venmo",
    PaymentMethod.ZELLE: "Zelle",
    PaymentMethod.OTHER: "other",
}


def _split(cents: int) -> tuple[str, int, int]:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return sign, whole, part


def dollars(cents: int) -> str:
    """Plain dollars with two decimals, for CSV: 12050 -> "120.50"."""
    sign, whole, part = _split(cents)
    return f"{sign}{whole}.{part:02d}"


def display_dollars(cents: int) -> str:
    """Dollars for people: 1205000 -> "$12,050.00", -500 -> "-$5.00"."""
    sign, whole, part = _split(cents)
    return f"{sign}${whole:,}.{part:02d}"


def method_label(method: PaymentMethod | str) -> str:
    """How a payment method is written in a sentence: "Venmo", "cash"."""
    return METHOD_LABELS.get(PaymentMethod(method), str(method))


def split_cents(cents: int, account_ids: list[str]) -> list[tuple[str, int]]:
    """Split `cents` evenly among the accounts, in whole cents that add up exactly.

    Everyone gets `cents // n`; the `cents % n` cents left over go one each to the
    accounts in ascending account id order (the stated, deterministic order), so
    1000 three ways is 334 + 333 + 333. Accounts are listed once each, in that order.
    """
    people = sorted(set(account_ids))
    if not people:
        raise ValueError("a split needs at least one account")
    if cents < 0:
        raise ValueError("a split needs a non-negative amount")
    each, extra = divmod(cents, len(people))
    return [(account, each + (1 if n < extra else 0)) for n, account in enumerate(people)]
