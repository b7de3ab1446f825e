"""Reading the invoices due for review and writing back what the engine decided.

One call of :func:`load_batch` and one of :func:`save_batch` make one transaction of the
daily run. A batch is a set of whole customers, because a customer's notice groups all
of that customer's invoices that reached a new level on the day.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

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
from pastdue.store.sql import Raw

NOTICE_NAMESPACE = uuid.UUID("6f1c2a52-8d0e-4c55-9a55-0b7a1d2c3e4f")


def due_customers(connection: Connection, tenant: str, today: date) -> list[str]:
    """Customers with at least one invoice whose review date has come, in a stable order."""
    raw = Raw(connection)
    rows = raw.all(
        "SELECT DISTINCT customer_id FROM invoices WHERE tenant_id = ? AND next_review_on <= ?",
        (tenant, raw.to_db(today)),
    )
    return sorted(r[0] for r in rows)


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

    With ``invoice_id``, that one invoice is read whatever its review date (for ``explain``).
    """
    raw = Raw(connection)
    marks = raw.marks(len(customer_ids))
    cases: dict[str, CustomerCase] = {}
    holds = _active_holds(raw, tenant, customer_ids, today)
    for row in raw.all(
        "SELECT id, name, email, phone, country, language, timezone, kind, policy, exempt, "
        f"last_notice_on FROM customers WHERE tenant_id = ? AND id IN ({marks})",
        (tenant, *customer_ids),
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
    for row in raw.all(
        "SELECT id, customer_id, number, currency, amount_minor, issued_on, due_on, paid_minor, "
        "credited_minor, level, reached_on, next_review_on, closed_on FROM invoices "
        f"WHERE tenant_id = ? AND customer_id IN ({marks}) "
        + ("AND id = ? " if invoice_id else "AND next_review_on <= ? ")
        + "ORDER BY customer_id, due_on, id",
        (tenant, *customer_ids, invoice_id or raw.to_db(today)),
    ):
        currency = row[3]
        invoice = Invoice(
            id=row[0],
            customer_id=row[1],
            number=row[2],
            amount=Money.of_minor(row[4], currency),
            issued_on=raw.to_date(row[5]),  # type: ignore[arg-type]
            due_on=raw.to_date(row[6]),  # type: ignore[arg-type]
            paid=Money.of_minor(row[7], currency) if row[7] else None,
            credited=Money.of_minor(row[8], currency) if row[8] else None,
            holds=tuple(holds.get((row[1], row[0]), ())),
        )
        state = DunningState(row[9], raw.to_date(row[10]), raw.to_date(row[11]), raw.to_date(row[12]))
        cases[row[1]].invoices.append(Reviewed(invoice, state))
    return [case for case in cases.values() if case.invoices]


def _active_holds(
    raw: Raw, tenant: str, customer_ids: Sequence[str], today: date
) -> dict[tuple[str, str | None], list[Hold]]:
    found: dict[tuple[str, str | None], list[Hold]] = {}
    for customer_id, invoice_id, reason, note, until in raw.all(
        "SELECT customer_id, invoice_id, reason, note, until FROM holds WHERE tenant_id = ? "
        f"AND customer_id IN ({raw.marks(len(customer_ids))}) AND released_at IS NULL "
        "AND (until IS NULL OR until >= ?)",
        (tenant, *customer_ids, raw.to_db(today)),
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
    events: list[AuditEvent] = field(default_factory=list)


def notice_id(tenant: str, customer_id: str, channel: str, today: date) -> str:
    """Deterministic: the same customer, channel and day always name the same notice."""
    return str(uuid.uuid5(NOTICE_NAMESPACE, f"{tenant}\x1f{customer_id}\x1f{channel}\x1f{today.isoformat()}"))


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
    notice_rows: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    noticed_customers: list[tuple[Any, ...]] = []
    day = raw.to_db(today)
    as_of = today.isoformat()

    def record(customer_id: str, decisions: Sequence[Decision], policy: Policy | None) -> None:
        entries = []
        for decision in decisions:
            result.decisions += 1
            if decision.is_action:
                result.actions += 1
            else:
                result.skipped[decision.reason.value] += 1
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
                {
                    "invoice_id": decision.invoice_id,
                    "act": decision.act.value,
                    "reason": decision.reason.value,
                    "detail": decision.detail,
                    "level": s.level,
                    "next_review_on": s.next_review_on.isoformat() if s.next_review_on else None,
                }
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
                    "decisions": entries,
                },
            )
        )

    for case, policy, outcome in outcomes:
        customer_id = case.customer.id
        by_invoice_notice: dict[str, str] = {}
        for channel, decisions in outcome.notices(policy).items():
            nid = notice_id(tenant, customer_id, channel, today)
            level = max(d.level for d in decisions)
            notice_rows.append(
                (
                    tenant,
                    nid,
                    customer_id,
                    channel,
                    level,
                    "pending",
                    day,
                    policy.name,
                    policy.version,
                )
            )
            items.extend((tenant, nid, d.invoice_id, d.level) for d in decisions)
            for d in decisions:
                by_invoice_notice.setdefault(d.invoice_id, nid)
            result.notices += 1
        record(customer_id, outcome.decisions, policy)
        for decision in outcome.decisions:
            if decision.act is Act.NOTICE:
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

    raw.many(
        "UPDATE invoices SET level = ?, reached_on = ?, next_review_on = ?, closed_on = ? "
        "WHERE tenant_id = ? AND id = ?",
        states,
    )
    raw.many("UPDATE customers SET last_notice_on = ? WHERE tenant_id = ? AND id = ?", noticed_customers)
    raw.many(
        "INSERT INTO notices (tenant_id, id, customer_id, channel, level, status, created_on, "
        "policy_name, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, id) DO UPDATE SET level = CASE WHEN excluded.level > notices.level "
        "THEN excluded.level ELSE notices.level END",
        notice_rows,
    )
    raw.many(
        "INSERT INTO notice_items (tenant_id, notice_id, invoice_id, level) VALUES (?, ?, ?, ?)",
        items,
    )
    raw.many(
        "INSERT INTO dunning_actions (tenant_id, invoice_id, level, applied_on, notice_id, "
        "policy_name, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
        applied,
    )
    return result


def level_counts(connection: Connection, tenant: str) -> dict[int, int]:
    """Open invoices per current level (level 0 included), over the whole ledger."""
    raw = Raw(connection)
    rows = raw.all(
        "SELECT level, COUNT(*) FROM invoices WHERE tenant_id = ? "
        "AND amount_minor - paid_minor - credited_minor > 0 GROUP BY level",
        (tenant,),
    )
    return {int(level): int(n) for level, n in rows}
