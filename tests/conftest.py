"""Shared fixtures: an initialised pastdue App on SQLite and, where one answers, PostgreSQL.

PostgreSQL tests run when ``PASTDUE_TEST_POSTGRES_URL`` is set or 127.0.0.1:5432 answers;
otherwise they are skipped with the reason shown. ``PASTDUE_REQUIRE_POSTGRES=1`` (set by
CI) turns that skip into a failure, so CI can never pass without them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy.engine import make_url

from pastdue import services
from pastdue.bootstrap import App, build
from pastdue.settings import Settings

# Properties are about correctness, not speed: a loaded CI machine must not fail them on time.
settings.register_profile("pastdue", deadline=None)
settings.load_profile("pastdue")

FIXED_NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[2] / "shared"


def fixed_clock() -> datetime:
    return FIXED_NOW


def _postgres_server_url() -> str | None:
    url = os.environ.get("PASTDUE_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return "postgresql://postgres@127.0.0.1:5432/postgres"
    except OSError:
        return None


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("PASTDUE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required (PASTDUE_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(reason)


def create_postgres_database(server_url: str) -> str:
    """A new, empty database on the test server; returns its URL."""
    import psycopg

    name = f"pastdue_test_{uuid.uuid4().hex[:12]}"
    admin = make_url(server_url).set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(server_url: str, url: str) -> None:
    import psycopg

    name = make_url(url).database
    dsn = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = _postgres_server_url()
    if url is None:
        _skip_or_fail("no PostgreSQL: set PASTDUE_TEST_POSTGRES_URL or start one on 127.0.0.1:5432")
    assert url is not None
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """One database for the session, migrated once; tests isolate themselves by tenant."""
    url = create_postgres_database(postgres_server)
    app = build(Settings(database_url=url, tenant="default"), fixed_clock)
    services.init(app)
    app.engine.dispose()
    yield url
    drop_postgres_database(postgres_server, url)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pastdue.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def make_app(database_url: str) -> Callable[..., App]:
    """Build initialised Apps on the test database, each with a tenant of its own by default."""
    tenant = f"t{uuid.uuid4().hex[:10]}"

    def make(tenant_id: str = tenant, clock: Callable[[], datetime] = fixed_clock) -> App:
        app = build(Settings(database_url=database_url, tenant=tenant_id), clock)
        services.init(app)
        return app

    return make


@pytest.fixture
def app(make_app: Callable[..., App]) -> Iterator[App]:
    built = make_app()
    yield built
    built.engine.dispose()
