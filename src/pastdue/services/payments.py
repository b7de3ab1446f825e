"""Money in: recording payments, allocating them, reversing them, and money in flight.

Every use case here is one transaction. A payment becomes a *receipt* (what arrived) and
*allocations* (what it pays); what it does not pay stays on the customer as unapplied cash,
shown by ``pastdue payments list --unapplied`` and applied later by ``payments apply``.
Allocations move invoice balances at once, so the next run already sees them, and notices
still waiting in the queue whose invoices are all paid now are cancelled on the spot.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.core.allocation import Allocation, AllocationOrder, OpenItem, allocate, ordered
from pastdue.core.delivery import Status
from pastdue.core.model import HoldReason
from pastdue.core.money import Money
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.services.notice_document import open_items as open_notice_items
from pastdue.store import audit, holds, outbox, receipts
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work
from pastdue.store.receipts import Posting, Receipt

SOURCES = ("manual", "statement", "provider", "sync")


@dataclass
class PaymentRecorded:
    receipt_id: str
    customer_id: str
    allocations: list[tuple[str, Money]]
    """(invoice number, amount) in allocation order."""
    unapplied: Money
    duplicate: bool = False
    cancelled_notices: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "receipt": self.receipt_id,
            "customer_id": self.customer_id,
            "allocations": [
                {"invoice": n, "amount": str(a.amount), "currency": a.currency} for n, a in self.allocations
            ],
            "unapplied": str(self.unapplied.amount),
            "currency": self.unapplied.currency,
            "duplicate": self.duplicate,
            "cancelled_notices": self.cancelled_notices,
        }


def receipt_id_for(source: str, source_key: str) -> str:
    """A stable id for money known by its origin's key, so that hearing of it twice is harmless."""
    digest = hashlib.sha256(f"{source}\x1f{source_key}".encode()).hexdigest()[:24]
    return f"{source[:2]}-{digest}"


def allocation_order(connection: Connection, tenant: str) -> AllocationOrder:
    value = outbox.profile(connection, tenant).get("allocation_order", AllocationOrder.OLDEST_DUE.value)
    try:
        return AllocationOrder(value)
    except ValueError:
        return AllocationOrder.OLDEST_DUE


# --- recording --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """Money someone says has arrived (or is on its way), as it was described to pastdue."""

    amount: Money
    received_on: date
    customer_id: str | None = None
    invoice_numbers: Sequence[str] = ()
    reference: str = ""
    source: str = "manual"
    source_key: str = ""
    payer_name: str = ""
    payer_iban: str = ""

    @property
    def receipt_id(self) -> str:
        return receipt_id_for(self.source, self.source_key) if self.source_key else f"rc-{uuid.uuid4().hex[:24]}"


def record_payment(
    app: App,
    *,
    amount: Money,
    received_on: date,
    customer_id: str | None = None,
    invoice_numbers: Sequence[str] = (),
    reference: str = "",
    source: str = "manual",
    source_key: str = "",
    payer_name: str = "",
    payer_iban: str = "",
    actor: str = "pastdue",
) -> PaymentRecorded:
    """Record money received and allocate it: to the named invoices, else to the customer's
    open invoices in the tenant's allocation order. With a ``source_key`` (a provider's
    payment id, an external reference) recording the same money twice changes nothing."""
    incoming = Incoming(
        amount, received_on, customer_id, tuple(invoice_numbers), reference, source, source_key, payer_name, payer_iban
    )
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        receipt_id = incoming.receipt_id
        existing = receipts.get(connection, app.tenant, receipt_id)
        if existing is not None and existing.status != "pending":
            return _recorded(connection, app.tenant, existing, duplicate=True)
        events: list[AuditEvent] = []
        customer = record_in(connection, app.tenant, incoming, receipt_id, now, events, actor=actor)
        cancelled = cancel_pointless_notices(connection, app.tenant, [customer], now, events)
        audit.append(connection, app.tenant, events, now)
        result = _recorded(connection, app.tenant, receipt_id=receipt_id, cancelled=cancelled)
        uow.commit()
    return result


