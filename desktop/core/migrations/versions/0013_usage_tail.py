"""The SQL verify counts without roll-up work: `apikeys_verify()` within 2× of the raw lookup (issue 24 item 5).

0012's statement triggers on `key_usage` upserted two roll-up rows in every `apikeys_verify()` call: about as
much again as the whole verify. Now:

- `key_usage_tail` (key_id, hour, verdict, count): no index, no key, no trigger. `apikeys_verify()` appends its
  one row here (PostgreSQL only; on SQLite the table stays empty: the app's flush writes `key_usage` in batches,
  and its triggers cost a flush, not a verify).
- `apikeys_roll_up_tail()` (PostgreSQL, SECURITY DEFINER, for verifiers and managers): moves the whole tail into
  `key_usage`, summed per key, hour and verdict, in one statement, so 0012's triggers bring the roll-ups up to
  date once per batch. Each process that counts runs it after its flush (every few seconds), and so does
  `apikeys serve`. A row is moved exactly once: concurrent calls wait for each other's row locks and skip what
  the other moved.
- Readers add the tail to what they read (the store's usage calls, in SQL): a count shows the moment its verify
  committed, whether or not a roll-up ran since.
- `apikeys_roll_up_usage()` (PostgreSQL; the app's SQL on SQLite) rewrites only the keys, hours and verdicts with
  more than one row: at a million keys the hourly roll-up rewrote 600,000 rows already one each.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_usage_tail",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        from desktop.core.migrations.pg_0013 import upgrade_postgresql

        upgrade_postgresql(op)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from desktop.core.migrations.pg_0013 import downgrade_postgresql

        downgrade_postgresql(op)
    else:  # nothing writes it on SQLite; whatever another program put there is kept, counted
        op.execute(
            "INSERT INTO key_usage (key_id, hour, verdict, count) "
            "SELECT key_id, hour, verdict, sum(count) FROM key_usage_tail GROUP BY key_id, hour, verdict"
        )
    op.drop_table("key_usage_tail")
