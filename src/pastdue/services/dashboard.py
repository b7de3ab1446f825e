"""What the collections team's dashboard reads and records beyond the other services: the
worklist, one customer's whole case, the home page's figures, and calls made.

Reads are bounded (a page never loads a whole table); the home page's figures scan the
ledger and are meant to be cached by the caller (see :mod:`pastdue.web.dashboard.home`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pastdue.bootstrap import App
from pastdue.core.analytics import AgingTable, aging, aging_totals, dso
from pastdue.core.model import HoldReason
from pastdue.core.money import Money
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.services.dunning_run import RunSummary, run_dunning
from pastdue.services.portal import ACTOR as PORTAL_ACTOR
from pastdue.store import audit, dashboard, holds, listings, queries
from pastdue.store import portal as portal_store
from pastdue.store.audit import AuditEvent
from pastdue.store.dashboard import WorkItem
from pastdue.store.database import reading, unit_of_work

DSO_WINDOW = 90
"""Days of invoicing DSO is measured against (the common quarterly convention)."""

TREND_POINTS = 6
TREND_STEP = 30
"""DSO is shown today and every 30 days back, six points: enough to see a direction."""

CALL_OUTCOMES = ("reached", "promise to pay", "dispute", "left message", "no answer", "wrong number")
"""What a collector records after a call; a promise also pauses dunning until its date."""

MAX_NOTE = 500
MAX_PROMISE_DAYS = 365


def worklist(app: App, today: date, limit: int = 50) -> list[WorkItem]:
    with reading(app.engine) as connection:
        return dashboard.worklist(connection, app.tenant, today, limit)


@dataclass
class CustomerCase:
    """Everything the customer page shows, each list newest or most urgent first."""

    customer: dict[str, Any]
    owed: list[Money]
    invoices: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    notices: list[dict[str, Any]]
    holds: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    numbers: dict[str, str] = field(default_factory=dict)
    """Invoice id -> number, to name the invoices the timeline's events are about."""
    plan_requests: list[dict[str, Any]] = field(default_factory=list)


def customer_case(app: App, customer_id: str, timeline_limit: int = 100) -> CustomerCase:
    with reading(app.engine) as connection:
        found = listings.customer_page(connection, app.tenant, only=[customer_id], limit=1)
        if not found:
            raise NotFound(f"no customer {customer_id!r}")
        invoices = dashboard.customer_invoices(connection, app.tenant, customer_id)
        notices = dashboard.customer_notices(connection, app.tenant, customer_id)
        receipt_ids = dashboard.customer_receipt_ids(connection, app.tenant, customer_id)
        subjects = [customer_id, *(i["id"] for i in invoices), *(n["id"] for n in notices), *receipt_ids]
        return CustomerCase(
            customer=found[0],
            owed=dashboard.owed_by_customer(connection, app.tenant, [customer_id]).get(customer_id, []),
            invoices=invoices,
            payments=dashboard.customer_payments(connection, app.tenant, customer_id),
            notices=notices,
            holds=listings.hold_page(connection, app.tenant, customer_id=customer_id, active=True, limit=100),
            timeline=dashboard.customer_timeline(connection, app.tenant, subjects, timeline_limit),
            numbers={i["id"]: i["number"] for i in invoices},
            plan_requests=dashboard.plan_requests(connection, app.tenant, customer_id=customer_id, limit=20),
        )


@dataclass(frozen=True)
class DsoPoint:
    day: date
    value: Decimal | None


@dataclass
class HomeFigures:
    """The home page's numbers for one day; ``preview`` is ``None`` when no policy exists."""

    today: date
    aging: AgingTable
    totals: dict[str, Money]
    overdue: dict[str, Money]
    dso: dict[str, list[DsoPoint]]
    queued_today: list[tuple[str, int, str, int]]
    preview: RunSummary | None
    preview_problem: str | None = None


def home_figures(app: App, today: date) -> HomeFigures:
    """Aging, overdue totals, DSO and its trend, today's queued notices and what a run today
    would do (a dry run: decided, counted, rolled back)."""
    days = [today - timedelta(days=TREND_STEP * n) for n in range(TREND_POINTS - 1, -1, -1)]
    with reading(app.engine) as connection:
        table = aging(queries.open_balances(connection, app.tenant), today)
        history = dashboard.receivable_history(connection, app.tenant, days, DSO_WINDOW)
        queued = dashboard.notices_created_on(connection, app.tenant, today)
    overdue = {
        currency: sum((row[bucket] for bucket in row if bucket != "not_yet_due"), Money.zero(currency))
        for currency, row in table.items()
    }
    trend = {
        currency: [
            DsoPoint(day, dso(Money.of_minor(r, currency), Money.of_minor(s, currency), DSO_WINDOW))
            for day, (r, s) in zip(days, points, strict=True)
        ]
        for currency, points in history.items()
    }
    preview, problem = None, None
    try:
        preview = run_dunning(app, today, dry_run=True)
    except ProblemsFound as exc:
        problem = "; ".join(p.message for p in exc.problems)
    return HomeFigures(today, table, aging_totals(table), overdue, trend, queued, preview, problem)


