"""The audit log is a hash chain: intact after real work, and any edit or removal shows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from store_support import apply_policy, audit_count, audit_head, customer_row, write_ledger

from pastdue import services
from pastdue.bootstrap import App
from pastdue.errors import AuditChainBroken


def _worked(app: App, tmp_path: Path) -> int:
    """Import, apply a policy and run: a chain of several kinds of events; returns its length."""
    ledger = write_ledger(
        tmp_path / "ledger",
        customers=[customer_row("C1"), customer_row("C2", "Beta AG")],
        invoices=[
            ["I1", "C1", "INV-1", "EUR", "100.00", "2026-05-01", "2026-06-01"],
            ["I2", "C2", "INV-2", "EUR", "200.00", "2026-06-01", "2026-07-01"],
        ],
    )
    services.import_ledger(app, [ledger])
    apply_policy(app, tmp_path, "catch-up")
    services.run_dunning(app, date(2026, 6, 30))
    return audit_count(app)


def _execute(app: App, sql: str, **params: object) -> None:
    with app.engine.begin() as connection:
        connection.execute(text(sql), {"t": app.tenant, **params})


def test_the_chain_verifies_after_import_and_run(app: App, tmp_path: Path) -> None:
    events = _worked(app, tmp_path)

    assert services.verify_audit(app) == events == audit_head(app)[0]
    with app.engine.connect() as connection:
        kinds = set(
            connection.execute(
                text("SELECT DISTINCT kind FROM audit_events WHERE tenant_id = :t"),
                {"t": app.tenant},
            ).scalars()
        )
    assert kinds == {"import", "policy", "decision"}


def test_an_altered_payload_is_named_by_its_sequence_number(app: App, tmp_path: Path) -> None:
    events = _worked(app, tmp_path)
    altered = events // 2 + 1
    _execute(
        app,
        "UPDATE audit_events SET payload = REPLACE(payload, '\"', '''') WHERE tenant_id = :t AND seq = :seq",
        seq=altered,
    )

    with pytest.raises(AuditChainBroken) as caught:
        services.verify_audit(app)

    assert caught.value.seq == altered
    assert f"audit event {altered}" in str(caught.value)


def test_removing_the_last_event_is_detected(app: App, tmp_path: Path) -> None:
    events = _worked(app, tmp_path)
    _execute(app, "DELETE FROM audit_events WHERE tenant_id = :t AND seq = :seq", seq=events)

    with pytest.raises(AuditChainBroken) as caught:
        services.verify_audit(app)

    assert caught.value.seq == events


def test_removing_an_event_inside_the_chain_is_detected(app: App, tmp_path: Path) -> None:
    _worked(app, tmp_path)
    _execute(app, "DELETE FROM audit_events WHERE tenant_id = :t AND seq = 2")

    with pytest.raises(AuditChainBroken) as caught:
        services.verify_audit(app)

    assert caught.value.seq == 2


def test_new_events_continue_the_chain_after_a_verified_one(app: App, tmp_path: Path) -> None:
    events = _worked(app, tmp_path)

    services.run_dunning(app, date(2026, 7, 7))

    assert services.verify_audit(app) > events
