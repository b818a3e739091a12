"""Alembic environment: always run on a connection the store hands in."""

from __future__ import annotations

from alembic import context

from desktop.core.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE by copying: SQLite only
    # One transaction for the whole upgrade: after a crash the file is either
    # the old schema or the new, never half.
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
