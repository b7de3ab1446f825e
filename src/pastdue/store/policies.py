"""Tenants and their versioned policies.

A policy is never edited in place: applying a changed file stores a new version, and every
decision records the name and version it was taken under.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, text, update

from pastdue.core.policy import Policy, policy_from_dict, policy_to_dict
from pastdue.errors import StoreError
from pastdue.store.audit import GENESIS
from pastdue.store.tables import policies, tenants

# Invoices that a changed rule could affect: open ones, and dunned ones not yet closed.
NEEDS_REVIEW = "(amount_minor - paid_minor - credited_minor > 0 OR (level > 0 AND closed_on IS NULL))"


def ensure_tenant(connection: Connection, tenant: str, now: datetime) -> None:
    """Create the tenant row (with a random secret for signing links) and its audit chain
    head once; safe under concurrency."""
    # ON CONFLICT DO NOTHING reads the same on SQLite and PostgreSQL.
    connection.execute(
        text(
            "INSERT INTO tenants (tenant_id, created_at, profile) VALUES (:tenant, :now, :profile) "
            "ON CONFLICT DO NOTHING"
        ),
        {"tenant": tenant, "now": now.isoformat(), "profile": json.dumps({"link_secret": secrets.token_urlsafe(32)})},
    )
    connection.execute(
        text("INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (:tenant, 0, :hash) ON CONFLICT DO NOTHING"),
        {"tenant": tenant, "hash": GENESIS},
    )


def digest(policy: Policy) -> str:
    body = json.dumps(policy_to_dict(policy), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def latest_policies(connection: Connection, tenant: str) -> tuple[dict[str, Policy], str | None]:
    """The newest version of each policy, and the tenant's default policy name."""
    newest = (
        select(policies.c.name, func.max(policies.c.version).label("version"))
        .where(policies.c.tenant_id == tenant)
        .group_by(policies.c.name)
        .subquery()
    )
    rows = connection.execute(
        select(policies.c.name, policies.c.version, policies.c.body)
        .join(newest, (policies.c.name == newest.c.name) & (policies.c.version == newest.c.version))
        .where(policies.c.tenant_id == tenant)
    )
    found: dict[str, Policy] = {}
    for name, version, body in rows:
        policy, problems = policy_from_dict(json.loads(body), f"stored policy {name}")
        if policy is None:
            raise StoreError(f"stored policy {name} v{version} no longer parses: {problems[0]}")
        found[name] = replace(policy, version=version)
    default = connection.execute(
        select(tenants.c.default_policy).where(tenants.c.tenant_id == tenant)
    ).scalar_one_or_none()
    return found, default


def history(connection: Connection, tenant: str, name: str) -> list[tuple[int, str, str]]:
    """(version, applied_at, digest) of every version of one policy, oldest first."""
    rows = connection.execute(
        select(policies.c.version, policies.c.applied_at, policies.c.digest)
        .where(policies.c.tenant_id == tenant, policies.c.name == name)
        .order_by(policies.c.version)
    )
    return [(r.version, r.applied_at, r.digest) for r in rows]


def store_policy(connection: Connection, tenant: str, policy: Policy, now: datetime) -> int | None:
    """Store a new version if the policy differs from its newest one; returns it, or None."""
    current, _default = latest_policies(connection, tenant)
    existing = current.get(policy.name)
    fingerprint = digest(policy)
    if existing is not None and digest(existing) == fingerprint:
        return None
    version = existing.version + 1 if existing else 1
    connection.execute(
        insert(policies).values(
            tenant_id=tenant,
            name=policy.name,
            version=version,
            body=json.dumps(policy_to_dict(policy), sort_keys=True),
            digest=fingerprint,
            applied_at=now.isoformat(),
        )
    )
    return version


def set_default(connection: Connection, tenant: str, name: str, only_if_unset: bool) -> bool:
    query = update(tenants).where(tenants.c.tenant_id == tenant).values(default_policy=name)
    if only_if_unset:
        query = query.where(tenants.c.default_policy.is_(None))
    return bool(connection.execute(query).rowcount)


def reset_reviews(connection: Connection, tenant: str) -> int:
    """Bring every invoice a rule change could affect back into review on the next run."""
    return int(
        connection.execute(
            text(
                f"UPDATE invoices SET next_review_on = issued_on WHERE tenant_id = :tenant AND {NEEDS_REVIEW} "
                "AND (next_review_on IS NULL OR next_review_on <> issued_on)"
            ),
            {"tenant": tenant},
        ).rowcount
    )


def policy_version(connection: Connection, tenant: str, name: str, version: int) -> Policy | None:
    """One stored version: a notice is delivered under the policy version that queued it."""
    body = connection.execute(
        select(policies.c.body).where(
            policies.c.tenant_id == tenant, policies.c.name == name, policies.c.version == version
        )
    ).scalar_one_or_none()
    if body is None:
        return None
    policy, problems = policy_from_dict(json.loads(body), f"stored policy {name}")
    if policy is None:
        raise StoreError(f"stored policy {name} v{version} no longer parses: {problems[0]}")
    return replace(policy, version=version)
