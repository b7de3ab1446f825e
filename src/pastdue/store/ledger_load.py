"""Bulk loading of the CSV ledger: stage, check, merge, all in the caller's transaction.

Validated rows are first copied into temporary staging tables (COPY on PostgreSQL,
``executemany`` on SQLite). Checks that span rows or need the database — duplicate ids,
unknown customers and invoices, payment currencies — are then single SQL statements over
the staged rows, so memory stays flat however large the files are. Only when no problem
is found are the staged rows merged: new rows inserted, changed rows updated (each change
an audit event), and the touched invoices' paid amounts and review dates recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, text

from pastdue.importers.ledger_format import STAGE_COLUMNS, LedgerKind
from pastdue.store import tables
from pastdue.store.audit import AuditEvent
from pastdue.store.database import is_postgres
from pastdue.store.policies import NEEDS_REVIEW
from pastdue.store.sql import Raw

_TYPES = {
    "amount_minor": "BIGINT",
    "issued_on": "DATE",
    "due_on": "DATE",
    "paid_on": "DATE",
    "exempt": "BOOLEAN",
    "line": "INTEGER",
}
_TARGET = {
    LedgerKind.CUSTOMERS: "customers",
    LedgerKind.INVOICES: "invoices",
    LedgerKind.PAYMENTS: "payments",
}


def stage_table(kind: LedgerKind) -> str:
    return f"stage_{kind.value}"


@dataclass
class MergeCounts:
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    events: list[AuditEvent] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values())


def create_staging(connection: Connection) -> None:
    for kind in LedgerKind:
        name = stage_table(kind)
        columns = ", ".join(f"{c} {_TYPES.get(c, 'TEXT')}" for c in ("source", "line", *STAGE_COLUMNS[kind]))
        _temp_table(connection, name, columns)
    _temp_table(connection, "stage_rejected", "kind TEXT, id TEXT")


def stage_rejected(connection: Connection, kind: LedgerKind, ids: list[str]) -> None:
    """Remember ids of rows refused on their own: they exist, only not correctly."""
    Raw(connection).many("INSERT INTO stage_rejected (kind, id) VALUES (?, ?)", [(kind.value, i) for i in ids])


def drop_staging(connection: Connection) -> None:
    connection.exec_driver_sql("DROP TABLE IF EXISTS stage_rejected")
    for kind in LedgerKind:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {stage_table(kind)}")
    names = [f"dirty_{kind.value}" for kind in LedgerKind]
    for name in (*names, "touched_invoices", "touched_customers", "touched_existing", "invoice_sums"):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def stage_rows(connection: Connection, kind: LedgerKind, source: str, batches: Iterable[list[tuple[Any, ...]]]) -> int:
    """Copy validated row batches (each row ending with its line number) into staging."""
    columns = ("source", "line", *STAGE_COLUMNS[kind])
    name = stage_table(kind)
    count = 0

    def reordered(batch: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        for row in batch:
            yield (source, row[-1], *row[:-1])

    cursor = Raw(connection).cursor()
    if is_postgres(connection):
        with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
            for batch in batches:
                for row in reordered(batch):
                    copy.write_row(row)
                count += len(batch)
        return count
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})"
    for batch in batches:
        cursor.executemany(sql, reordered(batch))
        count += len(batch)
    return count


_DATA_COLUMNS = {kind: tuple(c for c in STAGE_COLUMNS[kind] if c != "id") for kind in LedgerKind}


def merge_staged(connection: Connection, tenant: str) -> MergeCounts:
    """Insert new rows, update changed ones, recompute balances; returns counts and events."""
    counts = MergeCounts()
    params = {"tenant": tenant}
    conditions = {
        kind: " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in _DATA_COLUMNS[kind]) for kind in LedgerKind
    }
    # First, before anything moves: which staged rows are new or changed ("dirty").
    for kind in LedgerKind:
        _temp_table(connection, f"dirty_{kind.value}", "id TEXT PRIMARY KEY")
        connection.execute(
            text(
                f"INSERT INTO dirty_{kind.value} (id) SELECT s.id FROM {stage_table(kind)} s "
                f"LEFT JOIN {_TARGET[kind]} t ON t.tenant_id = :tenant AND t.id = s.id "
                f"WHERE t.id IS NULL OR {conditions[kind]}"
            ),
            params,
        )
    _temp_table(connection, "touched_invoices", "id TEXT PRIMARY KEY")
    _temp_table(connection, "touched_customers", "id TEXT PRIMARY KEY")
    connection.execute(
        text("""
        INSERT INTO touched_invoices (id)
        SELECT id FROM dirty_invoices
        UNION SELECT s.invoice_id FROM stage_payments s JOIN dirty_payments d ON d.id = s.id
            WHERE s.invoice_id IS NOT NULL
        UNION SELECT p.invoice_id FROM payments p JOIN dirty_payments d ON d.id = p.id
            WHERE p.tenant_id = :tenant AND p.invoice_id IS NOT NULL"""),
        params,
    )
    connection.execute(
        text(
            "INSERT INTO touched_customers (id) SELECT d.id FROM dirty_customers d "
            "JOIN customers t ON t.tenant_id = :tenant AND t.id = d.id"
        ),
        params,
    )

    _prepare_balances(connection, tenant)
    with _bulk_load(connection):
        _merge_tables(connection, tenant, conditions, counts)
    _refresh_existing(connection, tenant)
    return counts


@contextmanager
def _bulk_load(connection: Connection) -> Iterator[None]:
    """Into empty ledger tables, insert first and build the secondary indexes after.

    Building an index from sorted rows is several times faster than growing it row by
    row; this only happens while the tables hold no row of any tenant, so nobody else's
    queries are affected, and it is one transaction with the inserts.
    """
    empty = [
        table
        for table in (tables.invoices, tables.payments)
        if connection.execute(select(table.c.tenant_id).limit(1)).first() is None
    ]
    indexes = [index for table in empty for index in table.indexes]
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


def _merge_tables(connection: Connection, tenant: str, conditions: dict[LedgerKind, str], counts: MergeCounts) -> None:
    params = {"tenant": tenant}
    for kind in LedgerKind:
        target, stage, cols = _TARGET[kind], stage_table(kind), _DATA_COLUMNS[kind]
        condition = conditions[kind]
        changed = list(
            connection.execute(
                text(
                    f"SELECT s.id, {', '.join('s.' + c for c in cols)}, {', '.join('t.' + c for c in cols)} "
                    f"FROM {stage} s JOIN {target} t ON t.tenant_id = :tenant AND t.id = s.id "
                    f"WHERE {condition} ORDER BY s.source, s.line"
                ),
                params,
            )
        )
        for row in changed:
            after, before = row[1 : 1 + len(cols)], row[1 + len(cols) :]
            diff = {
                c: {"from": _plain(b), "to": _plain(a)}
                for c, a, b in zip(cols, after, before, strict=True)
                if _plain(a) != _plain(b)
            }
            counts.events.append(AuditEvent("update", row[0], {"table": target, "id": row[0], "changes": diff}))
        if changed:
            assignments = ", ".join(f"{c} = s.{c}" for c in cols)
            connection.execute(
                text(
                    f"UPDATE {target} AS t SET {assignments} FROM {stage} s "
                    f"WHERE t.tenant_id = :tenant AND t.id = s.id AND ({condition})"
                ),
                params,
            )
        new = connection.execute(text(_insert_new(kind)), params).rowcount
        staged = connection.exec_driver_sql(f"SELECT COUNT(*) FROM {stage}").scalar_one()
        counts.inserted[kind.value] = new
        counts.updated[kind.value] = len(changed)
        counts.unchanged[kind.value] = staged - new - len(changed)


def _insert_new(kind: LedgerKind) -> str:
    """INSERT ... SELECT of the staged rows that are new, in key order (pages fill in turn).

    New invoices get their paid and credited sums and their first review date at once,
    rather than being inserted and then updated: the bulk of a first import.
    """
    target, stage, cols = _TARGET[kind], stage_table(kind), _DATA_COLUMNS[kind]
    names, values, join = list(cols), [f"s.{c}" for c in cols], ""
    if kind is LedgerKind.INVOICES:
        names += ["paid_minor", "credited_minor", "next_review_on"]
        values += [
            "COALESCE(m.paid, 0)",
            "COALESCE(m.credited, 0)",
            "CASE WHEN s.amount_minor - COALESCE(m.paid, 0) - COALESCE(m.credited, 0) > 0 THEN s.issued_on END",
        ]
        join = " LEFT JOIN invoice_sums m ON m.id = s.id"
    # CAST: PostgreSQL must deduce one type for :tenant (text here, varchar below).
    return (
        f"INSERT INTO {target} (tenant_id, id, {', '.join(names)}) "
        f"SELECT CAST(:tenant AS VARCHAR), s.id, {', '.join(values)} FROM {stage} s{join} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.tenant_id = :tenant AND t.id = s.id) "
        "ORDER BY s.id"
    )


def _prepare_balances(connection: Connection, tenant: str) -> None:
    """Before the merge: paid and credited sums of every touched invoice as they will be
    after it (staged payments, plus stored ones the import does not restate), and which of
    the touched invoices exist already."""
    params = {"tenant": tenant}
    _temp_table(connection, "invoice_sums", "id TEXT PRIMARY KEY, paid BIGINT, credited BIGINT")
    connection.execute(
        text("""
        INSERT INTO invoice_sums (id, paid, credited)
        SELECT u.invoice_id,
               SUM(CASE WHEN u.kind = 'payment' THEN u.amount_minor ELSE 0 END),
               SUM(CASE WHEN u.kind = 'credit' THEN u.amount_minor ELSE 0 END)
        FROM (
            SELECT s.invoice_id, s.amount_minor, s.kind FROM stage_payments s
            WHERE s.invoice_id IN (SELECT id FROM touched_invoices)
            UNION ALL
            SELECT p.invoice_id, p.amount_minor, p.kind FROM touched_invoices t
            CROSS JOIN payments p
            WHERE p.tenant_id = :tenant AND p.invoice_id = t.id
              AND NOT EXISTS (SELECT 1 FROM stage_payments s WHERE s.id = p.id)
        ) AS u
        GROUP BY u.invoice_id"""),
        params,
    )
    _temp_table(connection, "touched_existing", "id TEXT PRIMARY KEY")
    connection.execute(
        text(
            "INSERT INTO touched_existing (id) SELECT t.id FROM touched_invoices t "
            "WHERE EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = :tenant AND i.id = t.id)"
        ),
        params,
    )


def _refresh_existing(connection: Connection, tenant: str) -> None:
    """After the merge: new balances for touched invoices that existed before, and review.

    An invoice goes back into review when it is open, or when it has been dunned (so that a
    settled invoice closes its dunning and a reopened one resumes); ``issued_on`` is the
    earliest date on which any decision about it can be taken. A customer whose data
    changed (exempt, policy) has all such invoices reviewed again.
    """
    params = {"tenant": tenant}
    connection.execute(
        text("""
        UPDATE invoices SET
            paid_minor = COALESCE((SELECT m.paid FROM invoice_sums m WHERE m.id = invoices.id), 0),
            credited_minor = COALESCE((SELECT m.credited FROM invoice_sums m WHERE m.id = invoices.id), 0)
        WHERE tenant_id = :tenant AND id IN (SELECT id FROM touched_existing)"""),
        params,
    )
    for scope in ("id IN (SELECT id FROM touched_existing)", "customer_id IN (SELECT id FROM touched_customers)"):
        connection.execute(
            text(
                "UPDATE invoices SET next_review_on = issued_on "
                f"WHERE tenant_id = :tenant AND {scope} AND {NEEDS_REVIEW}"
            ),
            params,
        )


def refresh_statistics(connection: Connection) -> None:
    """Let PostgreSQL's planner see the new sizes: after a large import its guesses go stale.

    SQLite is left without statistics on purpose: its plans without them are the ones the
    queries are written for, and sampled statistics led it to scan whole indexes.
    """
    if is_postgres(connection):
        connection.exec_driver_sql("ANALYZE customers, invoices, payments")


def _temp_table(connection: Connection, name: str, columns: str) -> None:
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns})")


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
