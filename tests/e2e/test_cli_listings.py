"""Listing invoices and notices, and explaining one invoice, through the CLI."""

from __future__ import annotations

from decimal import Decimal

from cli_support import AS_OF, Cli

pytest_plugins = ["cli_fixtures"]

INVOICE_KEYS = {"number", "customer_id", "currency", "amount", "open_amount", "due_on", "level"}
NOTICE_KEYS = {
    "id",
    "customer_id",
    "channel",
    "level",
    "status",
    "message_id",
    "created_on",
    "sent_at",
}


def test_invoices_json_lists_every_invoice_with_amounts_as_decimal_strings(after_run: Cli) -> None:
    rows = after_run.json("invoices", "--json")

    assert isinstance(rows, list)
    assert all(set(row) >= INVOICE_KEYS for row in rows)
    by_number = {row["number"]: row for row in rows}
    assert sorted(by_number) == ["INV-1001", "INV-1002", "INV-1003", "INV-1004", "INV-1005"]
    assert by_number["INV-1002"] == {
        "number": "INV-1002",
        "customer_id": "C1",
        "currency": "EUR",
        "amount": "250.50",
        "open_amount": "200.00",
        "due_on": "2026-06-20",
        "level": 1,
    }
    assert by_number["INV-1004"]["open_amount"] == "0.00"
    for row in rows:
        assert isinstance(row["amount"], str) and isinstance(row["open_amount"], str)
        assert Decimal(row["open_amount"]) <= Decimal(row["amount"])


def test_invoices_open_for_one_customer(after_run: Cli) -> None:
    rows = after_run.json("invoices", "--open", "--customer", "C1", "--json")
    assert [(r["number"], r["open_amount"]) for r in rows] == [
        ("INV-1001", "1200.00"),
        ("INV-1002", "200.00"),
    ]

    # Bolt's paid invoice is left out; its open one is not.
    bolt = after_run.json("invoices", "--open", "--customer", "C2", "--json")
    assert [r["number"] for r in bolt] == ["INV-1003"]
    assert after_run.json("invoices", "--customer", "nobody", "--json") == []


def test_invoices_without_json_is_a_table(after_run: Cli) -> None:
    table = after_run("invoices", "--open").stdout
    for number in ("INV-1001", "INV-1002", "INV-1003", "INV-1005"):
        assert number in table
    assert "INV-1004" not in table


def test_notices_json_gives_one_notice_per_customer_and_channel(after_run: Cli) -> None:
    rows = after_run.json("notices", "--json")

    assert all(set(row) >= NOTICE_KEYS for row in rows)
    assert [(r["customer_id"], r["channel"], r["level"], r["status"]) for r in rows] == [
        ("C1", "email", 1, "pending"),
        ("C3", "email", 1, "pending"),
    ]
    assert all(r["created_on"] == AS_OF for r in rows)
    assert all(r["sent_at"] is None and r["message_id"] is None for r in rows)  # not delivered yet
    assert len({r["id"] for r in rows}) == 2
    assert after_run.json("notices", "--as-of", "2026-07-01", "--json") == []
    assert len(after_run.json("notices", "--status", "pending", "--json")) == 2


def test_notices_without_json_is_a_table_with_a_count(after_run: Cli) -> None:
    out = after_run("notices").stdout
    assert "C1" in out and "C3" in out
    assert "2 notice(s)" in out


def test_explain_shows_each_decision_with_its_reason_and_policy_version(after_run: Cli) -> None:
    after_run("run", "--as-of", "2026-07-07", "--json")

    out = after_run("explain", "INV-1001").stdout

    lines = out.splitlines()
    assert lines[0].startswith("INV-1001 customer C1, due 2026-05-01")
    decisions = [line for line in lines if line.startswith(("2026-06-30", "2026-07-07"))]
    assert len(decisions) == 2
    assert "level_reached" in decisions[0] and "level 1 (reminder)" in decisions[0]
    assert "level_reached" in decisions[1] and "level 2 (second reminder)" in decisions[1]
    assert all(line.endswith("[standard v1]") for line in decisions)
    assert "would decide" not in out


def test_explain_as_of_a_date_adds_what_a_run_would_decide_then(after_run: Cli) -> None:
    out = after_run("explain", "INV-1001", "--as-of", "2026-07-10").stdout
    preview = out.splitlines()[-1]
    assert preview.startswith("would decide: notice level_reached: level 2 (second reminder)")
    assert preview.endswith("[standard v1]")


def test_explain_of_an_invoice_never_reviewed_says_so(loaded: Cli) -> None:
    assert "no decisions recorded yet" in loaded("explain", "INV-1003").stdout


def test_explain_of_an_unknown_invoice_is_a_clear_error(after_run: Cli) -> None:
    result = after_run("explain", "INV-9999", expect=1)
    assert result.stderr.strip() == "error: no invoice numbered 'INV-9999' in tenant 'default'"
    assert result.stdout == ""


def test_holding_an_unknown_invoice_is_a_clear_error(after_run: Cli) -> None:
    result = after_run("hold", "INV-9999", "--reason", "dispute", expect=1)
    assert result.stderr.strip() == "error: no invoice numbered 'INV-9999' in tenant 'default'"
