"""What a person does from the dashboard (POST): holds, calls, resending a notice, answering
a payment-plan request, approvals, matches.

Each route checks the session, the role and the form secret (:class:`~.auth.Guard`),
calls one service off the event loop with the user's address as the actor (so the audit
trail names who did it), and answers with a redirect to the page it came from (a reload
never posts twice), or with the problems to fix (422) or a refusal (403, 404).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pastdue.bootstrap import App
from pastdue.core.model import HoldReason
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.services import approvals, dashboard, holds, statements
from pastdue.services.listings import read
from pastdue.store import listings
from pastdue.store.holds import invoice_by_number
from pastdue.web.dashboard.auth import ACT, APPROVE, Guard, Visitor, refusal, values
from pastdue.web.dashboard.home import HomeCache
from pastdue.web.dashboard.pages import render, secured

MAX_NOTE = 500


def actions_router(app: App, guard: Guard, home: HomeCache) -> APIRouter:
    router = APIRouter()

    async def act(visitor: Visitor, back: str, call: Callable[[], Any]) -> Response:
        try:
            await run_in_threadpool(call)
        except ProblemsFound as exc:
            return _problems(visitor, back, exc.problems)
        except NotFound as exc:
            return refusal(visitor, 404, "Not found", str(exc))
        home.forget()  # what a run would do today may have changed
        return secured(RedirectResponse(back, 303))

    def customer_path(customer_id: str) -> str:
        return f"/customers/{quote(customer_id, safe='')}"

    @router.post("/customers/{customer_id}/holds")
    async def place_hold(request: Request, customer_id: str) -> Response:
        checked = await guard.form(request, ACT)
        if isinstance(checked, Response):
            return checked
        who, form = checked
        back = customer_path(customer_id)
        reason, number = _text(form.get("reason")), _text(form.get("invoice")).strip()
        until, note = _text(form.get("until")).strip(), _text(form.get("note")).strip()

        def place() -> None:
            problems = []
            if reason not in {r.value for r in HoldReason} or reason == HoldReason.PAYMENT_IN_FLIGHT.value:
                problems.append(Problem("hold", None, "reason", "choose a reason from the list"))
            day = _date(until, "until", problems)
            if day is not None and day < app.clock().date():
                problems.append(Problem("hold", None, "until", "must not be in the past"))
            if len(note) > MAX_NOTE:
                problems.append(Problem("hold", None, "note", f"longer than {MAX_NOTE} characters"))
            if number and read(app, _invoice_customer, number) != customer_id:
                problems.append(Problem("hold", None, "invoice", f"{number} is not an invoice of this customer"))
            if problems:
                raise ProblemsFound(problems)
            holds.place_hold(
                app,
                reason=HoldReason(reason),
                invoice_number=number or None,
                customer_id=None if number else customer_id,
                until=day,
                note=note,
                actor=who.user.email,
            )

        return await act(who, back + "?done=hold", place)

    @router.post("/customers/{customer_id}/holds/{hold_id}/release")
    async def release_hold(request: Request, customer_id: str, hold_id: str) -> Response:
        checked = await guard.form(request, ACT)
        if isinstance(checked, Response):
            return checked
        who, _form = checked

        def release() -> None:
            if not read(app, listings.hold_page, only=hold_id, customer_id=customer_id, active=True, limit=1):
                raise NotFound(f"no running hold {hold_id!r} of this customer")
            holds.release_hold(app, hold_id, actor=who.user.email)

        return await act(who, customer_path(customer_id) + "?done=released", release)

    @router.post("/customers/{customer_id}/calls")
    async def record_call(request: Request, customer_id: str) -> Response:
        checked = await guard.form(request, ACT)
        if isinstance(checked, Response):
            return checked
        who, form = checked
        outcome, note = _text(form.get("outcome")), _text(form.get("note")).strip()
        until = _text(form.get("promise_until")).strip()

        def record() -> None:
            problems: list[Problem] = []
            day = _date(until, "promise_until", problems)
            if problems:
                raise ProblemsFound(problems)
            dashboard.record_call(app, customer_id, outcome, note, who.user.email, day)

        return await act(who, customer_path(customer_id) + "?done=call", record)

    @router.post("/customers/{customer_id}/notices/{notice_id}/resend")
    async def resend_notice(request: Request, customer_id: str, notice_id: str) -> Response:
        checked = await guard.form(request, ACT)
        if isinstance(checked, Response):
            return checked
        who, form = checked
        note = _text(form.get("note")).strip()[:MAX_NOTE]

        def resend() -> None:
            approvals.resend(app, notice_id, who.user.email, note, customer_id=customer_id)

        return await act(who, customer_path(customer_id) + "?done=resent", resend)

    @router.post("/customers/{customer_id}/plan-requests/{request_id}")
    async def decide_plan_request(request: Request, customer_id: str, request_id: str) -> Response:
        checked = await guard.form(request, ACT)
        if isinstance(checked, Response):
            return checked
        who, form = checked
        decision, note = _text(form.get("decision")), _text(form.get("note")).strip()
        done = "plan-accepted" if decision == "accepted" else "plan-declined"

        def decide_it() -> None:
            dashboard.decide_plan_request(app, customer_id, request_id, decision, note, who.user.email)

        return await act(who, customer_path(customer_id) + f"?done={done}", decide_it)

    @router.post("/approvals/{notice_id}/{decision}")
    async def decide(request: Request, notice_id: str, decision: str) -> Response:
        if decision not in ("approve", "reject"):
            return secured(Response(status_code=404))
        checked = await guard.form(request, APPROVE)
        if isinstance(checked, Response):
            return checked
        who, form = checked
        note = _text(form.get("note")).strip()[:MAX_NOTE]
        decide_with = approvals.approve if decision == "approve" else approvals.reject
        done = "approved" if decision == "approve" else "rejected"
        return await act(who, f"/approvals?done={done}", lambda: decide_with(app, notice_id, who.user.email, note))

    @router.post("/matches/{receipt_id}/confirm")
    async def confirm(request: Request, receipt_id: str) -> Response:
        checked = await guard.form(request, ACT)
        if isinstance(checked, Response):
            return checked
        who, form = checked
        numbers = [n.strip() for n in _text(form.get("invoices")).replace(";", ",").split(",") if n.strip()]
        customer = _text(form.get("customer_id")).strip() or None

        def confirm_it() -> None:
            statements.confirm_match(app, receipt_id, invoice_numbers=numbers, customer_id=customer)

        return await act(who, "/matches?done=confirmed", confirm_it)

    @router.post("/matches/{receipt_id}/reject")
    async def reject(request: Request, receipt_id: str) -> Response:
        checked = await guard.form(request, ACT)
        if isinstance(checked, Response):
            return checked
        who, form = checked
        reason = _text(form.get("reason")).strip()[:MAX_NOTE]

        def reject_it() -> None:
            if not reason:
                raise ProblemsFound([Problem(receipt_id, None, "reason", "say why it is not a payment to match")])
            statements.reject_match(app, receipt_id, reason=reason)

        return await act(who, "/matches?done=match-rejected", reject_it)

    return router


def _invoice_customer(connection: Any, tenant: str, number: str) -> str | None:
    try:
        return invoice_by_number(connection, tenant, number)[1]
    except NotFound:
        return None


def _problems(visitor: Visitor, back: str, problems: list[Problem]) -> Response:
    return render(
        "message.html",
        422,
        **values(visitor, ""),
        heading="Please check what you entered",
        message="Nothing was changed.",
        problems=[f"{p.field}: {p.message}" if p.field else p.message for p in problems],
        back=back.split("?", 1)[0],
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _date(text: str, field: str, problems: list[Problem]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Problem("form", None, field, f"{text!r} is not a date (YYYY-MM-DD)"))
        return None
