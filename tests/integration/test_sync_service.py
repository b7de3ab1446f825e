"""The sync service on a scripted connector: batches, cursors, refusals and withdrawn parts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from pastdue.bootstrap import App
from pastdue.errors import ProblemsFound, StoreError
from pastdue.importers.connectors.base import Batch, CustomerRow, InvoiceRow, PaymentRow
from pastdue.services.sync import sync
from pastdue.store import sync_state
from pastdue.store.database import unit_of_work

ACME = CustomerRow("C1", "Acme", "", "", "DE", "de", "Europe/Berlin", "", "", "", "business", None, False)
I1 = InvoiceRow("I1", "C1", "INV-1", "EUR", 10000, date(2026, 5, 1), date(2026, 5, 31))
I2 = InvoiceRow("I2", "C1", "INV-2", "EUR", 20000, date(2026, 5, 1), date(2026, 5, 31))
TRANSFER = PaymentRow("P1", "I1", "C1", "EUR", 10000, date(2026, 6, 1), "", "payment")
TRANSFER_PART = PaymentRow("P1/2", "I2", "C1", "EUR", 20000, date(2026, 6, 1), "", "payment")


class Scripted:
    """Returns its batches in turn; the cursor is the number of batches read."""

    name = "scripted"

    def __init__(self, *batches: Batch) -> None:
        self.batches = batches

    def pull(self, cursor: str | None, limit: int) -> Batch:
        done = int(cursor or 0)
        if done >= len(self.batches):
            return Batch(next_cursor=cursor)
        batch = self.batches[done]
        return Batch(batch.customers, batch.invoices, batch.payments, str(done + 1), done + 1 < len(self.batches))


def open_amounts(app: App) -> dict[str, int]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, amount_minor - paid_minor - credited_minor FROM invoices WHERE tenant_id = :t"),
            {"t": app.tenant},
        )
        return {row[0]: row[1] for row in rows}


def cursor(app: App) -> str | None:
    with app.engine.connect() as connection:
        return sync_state.stored_cursor(connection, app.tenant, "scripted")


def test_a_refused_batch_keeps_the_batches_before_it_and_their_cursor(app: App) -> None:
    orphan = I2._replace(customer_id="C9")
    connector = Scripted(Batch([ACME], [I1]), Batch(invoices=[orphan]))

    with pytest.raises(ProblemsFound) as refused:
        sync(app, connector)

    assert [p.message for p in refused.value.problems] == ["unknown customer 'C9'"]
    assert open_amounts(app) == {"I1": 10000}
    assert cursor(app) == "1"


def test_a_row_breaking_the_ledger_rules_is_refused_before_anything_is_written(app: App) -> None:
    with pytest.raises(ProblemsFound):
        sync(app, Scripted(Batch([ACME], [I1._replace(currency="EURO")])))
    assert open_amounts(app) == {}
    assert cursor(app) is None


def test_a_payment_restated_without_a_part_withdraws_the_part(app: App) -> None:
    sync(app, Scripted(Batch([ACME], [I1, I2], [TRANSFER, TRANSFER_PART])))
    assert open_amounts(app) == {"I1": 0, "I2": 0}

    unapplied = TRANSFER._replace(invoice_id=None, amount_minor=30000)
    again = Scripted(Batch(), Batch(payments=[unapplied]))
    summary = sync(app, again)

    assert summary.withdrawn == 1
    assert open_amounts(app) == {"I1": 10000, "I2": 20000}
    with app.engine.connect() as connection:
        changes = connection.execute(
            text("SELECT payload FROM audit_events WHERE tenant_id = :t AND kind = 'update' AND subject = 'P1/2'"),
            {"t": app.tenant},
        ).all()
    assert len(changes) == 1 and '"amount_minor":{"from":20000,"to":0}' in changes[0][0]


class MovedMeanwhile(Scripted):
    """Another sync of the same source commits while this one reads its connector."""

    def __init__(self, app: App, *batches: Batch) -> None:
        super().__init__(*batches)
        self.app = app

    def pull(self, cursor: str | None, limit: int) -> Batch:
        with unit_of_work(self.app.engine) as uow:
            sync_state.locked_cursor(uow.connection, self.app.tenant, self.name, self.app.clock())
            sync_state.save_cursor(uow.connection, self.app.tenant, self.name, "elsewhere", self.app.clock())
            uow.commit()
        return super().pull(cursor, limit)


def test_a_cursor_moved_by_another_sync_stops_this_one_unmerged(app: App) -> None:
    with pytest.raises(StoreError, match="moved its cursor meanwhile"):
        sync(app, MovedMeanwhile(app, Batch([ACME], [I1])))
    assert open_amounts(app) == {}
    assert cursor(app) == "elsewhere"
