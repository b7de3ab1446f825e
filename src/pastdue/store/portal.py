"""What the customer portal reads and records: one customer's profile, open invoices and
holds, and the payment-plan requests it files.

Every query names the customer as well as the tenant: the portal shows one customer, and
a query that forgot the customer would be the way another's data leaked into a page.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pastdue.store.tables import audit_events, customers, holds, invoices, notices, payment_plan_requests


@dataclass(frozen=True, slots=True)
class PortalCustomer:
    id: str
    name: str
    language: str
    country: str
    policy: str | None


@dataclass(frozen=True, slots=True)
class SentNotice:
    id: str
    created_on: date
    channel: str
    level: int


@dataclass(frozen=True, slots=True)
class ActiveHold:
    id: str
    invoice_id: str | None
    reason: str
    until: date | None


def customer(connection: Connection, tenant: str, customer_id: str) -> PortalCustomer | None:
    c = customers.c
    row = connection.execute(
        select(c.id, c.name, c.language, c.country, c.policy).where(c.tenant_id == tenant, c.id == customer_id)
    ).first()
    return PortalCustomer(row.id, row.name, row.language, row.country, row.policy) if row is not None else None


def active_holds(connection: Connection, tenant: str, customer_id: str, today: date) -> list[ActiveHold]:
    """The customer's holds still running on ``today``, on the customer or its invoices."""
    h = holds.c
    rows = connection.execute(
        select(h.id, h.invoice_id, h.reason, h.until)
        .where(h.tenant_id == tenant, h.customer_id == customer_id, h.released_at.is_(None))
        .where(h.until.is_(None) | (h.until >= today))
        .order_by(h.created_at, h.id)
    )
    return [ActiveHold(r.id, r.invoice_id, r.reason, r.until) for r in rows]


def invoice_of_customer(connection: Connection, tenant: str, customer_id: str, number: str) -> str | None:
    """The id of the customer's invoice with this number; ``None`` also when the number
    belongs to another customer, so that the portal cannot tell the two apart."""
    i = invoices.c
    return connection.execute(
        select(i.id).where(i.tenant_id == tenant, i.customer_id == customer_id, i.number == number)
    ).scalar_one_or_none()


def add_plan_request(
    connection: Connection, tenant: str, *, customer_id: str, instalments: int, note: str, now: datetime
) -> str:
    request_id = str(uuid.uuid4())
    connection.execute(
        insert(payment_plan_requests).values(
            tenant_id=tenant,
            id=request_id,
            customer_id=customer_id,
            instalments=instalments,
            note=note,
            status="open",
            created_at=now.isoformat(),
        )
    )
    return request_id


def open_plan_requests(connection: Connection, tenant: str, customer_id: str) -> int:
    p = payment_plan_requests.c
    rows = connection.execute(
        select(p.id).where(p.tenant_id == tenant, p.customer_id == customer_id, p.status == "open")
    ).all()
    return len(rows)


def portal_events(connection: Connection, tenant: str, customer_id: str) -> list[dict[str, Any]]:
    a = audit_events.c
    rows = connection.execute(
        select(a.at, a.payload)
        .where(a.tenant_id == tenant, a.subject == customer_id, a.kind == "portal")
        .order_by(a.seq)
    )
    return [{"at": r.at, **json.loads(r.payload)} for r in rows]


def sent_notices(
    connection: Connection, tenant: str, customer_id: str, channels: list[str], limit: int
) -> list[SentNotice]:
    """The customer's sent notices on these channels, newest first (read through the
    index on customer and ``sent_at``)."""
    n = notices.c
    rows = connection.execute(
        select(n.id, n.created_on, n.channel, n.level)
        .where(n.tenant_id == tenant, n.customer_id == customer_id, n.status == "sent", n.channel.in_(channels))
        .order_by(n.sent_at.desc(), n.id)
        .limit(limit)
    )
    return [SentNotice(r.id, r.created_on, r.channel, r.level) for r in rows]


def settle_plan_request(connection: Connection, tenant: str, customer_id: str, request_id: str, status: str) -> bool:
    """Mark an open request of this customer decided; ``False`` when there is no such open request."""
    p = payment_plan_requests.c
    moved = connection.execute(
        update(payment_plan_requests)
        .where(p.tenant_id == tenant, p.customer_id == customer_id, p.id == request_id, p.status == "open")
        .values(status=status)
    )
    return moved.rowcount == 1
