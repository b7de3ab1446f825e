"""What the collections dashboard reads: the worklist, one customer's case, and the figures
of the home page.

Every query that a page runs on each request is bounded by an index and a ``LIMIT`` (the
pages must stay fast on a ledger of a million invoices); the two that scan the ledger
(:func:`receivable_history` and the aging sums in :mod:`pastdue.store.queries`) are meant
to be computed once in a while and kept, never per request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from pastdue.core.money import Money
from pastdue.store import receipts
from pastdue.store.receipts import Receipt
from pastdue.store.sql import Raw

OPEN = "amount_minor - paid_minor - credited_minor"
_CHUNK = 500  # values per IN list: well within every driver's limit on parameters


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One customer to contact: the highest level any open invoice reached, what is owed
    (per currency, never added across currencies), the oldest due date, and the latest
    contact on record."""

    customer_id: str
    name: str
    phone: str
    top_level: int
    oldest_due_on: date
    invoices: int
    owed: tuple[Money, ...]
    last_notice: dict[str, Any] | None
    last_call: dict[str, Any] | None
    held: bool


def worklist(connection: Connection, tenant: str, today: date, limit: int = 50) -> list[WorkItem]:
    """Customers with dunned open invoices, highest level first, then the longest overdue.

    The first query reads the open invoices that reached a level (the partial index on open
    invoices per level); everything else is fetched for the ``limit`` customers it chose.
    """
    raw = Raw(connection)
    ranked = raw.all(
        f"SELECT customer_id, MAX(level), MIN(due_on), COUNT(*) FROM invoices "
        f"WHERE tenant_id = ? AND {OPEN} > 0 AND level >= 1 "
        "GROUP BY customer_id ORDER BY MAX(level) DESC, MIN(due_on), customer_id LIMIT ?",
        (tenant, limit),
    )
    ids = [row[0] for row in ranked]
    if not ids:
        return []
    marks = raw.marks(len(ids))
    names = {
        cid: (name, phone)
        for cid, name, phone in raw.all(
            f"SELECT id, name, phone FROM customers WHERE tenant_id = ? AND id IN ({marks})", (tenant, *ids)
        )
    }
    owed = owed_by_customer(connection, tenant, ids)
    notices = _latest_notices(raw, tenant, ids)
    calls = _latest_calls(raw, tenant, ids)
    held = _held(raw, tenant, ids, today)
    return [
        WorkItem(
            cid,
            names.get(cid, ("", ""))[0],
            names.get(cid, ("", ""))[1],
            int(top),
            raw.to_date(oldest) or today,
            int(count),
            tuple(owed.get(cid, ())),
            notices.get(cid),
            calls.get(cid),
            cid in held,
        )
        for cid, top, oldest, count in ranked
    ]


def owed_by_customer(connection: Connection, tenant: str, ids: Sequence[str]) -> dict[str, list[Money]]:
    """Open balance per customer and currency, currencies in order."""
    if not ids:
        return {}
    raw = Raw(connection)
    rows = raw.all(
        f"SELECT customer_id, currency, SUM({OPEN}) FROM invoices "
        f"WHERE tenant_id = ? AND customer_id IN ({raw.marks(len(ids))}) AND {OPEN} > 0 "
        "GROUP BY customer_id, currency ORDER BY customer_id, currency",
        (tenant, *ids),
    )
    found: dict[str, list[Money]] = {}
    for cid, currency, minor in rows:
        found.setdefault(cid, []).append(Money.of_minor(int(minor), currency))
    return found


