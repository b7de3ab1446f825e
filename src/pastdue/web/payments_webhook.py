"""``POST /webhooks/payments``: payment-provider events, signed Stripe-style.

The raw body is verified before it is parsed (parsing would change the bytes): the
``Pastdue-Signature`` header (``Stripe-Signature`` is accepted too) must carry a ``v1``
HMAC-SHA256 of ``"{t}.{body}"`` under one of the secrets in
``PASTDUE_PAYMENTS_WEBHOOK_SECRET`` (comma-separated during a rotation), with ``t`` within
five minutes of now. Answers: 200 with the outcome (processed, duplicate, stale, queued);
400 for a body that is not a valid event (the provider should not retry it); 401 for a
missing or wrong signature; 413 above 1 MiB; 503 when no secret is configured, so that
events are never accepted unauthenticated.
"""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pastdue.bootstrap import App
from pastdue.errors import ProblemsFound
from pastdue.services.provider_events import handle_event, parse_event
from pastdue.signing import DEFAULT_TOLERANCE, SIGNATURE_HEADER, parse_secrets, verify

MAX_BODY = 1 << 20


def payments_webhook_router(app: App) -> APIRouter:
    router = APIRouter()

    @router.post("/webhooks/payments")
    async def payments_webhook(request: Request) -> JSONResponse:
        secrets = parse_secrets(app.settings.payments_webhook_secret)
        if not secrets:
            return _error(503, "payment webhooks are off: set PASTDUE_PAYMENTS_WEBHOOK_SECRET")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        header = request.headers.get(SIGNATURE_HEADER) or request.headers.get("Stripe-Signature") or ""
        if not verify(secrets, header, body, time.time(), DEFAULT_TOLERANCE):
            return _error(401, "missing, expired or wrong signature")
        try:
            data = json.loads(body)
            event = parse_event(data, "event")
        except json.JSONDecodeError as exc:
            return _error(400, f"not JSON: {exc}")
        except ProblemsFound as exc:
            return JSONResponse({"error": "not a valid event", "problems": [str(p) for p in exc.problems]}, 400)
        # The service runs its own transaction on a worker thread, off the event loop.
        outcome = await run_in_threadpool(handle_event, app, event)
        return JSONResponse(outcome.as_json(), 200)

    return router


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)
