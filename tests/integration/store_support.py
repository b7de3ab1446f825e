"""Builders shared by the store integration tests: ledgers as CSV, policies as TOML, snapshots.

Not a test module (no ``test_`` prefix); the store tests import it by name, the way the
core unit tests import ``helpers``.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from conftest import SHARED
from pastdue import services
from pastdue.bootstrap import App
from pastdue.policies import standard_policy_toml
from pastdue.store.tables import metadata

CUSTOMERS_HEADER = ["id", "name", "email", "phone", "country", "language", "timezone"]
INVOICES_HEADER = ["id", "customer_id", "number", "currency", "amount", "issued_on", "due_on"]
PAYMENTS_HEADER = ["id", "invoice_id", "amount", "currency", "paid_on"]


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_ledger(
    folder: Path,
    *,
    customers: Sequence[Sequence[object]] = (),
    invoices: Sequence[Sequence[object]] = (),
    payments: Sequence[Sequence[object]] = (),
    customers_header: Sequence[str] = CUSTOMERS_HEADER,
    invoices_header: Sequence[str] = INVOICES_HEADER,
    payments_header: Sequence[str] = PAYMENTS_HEADER,
) -> Path:
    """A ledger folder in the format of DESIGN.md section 4; empty files are left out."""
    for name, header, rows in (
        ("customers", customers_header, customers),
        ("invoices", invoices_header, invoices),
        ("payments", payments_header, payments),
    ):
        if rows:
            write_csv(folder / f"{name}.csv", header, rows)
    return folder


def customer_row(cid: str, name: str = "Acme GmbH") -> list[object]:
    return [cid, name, f"ar-{cid}@example.com", "+4930123456", "DE", "de", "Europe/Berlin"]


def apply_policy(app: App, folder: Path, escalation: str = "step") -> services.PolicyApplied:
    path = folder / f"standard-{escalation}.toml"
    path.write_text(standard_policy_toml(escalation), encoding="utf-8")
    return services.apply_policy(app, path)


def levels(app: App) -> dict[str, int]:
    """Current level of every invoice, by invoice id."""
    return {row.id: row.level for row in services.invoices(app)}


def table_counts(app: App) -> dict[str, int]:
    """Rows of this tenant in every table of the schema."""
    with app.engine.connect() as connection:
        return {
            table.name: connection.execute(
                text(f"SELECT COUNT(*) FROM {table.name} WHERE tenant_id = :t"), {"t": app.tenant}
            ).scalar_one()
            for table in metadata.sorted_tables
        }


def audit_head(app: App) -> tuple[int, str]:
    with app.engine.connect() as connection:
        row = connection.execute(
            text("SELECT seq, hash FROM audit_heads WHERE tenant_id = :t"), {"t": app.tenant}
        ).one()
        return int(row.seq), str(row.hash)


def audit_count(app: App, kind: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM audit_events WHERE tenant_id = :t"
    if kind is not None:
        sql += " AND kind = :k"
    with app.engine.connect() as connection:
        return int(connection.execute(text(sql), {"t": app.tenant, "k": kind}).scalar_one())


def dunning_actions(app: App) -> list[tuple[Any, ...]]:
    """Every applied level with its notice's customer and channel (notice ids embed the tenant)."""
    with app.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT a.invoice_id, a.level, a.applied_on, a.policy_name, a.policy_version, "
                "n.customer_id, n.channel FROM dunning_actions a LEFT JOIN notices n "
                "ON n.tenant_id = a.tenant_id AND n.id = a.notice_id WHERE a.tenant_id = :t"
            ),
            {"t": app.tenant},
        )
        return sorted((r[0], r[1], str(r[2]), r[3], r[4], r[5], r[6]) for r in rows)


def notice_summary(app: App) -> list[tuple[Any, ...]]:
    return sorted(
        (n.customer_id, n.channel, n.level, n.status, n.created_on, n.invoices) for n in services.notices(app)
    )


def make_dataset(out: Path, invoices: int = 2000, as_of: date = date(2026, 6, 30)) -> Path:
    """Run the shared benchmark generator into ``out``; skips when the generator is absent."""
    script = SHARED / "bench" / "make_dataset.py"
    if not script.is_file():
        pytest.skip(f"dataset generator not found at {script}")
    subprocess.run(
        [
            sys.executable,
            str(script),
            "--invoices",
            str(invoices),
            "--seed",
            "7",
            "--as-of",
            as_of.isoformat(),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out
