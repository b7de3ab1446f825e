"""Bank statements in, credits matched, and the queue of credits a person resolves.

A statement is imported whole or not at all. Each line is keyed by account, booking date,
entry reference and position, so importing the same statement again (or an overlapping
one) adds nothing. Credits are matched by :mod:`pastdue.core.matching`; what it settles is
allocated at once (so the next run sees the invoices paid), what it does not settle waits
in the queue with its candidates and reasons (``pastdue matches``). A debit that reverses
an earlier credit (a returned direct debit, a bank's correction) reverses that receipt.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.core.allocation import Allocation, OpenItem
from pastdue.core.matching import Credit, Matcher, MatchResult
from pastdue.core.money import Money
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.gc_pause import cycle_collector_paused
from pastdue.importers.camt import StatementLine
from pastdue.importers.statements import PARALLEL_FROM_BYTES, StatementReading
from pastdue.services.payments import (
    apply_receipt,
    cancel_pointless_notices,
    post_allocations,
    receipt_id_for,
    resolve_payer,
    reverse_receipt,
)
from pastdue.store import audit, policies, receipts
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work
from pastdue.store.receipts import Receipt

QUEUE = ("ambiguous", "unmatched")


@dataclass
class StatementImport:
    file: str
    format: str
    lines: int = 0
    known: int = 0
    """Lines imported before: skipped."""
    credits: int = 0
    matched: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    reversed: int = 0
    debits_ignored: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    allocated: dict[str, Money] = field(default_factory=dict)
    unapplied: dict[str, Money] = field(default_factory=dict)
    cancelled_notices: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "lines": self.lines,
            "known": self.known,
            "credits": self.credits,
            "matched": self.matched,
            "ambiguous": self.ambiguous,
            "unmatched": self.unmatched,
            "reversed": self.reversed,
            "debits_ignored": self.debits_ignored,
            "by_rule": dict(sorted(self.by_rule.items())),
            "allocated": {c: str(m.amount) for c, m in sorted(self.allocated.items())},
            "unapplied": {c: str(m.amount) for c, m in sorted(self.unapplied.items())},
            "cancelled_notices": self.cancelled_notices,
        }


def import_statement(app: App, path: Path, *, parallel_from: int = PARALLEL_FROM_BYTES) -> StatementImport:
    """Import one statement file, match its new credits and apply the matches.

    A large file is parsed in a child process while this one loads and indexes the open
    ledger, the two slowest steps of a big statement, so that they overlap.
    """
    now = app.clock()
    with (
        StatementReading(path, parallel_from) as reading,
        cycle_collector_paused(),
        unit_of_work(app.engine) as uow,
    ):
        connection = uow.connection
        policies.ensure_tenant(connection, app.tenant, now)
        receipts.lock_money_in(connection, app.tenant)
        matcher = _matcher(connection, app.tenant) if reading.in_background else None
        kind, lines = reading.result()
        summary = StatementImport(path.name, kind, lines=len(lines))
        ids = [receipt_id_for("statement", line.key) for line in lines]
        known = receipts.known_ids(connection, app.tenant, ids)
        fresh = [(rid, line) for rid, line in zip(ids, lines, strict=True) if rid not in known]
        summary.known = len(lines) - len(fresh)
        credits = [(rid, _gross(line)) for rid, line in fresh if line.amount.amount > 0 and not line.reversal]
        summary.credits = len(credits)
        events: list[AuditEvent] = []
        customers: set[str] = set()
        if credits:
            matcher = matcher or _matcher(connection, app.tenant)
            customers |= _match_and_apply(connection, app.tenant, credits, matcher, summary, now, events)
        debits = [(rid, line) for rid, line in fresh if line.amount.amount < 0 or line.reversal]
        customers |= _returns(connection, app.tenant, debits, summary, now, events)
        summary.cancelled_notices = len(
            cancel_pointless_notices(connection, app.tenant, sorted(customers), now, events)
        )
        if fresh:
            statement_event = AuditEvent(
                "statement",
                path.name,
                {"file": path.name, "sha256": _sha256(path), **summary.as_json()},
            )
            audit.append(connection, app.tenant, [statement_event, *events], now)
        uow.commit()
    return summary


def _matcher(connection: Connection, tenant: str) -> Matcher:
    return Matcher(receipts.open_items(connection, tenant), receipts.payers(connection, tenant))


def _match_and_apply(
    connection: Connection,
    tenant: str,
    credits: Sequence[tuple[str, StatementLine]],
    matcher: Matcher,
    summary: StatementImport,
    now: datetime,
    events: list[AuditEvent],
) -> set[str]:
    by_id = matcher.open_items
    result: MatchResult = matcher.match(
        Credit(rid, line.amount, line.booked_on, line.remittance, line.payer_name, line.payer_iban)
        for rid, line in credits
    )
    matches = {m.credit_id: m for m in result.matched}
    open_ = {u.credit_id: u for u in result.unresolved}
    rows = []
    for rid, line in credits:
        match = matches.get(rid)
        unresolved = open_.get(rid)
        status, customer, rule, confidence, reason, candidates = "unmatched", None, None, None, "", "[]"
        if match is not None:
            status, customer, rule, confidence = "applied", match.customer_id, match.rule.value, match.confidence
        elif unresolved is not None:
            status, reason = unresolved.status.value, unresolved.reason
            candidates = json.dumps(
                [_candidate(c.invoice_ids, c.rule.value, c.reason, by_id) for c in unresolved.candidates]
            )
        rows.append(_receipt_row(tenant, rid, line, status, customer, rule, confidence, reason, candidates, now))
    receipts.insert(connection, rows)
    summary.matched, summary.ambiguous, summary.unmatched = (
        len(result.matched),
        sum(1 for u in result.unresolved if u.status.value == "ambiguous"),
        sum(1 for u in result.unresolved if u.status.value == "unmatched"),
    )
    lines = dict(credits)
    batch: list[tuple[Receipt, str, Sequence[Allocation]]] = []
    for match in result.matched:
        line = lines[match.credit_id]
        summary.by_rule[match.rule.value] += 1
        receipt = _as_receipt(match.credit_id, line, match.customer_id, match.rule.value, match.confidence)
        batch.append((receipt, match.customer_id, match.allocations))
        for allocation in match.allocations:
            _add(summary.allocated, allocation.amount)
        if not match.unapplied.is_zero():
            _add(summary.unapplied, match.unapplied)
    events += post_allocations(connection, tenant, batch, now, actor="matching", known=by_id)
    receipts.learn_payers(
        connection,
        tenant,
        ((lines[m.credit_id].payer_iban, m.customer_id) for m in result.matched if m.rule.value != "amount_and_payer"),
        "matched",
        now,
    )
    for unresolved in result.unresolved:
        events.append(
            AuditEvent(
                "match",
                unresolved.credit_id,
                {"receipt": unresolved.credit_id, "status": unresolved.status.value, "reason": unresolved.reason},
                actor="matching",
            )
        )
    return {m.customer_id for m in result.matched}


def _returns(
    connection: Connection,
    tenant: str,
    debits: Sequence[tuple[str, StatementLine]],
    summary: StatementImport,
    now: datetime,
    events: list[AuditEvent],
) -> set[str]:
    """Debits that give back an earlier credit reverse its receipt; other debits are not
    money in and are left alone. A reversal pastdue cannot place goes to the queue."""
    customers: set[str] = set()
    rows = []
    for rid, line in debits:
        # What the payer's money was: a bank's return fee is not part of it.
        returned = -(line.amount + line.charges) if line.charges is not None else -line.amount
        candidates = receipts.by_end_to_end(connection, tenant, line.end_to_end_id) if line.end_to_end_id else []
        originals = [r for r in candidates if r.status in ("applied", *QUEUE) and r.amount == returned]
        if not originals and not line.reversal:
            summary.debits_ignored += 1
            continue
        why = " ".join(part for part in (line.return_reason, line.remittance) if part) or "no reason given"
        reason = f"returned on the statement ({why})"[:500]
        if originals:
            original = originals[-1]
            if original.status == "applied":
                reversal_events, _reopened = reverse_receipt(
                    connection, tenant, original, reason, now, actor="matching"
                )
                events += reversal_events
                customers.add(original.customer_id or "")
            else:  # still waiting for a person: the money is gone, nothing to decide any more
                receipts.settle(connection, tenant, original.id, status="reversed", reason=reason)
                events.append(AuditEvent("match", original.id, {"receipt": original.id, "status": "reversed"}))
            summary.reversed += 1
            rows.append(
                _receipt_row(tenant, rid, line, "reversed", original.customer_id, None, None, reason, "[]", now)
            )
        else:
            summary.unmatched += 1
            if line.amount.amount > 0:
                reason = f"money of ours came back ({why}): a refund or payout to look at"
            else:
                reason = f"a reversal of a credit pastdue does not know ({why})"
            rows.append(_receipt_row(tenant, rid, line, "unmatched", None, None, None, reason[:500], "[]", now))
            events.append(AuditEvent("match", rid, {"receipt": rid, "status": "unmatched", "reason": reason}))
    receipts.insert(connection, rows)
    customers.discard("")
    return customers


def _gross(line: StatementLine) -> StatementLine:
    """A credit as the payer sent it: charges the bank deducted do not leave the invoice open
    (they are the creditor's cost), so the amount matched and allocated is the gross one."""
    if line.charges is None or line.charges.currency != line.amount.currency:
        return line
    return replace(line, amount=line.amount + line.charges)


def _receipt_row(
    tenant: str,
    rid: str,
    line: StatementLine,
    status: str,
    customer: str | None,
    rule: str | None,
    confidence: int | None,
    reason: str,
    candidates: str,
    now: datetime,
) -> tuple[Any, ...]:
    return (
        tenant,
        rid,
        "statement",
        line.key[:300],
        customer,
        line.amount.currency,
        line.amount.minor,
        line.booked_on,
        line.end_to_end_id[:200],
        line.payer_name[:200],
        line.payer_iban[:34],
        line.remittance,
        line.end_to_end_id[:64],
        status,
        rule,
        confidence,
        reason[:500],
        candidates,
        now.isoformat(),
    )


def _as_receipt(rid: str, line: StatementLine, customer: str, rule: str, confidence: int) -> Receipt:
    zero = Money.zero(line.amount.currency)
    return Receipt(
        rid, "statement", line.key, customer, line.amount, line.booked_on, line.end_to_end_id, line.payer_name,
        line.payer_iban, line.remittance, line.end_to_end_id, "applied", rule, confidence, "", [], "", zero,
    )  # fmt: skip


def _candidate(invoice_ids: Sequence[str], rule: str, reason: str, items: Mapping[str, OpenItem]) -> dict[str, Any]:
    known = [items[i] for i in invoice_ids if i in items]
    return {
        "invoices": [i.number for i in known],
        "invoice_ids": list(invoice_ids),
        "customers": sorted({i.customer_id for i in known}),
        "open": [f"{i.open_amount}" for i in known],
        "rule": rule,
        "reason": reason,
    }


def _add(totals: dict[str, Money], amount: Money) -> None:
    totals[amount.currency] = totals.get(amount.currency, Money.zero(amount.currency)) + amount


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# --- the queue a person resolves -----------------------------------------------------------------


def list_matches(app: App, *, include_rejected: bool = False) -> list[Receipt]:
    statuses = (*QUEUE, "rejected") if include_rejected else QUEUE
    with app.engine.connect() as connection:
        return receipts.select_receipts(
            connection, app.tenant, f"r.status IN ({', '.join('?' * len(statuses))})", list(statuses)
        )


@dataclass
class Confirmed:
    receipt_id: str
    customer_id: str
    allocations: list[tuple[str, Money]]
    unapplied: Money
    cancelled_notices: list[str]


def confirm_match(
    app: App, receipt_id: str, *, invoice_numbers: Sequence[str] = (), customer_id: str | None = None
) -> Confirmed:
    """A person decides who paid (and what): the credit is allocated, the payer's IBAN learned."""
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        receipts.lock_money_in(connection, app.tenant)
        receipt = _queued(connection, app.tenant, receipt_id)
        if receipt.amount.amount <= 0:
            raise ProblemsFound([Problem(receipt_id, None, "amount", "a debit pays nothing; reject it instead")])
        numbers = list(invoice_numbers)
        if not numbers and customer_id is None:
            numbers = _only_candidate(receipt)
        customer, invoice_ids = resolve_payer(connection, app.tenant, receipt.amount, customer_id, numbers)
        receipts.settle(
            connection, app.tenant, receipt_id, status="applied", customer_id=customer, rule="confirmed", confidence=100
        )
        settled = receipts.get(connection, app.tenant, receipt_id)
        assert settled is not None
        events = [
            AuditEvent(
                "match",
                receipt_id,
                {"receipt": receipt_id, "status": "confirmed", "customer_id": customer, "invoices": numbers},
                actor="person",
            )
        ]
        events += apply_receipt(connection, app.tenant, settled, customer, invoice_ids, now, actor="person")
        receipts.learn_payers(connection, app.tenant, [(settled.payer_iban, customer)], "confirmed", now)
        cancelled = cancel_pointless_notices(connection, app.tenant, [customer], now, events)
        audit.append(connection, app.tenant, events, now)
        allocations = receipts.allocations_of(connection, app.tenant, receipt_id)
        names = receipts.invoice_numbers(connection, app.tenant, [a.invoice_id for a in allocations])
        after = receipts.get(connection, app.tenant, receipt_id)
        assert after is not None
        uow.commit()
    return Confirmed(
        receipt_id, customer, [(names[a.invoice_id], a.amount) for a in allocations], after.unapplied, cancelled
    )


def reject_match(app: App, receipt_id: str, *, reason: str) -> None:
    """Not a payment of any invoice (a refund to make, money for someone else): out of the queue."""
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        _queued(connection, app.tenant, receipt_id)
        receipts.settle(connection, app.tenant, receipt_id, status="rejected", reason=reason[:500])
        event = AuditEvent(
            "match", receipt_id, {"receipt": receipt_id, "status": "rejected", "reason": reason}, "person"
        )
        audit.append(connection, app.tenant, [event], now)
        uow.commit()


def _queued(connection: Connection, tenant: str, receipt_id: str) -> Receipt:
    receipt = receipts.get(connection, tenant, receipt_id, lock=True)
    if receipt is None:
        raise NotFound(f"no bank credit {receipt_id!r} in tenant {tenant!r}")
    if receipt.status not in QUEUE:
        raise ProblemsFound([Problem(receipt_id, None, "status", f"is {receipt.status}, not waiting for a person")])
    return receipt


def _only_candidate(receipt: Receipt) -> list[str]:
    groups = [c for c in receipt.candidates if c.get("invoices")]
    if len(groups) == 1 and len(groups[0].get("customers", [])) == 1:
        return list(groups[0]["invoices"])
    listed = "; ".join(f"{', '.join(c['invoices'])} ({c['reason']})" for c in groups) or "none"
    raise ProblemsFound(
        [Problem(receipt.id, None, "invoice", f"name the invoices or the customer; candidates: {listed}")]
    )
