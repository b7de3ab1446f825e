"""Reports, the audit chain and the demo, through the CLI."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from cli_support import AS_OF, Cli
from pypdf import PdfReader

from pastdue.errors import ConfigurationError
from pastdue.pdf import check_pdf_support

pytest_plugins = ["cli_fixtures"]

BUCKETS = ["not_yet_due", "1-30", "31-60", "61-90", "over_90"]


def open_totals(cli: Cli) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in cli.json("invoices", "--open", "--json"):
        currency = row["currency"]
        totals[currency] = totals.get(currency, Decimal(0)) + Decimal(row["open_amount"])
    return totals


def test_aging_csv_buckets_add_up_to_the_open_balance(after_run: Cli) -> None:
    text = after_run("report", "aging", "--as-of", AS_OF, "--format", "csv").stdout

    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["currency", *BUCKETS, "total"]
    table = {row[0]: row[1:] for row in rows[1:]}
    assert table == {
        "EUR": ["0.00", "200.00", "1200.00", "0.00", "0.00", "1400.00"],
        "GBP": ["80.00", "0.00", "0.00", "0.00", "0.00", "80.00"],
        "USD": ["0.00", "999.99", "0.00", "0.00", "0.00", "999.99"],
    }
    for *buckets, total in table.values():
        assert sum(map(Decimal, buckets)) == Decimal(total)
    totals = {currency: Decimal(values[-1]) for currency, values in table.items()}
    assert totals == open_totals(after_run)


def test_aging_json_has_the_same_buckets(after_run: Cli) -> None:
    data = after_run.json("report", "aging", "--as-of", AS_OF, "--format", "json")
    assert data["as_of"] == AS_OF
    assert set(data["currencies"]) == {"EUR", "GBP", "USD"}
    for currency, buckets in data["currencies"].items():
        assert list(buckets) == BUCKETS
        assert sum(map(Decimal, buckets.values())) == open_totals(after_run)[currency]


def test_aging_table_is_titled_with_its_date(after_run: Cli) -> None:
    out = after_run("report", "aging", "--as-of", AS_OF, "--format", "table").stdout
    assert f"Aging as of {AS_OF}" in out
    for currency in ("EUR", "GBP", "USD"):
        assert currency in out


def test_aging_in_an_unknown_format_is_a_usage_error(after_run: Cli) -> None:
    result = after_run("report", "aging", "--format", "xml", expect=2)
    assert "--format must be table, csv or json" in result.stderr


def test_audit_verify_counts_the_events_of_an_intact_chain(after_run: Cli) -> None:
    first = after_run("audit", "verify").stdout.strip()
    assert first.startswith("audit chain intact: ")
    count = int(first.split(": ")[1].split()[0])
    assert count > 0

    after_run("hold", "INV-1005", "--reason", "promise", "--until", "2026-07-15")

    assert after_run("audit", "verify").stdout.strip() == f"audit chain intact: {count + 1} events"


def test_demo_builds_runs_and_summarises_a_sample_ledger(cli: Cli, tmp_path: Path) -> None:
    try:
        check_pdf_support()
    except ConfigurationError as missing:
        pytest.skip(f"the demo prints letters: {missing}")
    folder = tmp_path / "demo"

    out = cli("demo", "--dir", str(folder), "--invoices", "300", "--as-of", AS_OF, "--no-serve").stdout

    assert "300 invoices.csv" in out
    for level in ("reminder", "second reminder", "phone call", "final notice"):
        assert level in out
    assert "Notices" in out and "channel" in out
    assert any(channel in out for channel in ("email", "phone", "letter"))
    assert f"Aging as of {AS_OF}" in out
    assert "audit chain intact: " in out
    assert "bank statement statement-" in out and "matched" in out
    assert "user demo@demo-supplies.example  password pastdue-demo-2026" in out.replace("\n", "")
    assert "/portal/access/" in out.replace("\n", "")
    assert (folder / "pastdue.db").is_file()
    assert not (tmp_path / "pastdue.db").exists()  # the demo leaves the --db database alone

    outbox = folder / "outbox"
    assert f"Delivered into {outbox.resolve()}" in out.replace("\n", "")
    emails = sorted((outbox / "email").glob("*.eml"))
    assert emails
    first = message_from_bytes(emails[0].read_bytes(), policy=default)
    assert first["Message-ID"] and first["From"].addresses[0].display_name == "Demo Supplies GmbH"
    letters = [p for p in (outbox / "letters").glob("*/*.pdf") if not p.name.startswith("print-batch")]
    batches = sorted((outbox / "letters").glob("*/print-batch-*.pdf"))
    assert letters and batches
    assert sum(len(PdfReader(b).pages) for b in batches) >= len(letters)
    assert all(b.with_suffix(".csv").is_file() for b in batches)
    assert list((outbox / "phone").glob("*.json"))
