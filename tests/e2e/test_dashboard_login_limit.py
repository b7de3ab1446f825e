"""The dashboard's log-in limit over HTTP: after five failures in fifteen minutes, for one
address or from one client, every attempt is refused with 429 until the window has passed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from dashboard_support import PASSWORD, USERS, form_secret, shop_app
from portal_support import MovingClock

from local_servers import serving
from pastdue.bootstrap import App
from pastdue.web import create_app
from pastdue.web.dashboard import sessions


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def shop(tmp_path: Path, clock: MovingClock) -> Iterator[App]:
    app = shop_app(tmp_path, run=False, clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def http(shop: App) -> Iterator[httpx.Client]:
    with serving(create_app(shop)) as client:
        yield client


def attempt(http: httpx.Client, email: str, password: str) -> httpx.Response:
    page = http.get("/login")
    return http.post("/login", data={"csrf": form_secret(page.text), "email": email, "password": password})


def test_five_wrong_passwords_lock_the_address_even_for_the_right_one_until_fifteen_minutes_pass(
    http: httpx.Client, clock: MovingClock
) -> None:
    carl = USERS["collector"]
    for _ in range(5):
        assert attempt(http, carl, "wrong password").status_code == 401
        clock.now += timedelta(minutes=1)

    refused = attempt(http, carl.upper(), PASSWORD)  # five minutes on; the right password, in capitals

    assert refused.status_code == 429
    assert "Too many failed log-in attempts. Please wait 10 minutes and try again." in refused.text
    assert refused.headers["retry-after"] == str(10 * 60)
    assert not any(sessions.SESSION_COOKIE in c for c in refused.headers.get_list("set-cookie"))
    clock.now += timedelta(minutes=9)
    assert attempt(http, carl, PASSWORD).status_code == 429  # a refused attempt does not extend the wait
    clock.now += timedelta(minutes=1)
    assert attempt(http, carl, PASSWORD).status_code == 303


def test_five_failures_from_one_client_lock_that_client_out_of_every_account(
    http: httpx.Client, clock: MovingClock
) -> None:
    for n in range(5):
        assert attempt(http, f"guess{n}@shop.example", "password").status_code == 401

    assert attempt(http, USERS["admin"], PASSWORD).status_code == 429
    clock.now += timedelta(minutes=15)
    assert attempt(http, USERS["admin"], PASSWORD).status_code == 303


def test_a_few_mistakes_do_not_lock_anyone_out(http: httpx.Client) -> None:
    for _ in range(4):
        assert attempt(http, USERS["viewer"], "wrong password").status_code == 401
    assert attempt(http, USERS["viewer"], PASSWORD).status_code == 303
