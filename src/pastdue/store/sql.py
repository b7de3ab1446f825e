"""Small helpers for raw driver-level statements on the hot paths (bulk reads and writes).

SQLAlchemy Core builds most statements; the daily run and the import move hundreds of
thousands of rows, where handing tuples straight to the driver is several times faster.
Dates travel as ISO strings to SQLite (which stores them so) and as ``date`` to psycopg.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from pastdue.store.database import is_postgres


class Raw:
    """A driver cursor bound to one SQLAlchemy connection, with qmark SQL on any backend."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.pg = is_postgres(connection)
        self._dates: dict[Any, date] = {}

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.pg else sql

    def cursor(self) -> Any:
        """A driver cursor inside the connection's transaction, begun here if need be.

        The driver runs in autocommit mode (pastdue begins transactions itself), so a raw
        statement issued outside a begun transaction would commit row by row.
        """
        if not self.connection.in_transaction():
            self.connection.begin()
        return self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    # Cursors are closed as soon as they are done: on SQLite an open read statement on a
    # table makes every later write to it save and restore that cursor, five times slower.
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.cursor()
        try:
            cursor.execute(self._sql(sql), tuple(params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self.cursor()
        try:
            cursor.execute(self._sql(sql), tuple(params))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            cursor = self.cursor()
            try:
                cursor.executemany(self._sql(sql), rows)
            finally:
                cursor.close()

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows: COPY on PostgreSQL (row-at-a-time statements are its slow path),
        one prepared statement on SQLite."""
        if not rows:
            return
        if not self.pg:
            self.many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({self.marks(len(columns))})", rows)
            return
        cursor = self.cursor()
        try:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()

    def update(self, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> None:
        """Update rows by (tenant_id, id): each row holds the new values of ``columns`` (name,
        SQL type) followed by its tenant and id. PostgreSQL copies them into a temporary
        table and updates in one statement; SQLite runs one prepared statement per row."""
        if not rows:
            return
        names = [name for name, _type in columns]
        if not self.pg:
            assignments = ", ".join(f"{name} = ?" for name in names)
            self.many(f"UPDATE {table} SET {assignments} WHERE tenant_id = ? AND id = ?", rows)
            return
        scratch = f"bulk_{table}"
        typed = ", ".join(f"{name} {kind}" for name, kind in columns)
        self.run(f"CREATE TEMPORARY TABLE IF NOT EXISTS {scratch} ({typed}, tenant_id TEXT, id TEXT)")
        self.run(f"TRUNCATE {scratch}")
        self.insert(scratch, [*names, "tenant_id", "id"], rows)
        assignments = ", ".join(f"{name} = s.{name}" for name in names)
        self.run(
            f"UPDATE {table} AS t SET {assignments} FROM {scratch} s WHERE t.tenant_id = s.tenant_id AND t.id = s.id"
        )

    def marks(self, n: int) -> str:
        return ", ".join("?" * n)

    def to_db(self, value: date | None) -> Any:
        if value is None or self.pg:
            return value
        return value.isoformat()

    def to_date(self, value: Any) -> date | None:
        """Read a date column: SQLite returns text, PostgreSQL a date."""
        if value is None or isinstance(value, date):
            return value
        hit = self._dates.get(value)
        if hit is None:
            hit = self._dates[value] = date.fromisoformat(value)
        return hit


def stamp(moment: datetime) -> str:
    """A UTC time as text of one fixed shape, so that stored times compare correctly as text."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def unstamp(text: str) -> datetime:
    return datetime.fromisoformat(text)
