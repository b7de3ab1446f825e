"""The connector contract: rows shaped as the ledger stages them, and checked by its rules."""

from __future__ import annotations

from datetime import date

from pastdue.importers.connectors.base import ROW_TYPES, Batch, CustomerRow, InvoiceRow, PaymentRow, check_batch
from pastdue.importers.ledger_format import STAGE_COLUMNS, LedgerKind

ACME = CustomerRow("C1", "Acme", "", "", "DE", "de", "Europe/Berlin", "", "", "", "business", None, False)
INVOICE = InvoiceRow("I1", "C1", "INV-1", "EUR", 12000, date(2026, 5, 1), date(2026, 5, 31))
PAYMENT = PaymentRow("P1", "I1", "C1", "EUR", 12000, date(2026, 6, 1), "", "payment")


def test_connector_rows_have_the_staged_columns_in_their_order() -> None:
    for kind in LedgerKind:
        assert ROW_TYPES[kind]._fields == STAGE_COLUMNS[kind]  # type: ignore[attr-defined]


def test_a_well_formed_batch_has_no_problem() -> None:
    assert check_batch(Batch([ACME], [INVOICE], [PAYMENT]), "books") == []


def test_every_broken_rule_is_reported_with_its_row() -> None:
    batch = Batch(
        [ACME._replace(country="Germany", timezone="Mars/Olympus", language="German")],
        [INVOICE._replace(currency="XXX", due_on=date(2026, 4, 1)), INVOICE._replace(id="I2", amount_minor=-5)],
        [PAYMENT._replace(amount_minor=0, kind="gift"), PAYMENT._replace(id="P2", invoice_id=None, customer_id=None)],
    )
    messages = [problem.message for problem in check_batch(batch, "books")]
    assert messages == [
        "customers 'C1': not an ISO 3166 country code: 'Germany'",
        "customers 'C1': not a language code: 'German'",
        "customers 'C1': unknown IANA time zone: 'Mars/Olympus'",
        "invoices 'I1': unknown ISO 4217 currency 'XXX'",
        "invoices 'I1': due_on 2026-04-01 is before issued_on 2026-05-01",
        "invoices 'I2': amount must be a whole number of minor units, not negative: -5",
        "payments 'P1': amount must be greater than zero",
        "payments 'P1': kind must be payment or credit",
        "payments 'P2': neither invoice_id nor customer_id says whose payment this is",
    ]
    assert {problem.source for problem in check_batch(batch, "books")} == {"books"}


def test_text_wider_than_its_column_is_refused() -> None:
    batch = Batch([ACME._replace(name="x" * 201)], [INVOICE._replace(number="n" * 65)])
    assert [p.message for p in check_batch(batch, "books")] == [
        "customers 'C1': name is longer than 200 characters",
        "invoices 'I1': number is longer than 64 characters",
    ]
