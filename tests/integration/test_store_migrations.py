"""`pastdue init` brings an empty database to the newest schema, harmlessly, on each backend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from conftest import create_postgres_database, drop_postgres_database, fixed_clock
from pastdue import services
from pastdue.bootstrap import App, build
from pastdue.errors import NotFound
from pastdue.settings import Settings
from pastdue.store.database import current_revision, head_revision
from pastdue.store.tables import metadata


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nothing has touched: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = str(request.getfixturevalue("postgres_server"))
    url = create_postgres_database(server)
    try:
        yield url
    finally:
        drop_postgres_database(server, url)


@pytest.fixture
def empty_app(empty_database_url: str) -> Iterator[App]:
    app = build(Settings(database_url=empty_database_url, tenant="acme"), fixed_clock)
    yield app
    app.engine.dispose()


def test_an_empty_database_is_refused_until_init_has_run(empty_app: App) -> None:
    with pytest.raises(NotFound, match="pastdue init"):
        services.require_schema(empty_app)


def test_init_brings_an_empty_database_to_the_newest_revision(empty_app: App) -> None:
    revision = services.init(empty_app)

    assert revision == head_revision() != ""
    with empty_app.engine.connect() as connection:
        assert current_revision(connection) == revision
        tables = set(inspect(connection).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    services.require_schema(empty_app)
    assert services.verify_audit(empty_app) == 0


def test_running_init_twice_changes_nothing(empty_app: App, tmp_path: Path) -> None:
    first = services.init(empty_app)
    # Give the database some content: the second init must leave it alone.
    policy = tmp_path / "p.toml"
    policy.write_text('name = "p"\n[[levels]]\nname = "r"\nafter_days = 1\nchannels = ["email"]\n')
    services.apply_policy(empty_app, policy)
    events = services.verify_audit(empty_app)

    second = services.init(empty_app)

    assert second == first == head_revision()
    assert services.verify_audit(empty_app) == events == 1
    known, default = services.list_policies(empty_app)
    assert list(known) == ["p"]
    assert default == "p"


def _same_server_default(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Tell Alembic that SQLite's ``('')`` is the empty-string default the tables declare.

    Alembic's SQLite comparison strips quotes with ``'(.+)'``, which cannot match an empty
    literal, so every ``server_default=""`` would be reported as changed although the stored
    DDL says ``DEFAULT ''``. Everything else falls through to Alembic (``None``).
    """
    if context.dialect.name != "sqlite" or inspected_default is None:
        return None
    inspected = re.sub(r"^\((.*)\)$", r"\1", inspected_default)
    if inspected == "''" and rendered_metadata_default in ("", "''"):
        return False
    return None


def test_the_migrated_schema_is_exactly_the_declared_tables(empty_app: App) -> None:
    services.init(empty_app)

    with empty_app.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": _same_server_default,
            },
        )
        differences = compare_metadata(context, metadata)

    assert differences == []
