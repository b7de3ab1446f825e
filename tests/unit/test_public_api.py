"""The library API is curated: ``pastdue.__all__`` names the entry points, and each resolves."""

from __future__ import annotations

import subprocess
import sys
from textwrap import dedent

import pytest

import pastdue

ENTRY_POINTS = {
    "Money",
    "parse_amount",
    "Policy",
    "Level",
    "policy_from_dict",
    "policy_from_toml",
    "decide",
    "Decision",
    "Calendar",
    "Customer",
    "Invoice",
    "Payment",
    "Hold",
    "DunningState",
    "Problem",
    "Settings",
    "build",
    "App",
}


def test_all_lists_the_main_entry_points_once_each() -> None:
    assert set(pastdue.__all__) >= ENTRY_POINTS
    assert len(pastdue.__all__) == len(set(pastdue.__all__))


@pytest.mark.parametrize("name", pastdue.__all__)
def test_every_name_in_all_resolves(name: str) -> None:
    value = getattr(pastdue, name)
    assert value is not None
    assert name in dir(pastdue)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from pastdue import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(pastdue.__all__)


def test_the_exported_names_are_the_ones_the_modules_define() -> None:
    from pastdue import bootstrap, errors
    from pastdue.core import engine, money, policy

    assert pastdue.Money is money.Money
    assert pastdue.policy_from_toml is policy.policy_from_toml
    assert pastdue.decide is engine.decide
    assert pastdue.build is bootstrap.build
    assert pastdue.App is bootstrap.App
    assert pastdue.Problem is errors.Problem


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'run_dunning'"):
        pastdue.run_dunning  # noqa: B018  (use cases live in pastdue.services)


def test_services_are_reached_through_their_module() -> None:
    from pastdue import services

    assert callable(services.run_dunning) and callable(services.import_ledger)


IMPORT_WATCH = dedent("""
    import os, socket, sqlite3, sqlite3.dbapi2, sys

    read = []

    class Watched(dict):
        def __getitem__(self, key):
            read.append(key)
            return super().__getitem__(key)

        def get(self, key, default=None):
            read.append(key)
            return super().get(key, default)

    def refuse(*args, **kwargs):
        raise AssertionError("a connection was opened at import")

    os.environ = Watched(os.environ)
    socket.socket.connect = refuse
    sqlite3.connect = sqlite3.dbapi2.connect = refuse

    import pastdue
    assert "sqlalchemy" not in sys.modules, "import pastdue loaded SQLAlchemy"
    for name in pastdue.__all__:
        getattr(pastdue, name)
    import pastdue.cli, pastdue.services
    touched = sorted(k for k in read if k.startswith("PASTDUE"))
    assert not touched, f"read at import: {touched}"
    print("ok")
""")


def test_importing_pastdue_opens_no_connection_and_reads_no_environment() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_WATCH],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
