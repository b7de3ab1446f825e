"""The composition root: the one place that turns settings into working adapters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pastdue.errors import ConfigurationError
from pastdue.settings import Settings
from pastdue.store.database import make_engine

if TYPE_CHECKING:
    from argon2 import PasswordHasher
    from sqlalchemy import Engine  # the type only; the store builds engines

    from pastdue.channels.base import Channel
    from pastdue.importers.connectors.base import Connector
    from pastdue.rendering import Renderer

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
    password_hasher: PasswordHasher | None = None
    """Hashes dashboard passwords. ``None`` is argon2id with argon2-cffi's recommended
    parameters (RFC 9106's low-memory profile); tests hand in a cheap one, as they hand in
    a clock, because a real hash is slow on purpose."""

    @property
    def tenant(self) -> str:
        return self.settings.tenant


def build(settings: Settings, clock: Clock = utc_now, password_hasher: PasswordHasher | None = None) -> App:
    if not _TENANT.match(settings.tenant):
        raise ConfigurationError(f"tenant {settings.tenant!r}: use lower-case letters, digits, '-' and '_' (max 64)")
    return App(settings, make_engine(settings.database_url), clock, password_hasher)


def delivery_channels(settings: Settings) -> dict[str, Channel]:
    """Every channel the settings configure, by name; built only by commands that deliver.

    Imported here, not at the top: a run or an import never pays for SMTP, HTTP or PDF code.
    """
    from pastdue.channels.letter import LetterChannel
    from pastdue.channels.phone import PhoneTaskChannel
    from pastdue.channels.urls import email_channel, sms_channel, webhook_channel

    channels: dict[str, Channel] = {
        "email": email_channel(settings.email_url, settings.email_from),
        "sms": sms_channel(settings.sms_url, settings.sms_from),
        "letter": LetterChannel(Path(settings.letter_dir)),
        "phone": PhoneTaskChannel(Path(settings.phone_dir)),
    }
    webhook = webhook_channel(settings.webhook_url, settings.webhook_secret)
    if webhook is not None:
        channels["webhook"] = webhook
    return channels


def renderer(settings: Settings) -> Renderer:
    from pastdue.rendering import Renderer

    folder = Path(settings.templates_dir) if settings.templates_dir else None
    if folder is not None and not folder.is_dir():
        raise ConfigurationError(f"PASTDUE_TEMPLATES_DIR: {folder} is not a folder")
    return Renderer(folder)


def email_domain(settings: Settings) -> str:
    """The domain that names Message-IDs: the sender's, so that they are globally unique."""
    return settings.email_from.rpartition("@")[2].strip("> ") or "localhost"


def connector(source: str) -> Connector:
    """The accounting connector a source spec names, by its scheme (``tryton://...``).

    Each connector module is imported only when a source names it, like the channels.
    """
    from urllib.parse import urlsplit

    scheme = urlsplit(source).scheme
    if scheme in ("tryton", "tryton+postgresql"):
        from pastdue.importers.connectors.tryton import open_connector

        return open_connector(source)
    known = "tryton:///path/books.sqlite, tryton://?config=FILE&database=NAME, tryton+postgresql://..."
    raise ConfigurationError(f"unknown source {source!r}: no connector for {scheme or 'it'!r} (known: {known})")