def _latest_notices(raw: Raw, tenant: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = raw.all(
        "SELECT customer_id, created_on, channel, level, status FROM ("
        "SELECT customer_id, created_on, channel, level, status, ROW_NUMBER() OVER ("
        "PARTITION BY customer_id ORDER BY created_on DESC, level DESC, channel) AS n FROM notices "
        f"WHERE tenant_id = ? AND customer_id IN ({raw.marks(len(ids))})) ranked WHERE n = 1",
        (tenant, *ids),
    )
    return {
        cid: {"created_on": raw.to_date(created), "channel": channel, "level": level, "status": status}
        for cid, created, channel, level, status in rows
    }


def _latest_calls(raw: Raw, tenant: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = raw.all(
        "SELECT subject, at, payload FROM ("
        "SELECT subject, at, payload, ROW_NUMBER() OVER (PARTITION BY subject ORDER BY seq DESC) AS n "
        f"FROM audit_events WHERE tenant_id = ? AND subject IN ({raw.marks(len(ids))}) AND kind = 'call'"
        ") ranked WHERE n = 1",
        (tenant, *ids),
    )
    return {subject: {"at": at, **json.loads(payload)} for subject, at, payload in rows}


def _held(raw: Raw, tenant: str, ids: Sequence[str], today: date) -> set[str]:
    rows = raw.all(
        "SELECT DISTINCT customer_id FROM holds WHERE tenant_id = ? AND released_at IS NULL "
        f"AND (until IS NULL OR until >= ?) AND customer_id IN ({raw.marks(len(ids))})",
        (tenant, raw.to_db(today), *ids),
    )
    return {row[0] for row in rows}


# --- one customer's case --------------------------------------------------------------------


def customer_invoices(connection: Connection, tenant: str, customer_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The customer's invoices, open ones first, then by due date (oldest first)."""
    raw = Raw(connection)
    rows = raw.all(
        f"SELECT id, number, currency, amount_minor, {OPEN}, issued_on, due_on, level, reached_on, "
        "next_review_on, closed_on FROM invoices WHERE tenant_id = ? AND customer_id = ? "
        f"ORDER BY CASE WHEN {OPEN} > 0 THEN 0 ELSE 1 END, due_on, number LIMIT ?",
        (tenant, customer_id, limit),
    )
    return [
        {
            "id": iid,
            "number": number,
            "amount": Money.of_minor(int(amount), currency),
            "open_amount": Money.of_minor(int(open_minor), currency),
            "issued_on": raw.to_date(issued),
            "due_on": raw.to_date(due),
            "level": level,
            "reached_on": raw.to_date(reached),
            "next_review_on": raw.to_date(review),
            "closed_on": raw.to_date(closed),
        }
        for iid, number, currency, amount, open_minor, issued, due, level, reached, review, closed in rows
    ]


def customer_payments(connection: Connection, tenant: str, customer_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """Money allocated to the customer's invoices (ledger payments, matched receipts and
    reversals alike), newest first."""
    raw = Raw(connection)
    # CROSS JOIN: SQLite then walks the customer's invoices first and finds each one's
    # payments by index; left to choose, it may walk the tenant's payments instead. (On
    # PostgreSQL it is an ordinary inner join.)
    rows = raw.all(
        "SELECT p.id, p.paid_on, i.number, p.currency, p.amount_minor, p.reference, p.kind, p.receipt_id "
        "FROM invoices i CROSS JOIN payments p "
        "WHERE i.tenant_id = ? AND i.customer_id = ? AND p.tenant_id = i.tenant_id AND p.invoice_id = i.id "
        "ORDER BY p.paid_on DESC, p.id LIMIT ?",
        (tenant, customer_id, limit),
    )
    return [
        {
            "id": pid,
            "paid_on": raw.to_date(paid),
            "invoice": number,
            "amount": Money.of_minor(int(minor), currency),
            "reference": reference,
            "kind": kind,
            "receipt_id": receipt,
        }
        for pid, paid, number, currency, minor, reference, kind, receipt in rows
    ]


def customer_notices(connection: Connection, tenant: str, customer_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """The customer's notices with their delivery state, newest first."""
    raw = Raw(connection)
    # Sorted here, not in SQL: an ORDER BY on created_on tempts SQLite into walking the
    # tenant's notices by date instead of this customer's by index.
    found = raw.all(
        "SELECT id, created_on, channel, level, status, items, contact, attempts, sent_at, error FROM notices "
        "WHERE tenant_id = ? AND customer_id = ?",
        (tenant, customer_id),
    )
    found.sort(key=lambda r: str(r[2]))  # then, stably: newest day first, highest level first
    found.sort(key=lambda r: (str(r[1]), r[3]), reverse=True)
    rows = found[:limit]
    return [
        {
            "id": nid,
            "created_on": raw.to_date(created),
            "channel": channel,
            "level": level,
            "status": status,
            "invoices": sorted(number for _id, number, _level in json.loads(items)),
            "contact": contact,
            "attempts": attempts,
            "sent_at": sent_at,
            "error": error,
        }
        for nid, created, channel, level, status, items, contact, attempts, sent_at, error in rows
    ]


def customer_timeline(
    connection: Connection, tenant: str, subjects: Sequence[str], limit: int = 100
) -> list[dict[str, Any]]:
    """The latest audit events about any of the subjects (the customer, its invoices, its
    notices, its receipts), newest first, payload parsed."""
    if not subjects:
        return []
    raw = Raw(connection)
    # First the numbers of the subjects' events, from the index on (tenant, subject) alone,
    # the newest picked here; then those events. One query with ORDER BY seq LIMIT n lets
    # SQLite walk the whole chain backwards instead.
    seqs: list[int] = []
    for start in range(0, len(subjects), _CHUNK):
        chunk = subjects[start : start + _CHUNK]
        seqs += [
            int(row[0])
            for row in raw.all(
                f"SELECT seq FROM audit_events WHERE tenant_id = ? AND subject IN ({raw.marks(len(chunk))})",
                (tenant, *chunk),
            )
        ]
    newest = sorted(seqs, reverse=True)[:limit]
    if not newest:
        return []
    rows = raw.all(
        "SELECT seq, at, kind, actor, subject, payload FROM audit_events "
        f"WHERE tenant_id = ? AND seq IN ({raw.marks(len(newest))})",
        (tenant, *newest),
    )
    rows.sort(key=lambda r: int(r[0]), reverse=True)
    return [
        {"seq": seq, "at": at, "kind": kind, "actor": actor, "subject": subject, "payload": json.loads(payload)}
        for seq, at, kind, actor, subject, payload in rows
    ]


def customer_receipt_ids(connection: Connection, tenant: str, customer_id: str, limit: int = 100) -> list[str]:
    raw = Raw(connection)
    rows = raw.all(
        "SELECT id FROM receipts WHERE tenant_id = ? AND customer_id = ? ORDER BY received_on DESC, id LIMIT ?",
        (tenant, customer_id, limit),
    )
    return [row[0] for row in rows]


# --- the queues -----------------------------------------------------------------------------


def awaiting_approval(connection: Connection, tenant: str, limit: int) -> list[dict[str, Any]]:
    """Notices waiting for a person's approval, oldest first. Ordered along the index on
    (tenant, status, due_at) so that only ``limit`` rows are read, however long the queue or
    the rest of the outbox (an ORDER BY id would walk every notice of the tenant)."""
    raw = Raw(connection)
    rows = raw.all(
        "SELECT id, customer_id, channel, level, created_on, items FROM notices "
        "WHERE tenant_id = ? AND status = 'awaiting_approval' ORDER BY due_at, id LIMIT ?",
        (tenant, limit),
    )
    return [
        {
            "id": nid,
            "customer_id": customer_id,
            "channel": channel,
            "level": level,
            "created_on": raw.to_date(created),
            "invoices": sorted(number for _id, number, _level in json.loads(items)),
        }
        for nid, customer_id, channel, level, created, items in rows
    ]


def waiting_receipts(connection: Connection, tenant: str, statuses: Sequence[str], limit: int) -> list[Receipt]:
    """Bank credits in these statuses, oldest first, read through the index on status."""
    where = f"r.status IN ({', '.join('?' * len(statuses))})"
    return receipts.select_receipts(connection, tenant, where, list(statuses), limit=limit)


# --- the home page --------------------------------------------------------------------------


def notices_created_on(connection: Connection, tenant: str, day: date) -> list[tuple[str, int, str, int]]:
    """(channel, level, status, count) of the notices one day's run queued."""
    raw = Raw(connection)
    rows = raw.all(
        "SELECT channel, level, status, COUNT(*) FROM notices WHERE tenant_id = ? AND created_on = ? "
        "GROUP BY channel, level, status ORDER BY level, channel, status",
        (tenant, raw.to_db(day)),
    )
    return [(channel, int(level), status, int(count)) for channel, level, status, count in rows]


def receivable_history(
    connection: Connection, tenant: str, days: Sequence[date], window: int
) -> dict[str, list[tuple[int, int]]]:
    """Per currency and for each day: (receivable at the end of that day, invoiced in the
    ``window`` days up to it), in minor units: what DSO is computed from.

    The receivable on a day is what was invoiced by then, less credits, less the payments
    dated by then. Credits carry no date of their own, so they count from the invoice's
    issue date. One pass over invoices and one over payments, whatever the number of days.
    """
    raw = Raw(connection)
    issued_cols, sales_cols, paid_cols, params, sales_params, paid_params = [], [], [], [], [], []
    for day in days:
        issued_cols.append("SUM(CASE WHEN issued_on <= ? THEN amount_minor - credited_minor ELSE 0 END)")
        params.append(raw.to_db(day))
        sales_cols.append("SUM(CASE WHEN issued_on <= ? AND issued_on > ? THEN amount_minor ELSE 0 END)")
        sales_params += [raw.to_db(day), raw.to_db(day - timedelta(days=window))]
        paid_cols.append("SUM(CASE WHEN paid_on <= ? THEN amount_minor ELSE 0 END)")
        paid_params.append(raw.to_db(day))
    invoiced = raw.all(
        f"SELECT currency, {', '.join(issued_cols + sales_cols)} FROM invoices WHERE tenant_id = ? GROUP BY currency",
        (*params, *sales_params, tenant),
    )
    paid = {
        row[0]: [int(v or 0) for v in row[1:]]
        for row in raw.all(
            f"SELECT currency, {', '.join(paid_cols)} FROM payments WHERE tenant_id = ? GROUP BY currency",
            (*paid_params, tenant),
        )
    }
    found: dict[str, list[tuple[int, int]]] = {}
    n = len(days)
    for currency, *sums in sorted(invoiced):
        values = [int(v or 0) for v in sums]
        payments = paid.get(currency, [0] * n)
        found[currency] = [(values[i] - payments[i], values[n + i]) for i in range(n)]
    return found


# --- what needs a person's attention --------------------------------------------------------


def open_disputes(connection: Connection, tenant: str, placed_by: str, limit: int) -> list[dict[str, Any]]:
    """Running dispute holds that ``placed_by`` placed (the portal's customers), newest first.

    The holds table holds no author, the audit log does: the open disputes are read newest
    first in chunks and kept when their ``hold`` event names ``placed_by``. Both tables grow
    with what people do (not with the ledger), and the audit events are found by the index
    on their subject, the invoice.
    """
    raw = Raw(connection)
    candidates = raw.all(
        "SELECT h.id, h.customer_id, h.invoice_id, h.note, h.created_at, c.name, i.number FROM holds h "
        "JOIN customers c ON c.tenant_id = h.tenant_id AND c.id = h.customer_id "
        "LEFT JOIN invoices i ON i.tenant_id = h.tenant_id AND i.id = h.invoice_id "
        "WHERE h.tenant_id = ? AND h.reason = 'dispute' AND h.released_at IS NULL "
        "ORDER BY h.created_at DESC, h.id",
        (tenant,),
    )
    found: list[dict[str, Any]] = []
    for start in range(0, len(candidates), _CHUNK):
        chunk = candidates[start : start + _CHUNK]
        subjects = sorted({row[2] or row[1] for row in chunk})
        placed = {
            str(json.loads(payload).get("hold"))
            for (payload,) in raw.all(
                f"SELECT payload FROM audit_events WHERE tenant_id = ? AND subject IN ({raw.marks(len(subjects))}) "
                "AND kind = 'hold' AND actor = ?",
                (tenant, *subjects, placed_by),
            )
        }
        for hold_id, customer_id, _invoice_id, note, created_at, name, number in chunk:
            if hold_id in placed:
                found.append(
                    {
                        "hold_id": hold_id,
                        "customer_id": customer_id,
                        "name": name,
                        "invoice": number,
                        "reason": note,
                        "at": created_at,
                    }
                )
                if len(found) == limit:
                    return found
    return found


def plan_requests(
    connection: Connection, tenant: str, *, customer_id: str | None = None, only_open: bool = False, limit: int = 50
) -> list[dict[str, Any]]:
    """Customers' requests for a payment plan, newest first: the open ones of the tenant (the
    home page), or every one of one customer (the customer page)."""
    raw = Raw(connection)
    where, params = ["p.tenant_id = ?"], [tenant]
    if customer_id is not None:
        where.append("p.customer_id = ?")
        params.append(customer_id)
    if only_open:
        where.append("p.status = 'open'")
    rows = raw.all(
        "SELECT p.id, p.customer_id, c.name, p.instalments, p.note, p.status, p.created_at "
        "FROM payment_plan_requests p JOIN customers c ON c.tenant_id = p.tenant_id AND c.id = p.customer_id "
        f"WHERE {' AND '.join(where)} ORDER BY p.created_at DESC, p.id LIMIT ?",
        (*params, limit),
    )
    return [
        {
            "id": rid,
            "customer_id": cid,
            "name": name,
            "instalments": int(instalments),
            "note": note,
            "status": status,
            "at": created_at,
        }
        for rid, cid, name, instalments, note, status, created_at in rows
    ]
