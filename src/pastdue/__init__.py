"""pastdue: dunning and collections, as a library.

The pure core (money, policies, the decision engine) works on values you pass in::

    from pastdue import decide, policy_from_toml

    policy, problems = policy_from_toml(text)

To work on a database, build an :class:`App` from :class:`Settings` and call the use cases
in :mod:`pastdue.services` (``services.import_ledger(app, paths)``,
``services.run_dunning(app, today)``, ...). Notices go out through
:class:`pastdue.services.delivery.Deliverer` with the channels of :mod:`pastdue.channels`
(each one ``send(message) -> Receipt``) and the templates of :mod:`pastdue.rendering`.

Importing ``pastdue`` opens no connection and reads no environment variable; ``build`` and
``App`` are loaded on first use, so the core stays importable without SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pastdue.core.calendar import Calendar
from pastdue.core.delivery import Status as DeliveryStatus
from pastdue.core.engine import Act, Decision, Reason, decide
from pastdue.core.model import Customer, DunningState, Hold, HoldReason, Invoice, Payment
from pastdue.core.money import Money, parse_amount
from pastdue.core.notice import NoticeDocument
from pastdue.core.policy import Level, Policy, policy_from_dict, policy_from_toml
from pastdue.core.send_window import SendWindow
from pastdue.errors import (
    AuditChainBroken,
    ConfigurationError,
    CurrencyError,
    DeliveryError,
    MessageRejected,
    NotFound,
    PastdueError,
    PermanentFailure,
    Problem,
    ProblemsFound,
    StoreError,
    TemplateError,
    TemporaryFailure,
)
from pastdue.settings import Settings

if TYPE_CHECKING:
    from pastdue.bootstrap import App, build

__all__ = [
    "Act",
    "App",
    "AuditChainBroken",
    "Calendar",
    "ConfigurationError",
    "CurrencyError",
    "Customer",
    "Decision",
    "DeliveryError",
    "DeliveryStatus",
    "DunningState",
    "Hold",
    "HoldReason",
    "Invoice",
    "Level",
    "MessageRejected",
    "Money",
    "NotFound",
    "NoticeDocument",
    "PastdueError",
    "Payment",
    "PermanentFailure",
    "Policy",
    "Problem",
    "ProblemsFound",
    "Reason",
    "SendWindow",
    "Settings",
    "StoreError",
    "TemplateError",
    "TemporaryFailure",
    "build",
    "decide",
    "parse_amount",
    "policy_from_dict",
    "policy_from_toml",
]

_FROM_BOOTSTRAP = frozenset({"App", "build"})


def __getattr__(name: str) -> Any:
    # The composition root pulls in SQLAlchemy and Alembic: load it only when asked for.
    if name in _FROM_BOOTSTRAP:
        value = getattr(import_module("pastdue.bootstrap"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pastdue' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _FROM_BOOTSTRAP)
