"""Amounts and dates for people, in the customer's locale, fast enough for bulk delivery.

Babel knows how every locale writes money and dates, but asking it afresh for each amount
(``format_currency`` parses the locale and walks the pattern every time) would cost more than
rendering the whole notice. So each locale is parsed once, each date is formatted once per
locale and style, and for money a formatter is built once per (locale, currency):

* the shortcut formats the digits with :func:`format` and puts in the locale's separators,
  wrapped in the prefix and suffix Babel's own output shows for a probe amount;
* it is used only when it gives exactly Babel's output for a set of sample amounts, checked
  when the formatter is built; otherwise (Indian digit grouping, for example) Babel's parsed
  pattern is applied directly, which is still far cheaper than ``format_currency``.

Amounts show as many decimals as the currency's ISO 4217 minor unit (the precision
:class:`~pastdue.core.money.Money` keeps), so a notice never rounds what the ledger holds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.numbers import get_decimal_symbol, get_group_symbol

from pastdue.core.money import Money, exponent

DateStyle = Literal["short", "medium", "long", "full"]

_SAMPLE_AMOUNTS = (
    "0",
    "0.5",
    "7",
    "12.34",
    "999.99",
    "1000",
    "12345.6",
    "1234567.89",
    "98765432109.01",
    "-0.01",
    "-1234.5",
    "-7654321",
)


@lru_cache(maxsize=256)
def locale_for(tag: str) -> Locale:
    """The Babel locale for a tag such as ``de_DE``, ``fr-BE`` or ``nl``; English when unknown.

    A notice must still go out when a customer record carries an odd locale, so an unknown
    territory falls back to its language and an unknown language to English.
    """
    cleaned = tag.strip().replace("-", "_")
    for candidate in (cleaned, cleaned.split("_")[0]):
        if not candidate:
            continue
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse("en")


@lru_cache(maxsize=1024)
def _money_formatter(tag: str, currency: str) -> Callable[[Decimal], str]:
    locale = locale_for(tag)
    digits = exponent(currency)
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (digits, digits)

    def by_babel(amount: Decimal) -> str:
        return str(pattern.apply(amount, locale, currency=currency, currency_digits=False))

    return _shortcut(by_babel, locale, digits) or by_babel


def _shortcut(by_babel: Callable[[Decimal], str], locale: Locale, digits: int) -> Callable[[Decimal], str] | None:
    """A formatter that reproduces ``by_babel`` with string operations, or None if it cannot."""
    spec = f",.{digits}f"  # "1,234,567.89", whose "," and "." then become the locale's symbols
    group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)

    def digits_of(amount: Decimal) -> str:
        return format(amount, spec).replace(",", "\0").replace(".", decimal).replace("\0", group)

    probe = Decimal("1234567.89")
    wrappers: list[tuple[str, str]] = []
    for value in (probe, -probe):
        core = digits_of(probe)
        before, found, after = by_babel(value).partition(core)
        if not found or core in after:
            return None
        wrappers.append((before, after))
    (pos_prefix, pos_suffix), (neg_prefix, neg_suffix) = wrappers

    def fast(amount: Decimal) -> str:
        if amount.is_signed():
            return neg_prefix + digits_of(-amount) + neg_suffix
        return pos_prefix + digits_of(amount) + pos_suffix

    for text in _SAMPLE_AMOUNTS:
        sample = Decimal(text)
        if fast(sample) != by_babel(sample):
            return None
    return fast


def format_money(money: Money, locale: str) -> str:
    """``1.234,56 €`` for de_DE, ``€1,234.56`` for en_GB: the amount as the customer reads it."""
    return _money_formatter(locale, money.currency)(money.amount)


@lru_cache(maxsize=8192)
def format_date(day: date, locale: str, style: DateStyle = "medium") -> str:
    """The date in the locale's own ``medium`` (``30.06.2026``) or ``long`` (``30. Juni 2026``) form.

    Cached per value: a delivery batch shows the same few due dates and deadlines over and over.
    """
    return str(babel_format_date(day, format=style, locale=locale_for(locale)))