def record_in(
    connection: Connection,
    tenant: str,
    incoming: Incoming,
    receipt_id: str,
    now: datetime,
    events: list[AuditEvent],
    *,
    actor: str,
    status: str = "applied",
) -> str:
    """Inside the caller's transaction: store the receipt (or move a ``pending`` one on) and,
    when it is ``applied``, allocate it and end the holds that waited for it. Returns the
    customer; appends the audit events."""
    receipts.lock_money_in(connection, tenant)
    customer_id, invoice_ids = resolve_payer(
        connection, tenant, incoming.amount, incoming.customer_id, incoming.invoice_numbers
    )
    rule = "named" if invoice_ids else "customer"
    if receipts.get(connection, tenant, receipt_id) is None:
        receipts.insert(connection, [receipt_row(tenant, receipt_id, incoming, customer_id, status, rule, now)])
    else:
        receipts.settle(connection, tenant, receipt_id, status=status, customer_id=customer_id, rule=rule)
    events.append(
        AuditEvent(
            "payment",
            receipt_id,
            {
                "receipt": receipt_id,
                "status": status,
                "source": incoming.source,
                "source_key": incoming.source_key,
                "customer_id": customer_id,
                "amount": str(incoming.amount.amount),
                "currency": incoming.amount.currency,
                "received_on": incoming.received_on.isoformat(),
                "reference": incoming.reference,
                "invoices": list(incoming.invoice_numbers),
            },
            actor=actor,
        )
    )
    if status == "applied":
        receipt = receipts.get(connection, tenant, receipt_id)
        assert receipt is not None
        events += apply_receipt(connection, tenant, receipt, customer_id, invoice_ids, now, actor=actor)
        events += end_money_in_flight(connection, tenant, receipt_id, "settled", now, actor=actor)
    return customer_id


def receipt_row(
    tenant: str,
    receipt_id: str,
    incoming: Incoming,
    customer_id: str | None,
    status: str,
    rule: str | None,
    now: datetime,
    *,
    reason: str = "",
    remittance: str = "",
) -> tuple[Any, ...]:
    """A ``receipts`` row (in :data:`~pastdue.store.receipts.RECEIPT_COLUMNS` order)."""
    return (
        tenant,
        receipt_id,
        incoming.source,
        incoming.source_key[:300],
        customer_id,
        incoming.amount.currency,
        incoming.amount.minor,
        incoming.received_on,
        incoming.reference[:200],
        incoming.payer_name[:200],
        incoming.payer_iban[:34],
        remittance,
        "",
        status,
        rule,
        None,
        reason[:500],
        "[]",
        now.isoformat(),
    )


def resolve_payer(
    connection: Connection, tenant: str, amount: Money, customer_id: str | None, numbers: Sequence[str]
) -> tuple[str, list[str] | None]:
    """Who paid and which invoices were named; every problem at once, else ProblemsFound."""
    problems: list[Problem] = []
    if amount.amount <= 0:
        problems.append(Problem("payment", None, "amount", f"must be positive, not {amount.amount}"))
    found = receipts.invoices_by_number(connection, tenant, list(numbers)) if numbers else {}
    for number in numbers:
        if number not in found:
            problems.append(Problem("payment", None, "invoice", f"no invoice numbered {number!r}"))
        elif found[number][2] != amount.currency:
            problems.append(
                Problem(
                    "payment", None, "invoice", f"{number} is in {found[number][2]}, the payment in {amount.currency}"
                )
            )
    customers = {customer for _iid, customer, _currency in found.values()}
    if customer_id is not None and not receipts.customer_exists(connection, tenant, customer_id):
        problems.append(Problem("payment", None, "customer", f"no customer {customer_id!r}"))
    elif customer_id is not None and customers - {customer_id}:
        others = ", ".join(sorted(customers - {customer_id}))
        problems.append(Problem("payment", None, "invoice", f"named invoices belong to {others}, not {customer_id}"))
    elif len(customers) > 1:
        problems.append(Problem("payment", None, "invoice", "the named invoices belong to several customers"))
    if customer_id is None and not customers and not problems:
        problems.append(Problem("payment", None, "customer", "name the customer or at least one invoice"))
    if problems:
        raise ProblemsFound(problems)
    payer = customer_id or next(iter(customers))
    return payer, [found[n][0] for n in numbers] if numbers else None


