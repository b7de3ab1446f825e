"""The collections team's dashboard: server-rendered pages behind a log-in, at ``/``."""

from __future__ import annotations

from fastapi import APIRouter

from pastdue.bootstrap import App
from pastdue.web.dashboard.actions import actions_router
from pastdue.web.dashboard.auth import Guard, auth_router
from pastdue.web.dashboard.home import HomeCache
from pastdue.web.dashboard.routes import pages_router

__all__ = ["dashboard_router"]


def dashboard_router(app: App) -> APIRouter:
    """Every dashboard route for one App; its home-page figures are kept per router."""
    guard = Guard(app)
    home = HomeCache(app)
    router = APIRouter()
    router.include_router(auth_router(app, guard))
    router.include_router(pages_router(app, guard, home))
    router.include_router(actions_router(app, guard, home))
    return router
