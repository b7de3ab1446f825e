"""ISO 20022 camt.053 statements (and camt.054 notifications) as plain statement lines.

Versions .001.02 to .001.08 differ in details pastdue reads in both shapes (an entry status as
text or as a code, a party named directly or under ``Pty``, charges listed directly or as
``Rcrd`` records, a transaction's own ``Amt`` or only ``AmtDtls``); each version's namespace gets
its own compiled expressions, so every version is read the same way.

A busy collections account books 100,000 credits a day, some 80 MB of XML, so the document is
read as a stream: lxml's ``iterparse`` hands over one entry at a time and the entry is dropped
once it has become lines, which keeps memory flat whatever the file's size.

Hostile XML (entity expansion, external entities) needs a DTD, and a DTD can only stand before
the root element. So defusedxml's parser reads the prolog, up to the root's start tag, and
refuses any DOCTYPE, entity declaration or external reference found there; that costs one chunk
instead of a second full parse. lxml then reads with entity resolution, DTD loading and the
network off, as a second fence.

What becomes a line:

- a batch booking (one entry, several transactions) gives one line per transaction, so that each
  payer and remittance text can be matched on its own; an entry without transaction details (a
  bank fee, a batch reported as its total) gives one line, its ``AddtlNtryInf`` as the text;
- an entry still pending or only announced (``Sts`` PDNG, INFO, FUTR) gives none: it is not money
  on the account yet, and the booked entry arrives later in a statement;
- a reversal (``RvslInd``) or a return (``RtrInf``, with its ISO reason code) is marked as such,
  because it undoes an earlier booking that carried the same end-to-end id.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from lxml import etree

from pastdue.core.money import Money, is_currency
from pastdue.errors import Problem

MAX_BYTES = 200 * 1024 * 1024
_PROLOG_CHUNK = 64 * 1024
_NOT_BOOKED = frozenset({"PDNG", "INFO", "FUTR", "RJCT"})
_STATEMENT_TAGS = ("Stmt", "Ntfctn")
_NOT_PROVIDED = "NOTPROVIDED"


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
    """The line undoes an earlier booking (a reversal or a return); its end-to-end id finds it."""
    remittance: str
    end_to_end_id: str
    payer_name: str
    """The other party: the payer of a credit, the payee of a debit, the original payer of a return."""
    payer_iban: str
    return_reason: str = ""
    """The ISO 20022 reason code of a return (AC04 account closed, MD06 refund, AM04 no funds ...)."""
    charges: Money | None = None
    """What the bank took for this transaction, when reported; ``amount + charges`` is the payment
    itself (the payer's 100.00 of a 97.50 credit, the 100.00 sent of a 102.50 debit)."""


def looks_like_camt(data: bytes) -> bool:
    """An ISO 20022 camt namespace in the head, or any XML at all: a ledger is never XML, so
    an XML file is read as a statement and, if it is not one, refused with the reason."""
    if b"urn:iso:std:iso:20022:tech:xsd:camt.05" in data:
        return True
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<"))


def parse_camt(data: bytes, source: str) -> tuple[list[StatementLine], list[Problem]]:
    """Every line of every statement in the document, or every problem found in it."""
    if len(data) > MAX_BYTES:
        return [], [Problem(source, None, None, f"too large ({len(data)} bytes; at most {MAX_BYTES})")]
    refused = _prolog_problem(data, source)
    if refused is not None:
        return [], [refused]
    reader = _Reader(source)
    try:
        reader.read(data)
    except etree.XMLSyntaxError as exc:
        return [], [Problem(source, exc.lineno or None, None, f"not well-formed XML: {exc}")]
    except _DtdFound:
        return [], [Problem(source, None, None, "refused: a DTD was found (DTDs and entities are not allowed)")]
    if not reader.lines and not reader.problems and not reader.statements:
        reader.problems.append(Problem(source, None, None, "no camt.053 statement or camt.054 notification found"))
    return reader.lines, reader.problems


# --- the safety check -------------------------------------------------------------------------


class _RootReached(Exception):
    """The prolog is over: nothing hostile can follow the root element's start tag."""


class _DtdFound(Exception):
    """lxml saw a DTD that the prolog check did not (a second fence; should never happen)."""


class _StopAtRoot:
    """A tree-builder target for defusedxml's parser that ends the reading at the root element."""

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        raise _RootReached

    def close(self) -> None:
        return None


def _prolog_problem(data: bytes, source: str) -> Problem | None:
    """Refuse a DTD, entity declaration or external reference before the root element.

    defusedxml's (expat) parser reads chunk by chunk until the root's start tag; a document that
    ends first is left to lxml, which names what is wrong with it.
    """
    parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        for start in range(0, len(data), _PROLOG_CHUNK):
            parser.feed(data[start : start + _PROLOG_CHUNK])
    except _RootReached:
        return None
    except DefusedXmlException as exc:
        return Problem(source, None, None, f"refused: {type(exc).__name__} (DTDs and entities are not allowed)")
    except ParseError as exc:
        return Problem(source, exc.position[0] or None, None, f"not well-formed XML: {exc}")
    return None


# --- streaming --------------------------------------------------------------------------------


def _xpath(namespace: str, path: str, wrap: str = "") -> etree.XPath:
    """``path`` (local names joined by ``/``) compiled for one camt namespace.

    Compiled XPath is three times as fast as ``find`` with ``{*}`` wildcards, which counts at
    a hundred thousand entries; every camt version has its own namespace, hence one set each.
    """
    prefix = "c:" if namespace else ""
    steps = "|".join(
        "/".join(step if step.startswith("@") or step.endswith("()") else prefix + step for step in branch.split("/"))
        for branch in path.split("|")
    )
    expression = f"{wrap}({steps})" if wrap else steps
    return etree.XPath(expression, namespaces={"c": namespace} if namespace else None, smart_strings=False)


class _Fields:
    """What pastdue reads from an entry and from a transaction, compiled for one namespace."""

    def __init__(self, namespace: str) -> None:
        def text(path: str) -> etree.XPath:
            return _xpath(namespace, path, "normalize-space")

        self.account = text("Acct/Id/IBAN|Acct/Id/Othr/Id")
        self.statement_id = text("Id")
        # entry
        self.amount = text("Amt")
        self.currency = text("Amt/@Ccy")
        self.indicator = text("CdtDbtInd")
        self.reversal = text("RvslInd")
        self.status = text("Sts")  # BOOK, as text (.001.02) or as Sts/Cd (.001.08)
        self.booked = text("BookgDt")  # Dt or DtTm, read as their first ten characters
        self.value = text("ValDt")
        self.entry_ref = text("NtryRef")
        self.servicer_ref = text("AcctSvcrRef")
        self.entry_info = text("AddtlNtryInf")
        self.transactions = _xpath(namespace, "NtryDtls/TxDtls")
        self.has_charges = _xpath(namespace, "Chrgs", "boolean")
        # transaction
        self.has_return = _xpath(namespace, "RtrInf", "boolean")
        self.return_reason = text("RtrInf/Rsn/Cd|RtrInf/Rsn/Prtry")
        self.end_to_end = text("Refs/EndToEndId")
        self.parties = {
            side: (
                text(f"RltdPties/{side}/Nm|RltdPties/{side}/Pty/Nm"),
                text(f"RltdPties/{side}Acct/Id/IBAN"),
            )
            for side in ("Dbtr", "Cdtr")
        }
        # Structured references and referred document numbers first, then the free text.
        # AddtlRmtInf is left out: banks use it for codes of their own (PostFinance's ?REJECT?0).
        self.structured = _xpath(namespace, "RmtInf/Strd/RfrdDocInf/Nb/text()|RmtInf/Strd/CdtrRefInf/Ref/text()")
        self.unstructured = _xpath(namespace, "RmtInf/Ustrd/text()")


@dataclass
class _Statement:
    account: str
    statement_id: str
    entries: int = 0


class _Reader:
    """Turns entries into lines as lxml reads them, and forgets each entry once it is done."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: list[StatementLine] = []
        self.problems: list[Problem] = []
        self.statements = 0
        self._current: _Statement | None = None
        self._fields: dict[str, _Fields] = {}

    def read(self, data: bytes) -> None:
        events = etree.iterparse(
            io.BytesIO(data),
            events=("start", "end"),
            tag=("{*}Stmt", "{*}Ntfctn", "{*}Ntry"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        checked = False
        for event, element in events:
            if not checked:
                checked = True
                if element.getroottree().docinfo.doctype:
                    raise _DtdFound
            namespace, name = _split(element.tag)
            if event == "start":
                if name in _STATEMENT_TAGS:
                    self.statements += 1
                    self._current = None
                continue
            parent = element.getparent()
            if name == "Ntry" and parent is not None and _split(parent.tag)[1] in _STATEMENT_TAGS:
                fields = self._fields.get(namespace) or self._fields.setdefault(namespace, _Fields(namespace))
                if self._current is None:
                    # Acct and Id precede every Ntry, so they are read before the first entry drops them.
                    self._current = _Statement(fields.account(parent), fields.statement_id(parent))
                self._current.entries += 1
                _entry(element, fields, self._current, self.source, self.lines, self.problems)
            _forget(element)
        if events.root is not None and events.root.getroottree().docinfo.doctype:
            raise _DtdFound


def _split(tag: str) -> tuple[str, str]:
    """``{namespace}Name`` as (namespace, name)."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _forget(element: etree._Element) -> None:
    """Drop a finished element and its earlier siblings, so the tree never grows."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


# --- one entry --------------------------------------------------------------------------------


def _entry(
    entry: etree._Element,
    fields: _Fields,
    statement: _Statement,
    source: str,
    lines: list[StatementLine],
    problems: list[Problem],
) -> None:
    where = entry.sourceline
    if fields.status(entry).upper() in _NOT_BOOKED:
        return
    amount = _money(fields.amount(entry), fields.currency(entry), source, where, "Amt", problems)
    booked = _date(fields.booked(entry)) or _date(fields.value(entry))
    if amount is None:
        return
    if booked is None:
        problems.append(Problem(source, where, "BookgDt", "entry without a booking date"))
        return
    entry_sign = _sign(fields.indicator(entry), 1)
    reversed_entry = fields.reversal(entry).lower() in {"true", "1"}
    reference = fields.entry_ref(entry) or fields.servicer_ref(entry) or f"{statement.statement_id}#{statement.entries}"
    details = fields.transactions(entry)
    batch = len(details) > 1
    for position, tx in enumerate(details or [None], start=1):
        tx_amount, sign = amount, entry_sign
        if batch:
            found = _transaction_amount(tx, source, problems)
            if found is None:
                continue
            tx_amount, sign = found, _sign(fields.indicator(tx), entry_sign)
        undoes = reversed_entry or (tx is not None and fields.has_return(tx))
        payer_name, payer_iban = _counterparty(tx, fields, statement.account, from_debtor=(sign > 0) != undoes)
        end_to_end = fields.end_to_end(tx) if tx is not None else ""
        # A single transaction's charges may be reported on the entry; a batch's only per transaction.
        charged = tx if batch or (tx is not None and fields.has_charges(tx)) else entry
        lines.append(
            StatementLine(
                key=f"{statement.account}|{booked.isoformat()}|{reference}|{position}",
                account=statement.account,
                amount=tx_amount * sign,
                booked_on=booked,
                value_on=_date(fields.value(entry)),
                reversal=undoes,
                remittance=_remittance(tx, fields) if tx is not None else fields.entry_info(entry),
                end_to_end_id="" if end_to_end.upper() == _NOT_PROVIDED else end_to_end,
                payer_name=payer_name,
                payer_iban=payer_iban,
                return_reason=fields.return_reason(tx) if tx is not None else "",
                charges=_charges(charged, tx_amount.currency) if fields.has_charges(charged) else None,
            )
        )


def _transaction_amount(tx: etree._Element, source: str, problems: list[Problem]) -> Money | None:
    """A batch transaction's own amount (``Amt`` from .001.04 on, ``AmtDtls/TxAmt`` before).

    Without one the transaction is a problem: taking the entry's total would count it twice.
    """
    for path, field in (("{*}Amt", "TxDtls.Amt"), ("{*}AmtDtls/{*}TxAmt/{*}Amt", "TxAmt")):
        element = tx.find(path)
        if element is not None and (element.text or "").strip():
            return _money(element.text, element.get("Ccy", ""), source, tx.sourceline, field, problems)
    problems.append(Problem(source, tx.sourceline, "TxAmt", "a transaction of a batch booking without its own amount"))
    return None


def _sign(indicator: str, default: int) -> int:
    if indicator == "DBIT":
        return -1
    if indicator == "CRDT":
        return 1
    return default


def _counterparty(tx: etree._Element | None, fields: _Fields, account: str, *, from_debtor: bool) -> tuple[str, str]:
    """Name and IBAN of the other party.

    The debtor of a credit, the creditor of a debit; for a reversal or a return, the party of the
    original payment. Banks differ in which side they fill for returns, so when the expected side
    is empty or is this very account, the other side is taken if it names another account.
    """
    if tx is None:
        return "", ""
    first, second = ("Dbtr", "Cdtr") if from_debtor else ("Cdtr", "Dbtr")
    name, iban = _party(tx, fields, first)
    if not (name or iban) or _same_account(iban, account):
        other_name, other_iban = _party(tx, fields, second)
        if other_iban and not _same_account(other_iban, account):
            return other_name, other_iban
    return name, iban


def _party(tx: etree._Element, fields: _Fields, side: str) -> tuple[str, str]:
    name_of, iban_of = fields.parties[side]
    return name_of(tx), iban_of(tx).replace(" ", "")


def _same_account(iban: str, account: str) -> bool:
    return bool(iban) and iban.upper() == account.replace(" ", "").upper()


def _remittance(tx: etree._Element, fields: _Fields) -> str:
    texts: Iterable[str] = (*fields.structured(tx), *fields.unstructured(tx))
    return " ".join(" ".join(text.split()) for text in texts if text and not text.isspace())


def _charges(element: etree._Element, currency: str) -> Money | None:
    """The charges deducted from (or added to) the amount, in its currency.

    .001.02 lists ``Chrgs`` elements each with an ``Amt``; later versions hold ``Rcrd`` records
    under one ``Chrgs``, each saying whether it is included in the amount (``ChrgInclInd``, taken
    as included when absent). A charge in another currency cannot be added and is left out.
    """
    records = element.findall("{*}Chrgs/{*}Rcrd") or element.findall("{*}Chrgs")
    total: Money | None = None
    for record in records:
        found = record.find("{*}Amt")
        if found is None:
            found = record.find("{*}TtlChrgsAndTaxAmt")
        if found is None or not found.text or found.get("Ccy", "") != currency:
            continue
        if (record.findtext("{*}ChrgInclInd") or "").strip().lower() == "false":
            continue
        try:
            value = Decimal(found.text.strip())
        except InvalidOperation:
            continue
        if not value.is_finite():
            continue
        credit = (record.findtext("{*}CdtDbtInd") or "").strip() == "CRDT"
        charge = Money(-value if credit else value, currency)
        total = charge if total is None else total + charge
    return total


def _money(
    text: str, currency: str, source: str, line: int | None, field: str, problems: list[Problem]
) -> Money | None:
    text = text.strip()
    if not text:
        return None
    if not is_currency(currency):
        problems.append(Problem(source, line, field, f"unknown currency {currency!r}"))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        problems.append(Problem(source, line, field, f"not an amount: {text!r}"))
        return None
    if value < 0:
        problems.append(Problem(source, line, field, "negative amount (the sign is CdtDbtInd's)"))
        return None
    return Money(value, currency)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None
