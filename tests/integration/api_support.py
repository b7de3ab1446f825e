"""A world for the REST API tests: two tenants with ledgers, API keys of several scopes, and
the web application on a real uvicorn server on a loopback port.

Not a test module; the API tests import it by name and load its fixture from
``api_fixtures``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.routing import Mount
from store_support import apply_policy, customer_row, write_ledger

from local_servers import serving as live_server
from pastdue import services
from pastdue.bootstrap import App
from pastdue.core.model import HoldReason
from pastdue.core.money import Money
from pastdue.services.api_keys import create_api_key
from pastdue.services.payments import Incoming, receipt_row, record_payment
from pastdue.services.runs import request_run, run_queued
from pastdue.store import receipts
from pastdue.store.database import unit_of_work

AS_OF = date(2026, 6, 30)


def serving(web: FastAPI) -> AbstractContextManager[httpx.Client]:
    """The application on a real server, and a client whose paths start at ``/api/v1``."""
    return live_server(web, base_path="/api/v1", timeout=60)


@dataclass
class World:
    """Tenant A (the test's own) and tenant B, each with objects of every kind."""

    a: App
    b: App
    http: httpx.Client
    keys: dict[str, str]
    """``a`` read+write, ``a_read``, ``a_write``, ``a_admin`` (admin only), ``b`` read+write."""
    key_ids: dict[str, str]
    b_ids: dict[str, str] = field(default_factory=dict)
    """One object of each kind in tenant B, by kind."""

    def headers(self, key: str | None) -> dict[str, str]:
        return {} if key is None else {"Authorization": f"Bearer {self.keys.get(key, key)}"}

    def get(self, path: str, key: str | None = "a", **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers(key))

    def finished_run(self, run_id: str, key: str = "a") -> dict[str, Any]:
        """The run once it has succeeded or failed (runs go on in the background)."""
        for _ in range(1500):
            run: dict[str, Any] = self.get(f"/runs/{run_id}", key=key).json()
            if run["status"] in ("succeeded", "failed"):
                return run
            time.sleep(0.02)
        raise AssertionError(f"run {run_id} did not finish: {run}")

    def post(
        self, path: str, body: Any = None, key: str | None = "a", idempotency_key: str | None = None
    ) -> httpx.Response:
        headers = self.headers(key)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return self.http.post(path, json=body if body is not None else {}, headers=headers)


def ledger_a(app: App, folder: Path) -> None:
    services.import_ledger(
        app,
        [
            write_ledger(
                folder,
                customers=[customer_row("acme"), customer_row("beta", "Beta Ltd")],
                invoices=[
                    ["i1", "acme", "INV-1", "EUR", "100.00", "2026-05-01", "2026-05-31"],
                    ["i2", "acme", "INV-2", "EUR", "50.00", "2026-05-05", "2026-06-04"],
                    ["i3", "beta", "INV-3", "EUR", "30.00", "2026-06-01", "2026-07-01"],
                ],
                payments=[["p1", "i2", "50.00", "EUR", "2026-06-03"]],
            )
        ],
    )
    apply_policy(app, folder)


def ledger_b(app: App, folder: Path) -> dict[str, str]:
    """Tenant B's objects, with ids tenant A does not have (so a 404 means isolation, not absence)."""
    services.import_ledger(
        app,
        [
            write_ledger(
                folder,
                customers=[customer_row("zeta", "Zeta AG"), customer_row("yota", "Yota AG")],
                invoices=[
                    ["z1", "zeta", "INV-1", "EUR", "70.00", "2026-05-01", "2026-05-31"],
                    ["z2", "yota", "INV-2", "EUR", "20.00", "2026-05-01", "2026-05-31"],
                ],
            )
        ],
    )
    apply_policy(app, folder)
    services.run_dunning(app, AS_OF)
    payment = record_payment(app, amount=Money(Decimal("5.00"), "EUR"), received_on=AS_OF, customer_id="zeta")
    hold = services.place_hold(app, reason=HoldReason.DISPUTE, customer_id="yota")
    [notice] = services.notices(app, status="pending")[:1]
    run_id = request_run(app, AS_OF, dry_run=True)
    run_queued(app)
    return {
        "customer": "zeta",
        "invoice": "z1",
        "payment": payment.receipt_id,
        "hold": hold,
        "notice": notice.id,
        "match": queue_credit(app, "b-credit", "12.00"),
        "run": run_id,
    }


def queue_credit(app: App, receipt_id: str, amount: str, remittance: str = "thanks") -> str:
    """A bank credit nobody could place, waiting for a person."""
    incoming = Incoming(Money(Decimal(amount), "EUR"), AS_OF, source="statement", source_key=receipt_id)
    row = receipt_row(
        app.tenant,
        receipt_id,
        incoming,
        None,
        "unmatched",
        None,
        app.clock(),
        reason="no reference",
        remittance=remittance,
    )
    with unit_of_work(app.engine) as uow:
        receipts.insert(uow.connection, [row])
        uow.commit()
    return receipt_id


def build_world(make_app: Any, tmp_path: Path, web: Any) -> Iterator[World]:
    a = make_app()
    b = make_app(f"b{uuid.uuid4().hex[:10]}")
    ledger_a(a, tmp_path / "a")
    b_ids = ledger_b(b, tmp_path / "b")
    keys: dict[str, str] = {}
    key_ids: dict[str, str] = {}
    for name, app, scopes in (
        ("a", a, ["read", "write"]),
        ("a_read", a, ["read"]),
        ("a_write", a, ["write"]),
        ("a_admin", a, ["admin"]),
        ("b", b, ["read", "write"]),
    ):
        key_ids[name], keys[name] = create_api_key(app, name, scopes)
    b_ids["api_key"] = key_ids["b"]
    web_app = web(a)
    try:
        with serving(web_app) as http:
            yield World(a, b, http, keys, key_ids, b_ids)
    finally:
        # Runs started in the background finish before their database goes away.
        for route in web_app.routes:
            if isinstance(route, Mount) and route.path == "/api/v1":
                assert route.app.state.runs.wait_idle(120)
        a.engine.dispose()
        b.engine.dispose()
