"""Money in: receipts, their allocations to invoices, and the payer accounts learned.

An allocation is a row of ``payments`` carrying its ``receipt_id``, so that an invoice's
``paid_minor`` keeps one definition (the sum of its payment rows) whether the money came
from the CSV ledger, a statement, a provider or a person. A reversal adds rows of the
opposite sign rather than deleting any, so that the history stays whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from pastdue.core.allocation import Allocation, OpenItem
from pastdue.core.money import Money
from pastdue.store.sql import Raw

_CHUNK = 500

RECEIPT_COLUMNS = (
    "tenant_id",
    "id",
    "source",
    "source_key",
    "customer_id",
    "currency",
    "amount_minor",
    "received_on",
    "reference",
    "payer_name",
    "payer_iban",
    "remittance",
    "end_to_end_id",
    "status",
    "rule",
    "confidence",
    "reason",
    "candidates",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class Receipt:
    id: str
    source: str
    source_key: str
    customer_id: str | None
    amount: Money
    received_on: date
    reference: str
    payer_name: str
    payer_iban: str
    remittance: str
    end_to_end_id: str
    status: str
    rule: str | None
    confidence: int | None
    reason: str
    candidates: list[dict[str, Any]]
    created_at: str
    allocated: Money

    @property
    def unapplied(self) -> Money:
        return self.amount - self.allocated


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def known_ids(connection: Connection, tenant: str, ids: Sequence[str]) -> set[str]:
    raw = Raw(connection)
    found: set[str] = set()
    for chunk in _chunks(ids):
        rows = raw.all(
            f"SELECT id FROM receipts WHERE tenant_id = ? AND id IN ({raw.marks(len(chunk))})", (tenant, *chunk)
        )
        found.update(r[0] for r in rows)
    return found


def insert(connection: Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Insert receipts given as tuples in :data:`RECEIPT_COLUMNS` order."""
    raw = Raw(connection)
    date_at = RECEIPT_COLUMNS.index("received_on")
    raw.insert(
        "receipts",
        RECEIPT_COLUMNS,
        [(*row[:date_at], raw.to_db(row[date_at]), *row[date_at + 1 :]) for row in rows],
    )


def settle(
    connection: Connection,
    tenant: str,
    receipt_id: str,
    *,
    status: str,
    customer_id: str | None = None,
    rule: str | None = None,
    confidence: int | None = None,
    reason: str = "",
) -> None:
    Raw(connection).run(
        "UPDATE receipts SET status = ?, customer_id = COALESCE(?, customer_id), rule = COALESCE(?, rule), "
        "confidence = COALESCE(?, confidence), reason = ? WHERE tenant_id = ? AND id = ?",
        (status, customer_id, rule, confidence, reason, tenant, receipt_id),
    )


def get(connection: Connection, tenant: str, receipt_id: str, *, lock: bool = False) -> Receipt | None:
    found = select_receipts(connection, tenant, "id = ?", (receipt_id,), lock=lock)
    return found[0] if found else None


def select_receipts(
    connection: Connection,
    tenant: str,
    where: str,
    params: Sequence[Any],
    *,
    lock: bool = False,
    by_id: bool = False,
    limit: int | None = None,
) -> list[Receipt]:
    """Receipts of the tenant matching ``where``, oldest first, or in id order (``by_id``,
    the order the API pages through them by) up to ``limit``."""
    raw = Raw(connection)
    order = "r.id" if by_id else "r.received_on, r.id"
    suffix = (f" LIMIT {int(limit)}" if limit is not None else "") + (" FOR UPDATE OF r" if lock and raw.pg else "")
    columns = ", ".join(f"r.{c}" for c in RECEIPT_COLUMNS[1:])
    rows = raw.all(
        f"SELECT {columns}, (SELECT COALESCE(SUM(p.amount_minor), 0) FROM payments p "
        "WHERE p.tenant_id = r.tenant_id AND p.receipt_id = r.id) "
        f"FROM receipts r WHERE r.tenant_id = ? AND {where} ORDER BY {order}{suffix}",
        (tenant, *params),
    )
    return [_receipt(raw, row) for row in rows]


