"""API keys of the tenant, managed with the admin scope: listed, created (the secret shown
in that one answer only) and revoked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from pastdue.errors import NotFound
from pastdue.services.api_keys import create_api_key, revoke_api_key
from pastdue.services.listings import read
from pastdue.store import listings
from pastdue.web.api.auth import Admin, Caller
from pastdue.web.api.idempotent import IdempotentRoute, replay_instead
from pastdue.web.api.models import ApiKey, ApiKeyCreate, ApiKeyCreated, PathId
from pastdue.web.api.pages import Limit, Page, StartingAfter, decode_str, page
from pastdue.web.api.problems import ApiProblem, documented

router = APIRouter(route_class=IdempotentRoute)


@router.get("/api-keys", tags=["api keys"], responses=documented(400, 401, 403, 422))
def list_api_keys(caller: Admin, limit: Limit = 20, starting_after: StartingAfter = None) -> Page[ApiKey]:
    """The tenant's keys in id order, revoked ones too; never a secret."""
    found = read(caller.app, listings.api_key_page, after=decode_str(starting_after), limit=limit + 1)
    return page(found, limit, lambda key: key.id, ApiKey.of)


@router.post("/api-keys", tags=["api keys"], status_code=201, responses=documented(401, 403, 409, 422))
async def create_key(request: Request, caller: Admin, body: ApiKeyCreate) -> ApiKeyCreated:
    """Create a key; ``secret`` is in this answer only (pastdue keeps a hash). A retry with
    the same ``Idempotency-Key`` gets a 409 naming the key, never the secret again."""
    key_id, secret = await run_in_threadpool(
        create_api_key, caller.app, body.name, list(dict.fromkeys(body.scopes)), actor=caller.actor
    )
    replay_instead(
        request,
        ApiProblem(
            409,
            "api_key_created",
            f"this request already created API key {key_id}; its secret was shown once: revoke it if lost",
            [(None, key_id)],
        ),
    )
    shown = await run_in_threadpool(_key, caller, key_id)
    return ApiKeyCreated(**shown.model_dump(), secret=secret)


@router.post("/api-keys/{key_id}/revoke", tags=["api keys"], responses=documented(401, 403, 404, 409, 422))
def revoke_key(caller: Admin, key_id: PathId) -> ApiKey:
    """Stop a key from working from the next request on (this key included)."""
    _key(caller, key_id)
    if not revoke_api_key(caller.app, key_id, actor=caller.actor):
        raise ApiProblem(409, "api_key_revoked", f"API key {key_id} is already revoked")
    return _key(caller, key_id)


def _key(caller: Caller, key_id: str) -> ApiKey:
    found = read(caller.app, listings.api_key_page, only=key_id, limit=1)
    if not found:
        raise NotFound(f"no API key {key_id!r}")
    return ApiKey.of(found[0])
