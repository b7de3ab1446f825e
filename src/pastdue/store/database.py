"""Engines, schema migrations and the unit of work.

SQLite gets WAL, foreign keys and ``BEGIN IMMEDIATE`` for every transaction: a transaction
that will write takes the write lock at its start, so two processes never deadlock by
upgrading read locks. PostgreSQL runs at READ COMMITTED with explicit row and advisory
locks where work must not be done twice.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from pastdue.errors import ConfigurationError, StoreError


def is_database_error(exc: BaseException) -> bool:
    """Whether a database raised it, through SQLAlchemy or straight from a driver cursor on
    the bulk paths; lets callers outside the store tell without importing SQLAlchemy."""
    import sqlite3

    if isinstance(exc, SQLAlchemyError | sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")  # loaded only if PostgreSQL was used
    return psycopg is not None and isinstance(exc, psycopg.Error)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` as psycopg 3, the driver pastdue ships with."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, configured the way pastdue relies on."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError as exc:
        raise ConfigurationError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigurationError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun explicitly below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 60000")
    cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB of page cache
    # temp_store stays at its default (a file): an import's staging tables then cost disk,
    # not memory, however large the ledger is.
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("pastdue_read_only"):
        connection.exec_driver_sql("BEGIN")  # a snapshot: WAL readers never wait for the write lock
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only. On SQLite its transactions begin deferred, so that
    readers (web pages, API lists, key checks) neither take nor wait for the write lock that
    every other transaction takes at its start; writing through it is a mistake that SQLite
    may refuse. PostgreSQL needs no distinction."""
    with engine.connect() as connection:
        connection.execution_options(pastdue_read_only=True)
        yield connection


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config  # Alembic is only needed to migrate: keep start-up fast

    config = Config()
    config.set_main_option("script_location", str(resources.files("pastdue.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision; returns that revision."""
    from alembic import command

    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
            return current_revision(connection) or ""
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database: {exc.orig}") from exc


def current_revision(connection: Connection) -> str | None:
    """The schema revision Alembic recorded, or None for a database never initialised."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(resources.files("pastdue.store") / "migrations"))
    return script.get_current_head() or ""


class UnitOfWork:
    """A transaction that rolls back unless :meth:`commit` is called before leaving it."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.committed = False

    def commit(self) -> None:
        self.connection.commit()
        self.committed = True


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[UnitOfWork]:
    with engine.connect() as connection, transaction(connection) as uow:
        yield uow


@contextmanager
def transaction(connection: Connection) -> Iterator[UnitOfWork]:
    """A unit of work on a connection the caller keeps: a worker that commits once per
    notice saves a pool check-out (and PostgreSQL's ping) per transaction."""
    connection.begin()
    uow = UnitOfWork(connection)
    try:
        yield uow
    finally:
        if not uow.committed:
            connection.rollback()
