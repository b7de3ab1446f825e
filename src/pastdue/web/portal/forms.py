"""CSRF protection for the portal's forms: a per-token form secret.

The secret is an HMAC of the portal token under the tenant's link secret. A page shows it
in every form; a POST must send it back. Another site can make a browser post to the
portal, but it cannot read the page, so it cannot know the secret even when it knows the
token; and one token's secret is worthless with any other token. No cookie or server-side
session is needed, which keeps the portal usable without an account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.requests import Request

from pastdue.bootstrap import App
from pastdue.links import tenant_secret
from pastdue.store import outbox

FIELD = "csrf"


def form_secret(app: App, token: str) -> str:
    with app.engine.connect() as connection:
        key = tenant_secret(app.settings.secret_key, outbox.profile(connection, app.tenant))
    mac = hmac.new(key.encode(), b"portal-form\x1f" + token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def same_origin(request: Request) -> bool:
    """A browser names the page a POST came from in ``Origin``; when it does, it must be
    this server. (No header at all is allowed: some clients send none.)"""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def form_ok(app: App, token: str, request: Request, sent: object) -> bool:
    if not isinstance(sent, str) or not same_origin(request):
        return False
    return hmac.compare_digest(form_secret(app, token).encode(), sent.encode())
