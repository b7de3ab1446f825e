"""Runs started at the same moment against one PostgreSQL do the day's work exactly once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from store_support import (
    apply_policy,
    customer_row,
    dunning_actions,
    levels,
    make_dataset,
    notice_summary,
    write_ledger,
)

from conftest import fixed_clock
from pastdue import services
from pastdue.bootstrap import App, build
from pastdue.services import dunning_run
from pastdue.settings import Settings
from pastdue.store import dunning

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("dataset"), invoices=2000, as_of=AS_OF)


def _app(url: str, tenant: str) -> App:
    return build(Settings(database_url=url, tenant=tenant), fixed_clock)


def _prepared(url: str, tenant: str, dataset: Path, folder: Path) -> None:
    app = _app(url, tenant)
    try:
        services.init(app)
        services.import_ledger(app, [dataset])
        apply_policy(app, folder, "catch-up")
    finally:
        app.engine.dispose()


def _duplicates(app: App) -> dict[str, int]:
    """Rows that would mean work done twice, whatever the constraints say."""
    queries = {
        "dunning_actions": "SELECT invoice_id, level FROM dunning_actions WHERE tenant_id = :t "
        "GROUP BY invoice_id, level HAVING COUNT(*) > 1",
        "notices": "SELECT customer_id, channel, created_on FROM notices WHERE tenant_id = :t "
        "GROUP BY customer_id, channel, created_on HAVING COUNT(*) > 1",
    }
    with app.engine.connect() as connection:
        return {name: len(connection.execute(text(sql), {"t": app.tenant}).all()) for name, sql in queries.items()}


def test_two_runs_started_at_once_do_the_work_once(
    postgres_url: str, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dunning_run, "RUN_BATCH_INVOICES", 60)  # many commits: room to interleave
    shared, alone = f"cc{uuid.uuid4().hex[:8]}", f"cs{uuid.uuid4().hex[:8]}"
    _prepared(postgres_url, shared, dataset, tmp_path)
    _prepared(postgres_url, alone, dataset, tmp_path)
    start = threading.Barrier(2)

    def run() -> services.RunSummary:
        app = _app(postgres_url, shared)  # each worker builds its own App, as a process would
        try:
            start.wait(timeout=30)
            return services.run_dunning(app, AS_OF)
        finally:
            app.engine.dispose()

    with ThreadPoolExecutor(max_workers=2) as pool:
        summaries = [f.result(timeout=120) for f in [pool.submit(run), pool.submit(run)]]
    single, both = _app(postgres_url, alone), _app(postgres_url, shared)
    try:
        once = services.run_dunning(single, AS_OF)

        assert once.actions > 0
        assert sum(s.actions for s in summaries) == once.actions
        assert sum(s.notices for s in summaries) == once.notices
        assert _duplicates(both) == {"dunning_actions": 0, "notices": 0}
        assert len(dunning_actions(both)) == len(dunning_actions(single))
        assert notice_summary(both) == notice_summary(single)
        assert levels(both) == levels(single)
        assert services.verify_audit(both) == services.verify_audit(single)
    finally:
        single.engine.dispose()
        both.engine.dispose()


def test_a_run_failing_in_the_database_reports_its_error_and_frees_the_tenant(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = f"cf{uuid.uuid4().hex[:8]}"
    invoice = ["I1", "C1", "INV-1", "EUR", "10.00", "2026-05-01", "2026-06-01"]
    ledger = write_ledger(tmp_path / "ledger", customers=[customer_row("C1")], invoices=[invoice])
    _prepared(postgres_url, tenant, ledger, tmp_path)
    failing, other = _app(postgres_url, tenant), _app(postgres_url, tenant)

    def broken(connection: Connection, *args: object, **kwargs: object) -> None:
        connection.exec_driver_sql("SELECT 1/0")

    try:
        with monkeypatch.context() as patch:
            patch.setattr(dunning, "save_batch", broken)
            with pytest.raises(DBAPIError, match="division by zero"):
                services.run_dunning(failing, AS_OF)
        # Another worker (own engine, own connections) must get the tenant's run lock.
        with ThreadPoolExecutor(max_workers=1) as pool:
            later = pool.submit(services.run_dunning, other, AS_OF)
            try:
                summary = later.result(timeout=20)
            except TimeoutError:
                failing.engine.dispose()  # closing its connections frees the lock; the thread ends
                pytest.fail("the failed run left the tenant's run lock held")
        assert summary.actions == 1
    finally:
        failing.engine.dispose()
        other.engine.dispose()
