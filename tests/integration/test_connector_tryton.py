"""The Tryton connector against a real Tryton database, synced into pastdue on each store.

The books (``tests/tryton_books.py``) as of June 2026, in EUR unless said otherwise:
Acme owes 1200.00 (move 1) and 250.50 (move 2) and paid 50.50 on account; Bolt paid its
40.00 (move 4) and owes 100.00 USD (move 6); Cobb paid 100.00 (move 7) and 200.00 (move 8)
with one transfer of 300.00. Later Acme pays the other 200.00 of move 2, Cobb gets a new
invoice of 75.00 (move 11), and Cobb's transfer is taken off its invoices again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from pastdue.bootstrap import App
from pastdue.errors import ConfigurationError
from pastdue.importers.connectors.base import Batch, Connector, check_batch
from pastdue.importers.connectors.tryton import TrytonConnector, open_connector
from pastdue.services.sync import sync
from pastdue.store import sync_state
from tryton_support import TrytonBooks, books, require_trytond

pytestmark = pytest.mark.usefixtures("trytond_installed")

SOURCE = "tryton-books"
FIRST_BALANCES = {
    # number: (currency, amount, open amount) in minor units
    "1": ("EUR", 120000, 120000),
    "2": ("EUR", 25050, 25050),
    "4": ("EUR", 4000, 0),
    "6": ("USD", 10000, 10000),
    "7": ("EUR", 10000, 0),
    "8": ("EUR", 20000, 0),
}


@pytest.fixture(scope="module")
def trytond_installed() -> None:
    require_trytond()


@pytest.fixture
def tryton(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> TrytonBooks:
    return books(tmp_path / "tryton", tmp_path_factory.getbasetemp() / "tryton-template")


@pytest.fixture
def connector(tryton: TrytonBooks) -> Iterator[TrytonConnector]:
    opened = open_connector(tryton.spec())
    yield opened
    opened.close()


def balances(app: App) -> dict[str, tuple[str, int, int]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT number, currency, amount_minor, amount_minor - paid_minor - credited_minor "
                "FROM invoices WHERE tenant_id = :tenant"
            ),
            {"tenant": app.tenant},
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}


def payments(app: App) -> dict[str, tuple[Any, ...]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, invoice_id, customer_id, currency, amount_minor, kind "
                "FROM payments WHERE tenant_id = :tenant ORDER BY id"
            ),
            {"tenant": app.tenant},
        )
        return {row[0]: tuple(row[1:]) for row in rows}


def cursor_of(app: App) -> str | None:
    with app.engine.connect() as connection:
        return sync_state.stored_cursor(connection, app.tenant, SOURCE)


def sync_events(app: App) -> list[dict[str, Any]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT payload FROM audit_events WHERE tenant_id = :tenant AND kind = 'sync' ORDER BY seq"),
            {"tenant": app.tenant},
        )
        return [json.loads(row[0]) for row in rows]


def test_first_sync_brings_customers_invoices_and_open_balances(app: App, connector: TrytonConnector) -> None:
    summary = sync(app, connector)

    assert summary.inserted == {"customers": 3, "invoices": 6, "payments": 4}
    assert balances(app) == FIRST_BALANCES
    with app.engine.connect() as connection:
        customers = {
            row[0]: tuple(row[1:])
            for row in connection.execute(
                text(
                    "SELECT id, name, email, phone, country, language, timezone, street, postal_code, city "
                    "FROM customers WHERE tenant_id = :tenant"
                ),
                {"tenant": app.tenant},
            )
        }
    acme = connector.customer_id(2)
    assert customers[acme] == (
        "Acme GmbH",
        "ap@acme.example",
        "+4930123456",
        "DE",
        "de",
        "Europe/Berlin",
        "Hauptstraße 1",
        "10115",
        "Berlin",
    )
    assert {c[0] for c in customers.values()} == {"Acme GmbH", "Bolt Ltd", "Cobb Inc"}  # not the company itself
    # Acme's 50.50 on account is unapplied cash; Cobb's one transfer pays two invoices.
    on_account = connector.line_id(6)
    transfer = connector.line_id(18)
    assert payments(app)[on_account] == (None, acme, "EUR", 5050, "payment")
    assert payments(app)[transfer][:4] == (connector.line_id(13), connector.customer_id(4), "EUR", 10000)
    assert payments(app)[f"{transfer}/15"][:4] == (connector.line_id(15), connector.customer_id(4), "EUR", 20000)
    assert cursor_of(app) == summary.cursor is not None


def test_second_sync_pulls_only_what_changed_and_the_cursor_moves(
    app: App, tryton: TrytonBooks, connector: TrytonConnector
) -> None:
    sync(app, connector)
    first_cursor = cursor_of(app)
    assert sync(app, connector).batches == 0  # nothing new: no batch, no audit event

    tryton.run("more")
    summary = sync(app, connector)

    assert summary.inserted == {"customers": 0, "invoices": 1, "payments": 1}
    # Acme's new e-mail; its 50.50 on account now allocated to move 2
    assert summary.updated == {"customers": 1, "invoices": 0, "payments": 1}
    assert summary.pulled["invoices"] == 2  # the new invoice, and move 2's reconciled line
    expected = FIRST_BALANCES | {"2": ("EUR", 25050, 0), "11": ("EUR", 7500, 7500)}
    assert balances(app) == expected
    assert cursor_of(app) not in (None, first_cursor)
    events = sync_events(app)
    assert len(events) == 2
    assert events[1]["from"] == first_cursor and events[1]["cursor"] == cursor_of(app)
    assert events[1]["source"] == SOURCE and events[1]["inserted"]["invoices"] == 1


def test_a_reconciliation_undone_in_tryton_reopens_its_invoices(
    app: App, tryton: TrytonBooks, connector: TrytonConnector
) -> None:
    sync(app, connector)
    tryton.run("unreconcile")

    summary = sync(app, connector)

    assert summary.withdrawn == 1  # the part of the transfer that paid move 8
    assert balances(app)["7"] == ("EUR", 10000, 10000)
    assert balances(app)["8"] == ("EUR", 20000, 20000)
    transfer = connector.line_id(18)
    assert payments(app)[transfer] == (None, connector.customer_id(4), "EUR", 30000, "payment")
    assert payments(app)[f"{transfer}/15"][3] == 0


class FailsAfter:
    """A connector that fails after ``batches`` pulls, the way a network or a process dies."""

    def __init__(self, inner: Connector, batches: int) -> None:
        self.inner = inner
        self.left = batches

    @property
    def name(self) -> str:
        return self.inner.name

    def pull(self, cursor: str | None, limit: int) -> Batch:
        if self.left == 0:
            raise ConnectionError("connection to Tryton lost")
        self.left -= 1
        return self.inner.pull(cursor, limit)


@pytest.fixture
def two_apps(make_app: Callable[..., App]) -> Iterator[tuple[App, App]]:
    """Two tenants on the test database: one synced whole, one interrupted."""
    built = make_app(f"whole{uuid.uuid4().hex[:8]}"), make_app(f"broken{uuid.uuid4().hex[:8]}")
    yield built
    for one in built:
        one.engine.dispose()


def test_an_interrupted_sync_resumes_with_no_duplicate(
    two_apps: tuple[App, App], tryton: TrytonBooks, connector: TrytonConnector
) -> None:
    whole, broken = two_apps
    sync(whole, connector)
    with pytest.raises(ConnectionError):
        sync(broken, FailsAfter(connector, 1), batch_size=1)
    after_one = cursor_of(broken)
    assert after_one is not None  # the first batch and its cursor were committed together
    assert len(sync_events(broken)) == 1
    tryton.run("more")
    sync(whole, connector)
    with pytest.raises(ConnectionError):
        sync(broken, FailsAfter(connector, 3), batch_size=1)
    assert cursor_of(broken) != after_one

    resumed = sync(broken, connector, batch_size=1)

    assert resumed.batches > 1
    assert balances(broken) == balances(whole)
    assert payments(broken) == payments(whole)  # same ids, same amounts: nothing twice
    assert cursor_of(broken) == cursor_of(whole)
    assert sync(broken, connector, batch_size=1).batches == 0


def test_every_pulled_row_meets_the_ledger_rules(connector: TrytonConnector) -> None:
    batch = connector.pull(None, 1000)
    assert not batch.more
    assert check_batch(batch, connector.name) == []
    assert connector.pull(batch.next_cursor, 1000).counts() == {"customers": 0, "invoices": 0, "payments": 0}


def test_small_batches_page_through_everything(connector: TrytonConnector) -> None:
    cursor, seen, pulls = None, set(), 0
    while True:
        batch = connector.pull(cursor, 2)
        pulls += 1
        seen |= {row.id for row in batch.invoices}
        cursor = batch.next_cursor
        if not batch.more:
            break
    assert pulls > 3
    assert len(seen) == len(FIRST_BALANCES)


def test_rows_newer_than_the_settling_time_wait_for_the_next_sync(tryton: TrytonBooks) -> None:
    waiting = open_connector(tryton.spec(settle="3600"))
    try:
        batch = waiting.pull(None, 100)
    finally:
        waiting.close()
    assert batch.counts() == {"customers": 0, "invoices": 0, "payments": 0}
    assert not batch.more


def test_a_source_is_found_through_the_trytond_configuration(tryton: TrytonBooks) -> None:
    found = open_connector(f"tryton://?config={tryton.config}&database={tryton.name}&settle=0")
    try:
        assert found.name == SOURCE
        assert len(found.pull(None, 100).invoices) == len(FIRST_BALANCES)
    finally:
        found.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("tryton:///nowhere/books.sqlite", "no Tryton database"),
        ("tryton://host/books.sqlite", "three slashes"),
        ("tryton://?database=books", "config=FILE"),
        ("tryton:///{path}?company=99", "choose a company"),
        ("tryton:///{path}?settle=soon", "could not convert"),
    ],
)
def test_a_bad_source_spec_is_a_configuration_error(tryton: TrytonBooks, spec: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        open_connector(spec.replace("/{path}", str(tryton.path)))
