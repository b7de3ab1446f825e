"""The daily dunning run: review what is due, decide in the core, save batch by batch."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pastdue import calendars
from pastdue.bootstrap import App
from pastdue.core.calendar import Calendar
from pastdue.core.engine import Act, Decision, Reason, decide
from pastdue.core.model import DunningState
from pastdue.core.policy import DayCount, Policy, choose_policy
from pastdue.errors import Problem, ProblemsFound
from pastdue.gc_pause import cycle_collector_paused
from pastdue.services.holds import lapse_holds
from pastdue.store import audit, dunning, policies
from pastdue.store.database import is_postgres

RUN_BATCH_INVOICES = 100_000
# A run that queues this many notices changes the tables enough for PostgreSQL's planner
# to need new statistics (the delivery queue's plans depend on them).
STATISTICS_AFTER_NOTICES = 10_000


@dataclass
class RunSummary:
    as_of: date
    reviewed: int = 0
    decisions: int = 0
    actions: int = 0
    notices: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    """Dunning that ended because the invoice was settled, by reason (paid, credited)."""
    holds_lapsed: int = 0
    elapsed_s: float = 0.0
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "reviewed": self.reviewed,
            "decisions": self.decisions,
            "actions": self.actions,
            "notices": self.notices,
            "by_level": self.by_level,
            "skipped": {str(reason): n for reason, n in sorted(self.skipped.items())},
            "closed": {str(reason): n for reason, n in sorted(self.closed.items())},
            "holds_lapsed": self.holds_lapsed,
            "elapsed_s": round(self.elapsed_s, 3),
            **({"dry_run": True} if self.dry_run else {}),
        }


Progress = Callable[[int, int], None]


def run_dunning(app: App, as_of: date, *, dry_run: bool = False, progress: Progress | None = None) -> RunSummary:
    """Review every invoice whose review date has come, one transaction per batch of customers.

    A rerun on the same date finds nothing due; a run killed half-way leaves whole batches
    done and the rest due, so running again completes it exactly. On PostgreSQL a
    session advisory lock makes concurrent runs of one tenant take turns. ``dry_run``
    does everything in one transaction and rolls it back.
    """
    started = time.perf_counter()
    summary = RunSummary(as_of, dry_run=dry_run)
    with cycle_collector_paused(), app.engine.connect() as connection:
        lock = _tenant_lock(connection, app.tenant)
        try:
            known, default = policies.latest_policies(connection, app.tenant)
            if not known:
                raise ProblemsFound(
                    [
                        Problem(
                            "policy",
                            None,
                            None,
                            "no policy applied yet: run `pastdue policy apply FILE.toml`",
                        )
                    ]
                )
            cals = {name: calendar_for_policy(policy, as_of) for name, policy in known.items()}
            if not dry_run:
                lapsed = lapse_holds(connection, app.tenant, as_of, app.clock())
                audit.append(connection, app.tenant, lapsed, app.clock())
                summary.holds_lapsed = len(lapsed)
            due = dunning.due_customers(connection, app.tenant, as_of)
            if not dry_run:
                connection.commit()
            done = 0
            for chunk in dunning.batches(due, RUN_BATCH_INVOICES):
                _run_batch(app, connection, chunk, as_of, known, default, cals, summary)
                if not dry_run:
                    connection.commit()
                done += len(chunk)
                if progress:
                    progress(done, len(due))
            if not dry_run and summary.notices >= STATISTICS_AFTER_NOTICES:
                dunning.refresh_statistics(connection)
            levels = dunning.level_counts(connection, app.tenant)
            top = max([len(p.levels) for p in known.values()] + list(levels))
            summary.by_level = {str(n): levels.get(n, 0) for n in range(1, top + 1)}
            connection.rollback()
        finally:
            if lock:
                connection.rollback()  # after a failed statement PostgreSQL refuses the unlock
                connection.exec_driver_sql("SELECT pg_advisory_unlock(hashtext(%s))", (lock,))
                connection.commit()
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _tenant_lock(connection: Any, tenant: str) -> str | None:
    if not is_postgres(connection):
        return None  # SQLite: every batch runs under BEGIN IMMEDIATE, one writer at a time
    key = f"pastdue-run:{tenant}"
    connection.exec_driver_sql("SELECT pg_advisory_lock(hashtext(%s))", (key,))
    connection.commit()
    return key


def calendar_for_policy(policy: Policy, as_of: date) -> Calendar:
    if policy.days is not DayCount.BUSINESS:
        return calendars.calendar_for(None, range(as_of.year - 1, as_of.year + 2))
    # Business-day offsets reach back to due dates years old and forward to future reviews.
    return calendars.calendar_for(policy.calendar, range(as_of.year - 3, as_of.year + 2))


def _run_batch(
    app: App,
    connection: Any,
    customer_ids: list[str],
    as_of: date,
    known: dict[str, Policy],
    default: str | None,
    cals: dict[str, Calendar],
    summary: RunSummary,
) -> None:
    cases = dunning.load_batch(connection, app.tenant, customer_ids, as_of)
    outcomes = []
    orphans: list[tuple[dunning.CustomerCase, list[Decision]]] = []
    for case in cases:
        summary.reviewed += len(case.invoices)
        policy = choose_policy(case.customer.policy, known, default)
        if policy is None:
            wanted = case.customer.policy or default or "(no default)"
            orphans.append(
                (
                    case,
                    [
                        Decision(
                            item.invoice.id,
                            Act.SKIP,
                            Reason.NO_POLICY,
                            f"policy {wanted!r} does not exist",
                            DunningState(item.state.level, item.state.reached_on, None, item.state.closed_on),
                        )
                        for item in case.invoices
                    ],
                )
            )
            continue
        outcome = decide(policy, case.customer, case.state, case.invoices, as_of, cals[policy.name])
        outcomes.append((case, policy, outcome))
    result = dunning.save_batch(connection, app.tenant, as_of, outcomes, orphans)
    audit.append(connection, app.tenant, result.events, app.clock())
    summary.decisions += result.decisions
    summary.actions += result.actions
    summary.notices += result.notices
    summary.skipped.update(result.skipped)
    summary.closed.update(result.closed)
