"""Dunning: the notices runs queue, the approvals some wait for, holds that pause dunning,
and the audit log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from pastdue.core.delivery import Status
from pastdue.core.model import HoldReason
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.services import approvals, holds
from pastdue.services.listings import invoice_numbers, read
from pastdue.store import listings
from pastdue.store.listings import ListedNotice
from pastdue.web.api.auth import Admin, Caller, Reader, Writer
from pastdue.web.api.idempotent import IdempotentRoute
from pastdue.web.api.models import (
    ApprovalDecision,
    AuditEvent,
    Customer,
    Hold,
    HoldCreate,
    Notice,
    PathId,
    QueryId,
)
from pastdue.web.api.pages import Limit, Page, StartingAfter, decode_int, decode_str, page
from pastdue.web.api.problems import ApiProblem, documented

router = APIRouter(route_class=IdempotentRoute)


NoticeExpand = Annotated[
    list[Literal["customer", "events"]],
    Query(description="Include whole: `customer`; `events`, the notice's audit events (each delivery attempt)."),
]


@router.get("/notices", tags=["notices"], responses=documented(400, 401, 403, 422))
def list_notices(
    caller: Reader,
    limit: Limit = 20,
    starting_after: StartingAfter = None,
    status: Annotated[Status | None, Query(description="The delivery's state.")] = None,
    customer_id: QueryId = None,
    created_after: Annotated[date | None, Query(description="Created strictly after this day.")] = None,
    created_before: Annotated[date | None, Query(description="Created strictly before this day.")] = None,
    expand: NoticeExpand = [],  # noqa: B006 (FastAPI copies defaults per request)
) -> Page[Notice]:
    """Notices in id order, each with its delivery."""
    found = read(
        caller.app,
        listings.notice_page,
        after=decode_str(starting_after),
        limit=limit + 1,
        status=status.value if status else None,
        customer_id=customer_id,
        created_after=created_after,
        created_before=created_before,
    )
    shown = _notices(caller, found[:limit], expand)
    return page(found, limit, lambda listed: listed.row.id, lambda listed: shown[listed.row.id])


@router.get("/notices/{notice_id}", tags=["notices"], responses=documented(401, 403, 404, 422))
def get_notice(caller: Reader, notice_id: PathId, expand: NoticeExpand = []) -> Notice:  # noqa: B006
    """One notice, with its delivery: contact, attempts, provider id, last error, resends."""
    return _notice(caller, notice_id, expand)


@router.get("/approvals", tags=["approvals"], responses=documented(400, 401, 403, 422))
def list_approvals(
    caller: Reader, limit: Limit = 20, starting_after: StartingAfter = None, customer_id: QueryId = None
) -> Page[Notice]:
    """Notices of levels that require approval, waiting for a person to approve or reject them."""
    found = read(
        caller.app,
        listings.notice_page,
        after=decode_str(starting_after),
        limit=limit + 1,
        status=Status.AWAITING_APPROVAL.value,
        customer_id=customer_id,
    )
    return page(found, limit, lambda listed: listed.row.id, Notice.of)


@router.post("/approvals/{notice_id}/approve", tags=["approvals"], responses=documented(401, 403, 404, 409, 422))
def approve_notice(caller: Admin, notice_id: PathId, body: ApprovalDecision) -> Notice:
    """Release a notice waiting for approval into the delivery queue."""
    return _decide(caller, notice_id, body, approvals.approve)


@router.post("/approvals/{notice_id}/reject", tags=["approvals"], responses=documented(401, 403, 404, 409, 422))
def reject_notice(caller: Admin, notice_id: PathId, body: ApprovalDecision) -> Notice:
    """Stop a notice waiting for approval for good; its invoices stay at their level."""
    return _decide(caller, notice_id, body, approvals.reject)


def _decide(caller: Caller, notice_id: str, body: ApprovalDecision, decision: Callable[..., None]) -> Notice:
    if _notice(caller, notice_id, []).status != Status.AWAITING_APPROVAL.value:
        raise _decided(notice_id)
    try:
        decision(caller.app, notice_id, caller.actor, body.note)
    except ProblemsFound as exc:
        if [p.field for p in exc.problems] == ["status"]:
            raise _decided(notice_id) from None  # decided by someone else meanwhile
        raise
    return _notice(caller, notice_id, [])


def _decided(notice_id: str) -> ApiProblem:
    return ApiProblem(409, "not_awaiting_approval", f"notice {notice_id} is not waiting for approval")


def _notice(caller: Caller, notice_id: str, expand: Sequence[str]) -> Notice:
    found = read(caller.app, listings.notice_page, only=notice_id, limit=1)
    if not found:
        raise NotFound(f"no notice {notice_id!r}")
    return _notices(caller, found, expand)[notice_id]


def _notices(caller: Caller, found: Sequence[ListedNotice], expand: Sequence[str]) -> dict[str, Notice]:
    """The notices as shown, with what ``expand`` asks for read in one query per relation."""
    customers: dict[str, Customer] = {}
    events: dict[str, list[AuditEvent]] = {}
    if "customer" in expand and found:
        ids = sorted({listed.row.customer_id for listed in found})
        rows = read(caller.app, listings.customer_page, only=ids, limit=len(ids))
        customers = {row["id"]: Customer.of(row) for row in rows}
    if "events" in expand and found:
        subjects = [listed.row.id for listed in found]
        for row in read(caller.app, listings.events_about, subjects):
            events.setdefault(row["subject"], []).append(AuditEvent.of(row))
    return {
        listed.row.id: Notice.of(
            listed,
            customers.get(listed.row.customer_id),
            events.get(listed.row.id, []) if "events" in expand else None,
        )
        for listed in found
    }


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
    after: Annotated[datetime | None, Query(description="Recorded strictly after this moment (naive: UTC).")] = None,
    before: Annotated[datetime | None, Query(description="Recorded strictly before this moment.")] = None,
) -> Page[AuditEvent]:
    """The tenant's hash-chained log in chain order: what happened, who did it and why."""
    found = read(
        caller.app,
        listings.audit_page,
        after=decode_int(starting_after),
        limit=limit + 1,
        kind=kind,
        subject=subject,
        at_after=after,
        at_before=before,
    )
    return page(found, limit, lambda row: row["seq"], AuditEvent.of)


def _hold(caller: Caller, hold_id: str) -> Hold:
    found = read(caller.app, listings.hold_page, only=hold_id, limit=1)
    if not found:
        raise NotFound(f"no hold {hold_id!r}")
    return Hold.of(found[0])
