"""The dashboard's reads on both stores (SQLite and PostgreSQL): the worklist, a customer's
case and the home page's figures come out the same, from hand-written SQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from dashboard_support import TODAY, shop_app

from pastdue.bootstrap import App
from pastdue.services import dashboard


@pytest.fixture
def shop(tmp_path: Path, database_url: str) -> Iterator[App]:
    app = shop_app(tmp_path, database_url=database_url, tenant=f"t{uuid.uuid4().hex[:10]}")
    yield app
    app.engine.dispose()


def test_the_worklist_ranks_by_level_then_age_and_knows_the_last_contact(shop: App) -> None:
    dashboard.record_call(shop, "bob", "no answer", "", "carl@shop.example")
    items = dashboard.worklist(shop, TODAY)

    assert [(i.customer_id, i.top_level, i.invoices) for i in items] == [("alice", 3, 3), ("bob", 1, 1)]
    alice, bob = items
    assert [(m.currency, m.amount) for m in alice.owed] == [("EUR", Decimal("140.00")), ("USD", Decimal("20.00"))]
    assert alice.last_notice is not None and (alice.last_notice["channel"], alice.last_notice["level"]) == ("phone", 3)
    assert bob.last_call is not None and bob.last_call["outcome"] == "no answer"
    assert not alice.held and not bob.held


def test_a_held_customer_is_marked_on_the_worklist(shop: App) -> None:
    dashboard.record_call(shop, "alice", "promise to pay", "", "carl@shop.example", TODAY.replace(day=31, month=7))
    (alice,) = [i for i in dashboard.worklist(shop, TODAY) if i.customer_id == "alice"]
    assert alice.held


def test_a_customers_case_lists_open_invoices_first_and_the_newest_events_first(shop: App) -> None:
    dashboard.record_call(shop, "alice", "reached", "first", "carl@shop.example")
    dashboard.record_call(shop, "alice", "left message", "second", "carl@shop.example")
    case = dashboard.customer_case(shop, "alice")

    assert [i["number"] for i in case.invoices] == ["A-001", "A-002", "A-003"]
    assert [(p["invoice"], str(p["amount"].amount)) for p in case.payments] == [("A-002", "10.50")]
    assert [(n["channel"], n["level"], n["invoices"]) for n in case.notices] == [
        ("phone", 3, ["A-001", "A-002"]),
        ("email", 2, ["A-003"]),
    ]
    assert [e["kind"] for e in case.timeline][:3] == ["call", "call", "decision"]
    assert case.timeline[0]["payload"]["note"] == "second"


def test_the_home_figures_agree_with_the_ledger(shop: App) -> None:
    figures = dashboard.home_figures(shop, TODAY)

    assert {c: str(m.amount) for c, m in figures.totals.items()} == {"EUR": "1149.99", "USD": "20.00"}
    assert {c: str(m.amount) for c, m in figures.overdue.items()} == {"EUR": "1139.99", "USD": "20.00"}
    assert figures.dso["EUR"][-1].value == Decimal("89.2")
    assert figures.dso["EUR"][0].value is None  # 150 days ago nothing had been invoiced yet
    assert ("email", 1, "awaiting_approval", 1) in figures.queued_today
    assert figures.preview is not None and figures.preview.notices == 0  # today's run is done
