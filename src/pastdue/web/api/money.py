"""Money in: payments (listed, read, recorded) and the bank credits waiting for a person."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from pastdue.errors import NotFound, ProblemsFound
from pastdue.services import payments, statements
from pastdue.services.listings import invoice_numbers, payments_with_allocations, read
from pastdue.store import listings
from pastdue.web.api.auth import Caller, Reader, Writer
from pastdue.web.api.idempotent import IdempotentRoute
from pastdue.web.api.models import Match, MatchConfirm, MatchReject, PathId, Payment, PaymentCreate, QueryId
from pastdue.web.api.pages import Limit, Page, StartingAfter, decode_str, page
from pastdue.web.api.problems import ApiProblem, documented

router = APIRouter(route_class=IdempotentRoute)

PaymentStatus = Literal["applied", "reversed", "pending", "failed", "ambiguous", "unmatched", "rejected"]
QUEUE = statements.QUEUE
MATCH_STATUSES = (*QUEUE, "rejected")


@router.get("/payments", tags=["payments"], responses=documented(400, 401, 403, 422))
def list_payments(
    caller: Reader,
    limit: Limit = 20,
    starting_after: StartingAfter = None,
    customer_id: QueryId = None,
    status: Annotated[PaymentStatus | None, Query()] = None,
    received_after: Annotated[date | None, Query(description="Received strictly after this day.")] = None,
    received_before: Annotated[date | None, Query(description="Received strictly before this day.")] = None,
) -> Page[Payment]:
    """Every receipt of money in id order, with what it pays."""
    found = payments_with_allocations(
        caller.app,
        after=decode_str(starting_after),
        limit=limit + 1,
        statuses=(status,) if status else (),
        customer_id=customer_id,
        received_after=received_after,
        received_before=received_before,
    )
    return page(found, limit, lambda item: item[0].id, lambda item: Payment.of(*item))


@router.get("/payments/{payment_id}", tags=["payments"], responses=documented(401, 403, 404, 422))
def get_payment(caller: Reader, payment_id: PathId) -> Payment:
    return _payment(caller, payment_id)


@router.post("/payments", tags=["payments"], status_code=201, responses=documented(401, 403, 409, 422))
def create_payment(caller: Writer, body: PaymentCreate) -> Payment:
    """Record money received and allocate it at once (the next run sees the invoices paid)."""
    amount = body.amount.parsed("amount")
    numbers = invoice_numbers(caller.app, body.invoice_ids, "invoice_ids")
    recorded = payments.record_payment(
        caller.app,
        amount=amount,
        received_on=body.received_on,
        customer_id=body.customer_id,
        invoice_numbers=numbers,
        reference=body.reference,
        actor=caller.actor,
    )
    return _payment(caller, recorded.receipt_id)


@router.get("/matches", tags=["matches"], responses=documented(400, 401, 403, 422))
def list_matches(
    caller: Reader,
    limit: Limit = 20,
    starting_after: StartingAfter = None,
    status: Annotated[
        Literal["ambiguous", "unmatched", "rejected"] | None, Query(description="Default: waiting (not rejected).")
    ] = None,
) -> Page[Match]:
    """Bank credits matching could not settle alone."""
    found = read(
        caller.app,
        listings.receipt_page,
        after=decode_str(starting_after),
        limit=limit + 1,
        statuses=(status,) if status else QUEUE,
    )
    return page(found, limit, lambda receipt: receipt.id, Match.of)


@router.get("/matches/{match_id}", tags=["matches"], responses=documented(401, 403, 404, 422))
def get_match(caller: Reader, match_id: PathId) -> Match:
    return _match(caller, match_id)


@router.post("/matches/{match_id}/confirm", tags=["matches"], responses=documented(401, 403, 404, 409, 422))
def confirm_match(caller: Writer, match_id: PathId, body: MatchConfirm) -> Payment:
    """Say who paid: the credit becomes an applied payment; the payer's account is learned.
    A match already decided is a 409 (``match_decided``)."""
    _undecided(caller, match_id)
    numbers = invoice_numbers(caller.app, body.invoice_ids, "invoice_ids")
    with _decided_meanwhile(match_id):
        statements.confirm_match(caller.app, match_id, invoice_numbers=numbers, customer_id=body.customer_id)
    return _payment(caller, match_id)


@router.post("/matches/{match_id}/reject", tags=["matches"], responses=documented(401, 403, 404, 409, 422))
def reject_match(caller: Writer, match_id: PathId, body: MatchReject) -> Match:
    """Not a payment of any invoice: out of the queue, with the reason on record. A match
    already decided is a 409 (``match_decided``)."""
    _undecided(caller, match_id)
    with _decided_meanwhile(match_id):
        statements.reject_match(caller.app, match_id, reason=body.reason)
    return _match(caller, match_id)


def _payment(caller: Caller, payment_id: str) -> Payment:
    found = payments_with_allocations(caller.app, only=payment_id, limit=1)
    if not found:
        raise NotFound(f"no payment {payment_id!r}")
    return Payment.of(*found[0])


def _match(caller: Caller, match_id: str) -> Match:
    found = read(caller.app, listings.receipt_page, only=match_id, limit=1, statuses=MATCH_STATUSES)
    if not found:
        raise NotFound(f"no match {match_id!r}")
    return Match.of(found[0])


def _undecided(caller: Caller, match_id: str) -> None:
    """A match a person may still decide; one already rejected or confirmed is a conflict
    (the client's view is stale), any other payment is no match at all."""
    found = read(caller.app, listings.receipt_page, only=match_id, limit=1)
    if not found or found[0].status in QUEUE:
        if not found:
            raise NotFound(f"no match {match_id!r}")
        return
    receipt = found[0]
    if receipt.status == "rejected" or receipt.rule == "confirmed":
        raise _already_decided(match_id, "rejected" if receipt.status == "rejected" else "confirmed")
    raise NotFound(f"no match {match_id!r}")


def _already_decided(match_id: str, how: str) -> ApiProblem:
    return ApiProblem(409, "match_decided", f"match {match_id} was already {how}", [("status", how)])


@contextmanager
def _decided_meanwhile(match_id: str) -> Iterator[None]:
    """Two people deciding one match at once: the second learns it is decided, as above."""
    try:
        yield
    except ProblemsFound as exc:
        if [p.field for p in exc.problems] == ["status"]:
            raise _already_decided(match_id, "decided") from None
        raise
