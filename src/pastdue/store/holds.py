"""Holds: pauses on an invoice or a whole customer, with a reason and an optional end."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from pastdue.core.model import HoldReason
from pastdue.errors import NotFound
from pastdue.store.policies import NEEDS_REVIEW
from pastdue.store.tables import customers, holds, invoices


def invoice_by_number(connection: Connection, tenant: str, number: str) -> tuple[str, str]:
    """(invoice id, customer id) for an invoice number, or NotFound."""
    row = connection.execute(
        select(invoices.c.id, invoices.c.customer_id).where(invoices.c.tenant_id == tenant, invoices.c.number == number)
    ).first()
    if row is None:
        raise NotFound(f"no invoice numbered {number!r} in tenant {tenant!r}")
    return row.id, row.customer_id


def place(
    connection: Connection,
    tenant: str,
    *,
    customer_id: str,
    invoice_id: str | None,
    reason: HoldReason,
    note: str,
    until: date | None,
    now: datetime,
    receipt_id: str | None = None,
) -> str:
    exists = connection.execute(
        select(customers.c.id).where(customers.c.tenant_id == tenant, customers.c.id == customer_id)
    ).first()
    if exists is None:
        raise NotFound(f"no customer {customer_id!r} in tenant {tenant!r}")
    hold_id = str(uuid.uuid4())
    connection.execute(
        insert(holds).values(
            tenant_id=tenant,
            id=hold_id,
            customer_id=customer_id,
            invoice_id=invoice_id,
            reason=reason.value,
            note=note,
            until=until,
            created_at=now.isoformat(),
            receipt_id=receipt_id,
        )
    )
    return hold_id


def release(connection: Connection, tenant: str, hold_id: str, now: datetime) -> tuple[str, str | None]:
    """End a hold now and bring what it covered back into review; returns what it covered."""
    row = connection.execute(
        select(holds.c.customer_id, holds.c.invoice_id).where(
            holds.c.tenant_id == tenant, holds.c.id == hold_id, holds.c.released_at.is_(None)
        )
    ).first()
    if row is None:
        raise NotFound(f"no active hold {hold_id!r} in tenant {tenant!r}")
    connection.execute(
        update(holds)
        .where(holds.c.tenant_id == tenant, holds.c.id == hold_id)
        .values(released_at=now.isoformat(), ended="released")
    )
    scope = "id = :invoice" if row.invoice_id else "customer_id = :customer"
    connection.execute(
        text(
            f"UPDATE invoices SET next_review_on = issued_on WHERE tenant_id = :tenant AND {scope} AND {NEEDS_REVIEW}"
        ),
        {"tenant": tenant, "invoice": row.invoice_id, "customer": row.customer_id},
    )
    return row.customer_id, row.invoice_id


def active(connection: Connection, tenant: str, today: date) -> list[dict[str, object]]:
    rows = connection.execute(
        select(holds)
        .where(holds.c.tenant_id == tenant, holds.c.released_at.is_(None))
        .where((holds.c.until.is_(None)) | (holds.c.until >= today))
        .order_by(holds.c.created_at)
    )
    return [
        {
            "id": r.id,
            "customer_id": r.customer_id,
            "invoice_id": r.invoice_id,
            "reason": r.reason,
            "note": r.note,
            "until": r.until.isoformat() if r.until else None,
        }
        for r in rows
    ]


def end_for_receipt(connection: Connection, tenant: str, receipt_id: str, ended: str, now: datetime) -> list[Any]:
    """End the holds waiting for this money (``settled`` or ``failed``); returns them."""
    return _end(connection, tenant, (holds.c.receipt_id == receipt_id), ended, now)


def lapse(connection: Connection, tenant: str, today: date, now: datetime) -> list[Any]:
    """Holds whose last day has passed end as ``lapsed``, so that it shows and is audited."""
    return _end(connection, tenant, (holds.c.until < today), "lapsed", now)


def _end(connection: Connection, tenant: str, condition: Any, ended: str, now: datetime) -> list[Any]:
    rows = list(
        connection.execute(
            select(holds.c.id, holds.c.customer_id, holds.c.invoice_id, holds.c.reason, holds.c.until)
            .where(holds.c.tenant_id == tenant, holds.c.released_at.is_(None), condition)
            .order_by(holds.c.created_at, holds.c.id)
        )
    )
    if not rows:
        return rows
    ids = [r.id for r in rows]
    connection.execute(
        update(holds)
        .where(holds.c.tenant_id == tenant, holds.c.id.in_(ids))
        .values(released_at=now.isoformat(), ended=ended)
    )
    for row in rows:
        scope = "id = :invoice" if row.invoice_id else "customer_id = :customer"
        connection.execute(
            text(
                f"UPDATE invoices SET next_review_on = issued_on "
                f"WHERE tenant_id = :tenant AND {scope} AND {NEEDS_REVIEW}"
            ),
            {"tenant": tenant, "invoice": row.invoice_id, "customer": row.customer_id},
        )
    return rows