def apply_receipt(
    connection: Connection,
    tenant: str,
    receipt: Receipt,
    customer_id: str,
    invoice_ids: Sequence[str] | None,
    now: datetime,
    *,
    actor: str = "pastdue",
) -> list[AuditEvent]:
    """Allocate what is unapplied of a receipt to the given invoices (or the customer's open
    ones) in the tenant's order; returns one audit event per allocation."""
    if invoice_ids is not None:
        items = receipts.open_items(connection, tenant, invoice_ids=invoice_ids, lock=True)
    else:
        items = receipts.open_items(connection, tenant, customer_id=customer_id, lock=True)
    order = allocation_order(connection, tenant)
    allocations, _rest = allocate(receipt.unapplied, ordered(items, order))
    return post_allocations(
        connection,
        tenant,
        [(receipt, customer_id, allocations)],
        now,
        actor=actor,
        rule=receipt.rule or "",
        known={i.invoice_id: i for i in items},
    )


def post_allocations(
    connection: Connection,
    tenant: str,
    batch: Sequence[tuple[Receipt, str, Sequence[Allocation]]],
    now: datetime,
    *,
    actor: str,
    rule: str = "",
    known: Mapping[str, OpenItem] | None = None,
) -> list[AuditEvent]:
    """Write the allocations of several receipts at once; one audit event per allocation.
    ``known`` invoices (by id) spare reading their numbers again."""
    receipts.post(
        connection,
        tenant,
        [
            Posting(r.id, customer, r.received_on, r.reference or r.remittance[:200], tuple(a))
            for r, customer, a in batch
        ],
    )
    known = known or {}
    numbers: dict[str, str] = {}
    missing = []
    for _receipt, _customer, allocations in batch:
        for allocation in allocations:
            item = known.get(allocation.invoice_id)
            if item is None:
                missing.append(allocation.invoice_id)
            else:
                numbers[allocation.invoice_id] = item.number
    if missing:
        numbers.update(receipts.invoice_numbers(connection, tenant, missing))
    return [
        AuditEvent(
            "allocation",
            allocation.invoice_id,
            {
                "receipt": receipt.id,
                "invoice_id": allocation.invoice_id,
                "invoice": numbers.get(allocation.invoice_id),
                "customer_id": customer,
                "amount": str(allocation.amount.amount),
                "currency": allocation.amount.currency,
                "rule": receipt.rule if receipt.rule is not None else rule,
            },
            actor=actor,
        )
        for receipt, customer, allocations in batch
        for allocation in allocations
    ]


def _recorded(
    connection: Connection,
    tenant: str,
    receipt: Receipt | None = None,
    *,
    receipt_id: str = "",
    duplicate: bool = False,
    cancelled: Sequence[str] = (),
) -> PaymentRecorded:
    receipt = receipt or receipts.get(connection, tenant, receipt_id)
    assert receipt is not None
    allocations = receipts.allocations_of(connection, tenant, receipt.id)
    numbers = receipts.invoice_numbers(connection, tenant, [a.invoice_id for a in allocations])
    return PaymentRecorded(
        receipt.id,
        receipt.customer_id or "",
        [(numbers[a.invoice_id], a.amount) for a in allocations],
        receipt.unapplied,
        duplicate,
        list(cancelled),
    )


def apply_unapplied(app: App, receipt_id: str, invoice_numbers: Sequence[str] = ()) -> PaymentRecorded:
    """Allocate a receipt's unapplied cash now: to the named invoices, else in the tenant's order."""
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        receipt = _applied_receipt(connection, app.tenant, receipt_id)
        if receipt.customer_id is None:
            raise ProblemsFound([Problem(receipt_id, None, "customer", "nobody is known to have paid this yet")])
        _customer, invoice_ids = resolve_payer(
            connection, app.tenant, receipt.unapplied, receipt.customer_id, invoice_numbers
        )
        events = apply_receipt(connection, app.tenant, receipt, receipt.customer_id, invoice_ids, now, actor="person")
        cancelled = cancel_pointless_notices(connection, app.tenant, [receipt.customer_id], now, events)
        audit.append(connection, app.tenant, events, now)
        result = _recorded(connection, app.tenant, receipt_id=receipt_id, cancelled=cancelled)
        uow.commit()
    # Only what this call allocated: the receipt's earlier allocations are not news.
    result.allocations = [
        (str(e.payload["invoice"]), Money(Decimal(e.payload["amount"]), e.payload["currency"]))
        for e in events
        if e.kind == "allocation"
    ]
    return result


