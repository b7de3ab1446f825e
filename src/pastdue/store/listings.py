"""Paged reads for the REST API: every listing walks one tenant's rows in key order.

Keyset pagination (``WHERE id > :after ORDER BY id LIMIT n``) rather than offsets: a page
costs the same at the millionth row as at the first, and rows added meanwhile neither
repeat nor vanish from a walk. Each function returns up to ``limit`` rows; callers ask for
one more than they show to learn whether another page follows. The same functions fetch
one object by its id (``only``), so that a listing and a detail never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from pastdue.core.money import Money
from pastdue.core.policy import Policy, policy_from_dict
from pastdue.errors import StoreError
from pastdue.store import receipts
from pastdue.store.access import ApiKey, list_keys
from pastdue.store.queries import NoticeRow
from pastdue.store.receipts import Receipt
from pastdue.store.sql import Raw
from pastdue.store.tables import audit_events, customers, holds, invoices, notices, policies, tenants


def customer_page(
    connection: Connection, tenant: str, *, after: str | None = None, limit: int = 100, only: Sequence[str] = ()
) -> list[dict[str, Any]]:
    c = customers.c
    query = select(
        c.id, c.name, c.email, c.phone, c.country, c.language, c.timezone, c.street, c.postal_code, c.city,
        c.kind, c.policy, c.exempt,
    ).where(c.tenant_id == tenant)  # fmt: skip
    if after is not None:
        query = query.where(c.id > after)
    if only:
        query = query.where(c.id.in_(list(only)))
    return [dict(row._mapping) for row in connection.execute(query.order_by(c.id).limit(limit))]


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    """What an invoice listing is narrowed to; ``status`` is ``open`` or ``paid``."""

    only: str | None = None
    customer_id: str | None = None
    status: str | None = None
    due_before: date | None = None
    due_after: date | None = None


def invoice_page(
    connection: Connection, tenant: str, where: InvoiceFilter, *, after: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Invoices with their open amount; ``due_before`` and ``due_after`` are exclusive."""
    c = invoices.c
    open_minor = c.amount_minor - c.paid_minor - c.credited_minor
    query = select(
        c.id, c.number, c.customer_id, c.currency, c.amount_minor, open_minor.label("open_minor"), c.issued_on,
        c.due_on, c.level, c.reached_on, c.next_review_on, c.closed_on,
    ).where(c.tenant_id == tenant)  # fmt: skip
    if after is not None:
        query = query.where(c.id > after)
    if where.only is not None:
        query = query.where(c.id == where.only)
    if where.customer_id is not None:
        query = query.where(c.customer_id == where.customer_id)
    if where.status == "open":
        query = query.where(open_minor > 0)
    elif where.status == "paid":
        query = query.where(open_minor <= 0)
    if where.due_before is not None:
        query = query.where(c.due_on < where.due_before)
    if where.due_after is not None:
        query = query.where(c.due_on > where.due_after)
    found = []
    for row in connection.execute(query.order_by(c.id).limit(limit)):
        data = dict(row._mapping)
        currency = data.pop("currency")
        data["amount"] = Money.of_minor(data.pop("amount_minor"), currency)
        data["open_amount"] = Money.of_minor(data.pop("open_minor"), currency)
        found.append(data)
    return found


def receipt_page(
    connection: Connection,
    tenant: str,
    *,
    after: str | None = None,
    limit: int = 100,
    only: str | None = None,
    statuses: Sequence[str] = (),
    customer_id: str | None = None,
    received_after: date | None = None,
    received_before: date | None = None,
) -> list[Receipt]:
    """Money in (payments and bank credits) in id order, of some statuses or all;
    ``received_after`` and ``received_before`` are exclusive."""
    where, params = ["1 = 1"], []
    raw = Raw(connection)
    if received_after is not None:
        where.append("r.received_on > ?")
        params.append(raw.to_db(received_after))
    if received_before is not None:
        where.append("r.received_on < ?")
        params.append(raw.to_db(received_before))
    if after is not None:
        where.append("r.id > ?")
        params.append(after)
    if only is not None:
        where.append("r.id = ?")
        params.append(only)
    if statuses:
        where.append(f"r.status IN ({', '.join('?' * len(statuses))})")
        params += list(statuses)
    if customer_id is not None:
        where.append("r.customer_id = ?")
        params.append(customer_id)
    return receipts.select_receipts(connection, tenant, " AND ".join(where), params, by_id=True, limit=limit)


