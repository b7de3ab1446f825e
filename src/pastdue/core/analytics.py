"""Receivables analytics, pure: aging of open balances by how long they are overdue.

Aging is the first thing a collector and an auditor look at, and the ``report aging``
command, the dashboard and the API must agree on it to the cent; so the bucketing rule
lives here once. Money is never converted between currencies: each currency is aged on
its own, because an exchange rate is a business decision this module must not make.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from pastdue.core.money import Money

NOT_YET_DUE = "not_yet_due"
OVER_90 = "over_90"

AGING_BUCKETS: tuple[str, ...] = (NOT_YET_DUE, "1-30", "31-60", "61-90", OVER_90)
"""Bucket names in reporting order; also the keys of every row :func:`aging` returns."""

# Inclusive upper bound of days overdue for each bucket but the last.
_UPPER_BOUNDS: tuple[tuple[int, str], ...] = (
    (0, NOT_YET_DUE),
    (30, "1-30"),
    (60, "31-60"),
    (90, "61-90"),
)

AgingTable = dict[str, dict[str, Money]]
"""Currency -> bucket -> total open balance."""


def days_overdue(due_on: date, as_of: date) -> int:
    """Calendar days past the due date; zero or negative while the invoice is not yet due.

    Calendar days, not business days: aging is a financial measure that must not depend
    on which country's holidays a policy uses.
    """
    return (as_of - due_on).days


def bucket_for(due_on: date, as_of: date) -> str:
    """The aging bucket of an item due on ``due_on``, seen on ``as_of``.

    Due today counts as not yet due: nobody is late on the due date itself, and the
    standard policy's first reminder comes the day after.
    """
    overdue = days_overdue(due_on, as_of)
    for upper, name in _UPPER_BOUNDS:
        if overdue <= upper:
            return name
    return OVER_90


def aging(items: Iterable[tuple[Money, date]], as_of: date) -> AgingTable:
    """Total open balance per currency and bucket, from (open balance, due date) pairs.

    Every bucket is present in every row (zero where nothing falls), and currencies come in
    sorted order, so tables and CSV exports line up without the caller filling gaps. The
    caller passes open balances; settled items may be left out or passed as zero alike.
    Negative balances (an over-credited invoice) are summed as given, so the grand total
    stays equal to the ledger's.
    """
    sums: dict[str, dict[str, Money]] = {}
    for balance, due_on in items:
        row = sums.get(balance.currency)
        if row is None:
            row = sums[balance.currency] = _empty_row(balance.currency)
        bucket = bucket_for(due_on, as_of)
        row[bucket] = row[bucket] + balance
    return {currency: sums[currency] for currency in sorted(sums)}


def aging_totals(table: Mapping[str, Mapping[str, Money]]) -> dict[str, Money]:
    """The grand total per currency of an aging table: the "total" column of the report."""
    totals: dict[str, Money] = {}
    for currency, row in table.items():
        total = Money.zero(currency)
        for bucket in AGING_BUCKETS:
            total = total + row[bucket]
        totals[currency] = total
    return totals


def _empty_row(currency: str) -> dict[str, Money]:
    zero = Money.zero(currency)
    return dict.fromkeys(AGING_BUCKETS, zero)


def dso(receivable: Money, sales: Money, days: int) -> Decimal | None:
    """Days sales outstanding by the standard method: the receivable as a share of what was
    invoiced in the last ``days`` days, times ``days``, to one decimal.

    ``None`` when nothing was invoiced in the period: the ratio has no meaning then, and a
    zero or an infinity on a dashboard would mislead. Both amounts must share a currency.
    """
    if receivable.currency != sales.currency:
        raise ValueError(f"DSO of {receivable.currency} against {sales.currency} sales")
    if days <= 0 or sales.amount <= 0:
        return None
    return (receivable.amount / sales.amount * days).quantize(Decimal("0.1"))
