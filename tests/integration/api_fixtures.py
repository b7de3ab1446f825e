"""The ``world`` fixture of the REST API tests (see ``api_support``); test modules load it
with ``pytest_plugins = ["api_fixtures"]``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from access_support import MovingClock
from api_support import World, build_world

from pastdue.bootstrap import App
from pastdue.web import create_app


@pytest.fixture
def world(make_app: Callable[..., App], tmp_path: Path) -> Iterator[World]:
    yield from build_world(make_app, tmp_path, create_app)


@pytest.fixture
def moving_world(make_app: Callable[..., App], tmp_path: Path, moving_clock: MovingClock) -> Iterator[World]:
    """The world on the ``moving_clock`` of ``access_fixtures`` (load both)."""
    yield from build_world(functools.partial(make_app, clock=moving_clock), tmp_path, create_app)
