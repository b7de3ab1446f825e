"""Support for the CLI tests: pastdue run in-process on a SQLite file, and a small dated ledger.

The ledger tells one story, as of 2026-06-30 under the standard policy:

- Acme (EUR) owes INV-1001, 60 days overdue, and INV-1002, 10 days overdue and paid in part:
  both reach the reminder, and Acme gets one email for the two.
- Bolt (GBP) paid INV-1004 in full the day after it fell due; INV-1003 is not due until July.
- Cobb (USD) owes INV-1005, one day overdue: a reminder by email.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from typing import Any

from typer.testing import CliRunner, Result

from pastdue.cli import app
from pastdue.policies import standard_policy_toml

AS_OF = "2026-06-30"

CUSTOMERS = """\
    id,name,email,phone,country,language,timezone
    C1,Acme GmbH,ap@acme.example,+4930123456,DE,de,Europe/Berlin
    C2,Bolt Ltd,ap@bolt.example,+442012345678,GB,en,Europe/London
    C3,Cobb Inc,ap@cobb.example,+12125550100,US,en,America/New_York
"""
INVOICES = """\
    id,customer_id,number,currency,amount,issued_on,due_on
    I1,C1,INV-1001,EUR,1200.00,2026-04-01,2026-05-01
    I2,C1,INV-1002,EUR,250.50,2026-05-21,2026-06-20
    I3,C2,INV-1003,GBP,80.00,2026-06-15,2026-07-15
    I4,C2,INV-1004,GBP,40.00,2026-05-02,2026-06-01
    I5,C3,INV-1005,USD,999.99,2026-05-30,2026-06-29
"""
PAYMENTS = """\
    id,invoice_id,amount,currency,paid_on
    P1,I4,40.00,GBP,2026-06-02
    P2,I2,50.50,EUR,2026-06-25
"""
STANDARD_POLICY = standard_policy_toml()


def write_files(folder: Path, files: dict[str, str]) -> Path:
    """Write dedented text files into ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(dedent(text), encoding="utf-8")
    return folder


class Cli:
    """``pastdue --db sqlite:///<tmp>/pastdue.db ...`` run in-process, stdout and stderr apart."""

    def __init__(self, database: Path) -> None:
        self.url = f"sqlite:///{database}"
        self.runner = CliRunner()

    def __call__(self, *args: str, expect: int = 0, input: str | None = None) -> Result:
        """Run one command (``input``: what it reads from standard input); its exit code must be ``expect``."""
        result = self.runner.invoke(app, ["--db", self.url, *args], input=input)
        assert result.exit_code == expect, (
            f"pastdue {' '.join(args)} exited {result.exit_code}, wanted {expect}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
            f"exception: {result.exception!r}"
        )
        # Whatever the exit code, the CLI never lets an exception escape as a traceback.
        escaped = result.exception
        assert escaped is None or isinstance(escaped, SystemExit), escaped
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args).stdout)
