"""``pastdue sync SOURCE`` in-process against a real Tryton database (see ``tests/tryton_books.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Cli

from tryton_support import TrytonBooks, books, require_trytond

pytest_plugins = ["cli_fixtures"]


@pytest.fixture
def tryton(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> TrytonBooks:
    require_trytond()
    return books(tmp_path / "tryton", tmp_path_factory.getbasetemp() / "tryton-template")


def test_sync_pulls_the_tryton_ledger_and_a_second_sync_changes_nothing(cli: Cli, tryton: TrytonBooks) -> None:
    cli("init")
    summary = cli.json("sync", tryton.spec(), "--json")
    assert summary["source"] == "tryton-books"
    assert summary["inserted"] == {"customers": 3, "invoices": 6, "payments": 4}

    open_items = {row["number"]: row["open_amount"] for row in cli.json("invoices", "--open", "--json")}
    assert open_items == {"1": "1200.00", "2": "250.50", "6": "100.00"}

    again = cli("sync", tryton.spec()).stdout.splitlines()
    assert again[-1] == "tryton-books: 0 batch(es) merged; nothing changed"


def test_sync_in_small_batches_reports_each_kind(cli: Cli, tryton: TrytonBooks) -> None:
    cli("init")
    lines = cli("sync", tryton.spec(), "--batch-size", "2").stdout.splitlines()
    assert lines[:3] == [
        # rows are restated in the batches that need them (a customer with each of its invoices)
        "customers: 8 pulled, 3 new, 0 updated",
        "invoices: 9 pulled, 6 new, 0 updated",
        "payments: 7 pulled, 4 new, 0 updated",
    ]
    assert lines[-1].startswith("tryton-books: ")
    assert "intact" in cli("audit", "verify").stdout


def test_sync_finds_the_database_through_the_trytond_configuration(cli: Cli, tryton: TrytonBooks) -> None:
    cli("init")
    spec = f"tryton://?config={tryton.config}&database={tryton.name}&settle=0"
    assert cli.json("sync", spec, "--json")["inserted"]["invoices"] == 6


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("xero://acme", "unknown source 'xero://acme'"),
        ("tryton:///nowhere/books.sqlite", "no Tryton database at /nowhere/books.sqlite"),
        ("tryton://?database=books", "config=FILE&database=NAME"),
    ],
)
def test_an_unusable_source_is_a_usage_error(cli: Cli, source: str, message: str) -> None:
    cli("init")
    result = cli("sync", source, expect=2)
    assert message in result.stderr
    assert result.stdout == ""
