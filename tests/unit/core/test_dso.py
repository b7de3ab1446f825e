"""DSO: the receivable as days of recent invoicing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pastdue.core.analytics import dso
from pastdue.core.money import Money


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_a_receivable_equal_to_a_quarters_invoicing_is_ninety_days() -> None:
    assert dso(eur("300.00"), eur("300.00"), 90) == Decimal("90.0")


def test_dso_is_rounded_to_one_decimal() -> None:
    assert dso(eur("1149.99"), eur("1160.49"), 90) == Decimal("89.2")


def test_without_invoicing_in_the_period_there_is_no_dso() -> None:
    assert dso(eur("50.00"), eur("0.00"), 90) is None


def test_currencies_are_never_mixed() -> None:
    with pytest.raises(ValueError, match="EUR against USD"):
        dso(eur("1.00"), Money(Decimal("1.00"), "USD"), 90)
