"""The ledger's file format (DESIGN.md section 4): which files, which columns, in which order.

Kept apart from reading and checking so that the store, which stages rows in this column
order, depends on the format and not on the reader.
"""

from __future__ import annotations

from enum import StrEnum


class LedgerKind(StrEnum):
    CUSTOMERS = "customers"
    INVOICES = "invoices"
    PAYMENTS = "payments"


REQUIRED: dict[LedgerKind, tuple[str, ...]] = {
    LedgerKind.CUSTOMERS: ("id", "name", "email", "phone", "country", "language", "timezone"),
    LedgerKind.INVOICES: (
        "id",
        "customer_id",
        "number",
        "currency",
        "amount",
        "issued_on",
        "due_on",
    ),
    LedgerKind.PAYMENTS: ("id", "invoice_id", "amount", "currency", "paid_on"),
}
OPTIONAL: dict[LedgerKind, tuple[str, ...]] = {
    LedgerKind.CUSTOMERS: ("street", "postal_code", "city", "kind", "policy", "exempt"),
    LedgerKind.INVOICES: (),
    LedgerKind.PAYMENTS: ("customer_id", "reference", "kind"),
}
# Order of the values in a staged row (``line`` is appended by the reader).
STAGE_COLUMNS: dict[LedgerKind, tuple[str, ...]] = {
    LedgerKind.CUSTOMERS: (
        "id",
        "name",
        "email",
        "phone",
        "country",
        "language",
        "timezone",
        "street",
        "postal_code",
        "city",
        "kind",
        "policy",
        "exempt",
    ),
    LedgerKind.INVOICES: (
        "id",
        "customer_id",
        "number",
        "currency",
        "amount_minor",
        "issued_on",
        "due_on",
    ),
    LedgerKind.PAYMENTS: (
        "id",
        "invoice_id",
        "customer_id",
        "currency",
        "amount_minor",
        "paid_on",
        "reference",
        "kind",
    ),
}


def detect_kind(header: list[str]) -> LedgerKind | None:
    """Which ledger file a header belongs to, judged by its columns, not its name."""
    names = set(header)
    for kind in (LedgerKind.INVOICES, LedgerKind.PAYMENTS, LedgerKind.CUSTOMERS):
        if set(REQUIRED[kind]) <= names:
            return kind
    return None
