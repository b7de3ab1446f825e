"""Errors of the REST API as RFC 9457 problem details (``application/problem+json``).

Every error a client can get, whoever raised it (a service's ``ProblemsFound``, a record
not in the tenant, FastAPI's own request validation, an unknown route), leaves in one
shape: ``type``, ``title``, ``status``, ``detail``, a stable ``code`` to program against,
and ``errors``, one ``{field, message}`` per thing wrong, all at once, as the CLI lists
them. ``type`` is a URN built from the code: stable, and promising no page behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from pastdue.errors import NotFound, ProblemsFound

MEDIA_TYPE = "application/problem+json"

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
}


class FieldError(BaseModel):
    """One thing wrong with a request: the field at fault (``null`` for the whole request)."""

    field: str | None
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document with pastdue's stable ``code`` and field errors."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] = []


class ApiProblem(Exception):
    """Raised by the API layer itself for an error it names (a missing key, a scope, a
    conflicting idempotency key)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: Iterable[tuple[str | None, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = list(errors)
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    code: str,
    detail: str,
    errors: Iterable[tuple[str | None, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"urn:pastdue:problem:{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        errors=[FieldError(field=field, message=message) for field, message in errors],
    )
    return JSONResponse(body.model_dump(), status, headers=dict(headers or {}), media_type=MEDIA_TYPE)


def response_for(exc: Exception) -> JSONResponse | None:
    """The problem response an exception stands for, or ``None`` for a failure of code."""
    if isinstance(exc, ApiProblem):
        return problem_response(exc.status, exc.code, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, ProblemsFound):
        errors = [(p.field, p.message) for p in exc.problems]
        return problem_response(422, "invalid_request", _count(len(errors)), errors)
    if isinstance(exc, NotFound):
        return problem_response(404, "not_found", str(exc))
    if isinstance(exc, RequestValidationError):
        errors = [(_field(e.get("loc", ())), str(e.get("msg", "invalid"))) for e in exc.errors()]
        return problem_response(422, "invalid_request", _count(len(errors)), errors)
    if isinstance(exc, StarletteHTTPException):
        code = _CODES.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, str(exc.detail), headers=exc.headers)
    return None


def _count(n: int) -> str:
    return f"the request has {n} problem{'s' if n != 1 else ''}; see errors"


def _field(loc: Sequence[Any]) -> str | None:
    """``("body", "amount", "currency")`` -> ``amount.currency``; where the value came from
    (body, query, path, header) is implied by the field's name."""
    parts = [str(part) for part in loc[1:] if not isinstance(part, int)] if loc else []
    if loc and loc[0] not in ("body", "query", "path", "header", "cookie"):
        parts = [str(part) for part in loc if not isinstance(part, int)]
    return ".".join(parts) or None


def install(api: FastAPI) -> None:
    """Answer every error of ``api`` as a problem document."""

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        response = response_for(exc)
        assert response is not None
        return response

    async def failure(_request: Request, _exc: Exception) -> JSONResponse:
        return problem_response(500, "internal_error", "the server failed; the error is logged")

    for kind in (ApiProblem, ProblemsFound, NotFound, RequestValidationError, StarletteHTTPException):
        api.add_exception_handler(kind, handle)
    api.add_exception_handler(Exception, failure)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the errors a route can answer (the schema's media type is
    set to problem+json when the schema is built)."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase} for status in statuses}
