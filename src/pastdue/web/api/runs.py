"""Dunning runs: asked for with a POST that answers at once (202), run in the background,
their status and result read back by id."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from pastdue.errors import NotFound
from pastdue.services.listings import read
from pastdue.services.runs import RunQueue, request_run
from pastdue.store import runs
from pastdue.web.api.auth import Caller, Reader, Writer
from pastdue.web.api.idempotent import IdempotentRoute
from pastdue.web.api.models import PathId, Run, RunCreate
from pastdue.web.api.pages import Limit, Page, StartingAfter, decode_int, page
from pastdue.web.api.problems import documented

router = APIRouter(route_class=IdempotentRoute)


@router.post("/runs", tags=["runs"], status_code=202, responses=documented(401, 403, 409, 422))
async def start_run(request: Request, caller: Writer, body: RunCreate) -> Run:
    """Queue a dunning run for a date; it runs in the background, after the tenant's runs
    queued before it. Poll ``GET /runs/{id}`` until ``status`` is ``succeeded`` (see
    ``result``) or ``failed`` (see ``error``). A second run on the same date finds nothing
    new to do; ``dry_run`` decides everything and keeps nothing."""
    run_id = await run_in_threadpool(request_run, caller.app, body.as_of, dry_run=body.dry_run, actor=caller.actor)
    queue: RunQueue = request.app.state.runs
    queue.kick(caller.app)
    return await run_in_threadpool(_run, caller, run_id)


@router.get("/runs", tags=["runs"], responses=documented(400, 401, 403, 422))
def list_runs(
    caller: Reader,
    limit: Limit = 20,
    starting_after: StartingAfter = None,
    status: Annotated[Literal["queued", "running", "succeeded", "failed"] | None, Query()] = None,
) -> Page[Run]:
    """Runs in the order they were asked for."""
    found = read(caller.app, runs.run_page, after=decode_int(starting_after), limit=limit + 1, status=status)
    return page(found, limit, lambda row: row.seq, Run.of)


@router.get("/runs/{run_id}", tags=["runs"], responses=documented(401, 403, 404, 422))
def get_run(caller: Reader, run_id: PathId) -> Run:
    return _run(caller, run_id)


def _run(caller: Caller, run_id: str) -> Run:
    found = read(caller.app, runs.run_page, only=run_id, limit=1)
    if not found:
        raise NotFound(f"no run {run_id!r}")
    return Run.of(found[0])
