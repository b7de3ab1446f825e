"""Policies: read by anyone who reads, applied (a new version) only with the admin scope."""

from __future__ import annotations

from fastapi import APIRouter, Response

from pastdue.errors import NotFound
from pastdue.services.ledger import apply_policy_text
from pastdue.services.listings import read
from pastdue.store import listings
from pastdue.web.api.auth import Admin, Caller, Reader
from pastdue.web.api.idempotent import IdempotentRoute
from pastdue.web.api.models import PathName, Policy, PolicyApply
from pastdue.web.api.pages import Limit, Page, StartingAfter, decode_str, page
from pastdue.web.api.problems import documented

router = APIRouter(route_class=IdempotentRoute)


@router.get("/policies", tags=["policies"], responses=documented(400, 401, 403, 422))
def list_policies(caller: Reader, limit: Limit = 20, starting_after: StartingAfter = None) -> Page[Policy]:
    """The newest version of each policy, in name order."""
    found = read(caller.app, listings.policy_page, after=decode_str(starting_after), limit=limit + 1)
    return page(found, limit, lambda listed: listed.policy.name, Policy.of)


@router.get("/policies/{name}", tags=["policies"], responses=documented(401, 403, 404, 422))
def get_policy(caller: Reader, name: PathName) -> Policy:
    """A policy's newest version: its levels and rules, version and digest."""
    return _policy(caller, name)


@router.post(
    "/policies",
    tags=["policies"],
    status_code=201,
    responses=documented(401, 403, 409, 422) | {200: {"model": Policy, "description": "Unchanged: no new version."}},
)
def apply_policy(caller: Admin, body: PolicyApply, response: Response) -> Policy:
    """Apply a policy file (TOML, as ``pastdue policy apply`` reads it): a changed policy
    becomes a new version (201) and every open invoice comes back into review under it;
    the same rules again store nothing (200; ``default`` still applies). Problems in the file are a 422, each with
    its field."""
    applied = apply_policy_text(caller.app, body.toml, "toml", make_default=body.default, actor=caller.actor)
    if applied.version is None:
        response.status_code = 200
    return _policy(caller, applied.name)


def _policy(caller: Caller, name: str) -> Policy:
    found = read(caller.app, listings.policy_page, only=name, limit=1)
    if not found:
        raise NotFound(f"no policy {name!r}")
    return Policy.of(found[0])
