"""SWIFT MT940 statements as the same plain statement lines as camt.053.

The ``mt-940`` package reads the format and its bank dialects (including the German SEPA
``:86:`` sub-fields: ``?20``-``?29`` purpose with ``EREF+``/``SVWZ+`` keywords, ``?31`` IBAN,
``?32``/``?33`` name); this module normalises its output: signed money, payer name and IBAN,
remittance text, end-to-end reference, booking and value dates, and the reversal marks
(``RC`` reversal of a credit is money out, ``RD`` reversal of a debit money in).

The package is asked for its corrected behaviour (``mt940.Options``) rather than its 5.0
compatibility defaults: the ``?31`` IBAN apart from the name, ``RC`` signed as the debit it is,
``:86:`` details of any length. A file may hold several statements of several accounts, so each
transaction keeps the account of its own statement.

Dialects the package reads only when told:

- ASN Bank (de Volksbank, NL) puts the payer's IBAN (18 characters) into the ``:61:`` customer
  reference, which SWIFT caps at 16, so the standard pattern refuses the whole file; its
  ``:86:`` repeats IBAN and name on the first line, then the remittance text in fixed 65-column
  lines cut mid-word. Recognised by its BIC in the header or its bank code in ``:25:``.
"""

from __future__ import annotations

import logging
import re
import warnings
from datetime import date
from decimal import Decimal
from typing import Any

from pastdue.core.money import Money, is_currency
from pastdue.errors import Problem
from pastdue.importers.camt import MAX_BYTES, StatementLine

_HEADER = re.compile(rb"^\s*(\x01)?\s*(\{1:|:20:)", re.MULTILINE)
_ASN = re.compile(rb"\{[12]:[FO]\d{0,3}ASNBNL2|:25:NL\d\dASNB")
_IBAN = re.compile(r"[A-Z]{2}\d\d[A-Z0-9]{11,30}")
_LINE_WIDTH = 65
"""SWIFT's ``:86:`` line length: a line this long was cut by the bank's software, not at a word."""


def looks_like_mt940(data: bytes) -> bool:
    head = data[:4096]
    return bool(_HEADER.search(head)) and b":25:" in head and (b":60F:" in data or b":60M:" in data)


def parse_mt940(data: bytes, source: str) -> tuple[list[StatementLine], list[Problem]]:
    if len(data) > MAX_BYTES:
        return [], [Problem(source, None, None, f"too large ({len(data)} bytes; at most {MAX_BYTES})")]
    import mt940  # imported here: only statement imports need it

    asn = bool(_ASN.search(data[:4096]))
    text = data.decode("utf-8", errors="replace").replace("\x01", "").replace("\x03", "")
    transactions = mt940.models.Transactions(
        processors={
            "post_statement": [
                mt940.processors.date_cleanup_post_processor,
                # Each transaction keeps its own statement's account: a file may hold several.
                mt940.processors.transactions_to_transaction("transaction_reference", "account_identification"),
            ]
        },
        tags={mt940.tags.StatementASNB.id: mt940.tags.StatementASNB()} if asn else None,
        options=mt940.Options(
            applicant_iban=True,
            merge_keeps_values=True,
            reversal_sign=True,
            case_insensitive_marks=True,
            unbounded_details=True,
            strip_bom=True,
        ),
    )
    # The package logs each line it cannot match as an error before raising; the problem returned
    # says the same once, so its logger is quiet meanwhile instead of printing to stderr.
    package_log = logging.getLogger("mt940")
    level = package_log.level
    package_log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the package warns about dialect guesses it then handles
            transactions.parse(text)
    except Exception as exc:  # the package raises bare exceptions for malformed input
        return [], [_unreadable(exc, text, source)]
    finally:
        package_log.setLevel(level)
    last_account = str(transactions.data.get("account_identification") or "")
    lines: list[StatementLine] = []
    problems: list[Problem] = []
    for position, transaction in enumerate(transactions, start=1):
        line = _line(transaction.data, last_account, position, source, problems, asn=asn)
        if line is not None:
            lines.append(line)
    if not lines and not problems and not last_account:
        problems.append(Problem(source, None, None, "no MT940 statement found (:25: account missing)"))
    return lines, problems


