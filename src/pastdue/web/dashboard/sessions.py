"""Dashboard sessions: a signed cookie, and the CSRF secret that travels inside it.

The cookie holds who logged in, until when, and a random form secret, signed with an HMAC
under a key derived from the tenant's secret (``PASTDUE_SECRET_KEY``, else the tenant's own
link secret), so it cannot be forged or altered; it is ``HttpOnly`` (no script reads it),
``SameSite=Lax`` (other sites' forms do not carry it) and ``Secure`` when the dashboard is
served over https. Nothing is kept on the server: the user's row is read on every request,
so a disabled user or a changed role takes effect at once; the session itself lasts at most
:data:`MAX_AGE`.

Every form carries the form secret; a POST is refused unless it sends the secret of the
session it arrives with, and (when the browser names it) comes from this site's origin. The
log-in form, which has no session yet, uses the same check against a random value kept in a
short-lived cookie of its own (the "double submit" pattern).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "pastdue_session"
LOGIN_COOKIE = "pastdue_login"
MAX_AGE = 12 * 3600
"""A working day and then some: a forgotten browser does not stay logged in overnight."""
LOGIN_MAX_AGE = 3600
FIELD = "csrf"


@dataclass(frozen=True, slots=True)
class Session:
    user_id: str
    email: str
    csrf: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and reads session cookies under one key."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("no secret to sign dashboard sessions with")
        self._key = hmac.new(secret.encode(), b"pastdue-dashboard-session", hashlib.sha256).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def dump(self, session: Session) -> str:
        data = {"u": session.user_id, "e": session.email, "c": session.csrf, "x": session.expires}
        body = _b64(json.dumps(data, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def load(self, value: str, now: float) -> Session | None:
        """The session in a cookie, or ``None`` if it is forged, altered, malformed or expired."""
        body, dot, mac = value.partition(".")
        if not dot or not hmac.compare_digest(self._mac(body), mac):
            return None
        try:
            data = json.loads(_unb64(body))
            session = Session(str(data["u"]), str(data["e"]), str(data["c"]), int(data["x"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > now else None


def new_session(user_id: str, email: str, now: float) -> Session:
    return Session(user_id, email, secrets.token_urlsafe(24), int(now) + MAX_AGE)


def secure(base_url: str) -> bool:
    return urlsplit(base_url).scheme == "https"


def set_cookie(response: Response, name: str, value: str, max_age: int, https: bool) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=https)


def clear_cookie(response: Response, name: str, https: bool) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=https)


def same_origin(request: Request) -> bool:
    """A browser names the page a POST came from in ``Origin``; when it does, it must be
    this server. (No header at all is allowed: not every client sends one.)"""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def form_ok(request: Request, expected: str, sent: object) -> bool:
    """Whether a POST carries the expected form secret and comes from this site."""
    if not expected or not isinstance(sent, str) or not same_origin(request):
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only, never another site's URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
