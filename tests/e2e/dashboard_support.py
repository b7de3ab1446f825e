"""Builders shared by the dashboard tests: a small ledger that has something on every page,
one user per role, the app on a real uvicorn server on loopback, and a log-in helper.

The ledger, seen on 2026-06-30 after one run of a catch-up policy whose first level needs
approval: Alice owes EUR and USD and has reached the phone level; Bob's first reminder
waits for approval; Carol's invoice is not due yet. A bank statement leaves two credits
nobody could match.

Not a test module; the dashboard tests import it by name, as the CLI tests import ``cli_support``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from argon2 import PasswordHasher, profiles

from conftest import FIXED_NOW
from pastdue import services
from pastdue.bootstrap import App, build
from pastdue.core.money import Money
from pastdue.importers.camt_write import Booking, camt053
from pastdue.services.statements import import_statement
from pastdue.services.users import add_user
from pastdue.settings import Settings

TODAY = FIXED_NOW.date()  # 2026-06-30
PASSWORD = "correct horse battery staple"
CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)
USERS = {"admin": "ann@shop.example", "collector": "carl@shop.example", "viewer": "vera@shop.example"}

CUSTOMERS = [
    ["id", "name", "email", "phone", "country", "language", "timezone"],
    ["alice", "Alice & Söhne <GmbH>", "ar@alice.example", "+4930123456", "DE", "de", "Europe/Berlin"],
    ["bob", "Bob Ltd", "ap@bob.example", "+441234567", "GB", "en", "Europe/London"],
    ["carol", "Carol SARL", "compta@carol.example", "+33123456789", "FR", "fr", "Europe/Paris"],
]
INVOICES = [
    ["id", "customer_id", "number", "currency", "amount", "issued_on", "due_on"],
    ["a1", "alice", "A-001", "EUR", "100.00", "2026-05-01", "2026-05-31"],
    ["a2", "alice", "A-002", "EUR", "50.50", "2026-05-10", "2026-06-10"],
    ["a3", "alice", "A-003", "USD", "20.00", "2026-05-20", "2026-06-20"],
    ["b1", "bob", "B-001", "EUR", "999.99", "2026-05-30", "2026-06-29"],
    ["c1", "carol", "C-001", "EUR", "10.00", "2026-06-15", "2026-07-15"],
]
PAYMENTS = [
    ["id", "invoice_id", "amount", "currency", "paid_on"],
    ["p1", "a2", "10.50", "EUR", "2026-06-15"],
]
POLICY = """
name = "desk"
escalation = "catch-up"
min_days_between_notices = 7

[[levels]]
name = "reminder"
after_days = 1
channels = ["email"]
requires_approval = true

[[levels]]
name = "second reminder"
after_days = 8
channels = ["email"]

[[levels]]
name = "phone call"
after_days = 15
channels = ["phone"]

[[levels]]
name = "final notice"
after_days = 31
channels = ["letter"]
"""
ACCOUNT = "DE89370400440532013000"
STRANGER_IBAN = "DE44500105175407324931"


def _write(path: Path, rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def shop_app(
    folder: Path,
    *,
    run: bool = True,
    database_url: str | None = None,
    tenant: str = "shop",
    clock: Callable[[], datetime] = lambda: FIXED_NOW,
) -> App:
    """An initialised App (on SQLite in ``folder`` unless a database is named) holding the
    ledger above after one run (or before any, with ``run=False``); ``clock`` for tests that
    move time along."""
    url = database_url or f"sqlite:///{folder / 'pastdue.db'}"
    app = build(Settings(database_url=url, tenant=tenant), clock, CHEAP)
    services.init(app)
    ledger = folder / "ledger"
    ledger.mkdir(parents=True, exist_ok=True)
    _write(ledger / "customers.csv", CUSTOMERS)
    _write(ledger / "invoices.csv", INVOICES)
    _write(ledger / "payments.csv", PAYMENTS)
    services.import_ledger(app, [ledger])
    policy = folder / "desk.toml"
    policy.write_text(POLICY, encoding="utf-8")
    services.apply_policy(app, policy)
    if run:
        services.run_dunning(app, TODAY)
    statement = folder / "statement.xml"
    booked = date(2026, 6, 29)
    credits = [
        Booking(Money(Decimal("13.37"), "EUR"), booked, "lunch", "Someone", STRANGER_IBAN, "E2E-1"),
        Booking(Money(Decimal("42.00"), "EUR"), booked, "refund?", "Another", STRANGER_IBAN, "E2E-2"),
    ]
    statement.write_bytes(camt053(credits, account=ACCOUNT, statement_id=f"s1-{tenant}"))
    import_statement(app, statement)
    for role, email in USERS.items():
        add_user(app, email, role.title(), role, PASSWORD)
    return app


def form_secret(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, "the page has no form secret"
    return found.group(1)


def log_in(client: httpx.Client, role: str) -> str:
    """Log the client in as the user of ``role``; returns the session's form secret."""
    page = client.get("/login")
    sent = {"csrf": form_secret(page.text), "email": USERS[role], "password": PASSWORD, "next": "/"}
    answer = client.post("/login", data=sent)
    assert answer.status_code == 303, answer.text
    return form_secret(client.get("/worklist").text)


