"""Downloads from the portal: an invoice copy and the notices sent, as PDFs read back with
pypdf, in the customer's language, and only the customer's own."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from portal_support import TODAY, MovingClock, link, stock
from pypdf import PdfReader

from local_servers import serving
from pastdue import services
from pastdue.bootstrap import App
from pastdue.channels.recording import RecordingChannel
from pastdue.errors import ConfigurationError
from pastdue.pdf import check_pdf_support
from pastdue.rendering import Renderer
from pastdue.services import contacts, reads
from pastdue.services.delivery import Deliverer
from pastdue.web import create_app

try:
    check_pdf_support()
except ConfigurationError as missing:
    pytest.skip(str(missing), allow_module_level=True)

SELLER = {
    "name": "Rechnungshaus GmbH",
    "address": "Hauptstraße 1\\n10115 Berlin",
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
}


@dataclasses.dataclass
class Shop:
    app: App
    clock: MovingClock
    http: httpx.Client


@pytest.fixture
def shop(make_app: Callable[..., App], tmp_path: Path) -> Iterator[Shop]:
    clock = MovingClock()
    app = make_app(clock=clock)
    stock(app, tmp_path)
    for key, value in SELLER.items():
        contacts.set_profile(app, key, value, "test")
    with serving(create_app(app)) as http:
        yield Shop(app, clock, http)
    app.engine.dispose()


def text_of(answer: httpx.Response) -> str:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("attachment;")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)


def flat(text: str) -> str:
    """pypdf's text with its line breaks and non-breaking spaces as plain spaces."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def sent_notices(shop: Shop) -> dict[str, str]:
    """Run and deliver today by e-mail; returns the customers' notice ids."""
    services.run_dunning(shop.app, TODAY)
    Deliverer(shop.app, {"email": RecordingChannel()}, Renderer()).deliver(
        lambda: datetime.fromisoformat("2026-06-30T10:00:00+00:00")
    )
    found = {n.customer_id: n.id for n in reads.notices(shop.app) if n.status == "sent"}
    assert set(found) == {"alice", "bob"}
    return found


def test_an_invoice_copy_names_seller_customer_dates_amounts_and_how_to_pay_in_german(shop: Shop) -> None:
    portal = link(shop.app, "alice")
    page = shop.http.get(portal.path).text
    assert f'href="{portal.path}/invoices/a2.pdf"' in page and "Rechnung als PDF" in page

    text = flat(text_of(shop.http.get(f"{portal.path}/invoices/a2.pdf")))

    expected = [
        "Rechnungshaus GmbH", "Hauptstraße 1", "10115 Berlin",  # the seller, from the tenant's profile
        "Alice & Söhne <GmbH>", "Kundennummer alice",  # the customer
        "Rechnung A-002", "Rechnungsdatum 10. Mai 2026", "Fällig am 10. Juni 2026",
        "Betrag 50,50 €", "Bezahlt oder gutgeschrieben 0,00 €", "Offener Betrag 50,50 €",
        "So zahlen Sie", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", "Verwendungszweck A-002",
        "Kopie vom 30. Juni 2026",
    ]  # fmt: skip
    assert [part for part in expected if part not in text] == []


def test_an_english_customer_gets_an_english_copy(shop: Shop) -> None:
    portal = link(shop.app, "bob")
    text = flat(text_of(shop.http.get(f"{portal.path}/invoices/b1.pdf")))
    assert "Invoice B-SECRET-1" in text and "Amount due €999.99" in text and "Due date 15 May 2026" in text


def test_another_customers_invoice_or_notice_is_not_found_and_says_nothing_more(shop: Shop) -> None:
    notices = sent_notices(shop)
    alice = link(shop.app, "alice")
    refused = [
        shop.http.get(f"{alice.path}/invoices/b1.pdf"),  # bob's invoice
        shop.http.get(f"{alice.path}/invoices/nothing.pdf"),
        shop.http.get(f"{alice.path}/notices/{notices['bob']}.pdf"),  # bob's notice
        shop.http.get(f"{alice.path}/notices/nothing.pdf"),
    ]
    assert [r.status_code for r in refused] == [404] * 4
    assert len({r.text for r in refused}) == 1 and "B-SECRET-1" not in refused[0].text
    assert shop.http.get("/portal/forged.token/invoices/a1.pdf").status_code == 404


def test_an_expired_link_downloads_nothing(shop: Shop) -> None:
    portal = link(shop.app, "alice", days=1)
    shop.clock.advance(3)
    assert shop.http.get(f"{portal.path}/invoices/a1.pdf").status_code == 410


def test_a_sent_notice_downloads_as_the_letter_in_the_customers_language(shop: Shop) -> None:
    notices = sent_notices(shop)
    portal = link(shop.app, "alice")
    page = shop.http.get(portal.path).text
    href = f"{portal.path}/notices/{notices['alice']}.pdf"
    assert f'href="{href}"' in page and "Schreiben vom 30. Juni 2026 als PDF" in page

    text = flat(text_of(shop.http.get(href)))

    assert "Rechnungshaus GmbH" in text and "Alice & Söhne <GmbH>" in text
    assert "A-001" in text and "100,00 €" in text  # the invoice the reminder is about
    assert "DE89 3704 0044 0532 0130 00" in text and "Seite 1 / 1" in text
    assert "B-SECRET-1" not in text


def test_a_notice_that_was_not_sent_cannot_be_downloaded(shop: Shop) -> None:
    services.run_dunning(shop.app, TODAY)  # queued, not delivered
    (pending,) = [n for n in reads.notices(shop.app) if n.customer_id == "alice"]
    portal = link(shop.app, "alice")
    assert shop.http.get(f"{portal.path}/notices/{pending.id}.pdf").status_code == 404
    assert "/notices/" not in shop.http.get(portal.path).text


def test_the_download_keeps_the_token_out_of_caches_and_names_the_file_safely(shop: Shop) -> None:
    portal = link(shop.app, "alice")
    answer = shop.http.get(f"{portal.path}/invoices/a1.pdf")
    assert answer.headers["cache-control"] == "no-store" and answer.headers["referrer-policy"] == "same-origin"
    assert re.fullmatch(r'attachment; filename="invoice-A-001\.pdf"', answer.headers["content-disposition"])
