"""Checks of an import that need more than one row: run as SQL over the staged rows.

Duplicates, references to customers and invoices (staged, stored, or refused on their own
and so not to be reported twice), and currencies that must agree. Each check is one
statement, so memory stays flat however large the files are.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from pastdue.errors import Problem
from pastdue.importers.ledger_format import LedgerKind
from pastdue.store.ledger_load import stage_table


def check_staged(connection: Connection, tenant: str) -> list[Problem]:
    """Every problem that needs more than one row to see; empty when the import may merge."""
    for kind in LedgerKind:
        connection.exec_driver_sql(f"CREATE INDEX ix_{stage_table(kind)}_id ON {stage_table(kind)} (id)")
    connection.exec_driver_sql("CREATE INDEX ix_stage_invoices_number ON stage_invoices (number)")
    checks: list[tuple[str, str, str]] = []  # (field, message template, sql)
    for kind in LedgerKind:
        s = stage_table(kind)
        checks.append(
            (
                "id",
                "duplicate id {0!r} (first on line {1} of {2})",
                f"""
            SELECT s.source, s.line, s.id, f.line, f.source FROM {s} s
            JOIN {s} f ON f.id = s.id AND (f.source < s.source OR (f.source = s.source AND f.line < s.line))
            WHERE NOT EXISTS (SELECT 1 FROM {s} g WHERE g.id = s.id
                AND (g.source < f.source OR (g.source = f.source AND g.line < f.line)))""",
            )
        )
    checks += [
        (
            "number",
            "duplicate invoice number {0!r} (first on line {1} of {2})",
            """
            SELECT s.source, s.line, s.number, f.line, f.source FROM stage_invoices s
            JOIN stage_invoices f ON f.number = s.number AND f.id <> s.id
                AND (f.source < s.source OR (f.source = s.source AND f.line < s.line))""",
        ),
        (
            "number",
            "invoice number {0!r} already belongs to invoice {1!r}",
            """
            SELECT s.source, s.line, s.number, i.id FROM stage_invoices s
            JOIN invoices i ON i.tenant_id = :tenant AND i.number = s.number AND i.id <> s.id
            WHERE NOT EXISTS (SELECT 1 FROM stage_invoices r WHERE r.id = i.id AND r.number <> i.number)""",
        ),
        ("customer_id", "unknown customer {0!r}", _unknown("stage_invoices", "customer_id", LedgerKind.CUSTOMERS)),
        (
            "currency",
            "invoice has payments in {0} (payment {1!r})",
            """
            SELECT s.source, s.line, p.currency, p.id FROM stage_invoices s
            JOIN payments p ON p.tenant_id = :tenant AND p.invoice_id = s.id AND p.currency <> s.currency
            WHERE NOT EXISTS (SELECT 1 FROM stage_payments sp WHERE sp.id = p.id)""",
        ),
        ("invoice_id", "unknown invoice {0!r}", _unknown("stage_payments", "invoice_id", LedgerKind.INVOICES)),
        ("customer_id", "unknown customer {0!r}", _unknown("stage_payments", "customer_id", LedgerKind.CUSTOMERS)),
        (
            "currency",
            "payment in {0} for invoice {1!r} in {2}",
            """
            SELECT s.source, s.line, s.currency, s.invoice_id, COALESCE(si.currency, i.currency)
            FROM stage_payments s
            LEFT JOIN stage_invoices si ON si.id = s.invoice_id
            LEFT JOIN invoices i ON i.tenant_id = :tenant AND i.id = s.invoice_id
            WHERE s.invoice_id IS NOT NULL AND s.currency <> COALESCE(si.currency, i.currency)""",
        ),
        (
            "customer_id",
            "customer {0!r} does not own invoice {1!r} (customer {2!r})",
            """
            SELECT s.source, s.line, s.customer_id, s.invoice_id, COALESCE(si.customer_id, i.customer_id)
            FROM stage_payments s
            LEFT JOIN stage_invoices si ON si.id = s.invoice_id
            LEFT JOIN invoices i ON i.tenant_id = :tenant AND i.id = s.invoice_id
            WHERE s.invoice_id IS NOT NULL AND s.customer_id IS NOT NULL
              AND s.customer_id <> COALESCE(si.customer_id, i.customer_id)""",
        ),
    ]
    problems: list[Problem] = []
    for column, message, sql in checks:
        for row in connection.execute(text(sql + " LIMIT 10000"), {"tenant": tenant}):
            problems.append(Problem(row[0], row[1], column, message.format(*row[2:])))
    return problems


# Columns compared and copied per table (the key ``id`` excluded).


def _unknown(stage: str, column: str, kind: LedgerKind) -> str:
    """Staged rows whose ``column`` names a record that is neither staged, refused on its
    own (reported already), nor stored for the tenant."""
    return f"""
        SELECT s.source, s.line, s.{column} FROM {stage} s
        WHERE s.{column} IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {stage_table(kind)} k WHERE k.id = s.{column})
          AND NOT EXISTS (SELECT 1 FROM stage_rejected r WHERE r.kind = '{kind.value}' AND r.id = s.{column})
          AND NOT EXISTS (SELECT 1 FROM {kind.value} t WHERE t.tenant_id = :tenant AND t.id = s.{column})"""
