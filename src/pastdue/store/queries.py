"""Read-side queries for listings and reports; they never write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from pastdue.core.money import Money
from pastdue.store.sql import Raw
from pastdue.store.tables import invoices, notices


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    number: str
    id: str
    customer_id: str
    amount: Money
    open_amount: Money
    issued_on: date
    due_on: date
    level: int
    next_review_on: date | None
    closed_on: date | None

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "customer_id": self.customer_id,
            "currency": self.amount.currency,
            "amount": str(self.amount.amount),
            "open_amount": str(self.open_amount.amount),
            "due_on": self.due_on.isoformat(),
            "level": self.level,
        }


def list_invoices(
    connection: Connection,
    tenant: str,
    *,
    open_only: bool = False,
    customer_id: str | None = None,
    number: str | None = None,
) -> Iterator[InvoiceRow]:
    c = invoices.c
    query = select(
        c.number,
        c.id,
        c.customer_id,
        c.currency,
        c.amount_minor,
        c.paid_minor,
        c.credited_minor,
        c.issued_on,
        c.due_on,
        c.level,
        c.next_review_on,
        c.closed_on,
    ).where(c.tenant_id == tenant)
    if open_only:
        query = query.where(c.amount_minor - c.paid_minor - c.credited_minor > 0)
    if customer_id is not None:
        query = query.where(c.customer_id == customer_id)
    if number is not None:
        query = query.where(c.number == number)
    query = query.order_by(c.due_on, c.number).execution_options(yield_per=5000)
    for r in connection.execute(query):
        amount = Money.of_minor(r.amount_minor, r.currency)
        open_amount = Money.of_minor(r.amount_minor - r.paid_minor - r.credited_minor, r.currency)
        yield InvoiceRow(
            r.number,
            r.id,
            r.customer_id,
            amount,
            open_amount,
            r.issued_on,
            r.due_on,
            r.level,
            r.next_review_on,
            r.closed_on,
        )


def open_balances(connection: Connection, tenant: str) -> Iterator[tuple[Money, date]]:
    """(open balance, due date) of every open invoice, aggregated per currency and date."""
    raw = Raw(connection)
    for currency, due_on, minor in raw.all(
        "SELECT currency, due_on, SUM(amount_minor - paid_minor - credited_minor) FROM invoices "
        "WHERE tenant_id = ? AND amount_minor - paid_minor - credited_minor > 0 "
        "GROUP BY currency, due_on",
        (tenant,),
    ):
        yield Money.of_minor(int(minor), currency), raw.to_date(due_on)  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: str
    customer_id: str
    channel: str
    level: int
    status: str
    message_id: str | None
    created_on: date
    sent_at: str | None
    invoices: tuple[str, ...]
    contact: str | None = None
    attempts: int = 0
    resends: int = 0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "level": self.level,
            "status": self.status,
            "message_id": self.message_id,
            "created_on": self.created_on.isoformat(),
            "sent_at": self.sent_at,
            "invoices": list(self.invoices),
            "contact": self.contact,
            "attempts": self.attempts,
            "resends": self.resends,
            "error": self.error,
        }


def list_notices(
    connection: Connection, tenant: str, *, as_of: date | None = None, status: str | None = None
) -> list[NoticeRow]:
    c = notices.c
    query = select(notices).where(c.tenant_id == tenant)
    if as_of is not None:
        query = query.where(c.created_on == as_of)
    if status is not None:
        query = query.where(c.status == status)
    rows = connection.execute(query.order_by(c.created_on, c.customer_id, c.channel))
    return [
        NoticeRow(
            r.id,
            r.customer_id,
            r.channel,
            r.level,
            r.status,
            r.message_id,
            r.created_on,
            r.sent_at,
            tuple(sorted(number for _id, number, _level in json.loads(r.items))),
            r.contact,
            r.attempts,
            r.resends,
            r.error,
        )
        for r in rows
    ]


def notices_of_invoice(connection: Connection, tenant: str, invoice_id: str) -> list[str]:
    """Ids of the notices that named the invoice, one per level it reached with a notice."""
    raw = Raw(connection)
    rows = raw.all(
        "SELECT notice_id FROM dunning_actions WHERE tenant_id = ? AND invoice_id = ? AND notice_id IS NOT NULL "
        "ORDER BY level",
        (tenant, invoice_id),
    )
    return [row[0] for row in rows]
