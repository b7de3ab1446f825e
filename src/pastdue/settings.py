"""Typed settings, read from ``PASTDUE_*`` environment variables when asked, never at import.

Every field has a default that works on one machine without any server: the database is a
SQLite file and every channel writes files into ``./outbox``. Production deployments point
the URLs at real servers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

DEFAULT_DATABASE_URL = "sqlite:///pastdue.db"
DEFAULT_TENANT = "default"

_ENV = {
    "database_url": "PASTDUE_DATABASE_URL",
    "tenant": "PASTDUE_TENANT",
    "email_url": "PASTDUE_EMAIL_URL",
    "email_from": "PASTDUE_EMAIL_FROM",
    "sms_url": "PASTDUE_SMS_URL",
    "sms_from": "PASTDUE_SMS_FROM",
    "letter_dir": "PASTDUE_LETTER_DIR",
    "phone_dir": "PASTDUE_PHONE_DIR",
    "webhook_url": "PASTDUE_WEBHOOK_URL",
    "webhook_secret": "PASTDUE_WEBHOOK_SECRET",
    "payments_webhook_secret": "PASTDUE_PAYMENTS_WEBHOOK_SECRET",
    "templates_dir": "PASTDUE_TEMPLATES_DIR",
    "base_url": "PASTDUE_BASE_URL",
    "secret_key": "PASTDUE_SECRET_KEY",
    "portal_upload_dir": "PASTDUE_PORTAL_UPLOAD_DIR",
}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL; ``sqlite:///file.db`` (embedded) or ``postgresql://...`` (production)."""

    tenant: str = DEFAULT_TENANT
    """The tenant (company) every command acts for; rows of other tenants are never touched."""

    email_url: str = "file://./outbox/email"
    """``smtp://user:pass@host:port?starttls=1``, ``smtps://user:pass@host:port`` or ``file:///folder``
    (each message written as an ``.eml`` file)."""

    email_from: str = "billing@localhost"
    """The sender address of every e-mail; its domain also names the Message-IDs."""

    sms_url: str = "file://./outbox/sms"
    """``twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com``, ``https://gateway/path`` (generic JSON
    gateway; ``http://`` only for loopback) or ``file:///folder``."""

    sms_from: str = "pastdue"
    """The sender number or alphanumeric sender id for text messages."""

    letter_dir: str = "./outbox/letters"
    """Where letter PDFs and the daily print batches (merged PDF + CSV manifest) are written."""

    phone_dir: str = "./outbox/phone"
    """Where call tasks for collectors are written, one JSON file each."""

    webhook_url: str = ""
    """Where dunning events are POSTed, signed; empty turns the webhook channel off."""

    webhook_secret: str = ""
    """HMAC key(s) for webhook signatures; several, comma-separated, sign with each (rotation)."""

    payments_webhook_secret: str = ""
    """HMAC key(s) payment providers sign their events with (``POST /webhooks/payments``);
    several, comma-separated, during a rotation. Empty: the endpoint refuses every event."""

    templates_dir: str = ""
    """A folder of template overrides, by name; empty uses the built-in templates only."""

    base_url: str = "http://127.0.0.1:8000"
    """The public URL of pastdue, used in portal and opt-out links."""

    secret_key: str = ""
    """Signs portal and opt-out links."""

    portal_upload_dir: str = "./portal_uploads"
    """Where files customers attach to disputes in the portal are kept, one folder per
    tenant, each under a generated name (never the name the customer's computer gave it)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: str | None) -> Settings:
        """Environment first, explicit overrides (command-line options) on top."""
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for f in fields(cls):
            value = env.get(_ENV[f.name])
            if value:
                values[f.name] = value
        values.update({k: v for k, v in overrides.items() if v})
        return cls(**values)
