"""The REST API, a FastAPI application of its own mounted at ``/api/v1``, so that it has its
own OpenAPI 3.1 schema (``/api/v1/openapi.json``) and its own error handling, apart from
the dashboard and the portal."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pastdue.bootstrap import App
from pastdue.services.runs import RunQueue
from pastdue.web.api import dunning, keys, ledger, money, policies, problems, reports, runs

DESCRIPTION = """\
pastdue's REST API. Send an API key as `Authorization: Bearer <key>`; a key acts for its
tenant only (another tenant's objects do not exist for it) and holds scopes: `read` for
GET, `write` for POST, `admin` for policies, API keys and approvals.

Conventions: listings are pages (`limit`, `starting_after` = the previous page's
`next_cursor`); money is `{"amount": "12.50", "currency": "EUR"}`, the amount a decimal
string; dates are ISO 8601; every POST takes an `Idempotency-Key` (a retry with the same key
and body gets the first answer, kept for 24 hours); errors are RFC 9457 problem details
(`application/problem+json`) with a stable `code` and the fields at fault in `errors`.
`POST /runs` answers 202 at once: the run goes on in the background; read `GET /runs/{id}`
until its `status` is `succeeded` or `failed`.
"""


def create_api(app: App) -> FastAPI:
    api = FastAPI(
        title="pastdue API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.app = app
    api.state.runs = RunQueue()
    problems.install(api)
    for module in (ledger, money, policies, runs, dunning, reports, keys):
        api.include_router(module.router)
    schema = api.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's schema, with error responses typed as problem+json (what they are)."""
        if api.openapi_schema is None:
            api.openapi_schema = _problem_media_types(schema())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def _problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[:1] in "45" and "application/json" in content:
                    content[problems.MEDIA_TYPE] = content.pop("application/json")
    return schema
