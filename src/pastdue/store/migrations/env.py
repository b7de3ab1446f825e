"""Alembic environment: runs on the connection pastdue hands over, never on its own URL."""

from __future__ import annotations

from alembic import context

from pastdue.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite can only alter tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
