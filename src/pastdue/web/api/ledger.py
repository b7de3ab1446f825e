"""Customers and invoices, read-only: the ledger comes from imports and connectors."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from pastdue.errors import NotFound
from pastdue.services.listings import read
from pastdue.store import listings
from pastdue.store.listings import InvoiceFilter
from pastdue.web.api.auth import Caller, Reader
from pastdue.web.api.idempotent import IdempotentRoute
from pastdue.web.api.models import Customer, Invoice, PathId, QueryId
from pastdue.web.api.pages import Limit, Page, StartingAfter, decode_str, page
from pastdue.web.api.problems import documented

router = APIRouter(route_class=IdempotentRoute)

Expand = Annotated[list[Literal["customer"]], Query(description="Relations to include whole: `customer`.")]


@router.get("/customers", tags=["customers"], responses=documented(400, 401, 403, 422))
def list_customers(caller: Reader, limit: Limit = 20, starting_after: StartingAfter = None) -> Page[Customer]:
    """Customers in id order."""
    found = read(caller.app, listings.customer_page, after=decode_str(starting_after), limit=limit + 1)
    return page(found, limit, lambda row: row["id"], Customer.of)


@router.get("/customers/{customer_id}", tags=["customers"], responses=documented(401, 403, 404, 422))
def get_customer(caller: Reader, customer_id: PathId) -> Customer:
    found = read(caller.app, listings.customer_page, only=[customer_id], limit=1)
    if not found:
        raise NotFound(f"no customer {customer_id!r}")
    return Customer.of(found[0])


@router.get("/invoices", tags=["invoices"], responses=documented(400, 401, 403, 422))
def list_invoices(
    caller: Reader,
    limit: Limit = 20,
    starting_after: StartingAfter = None,
    status: Annotated[Literal["open", "paid"] | None, Query(description="open: a balance is left.")] = None,
    customer_id: QueryId = None,
    due_before: Annotated[date | None, Query(description="Due strictly before this day.")] = None,
    due_after: Annotated[date | None, Query(description="Due strictly after this day.")] = None,
    expand: Expand = [],  # noqa: B006 (FastAPI copies defaults per request)
) -> Page[Invoice]:
    """Invoices in id order, with their open amount and dunning level."""
    where = InvoiceFilter(customer_id=customer_id, status=status, due_before=due_before, due_after=due_after)
    found = read(caller.app, listings.invoice_page, where, after=decode_str(starting_after), limit=limit + 1)
    customers = _customers(caller, {row["customer_id"] for row in found[:limit]}) if expand else {}
    return page(found, limit, lambda row: row["id"], lambda row: Invoice.of(row, customers.get(row["customer_id"])))


@router.get("/invoices/{invoice_id}", tags=["invoices"], responses=documented(401, 403, 404, 422))
def get_invoice(caller: Reader, invoice_id: PathId, expand: Expand = []) -> Invoice:  # noqa: B006
    found = read(caller.app, listings.invoice_page, InvoiceFilter(only=invoice_id), limit=1)
    if not found:
        raise NotFound(f"no invoice {invoice_id!r}")
    customers = _customers(caller, {found[0]["customer_id"]}) if expand else {}
    return Invoice.of(found[0], customers.get(found[0]["customer_id"]))


def _customers(caller: Caller, ids: set[str]) -> dict[str, Customer]:
    if not ids:
        return {}
    rows = read(caller.app, listings.customer_page, only=sorted(ids), limit=len(ids))
    return {row["id"]: Customer.of(row) for row in rows}
