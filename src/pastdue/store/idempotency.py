"""Idempotency keys of the REST API: one row per (tenant, key), claimed before the request
runs and completed with its answer.

Claiming is an INSERT ... ON CONFLICT DO NOTHING, so two requests racing with one key
cannot both run: the loser finds the winner's row (still without an answer) and is told
to retry. Rows older than the expiry are deleted when a tenant claims a new key, which
keeps the table to about a day of keys without a separate clean-up job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select, text, update

from pastdue.store.sql import stamp
from pastdue.store.tables import idempotency_keys


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """What a key was first used for; ``status`` is ``None`` while that request runs."""

    request_hash: str
    status: int | None
    content_type: str | None
    body: str | None


def claim(
    connection: Connection, tenant: str, key: str, request_hash: str, now: datetime, expired_before: datetime
) -> StoredRequest | None:
    """Take the key for a new request; ``None`` when taken, else what it was used for."""
    c = idempotency_keys.c
    connection.execute(delete(idempotency_keys).where(c.tenant_id == tenant, c.created_at < stamp(expired_before)))
    inserted = connection.execute(
        text(
            "INSERT INTO idempotency_keys (tenant_id, key, request_hash, created_at) "
            "VALUES (:tenant, :key, :hash, :now) ON CONFLICT DO NOTHING"
        ),
        {"tenant": tenant, "key": key, "hash": request_hash, "now": stamp(now)},
    )
    if inserted.rowcount:
        return None
    row = connection.execute(
        select(c.request_hash, c.status, c.content_type, c.body).where(c.tenant_id == tenant, c.key == key)
    ).one()
    return StoredRequest(row.request_hash, row.status, row.content_type, row.body)


def complete(connection: Connection, tenant: str, key: str, status: int, content_type: str, body: str) -> None:
    """Keep the answer a claimed key's request got, for its retries."""
    c = idempotency_keys.c
    connection.execute(
        update(idempotency_keys)
        .where(c.tenant_id == tenant, c.key == key)
        .values(status=status, content_type=content_type, body=body)
    )


def forget(connection: Connection, tenant: str, key: str) -> None:
    """Give a claimed key up (its request failed in a way worth retrying)."""
    c = idempotency_keys.c
    connection.execute(delete(idempotency_keys).where(c.tenant_id == tenant, c.key == key, c.status.is_(None)))
