"""Holds: pausing and resuming dunning of an invoice or a customer, each change audited."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.core.model import HoldReason
from pastdue.store import audit, holds
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work


def place_hold(
    app: App,
    *,
    reason: HoldReason,
    invoice_number: str | None = None,
    customer_id: str | None = None,
    until: date | None = None,
    note: str = "",
    actor: str = "pastdue",
) -> str:
    """Pause dunning of one invoice or a whole customer; returns the hold id. ``actor``
    names who asked, for the audit trail (a dashboard user's address, say)."""
    if (invoice_number is None) == (customer_id is None):
        raise ValueError("name either an invoice number or a customer, not both")
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        invoice_id = None
        if invoice_number is not None:
            invoice_id, customer_id = holds.invoice_by_number(connection, app.tenant, invoice_number)
        assert customer_id is not None
        hold_id = holds.place(
            connection,
            app.tenant,
            customer_id=customer_id,
            invoice_id=invoice_id,
            reason=reason,
            note=note,
            until=until,
            now=now,
        )
        audit.append(
            connection,
            app.tenant,
            [
                AuditEvent(
                    "hold",
                    invoice_id or customer_id,
                    {
                        "hold": hold_id,
                        "action": "placed",
                        "customer_id": customer_id,
                        "invoice_id": invoice_id,
                        "reason": reason.value,
                        "note": note,
                        "until": until.isoformat() if until else None,
                    },
                    actor,
                )
            ],
            now,
        )
        uow.commit()
    return hold_id


def release_hold(app: App, hold_id: str, actor: str = "pastdue") -> None:
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        customer_id, invoice_id = holds.release(uow.connection, app.tenant, hold_id, now)
        audit.append(
            uow.connection,
            app.tenant,
            [
                AuditEvent(
                    "hold",
                    invoice_id or customer_id,
                    {
                        "hold": hold_id,
                        "action": "released",
                        "customer_id": customer_id,
                        "invoice_id": invoice_id,
                    },
                    actor,
                )
            ],
            now,
        )
        uow.commit()


def active_holds(app: App, today: date) -> list[dict[str, object]]:
    with app.engine.connect() as connection:
        return holds.active(connection, app.tenant, today)


def lapse_holds(connection: Connection, tenant: str, today: date, now: datetime) -> list[AuditEvent]:
    """Holds whose last day has passed end as ``lapsed``: money promised in flight that never
    came is then on record, and dunning resumes on the next review."""
    return [
        AuditEvent(
            "hold",
            row.invoice_id or row.customer_id,
            {
                "hold": row.id,
                "action": "lapsed",
                "customer_id": row.customer_id,
                "invoice_id": row.invoice_id,
                "reason": row.reason,
                "until": row.until.isoformat() if isinstance(row.until, date) else row.until,
            },
        )
        for row in holds.lapse(connection, tenant, today, now)
    ]
