"""The delivery queue: notices claimed, leased, moved along and settled.

A notice row is its own outbox entry: the run writes it in the transaction that decides it,
and the queue moves it pending -> claimed -> sending -> a final status. ``due_at`` orders
the queue and, while a worker holds a row, is its lease expiry; so one index serves both
"what is due" and "whose lease ran out". PostgreSQL claims with ``FOR UPDATE SKIP LOCKED``
so that any number of workers share the queue; SQLite serialises claims with its
``BEGIN IMMEDIATE`` write lock.

Every write that settles a row is guarded by the worker's lease (``lease_owner``): a worker
whose lease was taken over can no longer record anything for that row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from pastdue.core.delivery import ContactFlag, Status
from pastdue.store.database import is_postgres
from pastdue.store.sql import Raw, stamp

_COLUMNS = (
    "id, customer_id, channel, level, created_on, policy_name, policy_version, items, deadline, "
    "attempts, contact, resends, status, message_id"
)


@dataclass(slots=True)
class Queued:
    """A notice as the queue holds it."""

    id: str
    customer_id: str
    channel: str
    level: int
    created_on: date
    policy_name: str
    policy_version: int
    items: list[tuple[str, str, int]]
    """(invoice id, invoice number, level) of each invoice the notice is about."""
    deadline: date | None
    attempts: int
    contact: str | None
    resends: int
    status: str
    message_id: str | None


def _queued(raw: Raw, row: Sequence[Any]) -> Queued:
    return Queued(
        id=row[0],
        customer_id=row[1],
        channel=row[2],
        level=row[3],
        created_on=raw.to_date(row[4]),  # type: ignore[arg-type]
        policy_name=row[5],
        policy_version=row[6],
        items=[(i, n, lv) for i, n, lv in json.loads(row[7])],
        deadline=raw.to_date(row[8]),
        attempts=row[9],
        contact=row[10],
        resends=row[11],
        status=row[12],
        message_id=row[13],
    )


def claim(
    connection: Connection, tenant: str, now: datetime, owner: str, limit: int, lease_until: datetime
) -> list[Queued]:
    """Lease up to ``limit`` due notices to ``owner``, oldest first.

    Ordered by ``due_at`` alone, which the (tenant, status, due_at) index yields as it is: a
    tie-break on the id would sort every due row of a run (they share one ``due_at``).
    """
    raw = Raw(connection)
    if raw.pg:
        # A materialised CTE picks the rows once; as a plain subquery the planner may run it
        # again per row and claim far more than ``limit``.
        rows = raw.all(
            "WITH picked AS MATERIALIZED (SELECT id FROM notices WHERE tenant_id = ? AND status = 'pending' "
            "AND due_at <= ? ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED) "
            "UPDATE notices n SET status = 'claimed', lease_owner = ?, due_at = ? FROM picked "
            f"WHERE n.tenant_id = ? AND n.id = picked.id RETURNING {_prefixed('n.')}",
            (tenant, stamp(now), limit, owner, stamp(lease_until), tenant),
        )
    else:
        rows = raw.all(
            f"SELECT {_COLUMNS} FROM notices WHERE tenant_id = ? AND status = 'pending' AND due_at <= ? "
            "ORDER BY due_at LIMIT ?",
            (tenant, stamp(now), limit),
        )
        raw.many(
            "UPDATE notices SET status = 'claimed', lease_owner = ?, due_at = ? WHERE tenant_id = ? AND id = ?",
            [(owner, stamp(lease_until), tenant, row[0]) for row in rows],
        )
    claimed = [_queued(raw, row) for row in rows]
    claimed.sort(key=lambda q: q.id)
    return claimed


def expired(connection: Connection, tenant: str, now: datetime, limit: int) -> list[Queued]:
    """Claimed or sending notices whose worker's lease ran out (the worker died or hung)."""
    raw = Raw(connection)
    lock = " FOR UPDATE SKIP LOCKED" if raw.pg else ""
    rows = raw.all(
        f"SELECT {_COLUMNS} FROM notices WHERE tenant_id = ? AND status IN ('claimed', 'sending') "
        f"AND due_at < ? ORDER BY due_at LIMIT ?{lock}",
        (tenant, stamp(now), limit),
    )
    return [_queued(raw, row) for row in rows]


def _prefixed(prefix: str) -> str:
    return ", ".join(prefix + name.strip() for name in _COLUMNS.split(","))