def _receipt(raw: Raw, row: Sequence[Any]) -> Receipt:
    (rid, source, key, customer, currency, amount, received, reference, name, iban, text, e2e) = row[:12]
    status, rule, confidence, reason, candidates, created_at, allocated = row[12:]
    received_on = raw.to_date(received)
    assert received_on is not None
    return Receipt(
        rid,
        source,
        key,
        customer,
        Money.of_minor(amount, currency),
        received_on,
        reference,
        name,
        iban,
        text,
        e2e,
        status,
        rule,
        confidence,
        reason,
        json.loads(candidates),
        created_at,
        Money.of_minor(int(allocated), currency),
    )


def by_end_to_end(connection: Connection, tenant: str, end_to_end_id: str) -> list[Receipt]:
    return select_receipts(connection, tenant, "end_to_end_id = ? AND amount_minor > 0", (end_to_end_id,))


# --- open invoices --------------------------------------------------------------------------

_OPEN_ITEM = (
    "SELECT id, customer_id, number, currency, amount_minor - paid_minor - credited_minor, due_on "
    "FROM invoices WHERE tenant_id = ? AND amount_minor - paid_minor - credited_minor > 0"
)


def open_items(
    connection: Connection,
    tenant: str,
    *,
    customer_id: str | None = None,
    invoice_ids: Sequence[str] | None = None,
    lock: bool = False,
) -> list[OpenItem]:
    """Open invoices of the tenant, of one customer or among some ids; ``lock`` holds their
    rows on PostgreSQL until the transaction ends, so two payments cannot both take the
    same open amount."""
    raw = Raw(connection)
    suffix = " FOR UPDATE" if lock and raw.pg else ""
    if invoice_ids is not None:
        rows: list[tuple[Any, ...]] = []
        for chunk in _chunks(list(invoice_ids)):
            rows += raw.all(f"{_OPEN_ITEM} AND id IN ({raw.marks(len(chunk))}){suffix}", (tenant, *chunk))
    elif customer_id is not None:
        rows = raw.all(f"{_OPEN_ITEM} AND customer_id = ?{suffix}", (tenant, customer_id))
    else:
        # SQLite would walk another index and visit every invoice; the partial index of open
        # invoices reads only those (three times faster on a million-invoice ledger).
        sql = (
            _OPEN_ITEM
            if raw.pg
            else _OPEN_ITEM.replace("FROM invoices", "FROM invoices INDEXED BY ix_invoices_open_level")
        )
        rows = raw.all(sql + suffix, (tenant,))
    items = []
    for iid, customer, number, currency, open_minor, due in rows:
        due_on = raw.to_date(due)
        assert due_on is not None
        items.append(OpenItem(iid, customer, number, Money.of_minor(open_minor, currency), due_on))
    return items


