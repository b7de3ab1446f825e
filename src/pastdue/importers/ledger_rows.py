"""Checking one ledger row: the full checker that words every problem, and a fast path.

The fast path accepts the common case, a well-formed row, in straight-line code; any row
it does not accept goes to the full checker, which is the one that words the problems.
Both accept exactly the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from pastdue.core.model import CustomerKind, PaymentKind
from pastdue.core.money import ISO_4217_CODES, exponent, is_currency
from pastdue.importers.ledger_format import STAGE_COLUMNS, LedgerKind

Checker = Callable[[list[str], int], tuple[Any, ...] | None]


class RowReport(Protocol):
    """Where a checker reports: the file being read."""

    kind: LedgerKind

    def problem(self, line: int | None, column: str | None, message: str) -> None: ...


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}
_LIMITS = {
    "id": 64,
    "customer_id": 64,
    "invoice_id": 64,
    "number": 64,
    "name": 200,
    "email": 254,
    "phone": 32,
    "street": 200,
    "postal_code": 20,
    "city": 100,
    "policy": 100,
    "reference": 200,
}


class _Dates:
    """Strict ISO dates, parsed once per distinct string (ledgers repeat few dates)."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def check(self, text: str) -> str | None:
        hit = self.seen.get(text)
        if hit is not None:
            return hit
        if not _ISO_DATE.match(text):
            return None
        try:
            date.fromisoformat(text)
        except ValueError:
            return None
        self.seen[text] = text
        return text


def _minor(text: str, currency: str) -> int | str:
    """Integer minor units for a plain, non-negative decimal string, or why it is not one."""
    s = text.strip()
    if not s:
        return "is empty"
    if s.startswith("-"):
        return f"must not be negative: {text!r}"
    whole, dot, frac = s.partition(".")
    if not (whole + frac).isdigit() or not (whole + frac).isascii() or (dot and not frac) or not whole:
        return f"not a decimal amount: {text!r}"
    ex = exponent(currency)
    if len(frac) > ex:
        return f"{text!r} has {len(frac)} decimals; {currency} allows {ex}"
    return int(whole + frac.ljust(ex, "0"))


def row_checker(
    ledger: RowReport, header: list[str], timezones: frozenset[str]
) -> Callable[[list[str], int], tuple[Any, ...] | None]:
    """A function validating one record into a staged tuple, or recording its problems."""
    at = {name: i for i, name in enumerate(header)}
    dates = _Dates()
    kind = ledger.kind

    def get(record: list[str], name: str) -> str:
        i = at.get(name)
        return record[i].strip() if i is not None else ""

    def common(record: list[str], line: int, names: tuple[str, ...]) -> bool:
        ok = True
        for name in names:
            value = get(record, name)
            limit = _LIMITS.get(name)
            if limit and len(value) > limit:
                ledger.problem(line, name, f"longer than {limit} characters")
                ok = False
        return ok

    def required(record: list[str], line: int, *names: str) -> bool:
        ok = True
        for name in names:
            if not get(record, name):
                ledger.problem(line, name, "is empty")
                ok = False
        return ok

    def check_date(record: list[str], line: int, name: str) -> str | None:
        value = get(record, name)
        parsed = dates.check(value)
        if parsed is None and value:
            ledger.problem(line, name, f"not a date (YYYY-MM-DD): {value!r}")
        return parsed

    def check_currency(record: list[str], line: int) -> str | None:
        value = get(record, "currency")
        if value and not is_currency(value):
            ledger.problem(line, "currency", f"unknown ISO 4217 currency: {value!r}")
            return None
        return value or None

    def check_amount(record: list[str], line: int, currency: str | None) -> int | None:
        value = get(record, "amount")
        if currency is None:
            return None
        result = _minor(value, currency)
        if isinstance(result, str):
            ledger.problem(line, "amount", result)
            return None
        return result

    def customer(record: list[str], line: int) -> tuple[Any, ...] | None:
        ok = required(record, line, "id", "name") & common(record, line, STAGE_COLUMNS[kind])
        country = get(record, "country")
        if country and (len(country) != 2 or not country.isalpha() or not country.isupper()):
            ledger.problem(line, "country", f"not an ISO 3166 country code: {country!r}")
            ok = False
        tz = get(record, "timezone") or "UTC"
        if tz not in timezones:
            ledger.problem(line, "timezone", f"unknown IANA time zone: {tz!r}")
            ok = False
        language = get(record, "language") or "en"
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", language):
            ledger.problem(line, "language", f"not a language code: {language!r}")
            ok = False
        ckind = get(record, "kind") or CustomerKind.BUSINESS.value
        if ckind not in {k.value for k in CustomerKind}:
            ledger.problem(line, "kind", "must be business, consumer or public")
            ok = False
        exempt_text = get(record, "exempt").lower()
        if exempt_text not in _TRUE | _FALSE:
            ledger.problem(line, "exempt", "must be true or false")
            ok = False
        if not ok:
            return None
        return (
            get(record, "id"),
            get(record, "name"),
            get(record, "email"),
            get(record, "phone"),
            country,
            language,
            tz,
            get(record, "street"),
            get(record, "postal_code"),
            get(record, "city"),
            ckind,
            get(record, "policy") or None,
            exempt_text in _TRUE,
            line,
        )

    def invoice(record: list[str], line: int) -> tuple[Any, ...] | None:
        ok = required(
            record, line, "id", "customer_id", "number", "currency", "amount", "issued_on", "due_on"
        ) & common(record, line, ("id", "customer_id", "number"))
        currency = check_currency(record, line)
        amount = check_amount(record, line, currency)
        issued = check_date(record, line, "issued_on")
        due = check_date(record, line, "due_on")
        if issued and due and due < issued:
            ledger.problem(line, "due_on", f"{due} is before issued_on {issued}")
            ok = False
        if not ok or amount is None or issued is None or due is None:
            return None
        return (
            get(record, "id"),
            get(record, "customer_id"),
            get(record, "number"),
            currency,
            amount,
            issued,
            due,
            line,
        )

    def payment(record: list[str], line: int) -> tuple[Any, ...] | None:
        ok = required(record, line, "id", "currency", "amount", "paid_on") & common(
            record, line, ("id", "invoice_id", "customer_id", "reference")
        )
        if not get(record, "invoice_id") and not get(record, "customer_id"):
            ledger.problem(line, "invoice_id", "is empty and no customer_id names whose cash this is")
            ok = False
        pkind = get(record, "kind") or PaymentKind.PAYMENT.value
        if pkind not in {k.value for k in PaymentKind}:
            ledger.problem(line, "kind", "must be payment or credit")
            ok = False
        currency = check_currency(record, line)
        amount = check_amount(record, line, currency)
        if amount == 0:
            ledger.problem(line, "amount", "must be greater than zero")
            ok = False
        paid = check_date(record, line, "paid_on")
        if not ok or amount is None or paid is None:
            return None
        return (
            get(record, "id"),
            get(record, "invoice_id") or None,
            get(record, "customer_id") or None,
            currency,
            amount,
            paid,
            get(record, "reference"),
            pkind,
            line,
        )

    if kind is LedgerKind.INVOICES:
        return _fast_invoices(at, dates, invoice)
    if kind is LedgerKind.PAYMENTS:
        return _fast_payments(at, dates, payment)
    return customer


