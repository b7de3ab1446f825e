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

from sqlalchemy import Connection, insert, select, update

from pastdue.errors import AuditChainBroken
from pastdue.store.database import is_postgres
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
    """Append events to the tenant's chain inside the caller's transaction; returns the count."""
    stamp = at.isoformat()
    head_query = select(audit_heads.c.seq, audit_heads.c.hash).where(audit_heads.c.tenant_id == tenant)
    if is_postgres(connection):
        head_query = head_query.with_for_update()
    head = connection.execute(head_query).first()
    if head is None:
        connection.execute(insert(audit_heads).values(tenant_id=tenant, seq=0, hash=GENESIS))
        if is_postgres(connection):
            head = connection.execute(head_query).first()
        seq, prev = 0, GENESIS
    if head is not None:
        seq, prev = head.seq, head.hash
    rows: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        payload = canonical_json(event.payload)
        digest = event_hash(prev, seq, stamp, event.kind, event.actor, event.subject, payload)
        rows.append(
            {
                "tenant_id": tenant,
                "seq": seq,
                "at": stamp,
                "kind": event.kind,
                "actor": event.actor,
                "subject": event.subject,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    if rows:
        Raw(connection).insert("audit_events", tuple(rows[0]), [tuple(row.values()) for row in rows])
        connection.execute(update(audit_heads).where(audit_heads.c.tenant_id == tenant).values(seq=seq, hash=prev))
    return len(rows)


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
