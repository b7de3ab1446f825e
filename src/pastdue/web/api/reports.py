"""Reports: aging of open balances and days sales outstanding, per currency, computed by
the same core functions as the CLI's reports and the dashboard, so all three agree."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import Connection

from pastdue.core.analytics import AGING_BUCKETS, aging, aging_totals, dso
from pastdue.core.money import Money as CoreMoney
from pastdue.services.listings import read
from pastdue.store import dashboard, queries
from pastdue.web.api.auth import Caller, Reader
from pastdue.web.api.idempotent import IdempotentRoute
from pastdue.web.api.models import AgingReport, AgingRow, DsoReport, DsoRow, Money
from pastdue.web.api.problems import documented

router = APIRouter(route_class=IdempotentRoute)

AsOf = Annotated[date | None, Query(description="The day to report on; default: today (UTC).")]


@router.get("/reports/aging", tags=["reports"], responses=documented(401, 403, 422))
def aging_report(caller: Reader, as_of: AsOf = None) -> AgingReport:
    """Open balances by days overdue on ``as_of``: not yet due, 1-30, 31-60, 61-90, over 90."""
    day = _day(caller, as_of)
    table = aging(read(caller.app, _open_balances), day)
    totals = aging_totals(table)
    rows = [
        AgingRow(
            currency=currency,
            buckets={bucket: str(row[bucket].amount) for bucket in AGING_BUCKETS},
            total=str(totals[currency].amount),
        )
        for currency, row in table.items()
    ]
    return AgingReport(as_of=day, buckets=list(AGING_BUCKETS), currencies=rows)


@router.get("/reports/dso", tags=["reports"], responses=documented(401, 403, 422))
def dso_report(
    caller: Reader,
    as_of: AsOf = None,
    days: Annotated[int, Query(ge=1, le=3660, description="The sales period in days (90: a quarter).")] = 90,
) -> DsoReport:
    """Days sales outstanding on ``as_of``: the receivable at the end of that day as a share
    of what was invoiced in the ``days`` days up to it, times ``days``."""
    day = _day(caller, as_of)
    # A period reaching back before year 1 holds no invoices: it ends there.
    history = read(caller.app, dashboard.receivable_history, [day], min(days, day.toordinal() - 1))
    rows = []
    for currency, [(receivable_minor, sales_minor)] in history.items():
        receivable = CoreMoney.of_minor(receivable_minor, currency)
        sales = CoreMoney.of_minor(sales_minor, currency)
        value = dso(receivable, sales, days)
        rows.append(
            DsoRow(
                currency=currency,
                receivable=Money.of(receivable),
                sales=Money.of(sales),
                dso=str(value) if value is not None else None,
            )
        )
    return DsoReport(as_of=day, days=days, currencies=rows)


def _open_balances(connection: Connection, tenant: str) -> list[tuple[CoreMoney, date]]:
    return list(queries.open_balances(connection, tenant))


def _day(caller: Caller, as_of: date | None) -> date:
    return as_of if as_of is not None else caller.app.clock().date()