def move(
    connection: Connection,
    tenant: str,
    notice_id: str,
    status: Status,
    *,
    owner: str | None,
    due_at: datetime | None = None,
    **values: Any,
) -> bool:
    """Set a notice's status (and other columns); ``False`` when ``owner`` no longer holds it.

    ``owner=None`` is for rows nobody holds (expired leases, approvals, operator decisions);
    such moves are guarded by the caller's row lock or status check instead.
    """
    raw = Raw(connection)
    assignments = ["status = ?", "due_at = ?"]
    params: list[Any] = [status.value, stamp(due_at) if due_at is not None else None]
    if status not in (Status.CLAIMED, Status.SENDING):
        assignments.append("lease_owner = NULL")
    for name, value in values.items():
        assignments.append(f"{name} = ?")
        params.append(raw.to_db(value) if isinstance(value, date) and not isinstance(value, datetime) else value)
    sql = f"UPDATE notices SET {', '.join(assignments)} WHERE tenant_id = ? AND id = ?"
    params += [tenant, notice_id]
    if owner is not None:
        sql += " AND lease_owner = ? AND status IN ('claimed', 'sending')"
        params.append(owner)
    return raw.run(sql, params) == 1


def release(connection: Connection, tenant: str, notice_id: str, owner: str, now: datetime) -> None:
    """Hand a claimed (not yet sending) notice back to the queue, due at once."""
    Raw(connection).run(
        "UPDATE notices SET status = 'pending', lease_owner = NULL, due_at = ? WHERE tenant_id = ? AND id = ? "
        "AND lease_owner = ? AND status = 'claimed'",
        (stamp(now), tenant, notice_id, owner),
    )


def relax_commits(connection: Connection, relaxed: bool) -> None:
    """Let PostgreSQL acknowledge this connection's commits before they reach the disk, or stop.

    Safe wherever a lost commit (only a database crash can lose one) leaves a state that
    recovery handles correctly; it makes a commit ten times cheaper. Turned off again before
    the connection goes back to the pool.
    """
    if is_postgres(connection):
        connection.exec_driver_sql(f"SET synchronous_commit TO {'OFF' if relaxed else 'DEFAULT'}")
        connection.commit()


def durable_commit(connection: Connection) -> None:
    """This transaction's commit reaches the disk before it is acknowledged, whatever the session says."""
    raw = Raw(connection)
    if raw.pg:
        raw.run("SET LOCAL synchronous_commit TO ON")


def by_id(connection: Connection, tenant: str, notice_id: str, *, lock: bool = False) -> Queued | None:
    raw = Raw(connection)
    suffix = " FOR UPDATE" if lock and raw.pg else ""
    rows = raw.all(f"SELECT {_COLUMNS} FROM notices WHERE tenant_id = ? AND id = ?{suffix}", (tenant, notice_id))
    return _queued(raw, rows[0]) if rows else None


def by_status(connection: Connection, tenant: str, status: Status) -> list[Queued]:
    raw = Raw(connection)
    rows = raw.all(
        f"SELECT {_COLUMNS} FROM notices WHERE tenant_id = ? AND status = ? ORDER BY created_on, customer_id, channel",
        (tenant, status.value),
    )
    return [_queued(raw, row) for row in rows]


def waiting(connection: Connection, tenant: str, customer_ids: Iterable[str]) -> list[Queued]:
    """Notices of these customers not yet handed to a channel (pending or awaiting approval)."""
    raw = Raw(connection)
    ids = sorted(set(customer_ids))
    found: list[Queued] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = raw.all(
            f"SELECT {_COLUMNS} FROM notices WHERE tenant_id = ? AND status IN ('pending', 'awaiting_approval') "
            f"AND customer_id IN ({raw.marks(len(chunk))}) ORDER BY created_on, customer_id, channel",
            (tenant, *chunk),
        )
        found += [_queued(raw, row) for row in rows]
    return found


# --- what a batch of notices needs to know at sending time ----------------------------


@dataclass(slots=True)
class CustomerRow:
    id: str
    name: str
    email: str
    phone: str
    country: str
    language: str
    timezone: str
    street: str
    postal_code: str
    city: str
    kind: str
    exempt: bool


@dataclass(slots=True)
class InvoiceRow:
    id: str
    customer_id: str
    number: str
    currency: str
    amount_minor: int
    open_minor: int
    issued_on: date
    due_on: date
    level: int


@dataclass(slots=True)
class SiblingRow:
    """Another notice of the same customer: for channels taken and contact caps."""

    id: str
    channel: str
    created_on: date
    status: str
    sent_at: str | None


@dataclass(slots=True)
class Context:
    """Everything about a batch's customers that decides and fills their notices."""

    customers: dict[str, CustomerRow] = field(default_factory=dict)
    invoices: dict[str, list[InvoiceRow]] = field(default_factory=dict)
    held_invoices: set[str] = field(default_factory=set)
    held_customers: set[str] = field(default_factory=set)
    siblings: dict[str, list[SiblingRow]] = field(default_factory=dict)
    flags: dict[tuple[str, str], ContactFlag] = field(default_factory=dict)


