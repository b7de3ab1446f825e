"""SWIFT MT940 statements as the same plain statement lines as camt.053.

The ``mt-940`` package reads the format and its bank dialects (including the German SEPA
``:86:`` sub-fields); this module normalises its output: signed money, payer name and IBAN,
remittance text, end-to-end reference, booking and value dates.
"""

from __future__ import annotations

import re
import warnings
from datetime import date
from decimal import Decimal
from typing import Any

from pastdue.core.money import Money, is_currency
from pastdue.errors import Problem
from pastdue.importers.camt import MAX_BYTES, StatementLine

_HEADER = re.compile(rb"^\s*(\x01)?\s*(\{1:|:20:)", re.MULTILINE)


def looks_like_mt940(data: bytes) -> bool:
    head = data[:4096]
    return bool(_HEADER.search(head)) and b":25:" in head and (b":60F:" in data or b":60M:" in data)


def parse_mt940(data: bytes, source: str) -> tuple[list[StatementLine], list[Problem]]:
    if len(data) > MAX_BYTES:
        return [], [Problem(source, None, None, f"too large ({len(data)} bytes; at most {MAX_BYTES})")]
    import mt940  # imported here: only statement imports need it

    text = data.decode("utf-8", errors="replace").replace("\x01", "").replace("\x03", "")
    transactions = mt940.models.Transactions()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the package warns about dialect guesses it then handles
            transactions.parse(text)
    except Exception as exc:  # the package raises bare exceptions for malformed input
        return [], [Problem(source, None, None, f"not a readable MT940 statement: {type(exc).__name__}: {exc}")]
    account = str(transactions.data.get("account_identification") or "")
    lines: list[StatementLine] = []
    problems: list[Problem] = []
    for position, transaction in enumerate(transactions, start=1):
        line = _line(transaction.data, account, position, source, problems)
        if line is not None:
            lines.append(line)
    if not lines and not problems and not account:
        problems.append(Problem(source, None, None, "no MT940 statement found (:25: account missing)"))
    return lines, problems


def _line(
    data: dict[str, Any], account: str, position: int, source: str, problems: list[Problem]
) -> StatementLine | None:
    amount = data.get("amount")
    currency = str(getattr(amount, "currency", "") or data.get("currency") or "")
    if amount is None or not is_currency(currency):
        problems.append(Problem(source, None, f"transaction {position}", f"no amount or unknown currency {currency!r}"))
        return None
    booked = _day(data.get("entry_date") or data.get("date"))
    if booked is None:
        problems.append(Problem(source, None, f"transaction {position}", "no booking date"))
        return None
    status = str(data.get("status") or "")
    remittance = (
        " ".join(
            str(part).strip()
            for part in (data.get("purpose"), data.get("additional_purpose"))
            if part and str(part).strip()
        )
        or str(data.get("transaction_details") or "").replace("\n", " ").strip()
    )
    reference = data.get("bank_reference") or data.get("transaction_reference") or ""
    return StatementLine(
        key=f"{account}|{booked.isoformat()}|{reference}|{position}",
        account=account,
        amount=Money(Decimal(str(amount.amount)), currency),
        booked_on=booked,
        value_on=_day(data.get("date")),
        reversal=status.startswith("R"),
        remittance=remittance,
        end_to_end_id=str(data.get("end_to_end_reference") or ""),
        payer_name=str(data.get("applicant_name") or ""),
        payer_iban=str(data.get("applicant_iban") or data.get("gvc_applicant_iban") or "").replace(" ", ""),
    )


def _day(value: Any) -> date | None:
    if value is None:
        return None
    try:
        return date(value.year, value.month, value.day)
    except (AttributeError, ValueError):
        return None
