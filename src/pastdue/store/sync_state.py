"""Where a connector's sync stands (table ``sync_state``), and the staging of its batches.

The cursor is read with the row locked and written in the transaction that merges the
batch it ends, so a batch and its cursor are committed together or not at all, and two
syncs of one source take turns instead of merging the same batch twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from pastdue.importers.ledger_format import LedgerKind
from pastdue.store import ledger_load
from pastdue.store.sql import stamp


def locked_cursor(connection: Connection, tenant: str, source: str, now: datetime) -> str | None:
    """The stored cursor (None before the first batch), its row locked until the transaction ends."""
    connection.execute(
        text(
            "INSERT INTO sync_state (tenant_id, source, cursor, updated_at) "
            "VALUES (:tenant, :source, NULL, :now) ON CONFLICT DO NOTHING"
        ),
        {"tenant": tenant, "source": source, "now": stamp(now)},
    )
    lock = " FOR UPDATE" if connection.dialect.name == "postgresql" else ""  # SQLite: BEGIN IMMEDIATE
    value = connection.execute(
        text(f"SELECT cursor FROM sync_state WHERE tenant_id = :tenant AND source = :source{lock}"),
        {"tenant": tenant, "source": source},
    ).scalar_one()
    return None if value is None else str(value)


def stored_cursor(connection: Connection, tenant: str, source: str) -> str | None:
    value = connection.execute(
        text("SELECT cursor FROM sync_state WHERE tenant_id = :tenant AND source = :source"),
        {"tenant": tenant, "source": source},
    ).scalar_one_or_none()
    return None if value is None else str(value)


def save_cursor(connection: Connection, tenant: str, source: str, cursor: str, now: datetime) -> None:
    connection.execute(
        text(
            "UPDATE sync_state SET cursor = :cursor, updated_at = :now WHERE tenant_id = :tenant AND source = :source"
        ),
        {"tenant": tenant, "source": source, "cursor": cursor, "now": stamp(now)},
    )


def stage_batch(connection: Connection, kind: LedgerKind, source: str, rows: Sequence[tuple[Any, ...]]) -> int:
    """Stage a connector's rows as the CSV reader stages a file's: numbered, dates as ISO text."""
    numbered = [(*(_plain(value) for value in row), number) for number, row in enumerate(rows, start=1)]
    return ledger_load.stage_rows(connection, kind, source, [numbered])


def stage_withdrawn_parts(connection: Connection, tenant: str, separator: str) -> int:
    """Stage, with amount zero, the stored parts ``LEAD<separator>...`` of every staged lead
    that the batch does not restate; returns how many.

    Parts are found through the lead's customer (its invoices, then their payments), which
    the indexes serve, rather than by an id prefix, which no index of every backend does.
    """
    result = connection.execute(
        text(f"""
        INSERT INTO stage_payments
            (source, line, id, invoice_id, customer_id, currency, amount_minor, paid_on, reference, kind)
        SELECT DISTINCT 'withdrawn', 0, p.id, p.invoice_id, p.customer_id, p.currency, 0, p.paid_on,
               p.reference, p.kind
        FROM stage_payments s
        JOIN invoices i ON i.tenant_id = :tenant AND i.customer_id = s.customer_id
        JOIN payments p ON p.tenant_id = :tenant AND p.invoice_id = i.id
        WHERE s.customer_id IS NOT NULL AND p.amount_minor <> 0
          AND SUBSTR(p.id, 1, LENGTH(s.id) + 1) = s.id || '{separator}'
          AND NOT EXISTS (SELECT 1 FROM stage_payments x WHERE x.id = p.id)"""),
        {"tenant": tenant},
    )
    return int(result.rowcount)


def _plain(value: Any) -> Any:
    """Dates as ISO text, the way the CSV reader stages them (and SQLite stores them)."""
    return value.isoformat() if isinstance(value, date) else value
