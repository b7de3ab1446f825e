"""Reading the invoices due for review and writing back what the engine decided.

One call of :func:`load_batch` and one of :func:`save_batch` make one transaction of the
daily run. A batch is a set of whole customers, because a customer's notice groups all
of that customer's invoices that reached a new level on the day.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection

from pastdue.core.delivery import Status
from pastdue.core.engine import Act, Decision, Outcome
from pastdue.core.model import (
    Customer,
    CustomerKind,
    CustomerState,
    DunningState,
    Hold,
    HoldReason,
    Invoice,
    Reviewed,
)
from pastdue.core.money import Money
from pastdue.core.policy import Policy
from pastdue.store.audit import AuditEvent
from pastdue.store.sql import Raw, stamp
from pastdue.store.tables import OPEN


def due_customers(connection: Connection, tenant: str, today: date) -> list[tuple[str, int]]:
    """Customers with invoices whose review date has come, and how many, in a stable order."""
    raw = Raw(connection)
    # Counted here rather than by GROUP BY, which would tempt SQLite into walking the
    # customer index over the whole ledger instead of the review-date range.
    counts = Counter(
        row[0]
        for row in raw.all(
            "SELECT customer_id FROM invoices WHERE tenant_id = ? AND next_review_on <= ?",
            (tenant, raw.to_db(today)),
        )
    )
    return sorted(counts.items())


def batches(due: list[tuple[str, int]], invoices_per_batch: int) -> list[list[str]]:
    """Whole customers grouped so that each batch holds about ``invoices_per_batch`` invoices.

    Big batches write each table page once instead of once per batch; whole customers keep
    a customer's notice in one transaction.
    """
    groups: list[list[str]] = [[]]
    size = 0
    for customer_id, count in due:
        if size and size + count > invoices_per_batch:
            groups.append([])
            size = 0
        groups[-1].append(customer_id)
        size += count
    return [g for g in groups if g]


@dataclass
class CustomerCase:
    customer: Customer
    state: CustomerState
    invoices: list[Reviewed] = field(default_factory=list)


def load_batch(
    connection: Connection,
    tenant: str,
    customer_ids: Sequence[str],
    today: date,
    invoice_id: str | None = None,
) -> list[CustomerCase]:
    """The customers and their invoices due for review, with holds, read in three queries.

    The batch's customers go into a temporary table that the queries join, so a batch may
    hold any number of them. With ``invoice_id``, that one invoice is read whatever its
    review date (for ``explain``).
    """
    raw = Raw(connection)
    raw.run("CREATE TEMPORARY TABLE IF NOT EXISTS run_batch (id VARCHAR(64) PRIMARY KEY)")
    raw.run("DELETE FROM run_batch")
    raw.many("INSERT INTO run_batch (id) VALUES (?)", [(c,) for c in customer_ids])
    cases: dict[str, CustomerCase] = {}
    holds = _active_holds(raw, tenant, today)
    for row in raw.all(
        "SELECT c.id, c.name, c.email, c.phone, c.country, c.language, c.timezone, c.kind, c.policy, "
        "c.exempt, c.last_notice_on FROM run_batch b "
        "CROSS JOIN customers c WHERE c.tenant_id = ? AND c.id = b.id",
        (tenant,),
    ):
        customer = Customer(
            id=row[0],
            name=row[1],
            email=row[2],
            phone=row[3],
            country=row[4],
            language=row[5],
            timezone=row[6],
            kind=CustomerKind(row[7]),
            policy=row[8],
            exempt=bool(row[9]),
            holds=tuple(holds.get((row[0], None), ())),
        )
        cases[row[0]] = CustomerCase(customer, CustomerState(raw.to_date(row[10])))
    # CROSS JOIN makes SQLite loop over the batch and look invoices up by customer, and the
    # unary plus (a no-op on any value) keeps it off the review-date index; otherwise it
    # walks a whole index of the ledger for every batch.
    due = "i.id = ?" if invoice_id else "i.next_review_on <= ?" if raw.pg else "+i.next_review_on <= ?"
    of_minor = Money.of_minor
    to_date = raw.to_date
    for row in raw.all(
        "SELECT i.id, i.customer_id, i.number, i.currency, i.amount_minor, i.issued_on, i.due_on, "
        "i.paid_minor, i.credited_minor, i.level, i.reached_on, i.next_review_on, i.closed_on "
        f"FROM run_batch b CROSS JOIN invoices i WHERE i.tenant_id = ? AND i.customer_id = b.id AND {due}",
        (tenant, invoice_id or raw.to_db(today)),
    ):
        currency = row[3]
        invoice = Invoice(
            id=row[0],
            customer_id=row[1],
            number=row[2],
            amount=of_minor(row[4], currency),
            issued_on=to_date(row[5]),  # type: ignore[arg-type]
            due_on=to_date(row[6]),  # type: ignore[arg-type]
            paid=of_minor(row[7], currency) if row[7] else None,
            credited=of_minor(row[8], currency) if row[8] else None,
            holds=tuple(holds.get((row[1], row[0]), ())) if holds else (),
        )
        state = DunningState(row[9], to_date(row[10]), to_date(row[11]), to_date(row[12]))
        cases[row[1]].invoices.append(Reviewed(invoice, state))
    found = [case for case in cases.values() if case.invoices]
    for case in found:  # the same order on every backend, whatever its collation
        case.invoices.sort(key=_invoice_order)
    return found


def _invoice_order(item: Reviewed) -> tuple[date, str]:
    return item.invoice.due_on, item.invoice.id


def _active_holds(raw: Raw, tenant: str, today: date) -> dict[tuple[str, str | None], list[Hold]]:
    found: dict[tuple[str, str | None], list[Hold]] = {}
    for customer_id, invoice_id, reason, note, until in raw.all(
        "SELECT h.customer_id, h.invoice_id, h.reason, h.note, h.until FROM run_batch b "
        "CROSS JOIN holds h WHERE h.tenant_id = ? AND h.customer_id = b.id "
        "AND h.released_at IS NULL AND (h.until IS NULL OR h.until >= ?)",
        (tenant, raw.to_db(today)),
    ):
        hold = Hold(HoldReason(reason), note, raw.to_date(until))
        found.setdefault((customer_id, invoice_id), []).append(hold)
    return found


@dataclass
class BatchResult:
    decisions: int = 0
    actions: int = 0
    notices: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    events: list[AuditEvent] = field(default_factory=list)


_NOTICE = Act.NOTICE
# A decision event lists its decisions as rows of these fields (compact: one event can hold
# hundreds of them).
DECISION_FIELDS = ("invoice_id", "act", "reason", "detail", "level", "next_review_on")


def notice_id(tenant: str, customer_id: str, channel: str, today: date) -> str:
    """Deterministic: the same customer, channel and day always name the same notice."""
    key = f"{tenant}\x1f{customer_id}\x1f{channel}\x1f{today.isoformat()}".encode()
    return hashlib.blake2b(key, digest_size=16).hexdigest()


def save_batch(
    connection: Connection,
    tenant: str,
    today: date,
    outcomes: Sequence[tuple[CustomerCase, Policy, Outcome]],
    extra_skips: Sequence[tuple[CustomerCase, Sequence[Decision]]] = (),
) -> BatchResult:
    """Write states, level applications, notices and decision events of one batch."""
    raw = Raw(connection)
    result = BatchResult()
    states: list[tuple[Any, ...]] = []
    applied: list[tuple[Any, ...]] = []
    notices: dict[str, dict[str, Any]] = {}
    noticed_customers: list[tuple[Any, ...]] = []
    day = raw.to_db(today)
    # Queued for the start of the run's day, so a run "as of" a date delivers on that date.
    queued_at = stamp(datetime.combine(today, time(0), tzinfo=UTC))
    as_of = today.isoformat()

    def record(customer_id: str, decisions: Sequence[Decision], policy: Policy | None) -> None:
        entries = []
        for decision in decisions:
            result.decisions += 1
            if decision.is_action:
                result.actions += 1
                if decision.act is Act.CLOSE:
                    result.closed[decision.reason] += 1
            else:
                result.skipped[decision.reason] += 1  # StrEnum members are their values
            s = decision.state
            states.append(
                (
                    s.level,
                    raw.to_db(s.reached_on),
                    raw.to_db(s.next_review_on),
                    raw.to_db(s.closed_on),
                    tenant,
                    decision.invoice_id,
                )
            )
            entries.append(
                [
                    decision.invoice_id,
                    decision.act,
                    decision.reason,
                    decision.detail,
                    s.level,
                    s.next_review_on.isoformat() if s.next_review_on else None,
                ]
            )
        # One event per customer and run: every decision is in the chain, at a third of the cost.
        result.events.append(
            AuditEvent(
                "decision",
                customer_id,
                {
                    "as_of": as_of,
                    "policy": policy.name if policy else None,
                    "policy_version": policy.version if policy else None,
                    "fields": DECISION_FIELDS,
                    "decisions": entries,
                },
            )
        )

    for case, policy, outcome in outcomes:
        customer_id = case.customer.id
        numbers = {item.invoice.id: item.invoice.number for item in case.invoices}
        by_invoice_notice: dict[str, str] = {}
        for channel, decisions in outcome.notices(policy).items():
            nid = notice_id(tenant, customer_id, channel, today)
            top = policy.level(max(d.level for d in decisions))
            notices[nid] = {
                "row": [
                    tenant,
                    nid,
                    customer_id,
                    channel,
                    top.number,
                    Status.AWAITING_APPROVAL.value if top.requires_approval else Status.PENDING.value,
                    day,
                    policy.name,
                    policy.version,
                    raw.to_db(today + timedelta(days=top.new_deadline_days)),
                    queued_at,
                ],
                "items": [[d.invoice_id, numbers[d.invoice_id], d.level] for d in decisions],
            }
            for d in decisions:
                by_invoice_notice.setdefault(d.invoice_id, nid)
            result.notices += 1
        record(customer_id, outcome.decisions, policy)
        for decision in outcome.decisions:
            if decision.act is _NOTICE:
                applied.append(
                    (
                        tenant,
                        decision.invoice_id,
                        decision.level,
                        day,
                        by_invoice_notice.get(decision.invoice_id),
                        policy.name,
                        policy.version,
                    )
                )
        if outcome.customer_state != case.state:
            noticed_customers.append((raw.to_db(outcome.customer_state.last_notice_on), tenant, customer_id))
    for case, skips in extra_skips:
        record(case.customer.id, skips, None)

    # Written in key order: neighbouring rows share pages, so each page is visited once.
    states.sort(key=_last)
    applied.sort(key=_second)
    raw.update(
        "invoices",
        [("level", "INTEGER"), ("reached_on", "DATE"), ("next_review_on", "DATE"), ("closed_on", "DATE")],
        states,
    )
    raw.update("customers", [("last_notice_on", "DATE")], noticed_customers)
    _save_notices(raw, tenant, day, notices)
    raw.insert(
        "dunning_actions",
        ("tenant_id", "invoice_id", "level", "applied_on", "notice_id", "policy_name", "policy_version"),
        applied,
    )
    return result


def _save_notices(raw: Raw, tenant: str, day: Any, notices: dict[str, dict[str, Any]]) -> None:
    """Insert the batch's notices; one that already exists today (a second run on the same
    day, when spacing allows it) gets the new invoices added instead of a second notice."""
    if not notices:
        return
    existing = raw.all(
        "SELECT n.id, n.items, n.level FROM run_batch b CROSS JOIN notices n "
        # Unary plus: looked up by customer, never by walking all of today's notices per customer.
        "WHERE n.tenant_id = ? AND n.customer_id = b.id AND " + ("n.created_on = ?" if raw.pg else "+n.created_on = ?"),
        (tenant, day),
    )
    merged = []
    for nid, items, level in existing:
        new = notices.pop(nid, None)
        if new is not None:
            merged.append((json.dumps(json.loads(items) + new["items"]), max(level, new["row"][4]), tenant, nid))
    raw.update("notices", [("items", "TEXT"), ("level", "INTEGER")], merged)
    raw.insert(
        "notices",
        (
            "tenant_id",
            "id",
            "customer_id",
            "channel",
            "level",
            "status",
            "created_on",
            "policy_name",
            "policy_version",
            "deadline",
            "due_at",
            "items",
        ),
        [(*n["row"], json.dumps(n["items"])) for n in notices.values()],
    )


def _last(row: tuple[Any, ...]) -> Any:
    return row[-1]


def _second(row: tuple[Any, ...]) -> Any:
    return row[1]


def level_counts(connection: Connection, tenant: str) -> dict[int, int]:
    """Open invoices per current level (level 0 included), over the whole ledger."""
    raw = Raw(connection)
    rows = raw.all(f"SELECT level, COUNT(*) FROM invoices WHERE tenant_id = ? AND {OPEN} GROUP BY level", (tenant,))
    return {int(level): int(n) for level, n in rows}


def refresh_statistics(connection: Connection) -> None:
    """ANALYZE what a large run changed, on PostgreSQL (where autovacuum may lag or be off)."""
    if Raw(connection).pg:
        connection.exec_driver_sql("ANALYZE notices, invoices")
        connection.commit()
