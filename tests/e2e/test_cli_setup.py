"""Setting up through the CLI: schema, ledger import and policies, and how bad input is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import CUSTOMERS, Cli, write_files

pytest_plugins = ["cli_fixtures"]


def test_init_creates_the_schema_and_is_harmless_to_repeat(cli: Cli) -> None:
    first = cli("init")
    assert "schema at revision" in first.stdout
    assert "tenant 'default' ready" in first.stdout
    assert cli("init").stdout == first.stdout
    assert cli("audit", "verify").stdout.strip() == "audit chain intact: 0 events"


def test_import_of_a_folder_reports_what_it_added_and_a_reimport_changes_nothing(cli: Cli, ledger_dir: Path) -> None:
    cli("init")
    lines = cli("import", str(ledger_dir)).stdout.splitlines()
    assert lines == [
        "customers: 3 new, 0 updated, 0 unchanged",
        "invoices: 5 new, 0 updated, 0 unchanged",
        "payments: 2 new, 0 updated, 0 unchanged",
    ]
    assert len(cli.json("invoices", "--json")) == 5

    again = cli("import", str(ledger_dir)).stdout
    assert "invoices: 0 new, 0 updated, 5 unchanged" in again
    assert "nothing changed" in again


def test_a_policy_is_stored_as_version_one_and_becomes_the_default(cli: Cli, policy_file: Path) -> None:
    cli("init")
    first = cli("policy", "apply", str(policy_file)).stdout.strip()
    assert first == "policy 'standard': version 1 (default)"
    again = cli("policy", "apply", str(policy_file)).stdout.strip()
    assert again == "policy 'standard': unchanged"
    assert cli.json("policy", "list", "--json") == [
        {"name": "standard", "version": 1, "levels": 4, "escalation": "step", "default": True},
    ]


BAD_POLICY = """\
    name = "strict"
    escalation = "sometimes"

    [[levels]]
    name = "reminder"
    after_days = 1
    channels = ["email"]

    [[levels]]
    name = "second reminder"
    after_days = "eight"
    channels = ["pigeon"]

    [[levels]]
    name = "final notice"
    after_days = 31
    channels = ["letter"]
    fee = "15.00"
"""


def test_a_bad_policy_file_is_refused_with_every_problem_named(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    path = write_files(tmp_path / "bad", {"policy.toml": BAD_POLICY}) / "policy.toml"

    result = cli("policy", "apply", str(path), expect=1)

    problems = result.stderr.splitlines()
    assert 'policy.toml: escalation: must be "step" or "catch-up"' in problems
    assert "policy.toml: levels[2].after_days: must be an integer" in problems
    pigeon = "policy.toml: levels[2].channels: unknown channel 'pigeon'"
    assert any(p.startswith(pigeon) for p in problems)
    assert "policy.toml: levels[3].fee: not supported yet (fees are not available)" in problems
    assert problems[-1] == "4 problem(s); nothing was changed."
    assert result.stdout == ""
    assert cli.json("policy", "list", "--json") == []


def test_a_policy_file_that_is_not_toml_is_a_problem_not_a_crash(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    path = write_files(tmp_path / "bad", {"policy.toml": "name = \n"}) / "policy.toml"
    result = cli("policy", "apply", str(path), expect=1)
    assert result.stderr.startswith("policy.toml")
    assert "not valid TOML" in result.stderr


BAD_INVOICES = """\
    id,customer_id,number,currency,amount,issued_on,due_on
    J1,C1,INV-2001,EUR,12.345,2026-04-01,2026-05-01
    J2,C1,INV-2002,XXY,10.00,2026-04-01,2026-13-01
    J3,C1,INV-2003,EUR,-5.00,2026-04-01,2026-03-01
    J4,C1,INV-2004,EUR,75.00,2026-04-01,2026-05-01
