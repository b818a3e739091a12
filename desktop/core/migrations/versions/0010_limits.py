"""Rate limits, credits with refill, and usage counts (issue 24).

- `api_keys.limited`: whether the key has any limit. verify reads it in its one lookup by digest, so a key
  without limits costs no more than before (no second query, no write); only a limited key goes on to take
  from its limits.
- `key_limits`, one row per limited key: the rate (`rate_limit` verifies per `rate_period_s` seconds, and
  `rate_next`, the slot of the rate log to use next) and the credits (`credits_remaining`, refilled to
  `refill_amount` at the start of each `refill_period`: day, week or month in UTC; `refilled_at` is the start of
  the period last refilled).
- `key_rate_hits`: the rate log, a ring of `rate_limit` slots per key holding the times of its latest valid
  verifies. The slot to use next holds the oldest of the last N: a verify is within the rate when that time has
  left the window (an exact sliding window, one row read and one written per verify; docs/service.md).
- `key_usage`: verifies counted per key, hour (naive UTC, truncated) and verdict. Append-only (no unique key):
  every writer inserts its own rows, so no one waits for another to count; readers sum them, and
  `KeyStore.usage` rolls old rows up now and then.

On PostgreSQL, where verifiers hold no privilege on any table, everything verify does with the limits runs in
SECURITY DEFINER functions with a pinned search_path (as 0009's): `apikeys_consume(digest, cost)` applies a
key's limits for the app's verify, `apikeys_count_usage(...)` adds the app's counts, and the SQL verify
`apikeys_verify(key[, scopes[, cost]])` applies limits and counts its own verify. Limit changes are audited by
a trigger on `key_limits` (`limits-changed`), never a verify (which only updates the state columns).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: Every column of api_keys now announced (0009's and `limited`).
ANNOUNCED_COLUMNS = ("id", "digest", "hint", "description", "created_at", "expires_at", "active", "scopes", "limited")
ANNOUNCED_BEFORE = ("id", "digest", "hint", "description", "created_at", "expires_at", "active", "scopes")


def upgrade() -> None:
    # ALTER TABLE … ADD COLUMN, not a batch copy (which would reflect, and lose, 0004's expression indexes).
    op.add_column("api_keys", sa.Column("limited", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "key_limits",
        sa.Column("key_id", sa.Integer(), sa.ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("rate_period_s", sa.Integer(), nullable=True),
        sa.Column("rate_next", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("credits_remaining", sa.BigInteger(), nullable=True),
        sa.Column("refill_amount", sa.BigInteger(), nullable=True),
        sa.Column("refill_period", sa.String(8), nullable=True),
        sa.Column("refilled_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "key_rate_hits",
        sa.Column("key_id", sa.Integer(), sa.ForeignKey("key_limits.key_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("slot", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    # The oldest verify still in a key's window, found by seek (what `ratelimit.remaining` and `reset` need).
    op.create_index("ix_key_rate_hits_key_id_at", "key_rate_hits", ["key_id", "at"])
    op.create_table(
        "key_usage",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_key_usage_hour_key_id", "key_usage", ["hour", "key_id"])
    op.create_index("ix_key_usage_key_id_hour", "key_usage", ["key_id", "hour"])
    if op.get_bind().dialect.name == "postgresql":
        from desktop.core.migrations.pg_0010 import upgrade_postgresql

        upgrade_postgresql(op, ANNOUNCED_COLUMNS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from desktop.core.migrations.pg_0010 import downgrade_postgresql

        downgrade_postgresql(op, ANNOUNCED_BEFORE)
    op.drop_index("ix_key_usage_key_id_hour", table_name="key_usage")
    op.drop_index("ix_key_usage_hour_key_id", table_name="key_usage")
    op.drop_table("key_usage")
    op.drop_index("ix_key_rate_hits_key_id_at", table_name="key_rate_hits")
    op.drop_table("key_rate_hits")
    op.drop_table("key_limits")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: a copy would lose 0004's expression indexes.
    op.drop_column("api_keys", "limited")