def allocations_by_receipt(
    connection: Connection, tenant: str, receipt_ids: Sequence[str]
) -> dict[str, list[tuple[str, str, Money]]]:
    """(invoice id, invoice number, amount) each receipt pays now, net of reversals."""
    if not receipt_ids:
        return {}
    raw = Raw(connection)
    rows = raw.all(
        "SELECT p.receipt_id, p.invoice_id, i.number, p.currency, SUM(p.amount_minor) FROM payments p "
        "JOIN invoices i ON i.tenant_id = p.tenant_id AND i.id = p.invoice_id "
        f"WHERE p.tenant_id = ? AND p.receipt_id IN ({raw.marks(len(receipt_ids))}) "
        "GROUP BY p.receipt_id, p.invoice_id, i.number, p.currency HAVING SUM(p.amount_minor) <> 0 "
        "ORDER BY p.receipt_id, i.number",
        (tenant, *receipt_ids),
    )
    found: dict[str, list[tuple[str, str, Money]]] = {}
    for receipt_id, invoice_id, number, currency, minor in rows:
        found.setdefault(receipt_id, []).append((invoice_id, number, Money.of_minor(int(minor), currency)))
    return found


def notice_page(
    connection: Connection,
    tenant: str,
    *,
    after: str | None = None,
    limit: int = 100,
    only: str | None = None,
    status: str | None = None,
    customer_id: str | None = None,
    created_after: date | None = None,
    created_before: date | None = None,
) -> list[ListedNotice]:
    """Notices with their delivery; ``created_after`` and ``created_before`` are exclusive."""
    c = notices.c
    query = select(notices).where(c.tenant_id == tenant)
    if after is not None:
        query = query.where(c.id > after)
    if only is not None:
        query = query.where(c.id == only)
    if status is not None:
        query = query.where(c.status == status)
    if customer_id is not None:
        query = query.where(c.customer_id == customer_id)
    if created_after is not None:
        query = query.where(c.created_on > created_after)
    if created_before is not None:
        query = query.where(c.created_on < created_before)
    return [
        ListedNotice(
            NoticeRow(
                r.id, r.customer_id, r.channel, r.level, r.status, r.message_id, r.created_on, r.sent_at,
                tuple(sorted(number for _id, number, _level in json.loads(r.items))), r.contact, r.attempts,
                r.resends, r.error,
            ),
            r.provider_id, r.due_at, r.deadline, r.policy_name, r.policy_version,
        )
        for r in connection.execute(query.order_by(c.id).limit(limit))
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ListedNotice:
    """A notice as the API shows it: the row the CLI lists, and its delivery's particulars."""

    row: NoticeRow
    provider_id: str | None
    due_at: str | None
    """When the queue may next try it (pending, failed with retries left), or its lease's end."""
    deadline: date | None
    policy_name: str
    policy_version: int


def hold_page(
    connection: Connection,
    tenant: str,
    *,
    after: str | None = None,
    limit: int = 100,
    only: str | None = None,
    customer_id: str | None = None,
    invoice_id: str | None = None,
    active: bool | None = None,
) -> list[dict[str, Any]]:
    """Holds, running and ended; ``active`` narrows to those not ended (an expiry that has
    passed but not yet been lapsed by a run still counts as running, as it does for the run)."""
    c = holds.c
    query = select(
        c.id, c.customer_id, c.invoice_id, c.reason, c.note, c.until, c.created_at, c.released_at, c.ended,
        c.receipt_id,
    ).where(c.tenant_id == tenant)  # fmt: skip
    if after is not None:
        query = query.where(c.id > after)
    if only is not None:
        query = query.where(c.id == only)
    if customer_id is not None:
        query = query.where(c.customer_id == customer_id)
    if invoice_id is not None:
        query = query.where(c.invoice_id == invoice_id)
    if active is not None:
        query = query.where(c.released_at.is_(None) if active else c.released_at.is_not(None))
    return [dict(row._mapping) for row in connection.execute(query.order_by(c.id).limit(limit))]


def audit_page(
    connection: Connection,
    tenant: str,
    *,
    after: int | None = None,
    limit: int = 100,
    kind: str | None = None,
    subject: str | None = None,
    at_after: datetime | None = None,
    at_before: datetime | None = None,
) -> list[dict[str, Any]]:
    """Audit events in chain order, payload parsed; ``at_after`` and ``at_before`` are
    exclusive and compared in UTC, as the chain records its times."""
    c = audit_events.c
    query = select(c.seq, c.at, c.kind, c.actor, c.subject, c.payload, c.hash).where(c.tenant_id == tenant)
    if at_after is not None:
        query = query.where(c.at > _utc(at_after))
    if at_before is not None:
        query = query.where(c.at < _utc(at_before))
    if after is not None:
        query = query.where(c.seq > after)
    if kind is not None:
        query = query.where(c.kind == kind)
    if subject is not None:
        query = query.where(c.subject == subject)
    found = []
    for row in connection.execute(query.order_by(c.seq).limit(limit)):
        data = dict(row._mapping)
        data["payload"] = json.loads(data["payload"])
        found.append(data)
    return found


def invoice_ids_to_numbers(connection: Connection, tenant: str, ids: Sequence[str]) -> dict[str, str]:
    """Invoice id -> number for the ids that exist in the tenant (the services name invoices
    by number, the API by id)."""
    return receipts.invoice_numbers(connection, tenant, list(ids))


def _utc(moment: datetime) -> str:
    """A moment in the shape the audit chain stores (UTC ISO 8601): a naive one is UTC."""
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)).isoformat()


