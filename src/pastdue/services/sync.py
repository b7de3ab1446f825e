"""Pulling the ledger from an accounting connector, batch by batch, resumable at any point.

Each batch is one unit of work: its rows go through the CSV import's staging, checks and
merge, and the connector's cursor moves in the same transaction. A sync stopped between
two batches (a crash, a killed process, a failing connector) has committed whole batches
only, with the cursor just after the last of them, so the next sync goes on from there and
nothing is merged twice; were a batch pulled again all the same, the merge is an upsert by
id and would change nothing.

The connector is read outside any pastdue transaction: on SQLite a transaction holds the
database's write lock from its start, and no one else should wait for another system.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pastdue.bootstrap import App
from pastdue.errors import ProblemsFound, StoreError
from pastdue.importers.connectors.base import PART_SEPARATOR, Batch, Connector, check_batch
from pastdue.importers.ledger_format import LedgerKind
from pastdue.store import audit, ledger_checks, ledger_load, policies, sync_state
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work

DEFAULT_BATCH_SIZE = 1000


@dataclass
class SyncSummary:
    """What one sync did, added up over its batches."""

    source: str
    batches: int = 0  # batches that changed something or moved the cursor
    pulled: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LedgerKind, 0))
    inserted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LedgerKind, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LedgerKind, 0))
    withdrawn: int = 0  # payment parts set to zero because their payment no longer pays that invoice
    cursor: str | None = None

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "batches": self.batches,
            "pulled": {str(k): v for k, v in self.pulled.items()},
            "inserted": {str(k): v for k, v in self.inserted.items()},
            "updated": {str(k): v for k, v in self.updated.items()},
            "withdrawn": self.withdrawn,
            "cursor": self.cursor,
        }


def sync(app: App, connector: Connector, *, batch_size: int = DEFAULT_BATCH_SIZE) -> SyncSummary:
    """Pull and merge batches from the stored cursor until the connector has no more.

    Raises ProblemsFound (nothing of that batch changed; earlier batches stay committed)
    when a batch breaks the ledger's rules, and StoreError when another sync of the same
    source moved the cursor meanwhile.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    source = connector.name
    summary = SyncSummary(source)
    with unit_of_work(app.engine) as uow:
        policies.ensure_tenant(uow.connection, app.tenant, app.clock())
        cursor = sync_state.locked_cursor(uow.connection, app.tenant, source, app.clock())
        uow.commit()
    summary.cursor = cursor
    while True:
        batch = connector.pull(cursor, batch_size)
        problems = check_batch(batch, source)
        if problems:
            raise ProblemsFound(problems)
        _merge_batch(app, source, cursor, batch, summary)
        if batch.next_cursor is not None:
            cursor = summary.cursor = batch.next_cursor
        if not batch.more:
            break
    if summary.changed:
        with unit_of_work(app.engine) as uow:
            ledger_load.refresh_statistics(uow.connection)
            uow.commit()
    return summary


def _merge_batch(app: App, source: str, cursor: str | None, batch: Batch, summary: SyncSummary) -> None:
    """One batch and its cursor, in one transaction; a batch that moves nothing writes nothing."""
    counts = batch.counts()
    moved = batch.next_cursor is not None and batch.next_cursor != cursor
    if not any(counts.values()) and not moved:
        return
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        if sync_state.locked_cursor(connection, app.tenant, source, now) != cursor:
            raise StoreError(f"another sync of {source!r} moved its cursor meanwhile; nothing of this batch was merged")
        ledger_load.create_staging(connection)
        for kind in LedgerKind:
            sync_state.stage_batch(connection, kind, source, batch.rows(kind))
        withdrawn = sync_state.stage_withdrawn_parts(connection, app.tenant, PART_SEPARATOR)
        problems = ledger_checks.check_staged(connection, app.tenant)
        if problems:
            raise ProblemsFound(problems)
        merged = ledger_load.merge_staged(connection, app.tenant)
        event = AuditEvent(
            "sync",
            source,
            {
                "source": source,
                "from": cursor,
                "cursor": batch.next_cursor if moved else cursor,
                "rows": counts,
                "inserted": merged.inserted,
                "updated": merged.updated,
                "withdrawn": withdrawn,
            },
        )
        audit.append(connection, app.tenant, [event, *merged.events], now)
        if moved and batch.next_cursor is not None:
            sync_state.save_cursor(connection, app.tenant, source, batch.next_cursor, now)
        ledger_load.drop_staging(connection)
        uow.commit()
    summary.batches += 1
    summary.withdrawn += withdrawn
    for kind in LedgerKind:
        summary.pulled[kind] += counts[kind.value]
        summary.inserted[kind] += merged.inserted.get(kind.value, 0)
        summary.updated[kind] += merged.updated.get(kind.value, 0)