def invoices_by_number(connection: Connection, tenant: str, numbers: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    """Invoice number -> (invoice id, customer id, currency), for the numbers that exist."""
    raw = Raw(connection)
    found: dict[str, tuple[str, str, str]] = {}
    for chunk in _chunks(list(numbers)):
        rows = raw.all(
            f"SELECT number, id, customer_id, currency FROM invoices WHERE tenant_id = ? "
            f"AND number IN ({raw.marks(len(chunk))})",
            (tenant, *chunk),
        )
        found.update({number: (iid, customer, currency) for number, iid, customer, currency in rows})
    return found


def invoice_numbers(connection: Connection, tenant: str, ids: Sequence[str]) -> dict[str, str]:
    raw = Raw(connection)
    found: dict[str, str] = {}
    for chunk in _chunks(list(ids)):
        rows = raw.all(
            f"SELECT id, number FROM invoices WHERE tenant_id = ? AND id IN ({raw.marks(len(chunk))})",
            (tenant, *chunk),
        )
        found.update(dict(rows))
    return found


def customer_exists(connection: Connection, tenant: str, customer_id: str) -> bool:
    return bool(Raw(connection).all("SELECT 1 FROM customers WHERE tenant_id = ? AND id = ?", (tenant, customer_id)))


# --- allocations ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Posting:
    """Allocations of one receipt to write; negative amounts undo earlier ones."""

    receipt_id: str
    customer_id: str
    paid_on: date
    reference: str
    allocations: tuple[Allocation, ...]


def post(connection: Connection, tenant: str, postings: Sequence[Posting], *, suffix: str = "") -> None:
    """Write allocation rows and move the invoices' paid amounts, bringing each into review.

    Row ids are the receipt id, a slash and a running number per receipt (``suffix`` marks
    reversals), so that posting the same receipt twice fails on the primary key instead of
    paying twice.
    """
    if not postings:
        return
    raw = Raw(connection)
    counts = _allocation_counts(raw, tenant, [p.receipt_id for p in postings])
    rows = []
    moves: dict[str, int] = {}
    for posting in postings:
        n = counts.get(posting.receipt_id, 0)
        for allocation in posting.allocations:
            n += 1
            rows.append(
                (
                    tenant,
                    f"{posting.receipt_id}/{n}{suffix}",
                    allocation.invoice_id,
                    posting.customer_id,
                    allocation.amount.currency,
                    allocation.amount.minor,
                    raw.to_db(posting.paid_on),
                    posting.reference[:200],
                    "payment",
                    posting.receipt_id,
                )
            )
            moves[allocation.invoice_id] = moves.get(allocation.invoice_id, 0) + allocation.amount.minor
    rows.sort(key=lambda row: row[1])
    raw.insert(
        "payments",
        (
            "tenant_id",
            "id",
            "invoice_id",
            "customer_id",
            "currency",
            "amount_minor",
            "paid_on",
            "reference",
            "kind",
            "receipt_id",
        ),
        rows,
    )
    # Every touched invoice is reviewed by the next run, settled ones included: the run's
    # counts then say that they were paid, and a dunned one closes.
    # In key order: neighbouring rows share index pages, several times faster on large ledgers.
    raw.many(
        "UPDATE invoices SET paid_minor = paid_minor + ?, next_review_on = issued_on WHERE tenant_id = ? AND id = ?",
        [(minor, tenant, iid) for iid, minor in sorted(moves.items())],
    )


def _allocation_counts(raw: Raw, tenant: str, receipt_ids: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for chunk in _chunks(sorted(set(receipt_ids))):
        rows = raw.all(
            f"SELECT receipt_id, COUNT(*) FROM payments WHERE tenant_id = ? AND receipt_id IN "
            f"({raw.marks(len(chunk))}) GROUP BY receipt_id",
            (tenant, *chunk),
        )
        counts.update({rid: int(n) for rid, n in rows})
    return counts


def allocations_of(connection: Connection, tenant: str, receipt_id: str) -> list[Allocation]:
    """What a receipt pays now, per invoice in the order it was allocated (reversals netted)."""
    rows = Raw(connection).all(
        "SELECT id, invoice_id, currency, amount_minor FROM payments WHERE tenant_id = ? AND receipt_id = ?",
        (tenant, receipt_id),
    )
    totals: dict[str, tuple[int, str, int]] = {}
    for row_id, invoice_id, currency, minor in rows:
        n = int(row_id.rsplit("/", 1)[1].rstrip("r"))
        first, _currency, total = totals.get(invoice_id, (n, currency, 0))
        totals[invoice_id] = (min(first, n), currency, total + int(minor))
    ordered = sorted(totals.items(), key=lambda pair: pair[1][0])
    return [Allocation(iid, Money.of_minor(total, currency)) for iid, (_n, currency, total) in ordered if total]


# --- payer accounts ---------------------------------------------------------------------------


def payers(connection: Connection, tenant: str) -> dict[str, str]:
    """IBAN -> customer, for IBANs known to pay for exactly one customer."""
    rows = Raw(connection).all(
        "SELECT iban, MIN(customer_id) FROM payer_accounts WHERE tenant_id = ? GROUP BY iban "
        "HAVING COUNT(DISTINCT customer_id) = 1",
        (tenant,),
    )
    return dict(rows)


def learn_payers(
    connection: Connection, tenant: str, pairs: Iterable[tuple[str, str]], source: str, now: datetime
) -> None:
    """Remember that these IBANs paid for these customers (first source kept)."""
    unique = sorted({(iban, customer) for iban, customer in pairs if iban})
    Raw(connection).many(
        "INSERT INTO payer_accounts (tenant_id, iban, customer_id, learned_at, source) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [(tenant, iban, customer, now.isoformat(), source) for iban, customer in unique],
    )


def lock_money_in(connection: Connection, tenant: str) -> None:
    """Serialise the tenant's allocations on PostgreSQL until the transaction ends.

    Matching reads open amounts and then allocates them; two imports (or an import and a
    provider event) doing so at once could both take the same open amount. SQLite has one
    writer at a time already.
    """
    raw = Raw(connection)
    if raw.pg:
        raw.all("SELECT pg_advisory_xact_lock(hashtext(?))", (f"pastdue money in {tenant}",))
