"""Money as an exact decimal amount in one ISO 4217 currency.

One value type, built one way (:func:`parse_amount` for text, :meth:`Money.of_minor` for
stored integers); formatting for people lives in the templates, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from pastdue.errors import CurrencyError

# ISO 4217 active codes and their minor-unit exponents. Codes absent from the exponent map
# use two decimals, which is the rule for the overwhelming majority of currencies.
_EXPONENT_EXCEPTIONS: dict[str, int] = {
    # no minor unit
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # three decimals
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # four decimals
    "CLF": 4,
    "UYW": 4,
}

ISO_4217_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD
    IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
    MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN
    SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
    VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 - a table is easier to check against the standard
)


_EXPONENTS: dict[str, int] = {code: _EXPONENT_EXCEPTIONS.get(code, 2) for code in ISO_4217_CODES}


def is_currency(code: str) -> bool:
    """True for an active ISO 4217 code (upper case, as the standard writes it)."""
    return code in ISO_4217_CODES


def exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit (EUR 2, JPY 0, KWD 3)."""
    found = _EXPONENTS.get(currency)
    if found is None:
        raise CurrencyError(f"unknown currency {currency!r}")
    return found


_QUANTUM: dict[int, Decimal] = {e: Decimal(1).scaleb(-e) for e in range(5)}


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount in one currency; arithmetic across currencies raises CurrencyError."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be Decimal, not {type(self.amount).__name__}")
        exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0).quantize(_QUANTUM[exponent(currency)]), currency)

    @classmethod
    def of_minor(cls, minor: int, currency: str) -> Money:
        """From integer minor units, the way the store keeps money."""
        return _trusted(Decimal(minor).scaleb(-exponent(currency)), currency)

    @property
    def minor(self) -> int:
        """Integer minor units; exact, because amounts are kept rounded to the currency."""
        return int(self.rounded().amount.scaleb(exponent(self.currency)))

    def rounded(self) -> Money:
        """Rounded to the currency's minor unit, half to even (banker's rounding)."""
        q = _QUANTUM[exponent(self.currency)]
        return Money(self.amount.quantize(q, rounding=ROUND_HALF_EVEN), self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return _trusted(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return _trusted(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return _trusted(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if not isinstance(factor, Decimal | int) or isinstance(factor, bool):
            raise TypeError("Money can only be multiplied by Decimal or int")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _trusted(amount: Decimal, currency: str) -> Money:
    """A Money from parts already checked (a Decimal, a known currency), skipping the checks.

    Arithmetic and loading from the store build millions of values whose parts are known
    good; validating them again is a third of the daily run's time.
    """
    money = object.__new__(Money)
    object.__setattr__(money, "amount", amount)
    object.__setattr__(money, "currency", currency)
    return money


def parse_amount(text: str, currency: str) -> Money:
    """Parse a plain decimal string ("1234.50") in the currency; the one way text becomes Money.

    Raises ValueError with a message fit for a person when the text is not a plain decimal,
    is not finite, or has more decimals than the currency's minor unit allows. Exponent
    notation and thousands separators are refused: ledgers must be unambiguous.
    """
    ex = exponent(currency)
    s = text.strip()
    body = s[1:] if s[:1] in "+-" else s
    whole, _, frac = body.partition(".")
    if not body or not (whole or frac) or not (whole + frac).isdigit() or not (whole + frac).isascii():
        raise ValueError(f"not a decimal amount: {text!r}")
    if len(frac) > ex:
        raise ValueError(f"{text!r} has {len(frac)} decimals; {currency} allows {ex}")
    try:
        amount = Decimal(s).quantize(_QUANTUM[ex])
    except InvalidOperation as exc:  # more digits than Decimal's context holds (28)
        raise ValueError(f"{text!r} has too many digits") from exc
    return Money(amount, currency)


def sum_money(items: list[Money], currency: str) -> Money:
    """Exact sum of amounts that must all be in ``currency``."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
