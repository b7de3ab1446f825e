"""Typed settings, read from ``PASTDUE_*`` environment variables when asked, never at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///pastdue.db"
DEFAULT_TENANT = "default"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL; ``sqlite:///file.db`` (embedded) or ``postgresql://...`` (production)."""

    tenant: str = DEFAULT_TENANT
    """The tenant (company) every command acts for; rows of other tenants are never touched."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: str | None) -> Settings:
        """Environment first, explicit overrides (command-line options) on top."""
        env = os.environ if environ is None else environ
        values = {
            "database_url": env.get("PASTDUE_DATABASE_URL") or DEFAULT_DATABASE_URL,
            "tenant": env.get("PASTDUE_TENANT") or DEFAULT_TENANT,
        }
        values.update({k: v for k, v in overrides.items() if v})
        return cls(**values)
