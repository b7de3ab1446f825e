"""Fixtures of the CLI tests: an empty database, then the story's ledger and policy loaded.

Test modules load them with ``pytest_plugins = ["cli_fixtures"]`` rather than from a
``conftest.py`` here: the tests tree keeps one conftest (its root), which other helpers import
by name, and a second one would shadow it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import AS_OF, CUSTOMERS, INVOICES, PAYMENTS, STANDARD_POLICY, Cli, write_files


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A CLI on an empty database; the working directory is the test's own folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PASTDUE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PASTDUE_TENANT", raising=False)
    return Cli(tmp_path / "pastdue.db")


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    return write_files(
        tmp_path / "ledger",
        {
            "customers.csv": CUSTOMERS,
            "invoices.csv": INVOICES,
            "payments.csv": PAYMENTS,
        },
    )


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_files(tmp_path / "policies", {"standard.toml": STANDARD_POLICY}) / "standard.toml"


@pytest.fixture
def loaded(cli: Cli, ledger_dir: Path, policy_file: Path) -> Cli:
    """Schema created, the story's ledger imported and the standard policy applied."""
    cli("init")
    cli("import", str(ledger_dir))
    cli("policy", "apply", str(policy_file))
    return cli


@pytest.fixture
def after_run(loaded: Cli) -> Cli:
    """The story after the run of 2026-06-30."""
    loaded("run", "--as-of", AS_OF, "--json")
    return loaded
