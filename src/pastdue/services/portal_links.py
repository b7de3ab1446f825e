"""Portal links a person hands out (``pastdue portal-link``): each one names a row of
``portal_tokens``, so that it expires, and can be revoked before it does.

The token is signed with the tenant's link secret (:func:`pastdue.links.tenant_secret`)
over the tenant, the row and the expiry: a changed character, another tenant or a later
expiry breaks the signature before the database is asked anything. Creating and revoking
links are audited; the token's signature never is, so the audit log holds nothing that
opens a portal.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.errors import AccessDenied, ConfigurationError, Problem, ProblemsFound
from pastdue.links import portal_token, portal_token_signed, portal_token_url, read_portal_token, tenant_secret
from pastdue.store import access, audit, outbox
from pastdue.store.audit import AuditEvent
from pastdue.store.database import reading, unit_of_work

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "create_portal_link", "resolve_portal_token", "revoke_portal_links"]

DEFAULT_DAYS = 30
MAX_DAYS = 366
"""A link is a bearer credential sent by e-mail: one that never expires would be one that
never stops working for whoever finds it in an old mailbox."""


def _secret(app: App, connection: Connection) -> str:
    secret = tenant_secret(app.settings.secret_key, outbox.profile(connection, app.tenant))
    if not secret:
        raise ConfigurationError(f"tenant {app.tenant!r} has no link secret: run `pastdue init`")
    return secret


def _no_customer(customer_id: str) -> Problem:
    return Problem("portal link", None, "customer_id", f"no customer {customer_id!r} in this tenant")


def create_portal_link(app: App, customer_id: str, days_valid: int = DEFAULT_DAYS, *, actor: str = "person") -> str:
    """A new portal URL for the customer, valid for ``days_valid`` days from now."""
    problems: list[Problem] = []
    if not 1 <= days_valid <= MAX_DAYS:
        problems.append(Problem("portal link", None, "days", f"must be between 1 and {MAX_DAYS}"))
    now = app.clock()
    expires = (now + timedelta(days=max(days_valid, 0))).replace(microsecond=0)  # the token carries whole seconds
    token_id = secrets.token_urlsafe(12)
    with unit_of_work(app.engine) as uow:
        if not access.customer_exists(uow.connection, app.tenant, customer_id):
            problems.append(_no_customer(customer_id))
        if problems:
            raise ProblemsFound(problems)
        secret = _secret(app, uow.connection)
        access.add_token(
            uow.connection, app.tenant, token_id=token_id, customer_id=customer_id, now=now, expires=expires
        )
        payload = {"action": "created", "token": token_id, "expires_at": expires.isoformat()}
        audit.append(uow.connection, app.tenant, [AuditEvent("portal link", customer_id, payload, actor)], now)
        uow.commit()
    return portal_token_url(app.settings.base_url, portal_token(secret, app.tenant, token_id, expires))


def resolve_portal_token(app: App, token: str) -> str:
    """The customer a portal token opens, or :class:`~pastdue.errors.AccessDenied` saying
    why not: malformed, bad signature (tampered, or another tenant's), expired, unknown
    link, revoked, or unknown customer."""
    claims = read_portal_token(token.strip())
    if claims is None:
        raise AccessDenied("malformed", "this is not a portal link")
    now = app.clock()
    with reading(app.engine) as connection:
        if not portal_token_signed(_secret(app, connection), app.tenant, claims):
            raise AccessDenied("bad signature", "the link was altered or is not for this company")
        if now >= claims.expires:
            raise AccessDenied("expired", f"the link expired on {claims.expires.date().isoformat()}")
        row = access.token_by_id(connection, app.tenant, claims.token_id)
        if row is None:
            raise AccessDenied("unknown link", "no such link was handed out")
        if row.revoked_at is not None:
            raise AccessDenied("revoked", "the link was withdrawn")
        if now >= row.expires_at:
            raise AccessDenied("expired", f"the link expired on {row.expires_at.date().isoformat()}")
        if not access.customer_exists(connection, app.tenant, row.customer_id):
            raise AccessDenied("unknown customer", "the customer this link was for is no longer on file")
    return row.customer_id


def revoke_portal_links(app: App, customer_id: str, *, actor: str = "person") -> int:
    """Withdraw every portal link handed out to the customer; returns how many were live
    or expired but unrevoked. Links in notices already sent are signed differently (see
    :mod:`pastdue.links`) and expire on their own."""
    now: datetime = app.clock()
    with unit_of_work(app.engine) as uow:
        if not access.customer_exists(uow.connection, app.tenant, customer_id):
            raise ProblemsFound([_no_customer(customer_id)])
        revoked = access.revoke_tokens(uow.connection, app.tenant, customer_id, now)
        if revoked:
            payload = {"action": "revoked", "tokens": revoked}
            audit.append(uow.connection, app.tenant, [AuditEvent("portal link", customer_id, payload, actor)], now)
            uow.commit()
    return len(revoked)