@dataclass(frozen=True, slots=True)
class ListedPolicy:
    policy: Policy
    digest: str
    applied_at: str
    default: bool


def policy_page(
    connection: Connection, tenant: str, *, after: str | None = None, limit: int = 100, only: str | None = None
) -> list[ListedPolicy]:
    """The newest version of each policy, in name order."""
    c = policies.c
    newest = select(c.name, func.max(c.version).label("version")).where(c.tenant_id == tenant)
    if after is not None:
        newest = newest.where(c.name > after)
    if only is not None:
        newest = newest.where(c.name == only)
    latest = newest.group_by(c.name).order_by(c.name).limit(limit).subquery()
    rows = connection.execute(
        select(c.name, c.version, c.body, c.digest, c.applied_at)
        .join(latest, (c.name == latest.c.name) & (c.version == latest.c.version))
        .where(c.tenant_id == tenant)
        .order_by(c.name)
    )
    default = connection.execute(
        select(tenants.c.default_policy).where(tenants.c.tenant_id == tenant)
    ).scalar_one_or_none()
    found = []
    for name, version, body, digest, applied_at in rows:
        policy, problems = policy_from_dict(json.loads(body), f"stored policy {name}")
        if policy is None:
            raise StoreError(f"stored policy {name} v{version} no longer parses: {problems[0]}")
        found.append(ListedPolicy(replace(policy, version=version), digest, applied_at, name == default))
    return found


def api_key_page(
    connection: Connection, tenant: str, *, after: str | None = None, limit: int = 100, only: str | None = None
) -> list[ApiKey]:
    """API keys (revoked ones too) in id order; never a secret or a hash."""
    return list_keys(connection, tenant, after=after, limit=limit, only=only)


def events_about(connection: Connection, tenant: str, subjects: Sequence[str]) -> list[dict[str, Any]]:
    """Audit events about any of ``subjects`` (a page of notices, say), in chain order."""
    if not subjects:
        return []
    c = audit_events.c
    query = select(c.seq, c.at, c.kind, c.actor, c.subject, c.payload, c.hash).where(
        c.tenant_id == tenant, c.subject.in_(list(subjects))
    )
    found = []
    for row in connection.execute(query.order_by(c.seq)):
        data = dict(row._mapping)
        data["payload"] = json.loads(data["payload"])
        found.append(data)
    return found
