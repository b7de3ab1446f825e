"""The links printed in notices: the portal link and the one-click opt-out.

A notice carries links signed with the tenant's link secret (:mod:`pastdue.links`), made
when the notice is rendered, without a database row each: a run can queue a hundred
thousand notices. Opening a portal link from a notice checks its signature and end date,
then issues a revocable portal token (:mod:`pastdue.services.portal_links`) that the portal
itself works with, so revoking a customer's links also ends the sessions they opened.
"""

from __future__ import annotations

from datetime import date

from pastdue.bootstrap import App
from pastdue.core.delivery import ContactFlag
from pastdue.errors import AccessDenied
from pastdue.links import tenant_secret, verify
from pastdue.services.contacts import flag_contact
from pastdue.services.portal_links import MAX_DAYS, create_portal_link
from pastdue.store import outbox

OPT_OUT_CHANNELS = frozenset({"email", "sms"})


def _secret(app: App) -> str:
    with app.engine.connect() as connection:
        return tenant_secret(app.settings.secret_key, outbox.profile(connection, app.tenant))


def open_notice_link(app: App, customer_id: str, tenant: str, until: str, signature: str) -> str:
    """The portal token a notice's link leads to; AccessDenied when it is forged or over."""
    secret = _secret(app)
    if tenant != app.tenant or not secret or not verify(secret, signature, "portal", tenant, customer_id, until):
        raise AccessDenied("bad signature")
    try:
        last_day = date.fromisoformat(until)
    except ValueError:
        raise AccessDenied("malformed") from None
    today = app.clock().date()
    if last_day < today:
        raise AccessDenied("expired")
    days = min(max((last_day - today).days + 1, 1), MAX_DAYS)
    url = create_portal_link(app, customer_id, days, actor="customer")
    return url.rstrip("/").rsplit("/", 1)[1]


def opt_out(app: App, tenant: str, channel: str, address: str, signature: str) -> None:
    """RFC 8058 one-click unsubscribe: no more notices to this address on this channel."""
    secret = _secret(app)
    valid = tenant == app.tenant and channel in OPT_OUT_CHANNELS and bool(secret)
    if not valid or not verify(secret, signature, "unsubscribe", tenant, channel, address):
        raise AccessDenied("bad signature")
    flag_contact(app, channel, address, ContactFlag.OPTED_OUT, actor="customer", reason="unsubscribe link")
