"""The contract between pastdue and an accounting system it reads its ledger from.

A connector is pulled from a cursor: each :meth:`Connector.pull` returns a :class:`Batch`
of rows changed after that cursor and the cursor after them. pastdue stores the cursor in
the same transaction as the rows (``services.sync``), so a sync that stops between two
batches resumes exactly where it stopped. A connector never writes to pastdue and keeps no
state of its own between pulls: everything it needs to go on is in the cursor.

Rows have the shapes the CSV ledger stages (``ledger_format.STAGE_COLUMNS``), so that a
pulled batch goes through the same checks and the same merge as an imported file: money in
integer minor units beside its ISO 4217 currency, dates as :class:`~datetime.date`. A row
may be sent again in any later batch; the merge is an upsert by id, so that is harmless.

One payment of the other system may pay several invoices, while a pastdue payment row pays
at most one. A connector then sends one row per invoice paid: the first under the
payment's own id (the *lead*), the others as *parts* ``LEAD/SUFFIX`` with the lead's
customer. Whenever a batch restates a lead, it restates all its parts: stored parts it
leaves out are withdrawn (their amount set to zero, with an audit event), which is how a
reconciliation undone in the other system reopens the invoices it had paid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pastdue.core.model import CustomerKind, PaymentKind
from pastdue.core.money import is_currency
from pastdue.errors import Problem
from pastdue.importers.ledger_format import STAGE_COLUMNS, LedgerKind

PART_SEPARATOR = "/"


class CustomerRow(NamedTuple):
    id: str
    name: str
    email: str
    phone: str
    country: str
    language: str
    timezone: str
    street: str
    postal_code: str
    city: str
    kind: str
    policy: str | None
    exempt: bool


class InvoiceRow(NamedTuple):
    id: str
    customer_id: str
    number: str
    currency: str
    amount_minor: int
    issued_on: date
    due_on: date


class PaymentRow(NamedTuple):
    id: str
    invoice_id: str | None
    customer_id: str | None
    currency: str
    amount_minor: int
    paid_on: date
    reference: str
    kind: str


ROW_TYPES: dict[LedgerKind, type[tuple[object, ...]]] = {
    LedgerKind.CUSTOMERS: CustomerRow,
    LedgerKind.INVOICES: InvoiceRow,
    LedgerKind.PAYMENTS: PaymentRow,
}


@dataclass(frozen=True)
class Batch:
    """Rows changed after a cursor, and where the next pull starts.

    ``next_cursor`` is None only when the batch moved nothing (the stored cursor stays);
    ``more`` says that a pull from ``next_cursor`` would find more rows now. ``problems``
    are rows the connector could not translate: the batch is then refused whole.
    """

    customers: Sequence[CustomerRow] = ()
    invoices: Sequence[InvoiceRow] = ()
    payments: Sequence[PaymentRow] = ()
    next_cursor: str | None = None
    more: bool = False
    problems: Sequence[Problem] = field(default_factory=tuple)

    def rows(self, kind: LedgerKind) -> Sequence[tuple[object, ...]]:
        return {
            LedgerKind.CUSTOMERS: self.customers,
            LedgerKind.INVOICES: self.invoices,
            LedgerKind.PAYMENTS: self.payments,
        }[kind]

    def counts(self) -> dict[str, int]:
        return {kind.value: len(self.rows(kind)) for kind in LedgerKind}


@runtime_checkable
class Connector(Protocol):
    """Reads one accounting system's receivables; ``name`` keys its cursor (50 characters at most)."""

    @property
    def name(self) -> str: ...

    def pull(self, cursor: str | None, limit: int) -> Batch:
        """Rows changed after ``cursor`` (None: from the beginning), about ``limit`` of each kind."""
        ...


@runtime_checkable
class LevelPusher(Protocol):
    """What a connector that can write back offers: the dunning level of each invoice, by number."""

    def push_levels(self, levels: Mapping[str, int]) -> None: ...


# Column widths of the ledger tables (store/tables.py): longer text would be cut by one
# database and refused by the other, so it is refused here, the same on both.
_WIDTHS = {
    "id": 64,
    "customer_id": 64,
    "invoice_id": 64,
    "number": 64,
    "name": 200,
    "email": 254,
    "phone": 32,
    "street": 200,
    "postal_code": 20,
    "city": 100,
    "policy": 100,
    "reference": 200,
}
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")


def check_batch(batch: Batch, source: str) -> list[Problem]:
    """Every way the batch's rows break the ledger's rules, the ones the CSV reader enforces.

    A connector translates data another program already validated by its own rules; these
    checks catch where those rules and pastdue's differ, before anything is written.
    """
    problems = list(batch.problems)
    for kind in LedgerKind:
        columns = STAGE_COLUMNS[kind]
        for row in batch.rows(kind):
            where = f"{kind.value} {row[0]!r}"
            if len(row) != len(columns):
                problems.append(Problem(source, None, kind.value, f"{where}: {len(row)} values, not {len(columns)}"))
                continue
            values = dict(zip(columns, row, strict=True))
            for message in _row_problems(kind, values):
                problems.append(Problem(source, None, kind.value, f"{where}: {message}"))
    return problems


def _row_problems(kind: LedgerKind, row: dict[str, object]) -> list[str]:
    found = [
        f"{name} is longer than {width} characters"
        for name, width in _WIDTHS.items()
        if isinstance(row.get(name), str) and len(str(row[name])) > width
    ]
    if not row["id"]:
        found.append("id is empty")
    if kind is LedgerKind.CUSTOMERS:
        found += _customer_problems(row)
        return found
    if not is_currency(str(row["currency"])):
        found.append(f"unknown ISO 4217 currency {row['currency']!r}")
    amount = row["amount_minor"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        found.append(f"amount must be a whole number of minor units, not negative: {amount!r}")
    if kind is LedgerKind.INVOICES:
        issued, due = row["issued_on"], row["due_on"]
        if not isinstance(issued, date) or not isinstance(due, date):
            found.append("issued_on and due_on must be dates")
        elif due < issued:
            found.append(f"due_on {due} is before issued_on {issued}")
        if not row["customer_id"] or not row["number"]:
            found.append("customer_id and number are required")
        return found
    if amount == 0:
        found.append("amount must be greater than zero")
    if not isinstance(row["paid_on"], date):
        found.append("paid_on must be a date")
    if not row["customer_id"] and not row["invoice_id"]:
        found.append("neither invoice_id nor customer_id says whose payment this is")
    if row["kind"] not in {k.value for k in PaymentKind}:
        found.append("kind must be payment or credit")
    return found


def _customer_problems(row: dict[str, object]) -> list[str]:
    found = []
    if not row["name"]:
        found.append("name is empty")
    country = str(row["country"])
    if country and not (len(country) == 2 and country.isalpha() and country.isupper()):
        found.append(f"not an ISO 3166 country code: {country!r}")
    if not _LANGUAGE.fullmatch(str(row["language"])):
        found.append(f"not a language code: {row['language']!r}")
    try:
        ZoneInfo(str(row["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        found.append(f"unknown IANA time zone: {row['timezone']!r}")
    if row["kind"] not in {k.value for k in CustomerKind}:
        found.append("kind must be business, consumer or public")
    return found
