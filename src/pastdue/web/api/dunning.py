"""Dunning: runs, the notices they queue, holds that pause them, and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from pastdue.core.delivery import Status
from pastdue.core.model import HoldReason
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.services import holds
from pastdue.services.dunning_run import run_dunning
from pastdue.services.listings import invoice_numbers, read
from pastdue.store import listings
from pastdue.web.api.auth import Caller, Reader, Writer
from pastdue.web.api.idempotent import IdempotentRoute
from pastdue.web.api.models import AuditEvent, Hold, HoldCreate, Notice, PathId, QueryId, Run, RunCreate
from pastdue.web.api.pages import Limit, Page, StartingAfter, decode_int, decode_str, page
from pastdue.web.api.problems import ApiProblem, documented

router = APIRouter(route_class=IdempotentRoute)


@router.post("/runs", tags=["runs"], responses=documented(401, 403, 409, 422))
async def start_run(caller: Writer, body: RunCreate) -> Run:
    """Run the dunning for a date and answer with what it did; a second run on the same date
    finds nothing new to do. ``dry_run`` decides everything and keeps nothing."""
    summary = await run_in_threadpool(run_dunning, caller.app, body.as_of, dry_run=body.dry_run)
    return Run.of(summary)


@router.get("/notices", tags=["notices"], responses=documented(400, 401, 403, 422))
def list_notices(
    caller: Reader,
    limit: Limit = 20,
    starting_after: StartingAfter = None,
    status: Annotated[Status | None, Query(description="The delivery's state.")] = None,
    customer_id: QueryId = None,
) -> Page[Notice]:
    """Notices in id order, each with its delivery's state."""
    found = read(
        caller.app,
        listings.notice_page,
        after=decode_str(starting_after),
        limit=limit + 1,
        status=status.value if status else None,
        customer_id=customer_id,
    )
    return page(found, limit, lambda row: row.id, Notice.of)


@router.get("/notices/{notice_id}", tags=["notices"], responses=documented(401, 403, 404, 422))
def get_notice(caller: Reader, notice_id: PathId) -> Notice:
    found = read(caller.app, listings.notice_page, only=notice_id, limit=1)
    if not found:
        raise NotFound(f"no notice {notice_id!r}")
    return Notice.of(found[0])


@router.get("/holds", tags=["holds"], responses=documented(400, 401, 403, 422))
def list_holds(
    caller: Reader,
    limit: Limit = 20,
    starting_after: StartingAfter = None,
    customer_id: QueryId = None,
    invoice_id: QueryId = None,
    active: Annotated[bool | None, Query(description="true: running; false: ended.")] = None,
) -> Page[Hold]:
    found = read(
        caller.app,
        listings.hold_page,
        after=decode_str(starting_after),
        limit=limit + 1,
        customer_id=customer_id,
        invoice_id=invoice_id,
        active=active,
    )
    return page(found, limit, lambda row: row["id"], Hold.of)


@router.get("/holds/{hold_id}", tags=["holds"], responses=documented(401, 403, 404, 422))
def get_hold(caller: Reader, hold_id: PathId) -> Hold:
    return _hold(caller, hold_id)


@router.post("/holds", tags=["holds"], status_code=201, responses=documented(401, 403, 409, 422))
def create_hold(caller: Writer, body: HoldCreate) -> Hold:
    """Pause dunning of an invoice or a whole customer until released or ``until`` passes."""
    if (body.invoice_id is None) == (body.customer_id is None):
        message = "name either invoice_id or customer_id"
        raise ProblemsFound([Problem("request", None, "invoice_id", message)])
    number = None
    if body.invoice_id is not None:
        [number] = invoice_numbers(caller.app, [body.invoice_id], "invoice_id")
    elif body.customer_id is not None and not read(
        caller.app, listings.customer_page, only=[body.customer_id], limit=1
    ):
        raise ProblemsFound([Problem("request", None, "customer_id", f"no customer {body.customer_id!r}")])
    hold_id = holds.place_hold(
        caller.app,
        reason=HoldReason(body.reason),
        invoice_number=number,
        customer_id=body.customer_id,
        until=body.until,
        note=body.note,
    )
    return _hold(caller, hold_id)


@router.post("/holds/{hold_id}/release", tags=["holds"], responses=documented(401, 403, 404, 409, 422))
def release_hold(caller: Writer, hold_id: PathId) -> Hold:
    """End a running hold now; what it covered comes back into review."""
    if not _hold(caller, hold_id).active:
        raise ApiProblem(409, "hold_ended", f"hold {hold_id} has already ended")
    holds.release_hold(caller.app, hold_id)
    return _hold(caller, hold_id)


@router.get("/audit-events", tags=["audit events"], responses=documented(400, 401, 403, 422))
def list_audit_events(
    caller: Reader,
    limit: Limit = 20,
    starting_after: StartingAfter = None,
    kind: Annotated[str | None, Query(max_length=20, pattern=r"^[^\x00-\x1f]+$")] = None,
    subject: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f]+$")] = None,
) -> Page[AuditEvent]:
    """The tenant's hash-chained log in chain order: what happened, who did it and why."""
    found = read(
        caller.app,
        listings.audit_page,
        after=decode_int(starting_after),
        limit=limit + 1,
        kind=kind,
        subject=subject,
    )
    return page(found, limit, lambda row: row["seq"], AuditEvent.of)


def _hold(caller: Caller, hold_id: str) -> Hold:
    found = read(caller.app, listings.hold_page, only=hold_id, limit=1)
    if not found:
        raise NotFound(f"no hold {hold_id!r}")
    return Hold.of(found[0])
