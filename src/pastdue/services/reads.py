"""Read-only use cases: listings and the audit check; they never write."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from pastdue.bootstrap import App
from pastdue.errors import NotFound
from pastdue.store import audit, database, queries
from pastdue.store.database import reading


def invoices(app: App, *, open_only: bool = False, customer_id: str | None = None) -> Iterator[queries.InvoiceRow]:
    with reading(app.engine) as connection:
        yield from queries.list_invoices(connection, app.tenant, open_only=open_only, customer_id=customer_id)


def notices(app: App, *, as_of: date | None = None, status: str | None = None) -> list[queries.NoticeRow]:
    with reading(app.engine) as connection:
        return queries.list_notices(connection, app.tenant, as_of=as_of, status=status)


def verify_audit(app: App) -> int:
    """Number of events in an intact chain; raises AuditChainBroken at the first bad one."""
    with reading(app.engine) as connection:
        return audit.verify(connection, app.tenant)


def require_schema(app: App) -> None:
    """Refuse to work on a database that `pastdue init` has not prepared."""
    with reading(app.engine) as connection:
        if database.current_revision(connection) is None:
            raise NotFound("the database has no pastdue schema yet: run `pastdue init` first")
