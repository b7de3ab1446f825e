"""Dashboard users: adding them, checking their passwords, disabling them; every change audited.

Passwords are kept only as argon2id hashes (argon2-cffi). Argon2 is slow and memory-hard
on purpose, which is what a low-entropy secret chosen by a person needs; the work is done
outside any database transaction, so a log-in never holds a lock while it hashes.
"""

from __future__ import annotations

import functools
import secrets
import uuid

from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import ARGON2_VERSION

from pastdue.bootstrap import App
from pastdue.core.access import (
    MAX_NAME,
    MAX_PASSWORD,
    Role,
    email_problems,
    name_problems,
    normalise_email,
    parse_role,
    password_problems,
)
from pastdue.errors import NotFound, Problem, ProblemsFound, StoreError
from pastdue.store import access, audit
from pastdue.store.access import User
from pastdue.store.audit import AuditEvent
from pastdue.store.database import unit_of_work

__all__ = ["Role", "User", "add_user", "disable_user", "list_users", "password_hasher", "verify_password"]


@functools.cache
def _recommended() -> PasswordHasher:
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def password_hasher(app: App) -> PasswordHasher:
    """The App's hasher, else argon2id with argon2-cffi's recommended parameters."""
    return app.password_hasher or _recommended()


def _decoy_hash(hasher: PasswordHasher) -> str:
    """A hash of a password nobody knows, under the hasher's parameters: an unknown address
    is checked against it, so that it costs what a known one does and timing cannot tell
    which addresses have accounts."""
    return _decoy_for(
        (hasher.type, hasher.salt_len, hasher.hash_len, hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    )


@functools.lru_cache(maxsize=8)
def _decoy_for(parameters: tuple[Type, int, int, int, int, int]) -> str:
    kind, salt_len, hash_len, time_cost, memory_cost, parallelism = parameters
    made = Parameters(kind, ARGON2_VERSION, salt_len, hash_len, time_cost, memory_cost, parallelism)
    return PasswordHasher.from_parameters(made).hash(secrets.token_urlsafe(32))


def _matches(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except InvalidHashError as exc:
        raise StoreError("a stored password hash is not an argon2 hash") from exc
    except VerificationError:  # a wrong password (VerifyMismatchError) or a hash it cannot check
        return False


def add_user(app: App, email: str, name: str, role: str, password: str, *, actor: str = "person") -> User:
    """Add a dashboard user; the address is stored lower-case and must be new in the tenant.

    Every problem (address, name, role, password, address taken) is reported at once.
    """
    address, name = normalise_email(email), name.strip()
    bad_address = email_problems(email)
    problems = bad_address + name_problems(name, "user", MAX_NAME)
    parsed_role, role_problems = parse_role(role)
    problems += role_problems + password_problems(password)
    if not bad_address:
        with app.engine.connect() as connection:
            if access.user_by_email(connection, app.tenant, address) is not None:
                problems.append(_taken(address))
    if problems or parsed_role is None:
        raise ProblemsFound(problems)
    password_hash = password_hasher(app).hash(password)  # slow: before the transaction, not in it
    now = app.clock()
    user_id = str(uuid.uuid4())
    with unit_of_work(app.engine) as uow:
        added = access.add_user(
            uow.connection,
            app.tenant,
            user_id=user_id,
            email=address,
            name=name,
            role=parsed_role,
            password_hash=password_hash,
            now=now,
        )
        if not added:  # someone added the same address since the check above
            raise ProblemsFound([_taken(address)])
        payload = {"action": "added", "email": address, "name": name, "role": parsed_role.value}
        audit.append(uow.connection, app.tenant, [AuditEvent("user", user_id, payload, actor)], now)
        uow.commit()
    return User(app.tenant, user_id, address, name, parsed_role, now, None)


def _taken(address: str) -> Problem:
    return Problem("user", None, "email", f"{address} is already a user of this tenant")


def verify_password(app: App, email: str, password: str) -> User | None:
    """The active user with this address and password, or ``None``.

    An unknown address, a disabled user and a wrong password all cost one argon2
    verification and all answer ``None``. A hash made under older parameters is replaced
    by one under the current parameters once the password has proved right.
    """
    if len(password) > MAX_PASSWORD:  # no hash could match; refuse before any hashing work
        return None
    hasher = password_hasher(app)
    with app.engine.connect() as connection:  # closed before hashing: no lock is held meanwhile
        found = access.password_hash_of(connection, app.tenant, normalise_email(email))
    if found is None:
        _matches(hasher, _decoy_hash(hasher), password)
        return None
    user, stored = found
    if not _matches(hasher, stored, password) or not user.active:
        return None
    if hasher.check_needs_rehash(stored):
        _rehash(app, user, stored, hasher.hash(password))
    return user


def _rehash(app: App, user: User, old: str, new: str) -> None:
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        if access.replace_password_hash(uow.connection, app.tenant, user.id, old, new):
            payload = {"action": "password rehashed", "email": user.email}
            audit.append(uow.connection, app.tenant, [AuditEvent("user", user.id, payload, "pastdue")], now)
            uow.commit()


def list_users(app: App) -> list[User]:
    """Every user of the tenant, disabled ones too, by address."""
    with app.engine.connect() as connection:
        return access.list_users(connection, app.tenant)


def disable_user(app: App, email: str, *, actor: str = "person") -> bool:
    """Stop a user from logging in, keeping them on record; ``False`` if already disabled."""
    address = normalise_email(email)
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        user = access.user_by_email(uow.connection, app.tenant, address)
        if user is None:
            raise NotFound(f"no user {address!r} in tenant {app.tenant!r}")
        if not access.disable_user(uow.connection, app.tenant, user.id, now):
            return False
        payload = {"action": "disabled", "email": address}
        audit.append(uow.connection, app.tenant, [AuditEvent("user", user.id, payload, actor)], now)
        uow.commit()
    return True
