"""The REST API under ``/api/v1``: API keys, tenants, scopes, pages, idempotent POSTs and
problem+json errors, over the same services the CLI uses."""

from pastdue.web.api.app import create_api

__all__ = ["create_api"]