def _applied_receipt(connection: Connection, tenant: str, receipt_id: str) -> Receipt:
    receipt = receipts.get(connection, tenant, receipt_id, lock=True)
    if receipt is None:
        raise NotFound(f"no payment {receipt_id!r} in tenant {tenant!r}")
    if receipt.status != "applied":
        raise ProblemsFound([Problem(receipt_id, None, "status", f"is {receipt.status}, not applied")])
    return receipt


# --- reversals --------------------------------------------------------------------------------


@dataclass
class Reversal:
    receipt_id: str
    customer_id: str
    reopened: list[tuple[str, Money]]
    """(invoice number, amount no longer paid)."""


def reverse_payment(app: App, receipt_id: str, *, reason: str, actor: str = "person") -> Reversal:
    """A returned direct debit or a chargeback: the money is gone, so what it paid is open again.

    The invoices keep their dunning state; the next run reopens a closed one and dunning
    resumes at the level it had reached.
    """
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        receipt = _applied_receipt(connection, app.tenant, receipt_id)
        events, reopened = reverse_receipt(connection, app.tenant, receipt, reason, now, actor=actor)
        audit.append(connection, app.tenant, events, now)
        uow.commit()
    return Reversal(receipt_id, receipt.customer_id or "", reopened)


def reverse_receipt(
    connection: Connection, tenant: str, receipt: Receipt, reason: str, now: datetime, *, actor: str
) -> tuple[list[AuditEvent], list[tuple[str, Money]]]:
    """Undo every allocation of a receipt; returns the events and (invoice number, amount)."""
    allocations = receipts.allocations_of(connection, tenant, receipt.id)
    negative = tuple(Allocation(a.invoice_id, Money.zero(a.amount.currency) - a.amount) for a in allocations)
    receipts.post(
        connection,
        tenant,
        [Posting(receipt.id, receipt.customer_id or "", now.date(), f"reversal: {reason}"[:200], negative)],
        suffix="r",
    )
    receipts.settle(connection, tenant, receipt.id, status="reversed", reason=reason[:500])
    numbers = receipts.invoice_numbers(connection, tenant, [a.invoice_id for a in allocations])
    events = [
        AuditEvent(
            "reversal",
            a.invoice_id,
            {
                "receipt": receipt.id,
                "invoice_id": a.invoice_id,
                "invoice": numbers.get(a.invoice_id),
                "amount": str(-a.amount.amount),
                "currency": a.amount.currency,
                "reason": reason,
            },
            actor=actor,
        )
        for a in allocations
    ]
    events.append(
        AuditEvent(
            "payment",
            receipt.id,
            {"receipt": receipt.id, "action": "reversed", "reason": reason, "amount": str(receipt.amount.amount)},
            actor=actor,
        )
    )
    return events, [(numbers[a.invoice_id], a.amount) for a in allocations]


# --- money in flight --------------------------------------------------------------------------


def hold_money_in_flight(
    app: App,
    *,
    customer_id: str,
    amount: Money,
    until: date,
    invoice_numbers: Sequence[str] = (),
    note: str = "",
    receipt_id: str | None = None,
    actor: str = "pastdue",
) -> list[str]:
    """Pause dunning of the invoices a payment on its way would pay, until it arrives, fails
    or ``until`` passes (then the hold lapses, visibly). Returns the hold ids."""
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        hold_ids, events = place_money_in_flight(
            uow.connection,
            app.tenant,
            customer_id=customer_id,
            amount=amount,
            until=until,
            invoice_numbers=invoice_numbers,
            note=note,
            receipt_id=receipt_id,
            now=now,
            actor=actor,
        )
        cancel_pointless_notices(uow.connection, app.tenant, [customer_id], now, events)
        audit.append(uow.connection, app.tenant, events, now)
        uow.commit()
    return hold_ids


