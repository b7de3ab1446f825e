"""The checkout page of :class:`~pastdue.payment_providers.FakeProvider`, served by pastdue.

"Pay" hands a ``payment.succeeded`` event to :func:`pastdue.services.provider_events.handle_event`,
the service behind ``POST /webhooks/payments``, so the demo and the tests exercise the path a
real provider's event takes, minus the webhook's signature (the session's own signature has
already proved the request was made by this process).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pastdue.bootstrap import App
from pastdue.payment_providers import FAKE_CHECKOUT_PATH, CheckoutRequest, FakeProvider
from pastdue.rendering.formatting import format_money
from pastdue.services.provider_events import EventOutcome, handle_event, parse_event
from pastdue.web.portal import pages


def fake_checkout_router(app: App, provider: FakeProvider) -> APIRouter:
    router = APIRouter()

    @router.get(FAKE_CHECKOUT_PATH + "{session}")
    def checkout(session: str) -> Response:
        request = provider.open_session(session)
        if request is None:
            return pages.refusal(404)
        return pages.page(
            "checkout.html",
            lang="en",
            page_title="Test payment provider",
            amount=format_money(request.amount, "en"),
            invoices=", ".join(request.invoices),
            return_url=request.return_url,
        )

    @router.post(FAKE_CHECKOUT_PATH + "{session}")
    async def pay(session: str) -> Response:
        request = provider.open_session(session)
        if request is None:
            return pages.refusal(404)
        await run_in_threadpool(_succeed, app, provider.payment_id(session), request)
        return pages.secured(RedirectResponse(request.return_url, 303))

    return router


def _succeed(app: App, payment: str, request: CheckoutRequest) -> EventOutcome:
    data = {
        "id": f"evt_{payment}",
        "type": "payment.succeeded",
        "created": int(app.clock().timestamp()),
        "data": {
            "payment": payment,
            "amount": str(request.amount.amount),
            "currency": request.amount.currency,
            "customer_id": request.customer_id,
            "invoices": list(request.invoices),
            "reference": request.reference,
        },
    }
    return handle_event(app, parse_event(data, "fake provider"))
