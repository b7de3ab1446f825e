"""The composition root: the one place that turns settings into working adapters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from pastdue.errors import ConfigurationError
from pastdue.settings import Settings
from pastdue.store.database import make_engine

if TYPE_CHECKING:
    from sqlalchemy import Engine  # the type only; the store builds engines

_TENANT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class App:
    """Everything a service needs: the database engine, the tenant and a clock."""

    settings: Settings
    engine: Engine
    clock: Clock = utc_now

    @property
    def tenant(self) -> str:
        return self.settings.tenant


def build(settings: Settings, clock: Clock = utc_now) -> App:
    if not _TENANT.match(settings.tenant):
        raise ConfigurationError(f"tenant {settings.tenant!r}: use lower-case letters, digits, '-' and '_' (max 64)")
    return App(settings, make_engine(settings.database_url), clock)
