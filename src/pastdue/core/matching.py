"""Matching bank credits to open invoices: matched, ambiguous or unmatched, never guessed.

Rules, strongest first; the first rule that finds something decides a credit:

1. ``reference``: a structured reference in the remittance text that belongs to an open
   invoice: ISO 11649 ``RF..``, or a national one (Belgian OGM, Finnish, KID/OCR, Swiss QR),
   each with a valid check (:mod:`pastdue.core.references`).
2. ``invoice_number``: invoice numbers found in the remittance text, tolerant of case,
   spaces, dashes and leading zeros (``inv 2026/159`` finds ``INV-2026-00159``).
3. ``amount_and_payer``: the payer's IBAN is known to pay for one customer, and exactly one
   of that customer's open invoices has the credit's amount.
4. ``sum_of_invoices``: the payer is known and the credit equals the sum of all of that
   customer's open invoices (or of the oldest ones, in due order).

What no rule settles goes to a person: ``ambiguous`` when candidates exist (several
invoices of that amount, numbers of several customers, an amount match from an unknown
payer), ``unmatched`` otherwise, each with its candidates and the reason.

A credit is never allocated beyond its amount, to an invoice of another currency, beyond an
invoice's open amount (credits of one statement share what is open), or across customers.
What is left of a credit after allocation stays with it as unapplied cash.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pastdue.core.allocation import Allocation, OpenItem, allocate
from pastdue.core.money import Money
from pastdue.core.references import invoice_references, is_valid_rf, references_in, rf_reference

__all__ = [
    "Allocation",
    "Candidate",
    "Credit",
    "Match",
    "MatchResult",
    "Matcher",
    "Open",
    "OpenItem",
    "Rule",
    "Unresolved",
    "is_valid_rf",
    "match_credits",
    "references_in",
    "rf_reference",
]


class Rule(StrEnum):
    REFERENCE = "reference"
    INVOICE_NUMBER = "invoice_number"
    AMOUNT_AND_PAYER = "amount_and_payer"
    SUM_OF_INVOICES = "sum_of_invoices"


CONFIDENCE = {
    Rule.REFERENCE: 100,
    Rule.INVOICE_NUMBER: 95,
    Rule.AMOUNT_AND_PAYER: 90,
    Rule.SUM_OF_INVOICES: 85,
}
"""How sure each rule is, in percent; a number match that does not add up scores lower."""


@dataclass(frozen=True, slots=True)
class Credit:
    """Money in on a statement: who paid, how much, and what they wrote."""

    id: str
    amount: Money
    booked_on: date
    remittance: str = ""
    payer_name: str = ""
    payer_iban: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    credit_id: str
    customer_id: str
    rule: Rule
    confidence: int
    allocations: tuple[Allocation, ...]
    unapplied: Money
    """What is left of the credit: a customer credit until matched or refunded."""


class Open(StrEnum):
    AMBIGUOUS = "ambiguous"
    UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class Candidate:
    invoice_ids: tuple[str, ...]
    rule: Rule
    reason: str


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A credit for a person to decide, with what matching considered and why it stopped."""

    credit_id: str
    status: Open
    reason: str
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchResult:
    matched: tuple[Match, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()


# --- invoice numbers in free text ----------------------------------------------------------

_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")
_NOISE = re.compile(r"[^0-9A-Z]+|(?<![0-9])0+(?=[0-9])")  # separators, and leading zeros of a digit group


def number_key(text: str) -> str:
    """Letters and digits only, upper case, leading zeros of each digit group dropped."""
    return _NOISE.sub("", text.upper())


def _mentions(text_key: str, key: str) -> bool:
    start = text_key.find(key)
    while start >= 0:
        end = start + len(key)
        before_ok = start == 0 or not (text_key[start - 1].isdigit() and key[0].isdigit())
        after_ok = end == len(text_key) or not (text_key[end].isdigit() and key[-1].isdigit())
        if before_ok and after_ok:
            return True
        start = text_key.find(key, start + 1)
    return False


# --- the matcher -----------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"[0-9]+")
_LAST_RUN = re.compile(r"[0-9]+(?=[A-Z]*$)")


def _due_order(item: OpenItem) -> tuple[date, str, str]:
    return item.due_on, item.number, item.invoice_id
_NOT_DIGIT = re.compile(r"[^0-9]")


class _Ledger:
    """Open amounts as the credits of one statement use them up, with the indexes that keep
    matching one credit independent of the ledger's size.

    Invoices are found by the last digit run of their number key (the part a remittance text
    must contain for the number to be named), by customer and currency, and by the amount
    still open. Structured references are looked up by the compacted number they carry.
    """

    def __init__(self, items: Iterable[OpenItem]) -> None:
        self.items: dict[str, OpenItem] = {}
        self.left: dict[str, Money] = {}
        self.by_run: dict[str, list[tuple[str, OpenItem]]] = defaultdict(list)
        self.by_customer: dict[tuple[str, str], list[OpenItem]] = defaultdict(list)
        self._by_amount: dict[tuple[str, Decimal], set[str]] | None = None
        self._by_body: dict[str, OpenItem] | None = None
        self._by_digits: dict[str, list[OpenItem]] | None = None
        # One pass, names bound locally: this loop sees every open invoice of the tenant.
        by_id, left, by_run, by_customer = self.items, self.left, self.by_run, self.by_customer
        for item in items:
            invoice_id, amount = item.invoice_id, item.open_amount
            by_id[invoice_id] = item
            left[invoice_id] = amount
            key = number_key(item.number)
            if len(key) >= 3:
                last = _LAST_RUN.search(key)
                by_run[last.group() if last else ""].append((key, item))
            by_customer[(item.customer_id, amount.currency)].append(item)
        for same in by_customer.values():
            if len(same) > 1:
                same.sort(key=_due_order)

    def by_reference(self, reference: str) -> OpenItem | None:
        """The open invoice a canonical reference belongs to. The indexes are built on the
        first reference seen (many statements have none): RF references carry the number's
        letters and digits, national ones its significant digits."""
        if reference.startswith("RF"):
            if self._by_body is None:
                self._by_body = {}
                for item in self.items.values():
                    body = _NOT_ALNUM.sub("", item.number.upper())[-21:]
                    known = self._by_body.get(body)
                    if known is None or item.invoice_id < known.invoice_id:
                        self._by_body[body] = item
            return self._by_body.get(reference[4:])
        if self._by_digits is None:
            self._by_digits = defaultdict(list)
            for item in self.items.values():
                self._by_digits[_NOT_DIGIT.sub("", item.number).lstrip("0")].append(item)
        kind, _, digits = reference.partition(":")
        base = {"BE": digits[:10], "QR": digits[:26]}.get(kind, digits[:-1]).lstrip("0")
        found = [i for i in self._by_digits.get(base, ()) if reference in invoice_references(i.number)]
        return min(found, key=lambda i: i.invoice_id) if found else None

    def named(self, remittance: str) -> list[OpenItem]:
        """Open invoices whose numbers the text names, a number inside another left out."""
        text_key = number_key(remittance)
        if not text_key:
            return []
        found: dict[str, OpenItem] = {}
        for run in {*_DIGIT_RUN.findall(text_key), ""}:
            for key, item in self.by_run.get(run, ()):
                if _mentions(text_key, key):
                    found[item.invoice_id] = item
        named = sorted(found.values(), key=lambda i: i.invoice_id)
        # A number that is part of another named number (INV-1 inside INV-12) is not named itself.
        return [i for i in named if not any(o is not i and number_key(i.number) in number_key(o.number) for o in named)]

    def open_items(self, customer_id: str, currency: str) -> list[OpenItem]:
        return [i for i in self.by_customer.get((customer_id, currency), ()) if self.left[i.invoice_id].amount > 0]

    @property
    def by_amount(self) -> dict[tuple[str, Decimal], set[str]]:
        """Open invoices by what is left open on them; built when first needed."""
        if self._by_amount is None:
            self._by_amount = defaultdict(set)
            for invoice_id, left in self.left.items():
                if left.amount > 0:
                    self._by_amount[(left.currency, left.amount)].add(invoice_id)
        return self._by_amount

    def with_amount(self, amount: Money) -> list[OpenItem]:
        ids = self.by_amount.get((amount.currency, amount.amount), set())
        return [self.items[i] for i in sorted(ids)]

    def take(self, credit: Credit, invoices: Sequence[OpenItem]) -> tuple[tuple[Allocation, ...], Money]:
        """Allocate the credit over the invoices in order and use up what it covers."""
        allocations, rest = allocate(credit.amount, invoices, self.left)
        for allocation in allocations:
            before = self.left[allocation.invoice_id]
            after = before - allocation.amount
            self.left[allocation.invoice_id] = after
            if self._by_amount is not None:
                self._by_amount[(before.currency, before.amount)].discard(allocation.invoice_id)
                if after.amount > 0:
                    self._by_amount[(after.currency, after.amount)].add(allocation.invoice_id)
        return allocations, rest


class Matcher:
    """The open ledger indexed once, then statements' credits matched against it in order.

    Building the indexes is the expensive part on a large ledger; a caller may build the
    matcher while it still reads the statement. Credits of all :meth:`match` calls share
    what is open, as the credits of one statement do.
    """

    def __init__(self, open_items: Iterable[OpenItem], payers: Mapping[str, str] | None = None) -> None:
        self._ledger = _Ledger(open_items)
        self._payers = {_iban(k): v for k, v in (payers or {}).items()}

    @property
    def open_items(self) -> Mapping[str, OpenItem]:
        """Every open invoice the matcher knows, by id (as it was before any credit)."""
        return self._ledger.items

    def match(self, credits: Iterable[Credit]) -> MatchResult:
        matched: list[Match] = []
        unresolved: list[Unresolved] = []
        for credit in credits:
            if credit.amount.amount <= 0:
                unresolved.append(Unresolved(credit.id, Open.UNMATCHED, "not a credit (amount is not positive)"))
                continue
            outcome = _match_one(credit, self._ledger, self._payers.get(_iban(credit.payer_iban)))
            if isinstance(outcome, Match):
                matched.append(outcome)
            else:
                unresolved.append(outcome)
        return MatchResult(tuple(matched), tuple(unresolved))


def match_credits(
    credits: Iterable[Credit],
    open_items: Iterable[OpenItem],
    payers: Mapping[str, str] | None = None,
) -> MatchResult:
    """Match a statement's credits in order; ``payers`` maps a known IBAN to its customer."""
    return Matcher(open_items, payers).match(credits)


def _iban(text: str) -> str:
    return re.sub(r"\s", "", text.upper())


def _match_one(credit: Credit, ledger: _Ledger, payer: str | None) -> Match | Unresolved:
    currency = credit.amount.currency
    candidates: list[Candidate] = []

    referenced = [i for r in references_in(credit.remittance) if (i := ledger.by_reference(r)) is not None]
    named = referenced or ledger.named(credit.remittance)
    rule = Rule.REFERENCE if referenced else Rule.INVOICE_NUMBER
    if named:
        customers = {i.customer_id for i in named}
        usable = [i for i in named if i.open_amount.currency == currency and ledger.left[i.invoice_id].amount > 0]
        if len(customers) > 1:
            return Unresolved(
                credit.id,
                Open.AMBIGUOUS,
                "the remittance names invoices of several customers",
                (Candidate(tuple(i.invoice_id for i in named), rule, "named in the remittance"),),
            )
        if usable:
            usable.sort(key=lambda i: (i.due_on, i.number))
            owed = sum((ledger.left[i.invoice_id] for i in usable), Money.zero(currency))
            allocations, rest = ledger.take(credit, usable)
            confidence = CONFIDENCE[rule] if owed == credit.amount or rule is Rule.REFERENCE else CONFIDENCE[rule] - 15
            return Match(credit.id, usable[0].customer_id, rule, confidence, allocations, rest)
        candidates.append(
            Candidate(tuple(i.invoice_id for i in named), rule, "named, but paid already or in another currency")
        )

    if payer is not None:
        items = ledger.open_items(payer, currency)
        exact = [i for i in items if ledger.left[i.invoice_id] == credit.amount]
        if len(exact) == 1:
            allocations, rest = ledger.take(credit, exact)
            return Match(credit.id, payer, Rule.AMOUNT_AND_PAYER, CONFIDENCE[Rule.AMOUNT_AND_PAYER], allocations, rest)
        if len(exact) > 1:
            return Unresolved(
                credit.id,
                Open.AMBIGUOUS,
                f"{len(exact)} open invoices of the payer's customer have this amount",
                (Candidate(tuple(i.invoice_id for i in exact), Rule.AMOUNT_AND_PAYER, "same amount"),),
            )
        running = Money.zero(currency)
        for count, item in enumerate(items, start=1):
            running = running + ledger.left[item.invoice_id]
            if running == credit.amount and count > 1:
                allocations, rest = ledger.take(credit, items[:count])
                return Match(
                    credit.id, payer, Rule.SUM_OF_INVOICES, CONFIDENCE[Rule.SUM_OF_INVOICES], allocations, rest
                )
            if running > credit.amount:
                break

    same_amount = ledger.with_amount(credit.amount)
    if same_amount:
        candidates.append(
            Candidate(
                tuple(i.invoice_id for i in same_amount[:10]),
                Rule.AMOUNT_AND_PAYER,
                "same amount, but the payer is not known to pay for that customer",
            )
        )
    if candidates:
        return Unresolved(credit.id, Open.AMBIGUOUS, "no rule settles it; candidates listed", tuple(candidates))
    return Unresolved(credit.id, Open.UNMATCHED, "no reference, invoice number, known payer or amount fits")
