"""Fixtures of the access tests: Apps that share a moving clock and hash passwords cheaply.

Test modules load them with ``pytest_plugins = ["access_fixtures"]``, as the CLI tests load
``cli_fixtures``: the tests tree keeps one conftest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from access_support import CHEAP, MovingClock

from pastdue.bootstrap import App


@pytest.fixture
def moving_clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def tenant_app(make_app: Callable[..., App], moving_clock: MovingClock) -> Iterator[Callable[[str | None], App]]:
    """Build Apps on the test database that share the moving clock and hash cheaply; the
    first tenant is the test's own, others are named."""
    built: list[App] = []

    def make(tenant: str | None = None) -> App:
        app = make_app(clock=moving_clock) if tenant is None else make_app(tenant, clock=moving_clock)
        app = dataclasses.replace(app, password_hasher=CHEAP)
        built.append(app)
        return app

    yield make
    for app in built:
        app.engine.dispose()


@pytest.fixture
def access_app(tenant_app: Callable[[str | None], App]) -> App:
    return tenant_app(None)
