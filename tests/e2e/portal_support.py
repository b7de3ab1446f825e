"""Builders shared by the portal tests: a small ledger of two customers, a portal link for
each, and the app on a real uvicorn server on loopback (starlette's TestClient is not used:
it is deprecated and warnings are errors here).

Not a test module; the portal tests import it by name, as the CLI tests import ``cli_support``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from conftest import FIXED_NOW
from pastdue import services
from pastdue.bootstrap import App
from pastdue.policies import standard_policy_toml
from pastdue.services.portal_links import create_portal_link

TODAY = FIXED_NOW.date()  # 2026-06-30

CUSTOMERS = [
    ["id", "name", "email", "phone", "country", "language", "timezone"],
    ["alice", "Alice & Söhne <GmbH>", "ar@alice.example", "+4930123456", "DE", "de", "Europe/Berlin"],
    ["bob", "Bob Secretive Ltd", "ap@bob.example", "+441234567", "GB", "en", "Europe/London"],
]
INVOICES = [
    ["id", "customer_id", "number", "currency", "amount", "issued_on", "due_on"],
    ["a1", "alice", "A-001", "EUR", "100.00", "2026-05-01", "2026-05-31"],
    ["a2", "alice", "A-002", "EUR", "50.50", "2026-05-10", "2026-06-10"],
    ["a3", "alice", "A-003", "USD", "20.00", "2026-05-20", "2026-06-20"],
    ["b1", "bob", "B-SECRET-1", "EUR", "999.99", "2026-05-01", "2026-05-15"],
]
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


class MovingClock:
    """A clock the test sets forward: links expire, promises come due."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


def _write(path: Path, rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def stock(app: App, folder: Path) -> None:
    """Import the two customers' ledger and the standard policy into ``app``."""
    ledger = folder / "ledger"
    ledger.mkdir(parents=True, exist_ok=True)
    _write(ledger / "customers.csv", CUSTOMERS)
    _write(ledger / "invoices.csv", INVOICES)
    services.import_ledger(app, [ledger])
    policy = folder / "standard.toml"
    policy.write_text(standard_policy_toml("step"), encoding="utf-8")
    services.apply_policy(app, policy)


@dataclass(frozen=True)
class Portal:
    """A customer's portal path and the form secret its page shows."""

    path: str
    token: str


def link(app: App, customer_id: str, days: int = 30) -> Portal:
    token = create_portal_link(app, customer_id, days).rsplit("/", 1)[1]
    return Portal(f"/portal/{token}", token)


def form_secret(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the page has no form secret"
    return found.group(1)


