"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright (never a
downloaded browser). An admin logs in, opens the worklist and a customer's page, then
approves the notice waiting for approval, which is then queued for delivery.

Skipped with the reason shown when ``/usr/bin/chromium`` is missing; ``PASTDUE_REQUIRE_BROWSER=1``
(set by CI) turns that skip into a failure, so CI can never pass without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_support import PASSWORD, USERS, shop_app

from local_servers import serving
from pastdue.bootstrap import App
from pastdue.services import reads
from pastdue.web import create_app

CHROMIUM = Path("/usr/bin/chromium")


def _browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = f"no browser: {CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("PASTDUE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser required (PASTDUE_REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[App]:
    app = shop_app(tmp_path)
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


def test_an_admin_logs_in_works_the_list_and_approves_a_notice(shop: App, browser: Any) -> None:
    with serving(create_app(shop)) as http:
        page = browser.new_page(base_url=str(http.base_url))
        page.goto("/worklist")
        page.wait_for_url("**/login?next=*")
        page.fill("#email", USERS["admin"])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/worklist")
        assert page.locator("#who").inner_text() == f"{USERS['admin']} (admin)"

        rows = page.locator("#worklist tr.work a.customer")
        assert rows.all_inner_texts() == ["Alice & Söhne <GmbH>", "Bob Ltd"]
        rows.first.click()
        page.wait_for_url("**/customers/alice")
        assert page.locator("#customer-name").inner_text() == "Alice & Söhne <GmbH>"
        assert page.locator("#invoices tr.invoice").count() == 3
        assert page.locator("#timeline li.event").count() >= 1

        page.click("nav >> text=Approvals")
        page.wait_for_url("**/approvals")
        row = page.locator("#approvals tr.approval")
        assert row.count() == 1 and "Bob Ltd" in row.inner_text()
        row.locator("button.approve").click()
        page.wait_for_url("**/approvals?done=approved")
        assert "queued for delivery" in page.locator("#done").inner_text()
        assert page.locator("#empty").is_visible()
        page.close()

    (bob,) = [n for n in reads.notices(shop) if n.customer_id == "bob"]
    assert bob.status == "pending"


def test_the_home_page_draws_its_charts(shop: App, browser: Any) -> None:
    with serving(create_app(shop)) as http:
        page = browser.new_page(base_url=str(http.base_url))
        page.goto("/login")
        page.fill("#email", USERS["viewer"])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(str(http.base_url).rstrip("/") + "/")
        bars = page.locator("#aging svg rect")
        assert bars.count() == 10  # five buckets, two currencies
        tallest = max(box["height"] for box in (bars.nth(i).bounding_box() for i in range(10)) if box)
        assert tallest > 100  # the largest bucket fills the chart: readable at a glance
        # The stylesheet loaded (the Content-Security-Policy lets it): bars wear its colours.
        fill = page.locator("#aging svg .calm rect").first.evaluate("e => getComputedStyle(e).fill")
        assert fill == "rgb(122, 166, 216)"
        page.close()
