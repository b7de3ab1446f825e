"""Cursor pagination: ``limit`` (1 to 100) and ``starting_after``, an opaque cursor taken
from the previous page's ``next_cursor``.

A cursor is the sort key of the last object shown, wrapped so that clients treat it as a
token and the key's form can change without breaking them. Filters are sent again with
every page, as Stripe does: the cursor only says where to resume.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import Query
from pydantic import BaseModel

from pastdue.web.api.problems import ApiProblem

MAX_LIMIT = 100

X = TypeVar("X")
T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many objects to return (1 to 100).")]
StartingAfter = Annotated[
    str | None, Query(max_length=200, description="The `next_cursor` of the previous page; omit for the first.")
]


class Page(BaseModel, Generic[T]):
    """One page of a listing."""

    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool
    next_cursor: str | None


def encode(key: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps([key]).encode()).decode().rstrip("=")


def decode_str(cursor: str | None) -> str | None:
    key = _decode(cursor)
    if key is not None and not isinstance(key, str):
        raise _bad_cursor()
    return key


def decode_int(cursor: str | None) -> int | None:
    key = _decode(cursor)
    if key is not None and (isinstance(key, bool) or not isinstance(key, int)):
        raise _bad_cursor()
    return key


def _decode(cursor: str | None) -> str | int | None:
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], str | int):
        raise _bad_cursor()
    return data[0]


def _bad_cursor() -> ApiProblem:
    return ApiProblem(
        400,
        "invalid_cursor",
        "starting_after is not a cursor this API gave out",
        [("starting_after", "unknown cursor")],
    )


def page(found: Sequence[X], limit: int, key: Callable[[X], str | int], shown: Callable[[X], T]) -> Page[T]:
    """A page of the first ``limit`` of ``found`` (read with one more to learn ``has_more``)."""
    items = list(found[:limit])
    more = len(found) > limit
    return Page[T](
        data=[shown(item) for item in items],
        has_more=more,
        next_cursor=encode(key(items[-1])) if more and items else None,
    )