def place_money_in_flight(
    connection: Connection,
    tenant: str,
    *,
    customer_id: str,
    amount: Money,
    until: date,
    invoice_numbers: Sequence[str],
    note: str,
    receipt_id: str | None,
    now: datetime,
    actor: str,
) -> tuple[list[str], list[AuditEvent]]:
    _customer, invoice_ids = resolve_payer(connection, tenant, amount, customer_id, invoice_numbers)
    if invoice_ids is not None:
        items = receipts.open_items(connection, tenant, invoice_ids=invoice_ids)
    else:
        items = receipts.open_items(connection, tenant, customer_id=customer_id)
    covered, _rest = allocate(amount, ordered(items, allocation_order(connection, tenant)))
    if not covered:
        raise ProblemsFound(
            [Problem("payment", None, "amount", f"{customer_id} has no open invoice in {amount.currency} to hold")]
        )
    numbers = {i.invoice_id: i.number for i in items}
    hold_ids: list[str] = []
    events: list[AuditEvent] = []
    for allocation in covered:
        hold_id = holds.place(
            connection,
            tenant,
            customer_id=customer_id,
            invoice_id=allocation.invoice_id,
            reason=HoldReason.PAYMENT_IN_FLIGHT,
            note=note or f"{allocation.amount} on its way",
            until=until,
            now=now,
            receipt_id=receipt_id,
        )
        hold_ids.append(hold_id)
        events.append(
            AuditEvent(
                "hold",
                allocation.invoice_id,
                {
                    "hold": hold_id,
                    "action": "placed",
                    "customer_id": customer_id,
                    "invoice_id": allocation.invoice_id,
                    "invoice": numbers[allocation.invoice_id],
                    "reason": HoldReason.PAYMENT_IN_FLIGHT.value,
                    "amount": str(allocation.amount.amount),
                    "currency": allocation.amount.currency,
                    "receipt": receipt_id,
                    "until": until.isoformat(),
                    "note": note,
                },
                actor=actor,
            )
        )
    return hold_ids, events


def end_money_in_flight(
    connection: Connection, tenant: str, receipt_id: str, ended: str, now: datetime, *, actor: str = "pastdue"
) -> list[AuditEvent]:
    """The money arrived (``settled``) or will not (``failed``): its holds end."""
    return [
        AuditEvent(
            "hold",
            row.invoice_id or row.customer_id,
            {
                "hold": row.id,
                "action": ended,
                "customer_id": row.customer_id,
                "invoice_id": row.invoice_id,
                "receipt": receipt_id,
            },
            actor=actor,
        )
        for row in holds.end_for_receipt(connection, tenant, receipt_id, ended, now)
    ]


# --- the queue ----------------------------------------------------------------------------------


def cancel_pointless_notices(
    connection: Connection, tenant: str, customer_ids: Sequence[str], now: datetime, events: list[AuditEvent]
) -> list[str]:
    """Cancel waiting notices of these customers that no longer ask for anything (every
    invoice they name is paid, credited or on hold); appends their audit events."""
    waiting = outbox.waiting(connection, tenant, customer_ids)
    if not waiting:
        return []
    context = outbox.load_context(connection, tenant, {q.customer_id for q in waiting}, now.date())
    cancelled = []
    for queued in waiting:
        if open_notice_items(queued, context):
            continue
        reason = "every invoice of the notice is paid, credited or on hold"
        outbox.move(connection, tenant, queued.id, Status.CANCELLED, owner=None, error=reason)
        events.append(
            AuditEvent(
                "delivery",
                queued.id,
                {
                    "notice": queued.id,
                    "customer_id": queued.customer_id,
                    "channel": queued.channel,
                    "level": queued.level,
                    "outcome": "cancelled",
                    "reason": reason,
                },
            )
        )
        cancelled.append(queued.id)
    return cancelled


# --- reading -------------------------------------------------------------------------------------


def list_payments(app: App, *, unapplied_only: bool = False, customer_id: str | None = None) -> list[Receipt]:
    where, params = "r.status = 'applied'", []
    if customer_id is not None:
        where += " AND r.customer_id = ?"
        params.append(customer_id)
    with app.engine.connect() as connection:
        found = receipts.select_receipts(connection, app.tenant, where, params)
    return [r for r in found if not unapplied_only or r.unapplied.amount > 0]
