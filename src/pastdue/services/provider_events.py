"""Payment-provider events: money on its way, arrived, failed or refunded.

A provider (a card processor, a direct-debit service, a payment link) tells pastdue what
happens to a payment in signed webhook events. Each event is handled once: its id is
stored in the same transaction as its effect, so a retry or a replay of it does nothing.
Events may arrive out of order; a payment's state only moves forward
(``pending`` < ``succeeded`` | ``failed`` < ``refunded``), and an event that would move it
back is recorded as stale and changes nothing.

The event, as the provider (or an adapter in front of it) sends it::

    {"id": "evt_1", "type": "payment.succeeded", "created": 1782810000,
     "data": {"payment": "pay_123", "amount": "100.00", "currency": "EUR",
              "customer_id": "acme", "invoices": ["INV-2026-00001"], "reference": "...",
              "expected_by": "2026-07-05", "reason": "..."}}

- ``payment.pending``: a hold "payment in flight" on the invoices the amount covers until
  ``expected_by`` (default: a week after the event);
- ``payment.succeeded``: the payment is recorded and allocated; its holds end (settled).
  When it cannot be placed (unknown customer or invoice) it waits in the matching queue;
- ``payment.failed``: its holds end (failed), dunning resumes;
- ``payment.refunded``: a recorded payment is reversed; what it paid is open again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.core.money import Money, is_currency
from pastdue.errors import Problem, ProblemsFound
from pastdue.services.payments import (
    Incoming,
    cancel_pointless_notices,
    end_money_in_flight,
    place_money_in_flight,
    receipt_id_for,
    receipt_row,
    record_in,
    reverse_receipt,
)
from pastdue.store import audit, policies, receipts
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work
from pastdue.store.sql import Raw

SOURCE = "provider"
TYPES = {
    "payment.pending": "pending",
    "payment.succeeded": "applied",
    "payment.failed": "failed",
    "payment.refunded": "reversed",
}
_RANK = {None: 0, "pending": 1, "applied": 2, "failed": 2, "unmatched": 2, "reversed": 3}
PENDING_DAYS = 7


@dataclass(frozen=True)
class ProviderEvent:
    id: str
    type: str
    created: int
    payment: str
    amount: Money
    customer_id: str | None
    invoices: tuple[str, ...]
    reference: str
    expected_by: date | None
    reason: str

    @property
    def state(self) -> str:
        return TYPES[self.type]

    @property
    def created_on(self) -> date:
        return datetime.fromtimestamp(self.created, UTC).date()


@dataclass(frozen=True)
class EventOutcome:
    outcome: str
    """``processed``, ``duplicate``, ``stale`` or ``queued`` (waits for a person)."""
    detail: str
    receipt_id: str

    def as_json(self) -> dict[str, str]:
        return {"outcome": self.outcome, "detail": self.detail, "receipt": self.receipt_id}


def parse_event(data: Any, source: str = "event") -> ProviderEvent:
    """The event's fields, checked; every problem at once as ProblemsFound."""
    problems: list[Problem] = []

    def need(mapping: Any, key: str, kind: type, where: str) -> Any:
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if not isinstance(value, kind) or isinstance(value, bool) or value in ("", None):
            problems.append(Problem(source, None, f"{where}{key}", f"missing or not a {kind.__name__}"))
            return None
        return value

    event_id = need(data, "id", str, "")
    kind = need(data, "type", str, "")
    created = need(data, "created", int, "")
    body = data.get("data") if isinstance(data, dict) else None
    if not isinstance(body, dict):
        problems.append(Problem(source, None, "data", "missing or not an object"))
        body = {}
    payment = need(body, "payment", str, "data.")
    currency = need(body, "currency", str, "data.")
    amount_text = need(body, "amount", str, "data.")
    if kind is not None and kind not in TYPES:
        problems.append(Problem(source, None, "type", f"unknown event type {kind!r} (one of {', '.join(TYPES)})"))
    if currency is not None and not is_currency(currency):
        problems.append(Problem(source, None, "data.currency", f"unknown currency {currency!r}"))
    amount = None
    if amount_text is not None and currency is not None and is_currency(currency):
        try:
            amount = Money(Decimal(amount_text), currency)
            if not amount.amount.is_finite() or amount.amount <= 0 or amount.rounded() != amount:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(Problem(source, None, "data.amount", f"not a positive {currency} amount: {amount_text!r}"))
    invoices = body.get("invoices", [])
    if not isinstance(invoices, list) or not all(isinstance(i, str) for i in invoices):
        problems.append(Problem(source, None, "data.invoices", "not a list of invoice numbers"))
        invoices = []
    customer = body.get("customer_id")
    if customer is not None and not isinstance(customer, str):
        problems.append(Problem(source, None, "data.customer_id", "not a string"))
    expected_by = None
    if body.get("expected_by") is not None:
        try:
            expected_by = date.fromisoformat(str(body["expected_by"]))
        except ValueError:
            problems.append(Problem(source, None, "data.expected_by", "not a date (YYYY-MM-DD)"))
    if problems:
        raise ProblemsFound(problems)
    assert amount is not None
    return ProviderEvent(
        event_id,
        kind,
        created,
        payment,
        amount,
        customer or None,
        tuple(invoices),
        str(body.get("reference") or ""),
        expected_by,
        str(body.get("reason") or ""),
    )


