"""The SQL verify and a limited key's take on PostgreSQL, each one function call instead of two (issue 24 item 5).

`SELECT apikeys_verify(key)` was an SQL function (parsed and planned again at every call on PostgreSQL 15)
calling `apikeys_verify_core`, a second SECURITY DEFINER call; `apikeys_consume` called `apikeys_limit_take`.
Each now does the work itself, with the same statements (desktop/core/migrations/pg_0014.py). Nothing changes
on SQLite.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from desktop.core.migrations.pg_0014 import upgrade_postgresql

        upgrade_postgresql(op)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from desktop.core.migrations.pg_0014 import downgrade_postgresql

        downgrade_postgresql(op)
