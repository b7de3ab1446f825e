"""The portal in a real browser: Debian's Chromium, headless, driven by Playwright (never a
downloaded browser). A customer opens the link, promises a date and disputes an invoice with
a file; the next dunning run then leaves every one of those invoices alone, as held.

Skipped with the reason shown when ``/usr/bin/chromium`` is missing; ``PASTDUE_REQUIRE_BROWSER=1``
(set by CI) turns that skip into a failure, so CI can never pass without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from portal_support import PDF, TODAY, MovingClock, link, stock

from local_servers import serving
from pastdue import services
from pastdue.bootstrap import App, build
from pastdue.settings import Settings
from pastdue.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 360, "height": 740}


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = f"no browser: {CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("PASTDUE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser required (PASTDUE_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[App]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'pastdue.db'}",
        tenant="shop",
        portal_upload_dir=str(tmp_path / "uploads"),
    )
    app = build(settings, MovingClock())
    services.init(app)
    stock(app, tmp_path)
    yield app
    app.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


def test_a_promise_and_a_dispute_made_in_the_browser_hold_the_next_run(shop: App, browser: Any, tmp_path: Path) -> None:
    evidence = tmp_path / "delivery-note.pdf"
    evidence.write_bytes(PDF)
    portal = link(shop, "alice")
    with serving(create_app(shop)) as http:
        page = browser.new_page(base_url=str(http.base_url), viewport=PHONE)
        page.goto(f"/portal/access/{portal.token}")
        assert page.locator("h1").inner_text() == "Ihr Kundenkonto"
        assert page.locator("li.invoice").count() == 3

        page.fill("#until", "2026-07-15")
        page.click("#promise button[type=submit]")
        page.wait_for_url("**?done=promise")
        assert "Zusage notiert" in page.locator("#done").inner_text()

        page.select_option("#invoice", "A-002")
        page.fill("#reason", "Die Lieferung kam nie an.")
        page.set_input_files("#attachment", str(evidence))
        page.click("#dispute button[type=submit]")
        page.wait_for_url("**?done=dispute")
        disputed = page.locator('li.invoice[data-number="A-002"] .status').inner_text()
        assert disputed == "Beanstandet: keine Mahnungen"
        page.close()

    summary = services.run_dunning(shop, TODAY)

    levels = {row.number: row.level for row in services.invoices(shop)}
    assert levels == {"A-001": 0, "A-002": 0, "A-003": 0, "B-SECRET-1": 1}  # only bob is reminded
    assert summary.skipped == {"held": 3}
    assert summary.notices == 1
    # The promise ends after its day; the dispute has no end: the run after that reminds
    # the promised invoices again and still leaves the disputed one alone.
    clock = shop.clock
    assert isinstance(clock, MovingClock)
    clock.advance(days=16)
    later = services.run_dunning(shop, clock.now.date())
    assert later.skipped.get("held") == 1
    after = {row.number: row.level for row in services.invoices(shop)}
    assert after["A-002"] == 0 and after["A-001"] >= 1 and after["A-003"] >= 1


def test_the_page_fits_a_phone_without_sideways_scrolling(shop: App, browser: Any) -> None:
    portal = link(shop, "alice")
    with serving(create_app(shop)) as http:
        page = browser.new_page(base_url=str(http.base_url), viewport=PHONE, device_scale_factor=2)
        page.goto(portal.path)
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth, "
            "Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right))]"
        )
        scroll_width, client_width, rightmost = widths
        assert scroll_width <= client_width == PHONE["width"]
        assert rightmost <= PHONE["width"]
        assert page.locator("#pay button").first.bounding_box()["height"] >= 44  # a finger can hit it
        page.close()
