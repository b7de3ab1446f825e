"""The web application: each route is an adapter that parses a request, calls one service
and turns the outcome (or pastdue's errors) into a response."""

from __future__ import annotations

from fastapi import FastAPI

from pastdue.bootstrap import App
from pastdue.web.api import create_api
from pastdue.web.dashboard import dashboard_router
from pastdue.web.payments_webhook import payments_webhook_router
from pastdue.web.portal import portal_router


def create_app(app: App) -> FastAPI:
    web = FastAPI(title="pastdue", version="0.1.0", docs_url=None, redoc_url=None)
    web.state.app = app

    @web.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "tenant": app.tenant}

    web.include_router(payments_webhook_router(app))
    web.include_router(portal_router(app))
    web.include_router(dashboard_router(app))
    web.mount("/api/v1", create_api(app))
    return web