"""


def test_a_bad_ledger_file_is_refused_whole_with_every_problem_as_file_line_field(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    folder = write_files(
        tmp_path / "bad",
        {
            "customers.csv": CUSTOMERS,
            "invoices.csv": BAD_INVOICES,
        },
    )

    result = cli("import", str(folder), expect=1)

    at = f"{folder / 'invoices.csv'}"
    assert result.stderr.splitlines() == [
        f"{at}:2: amount: '12.345' has 3 decimals; EUR allows 2",
        f"{at}:3: currency: unknown ISO 4217 currency: 'XXY'",
        f"{at}:3: due_on: not a date (YYYY-MM-DD): '2026-13-01'",
        f"{at}:4: amount: must not be negative: '-5.00'",
        f"{at}:4: due_on: 2026-03-01 is before issued_on 2026-04-01",
        "5 problem(s); nothing was changed.",
    ]
    assert result.stdout == ""
    # Nothing was written: not the good customers, not the good invoice, no audit event.
    assert cli.json("invoices", "--json") == []
    assert cli("audit", "verify").stdout.strip() == "audit chain intact: 0 events"


def test_an_invoice_of_an_unknown_customer_is_named_with_its_line(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    folder = write_files(
        tmp_path / "orphan",
        {
            "invoices.csv": """\
        id,customer_id,number,currency,amount,issued_on,due_on
        J1,C9,INV-3001,EUR,10.00,2026-04-01,2026-05-01
    """
        },
    )
    result = cli("import", str(folder), expect=1)
    problem = f"{folder / 'invoices.csv'}:2: customer_id: unknown customer 'C9'"
    assert problem in result.stderr.splitlines()
    assert cli.json("invoices", "--json") == []


def test_importing_a_path_that_does_not_exist_is_a_problem(cli: Cli, tmp_path: Path) -> None:
    cli("init")
    missing = tmp_path / "nowhere"
    result = cli("import", str(missing), expect=1)
    assert f"{missing}: no such file or folder" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--as-of", "2026-06-30", "--json"],
        ["invoices", "--json"],
        ["invoices"],
        ["notices", "--json"],
        ["explain", "INV-1001"],
        ["report", "aging", "--as-of", "2026-06-30", "--format", "csv"],
        ["audit", "verify"],
        ["policy", "list"],
        ["hold", "INV-1001", "--reason", "dispute"],
        ["import", "ledger"],
        ["policy", "apply", "policies/standard.toml"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_command_before_init_says_to_run_init_without_a_traceback(
    cli: Cli, ledger_dir: Path, policy_file: Path, command: list[str]
) -> None:
    result = cli(*command, expect=1)
    assert result.stderr.strip() == ("error: the database has no pastdue schema yet: run `pastdue init` first")
    assert result.stdout == ""


def test_a_broken_database_is_an_infrastructure_failure_not_a_traceback(loaded: Cli, tmp_path: Path) -> None:
    """Errors raised by the driver on the bulk paths get exit code 3 like any other."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(loaded.url.removeprefix("sqlite:///"))) as raw:
        raw.execute("ALTER TABLE invoices RENAME COLUMN paid_minor TO paid_elsewhere")

    for command in (["report", "aging", "--as-of", "2026-06-30"], ["run", "--as-of", "2026-07-01", "--json"]):
        result = loaded(*command, expect=3)
        assert result.stderr.startswith("error: the database failed: no such column: ")
        assert "paid_minor" in result.stderr


def test_files_that_are_not_utf8_text_are_named_by_line_not_a_traceback(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "bytes"
    folder.mkdir()
    (folder / "customers.csv").write_bytes(
        b"id,name,email,phone,country,language,timezone\n"
        b"C1,Acme,a@x.example,+4930123456,DE,de,Europe/Berlin\n"
        b"C2,B\xffrse,b@x.example,+4930123456,DE,de,Europe/Berlin\n"
    )
    (folder / "invoices.csv").write_bytes(b"\x00\x01\x02 binary")
    cli("init")

    result = cli("import", str(folder), expect=1)

    lines = result.stderr.splitlines()
    assert f"{folder / 'customers.csv'}:3: not UTF-8 text: invalid start byte at byte 5 of the line" in lines
    assert f"{folder / 'invoices.csv'}:1: not a text file (it holds NUL bytes)" in lines
    assert cli.json("invoices", "--json") == []
