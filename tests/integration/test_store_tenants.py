"""Tenants share a database and nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from store_support import apply_policy, customer_row, levels, table_counts, write_ledger

from pastdue import services
from pastdue.bootstrap import App
from pastdue.core.model import HoldReason
from pastdue.errors import NotFound, ProblemsFound

INVOICES = [
    ["I1", "C1", "INV-1", "EUR", "100.00", "2026-05-01", "2026-06-01"],
    ["I2", "C1", "INV-2", "EUR", "200.00", "2026-05-01", "2026-06-01"],
]


@pytest.fixture
def other_app(make_app: Callable[..., App]) -> Iterator[App]:
    built = make_app(f"t{uuid.uuid4().hex[:10]}")
    yield built
    built.engine.dispose()


def _ledger(folder: Path, invoices: list[list[str]] = INVOICES) -> Path:
    return write_ledger(folder, customers=[customer_row("C1")], invoices=invoices)


def test_a_tenant_sees_nothing_of_another_tenants_data(app: App, other_app: App, tmp_path: Path) -> None:
    services.import_ledger(app, [_ledger(tmp_path / "ledger")])
    apply_policy(app, tmp_path, "step")
    services.run_dunning(app, date(2026, 6, 30))

    assert list(services.invoices(other_app)) == []
    assert services.notices(other_app) == []
    assert services.list_policies(other_app) == ({}, None)
    assert services.verify_audit(other_app) == 0
    with pytest.raises(NotFound):
        services.place_hold(other_app, reason=HoldReason.MANUAL, invoice_number="INV-1")
    with pytest.raises(ProblemsFound, match="no policy"):
        services.run_dunning(other_app, date(2026, 6, 30))
    own = {"tenants": 1, "audit_heads": 1}
    assert table_counts(other_app) == {name: own.get(name, 0) for name in table_counts(app)}


def test_the_same_ids_live_in_two_tenants_independently(app: App, other_app: App, tmp_path: Path) -> None:
    for tenant_app in (app, other_app):
        services.import_ledger(tenant_app, [_ledger(tmp_path / "ledger")])
        apply_policy(tenant_app, tmp_path, "step")
    changed = [row[:] for row in INVOICES]
    changed[0][4] = "150.00"

    services.import_ledger(app, [_ledger(tmp_path / "changed", changed)])
    services.run_dunning(app, date(2026, 6, 30))

    amounts = {r.number: r.amount.amount for r in services.invoices(other_app)}
    assert amounts == {"INV-1": Decimal("100.00"), "INV-2": Decimal("200.00")}
    assert {r.number: r.amount.amount for r in services.invoices(app)}["INV-1"] == Decimal("150.00")
    assert levels(app) == {"I1": 1, "I2": 1}
    assert levels(other_app) == {"I1": 0, "I2": 0}
    assert services.notices(other_app) == []
    assert services.verify_audit(app) > services.verify_audit(other_app) > 0
