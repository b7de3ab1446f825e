"""Setting up, importing the ledger and applying policies: each a unit of work that commits whole or not at all."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pastdue import calendars
from pastdue.bootstrap import App
from pastdue.core.policy import Policy, policy_from_toml
from pastdue.errors import Problem, ProblemsFound
from pastdue.gc_pause import cycle_collector_paused
from pastdue.importers.ledger_csv import ledger_files, read_ledger_file
from pastdue.store import audit, database, ledger_checks, ledger_load, policies
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work


def init(app: App) -> str:
    """Create or upgrade the schema and the tenant; returns the schema revision."""
    revision = database.migrate(app.engine)
    with unit_of_work(app.engine) as uow:
        policies.ensure_tenant(uow.connection, app.tenant, app.clock())
        uow.commit()
    return revision


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
    with cycle_collector_paused(), unit_of_work(app.engine) as uow:
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
            problems.extend(ledger_checks.check_staged(connection, app.tenant))
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
    return apply_policy_text(app, text, path.name, make_default=make_default)


def apply_policy_text(
    app: App, text: str, source: str, *, make_default: bool = False, actor: str = "pastdue"
) -> PolicyApplied:
    """:func:`apply_policy` for a policy already read (sent to the API, say); ``source``
    names it in problems."""
    policy, problems = policy_from_toml(text, source)
    if policy is not None and policy.calendar and not calendars.is_known_country(policy.calendar):
        problems = [Problem(source, None, "calendar", f"no holiday calendar for {policy.calendar!r}")]
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
                        actor,
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
