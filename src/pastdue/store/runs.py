"""Runs requested through the REST API: a queue in a table, so that a run's status and
result outlive the request that asked for it and the process that ran it.

A run moves queued -> running -> succeeded | failed, each step a conditional UPDATE: two
processes serving one tenant can both try to take the same queued run, and only one
wins it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError

from pastdue.errors import StoreError
from pastdue.store.tables import runs

STATUSES = ("queued", "running", "succeeded", "failed")
MAX_ERROR = 1000


@dataclass(frozen=True, slots=True)
class RunRow:
    id: str
    seq: int
    as_of: date
    dry_run: bool
    status: str
    requested_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    summary: dict[str, Any] | None
    error: str | None


def add_run(
    connection: Connection, tenant: str, run_id: str, as_of: date, dry_run: bool, requested_by: str, now: datetime
) -> int:
    """Queue a run; returns its number in the tenant. The number is the next after the
    highest; two requests racing for it on PostgreSQL meet on the unique key, and the
    loser draws again (in a savepoint, so its transaction survives)."""
    c = runs.c
    highest = select(func.coalesce(func.max(c.seq), 0)).where(c.tenant_id == tenant)
    for _attempt in range(5):
        seq = int(connection.execute(highest).scalar_one()) + 1
        try:
            with connection.begin_nested():
                connection.execute(
                    runs.insert().values(
                        tenant_id=tenant,
                        id=run_id,
                        seq=seq,
                        as_of=as_of,
                        dry_run=dry_run,
                        status="queued",
                        requested_by=requested_by[:100],
                        created_at=now.isoformat(),
                    )
                )
        except IntegrityError:
            continue
        return seq
    raise StoreError("could not number a new run: too many requested at once")


def claim_next(connection: Connection, tenant: str, now: datetime) -> RunRow | None:
    """Take the oldest queued run of the tenant, marking it running; ``None`` when none waits."""
    c = runs.c
    while True:
        run_id = connection.execute(
            select(c.id).where(c.tenant_id == tenant, c.status == "queued").order_by(c.seq).limit(1)
        ).scalar_one_or_none()
        if run_id is None:
            return None
        taken = connection.execute(
            update(runs)
            .where(c.tenant_id == tenant, c.id == run_id, c.status == "queued")
            .values(status="running", started_at=now.isoformat())
        )
        if taken.rowcount:
            found = run_page(connection, tenant, only=run_id, limit=1)
            return found[0]
        # Another process took it between the two statements: look for the next one.


def finish(
    connection: Connection,
    tenant: str,
    run_id: str,
    now: datetime,
    *,
    summary: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Record how a running run ended: its summary, or the error that stopped it."""
    c = runs.c
    connection.execute(
        update(runs)
        .where(c.tenant_id == tenant, c.id == run_id, c.status == "running")
        .values(
            status="failed" if error is not None else "succeeded",
            finished_at=now.isoformat(),
            summary=json.dumps(summary, sort_keys=True) if summary is not None else None,
            error=error[:MAX_ERROR] if error is not None else None,
        )
    )


def run_page(
    connection: Connection,
    tenant: str,
    *,
    after: int | None = None,
    limit: int = 100,
    only: str | None = None,
    status: str | None = None,
) -> list[RunRow]:
    """Runs in the order they were requested."""
    c = runs.c
    query = select(
        c.id, c.seq, c.as_of, c.dry_run, c.status, c.requested_by, c.created_at, c.started_at, c.finished_at,
        c.summary, c.error,
    ).where(c.tenant_id == tenant)  # fmt: skip
    if after is not None:
        query = query.where(c.seq > after)
    if only is not None:
        query = query.where(c.id == only)
    if status is not None:
        query = query.where(c.status == status)
    return [
        RunRow(
            r.id, int(r.seq), r.as_of, bool(r.dry_run), r.status, r.requested_by, r.created_at, r.started_at,
            r.finished_at, json.loads(r.summary) if r.summary is not None else None, r.error,
        )
        for r in connection.execute(query.order_by(c.seq).limit(limit))
    ]  # fmt: skip
