"""Who is using the dashboard and what they may do: log-in, log-out, and the checks every
page and form goes through.

Roles: a ``viewer`` reads everything and changes nothing; a ``collector`` also works the
cases (holds, calls, bank credits to match); an ``admin`` may do all of that and decide the
approval queue. A failed log-in says the same whatever was wrong, so the page never tells
whether an address has an account (and :func:`~pastdue.services.users.verify_password`
takes as long either way); repeated failures are slowed down by :mod:`.throttle`.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from pastdue.bootstrap import App
from pastdue.core.access import MAX_EMAIL, MAX_PASSWORD, Role
from pastdue.errors import ConfigurationError
from pastdue.links import tenant_secret
from pastdue.services.listings import read
from pastdue.services.users import User, verify_password
from pastdue.store import access, outbox
from pastdue.web.dashboard import sessions
from pastdue.web.dashboard.pages import render, secured
from pastdue.web.dashboard.sessions import FIELD, Session, Signer
from pastdue.web.dashboard.throttle import LoginThrottle, refusal_text

READ = frozenset(Role)
ACT = frozenset({Role.ADMIN, Role.COLLECTOR})
APPROVE = frozenset({Role.ADMIN})

LOGIN_FAILED = "Wrong e-mail address or password."


@dataclass(frozen=True)
class Visitor:
    """A logged-in user and their session (whose form secret every page's forms carry)."""

    user: User
    session: Session

    @property
    def can_act(self) -> bool:
        return self.user.role in ACT

    @property
    def can_approve(self) -> bool:
        return self.user.role in APPROVE


class Guard:
    """The checks in front of every dashboard route, for one App."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.https = sessions.secure(app.settings.base_url)
        self._signer: Signer | None = None

    def signer(self) -> Signer:
        """Built on first use: the tenant's secret is read from the database, never at import."""
        if self._signer is None:
            with self.app.engine.connect() as connection:
                secret = tenant_secret(self.app.settings.secret_key, outbox.profile(connection, self.app.tenant))
            if not secret:
                raise ConfigurationError("no secret for dashboard sessions: set PASTDUE_SECRET_KEY or run `init`")
            self._signer = Signer(secret)
        return self._signer

    def visitor(self, request: Request) -> Visitor | None:
        """The active user whose valid session the request carries, else ``None``."""
        cookie = request.cookies.get(sessions.SESSION_COOKIE)
        if not cookie:
            return None
        session = self.signer().load(cookie, time.time())
        if session is None:
            return None
        user = read(self.app, access.user_by_email, session.email)
        if user is None or user.id != session.user_id or not user.active:
            return None
        return Visitor(user, session)

    def page(self, request: Request) -> Visitor | Response:
        """The visitor, or a redirect to the log-in page that comes back here afterwards."""
        found = self.visitor(request)
        if found is not None:
            return found
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return secured(RedirectResponse(f"/login?next={quote(target, safe='')}", 303))

    async def form(self, request: Request, allowed: frozenset[Role]) -> tuple[Visitor, FormData] | Response:
        """A POST's visitor and form, once the session, the role and the form secret check out."""
        found = await run_in_threadpool(self.visitor, request)
        if found is None:
            return secured(RedirectResponse("/login", 303))
        form = await request.form(max_files=0, max_fields=20)
        if not sessions.form_ok(request, found.session.csrf, form.get(FIELD)):
            return refusal(found, 403, "This form has expired", "Please go back, reload the page and try again.")
        if found.user.role not in allowed:
            return refusal(found, 403, "Not allowed", f"A {found.user.role.value} may not do this.")
        return found, form


def values(visitor: Visitor, section: str, **more: Any) -> dict[str, Any]:
    """What every page's frame needs: who is logged in, the form secret, the current section."""
    return {"user": visitor.user, "csrf": visitor.session.csrf, "section": section, "visitor": visitor, **more}


def refusal(visitor: Visitor | None, status: int, heading: str, message: str) -> Response:
    frame = values(visitor, "") if visitor is not None else {"user": None, "csrf": "", "section": "", "visitor": None}
    return render("message.html", status, **frame, heading=heading, message=message, problems=[], back="/")


def auth_router(app: App, guard: Guard) -> APIRouter:
    router = APIRouter()
    throttle = LoginThrottle(lambda: app.clock().timestamp())

    def login_page(nonce: str, next_path: str, error: str | None, status: int, email: str = "") -> Response:
        frame = {"user": None, "csrf": "", "section": "login", "visitor": None}
        response = render("login.html", status, **frame, nonce=nonce, next_path=next_path, error=error, email=email)
        sessions.set_cookie(response, sessions.LOGIN_COOKIE, nonce, sessions.LOGIN_MAX_AGE, guard.https)
        return response

    @router.get("/login")
    def login_form(request: Request, next: str | None = None) -> Response:
        if guard.visitor(request) is not None:
            return secured(RedirectResponse(sessions.safe_next(next), 303))
        nonce = request.cookies.get(sessions.LOGIN_COOKIE) or secrets.token_urlsafe(24)
        return login_page(nonce, sessions.safe_next(next), None, 200)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        nonce = request.cookies.get(sessions.LOGIN_COOKIE, "")
        next_path = sessions.safe_next(_text(form.get("next")))
        if not sessions.form_ok(request, nonce, form.get(FIELD)):
            fresh = secrets.token_urlsafe(24)
            return login_page(fresh, next_path, "The form had expired. Please try again.", 403)
        email, password = _text(form.get("email"))[: MAX_EMAIL + 1], _text(form.get("password"))
        keys = _throttle_keys(email, request)
        wait = throttle.wait(keys)
        if wait > 0:
            refused = login_page(nonce, next_path, refusal_text(wait), 429, email)
            refused.headers["Retry-After"] = str(math.ceil(wait))
            return refused
        user = None
        if email and password and len(password) <= MAX_PASSWORD:
            user = await run_in_threadpool(verify_password, app, email, password)
        if user is None:
            throttle.failed(keys)
            return login_page(nonce, next_path, LOGIN_FAILED, 401, email)
        throttle.succeeded(keys[0])
        session = sessions.new_session(user.id, user.email, time.time())
        response = secured(RedirectResponse(next_path, 303))
        signed = (await run_in_threadpool(guard.signer)).dump(session)
        sessions.set_cookie(response, sessions.SESSION_COOKIE, signed, sessions.MAX_AGE, guard.https)
        sessions.clear_cookie(response, sessions.LOGIN_COOKIE, guard.https)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        checked = await guard.form(request, READ)
        if isinstance(checked, Response):
            return checked
        response = secured(RedirectResponse("/login", 303))
        sessions.clear_cookie(response, sessions.SESSION_COOKIE, guard.https)
        return response

    return router


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _throttle_keys(email: str, request: Request) -> list[str]:
    """What failed log-ins are counted by: the address typed (as the user table compares
    it, without case) and the client's address."""
    client = request.client.host if request.client is not None else "unknown"
    return [f"email:{email.strip().lower()}", f"client:{client}"]
