"""The links printed in notices: the portal link opens the portal, the opt-out link opts out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from portal_support import MovingClock, stock

from local_servers import serving
from pastdue.bootstrap import App
from pastdue.links import portal_url, tenant_secret, unsubscribe_url
from pastdue.services import contacts
from pastdue.store import outbox
from pastdue.web import create_app


@pytest.fixture
def shop(make_app: Callable[..., App], tmp_path: Path) -> Iterator[tuple[App, MovingClock, httpx.Client]]:
    clock = MovingClock()
    app = make_app(clock=clock)
    stock(app, tmp_path)
    with serving(create_app(app)) as http:
        yield app, clock, http
    app.engine.dispose()


def secret(app: App) -> str:
    with app.engine.connect() as connection:
        return tenant_secret(app.settings.secret_key, outbox.profile(connection, app.tenant))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_notices_portal_link_opens_that_customers_portal(shop: tuple[App, MovingClock, httpx.Client]) -> None:
    app, clock, http = shop
    url = portal_url(app.settings.base_url, secret(app), app.tenant, "alice", date(2026, 7, 14))
    opened = http.get(path_of(url), follow_redirects=True)
    assert opened.status_code == 200 and "A-001" in opened.text and "B-SECRET-1" not in opened.text
    assert "/portal/" in str(opened.url) and "sig=" not in str(opened.url)  # a revocable token now

    forged = url.replace("alice", "bob")
    assert http.get(path_of(forged)).status_code == 404
    clock.advance(15)
    assert http.get(path_of(url)).status_code == 410  # past its last day


def test_the_opt_out_link_works_in_one_click_and_from_a_browser(shop: tuple[App, MovingClock, httpx.Client]) -> None:
    app, _clock, http = shop
    url = unsubscribe_url(app.settings.base_url, secret(app), app.tenant, "email", "ar@alice.example")
    page = http.get(path_of(url))
    assert page.status_code == 200 and "ar@alice.example" in page.text and "<form" in page.text
    one_click = http.post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and "unsubscribed" in one_click.text
    assert {(f["channel"], f["address"], f["flag"]) for f in contacts.contact_flags(app)} == {
        ("email", "ar@alice.example", "opted_out")
    }
    tampered = path_of(url).replace("alice", "bob")
    assert http.post(tampered).status_code == 404
