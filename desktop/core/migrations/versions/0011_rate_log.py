"""A cheaper rate log: a limited key's verify writes two pages, not five (issue 24's ≤ 4× an unlimited verify).

- `key_limits.rate_first`: a slot at or before the oldest verify still in the window, in ring order (the ring
  runs from `rate_next`, the oldest, to the slot before it, the newest). The oldest verify in the window, which
  `ratelimit.remaining` and `reset` need, is the first slot from there whose time is inside the window: the
  verify steps over the slots that left the window since the last one, once each. Starts at `rate_next`.
- The index on `key_rate_hits (key_id, at)` goes: it found that slot by time, and every verify moved its
  entry, a page or two more written (and, on SQLite, copied into the WAL) per verify.
- SQLite: `key_rate_hits` WITHOUT ROWID, keyed by (key_id, slot): the slot's row is found by one seek and
  written in one page (a rowid table kept its primary key in a second B-tree).

PostgreSQL: `apikeys_limit_take` does the same (CREATE OR REPLACE: its owner and grants stay).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SQLITE_TABLE = (
    "CREATE TABLE {name} (key_id INTEGER NOT NULL REFERENCES key_limits (key_id) ON DELETE CASCADE, "
    "slot INTEGER NOT NULL, at DATETIME NOT NULL, PRIMARY KEY (key_id, slot)){rowid}"
)


def _sqlite_rebuild(without_rowid: bool) -> None:
    op.execute(_SQLITE_TABLE.format(name="key_rate_hits_new", rowid=" WITHOUT ROWID" if without_rowid else ""))
    op.execute("INSERT INTO key_rate_hits_new (key_id, slot, at) SELECT key_id, slot, at FROM key_rate_hits")
    op.execute("DROP TABLE key_rate_hits")  # its index goes with it
    op.execute("ALTER TABLE key_rate_hits_new RENAME TO key_rate_hits")


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("key_limits", sa.Column("rate_first", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE key_limits SET rate_first = rate_next")  # the oldest slot: at or before any in the window
    if bind.dialect.name == "sqlite":
        _sqlite_rebuild(without_rowid=True)
    else:
        op.drop_index("ix_key_rate_hits_key_id_at", table_name="key_rate_hits")
    if bind.dialect.name == "postgresql":
        from desktop.core.migrations.pg_0011 import upgrade_postgresql

        upgrade_postgresql(op)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from desktop.core.migrations.pg_0011 import downgrade_postgresql

        downgrade_postgresql(op)
    if bind.dialect.name == "sqlite":
        _sqlite_rebuild(without_rowid=False)
    op.create_index("ix_key_rate_hits_key_id_at", "key_rate_hits", ["key_id", "at"])
    op.drop_column("key_limits", "rate_first")
