"""The portal's pages: a Jinja environment with autoescaping on, the portal's labels per
language, and responses that keep the token in the URL out of other sites' hands.

Templates here are the project's own (not tenants'), so a plain environment serves; every
value is escaped because every file is HTML, and ``StrictUndefined`` turns a misspelt name
into an error in tests instead of a gap on a customer's page.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

LANGUAGES = ("en", "de", "fr", "nl", "es")

SECURITY_HEADERS: Mapping[str, str] = {
    # The token rides in the path: no Referer may carry it to another site, no cache keep it.
    # (``same-origin`` rather than ``no-referrer``: with the latter, browsers send ``Origin:
    # null`` on the portal's own forms, and the origin check could no longer tell them apart.)
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("pastdue.web.portal", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=len(LANGUAGES))
def labels(language: str) -> Mapping[str, str]:
    """The portal's words in a language, English where the language lacks one."""
    root = resources.files("pastdue.web.portal").joinpath("labels")
    words = tomllib.loads(root.joinpath("en.toml").read_text(encoding="utf-8"))
    if language != "en" and language in LANGUAGES:
        words.update(tomllib.loads(root.joinpath(f"{language}.toml").read_text(encoding="utf-8")))
    return words


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return resources.files("pastdue.web.portal").joinpath("static", "portal.css").read_text(encoding="utf-8")


def secured(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def page(template: str, status: int = 200, **values: Any) -> Response:
    html = environment().get_template(template).render(**values)
    return secured(HTMLResponse(html, status))


REFUSALS: Mapping[int, tuple[str, str]] = {
    404: ("Page not found", "This link does not work. Please use the link in our latest message, or contact us."),
    410: (
        "This link has expired",
        "This link no longer works. Please use the link in our latest message, or contact us.",
    ),
    403: ("Please try again", "This form has expired. Please go back, reload the page and try again."),
    413: ("File too large", "The file is larger than we accept. Please go back and choose a smaller one."),
}
"""What a refused request is told, in English because nothing is known about who asked:
the same words whether the link was forged, mistyped, revoked or for another company."""


def refusal(status: int) -> Response:
    heading, message = REFUSALS[status]
    return page("error.html", status, lang="en", page_title=heading, heading=heading, message=message)
