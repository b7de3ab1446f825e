"""The dashboard's pages (GET): home, worklist, a customer's case, the approval and matching
queues, and the policies. Each only reads (bounded, indexed queries); what a person
does is in :mod:`pastdue.web.dashboard.actions`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pastdue.bootstrap import App
from pastdue.core.model import HoldReason
from pastdue.errors import NotFound
from pastdue.services import approvals, dashboard
from pastdue.services.ledger import list_policies
from pastdue.services.listings import read
from pastdue.services.statements import QUEUE
from pastdue.store import dashboard as dashboard_store
from pastdue.store import listings
from pastdue.web.dashboard import pages
from pastdue.web.dashboard.auth import Guard, refusal, values
from pastdue.web.dashboard.home import HomeCache, aging_charts, dso_chart
from pastdue.web.dashboard.timeline import describe

QUEUE_LIMIT = 50
WORKLIST_LIMIT = 50
ATTENTION_LIMIT = 20

DONE = {
    "hold": "Hold placed: dunning pauses from the next run.",
    "released": "Hold released: the next run reviews what it covered.",
    "call": "Call recorded.",
    "approved": "Notice approved: it is queued for delivery.",
    "rejected": "Notice rejected: it will not be sent.",
    "confirmed": "Match confirmed: the payment is applied.",
    "match-rejected": "Bank credit taken out of the queue.",
    "resent": "Notice queued again: the next delivery checks it and sends it.",
    "plan-accepted": "Plan request accepted: place a payment-plan hold once the instalments are agreed.",
    "plan-declined": "Plan request declined.",
}
"""What a page says after an action redirected to it (``?done=``): fixed words, so that a
link can never make the dashboard print text of someone else's choosing."""


def pages_router(app: App, guard: Guard, home: HomeCache) -> APIRouter:
    router = APIRouter()

    @router.get("/dashboard-assets/dashboard.css")
    def stylesheet() -> Response:
        response = Response(pages.stylesheet(), media_type="text/css")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @router.get("/")
    def home_page(request: Request) -> Response:
        who = guard.page(request)
        if isinstance(who, Response):
            return who
        figures, computed_at = home.figures(app.clock().date())
        return pages.render(
            "home.html",
            **values(who, "home"),
            figures=figures,
            computed_at=computed_at,
            aging_charts=aging_charts(figures),
            dso_charts=[dso_chart(currency, points) for currency, points in figures.dso.items()],
            dso_now={currency: points[-1].value for currency, points in figures.dso.items()},
            attention=dashboard.needs_attention(app, ATTENTION_LIMIT),
        )

    @router.get("/worklist")
    def worklist_page(request: Request) -> Response:
        who = guard.page(request)
        if isinstance(who, Response):
            return who
        today = app.clock().date()
        items = dashboard.worklist(app, today, WORKLIST_LIMIT)
        return pages.render("worklist.html", **values(who, "worklist"), items=items, today=today)

    @router.get("/customers/{customer_id}")
    def customer_page(request: Request, customer_id: str, done: str | None = None) -> Response:
        who = guard.page(request)
        if isinstance(who, Response):
            return who
        try:
            case = dashboard.customer_case(app, customer_id)
        except NotFound:
            return refusal(who, 404, "No such customer", f"There is no customer {customer_id!r}.")
        timeline = [
            {**event, "text": describe(event["kind"], event["payload"], case.numbers)} for event in case.timeline
        ]
        return pages.render(
            "customer.html",
            **values(who, "worklist"),
            case=case,
            timeline=timeline,
            done=DONE.get(done or ""),
            hold_reasons=[r.value for r in HoldReason if r is not HoldReason.PAYMENT_IN_FLIGHT],
            outcomes=dashboard.CALL_OUTCOMES,
            plan_decisions=dashboard.PLAN_DECISIONS,
            resendable=[status.value for status in approvals.RESENDABLE],
            today=app.clock().date(),
        )

    @router.get("/approvals")
    def approvals_page(request: Request, done: str | None = None) -> Response:
        who = guard.page(request)
        if isinstance(who, Response):
            return who
        found = read(app, dashboard_store.awaiting_approval, QUEUE_LIMIT + 1)
        shown = found[:QUEUE_LIMIT]
        names = _names(app, [n["customer_id"] for n in shown])
        return pages.render(
            "approvals.html",
            **values(who, "approvals"),
            notices=shown,
            more=len(found) > QUEUE_LIMIT,
            names=names,
            done=DONE.get(done or ""),
        )

    @router.get("/matches")
    def matches_page(request: Request, done: str | None = None) -> Response:
        who = guard.page(request)
        if isinstance(who, Response):
            return who
        found = read(app, dashboard_store.waiting_receipts, QUEUE, QUEUE_LIMIT + 1)
        return pages.render(
            "matches.html",
            **values(who, "matches"),
            receipts=found[:QUEUE_LIMIT],
            more=len(found) > QUEUE_LIMIT,
            done=DONE.get(done or ""),
        )

    @router.get("/policy")
    def policy_page(request: Request) -> Response:
        who = guard.page(request)
        if isinstance(who, Response):
            return who
        known, default = list_policies(app)
        figures, computed_at = home.figures(app.clock().date())
        return pages.render(
            "policy.html",
            **values(who, "policy"),
            policies=[known[name] for name in sorted(known)],
            default=default,
            figures=figures,
            computed_at=computed_at,
        )

    return router


def _names(app: App, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = read(app, listings.customer_page, only=sorted(set(ids)), limit=len(set(ids)))
    return {row["id"]: row["name"] for row in rows}