# The common case, a well-formed row, is checked in straight-line code; any row it does not
# accept goes to the full checker above, which is the one that words the problems. Both
# accept exactly the same rows.
_AMOUNT = {ex: re.compile(r"([0-9]+)" + (rf"(?:\.([0-9]{{1,{ex}}}))?" if ex else ""), re.ASCII) for ex in range(5)}
_EXPONENT_OF = {code: exponent(code) for code in ISO_4217_CODES}
_PAYMENT_KINDS = frozenset(k.value for k in PaymentKind)


def _fast_minor(text: str, currency: str) -> int | None:
    ex = _EXPONENT_OF.get(currency)
    if ex is None:
        return None
    match = _AMOUNT[ex].fullmatch(text)
    if match is None:
        return None
    return int(match.group(1) + (match.group(2) or "").ljust(ex, "0")) if ex else int(match.group(1))


def _fast_invoices(at: dict[str, int], dates: _Dates, full: Checker) -> Checker:
    columns = [at[c] for c in ("id", "customer_id", "number", "currency", "amount", "issued_on", "due_on")]
    seen = dates.seen

    def check(record: list[str], line: int) -> tuple[Any, ...] | None:
        iid, cid, number, currency, amount, issued, due = [record[i].strip() for i in columns]
        minor = _fast_minor(amount, currency)
        issued_on = seen.get(issued) or dates.check(issued)
        due_on = seen.get(due) or dates.check(due)
        if (
            minor is None
            or issued_on is None
            or due_on is None
            or due_on < issued_on
            or not 0 < len(iid) <= 64
            or not 0 < len(cid) <= 64
            or not 0 < len(number) <= 64
        ):
            return full(record, line)
        return (iid, cid, number, currency, minor, issued_on, due_on, line)

    return check


def _fast_payments(at: dict[str, int], dates: _Dates, full: Checker) -> Checker:
    columns = [at[c] for c in ("id", "invoice_id", "currency", "amount", "paid_on")]
    optional = [at.get(c) for c in ("customer_id", "reference", "kind")]
    seen = dates.seen

    def check(record: list[str], line: int) -> tuple[Any, ...] | None:
        pid, iid, currency, amount, paid = [record[i].strip() for i in columns]
        cid, reference, pkind = [record[i].strip() if i is not None else "" for i in optional]
        minor = _fast_minor(amount, currency)
        paid_on = seen.get(paid) or dates.check(paid)
        pkind = pkind or "payment"
        if (
            not minor
            or paid_on is None
            or pkind not in _PAYMENT_KINDS
            or not (iid or cid)
            or not 0 < len(pid) <= 64
            or len(iid) > 64
            or len(cid) > 64
            or len(reference) > 200
        ):
            return full(record, line)
        return (pid, iid or None, cid or None, currency, minor, paid_on, reference, pkind, line)

    return check
