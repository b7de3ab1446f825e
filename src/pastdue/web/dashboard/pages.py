"""The dashboard's pages: a Jinja environment with autoescaping on, the stylesheet, and the
headers every page carries.

Every value is escaped (customer names, notes and remittance texts come from outside), and
``StrictUndefined`` turns a misspelt name into an error in tests instead of a gap on a page.
The pages need no script at all, so the Content-Security-Policy allows none.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pastdue.core.money import Money

SECURITY_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def money(value: Money) -> str:
    """``1,234.50 EUR``: one form for every currency, so that columns of several currencies
    read alike and nobody mistakes one dollar for another."""
    return f"{value.amount:,} {value.currency}"


def day(value: date | str | None) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def moment(value: str | None) -> str:
    """A stored ISO time as ``2026-06-30 09:00`` (UTC, as stored)."""
    return "" if not value else str(value)[:16].replace("T", " ")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pastdue.web.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, day=day, moment=moment)
    return env


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return resources.files("pastdue.web.dashboard").joinpath("static", "dashboard.css").read_text(encoding="utf-8")


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def render(template: str, status: int = 200, **values: Any) -> Response:
    html = environment().get_template(template).render(**values)
    return secured(HTMLResponse(html, status))
