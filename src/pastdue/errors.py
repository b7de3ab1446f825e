"""Everything pastdue raises, and the one record it returns for bad user data.

Problems in what a user gave us (a CSV row, a policy file, a command-line value) are not
exceptions: they are collected as :class:`Problem` values, all of them at once, so that a
person can fix a whole file in one go. Exceptions are for failures of code or
infrastructure, and form one tree::

    PastdueError                 base of everything below; never raised itself
    ├── ProblemsFound            an operation refused its input; carries list[Problem]
    ├── CurrencyError            arithmetic mixed two currencies, or a currency is unknown
    ├── NotFound                 a record named by a user does not exist in this tenant
    ├── AccessDenied             a credential (a portal link) is forged, expired, revoked or stale
    ├── ConfigurationError       settings or adapters cannot be built (bad URL, missing secret)
    ├── StoreError               the database failed or holds something it never should
    │   └── AuditChainBroken     ``audit verify`` found an event whose hash does not match
    ├── TemplateError            a notice template is invalid, unsafe or names an unknown value
    └── DeliveryError            a channel could not hand a message over
        ├── TemporaryFailure     try again later (timeout, 429, 5xx, SMTP 4xx)
        ├── PermanentFailure     this contact will never work (SMTP 5xx, invalid number)
        └── MessageRejected      this message can never go out on this channel (too long)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with user data, precise enough to find and fix it.

    ``line`` follows editors: the header row of a CSV file is line 1. ``source`` is a file
    name, or a logical source such as ``policy.toml`` or ``--as-of``.
    """

    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PastdueError(Exception):
    """Base of every exception pastdue raises on purpose."""


class ProblemsFound(PastdueError):
    """Raised when an operation refuses its input; nothing was changed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(map(str, problems[:3])))


class CurrencyError(PastdueError, ValueError):
    """Raised when money of two currencies is combined, or a currency code is unknown."""


class NotFound(PastdueError, LookupError):
    """Raised when a user names a record (invoice, policy, customer) this tenant lacks."""


class AccessDenied(PastdueError):
    """Raised when a presented credential is refused; ``reason`` says why, for the person
    who holds it: ``malformed``, ``bad signature``, ``expired``, ``revoked``, ``unknown link``
    or ``unknown customer``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


class ConfigurationError(PastdueError):
    """Raised when settings cannot produce working adapters."""


class StoreError(PastdueError):
    """Raised when the database fails or contradicts an invariant pastdue relies on."""


class AuditChainBroken(StoreError):
    """Raised when an audit event's stored hash differs from the one recomputed."""

    def __init__(self, seq: int, reason: str) -> None:
        self.seq = seq
        self.reason = reason
        super().__init__(f"audit event {seq}: {reason}")


class TemplateError(PastdueError):
    """Raised when a template cannot be loaded or rendered: syntax, sandbox or unknown value.

    ``name`` is the template's name and ``line`` its line where known.
    """

    def __init__(self, name: str, message: str, line: int | None = None) -> None:
        self.name = name
        self.line = line
        where = name if line is None else f"{name}:{line}"
        super().__init__(f"{where}: {message}")


class DeliveryError(PastdueError):
    """Raised by a channel that could not hand a message over."""


class TemporaryFailure(DeliveryError):
    """The same message may succeed later; ``retry_after`` (seconds) is the provider's hint."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class PermanentFailure(DeliveryError):
    """The contact will never accept it (a hard bounce, an invalid number): mark it bad."""


class MessageRejected(DeliveryError):
    """The message itself is unsendable on the channel, whoever receives it: the notice fails,
    the contact stays good."""
