"""Idempotent requests: a retry with the same key and the same request gets the first
answer; the same key with another request is refused. Keys live a day."""

from __future__ import annotations

from datetime import timedelta

from pastdue.bootstrap import App
from pastdue.store import idempotency
from pastdue.store.database import unit_of_work
from pastdue.store.idempotency import StoredRequest

KEY_LIFETIME = timedelta(hours=24)
"""As long as a client may retry a request and still be answered from the first attempt
(Stripe's figure): long enough for any retry policy, short enough to keep the table small."""


def claim(app: App, key: str, request_hash: str) -> StoredRequest | None:
    """Take the key for this request (``None``), or return what it was already used for."""
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        found = idempotency.claim(uow.connection, app.tenant, key, request_hash, now, now - KEY_LIFETIME)
        uow.commit()
    return found


def complete(app: App, key: str, status: int, content_type: str, body: str) -> None:
    with unit_of_work(app.engine) as uow:
        idempotency.complete(uow.connection, app.tenant, key, status, content_type, body)
        uow.commit()


def forget(app: App, key: str) -> None:
    """Free a key whose request ended without an answer worth replaying (a server error,
    a refused credential): the client may try again with it."""
    with unit_of_work(app.engine) as uow:
        idempotency.forget(uow.connection, app.tenant, key)
        uow.commit()