def handle_event(app: App, event: ProviderEvent) -> EventOutcome:
    """Apply one provider event exactly once; concurrent deliveries of it take turns."""
    now = app.clock()
    receipt_id = receipt_id_for(SOURCE, event.payment)
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        policies.ensure_tenant(connection, app.tenant, now)
        receipts.lock_money_in(connection, app.tenant)
        if not _claim(connection, app.tenant, event, now):
            return EventOutcome("duplicate", "this event was handled before", receipt_id)
        events: list[AuditEvent] = []
        outcome = _apply(connection, app.tenant, event, receipt_id, now, events)
        _settle_claim(connection, app.tenant, event.id, f"{outcome.outcome}: {outcome.detail}")
        events.append(
            AuditEvent(
                "provider",
                receipt_id,
                {
                    "event": event.id,
                    "type": event.type,
                    "created": event.created,
                    "payment": event.payment,
                    "outcome": outcome.outcome,
                    "detail": outcome.detail,
                },
                actor="payment provider",
            )
        )
        audit.append(connection, app.tenant, events, now)
        uow.commit()
    return outcome


def _claim(connection: Connection, tenant: str, event: ProviderEvent, now: datetime) -> bool:
    inserted = Raw(connection).run(
        "INSERT INTO webhook_events (tenant_id, id, type, created, payment, received_at, outcome) "
        "VALUES (?, ?, ?, ?, ?, ?, '') ON CONFLICT DO NOTHING",
        (tenant, event.id, event.type, event.created, event.payment, now.isoformat()),
    )
    return inserted == 1


def _settle_claim(connection: Connection, tenant: str, event_id: str, outcome: str) -> None:
    Raw(connection).run(
        "UPDATE webhook_events SET outcome = ? WHERE tenant_id = ? AND id = ?", (outcome[:300], tenant, event_id)
    )


def _apply(
    connection: Connection, tenant: str, event: ProviderEvent, receipt_id: str, now: datetime, events: list[AuditEvent]
) -> EventOutcome:
    current = receipts.get(connection, tenant, receipt_id)
    state = current.status if current is not None else None
    target = event.state
    if _RANK.get(state, 0) >= _RANK[target] or (state == "failed" and target == "reversed"):
        return EventOutcome("stale", f"the payment is {state} already; a {event.type} changes nothing", receipt_id)
    incoming = Incoming(
        event.amount,
        event.created_on,
        event.customer_id,
        event.invoices,
        event.reference,
        SOURCE,
        event.payment,
    )
    if target == "reversed" and current is not None and state == "applied":
        reversal, _reopened = reverse_receipt(
            connection, tenant, current, event.reason or "refunded by the provider", now, actor="payment provider"
        )
        events += reversal
        return EventOutcome("processed", "refunded: what it paid is open again", receipt_id)
    try:
        customer = record_in(
            connection,
            tenant,
            incoming,
            receipt_id,
            now,
            events,
            actor="payment provider",
            status="applied" if target == "applied" else target,
        )
    except ProblemsFound as exc:
        reason = "; ".join(p.message for p in exc.problems)
        if target != "applied":
            return EventOutcome("stale", f"nothing to hold or end: {reason}", receipt_id)
        _queue(connection, tenant, incoming, receipt_id, reason, now, events)
        return EventOutcome("queued", f"money arrived that pastdue cannot place: {reason}", receipt_id)
    if target == "pending":
        until = event.expected_by or event.created_on + timedelta(days=PENDING_DAYS)
        _holds, placed = place_money_in_flight(
            connection,
            tenant,
            customer_id=customer,
            amount=event.amount,
            until=until,
            invoice_numbers=event.invoices,
            note=f"payment {event.payment} pending at the provider",
            receipt_id=receipt_id,
            now=now,
            actor="payment provider",
        )
        events += placed
        cancel_pointless_notices(connection, tenant, [customer], now, events)
        return EventOutcome("processed", f"payment in flight until {until.isoformat()}", receipt_id)
    if target in ("failed", "reversed"):
        events += end_money_in_flight(connection, tenant, receipt_id, "failed", now, actor="payment provider")
        return EventOutcome("processed", f"{event.type}: dunning resumes", receipt_id)
    cancel_pointless_notices(connection, tenant, [customer], now, events)
    return EventOutcome("processed", "payment recorded and allocated", receipt_id)


def _queue(
    connection: Connection,
    tenant: str,
    incoming: Incoming,
    receipt_id: str,
    reason: str,
    now: datetime,
    events: list[AuditEvent],
) -> None:
    """Money that arrived for an unknown customer or invoice: a person decides (``matches``)."""
    remittance = " ".join((incoming.reference, *incoming.invoice_numbers)).strip()
    row = receipt_row(tenant, receipt_id, incoming, None, "unmatched", None, now, reason=reason, remittance=remittance)
    if receipts.get(connection, tenant, receipt_id) is None:
        receipts.insert(connection, [row])
    else:
        receipts.settle(connection, tenant, receipt_id, status="unmatched", reason=reason[:500])
    events.append(AuditEvent("match", receipt_id, {"receipt": receipt_id, "status": "unmatched", "reason": reason}))
