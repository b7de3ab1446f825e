"""Use cases: each one a unit of work that commits whole or not at all.

The CLI, the web app and library users call these; they pick no adapters themselves (the
:class:`~pastdue.bootstrap.App` carries them) and hold no business rules (the core does).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pastdue import calendars
from pastdue.bootstrap import App
from pastdue.core.calendar import Calendar
from pastdue.core.engine import Act, Decision, Reason, decide
from pastdue.core.model import DunningState, HoldReason
from pastdue.core.policy import DayCount, Policy, choose_policy, policy_from_toml
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.importers.ledger_csv import ledger_files, read_ledger_file
from pastdue.store import audit, database, dunning, holds, ledger_load, policies, queries
from pastdue.store.audit import AuditEvent
from pastdue.store.database import is_postgres, unit_of_work

RUN_BATCH_INVOICES = 100_000


def init(app: App) -> str:
    """Create or upgrade the schema and the tenant; returns the schema revision."""
    revision = database.migrate(app.engine)
    with unit_of_work(app.engine) as uow:
        policies.ensure_tenant(uow.connection, app.tenant, app.clock())
        uow.commit()
    return revision


# --- ledger import ---------------------------------------------------------------------


@dataclass
class ImportSummary:
    files: dict[str, int] = field(default_factory=dict)  # file -> rows read
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())


def import_ledger(app: App, paths: list[Path]) -> ImportSummary:
    """Import ledger CSV files all-or-nothing; raises ProblemsFound listing every problem."""
    files, problems = ledger_files(paths)
    if problems:
        raise ProblemsFound(problems)
    summary = ImportSummary()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        policies.ensure_tenant(connection, app.tenant, app.clock())
        ledger_load.create_staging(connection)
        digests: dict[str, str] = {}
        unreadable = False  # a file refused as a whole: its rows cannot vouch for references
        for path in files:
            ledger, batches = read_ledger_file(path)
            ledger_load.stage_rows(connection, ledger.kind, ledger.source, batches)
            ledger_load.stage_rejected(connection, ledger.kind, ledger.rejected)
            problems.extend(ledger.problems)
            unreadable |= bool(ledger.problems) and ledger.rows == 0
            summary.files[ledger.source] = ledger.rows
            digests[ledger.source] = _sha256(path)
        # Checks across rows run even when single rows failed, so one pass lists everything.
        if not unreadable:
            problems.extend(ledger_load.check_staged(connection, app.tenant))
        if problems:
            raise ProblemsFound(sorted(problems, key=lambda p: (p.source, p.line or 0)))
        counts = ledger_load.merge_staged(connection, app.tenant)
        summary.inserted, summary.updated, summary.unchanged = (
            counts.inserted,
            counts.updated,
            counts.unchanged,
        )
        if counts.changed:
            event = AuditEvent(
                "import",
                None,
                {
                    "files": [{"file": f, "rows": n, "sha256": digests[f]} for f, n in summary.files.items()],
                    "inserted": counts.inserted,
                    "updated": counts.updated,
                },
            )
            audit.append(connection, app.tenant, [event, *counts.events], app.clock())
        ledger_load.drop_staging(connection)
        if counts.changed:
            ledger_load.refresh_statistics(connection)
        uow.commit()
    return summary


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- policies --------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyApplied:
    name: str
    version: int | None  # None: identical to the stored version, nothing changed
    default: bool


def apply_policy(app: App, path: Path, make_default: bool = False) -> PolicyApplied:
    """Store a policy file as a new version (if it changed); the first one becomes the default."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemsFound([Problem(str(path), None, None, f"cannot read: {exc}")]) from exc
    policy, problems = policy_from_toml(text, path.name)
    if policy is not None and policy.calendar and not calendars.is_known_country(policy.calendar):
        problems = [Problem(path.name, None, "calendar", f"no holiday calendar for {policy.calendar!r}")]
    if policy is None or problems:
        raise ProblemsFound(problems)
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        policies.ensure_tenant(connection, app.tenant, now)
        version = policies.store_policy(connection, app.tenant, policy, now)
        is_default = policies.set_default(connection, app.tenant, policy.name, only_if_unset=not make_default)
        if version is not None or is_default:
            audit.append(
                connection,
                app.tenant,
                [
                    AuditEvent(
                        "policy",
                        policy.name,
                        {
                            "name": policy.name,
                            "version": version,
                            "default": is_default,
                            "digest": policies.digest(policy),
                        },
                    )
                ],
                now,
            )
            policies.reset_reviews(connection, app.tenant)
        uow.commit()
    return PolicyApplied(policy.name, version, is_default)


def list_policies(app: App) -> tuple[dict[str, Policy], str | None]:
    with app.engine.connect() as connection:
        return policies.latest_policies(connection, app.tenant)


# --- the daily run ---------------------------------------------------------------------


@dataclass
class RunSummary:
    as_of: date
    reviewed: int = 0
    decisions: int = 0
    actions: int = 0
    notices: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
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
    with app.engine.connect() as connection:
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


# --- holds -----------------------------------------------------------------------------


def place_hold(
    app: App,
    *,
    reason: HoldReason,
    invoice_number: str | None = None,
    customer_id: str | None = None,
    until: date | None = None,
    note: str = "",
) -> str:
    """Pause dunning of one invoice or a whole customer; returns the hold id."""
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
                )
            ],
            now,
        )
        uow.commit()
    return hold_id


def release_hold(app: App, hold_id: str) -> None:
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
                )
            ],
            now,
        )
        uow.commit()


def active_holds(app: App, today: date) -> list[dict[str, object]]:
    with app.engine.connect() as connection:
        return holds.active(connection, app.tenant, today)


# --- reads -----------------------------------------------------------------------------


def invoices(app: App, *, open_only: bool = False, customer_id: str | None = None) -> Iterator[queries.InvoiceRow]:
    with app.engine.connect() as connection:
        yield from queries.list_invoices(connection, app.tenant, open_only=open_only, customer_id=customer_id)


def notices(app: App, *, as_of: date | None = None, status: str | None = None) -> list[queries.NoticeRow]:
    with app.engine.connect() as connection:
        return queries.list_notices(connection, app.tenant, as_of=as_of, status=status)


def verify_audit(app: App) -> int:
    """Number of events in an intact chain; raises AuditChainBroken at the first bad one."""
    with app.engine.connect() as connection:
        return audit.verify(connection, app.tenant)


def require_schema(app: App) -> None:
    """Refuse to work on a database that `pastdue init` has not prepared."""
    with app.engine.connect() as connection:
        if database.current_revision(connection) is None:
            raise NotFound("the database has no pastdue schema yet: run `pastdue init` first")
