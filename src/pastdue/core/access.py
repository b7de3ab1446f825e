"""Who may use pastdue: the roles of dashboard users, the scopes of API keys, and the rules
their details must meet.

Pure checks that return every :class:`~pastdue.errors.Problem` at once, so that the CLI and
the web forms refuse a bad request with the whole list, before any database is touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pastdue.errors import Problem

MIN_PASSWORD = 12
"""Length is what makes a password hard to guess (NIST SP 800-63B); no composition rules."""

MAX_PASSWORD = 1024
"""Hashing is deliberately slow per byte too: an unbounded password would be a cheap way
to make the server burn CPU."""

MAX_NAME = 200
MAX_KEY_NAME = 100
MAX_EMAIL = 254  # RFC 5321's limit on a forward path


class Role(StrEnum):
    """What a dashboard user may do: ``admin`` everything (users, keys, settings),
    ``collector`` work the cases (holds, promises, approvals), ``viewer`` only look."""

    ADMIN = "admin"
    COLLECTOR = "collector"
    VIEWER = "viewer"


class Scope(StrEnum):
    """What an API key may do. Stored and checked as given: a key holds exactly the scopes
    it was created with, so that what it can do is read off its row, never inferred."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


def normalise_email(email: str) -> str:
    """The form an address is stored and looked up in: addresses are compared without case,
    so ``Ann@Example.com`` and ``ann@example.com`` are one user."""
    return email.strip().lower()


def _printable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def email_problems(email: str, source: str = "user") -> list[Problem]:
    """An address must look like ``local@domain``: it is how a person logs in and is reached."""
    address = normalise_email(email)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return [Problem(source, None, "email", f"{email!r} is not an e-mail address (name@domain)")]
    if len(address) > MAX_EMAIL:
        return [Problem(source, None, "email", f"longer than {MAX_EMAIL} characters")]
    if "@" in local or any(ch.isspace() for ch in address) or not _printable(address):
        return [Problem(source, None, "email", f"{email!r} is not an e-mail address (name@domain)")]
    if any(not label for label in domain.split(".")):
        return [Problem(source, None, "email", f"{email!r} has an empty part in its domain")]
    return []


def password_problems(password: str, source: str = "user") -> list[Problem]:
    if len(password) < MIN_PASSWORD:
        return [Problem(source, None, "password", f"must be at least {MIN_PASSWORD} characters")]
    if len(password) > MAX_PASSWORD:
        return [Problem(source, None, "password", f"must be at most {MAX_PASSWORD} characters")]
    if password.strip() == "":
        return [Problem(source, None, "password", "must not be only spaces")]
    return []


def name_problems(name: str, source: str, limit: int) -> list[Problem]:
    if len(name) > limit:
        return [Problem(source, None, "name", f"longer than {limit} characters")]
    if not _printable(name):
        return [Problem(source, None, "name", "must not contain control characters")]
    return []


def parse_role(role: str, source: str = "user") -> tuple[Role | None, list[Problem]]:
    try:
        return Role(role.strip().lower()), []
    except ValueError:
        known = ", ".join(r.value for r in Role)
        return None, [Problem(source, None, "role", f"unknown role {role!r} (known: {known})")]


def parse_scopes(scopes: Iterable[str], source: str = "api key") -> tuple[tuple[Scope, ...], list[Problem]]:
    """The distinct scopes named, in a fixed order (read, write, admin); at least one."""
    found: set[Scope] = set()
    problems: list[Problem] = []
    known = ", ".join(s.value for s in Scope)
    for value in scopes:
        try:
            found.add(Scope(value.strip().lower()))
        except ValueError:
            problems.append(Problem(source, None, "scopes", f"unknown scope {value!r} (known: {known})"))
    if not found and not problems:
        problems.append(Problem(source, None, "scopes", f"name at least one scope ({known})"))
    return tuple(s for s in Scope if s in found), problems


def scopes_to_text(scopes: Iterable[Scope]) -> str:
    """Space-separated, like OAuth scopes: one column, readable in the database as it is."""
    return " ".join(s.value for s in Scope if s in set(scopes))


def scopes_from_text(text: str) -> tuple[Scope, ...]:
    named = set(text.split())
    return tuple(s for s in Scope if s.value in named)
