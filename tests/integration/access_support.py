"""Builders shared by the access tests (users, API keys, portal links): a clock that moves,
cheap password hashing, and readers for the rows and audit events they write.

Not a test module; the access tests import it by name, like ``store_support``, and load
its fixtures from ``access_fixtures``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher, profiles
from sqlalchemy import text
from store_support import customer_row, write_ledger

from conftest import FIXED_NOW
from pastdue import services
from pastdue.bootstrap import App

# The cheapest parameters argon2-cffi offers, meant for tests: a real hash takes a tenth
# of a second on purpose, and these tests hash dozens of times.
CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)
PASSWORD = "correct horse battery staple"


class MovingClock:
    """A clock a test sets forward by hand."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def add_customers(app: App, folder: Path, *ids: str) -> None:
    services.import_ledger(app, [write_ledger(folder, customers=[customer_row(cid) for cid in ids])])


def rows(app: App, table: str) -> list[dict[str, Any]]:
    """Every row of the tenant in one table, as plain dicts."""
    with app.engine.connect() as connection:
        result = connection.execute(text(f"SELECT * FROM {table} WHERE tenant_id = :t"), {"t": app.tenant})
        return [dict(row._mapping) for row in result]


def audit_events(app: App, kind: str) -> list[dict[str, Any]]:
    """The tenant's audit events of one kind, in order, payload parsed."""
    with app.engine.connect() as connection:
        result = connection.execute(
            text("SELECT subject, actor, payload FROM audit_events WHERE tenant_id = :t AND kind = :k ORDER BY seq"),
            {"t": app.tenant, "k": kind},
        )
        return [{"subject": r.subject, "actor": r.actor, **json.loads(r.payload)} for r in result]


def audit_text(app: App) -> str:
    """Everything the tenant's audit log holds, as one string to search for leaks."""
    with app.engine.connect() as connection:
        result = connection.execute(
            text("SELECT subject, payload FROM audit_events WHERE tenant_id = :t"), {"t": app.tenant}
        )
        return "\n".join(f"{r.subject} {r.payload}" for r in result)
