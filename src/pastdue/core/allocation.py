"""How money is spread over a customer's open invoices when the payer did not say.

The order is a tenant's choice (``allocation_order`` in its profile), because it changes
which invoice stays open and so which one is reminded next:

- ``oldest_due`` (default): the invoice due first is paid first. Most statutes presume it
  (e.g. § 366 BGB, art. 1342-10 Code civil) and it ages the ledger least.
- ``newest_due``: the most recent invoice first, for customers who pay current bills and
  dispute old ones.
- ``smallest_first``: closes the most invoices, so the fewest stay in dunning.
- ``largest_first``: reduces the biggest exposure first.

Ties are broken by due date, then invoice number, then id, so the result never depends on
the order the database returned rows in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pastdue.core.money import Money


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An open invoice as allocation and matching see it."""

    invoice_id: str
    customer_id: str
    number: str
    open_amount: Money
    due_on: date


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice_id: str
    amount: Money


class AllocationOrder(StrEnum):
    OLDEST_DUE = "oldest_due"
    NEWEST_DUE = "newest_due"
    SMALLEST_FIRST = "smallest_first"
    LARGEST_FIRST = "largest_first"


def ordered(items: Iterable[OpenItem], order: AllocationOrder = AllocationOrder.OLDEST_DUE) -> list[OpenItem]:
    """The items in the order money is allocated to them."""
    if order is AllocationOrder.OLDEST_DUE:
        return sorted(items, key=lambda i: (i.due_on, i.number, i.invoice_id))
    if order is AllocationOrder.NEWEST_DUE:
        return sorted(items, key=lambda i: (-i.due_on.toordinal(), i.number, i.invoice_id))
    sign = 1 if order is AllocationOrder.SMALLEST_FIRST else -1
    return sorted(items, key=lambda i: (sign * i.open_amount.amount, i.due_on, i.number, i.invoice_id))


def allocate(
    amount: Money,
    items: Sequence[OpenItem],
    left: Mapping[str, Money] | None = None,
) -> tuple[tuple[Allocation, ...], Money]:
    """Spread ``amount`` over ``items`` in the given order; returns allocations and the rest.

    ``left`` overrides what is still open per invoice (credits of one statement share what is
    open). Items of another currency and items with nothing open are passed over; no
    invoice receives more than is open on it and the allocations never exceed ``amount``.
    """
    rest = amount
    allocations = []
    for item in items:
        if rest.amount <= 0:
            break
        open_amount = left[item.invoice_id] if left is not None else item.open_amount
        if open_amount.currency != amount.currency or open_amount.amount <= 0:
            continue
        take = min(open_amount, rest)
        allocations.append(Allocation(item.invoice_id, take))
        rest = rest - take
    return tuple(allocations), rest
