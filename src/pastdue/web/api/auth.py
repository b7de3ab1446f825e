"""Who is calling: an API key sent as ``Authorization: Bearer <key>``, and what it may do.

The key names its tenant, so one server answers every tenant: the request gets an
:class:`~pastdue.bootstrap.App` of the key's tenant (the engine is shared), and every
service it calls is confined to that tenant's rows. Scopes are checked exactly as the key
holds them: ``read`` for GET, ``write`` for POST, ``admin`` for what changes how the
tenant works (policies, API keys, approvals); one never implies another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pastdue.bootstrap import App
from pastdue.core.access import Scope
from pastdue.services.api_keys import ApiKey, authenticate_key
from pastdue.web.api.problems import ApiProblem

bearer = HTTPBearer(
    auto_error=False, scheme_name="ApiKey", description="An API key: `Authorization: Bearer pd_live_...`"
)


@dataclass(frozen=True)
class Caller:
    """An authenticated request: the key, and an App confined to the key's tenant."""

    app: App
    key: ApiKey

    @property
    def actor(self) -> str:
        """How the audit log names what this key did."""
        return f"api:{self.key.id}"


def authenticate(request: Request) -> Caller:
    """The caller of a request, or a 401 problem; resolved once per request."""
    known = getattr(request.state, "caller", None)
    if isinstance(known, Caller):
        return known
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(
            401,
            "unauthenticated",
            "send an API key: Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    base: App = request.app.state.app
    key = authenticate_key(base.engine, token, now=base.clock())
    if key is None:
        raise ApiProblem(
            401,
            "unauthenticated",
            "the API key is unknown, malformed or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    caller = Caller(replace(base, settings=replace(base.settings, tenant=key.tenant)), key)
    request.state.caller = caller
    return caller


def require(scope: Scope) -> Callable[..., Caller]:
    def dependency(request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> Caller:
        caller = authenticate(request)
        if scope not in caller.key.scopes:
            raise ApiProblem(
                403,
                "insufficient_scope",
                f"this API key lacks the {scope.value!r} scope",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope.value}"'},
            )
        return caller

    return dependency


Reader = Annotated[Caller, Depends(require(Scope.READ))]
Writer = Annotated[Caller, Depends(require(Scope.WRITE))]
Admin = Annotated[Caller, Depends(require(Scope.ADMIN))]
"""Changing how the tenant works (policies, API keys, approvals): a scope of its own, so
that an integration that records payments cannot also rewrite the rules."""
