"""Amounts and dates read the way the customer's locale writes them, exactly as Babel says."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from babel.numbers import format_currency, get_currency_precision
from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.money import Money, exponent
from pastdue.rendering.formatting import DateStyle, format_date, format_money, locale_for


def plain(text: str) -> str:
    """Spaces of every width as one kind: CLDR uses no-break and narrow no-break spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "expected"),
    [
        ("de_DE", "EUR", "1234.56", "1.234,56 €"),
        ("en_GB", "EUR", "1234.56", "€1,234.56"),
        ("en_GB", "GBP", "1234.56", "£1,234.56"),
        ("en_US", "USD", "1234.56", "$1,234.56"),
        ("en_US", "EUR", "1234.56", "€1,234.56"),
        ("fr_FR", "EUR", "1234.56", "1 234,56 €"),
        ("nl_NL", "EUR", "1234.56", "€ 1.234,56"),
        ("es_ES", "EUR", "1234.56", "1.234,56 €"),
        ("de_CH", "CHF", "1234.5", "CHF 1’234.50"),
        ("en_US", "USD", "-12.3", "-$12.30"),
        ("de_DE", "EUR", "0", "0,00 €"),
        ("en_US", "JPY", "1500", "¥1,500"),
        ("en_US", "KWD", "1.250", "KWD1.250"),
    ],
)
def test_amounts_are_written_as_the_locale_writes_them(locale: str, currency: str, amount: str, expected: str) -> None:
    assert plain(format_money(Money(Decimal(amount), currency), locale)) == plain(expected)


def test_french_amounts_use_narrow_no_break_spaces_that_never_split_a_number() -> None:
    text = format_money(Money(Decimal("1234567.89"), "EUR"), "fr_FR")
    assert " " not in text  # no ordinary space: a line never breaks inside an amount
    assert plain(text) == "1 234 567,89 €"


def test_indian_grouping_falls_back_to_babel_and_stays_right() -> None:
    assert format_money(Money(Decimal("1234567.89"), "INR"), "en_IN") == "₹12,34,567.89"


LOCALES = ["de_DE", "de_AT", "de_CH", "en_GB", "en_US", "en_IN", "fr_FR", "fr_CA", "fr_CH", "nl_NL", "nl_BE",
           "es_ES", "es_MX", "it_IT", "pt_BR", "pl_PL", "sv_SE", "ja_JP", "ar_EG", "he_IL"]  # fmt: skip


@given(
    minor=st.integers(min_value=-(10**14), max_value=10**14),
    locale=st.sampled_from(LOCALES),
    currency=st.sampled_from(["EUR", "USD", "GBP", "CHF", "JPY", "SEK", "PLN", "INR"]),
)
def test_shortcut_formatting_equals_babel_for_any_amount(minor: int, locale: str, currency: str) -> None:
    """Where CLDR and ISO 4217 agree on the decimals, the result is exactly Babel's format_currency."""
    money = Money.of_minor(minor, currency)
    assert get_currency_precision(currency) == exponent(currency)
    assert format_money(money, locale) == format_currency(money.amount, currency, locale=locale)


def test_amounts_keep_every_iso_minor_digit_even_where_cldr_shows_fewer() -> None:
    """A notice must show what the ledger holds: IQD has three decimals in ISO 4217, none in CLDR."""
    assert format_money(Money(Decimal("1234.567"), "IQD"), "en_US").endswith("1,234.567")


@pytest.mark.parametrize(
    ("locale", "style", "expected"),
    [
        ("de_DE", "medium", "30.06.2026"),
        ("de_DE", "long", "30. Juni 2026"),
        ("en_GB", "medium", "30 Jun 2026"),
        ("en_GB", "long", "30 June 2026"),
        ("en_US", "medium", "Jun 30, 2026"),
        ("fr_FR", "long", "30 juin 2026"),
        ("nl_NL", "long", "30 juni 2026"),
        ("es_ES", "long", "30 de junio de 2026"),
    ],
)
def test_dates_use_the_locales_medium_and_long_forms(locale: str, style: DateStyle, expected: str) -> None:
    assert format_date(date(2026, 6, 30), locale, style) == expected


@pytest.mark.parametrize("tag", ["de-DE", "de_XX", "de"])
def test_a_locale_written_loosely_still_finds_its_language(tag: str) -> None:
    assert locale_for(tag).language == "de"


@pytest.mark.parametrize("tag", ["", "xx_YY", "not a locale"])
def test_an_unknown_locale_falls_back_to_english(tag: str) -> None:
    assert locale_for(tag).language == "en"
    assert format_money(Money(Decimal("5"), "EUR"), tag) == "€5.00"
