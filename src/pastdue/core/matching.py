"""Matching bank credits to open invoices: matched, ambiguous or unmatched, never guessed.

Rules, strongest first; the first rule that finds something decides a credit:

1. ``reference``: a structured creditor reference (ISO 11649 ``RF..`` with a valid check)
   in the remittance text that belongs to an open invoice.
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pastdue.core.money import Money


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
class OpenItem:
    """An open invoice as matching sees it."""

    invoice_id: str
    customer_id: str
    number: str
    open_amount: Money
    due_on: date


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
class Allocation:
    invoice_id: str
    amount: Money


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


# --- ISO 11649 creditor references -------------------------------------------------------

_RF = re.compile(r"\bRF\s*(\d\d)\s*([0-9A-Z](?:\s*[0-9A-Z]){0,20})", re.IGNORECASE)


def _mod97(text: str) -> int:
    digits = "".join(str(int(ch, 36)) for ch in text)
    return int(digits) % 97


def rf_reference(invoice_number: str) -> str:
    """The ISO 11649 reference for an invoice number (its letters and digits, at most 21)."""
    body = re.sub(r"[^0-9A-Z]", "", invoice_number.upper())[-21:]
    check = 98 - _mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def is_valid_rf(reference: str) -> bool:
    compact = re.sub(r"\s", "", reference.upper())
    if not re.fullmatch(r"RF\d\d[0-9A-Z]{1,21}", compact):
        return False
    return _mod97(compact[4:] + compact[:4]) == 1


def references_in(text: str) -> list[str]:
    """Valid RF references in a remittance text, compacted, in order of appearance."""
    found = []
    for match in _RF.finditer(text):
        candidate = "RF" + match.group(1) + re.sub(r"\s", "", match.group(2)).upper()
        # A reference followed by more words may have swallowed them: shorten until valid.
        while len(candidate) > 4 and not is_valid_rf(candidate):
            candidate = candidate[:-1]
        if len(candidate) > 4:
            found.append(candidate)
    return found


# --- invoice numbers in free text ----------------------------------------------------------

_GROUPS = re.compile(r"[0-9]+|[A-Z]+")


def number_key(text: str) -> str:
    """Letters and digits only, upper case, leading zeros of each digit group dropped."""
    return "".join(g.lstrip("0") or "0" if g.isdigit() else g for g in _GROUPS.findall(text.upper()))


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


@dataclass
class _Ledger:
    """Open amounts as credits of one statement use them up."""

    items: dict[str, OpenItem]
    left: dict[str, Money] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.left = {i.invoice_id: i.open_amount for i in self.items.values()}

    def open_items(self, customer_id: str, currency: str) -> list[OpenItem]:
        return sorted(
            (
                i
                for i in self.items.values()
                if i.customer_id == customer_id
                and i.open_amount.currency == currency
                and not self.left[i.invoice_id].is_zero()
            ),
            key=lambda i: (i.due_on, i.number, i.invoice_id),
        )

    def allocate(self, credit: Credit, invoices: Sequence[OpenItem]) -> tuple[tuple[Allocation, ...], Money]:
        """Spread the credit over the invoices in order; returns allocations and the rest."""
        rest = credit.amount
        allocations = []
        for item in invoices:
            if rest.is_zero() or rest.amount < 0:
                break
            take = min(self.left[item.invoice_id], rest)
            if take.amount <= 0:
                continue
            allocations.append(Allocation(item.invoice_id, take))
            self.left[item.invoice_id] = self.left[item.invoice_id] - take
            rest = rest - take
        return tuple(allocations), rest


def match_credits(
    credits: Iterable[Credit],
    open_items: Iterable[OpenItem],
    payers: Mapping[str, str] | None = None,
) -> MatchResult:
    """Match a statement's credits in order; ``payers`` maps a known IBAN to its customer."""
    ledger = _Ledger({i.invoice_id: i for i in open_items})
    by_reference = {rf_reference(i.number): i for i in ledger.items.values()}
    keys = sorted(((number_key(i.number), i) for i in ledger.items.values()), key=lambda pair: pair[1].invoice_id)
    known = {_iban(k): v for k, v in (payers or {}).items()}
    matched: list[Match] = []
    unresolved: list[Unresolved] = []
    for credit in credits:
        if credit.amount.amount <= 0:
            unresolved.append(Unresolved(credit.id, Open.UNMATCHED, "not a credit (amount is not positive)"))
            continue
        outcome = _match_one(credit, ledger, by_reference, keys, known.get(_iban(credit.payer_iban)))
        if isinstance(outcome, Match):
            matched.append(outcome)
        else:
            unresolved.append(outcome)
    return MatchResult(tuple(matched), tuple(unresolved))


def _iban(text: str) -> str:
    return re.sub(r"\s", "", text.upper())


def _match_one(
    credit: Credit,
    ledger: _Ledger,
    by_reference: Mapping[str, OpenItem],
    keys: Sequence[tuple[str, OpenItem]],
    payer: str | None,
) -> Match | Unresolved:
    currency = credit.amount.currency
    candidates: list[Candidate] = []

    referenced = [by_reference[r] for r in references_in(credit.remittance) if r in by_reference]
    named = referenced or _named(credit.remittance, keys)
    rule = Rule.REFERENCE if referenced else Rule.INVOICE_NUMBER
    if named:
        customers = {i.customer_id for i in named}
        usable = [i for i in named if i.open_amount.currency == currency and not ledger.left[i.invoice_id].is_zero()]
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
            allocations, rest = ledger.allocate(credit, usable)
            confidence = CONFIDENCE[rule] if owed == credit.amount or rule is Rule.REFERENCE else CONFIDENCE[rule] - 15
            return Match(credit.id, usable[0].customer_id, rule, confidence, allocations, rest)
        candidates.append(
            Candidate(tuple(i.invoice_id for i in named), rule, "named, but paid already or in another currency")
        )

    if payer is not None:
        items = ledger.open_items(payer, currency)
        exact = [i for i in items if ledger.left[i.invoice_id] == credit.amount]
        if len(exact) == 1:
            allocations, rest = ledger.allocate(credit, exact)
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
                allocations, rest = ledger.allocate(credit, items[:count])
                return Match(
                    credit.id, payer, Rule.SUM_OF_INVOICES, CONFIDENCE[Rule.SUM_OF_INVOICES], allocations, rest
                )
            if running > credit.amount:
                break

    same_amount = sorted(
        (
            i
            for i in ledger.items.values()
            if i.open_amount.currency == currency and ledger.left[i.invoice_id] == credit.amount
        ),
        key=lambda i: i.invoice_id,
    )
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


def _named(remittance: str, keys: Sequence[tuple[str, OpenItem]]) -> list[OpenItem]:
    text_key = number_key(remittance)
    if not text_key:
        return []
    found = [item for key, item in keys if len(key) >= 3 and _mentions(text_key, key)]
    # A number that is part of another named number (INV-1 inside INV-12) is not named itself.
    return [i for i in found if not any(o is not i and number_key(i.number) in number_key(o.number) for o in found)]
