"""The customer portal over HTTP: each route, its refusals, and that one customer's link
never shows or touches another customer's data."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from portal_support import PDF, MovingClock, Portal, form_secret, link, stock
from sqlalchemy import text

from local_servers import serving
from pastdue import services
from pastdue.bootstrap import App
from pastdue.services.portal_links import revoke_portal_links
from pastdue.web import create_app


@dataclasses.dataclass
class Shop:
    app: App
    clock: MovingClock
    http: httpx.Client
    uploads: Path


@pytest.fixture
def shop(make_app: Callable[..., App], tmp_path: Path) -> Iterator[Shop]:
    clock = MovingClock()
    built = make_app(clock=clock)
    uploads = tmp_path / "uploads"
    app = dataclasses.replace(built, settings=dataclasses.replace(built.settings, portal_upload_dir=str(uploads)))
    stock(app, tmp_path)
    with serving(create_app(app)) as http:
        yield Shop(app, clock, http, uploads)
    built.engine.dispose()


def opened(shop: Shop, portal: Portal) -> str:
    page = shop.http.get(portal.path)
    assert page.status_code == 200, page.text
    return page.text


def post(shop: Shop, portal: Portal, action: str, data: dict[str, str], **extra: Any) -> httpx.Response:
    secret = form_secret(opened(shop, portal))
    return shop.http.post(f"{portal.path}/{action}", data={"csrf": secret, **data}, **extra)


def holds(app: App) -> list[dict[str, Any]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT i.number, h.reason, h.until, h.note FROM holds h JOIN invoices i "
                "ON i.tenant_id = h.tenant_id AND i.id = h.invoice_id WHERE h.tenant_id = :t ORDER BY i.number"
            ),
            {"t": app.tenant},
        )
        return [{"number": r[0], "reason": r[1], "until": str(r[2]) if r[2] else None, "note": r[3]} for r in rows]


def portal_events(app: App) -> list[dict[str, Any]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT subject, actor, payload FROM audit_events WHERE tenant_id = :t AND kind = 'portal' ORDER BY seq"
            ),
            {"t": app.tenant},
        )
        return [{"subject": r[0], "actor": r[1], **json.loads(r[2])} for r in rows]


def test_the_page_shows_the_customers_open_invoices_in_their_language_and_nobody_elses(shop: Shop) -> None:
    page = shop.http.get(link(shop.app, "alice").path)

    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert "Offene Rechnungen" in page.text and "A-001" in page.text and "A-003" in page.text
    assert "100,00\xa0€" in page.text and "150,50\xa0€" in page.text  # per currency, in the German way
    assert "20,00\xa0$" in page.text
    assert "30 Tage überfällig" in page.text
    assert "Alice &amp; Söhne &lt;GmbH&gt;" in page.text  # escaped, never markup
    assert "Bob" not in page.text and "B-SECRET-1" not in page.text and "999" not in page.text
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    css = shop.http.get("/portal-assets/portal.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_the_link_a_person_hands_out_lands_on_the_page(shop: Shop) -> None:
    portal = link(shop.app, "bob")
    landing = shop.http.get(f"/portal/access/{portal.token}")
    assert landing.status_code == 303 and landing.headers["location"] == portal.path
    assert '<html lang="en">' in shop.http.get(portal.path).text


def test_a_promise_pauses_every_open_invoice_until_its_date(shop: Shop) -> None:
    portal = link(shop.app, "alice")

    done = post(shop, portal, "promise", {"until": "2026-07-20"})

    assert done.status_code == 303 and done.headers["location"] == f"{portal.path}?done=promise"
    assert [(h["number"], h["reason"], h["until"]) for h in holds(shop.app)] == [
        ("A-001", "promise", "2026-07-20"),
        ("A-002", "promise", "2026-07-20"),
        ("A-003", "promise", "2026-07-20"),
    ]
    [event] = portal_events(shop.app)
    assert event == {
        "subject": "alice",
        "actor": "customer",
        "action": "promise",
        "until": "2026-07-20",
        "invoices": ["A-001", "A-002", "A-003"],
    }
    page = shop.http.get(done.headers["location"]).text
    assert "Vielen Dank. Wir haben Ihre Zusage notiert." in page
    assert "20. Juli 2026" in page and 'id="until"' not in page  # one promise at a time
    again = post(shop, portal, "promise", {"until": "2026-07-25"}) if 'name="csrf"' in page else None
    assert again is None or again.status_code == 422


@pytest.mark.parametrize("until", ["2026-06-30", "2026-06-01", "2026-07-31", "", "soon"])
def test_a_promise_must_be_after_today_and_within_the_policys_limit(shop: Shop, until: str) -> None:
    refused = post(shop, link(shop.app, "alice"), "promise", {"until": until})

    assert refused.status_code == 422
    assert "Bitte wählen Sie ein Datum nach heute und spätestens am 30. Juli 2026." in refused.text
    assert holds(shop.app) == [] and portal_events(shop.app) == []


def test_a_dispute_pauses_that_invoice_and_keeps_its_file_under_a_name_of_our_own(shop: Shop) -> None:
    portal = link(shop.app, "alice")

    done = post(
        shop,
        portal,
        "dispute",
        {"invoice": "A-002", "reason": "Goods <b>never</b> arrived"},
        files={"attachment": ("../../etc/passwd.pdf", PDF, "application/pdf")},
    )

    assert done.status_code == 303
    [hold] = holds(shop.app)
    assert hold == {"number": "A-002", "reason": "dispute", "until": None, "note": "Goods <b>never</b> arrived"}
    [event] = portal_events(shop.app)
    stored = event["attachment"]
    assert event["action"] == "dispute" and event["invoice"] == "A-002"
    assert stored["content_type"] == "application/pdf" and stored["size"] == len(PDF)
    assert stored["original_name"] == "../../etc/passwd.pdf"
    [file] = (shop.uploads / shop.app.tenant).iterdir()
    assert file.name == stored["file"] and file.read_bytes() == PDF and file.suffix == ".pdf"
    page = shop.http.get(portal.path).text
    assert "Beanstandet: keine Mahnungen" in page and "<b>never</b>" not in page


def test_a_dispute_without_a_file_is_fine_but_one_without_a_reason_is_not(shop: Shop) -> None:
    portal = link(shop.app, "alice")
    assert post(shop, portal, "dispute", {"invoice": "A-001", "reason": "  "}).status_code == 422
    assert holds(shop.app) == []
    assert post(shop, portal, "dispute", {"invoice": "A-001", "reason": "Wrong price"}).status_code == 303
    assert [h["number"] for h in holds(shop.app)] == ["A-001"]


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("big.pdf", b"%PDF-" + b"x" * (5 * 1024 * 1024), "application/pdf"),  # one MiB-and-a-bit too many
        ("tool.pdf", b"MZ\x90\x00 an executable", "application/pdf"),  # the type lies
        ("page.html", b"<script>alert(1)</script>", "text/html"),  # not a type we take
        ("empty.png", b"", "image/png"),
    ],
)
def test_attachments_of_the_wrong_size_or_type_are_refused(
    shop: Shop, name: str, content: bytes, content_type: str
) -> None:
    refused = post(
        shop,
        link(shop.app, "alice"),
        "dispute",
        {"invoice": "A-001", "reason": "see file"},
        files={"attachment": (name, content, content_type)},
    )

    assert refused.status_code == 422
    assert "Bitte hängen Sie eine PDF-, PNG-, JPEG- oder Textdatei von höchstens 5 MB an." in refused.text
    assert holds(shop.app) == [] and not shop.uploads.exists()


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(shop: Shop) -> None:
    portal = link(shop.app, "alice")
    refused = post(
        shop,
        portal,
        "dispute",
        {"invoice": "A-001", "reason": "x"},
        files={"attachment": ("huge.pdf", b"%PDF-" + b"x" * (6 * 1024 * 1024), "application/pdf")},
    )
    assert refused.status_code == 413 and "File too large" in refused.text
    assert holds(shop.app) == []


def test_a_payment_plan_request_is_recorded_for_the_team(shop: Shop) -> None:
    portal = link(shop.app, "bob")

    assert post(shop, portal, "plan", {"instalments": "30", "note": ""}).status_code == 422
    done = post(shop, portal, "plan", {"instalments": "6", "note": "Cash flow is tight until September."})

    assert done.status_code == 303
    with shop.app.engine.connect() as connection:
        [row] = connection.execute(
            text("SELECT customer_id, instalments, note, status FROM payment_plan_requests WHERE tenant_id = :t"),
            {"t": shop.app.tenant},
        ).all()
    assert tuple(row) == ("bob", 6, "Cash flow is tight until September.", "open")
    [event] = portal_events(shop.app)
    assert event["action"] == "payment plan requested" and event["instalments"] == 6
    assert event["open"] == {"EUR": "999.99"}
    assert holds(shop.app) == []  # a request pauses nothing until the team agrees a plan
    assert "We have your request for a payment plan" in shop.http.get(portal.path).text


def test_the_pay_button_goes_through_the_provider_and_the_payment_is_recorded(shop: Shop) -> None:
    portal = link(shop.app, "alice")

    checkout = post(shop, portal, "pay", {"currency": "EUR"})
    assert checkout.status_code == 303 and checkout.headers["location"].startswith("/fake-provider/checkout/")
    page = shop.http.get(checkout.headers["location"])
    assert "€150.50" in page.text and "A-001, A-002" in page.text
    paid = shop.http.post(checkout.headers["location"])
    assert paid.status_code == 303 and paid.headers["location"] == f"{portal.path}?done=paid"
    assert shop.http.post(checkout.headers["location"]).status_code == 303  # paying twice pays once

    open_amounts = {row.number: row.open_amount.amount for row in services.invoices(shop.app)}
    assert open_amounts == {
        "A-001": Decimal("0.00"),
        "A-002": Decimal("0.00"),
        "A-003": Decimal("20.00"),
        "B-SECRET-1": Decimal("999.99"),
    }
    assert [e["action"] for e in portal_events(shop.app)] == ["checkout"]
    after = shop.http.get(paid.headers["location"]).text
    assert "Vielen Dank für Ihre Zahlung." in after and "A-001" not in after
    tampered = checkout.headers["location"][:-3] + "abc"
    assert shop.http.get(tampered).status_code == 404


def test_a_post_without_this_links_form_secret_is_refused(shop: Shop) -> None:
    alice, bob = link(shop.app, "alice"), link(shop.app, "bob")
    forms = {"until": "2026-07-10"}

    assert shop.http.post(f"{alice.path}/promise", data=forms).status_code == 403
    assert shop.http.post(f"{alice.path}/promise", data={**forms, "csrf": "forged"}).status_code == 403
    bobs = form_secret(opened(shop, bob))
    assert shop.http.post(f"{alice.path}/promise", data={**forms, "csrf": bobs}).status_code == 403
    secret = form_secret(opened(shop, alice))
    elsewhere = shop.http.post(
        f"{alice.path}/promise", data={**forms, "csrf": secret}, headers={"Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403
    assert holds(shop.app) == [] and portal_events(shop.app) == []


def test_links_that_do_not_open_a_portal_get_a_page_that_says_nothing(shop: Shop) -> None:
    good = link(shop.app, "alice", days=2)
    tenant, token_id, until, signature = good.token.split(".")
    tampered = ".".join((tenant, token_id, str(int(until) + 86400), signature))
    other_tenant = ".".join(("othertenant", token_id, until, signature))
    for path in ("/portal/nonsense", f"/portal/{tampered}", f"/portal/{other_tenant}", f"/portal/{tampered}/plan"):
        response = shop.http.get(path) if not path.endswith("/plan") else shop.http.post(path, data={})
        assert response.status_code == 404, path
        assert "This link does not work" in response.text and "alice" not in response.text.lower()

    shop.clock.advance(days=3)
    expired = shop.http.get(good.path)
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert "A-001" not in expired.text

    fresh = link(shop.app, "alice")
    assert shop.http.get(fresh.path).status_code == 200
    revoke_portal_links(shop.app, "alice")
    revoked = shop.http.get(fresh.path)
    assert revoked.status_code == 410 and "A-001" not in revoked.text
    assert shop.http.post(f"{fresh.path}/promise", data={"until": "2026-07-10"}).status_code == 410


def test_one_customers_link_can_neither_see_nor_touch_another_customers_invoice(shop: Shop) -> None:
    alice = link(shop.app, "alice")

    refused = post(shop, alice, "dispute", {"invoice": "B-SECRET-1", "reason": "not mine"})
    assert refused.status_code == 422
    assert "Bitte wählen Sie eine Ihrer Rechnungen." in refused.text
    assert "999" not in refused.text and "Bob" not in refused.text
    unknown = post(shop, alice, "dispute", {"invoice": "NO-SUCH", "reason": "not mine"})
    assert unknown.text.replace("NO-SUCH", "B-SECRET-1") == refused.text.replace("NO-SUCH", "B-SECRET-1")
    assert holds(shop.app) == []
    nothing_in_gbp = post(shop, alice, "pay", {"currency": "GBP"})
    assert nothing_in_gbp.status_code == 422
