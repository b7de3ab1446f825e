"""Money: one exact value per currency, parsed one way, never mixed across currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.money import Money, exponent, is_currency, parse_amount, sum_money
from pastdue.errors import CurrencyError

# Realistic amounts: up to a trillion in major units, far inside Decimal's 28 digits.
MINOR = st.integers(min_value=-(10**15), max_value=10**15)
CURRENCIES = st.sampled_from(["EUR", "USD", "JPY", "KWD", "CLF", "GBP", "BHD", "KRW"])


@pytest.mark.parametrize(
    ("currency", "decimals"),
    [
        ("JPY", 0),
        ("KRW", 0),
        ("EUR", 2),
        ("USD", 2),
        ("GBP", 2),
        ("KWD", 3),
        ("BHD", 3),
        ("CLF", 4),
    ],
)
def test_minor_unit_follows_iso_4217(currency: str, decimals: int) -> None:
    assert exponent(currency) == decimals


def test_unknown_or_lower_case_currency_is_refused() -> None:
    assert not is_currency("eur")
    assert not is_currency("XYZ")
    with pytest.raises(CurrencyError):
        exponent("XYZ")
    with pytest.raises(CurrencyError):
        Money(Decimal("1.00"), "eur")


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("1234.50", "EUR", "1234.50"),
        ("1234.5", "EUR", "1234.50"),
        ("7", "EUR", "7.00"),
        (" 12.00 ", "EUR", "12.00"),
        ("-3.10", "EUR", "-3.10"),
        ("+3.10", "EUR", "3.10"),
        (".5", "EUR", "0.50"),
        ("1500", "JPY", "1500"),
        ("1.250", "KWD", "1.250"),
        ("0.001", "KWD", "0.001"),
    ],
)
def test_parse_amount_accepts_plain_decimals(text: str, currency: str, amount: str) -> None:
    money = parse_amount(text, currency)
    assert money == Money(Decimal(amount), currency)
    # kept at the currency's exponent, so str() shows every minor digit
    assert str(money) == f"{amount} {currency}"


@pytest.mark.parametrize(
    ("text", "currency", "why"),
    [
        ("1.234", "EUR", "decimals"),
        ("1.5", "JPY", "decimals"),
        ("0.0001", "KWD", "decimals"),
        ("1e3", "EUR", "not a decimal"),
        ("1E-2", "EUR", "not a decimal"),
        ("abc", "EUR", "not a decimal"),
        ("NaN", "EUR", "not a decimal"),
        ("Infinity", "EUR", "not a decimal"),
        ("", "EUR", "not a decimal"),
        ("   ", "EUR", "not a decimal"),
        (".", "EUR", "not a decimal"),
        ("-", "EUR", "not a decimal"),
        ("1,000.00", "EUR", "not a decimal"),
        ("1.000,00", "EUR", "not a decimal"),
        ("1 000.00", "EUR", "not a decimal"),
        ("1_000", "EUR", "not a decimal"),
        ("1'000", "CHF", "not a decimal"),
        ("--1", "EUR", "not a decimal"),
        ("12.34.56", "EUR", "not a decimal"),
        ("١٢٣", "EUR", "not a decimal"),  # Arabic-Indic digits: isdigit() but not ASCII
        ("€12", "EUR", "not a decimal"),
        ("1" * 40, "EUR", "too many digits"),
    ],
)
def test_parse_amount_refuses_anything_ambiguous(text: str, currency: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_amount(text, currency)


def test_parse_amount_names_the_allowed_decimals() -> None:
    with pytest.raises(ValueError, match=r"'1\.5' has 1 decimals; JPY allows 0"):
        parse_amount("1.5", "JPY")


def test_amounts_of_different_currencies_never_combine() -> None:
    eur, usd = parse_amount("1.00", "EUR"), parse_amount("1.00", "USD")
    with pytest.raises(CurrencyError, match="cannot combine EUR with USD"):
        eur + usd
    with pytest.raises(CurrencyError):
        eur - usd
    with pytest.raises(CurrencyError):
        _ = eur < usd
    with pytest.raises(CurrencyError):
        sum_money([eur, usd], "EUR")


def test_money_is_never_built_from_float() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_amount("1.00", "EUR") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        parse_amount("1.00", "EUR") * True


def test_money_is_immutable() -> None:
    money = parse_amount("1.00", "EUR")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]


def test_rounding_is_half_to_even_at_the_minor_unit() -> None:
    assert Money(Decimal("0.125"), "EUR").rounded() == parse_amount("0.12", "EUR")
    assert Money(Decimal("0.135"), "EUR").rounded() == parse_amount("0.14", "EUR")
    assert Money(Decimal("2.5"), "JPY").rounded().minor == 2


def test_zero_and_comparisons() -> None:
    zero = Money.zero("KWD")
    assert zero.is_zero() and str(zero) == "0.000 KWD"
    one = parse_amount("1.000", "KWD")
    assert zero < one <= one and one > zero >= zero
    assert -one == parse_amount("-1.000", "KWD")


@given(st.lists(MINOR, max_size=30), CURRENCIES)
def test_sum_of_minor_units_is_exact(minors: list[int], currency: str) -> None:
    items = [Money.of_minor(m, currency) for m in minors]
    assert sum_money(items, currency).minor == sum(minors)
    total = Money.zero(currency)
    for item in reversed(items):
        total = total + item
    assert total.minor == sum(minors)


@given(MINOR, MINOR, CURRENCIES)
def test_subtraction_undoes_addition(a: int, b: int, currency: str) -> None:
    x, y = Money.of_minor(a, currency), Money.of_minor(b, currency)
    assert (x + y - y) == x
    assert (x - y).minor == a - b


@given(MINOR, CURRENCIES)
def test_minor_units_round_trip(minor: int, currency: str) -> None:
    money = Money.of_minor(minor, currency)
    assert money.minor == minor
    assert money.currency == currency
    # and through the text a ledger would hold
    assert parse_amount(str(money.amount), currency) == money
