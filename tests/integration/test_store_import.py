"""Importing the CSV ledger: all or nothing, idempotent, audited, every problem at once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from store_support import (
    INVOICES_HEADER,
    audit_count,
    audit_head,
    customer_row,
    table_counts,
    write_ledger,
)

from pastdue import services
from pastdue.bootstrap import App
from pastdue.errors import Problem, ProblemsFound

# Every optional column, in an order of their own: columns are found by their names.
CUSTOMERS_HEADER = [
    "id",
    "kind",
    "name",
    "email",
    "phone",
    "country",
    "language",
    "timezone",
    "street",
    "postal_code",
    "city",
    "policy",
    "exempt",
]
CUSTOMERS = [
    [
        "C1",
        "business",
        "Acme GmbH",
        "ar@acme.example",
        "+4930123456",
        "DE",
        "de",
        "Europe/Berlin",
        "Hauptstraße 1",
        "10115",
        "Berlin",
        "standard",
        "false",
    ],
    [
        "C2",
        "consumer",
        "Sato Hanako",
        "hanako@example.jp",
        "+81312345678",
        "JP",
        "ja",
        "Asia/Tokyo",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        "C3",
        "public",
        "Stadt Musterhausen",
        "",
        "",
        "DE",
        "de",
        "Europe/Berlin",
        "Rathausplatz 1",
        "12345",
        "Musterhausen",
        "",
        "true",
    ],
]
INVOICES = [
    ["I1", "C1", "INV-1", "EUR", "1000.00", "2026-05-01", "2026-05-31"],
    ["I2", "C1", "INV-2", "EUR", "250.50", "2026-06-01", "2026-06-15"],
    ["I3", "C2", "INV-3", "JPY", "50000", "2026-05-10", "2026-06-10"],
    ["I4", "C3", "INV-4", "EUR", "99.99", "2026-06-01", "2026-07-01"],
]
PAYMENTS_HEADER = [
    "id",
    "invoice_id",
    "customer_id",
    "amount",
    "currency",
    "paid_on",
    "reference",
    "kind",
]
PAYMENTS = [
    ["P1", "I1", "C1", "400.00", "EUR", "2026-06-05", "RF18 INV-1", "payment"],
    ["P2", "I1", "", "100.00", "EUR", "2026-06-06", "credit note 7", "credit"],
    ["P3", "I3", "", "50000", "JPY", "2026-06-09", "", ""],
    ["P4", "", "C2", "1200", "JPY", "2026-06-20", "unknown remittance", "payment"],  # unapplied
]


def _ledger(folder: Path, **changes: list[list[str]]) -> Path:
    return write_ledger(
        folder,
        customers=changes.get("customers", CUSTOMERS),
        customers_header=CUSTOMERS_HEADER,
        invoices=changes.get("invoices", INVOICES),
        payments=changes.get("payments", PAYMENTS),
        payments_header=PAYMENTS_HEADER,
    )


def _open_amounts(app: App) -> dict[str, tuple[Decimal, str]]:
    return {r.number: (r.open_amount.amount, r.open_amount.currency) for r in services.invoices(app)}


def _snapshot(app: App) -> dict[str, Any]:
    """Everything a rejected import must leave exactly as it was."""
    return {
        "counts": table_counts(app),
        "audit_head": audit_head(app),
        "invoices": [(r.id, r.number, r.amount, r.open_amount, r.due_on, r.level) for r in services.invoices(app)],
    }


def _rejected(app: App, folder: Path) -> list[Problem]:
    with pytest.raises(ProblemsFound) as caught:
        services.import_ledger(app, [folder])
    return caught.value.problems


def _by_place(problems: list[Problem]) -> dict[tuple[str, int | None, str | None], str]:
    for problem in problems:
        where = f"{problem.source}:{problem.line}"
        assert str(problem) == f"{where}: {problem.field}: {problem.message}"
    places = {(Path(p.source).name, p.line, p.field): p.message for p in problems}
    assert len(places) == len(problems), problems
    return places


def test_a_ledger_with_every_optional_column_is_imported(app: App, tmp_path: Path) -> None:
    summary = services.import_ledger(app, [_ledger(tmp_path / "ledger")])

    assert summary.inserted == {"customers": 3, "invoices": 4, "payments": 4}
    assert summary.changed
    with app.engine.connect() as connection:
        customers = {
            r.id: r
            for r in connection.execute(
                text("SELECT id, street, postal_code, city, kind, policy, exempt FROM customers WHERE tenant_id = :t"),
                {"t": app.tenant},
            )
        }
        unapplied = connection.execute(
            text("SELECT invoice_id, customer_id, kind, reference FROM payments WHERE tenant_id = :t AND id = 'P4'"),
            {"t": app.tenant},
        ).one()
    assert (customers["C1"].street, customers["C1"].postal_code, customers["C1"].city) == (
        "Hauptstraße 1",
        "10115",
        "Berlin",
    )
    assert (customers["C1"].kind, customers["C1"].policy, bool(customers["C1"].exempt)) == (
        "business",
        "standard",
        False,
    )
    assert (customers["C2"].kind, customers["C2"].policy, bool(customers["C2"].exempt)) == (
        "consumer",
        None,
        False,
    )
    assert (customers["C3"].kind, bool(customers["C3"].exempt)) == ("public", True)
    assert tuple(unapplied) == (None, "C2", "payment", "unknown remittance")


def test_payments_and_credits_reduce_the_open_amount(app: App, tmp_path: Path) -> None:
    services.import_ledger(app, [_ledger(tmp_path / "ledger")])

    assert _open_amounts(app) == {
        "INV-1": (Decimal("500.00"), "EUR"),  # 1000.00 - 400.00 paid - 100.00 credited
        "INV-2": (Decimal("250.50"), "EUR"),
        "INV-3": (Decimal("0"), "JPY"),  # paid in full, in yen without decimals
        "INV-4": (Decimal("99.99"), "EUR"),
    }
    assert [r.number for r in services.invoices(app, open_only=True)] == ["INV-1", "INV-2", "INV-4"]

    later = [["P5", "I2", "", "50.50", "EUR", "2026-06-25", "", "payment"]]
    services.import_ledger(app, [_ledger(tmp_path / "later", payments=[*PAYMENTS, *later])])

    assert _open_amounts(app)["INV-2"] == (Decimal("200.00"), "EUR")


def test_reimporting_the_same_files_changes_nothing(app: App, tmp_path: Path) -> None:
    folder = _ledger(tmp_path / "ledger")
    services.import_ledger(app, [folder])
    before = _snapshot(app)
    events = services.verify_audit(app)

    summary = services.import_ledger(app, [folder])

    assert not summary.changed
    assert summary.unchanged == {"customers": 3, "invoices": 4, "payments": 4}
    assert summary.inserted == summary.updated == {"customers": 0, "invoices": 0, "payments": 0}
    assert _snapshot(app) == before
    assert services.verify_audit(app) == events


def test_a_changed_row_updates_the_record_and_records_an_update_event(app: App, tmp_path: Path) -> None:
    services.import_ledger(app, [_ledger(tmp_path / "ledger")])
    updates = audit_count(app, "update")
    invoices = [row[:] for row in INVOICES]
    invoices[1][4] = "300.00"  # INV-2: 250.50 -> 300.00
    customers = [row[:] for row in CUSTOMERS]
    customers[0][10] = "Hamburg"  # C1 moved
    payments = [row[:] for row in PAYMENTS]
    payments[0][3] = "450.00"  # P1 on INV-1: 400.00 -> 450.00

    summary = services.import_ledger(
        app,
        [_ledger(tmp_path / "changed", invoices=invoices, customers=customers, payments=payments)],
    )

    assert summary.updated == {"customers": 1, "invoices": 1, "payments": 1}
    assert summary.inserted == {"customers": 0, "invoices": 0, "payments": 0}
    assert _open_amounts(app)["INV-2"] == (Decimal("300.00"), "EUR")
    assert _open_amounts(app)["INV-1"] == (Decimal("450.00"), "EUR")
    assert audit_count(app, "update") == updates + 3
    with app.engine.connect() as connection:
        payloads = {
            row.subject: row.payload
            for row in connection.execute(
                text("SELECT subject, payload FROM audit_events WHERE tenant_id = :t AND kind = 'update'"),
                {"t": app.tenant},
            )
        }
    assert '"amount_minor":{"from":25050,"to":30000}' in payloads["I2"]
    assert '"city":{"from":"Berlin","to":"Hamburg"}' in payloads["C1"]
    assert '"amount_minor":{"from":40000,"to":45000}' in payloads["P1"]
    services.verify_audit(app)


def test_bad_rows_and_bad_headers_are_all_listed_and_nothing_is_imported(app: App, tmp_path: Path) -> None:
    services.import_ledger(app, [_ledger(tmp_path / "ledger")])
    before = _snapshot(app)
    folder = write_ledger(
        tmp_path / "bad",
        customers=[customer_row("C9")],  # a good row: rejected with the rest
        invoices=[
            ["I10", "C1", "INV-10", "EUR", "100.00", "2026-13-01", "2026-06-30"],
            ["I11", "C2", "INV-11", "JPY", "10.5", "2026-06-01", "2026-06-30"],
            ["I12", "C1", "INV-12", "EUR", "1.234", "2026-06-01", "2026-06-30"],
            ["I13", "C1", "INV-13", "EUR", "-5.00", "2026-06-01", "2026-06-30"],
            ["I14", "C1", "INV-14", "EUR", "12,50", "2026-06-01", "2026-06-30"],
            ["I15", "C1", "INV-15", "XYZ", "10.00", "2026-06-01", "2026-06-30"],
            ["I16", "C1", "INV-16", "EUR", "10.00", "2026-06-01", "2026-06-30"],  # good
        ],
        payments=[["P10", "I1", "10.00", "EUR", "note"]],
        payments_header=["id", "invoice_id", "amount", "currency", "memo"],  # no paid_on
    )

    places = _by_place(_rejected(app, folder))

    assert set(places) == {
        ("invoices.csv", 2, "issued_on"),
        ("invoices.csv", 3, "amount"),
        ("invoices.csv", 4, "amount"),
        ("invoices.csv", 5, "amount"),
        ("invoices.csv", 6, "amount"),
        ("invoices.csv", 7, "currency"),
        ("payments.csv", 1, "memo"),
        ("payments.csv", 1, "paid_on"),
    }
    assert "not a date" in places[("invoices.csv", 2, "issued_on")]
    assert places[("invoices.csv", 3, "amount")] == "'10.5' has 1 decimals; JPY allows 0"
    assert places[("invoices.csv", 4, "amount")] == "'1.234' has 3 decimals; EUR allows 2"
    assert "negative" in places[("invoices.csv", 5, "amount")]
    assert "not a decimal amount" in places[("invoices.csv", 6, "amount")]
    assert "unknown ISO 4217 currency" in places[("invoices.csv", 7, "currency")]
    assert places[("payments.csv", 1, "memo")].startswith("unknown column")
    assert places[("payments.csv", 1, "paid_on")] == "missing column"
    assert _snapshot(app) == before


def test_problems_across_rows_are_all_listed_and_nothing_is_imported(app: App, tmp_path: Path) -> None:
    services.import_ledger(app, [_ledger(tmp_path / "ledger")])
    before = _snapshot(app)
    folder = write_ledger(
        tmp_path / "bad",
        invoices=[
            ["I20", "C99", "INV-20", "EUR", "10.00", "2026-06-01", "2026-06-30"],
            ["I21", "C1", "INV-21", "EUR", "10.00", "2026-06-01", "2026-06-30"],
            ["I21", "C1", "INV-22", "EUR", "20.00", "2026-06-01", "2026-06-30"],
        ],
        payments_header=PAYMENTS_HEADER,
        payments=[
            ["P20", "I404", "", "10.00", "EUR", "2026-06-20", "", ""],
            ["P21", "I1", "", "10.00", "USD", "2026-06-20", "", ""],
            ["P22", "", "C77", "10.00", "EUR", "2026-06-20", "", ""],
            ["P23", "I2", "C1", "1.00", "EUR", "2026-06-20", "", ""],  # good
            ["P24", "I3", "C1", "5", "JPY", "2026-06-20", "", ""],
        ],
    )

    places = _by_place(_rejected(app, folder))

    assert set(places) == {
        ("invoices.csv", 2, "customer_id"),
        ("invoices.csv", 4, "id"),
        ("payments.csv", 2, "invoice_id"),
        ("payments.csv", 3, "currency"),
        ("payments.csv", 4, "customer_id"),
        ("payments.csv", 6, "customer_id"),
    }
    assert places[("invoices.csv", 2, "customer_id")] == "unknown customer 'C99'"
    assert places[("invoices.csv", 4, "id")].startswith("duplicate id 'I21' (first on line 3")
    assert places[("payments.csv", 2, "invoice_id")] == "unknown invoice 'I404'"
    assert places[("payments.csv", 3, "currency")] == "payment in USD for invoice 'I1' in EUR"
    assert places[("payments.csv", 4, "customer_id")] == "unknown customer 'C77'"
    assert places[("payments.csv", 6, "customer_id")] == ("customer 'C1' does not own invoice 'I3' (customer 'C2')")
    assert _snapshot(app) == before
    # The import is still possible once the files are right.
    services.import_ledger(app, [_ledger(tmp_path / "ledger")])


def test_row_and_cross_row_problems_are_listed_in_one_pass(app: App, tmp_path: Path) -> None:
    folder = write_ledger(
        tmp_path / "mixed",
        customers=[customer_row("C1"), customer_row("C2", name="")],  # C2 is refused on its own
        invoices=[
            ["I1", "C1", "INV-1", "EUR", "10.00", "2026-06-01", "2026-13-01"],  # bad date
            ["I2", "C2", "INV-2", "EUR", "10.00", "2026-06-01", "2026-06-30"],  # names refused C2
            ["I2", "C1", "INV-3", "EUR", "10.00", "2026-06-01", "2026-06-30"],  # duplicate id
        ],
        payments=[["P1", "I1", "5.00", "EUR", "2026-06-20"]],  # names refused I1
    )

    places = _by_place(_rejected(app, folder))

    assert set(places) == {
        ("customers.csv", 3, "name"),
        ("invoices.csv", 2, "due_on"),
        ("invoices.csv", 4, "id"),
    }, "a row that names a refused row is not also reported as naming an unknown one"
    assert table_counts(app)["invoices"] == 0


def test_an_unknown_column_in_any_file_is_a_problem_not_dropped(app: App, tmp_path: Path) -> None:
    folder = write_ledger(
        tmp_path / "extra",
        invoices=[
            ["I1", "C1", "INV-1", "EUR", "1.00", "2026-06-01", "2026-06-30", "5%"],
        ],
        invoices_header=[*INVOICES_HEADER, "discount"],
        customers=[customer_row("C1")],
    )

    places = _by_place(_rejected(app, folder))

    assert list(places) == [("invoices.csv", 1, "discount")]
    assert table_counts(app)["invoices"] == table_counts(app)["customers"] == 0
