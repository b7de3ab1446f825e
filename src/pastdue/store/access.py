"""Users, API keys and portal tokens: the rows behind logging in, calling the API and
opening the customer portal.

Times are stored with :func:`~pastdue.store.sql.stamp` (UTC, one fixed shape) so that they
compare as text: "last used before a minute ago" and "expired" are then plain SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, text, update

from pastdue.core.access import Role, Scope, scopes_from_text, scopes_to_text
from pastdue.store.sql import stamp, unstamp
from pastdue.store.tables import api_keys, customers, portal_tokens, users


def _when(value: str | None) -> datetime | None:
    return unstamp(value) if value else None


# --- users --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    """A dashboard user as everyone may see it: the password hash never leaves the store
    except to :func:`password_hash_of`'s caller."""

    tenant: str
    id: str
    email: str
    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


_USER_COLUMNS = (
    users.c.tenant_id,
    users.c.id,
    users.c.email,
    users.c.name,
    users.c.role,
    users.c.created_at,
    users.c.disabled_at,
)


def _user(row: tuple[str, ...]) -> User:
    tenant, user_id, email, name, role, created_at, disabled_at = row
    return User(tenant, user_id, email, name, Role(role), unstamp(created_at), _when(disabled_at))


def add_user(
    connection: Connection,
    tenant: str,
    *,
    user_id: str,
    email: str,
    name: str,
    role: Role,
    password_hash: str,
    now: datetime,
) -> bool:
    """Insert a user; ``False`` (nothing written) when the address is taken in this tenant.

    ON CONFLICT rather than a look-up first: two people adding the same address at once
    must not both succeed, nor fail with a database error.
    """
    inserted = connection.execute(
        text(
            "INSERT INTO users (tenant_id, id, email, name, role, password_hash, created_at) "
            "VALUES (:tenant, :id, :email, :name, :role, :hash, :now) ON CONFLICT DO NOTHING"
        ),
        {
            "tenant": tenant,
            "id": user_id,
            "email": email,
            "name": name,
            "role": role.value,
            "hash": password_hash,
            "now": stamp(now),
        },
    )
    return bool(inserted.rowcount)


def user_by_email(connection: Connection, tenant: str, email: str) -> User | None:
    row = connection.execute(select(*_USER_COLUMNS).where(users.c.tenant_id == tenant, users.c.email == email)).first()
    return _user(tuple(row)) if row is not None else None


def password_hash_of(connection: Connection, tenant: str, email: str) -> tuple[User, str] | None:
    """The user with this address and the stored hash, for checking a password only."""
    row = connection.execute(
        select(*_USER_COLUMNS, users.c.password_hash).where(users.c.tenant_id == tenant, users.c.email == email)
    ).first()
    if row is None:
        return None
    *fields, password_hash = tuple(row)
    return _user(tuple(fields)), password_hash


def list_users(connection: Connection, tenant: str) -> list[User]:
    rows = connection.execute(select(*_USER_COLUMNS).where(users.c.tenant_id == tenant).order_by(users.c.email))
    return [_user(tuple(row)) for row in rows]


def replace_password_hash(connection: Connection, tenant: str, user_id: str, old: str, new: str) -> bool:
    """Swap the hash only if it is still ``old``: a password changed meanwhile is kept."""
    changed = connection.execute(
        update(users)
        .where(users.c.tenant_id == tenant, users.c.id == user_id, users.c.password_hash == old)
        .values(password_hash=new)
    )
    return bool(changed.rowcount)


def disable_user(connection: Connection, tenant: str, user_id: str, now: datetime) -> bool:
    """Disable an active user; ``False`` if they already were."""
    changed = connection.execute(
        update(users)
        .where(users.c.tenant_id == tenant, users.c.id == user_id, users.c.disabled_at.is_(None))
        .values(disabled_at=stamp(now))
    )
    return bool(changed.rowcount)


# --- API keys -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as it may be shown: its id and what it may do, never its secret."""

    tenant: str
    id: str
    name: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


_KEY_COLUMNS = (
    api_keys.c.tenant_id,
    api_keys.c.id,
    api_keys.c.name,
    api_keys.c.scopes,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
    api_keys.c.revoked_at,
)


def _key(row: tuple[str, ...]) -> ApiKey:
    tenant, key_id, name, scopes, created_at, last_used_at, revoked_at = row
    return ApiKey(
        tenant, key_id, name, scopes_from_text(scopes), unstamp(created_at), _when(last_used_at), _when(revoked_at)
    )