def _problem(field_name: str, message: str) -> Problem:
    return Problem("call", None, field_name, message)


def record_call(
    app: App,
    customer_id: str,
    outcome: str,
    note: str,
    actor: str,
    promise_until: date | None = None,
) -> str | None:
    """Put a call on the customer's record; a promise to pay also holds the customer's
    dunning until the promised day. Returns the promise hold's id, if one was placed.

    The event and the hold are one transaction: a promise is never on record without the
    pause it asked for, nor the other way round.
    """
    today = app.clock().date()
    problems = []
    if outcome not in CALL_OUTCOMES:
        problems.append(_problem("outcome", f"choose one of: {', '.join(CALL_OUTCOMES)}"))
    if len(note) > MAX_NOTE:
        problems.append(_problem("note", f"longer than {MAX_NOTE} characters"))
    if outcome == "promise to pay":
        if promise_until is None:
            problems.append(_problem("promise_until", "a promise needs the day the customer will pay by"))
        elif not today < promise_until <= today + timedelta(days=MAX_PROMISE_DAYS):
            problems.append(_problem("promise_until", f"must be after today and within {MAX_PROMISE_DAYS} days"))
    elif promise_until is not None:
        problems.append(_problem("promise_until", "only a promise to pay has a date"))
    if problems:
        raise ProblemsFound(problems)
    now = app.clock()
    hold_id = None
    with unit_of_work(app.engine) as uow:
        payload: dict[str, Any] = {"action": "call", "outcome": outcome, "note": note}
        events = []
        if promise_until is not None:
            hold_id = holds.place(
                uow.connection,
                app.tenant,
                customer_id=customer_id,
                invoice_id=None,
                reason=HoldReason.PROMISE,
                note=f"promised on a call: {note}"[:MAX_NOTE],
                until=promise_until,
                now=now,
            )
            payload |= {"promise_until": promise_until.isoformat(), "hold": hold_id}
            hold = {"hold": hold_id, "action": "placed", "customer_id": customer_id, "invoice_id": None}
            hold |= {"reason": HoldReason.PROMISE.value, "note": note, "until": promise_until.isoformat()}
            events.append(AuditEvent("hold", customer_id, hold, actor))
        elif not listings.customer_page(uow.connection, app.tenant, only=[customer_id], limit=1):
            raise NotFound(f"no customer {customer_id!r}")
        events.insert(0, AuditEvent("call", customer_id, payload, actor))
        audit.append(uow.connection, app.tenant, events, now)
        uow.commit()
    return hold_id


# --- what customers asked for in the portal ---------------------------------------------------


@dataclass
class Attention:
    """What customers raised in the portal and nobody has dealt with yet, newest first."""

    disputes: list[dict[str, Any]]
    plan_requests: list[dict[str, Any]]


def needs_attention(app: App, limit: int = 20) -> Attention:
    """Open disputes customers filed and open payment-plan requests: read on every visit of
    the home page (not kept with its figures), so a dispute shows up at once."""
    with reading(app.engine) as connection:
        return Attention(
            disputes=dashboard.open_disputes(connection, app.tenant, PORTAL_ACTOR, limit),
            plan_requests=dashboard.plan_requests(connection, app.tenant, only_open=True, limit=limit),
        )


PLAN_DECISIONS = ("accepted", "declined")


def decide_plan_request(app: App, customer_id: str, request_id: str, decision: str, note: str, actor: str) -> None:
    """Close a customer's open request for a payment plan, with the team's answer on record.

    Deciding changes no hold: an accepted plan is set up as a ``payment_plan`` hold, on its
    own, by whoever agrees the instalments with the customer. Once decided, the portal lets
    the customer ask again.
    """
    problems = []
    if decision not in PLAN_DECISIONS:
        problems.append(Problem("plan request", None, "decision", f"choose one of: {', '.join(PLAN_DECISIONS)}"))
    if len(note) > MAX_NOTE:
        problems.append(Problem("plan request", None, "note", f"longer than {MAX_NOTE} characters"))
    if decision == "declined" and not note:
        problems.append(Problem("plan request", None, "note", "say why, for whoever talks to the customer next"))
    if problems:
        raise ProblemsFound(problems)
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        if not portal_store.settle_plan_request(uow.connection, app.tenant, customer_id, request_id, decision):
            raise NotFound(f"no open payment-plan request {request_id!r} of this customer")
        payload = {"action": "plan request decided", "request": request_id, "decision": decision, "note": note}
        audit.append(uow.connection, app.tenant, [AuditEvent("plan request", customer_id, payload, actor)], now)
        uow.commit()
