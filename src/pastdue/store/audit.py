"""The append-only audit log: every event hashes its predecessor's hash and its own content.

A tenant's chain is a sequence numbered from 1. Appending locks the tenant's head row, so
concurrent writers take turns and the chain never forks; ``verify`` recomputes every hash
in order and names the first event that does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from pastdue.errors import AuditChainBroken
from pastdue.store.sql import Raw
from pastdue.store.tables import audit_events, audit_heads

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    kind: str  # import, update, decision, action, hold, policy
    subject: str | None
    payload: dict[str, Any]
    actor: str = "pastdue"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, seq: int, at: str, kind: str, actor: str, subject: str | None, payload: str) -> str:
    text = "\x1f".join((prev_hash, str(seq), at, kind, actor, subject or "", payload))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append(connection: Connection, tenant: str, events: Iterable[AuditEvent], at: datetime) -> int:
    """Append events to the tenant's chain inside the caller's transaction; returns the count.

    Raw statements: the delivery queue appends one event per notice, so an append is kept to
    three round trips (lock the head, insert, move the head).
    """
    events = list(events)
    if not events:
        return 0
    raw = Raw(connection)
    stamp = at.isoformat()
    lock = " FOR UPDATE" if raw.pg else ""
    head = raw.all(f"SELECT seq, hash FROM audit_heads WHERE tenant_id = ?{lock}", (tenant,))
    if not head:
        raw.run(
            "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, 0, ?) ON CONFLICT DO NOTHING", (tenant, GENESIS)
        )
        head = raw.all(f"SELECT seq, hash FROM audit_heads WHERE tenant_id = ?{lock}", (tenant,))
    seq, prev = head[0]
    rows: list[tuple[Any, ...]] = []
    for event in events:
        seq += 1
        payload = canonical_json(event.payload)
        digest = event_hash(prev, seq, stamp, event.kind, event.actor, event.subject, payload)
        rows.append((tenant, seq, stamp, event.kind, event.actor, event.subject, payload, prev, digest))
        prev = digest
    if len(rows) > _COPY_FROM:
        raw.insert("audit_events", _EVENT_COLUMNS, rows)
    elif len(rows) == 1:  # one statement, one round trip (executemany pipelines, at a cost)
        raw.run(f"INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) VALUES ({raw.marks(9)})", rows[0])
    else:
        raw.many(f"INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) VALUES ({raw.marks(9)})", rows)
    raw.run("UPDATE audit_heads SET seq = ?, hash = ? WHERE tenant_id = ?", (seq, prev, tenant))
    return len(rows)


_EVENT_COLUMNS = ("tenant_id", "seq", "at", "kind", "actor", "subject", "payload", "prev_hash", "hash")
_COPY_FROM = 20  # below this many rows, a plain INSERT beats COPY's set-up


def verify(connection: Connection, tenant: str) -> int:
    """Check the whole chain; returns the number of events, or raises AuditChainBroken."""
    prev, expected_seq = GENESIS, 0
    query = (
        select(audit_events)
        .where(audit_events.c.tenant_id == tenant)
        .order_by(audit_events.c.seq)
        .execution_options(yield_per=10_000)
    )
    # ``with``: stopping at a broken event must still close PostgreSQL's server-side cursor.
    with connection.execute(query) as rows:
        for row in rows:
            expected_seq += 1
            if row.seq != expected_seq:
                raise AuditChainBroken(expected_seq, f"missing; the next stored event is {row.seq}")
            if row.prev_hash != prev:
                raise AuditChainBroken(row.seq, "does not link to the event before it")
            digest = event_hash(prev, row.seq, row.at, row.kind, row.actor, row.subject, row.payload)
            if digest != row.hash:
                raise AuditChainBroken(row.seq, "content does not match its hash (altered)")
            prev = digest
    head = connection.execute(
        select(audit_heads.c.seq, audit_heads.c.hash).where(audit_heads.c.tenant_id == tenant)
    ).first()
    if head is not None and (head.seq != expected_seq or head.hash != prev):
        raise AuditChainBroken(
            expected_seq + 1 if head.seq > expected_seq else head.seq,
            "the chain's head does not match its last event (events removed?)",
        )
    return expected_seq


def events_for(connection: Connection, tenant: str, subjects: list[str]) -> list[Any]:
    """Events about any of the subjects, in chain order."""
    query = (
        select(audit_events)
        .where(audit_events.c.tenant_id == tenant, audit_events.c.subject.in_(subjects))
        .order_by(audit_events.c.seq)
    )
    return list(connection.execute(query))
