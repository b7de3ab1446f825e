"""ISO 20022 camt.053 statements (and camt.054 notifications) as plain statement lines.

Versions .001.02 to .001.08 differ in details pastdue does not read, so elements are found
by local name whatever the namespace. A hostile document (a DTD, entity definitions,
external references) is refused by defusedxml before lxml reads it, and lxml reads it with
entities and network access off. A batch booking (one entry, several transactions) gives
one line per transaction, so each payer and remittance text can be matched on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as check_safe
from lxml import etree

from pastdue.core.money import Money, is_currency
from pastdue.errors import Problem

MAX_BYTES = 50 * 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One booked transaction: positive amounts are money in (credits), negative money out."""

    key: str
    """Unique per account: the account, booking date, entry reference and position."""
    account: str
    amount: Money
    booked_on: date
    value_on: date | None
    reversal: bool
    remittance: str
    end_to_end_id: str
    payer_name: str
    payer_iban: str


def looks_like_camt(data: bytes) -> bool:
    head = data[:2048]
    return b"urn:iso:std:iso:20022:tech:xsd:camt.05" in head


def parse_camt(data: bytes, source: str) -> tuple[list[StatementLine], list[Problem]]:
    """Every line of every statement in the document, or every problem found in it."""
    if len(data) > MAX_BYTES:
        return [], [Problem(source, None, None, f"too large ({len(data)} bytes; at most {MAX_BYTES})")]
    try:
        check_safe(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        root = etree.fromstring(data, _PARSER)
    except DefusedXmlException as exc:
        return [], [Problem(source, None, None, f"refused: {type(exc).__name__} (DTDs and entities are not allowed)")]
    except (etree.XMLSyntaxError, ParseError) as exc:
        line = getattr(exc, "lineno", None) or getattr(exc, "position", (None,))[0]
        return [], [Problem(source, line, None, f"not well-formed XML: {exc}")]
    lines: list[StatementLine] = []
    problems: list[Problem] = []
    for statement in root.iterfind(".//{*}Stmt"):
        _statement(statement, source, lines, problems)
    for statement in root.iterfind(".//{*}Ntfctn"):
        _statement(statement, source, lines, problems)
    if not lines and not problems and not root.findall(".//{*}Stmt") and not root.findall(".//{*}Ntfctn"):
        problems.append(Problem(source, None, None, "no camt.053 statement or camt.054 notification found"))
    return lines, problems


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _statement(statement: etree._Element, source: str, lines: list[StatementLine], problems: list[Problem]) -> None:
    account = _text(statement, "{*}Acct/{*}Id/{*}IBAN") or _text(statement, "{*}Acct/{*}Id/{*}Othr/{*}Id")
    statement_id = _text(statement, "{*}Id")
    for index, entry in enumerate(statement.iterfind("{*}Ntry"), start=1):
        where = entry.sourceline
        amount = _money(entry.find("{*}Amt"), source, where, "Amt", problems)
        booked = _date(entry, "{*}BookgDt") or _date(entry, "{*}ValDt")
        if amount is None:
            continue
        if booked is None:
            problems.append(Problem(source, where, "BookgDt", "entry without a booking date"))
            continue
        sign = -1 if _text(entry, "{*}CdtDbtInd") == "DBIT" else 1
        reversal = _text(entry, "{*}RvslInd").lower() == "true"
        reference = _text(entry, "{*}NtryRef") or _text(entry, "{*}AcctSvcrRef") or f"{statement_id}#{index}"
        details = entry.findall("{*}NtryDtls/{*}TxDtls")
        for position, tx in enumerate(details or [None], start=1):
            tx_amount = amount
            if tx is not None and len(details) > 1:
                tx_amount = (
                    _money(tx.find("{*}Amt"), source, tx.sourceline, "TxDtls.Amt", problems)
                    or _money(tx.find("{*}AmtDtls/{*}TxAmt/{*}Amt"), source, tx.sourceline, "TxAmt", problems)
                    or amount
                )
            ustrd = " ".join(u.text.strip() for u in (tx.iterfind(".//{*}Ustrd") if tx is not None else []) if u.text)
            strd = " ".join(
                r.text.strip() for r in (tx.iterfind(".//{*}CdtrRefInf/{*}Ref") if tx is not None else []) if r.text
            )
            party = "{*}RltdPties/{*}Dbtr" if sign > 0 else "{*}RltdPties/{*}Cdtr"
            iban_path = (
                "{*}RltdPties/{*}DbtrAcct/{*}Id/{*}IBAN" if sign > 0 else "{*}RltdPties/{*}CdtrAcct/{*}Id/{*}IBAN"
            )
            lines.append(
                StatementLine(
                    key=f"{account}|{booked.isoformat()}|{reference}|{position}",
                    account=account,
                    amount=tx_amount * sign,
                    booked_on=booked,
                    value_on=_date(entry, "{*}ValDt"),
                    reversal=reversal,
                    remittance=" ".join(part for part in (strd, ustrd) if part),
                    end_to_end_id=_text(tx, "{*}Refs/{*}EndToEndId"),
                    payer_name=_text(tx, party + "/{*}Nm") or _text(tx, party + "/{*}Pty/{*}Nm"),
                    payer_iban=_text(tx, iban_path),
                )
            )


def _money(
    element: etree._Element | None, source: str, line: int | None, field: str, problems: list[Problem]
) -> Money | None:
    if element is None or not element.text:
        return None
    currency = element.get("Ccy", "")
    if not is_currency(currency):
        problems.append(Problem(source, line, field, f"unknown currency {currency!r}"))
        return None
    try:
        value = Decimal(element.text.strip())
    except InvalidOperation:
        problems.append(Problem(source, line, field, f"not an amount: {element.text.strip()!r}"))
        return None
    if value < 0:
        problems.append(Problem(source, line, field, "negative amount (the sign is CdtDbtInd's)"))
        return None
    return Money(value, currency)


def _date(entry: etree._Element, path: str) -> date | None:
    text = _text(entry, path + "/{*}Dt") or _text(entry, path + "/{*}DtTm")[:10]
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
