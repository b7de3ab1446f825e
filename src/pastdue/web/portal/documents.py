"""The portal's PDFs: an invoice copy laid out here, a notice laid out by the letter
templates, both turned into PDF by :mod:`pastdue.pdf` and sent as a download.

The invoice layout is the portal's own (``templates/invoice.html``, in the portal's labels
and the customer's locale), not a tenant template: it shows ledger facts, not dunning words.
WeasyPrint is imported on the first download, never when the web app starts.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

from fastapi.responses import Response

from pastdue.rendering import Renderer
from pastdue.rendering.formatting import format_date, format_money
from pastdue.services.portal_documents import InvoiceCopy
from pastdue.web.portal import pages

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def invoice_html(copy: InvoiceCopy) -> str:
    """The invoice copy as one HTML document, every value escaped."""
    t = pages.labels(copy.language if copy.language in pages.LANGUAGES else "en")
    return (
        pages.environment()
        .get_template("invoice.html")
        .render(
            lang=copy.language,
            t=t,
            number=copy.number,
            issued_on=format_date(copy.issued_on, copy.locale, "long"),
            due_on=format_date(copy.due_on, copy.locale, "long"),
            amount=format_money(copy.amount, copy.locale),
            settled=format_money(copy.settled, copy.locale),
            open_amount=format_money(copy.open_amount, copy.locale),
            customer_id=copy.customer_id,
            customer=copy.customer,
            seller=copy.seller,
            made_on=format_date(copy.made_on, copy.locale, "long"),
        )
    )


def to_pdf(html: str) -> bytes:
    from pastdue.pdf import render_pdf  # WeasyPrint loads only where a PDF is made

    return render_pdf(html)


def download(pdf: bytes, name: str) -> Response:
    """A PDF as an attachment whose file name is plain ASCII whatever the invoice number holds."""
    filename = _UNSAFE.sub("-", name).strip("-.") or "document"
    response = Response(pdf, media_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    return pages.secured(response)


class LazyRenderer:
    """One notice Renderer per portal, built on the first notice download: building it reads
    the template folder, which a portal that serves no notice never needs to do."""

    def __init__(self, build: Callable[[], Renderer]) -> None:
        self._build = build
        self._renderer: Renderer | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Renderer:
        with self._lock:
            if self._renderer is None:
                self._renderer = self._build()
            return self._renderer
