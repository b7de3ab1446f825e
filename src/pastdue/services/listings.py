"""Reads for the REST API: one page of a listing, on a connection of its own, for the App's
tenant. The store's keyset queries do the work; this layer adds the tenant and what the
API names differently from the services (invoices by id rather than by number)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.core.money import Money
from pastdue.errors import Problem, ProblemsFound
from pastdue.store import listings
from pastdue.store.database import reading
from pastdue.store.receipts import Receipt

P = ParamSpec("P")
T = TypeVar("T")


def read(app: App, reader: Callable[Concatenate[Connection, str, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run one store read for the App's tenant; the tenant is never the caller's to pass."""
    with reading(app.engine) as connection:
        return reader(connection, app.tenant, *args, **kwargs)


def payments_with_allocations(
    app: App,
    *,
    after: str | None = None,
    limit: int = 100,
    only: str | None = None,
    statuses: Sequence[str] = (),
    customer_id: str | None = None,
    received_after: date | None = None,
    received_before: date | None = None,
) -> list[tuple[Receipt, list[tuple[str, str, Money]]]]:
    """A page of receipts, each with what it pays, read on one connection so they agree."""
    with reading(app.engine) as connection:
        found = listings.receipt_page(
            connection,
            app.tenant,
            after=after,
            limit=limit,
            only=only,
            statuses=statuses,
            customer_id=customer_id,
            received_after=received_after,
            received_before=received_before,
        )
        paid = listings.allocations_by_receipt(connection, app.tenant, [r.id for r in found])
    return [(receipt, paid.get(receipt.id, [])) for receipt in found]


def invoice_numbers(app: App, invoice_ids: Sequence[str], field: str) -> list[str]:
    """The numbers of invoices named by id, in order; unknown ids (including another
    tenant's) are problems, all reported at once."""
    with reading(app.engine) as connection:
        found = listings.invoice_ids_to_numbers(connection, app.tenant, invoice_ids)
    missing = [Problem("request", None, field, f"no invoice {i!r}") for i in invoice_ids if i not in found]
    if missing:
        raise ProblemsFound(missing)
    return [found[i] for i in invoice_ids]
