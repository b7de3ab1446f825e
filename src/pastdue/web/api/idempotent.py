"""``Idempotency-Key`` on every POST: a retry gets the first answer, never a second effect.

The key is claimed before the request runs and answered after, per tenant. The same key
with the same request (method, path, query and body, byte for byte) replays the stored
status and body with ``Idempotent-Replayed: true``; with another request it is refused
with 409, as it is while the first request still runs. Answers that a retry could change
are not kept, and free the key: a server error, and a refused credential or scope. An
answer holding a secret is replaced, for retries, by a problem saying it was given once.
Without the header a POST simply runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import anyio
from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from pastdue.services import idempotency
from pastdue.web.api.auth import Caller, authenticate
from pastdue.web.api.problems import ApiProblem, response_for

HEADER = "Idempotency-Key"
MAX_KEY = 255
_NOT_KEPT = frozenset({401, 403})
_REPLAY_INSTEAD = "idempotent_replay_instead"

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def idempotency_header(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=MAX_KEY,
            description="Any unique string (a UUID): a retry with the same key and body gets the first answer.",
        ),
    ] = None,
) -> None:
    """Declares the header in the schema and validates its length; the route class acts on it."""


class IdempotentRoute(APIRoute):
    """A route whose POST requests honour ``Idempotency-Key`` (and document it)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        if "POST" in (options.get("methods") or ()):
            options["dependencies"] = [*(options.get("dependencies") or ()), Depends(idempotency_header)]
        super().__init__(path, endpoint, **options)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if not self.methods or "POST" not in self.methods:
            return handler

        async def idempotent(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if key is None or not 0 < len(key) <= MAX_KEY:
                return await handler(request)  # absent runs plainly; malformed is refused there
            try:
                caller = await run_in_threadpool(authenticate, request)
            except ApiProblem as exc:
                answer = response_for(exc)
                assert answer is not None
                return answer
            body = await request.body()
            digest = _digest(request, body)
            stored = await run_in_threadpool(idempotency.claim, caller.app, key, digest)
            if stored is not None:
                if stored.request_hash != digest:
                    raise ApiProblem(
                        409,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used for another request; use a new key",
                        [(HEADER, "used for another request")],
                    )
                if stored.status is None:
                    raise ApiProblem(
                        409,
                        "idempotency_key_in_use",
                        "a request with this Idempotency-Key is still running; retry later",
                        [(HEADER, "in use")],
                    )
                return Response(
                    stored.body,
                    stored.status,
                    media_type=stored.content_type,
                    headers={"Idempotent-Replayed": "true"},
                )
            return await _run_once(handler, request, caller, key)

        return idempotent


async def _run_once(handler: Handler, request: Request, caller: Caller, key: str) -> Response:
    try:
        try:
            response = await handler(request)
        except Exception as exc:
            answer = response_for(exc)
            if answer is None:
                raise
            response = answer
    except BaseException:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(idempotency.forget, caller.app, key)
        raise
    if response.status_code >= 500 or response.status_code in _NOT_KEPT:
        await run_in_threadpool(idempotency.forget, caller.app, key)
        return response
    kept = getattr(request.state, _REPLAY_INSTEAD, None) or response
    media_type = kept.headers.get("content-type", "application/json")
    await run_in_threadpool(
        idempotency.complete, caller.app, key, kept.status_code, media_type, bytes(kept.body).decode()
    )
    return response


def replay_instead(request: Request, problem: ApiProblem) -> None:
    """Keep ``problem`` as the answer a retry gets, in place of this one: for an answer
    that must not be stored (a new API key's secret, which exists only in that answer)."""
    answer = response_for(problem)
    assert answer is not None
    setattr(request.state, _REPLAY_INSTEAD, answer)


def _digest(request: Request, body: bytes) -> str:
    what = b"\x1f".join((request.method.encode(), request.url.path.encode(), request.url.query.encode(), body))
    return hashlib.sha256(what).hexdigest()