def add_key(
    connection: Connection,
    tenant: str,
    *,
    key_id: str,
    name: str,
    scopes: tuple[Scope, ...],
    secret_hash: str,
    now: datetime,
) -> bool:
    """Insert a key; ``False`` when the id is taken in this tenant (draw another)."""
    inserted = connection.execute(
        text(
            "INSERT INTO api_keys (tenant_id, id, name, scopes, secret_hash, created_at) "
            "VALUES (:tenant, :id, :name, :scopes, :hash, :now) ON CONFLICT DO NOTHING"
        ),
        {
            "tenant": tenant,
            "id": key_id,
            "name": name,
            "scopes": scopes_to_text(scopes),
            "hash": secret_hash,
            "now": stamp(now),
        },
    )
    return bool(inserted.rowcount)


def key_with_hash(connection: Connection, tenant: str, key_id: str) -> tuple[ApiKey, str] | None:
    """The key and its stored hash: one primary-key read per request."""
    row = connection.execute(
        select(*_KEY_COLUMNS, api_keys.c.secret_hash).where(api_keys.c.tenant_id == tenant, api_keys.c.id == key_id)
    ).first()
    if row is None:
        return None
    *fields, secret_hash = tuple(row)
    return _key(tuple(fields)), secret_hash


def list_keys(
    connection: Connection, tenant: str, *, after: str | None = None, limit: int | None = None, only: str | None = None
) -> list[ApiKey]:
    """Every key, oldest first; or a page of them in id order (``after``, ``limit``: the
    order the API pages by), or one (``only``)."""
    c = api_keys.c
    query = select(*_KEY_COLUMNS).where(c.tenant_id == tenant)
    if only is not None:
        query = query.where(c.id == only)
    if after is not None or limit is not None:
        if after is not None:
            query = query.where(c.id > after)
        query = query.order_by(c.id).limit(limit)
    else:
        query = query.order_by(c.created_at, c.id)
    return [_key(tuple(row)) for row in connection.execute(query)]


def revoke_key(connection: Connection, tenant: str, key_id: str, now: datetime) -> bool:
    """Revoke an active key; ``False`` if it already was."""
    changed = connection.execute(
        update(api_keys)
        .where(api_keys.c.tenant_id == tenant, api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=stamp(now))
    )
    return bool(changed.rowcount)


def touch_key(connection: Connection, tenant: str, key_id: str, now: datetime, not_since: datetime) -> bool:
    """Record a use unless one was recorded at or after ``not_since``: concurrent requests
    write the row once, not once each."""
    changed = connection.execute(
        update(api_keys)
        .where(
            api_keys.c.tenant_id == tenant,
            api_keys.c.id == key_id,
            (api_keys.c.last_used_at.is_(None)) | (api_keys.c.last_used_at < stamp(not_since)),
        )
        .values(last_used_at=stamp(now))
    )
    return bool(changed.rowcount)


# --- portal tokens ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortalToken:
    tenant: str
    id: str
    customer_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def customer_exists(connection: Connection, tenant: str, customer_id: str) -> bool:
    found = connection.execute(
        select(customers.c.id).where(customers.c.tenant_id == tenant, customers.c.id == customer_id)
    ).first()
    return found is not None


def add_token(
    connection: Connection, tenant: str, *, token_id: str, customer_id: str, now: datetime, expires: datetime
) -> None:
    connection.execute(
        insert(portal_tokens).values(
            tenant_id=tenant,
            id=token_id,
            customer_id=customer_id,
            created_at=stamp(now),
            expires_at=stamp(expires),
        )
    )


def token_by_id(connection: Connection, tenant: str, token_id: str) -> PortalToken | None:
    row = connection.execute(
        select(portal_tokens).where(portal_tokens.c.tenant_id == tenant, portal_tokens.c.id == token_id)
    ).first()
    if row is None:
        return None
    return PortalToken(
        row.tenant_id,
        row.id,
        row.customer_id,
        unstamp(row.created_at),
        unstamp(row.expires_at),
        _when(row.revoked_at),
    )


def revoke_tokens(connection: Connection, tenant: str, customer_id: str, now: datetime) -> list[str]:
    """Revoke every unrevoked token of a customer, expired ones too (so a clock set back
    cannot revive them); returns their ids."""
    condition = (
        (portal_tokens.c.tenant_id == tenant)
        & (portal_tokens.c.customer_id == customer_id)
        & portal_tokens.c.revoked_at.is_(None)
    )
    ids = list(connection.execute(select(portal_tokens.c.id).where(condition).order_by(portal_tokens.c.id)).scalars())
    if ids:
        connection.execute(update(portal_tokens).where(condition).values(revoked_at=stamp(now)))
    return ids
