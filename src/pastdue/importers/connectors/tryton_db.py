"""Read-only SQL access to a Tryton database, on SQLite or PostgreSQL, and where to find it.

Kept apart from the connector's accounting logic: this module knows drivers, parameter
marks, clocks and source specs; :mod:`.tryton` knows receivables.
"""

from __future__ import annotations

import configparser
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from pastdue.errors import ConfigurationError


class TrytonDatabase(Protocol):
    """The few things the connector asks of a database, the same on both backends."""

    label: str  # the database's name, for the source's name

    def greatest(self, a: str, b: str) -> str: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def horizon(self, settle: float) -> Any: ...

    def timestamp(self, text: str) -> Any: ...

    def has_table(self, name: str) -> bool: ...

    def columns(self, table: str) -> set[str]: ...

    def snapshot(self) -> Any: ...

    def close(self) -> None: ...


class SQLiteTryton:
    """A Tryton SQLite file, opened read-only: pastdue never writes into the books it reads.

    trytond on SQLite stamps rows with the local time of its own process (``now()`` in its
    backend); the horizon is taken on the same clock, which is this machine's, since a
    SQLite file is only ever used on the machine that holds it.
    """

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ConfigurationError(f"no Tryton database at {path}")
        self.label = path.stem
        # isolation_level=None: transactions are begun explicitly, for a consistent snapshot.
        self._connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)

    def greatest(self, a: str, b: str) -> str:
        return f"MAX({a}, {b})"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._connection.execute(sql, tuple(params)).fetchall())

    def horizon(self, settle: float) -> str:
        return (datetime.now() - timedelta(seconds=settle)).isoformat(" ")

    def timestamp(self, text: str) -> str:
        return text

    def has_table(self, name: str) -> bool:
        return bool(self.rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def columns(self, table: str) -> set[str]:
        return {row[1] for row in self.rows(f'PRAGMA table_info("{table}")')}

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        self._connection.execute("BEGIN")
        try:
            yield
        finally:
            self._connection.execute("ROLLBACK")

    def close(self) -> None:
        self._connection.close()


class PostgresTryton:
    """A Tryton PostgreSQL database; each pull reads one REPEATABLE READ, READ ONLY snapshot."""

    def __init__(self, dsn: str, label: str) -> None:
        import psycopg  # pastdue's own PostgreSQL driver; loaded only for such a source

        self.label = label
        try:
            self._connection = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            raise ConfigurationError(f"cannot connect to the Tryton database {label!r}: {exc}") from exc

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connection.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), tuple(params))
            return list(cursor.fetchall())

    def horizon(self, settle: float) -> datetime:
        # trytond stores CURRENT_TIMESTAMP in columns without time zone: LOCALTIMESTAMP matches.
        (value,) = self.rows("SELECT LOCALTIMESTAMP - ? * INTERVAL '1 second'", (settle,))[0]
        return value  # type: ignore[no-any-return]

    def timestamp(self, text: str) -> datetime:
        return datetime.fromisoformat(text)

    def has_table(self, name: str) -> bool:
        return self.rows("SELECT to_regclass(?) IS NOT NULL", (name,))[0][0] is True

    def columns(self, table: str) -> set[str]:
        return {
            row[0]
            for row in self.rows("SELECT column_name FROM information_schema.columns WHERE table_name = ?", (table,))
        }

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        with self._connection.transaction():
            self._connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def close(self) -> None:
        self._connection.close()


def as_date(value: Any) -> date:
    """A DATE column: SQLite gives ISO text, PostgreSQL a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def as_stamp(value: Any) -> str:
    """A TIMESTAMP column as the text a cursor keeps."""
    return value.isoformat(" ") if isinstance(value, datetime) else str(value)


def open_database(spec: str) -> tuple[TrytonDatabase, dict[str, str]]:
    """The database a source spec names, and the spec's options (company, settle, name).

    ``tryton:///path/to/books.sqlite``
        a SQLite file, by path;
    ``tryton://?config=/etc/trytond.conf&database=NAME``
        as trytond itself finds it: the ``[database]`` section's ``uri`` (and ``path``);
    ``tryton+postgresql://user:password@host:port/NAME``
        a PostgreSQL database.
    """
    parts = urlsplit(spec)
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "tryton+postgresql":
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigurationError(f"{spec!r}: name the database, e.g. tryton+postgresql://user@host/NAME")
        return PostgresTryton(f"postgresql://{parts.netloc}/{name}", name), options
    if parts.scheme != "tryton":
        raise ConfigurationError(f"{spec!r} is not a Tryton source")
    if parts.path:
        if parts.netloc:
            raise ConfigurationError(f"{spec!r}: a SQLite path needs three slashes, e.g. tryton:///srv/books.sqlite")
        return SQLiteTryton(Path(unquote(parts.path))), options
    if "config" not in options or "database" not in options:
        raise ConfigurationError(f"{spec!r}: give a path (tryton:///books.sqlite) or ?config=FILE&database=NAME")
    return _from_config(Path(options["config"]), options["database"]), options


def _from_config(path: Path, name: str) -> TrytonDatabase:
    parser = configparser.RawConfigParser()
    if not parser.read(path, encoding="utf-8"):
        raise ConfigurationError(f"cannot read the trytond configuration {path}")
    uri = parser.get("database", "uri", fallback="")
    scheme = urlsplit(uri).scheme
    if scheme == "sqlite":
        folder = parser.get("database", "path", fallback="")
        if not folder:
            raise ConfigurationError(f"{path}: [database] path is not set")
        return SQLiteTryton(Path(folder) / f"{name}.sqlite")
    if scheme.startswith("postgresql"):
        netloc = urlsplit(uri).netloc
        return PostgresTryton(f"postgresql://{netloc}/{name}", name)
    raise ConfigurationError(f"{path}: [database] uri {uri!r} is neither sqlite:// nor postgresql://")