def load_context(connection: Connection, tenant: str, customer_ids: Iterable[str], today: date) -> Context:
    raw = Raw(connection)
    ids = sorted(set(customer_ids))
    context = Context()
    if not ids:
        return context
    marks = raw.marks(len(ids))
    for row in raw.all(
        "SELECT id, name, email, phone, country, language, timezone, street, postal_code, city, kind, exempt "
        f"FROM customers WHERE tenant_id = ? AND id IN ({marks})",
        (tenant, *ids),
    ):
        customer = context.customers[row[0]] = CustomerRow(*row)
        customer.exempt = bool(customer.exempt)  # SQLite answers 0 or 1
    for row in raw.all(
        "SELECT id, customer_id, number, currency, amount_minor, amount_minor - paid_minor - credited_minor, "
        f"issued_on, due_on, level FROM invoices WHERE tenant_id = ? AND customer_id IN ({marks})",
        (tenant, *ids),
    ):
        issued_on, due_on = raw.to_date(row[6]), raw.to_date(row[7])
        assert issued_on is not None and due_on is not None
        invoice = InvoiceRow(row[0], row[1], row[2], row[3], row[4], row[5], issued_on, due_on, row[8])
        context.invoices.setdefault(invoice.customer_id, []).append(invoice)
    for customer_id, invoice_id, until in raw.all(
        f"SELECT customer_id, invoice_id, until FROM holds WHERE tenant_id = ? AND customer_id IN ({marks}) "
        "AND released_at IS NULL",
        (tenant, *ids),
    ):
        until_day = raw.to_date(until)
        if until_day is not None and until_day < today:
            continue
        if invoice_id is None:
            context.held_customers.add(customer_id)
        else:
            context.held_invoices.add(invoice_id)
    for row in raw.all(
        f"SELECT customer_id, id, channel, created_on, status, sent_at FROM notices WHERE tenant_id = ? "
        f"AND customer_id IN ({marks})",
        (tenant, *ids),
    ):
        context.siblings.setdefault(row[0], []).append(SiblingRow(row[1], row[2], raw.to_date(row[3]), row[4], row[5]))  # type: ignore[arg-type]
    addresses = sorted(
        {a for c in context.customers.values() for a in (*split_contacts(c.email), *split_contacts(c.phone))}
    )
    if addresses:
        for channel, address, flag in raw.all(
            f"SELECT channel, address, flag FROM contact_flags WHERE tenant_id = ? AND address IN "
            f"({raw.marks(len(addresses))})",
            (tenant, *addresses),
        ):
            context.flags[(channel, address)] = ContactFlag(flag)
    return context


def split_contacts(field_value: str) -> tuple[str, ...]:
    """A contact column may hold several addresses, separated by ``;``, in order of preference."""
    return tuple(part.strip() for part in field_value.split(";") if part.strip())


# --- contact flags --------------------------------------------------------------------


def set_flag(
    connection: Connection,
    tenant: str,
    channel: str,
    address: str,
    flag: ContactFlag | None,
    reason: str,
    now: datetime,
) -> None:
    """Record (or, with ``None``, forget) what is known about one address."""
    raw = Raw(connection)
    raw.run("DELETE FROM contact_flags WHERE tenant_id = ? AND channel = ? AND address = ?", (tenant, channel, address))
    if flag is not None:
        raw.run(
            "INSERT INTO contact_flags (tenant_id, channel, address, flag, reason, at) VALUES (?, ?, ?, ?, ?, ?)",
            (tenant, channel, address, flag.value, reason[:500], stamp(now)),
        )


def list_flags(connection: Connection, tenant: str) -> list[dict[str, str]]:
    raw = Raw(connection)
    return [
        {"channel": c, "address": a, "flag": f, "reason": r, "at": at}
        for c, a, f, r, at in raw.all(
            "SELECT channel, address, flag, reason, at FROM contact_flags WHERE tenant_id = ? "
            "ORDER BY channel, address",
            (tenant,),
        )
    ]


# --- the tenant's profile ---------------------------------------------------------------


def profile(connection: Connection, tenant: str) -> dict[str, Any]:
    rows = Raw(connection).all("SELECT profile FROM tenants WHERE tenant_id = ?", (tenant,))
    return json.loads(rows[0][0]) if rows and rows[0][0] else {}


def save_profile(connection: Connection, tenant: str, values: dict[str, Any]) -> None:
    Raw(connection).run(
        "UPDATE tenants SET profile = ? WHERE tenant_id = ?", (json.dumps(values, sort_keys=True), tenant)
    )