def _unreadable(exc: Exception, text: str, source: str) -> Problem:
    """The package's error as a problem naming the tag and, where the value is found, its line."""
    if len(exc.args) == 3 and hasattr(exc.args[1], "id") and isinstance(exc.args[2], str):
        tag, value = exc.args[1].id, exc.args[2]
        found = text.find(value)
        line = text.count("\n", 0, found) + 1 if value and found >= 0 else None
        return Problem(source, line, f":{tag}:", f"not a readable MT940 statement: {value[:80]!r} does not fit")
    return Problem(source, None, None, f"not a readable MT940 statement: {type(exc).__name__}: {exc}")


def _line(
    data: dict[str, Any], last_account: str, position: int, source: str, problems: list[Problem], *, asn: bool
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
    account = str(data.get("account_identification") or last_account)
    reference = data.get("bank_reference") or data.get("transaction_reference") or ""
    end_to_end = str(data.get("end_to_end_reference") or "").strip()
    if asn:
        payer_name, payer_iban, remittance = _asn_party_and_text(data)
    else:
        payer_name = " ".join(str(data.get("applicant_name") or "").split())
        payer_iban = _iban(data.get("applicant_iban")) or _iban(data.get("gvc_applicant_iban"))
        remittance = _remittance(data)
    return StatementLine(
        key=f"{account}|{booked.isoformat()}|{reference}|{position}",
        account=account,
        amount=Money(Decimal(str(amount.amount)), currency),
        booked_on=booked,
        value_on=_day(data.get("date")),
        reversal=str(data.get("status") or "").upper().startswith("R"),
        remittance=remittance,
        end_to_end_id="" if end_to_end.upper() == "NOTPROVIDED" else end_to_end,
        payer_name=payer_name,
        payer_iban=payer_iban,
    )


def _remittance(data: dict[str, Any]) -> str:
    """The German SEPA purpose (``SVWZ+`` or ``?20``-``?29``, then ``?60``-``?63``), else the raw ``:86:``."""
    structured = " ".join(
        " ".join(str(part).split()) for part in (data.get("purpose"), data.get("additional_purpose")) if part
    ).strip()
    return structured or _joined(str(data.get("transaction_details") or ""))


def _asn_party_and_text(data: dict[str, Any]) -> tuple[str, str, str]:
    """ASN's payer IBAN (from the ``:61:`` customer reference), name, and remittance text.

    The first ``:86:`` line repeats the IBAN and name; it is dropped from the remittance.
    """
    iban = _iban(data.get("customer_reference"))
    name = " ".join(str(data.get("extra_details") or "").split())
    details = str(data.get("transaction_details") or "")
    first, _, rest = details.partition("\n")
    if iban and first.startswith(iban):
        details = rest
    return name, iban, _joined(details)


def _joined(details: str) -> str:
    """``:86:`` lines as one text: a full-width line was cut mid-word and continues without a space."""
    parts: list[str] = []
    previous = ""
    for raw in details.splitlines():
        line = raw.rstrip()
        if line and parts and len(previous) >= _LINE_WIDTH:
            parts[-1] += line
        elif line:
            parts.append(line)
        previous = line
    return " ".join(" ".join(parts).split())


def _iban(value: Any) -> str:
    """An IBAN-shaped account, or "": ``?31`` may also hold a domestic account number."""
    compact = str(value or "").replace(" ", "").upper()
    return compact if _IBAN.fullmatch(compact) else ""


def _day(value: Any) -> date | None:
    if value is None:
        return None
    try:
        return date(value.year, value.month, value.day)
    except (AttributeError, ValueError):
        return None
