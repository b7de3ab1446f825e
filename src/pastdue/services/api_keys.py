"""API keys for integrators: created with scopes, shown once, checked on every request,
revoked by a person; creation and revocation are audited.

A key reads ``pd_live_XXXXXXXX.<tenant>.<secret>``. The first part is the key's id (public:
listings and the audit log show it); the tenant is named in the key so that a request is
routed to its tenant's rows by primary key, the way every lookup in pastdue leads with the
tenant; the secret is 256 random bits.

Only a SHA-256 of the whole key is stored. A fast hash is right here, unlike for
passwords: slow hashing exists to make guessing low-entropy secrets expensive, and nobody
can guess 256 random bits however fast the hash is, while every API request pays for the
check. The database then never holds a key that works, and a leaked copy of it grants
nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pastdue.bootstrap import App, utc_now
from pastdue.core.access import MAX_KEY_NAME, Scope, name_problems, parse_scopes
from pastdue.errors import NotFound, ProblemsFound, StoreError
from pastdue.store import access, audit
from pastdue.store.access import ApiKey
from pastdue.store.audit import AuditEvent
from pastdue.store.database import reading, unit_of_work

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["KEY_PREFIX", "ApiKey", "Scope", "authenticate_key", "create_api_key", "list_api_keys", "revoke_api_key"]

KEY_PREFIX = "pd_live_"
"""A fixed prefix lets secret scanners (and people) recognise a leaked pastdue key."""

TOUCH_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key: an API client making many
requests a second must not turn every one of them into a write."""

_ID_ALPHABET = string.ascii_letters + string.digits
_KEY = re.compile(r"(pd_live_[A-Za-z0-9]{8})\.([a-z0-9][a-z0-9_-]{0,63})\.([A-Za-z0-9_-]{43})\Z")
_NO_HASH = "0" * 64  # compared against when the id is unknown: the check then costs the same


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_id() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def create_api_key(app: App, name: str, scopes: Iterable[str], *, actor: str = "person") -> tuple[str, str]:
    """Create a key; returns its id and the whole key, which is shown this once and never
    again (only its hash is kept)."""
    name = name.strip()
    parsed, problems = parse_scopes(scopes)
    problems = name_problems(name, "api key", MAX_KEY_NAME) + problems
    if problems:
        raise ProblemsFound(problems)
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        for _attempt in range(5):  # 62**8 ids per tenant: a clash is rare, five in a row never
            key_id = _new_id()
            key = f"{key_id}.{app.tenant}.{secrets.token_urlsafe(32)}"
            stored = access.add_key(
                uow.connection,
                app.tenant,
                key_id=key_id,
                name=name,
                scopes=parsed,
                secret_hash=_digest(key),
                now=now,
            )
            if stored:
                break
        else:
            raise StoreError("could not draw an unused API key id")
        payload = {"action": "created", "name": name, "scopes": [s.value for s in parsed]}
        audit.append(uow.connection, app.tenant, [AuditEvent("api key", key_id, payload, actor)], now)
        uow.commit()
    return key_id, key


def authenticate_key(source: App | Engine, presented: str, *, now: datetime | None = None) -> ApiKey | None:
    """The active key that ``presented`` is, or ``None``; its ``tenant`` is the tenant the
    request acts for.

    Given an :class:`App`, only keys of the App's tenant are accepted (a server built for one
    tenant never lets another tenant's key in). Given an ``Engine`` (a front door for many
    tenants), the tenant comes from the key alone. The hash comparison takes the same time
    whether the key exists or not, and whichever character differs.
    """
    if isinstance(source, App):
        engine, only_tenant, moment = source.engine, source.tenant, now or source.clock()
    else:
        engine, only_tenant, moment = source, None, now or utc_now()
    match = _KEY.match(presented.strip()) if len(presented) <= 200 else None
    if match is None:
        return None
    key_id, tenant, _secret = match.groups()
    if only_tenant is not None and tenant != only_tenant:
        return None
    with reading(engine) as connection:
        found = access.key_with_hash(connection, tenant, key_id)
    matched = hmac.compare_digest(_digest(presented.strip()), found[1] if found else _NO_HASH)
    if found is None or not matched or not found[0].active:
        return None
    key = found[0]
    if key.last_used_at is None or key.last_used_at < moment - TOUCH_EVERY:
        with unit_of_work(engine) as uow:
            if access.touch_key(uow.connection, tenant, key_id, moment, moment - TOUCH_EVERY):
                uow.commit()
                key = replace(key, last_used_at=moment)
    return key


def revoke_api_key(app: App, key_id: str, *, actor: str = "person") -> bool:
    """Stop a key from working, from the next request on; ``False`` if it already was revoked."""
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        found = access.key_with_hash(uow.connection, app.tenant, key_id)
        if found is None:
            raise NotFound(f"no API key {key_id!r} in tenant {app.tenant!r}")
        if not access.revoke_key(uow.connection, app.tenant, key_id, now):
            return False
        payload = {"action": "revoked", "name": found[0].name}
        audit.append(uow.connection, app.tenant, [AuditEvent("api key", key_id, payload, actor)], now)
        uow.commit()
    return True


def list_api_keys(app: App) -> list[ApiKey]:
    """Every key of the tenant, revoked ones too, oldest first; never a secret or a hash."""
    with app.engine.connect() as connection:
        return access.list_keys(connection, app.tenant)
