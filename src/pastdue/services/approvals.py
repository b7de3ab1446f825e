"""People deciding about notices: approving or rejecting held-back levels, and settling
notices whose outcome a crash left unknown. Every decision is audited with who made it."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from pastdue.bootstrap import App
from pastdue.core.delivery import Status
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.store import audit, outbox
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work


def waiting(app: App, status: Status = Status.AWAITING_APPROVAL) -> list[dict[str, Any]]:
    with app.engine.connect() as connection:
        return [
            {
                "id": q.id,
                "customer_id": q.customer_id,
                "channel": q.channel,
                "level": q.level,
                "created_on": q.created_on.isoformat(),
                "invoices": [number for _id, number, _level in q.items],
                "status": q.status,
            }
            for q in outbox.by_status(connection, app.tenant, status)
        ]


def _decide(app: App, notice_id: str, expected: Status, to: Status, actor: str, event: dict[str, Any]) -> None:
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        current = outbox.by_id(uow.connection, app.tenant, notice_id, lock=True)
        if current is None:
            raise NotFound(f"notice {notice_id} does not exist")
        if current.status != expected:
            raise ProblemsFound([Problem(notice_id, None, "status", f"is {current.status}, not {expected.value}")])
        # Due from the notice's own day: a decision never delays it further.
        queued_at = datetime.combine(current.created_on, time(0), tzinfo=UTC)
        values: dict[str, Any] = {"due_at": min(now, queued_at)} if to is Status.PENDING else {}
        if to is Status.SENT:
            values["sent_at"] = now.isoformat()
        outbox.move(uow.connection, app.tenant, notice_id, to, owner=None, **values)
        payload = {"notice": notice_id, "customer_id": current.customer_id, "from": expected.value, "to": to.value}
        audit.append(
            uow.connection, app.tenant, [AuditEvent(event.pop("kind"), notice_id, payload | event, actor)], now
        )
        uow.commit()


def approve(app: App, notice_id: str, actor: str, note: str = "") -> None:
    """Release a notice of a level that requires approval into the delivery queue."""
    _decide(
        app,
        notice_id,
        Status.AWAITING_APPROVAL,
        Status.PENDING,
        actor,
        {"kind": "approval", "decision": "approved", "note": note},
    )


def reject(app: App, notice_id: str, actor: str, note: str = "") -> None:
    """Stop a notice for good; the invoices stay at their level."""
    _decide(
        app,
        notice_id,
        Status.AWAITING_APPROVAL,
        Status.REJECTED,
        actor,
        {"kind": "approval", "decision": "rejected", "note": note},
    )


RESOLUTIONS = {"sent": Status.SENT, "resend": Status.PENDING, "failed": Status.FAILED}


def resolve_unknown(app: App, notice_id: str, resolution: str, actor: str, note: str = "") -> None:
    """A person's answer for a notice whose send a crash interrupted: it arrived, send it
    again, or give it up. Never decided by pastdue alone for channels it cannot ask."""
    to = RESOLUTIONS[resolution]
    _decide(app, notice_id, Status.UNKNOWN, to, actor, {"kind": "resolution", "decision": resolution, "note": note})


RESENDABLE = frozenset({Status.FAILED, Status.SUPPRESSED})
"""Notices a person may send again: one that failed for good, and one suppressed for want of
a usable contact (after the contact was fixed). Sent, cancelled (paid) and rejected notices
stay as they are; waiting ones are on their way already."""


def resend(app: App, notice_id: str, actor: str, note: str = "", *, customer_id: str | None = None) -> None:
    """Put a failed or suppressed notice back in the delivery queue, due now.

    Delivery checks it again as it does every notice (still open? contact usable now? send
    window?), so a resend for a contact that is still unusable is suppressed again rather
    than sent. Its attempts start from zero, so that retries after a temporary failure get
    their full schedule; the earlier attempts stay in the audit log. ``customer_id``, when
    given, must be the notice's customer (a page acting for one customer touches no other's).
    """
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        current = outbox.by_id(uow.connection, app.tenant, notice_id, lock=True)
        if current is None or (customer_id is not None and current.customer_id != customer_id):
            raise NotFound(f"notice {notice_id} does not exist")
        if current.status not in RESENDABLE:
            allowed = " or ".join(sorted(s.value for s in RESENDABLE))
            raise ProblemsFound([Problem(notice_id, None, "status", f"is {current.status}, not {allowed}")])
        queue = uow.connection
        outbox.move(queue, app.tenant, notice_id, Status.PENDING, owner=None, due_at=now, attempts=0, error=None)
        payload = {
            "notice": notice_id,
            "customer_id": current.customer_id,
            "channel": current.channel,
            "level": current.level,
            "outcome": "resend requested",
            "from": current.status,
            "reason": note,
        }
        audit.append(uow.connection, app.tenant, [AuditEvent("delivery", notice_id, payload, actor)], now)
        uow.commit()
