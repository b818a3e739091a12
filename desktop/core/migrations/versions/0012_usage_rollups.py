"""Usage roll-ups: what the charts read at a million keys and a hundred million counted verifies (issue 25).

`key_usage` holds a row per key, hour and verdict (more until rolled up): summing every key's rows of a month is
seconds at that size. Two tables keep the sums the charts need, exact and at once, by triggers on `key_usage`
(every writer's rows count the moment they are committed, whoever wrote them: the app's flush, `seed`, and on
PostgreSQL `apikeys_verify()`; a removed row is taken off again, so the hourly roll-up, which adds a row of sums
and removes the rows it summed, leaves them as they were):

- `usage_hours` (hour, verdict, stripe, count): every key's verifies per hour and verdict. The all-keys chart
  reads at most 720 hours of them.
- `key_usage_days` (key_id, day, stripe, count, valid): each key's verifies per UTC day, and how many were
  valid. "Most used keys" reads the busiest keys of each day first, by index, and stops as soon as no other key
  can reach the top (KeyStore.top_keys).

`stripe` is 0 on SQLite (one writer at a time anyway). On PostgreSQL it is the writer's backend pid modulo
STRIPES, so concurrent verifies add to different rows instead of waiting for one another's row lock (the rows
of an hour are summed on reading).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: SQLite: the UTC day of a key_usage hour, in the same sortable text.
_DAY = "substr({}, 1, 10) || ' 00:00:00.000000'"

_SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER key_usage_added AFTER INSERT ON key_usage BEGIN
        INSERT INTO usage_hours (hour, verdict, stripe, count) VALUES (NEW.hour, NEW.verdict, 0, NEW.count)
            ON CONFLICT (hour, verdict, stripe) DO UPDATE SET count = count + excluded.count;
        INSERT INTO key_usage_days (key_id, day, stripe, count, valid)
            VALUES (NEW.key_id, {_DAY.format("NEW.hour")}, 0, NEW.count,
                    CASE WHEN NEW.verdict = 'valid' THEN NEW.count ELSE 0 END)
            ON CONFLICT (key_id, day, stripe) DO UPDATE
            SET count = count + excluded.count, valid = valid + excluded.valid;
    END
    """,
    f"""
    CREATE TRIGGER key_usage_removed AFTER DELETE ON key_usage BEGIN
        UPDATE usage_hours SET count = count - OLD.count
         WHERE hour = OLD.hour AND verdict = OLD.verdict AND stripe = 0;
        UPDATE key_usage_days SET count = count - OLD.count,
               valid = valid - CASE WHEN OLD.verdict = 'valid' THEN OLD.count ELSE 0 END
         WHERE key_id = OLD.key_id AND day = {_DAY.format("OLD.hour")} AND stripe = 0;
    END
    """,
)


def upgrade() -> None:
    op.create_table(
        "usage_hours",
        sa.Column("hour", sa.DateTime(), primary_key=True),
        sa.Column("verdict", sa.String(16), primary_key=True),
        sa.Column("stripe", sa.Integer(), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "key_usage_days",
        sa.Column("key_id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.DateTime(), primary_key=True),
        sa.Column("stripe", sa.Integer(), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("valid", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_key_usage_days_day_count", "key_usage_days", ["day", "count"])
    server = op.get_bind().dialect.name == "postgresql"
    day = "date_trunc('day', hour)" if server else _DAY.format("hour")
    # What is counted already, summed once (a transaction with the triggers' creation: nothing is counted twice).
    op.execute(
        "INSERT INTO usage_hours (hour, verdict, stripe, count) "
        "SELECT hour, verdict, 0, sum(count) FROM key_usage GROUP BY hour, verdict"
    )
    op.execute(
        "INSERT INTO key_usage_days (key_id, day, stripe, count, valid) "
        f"SELECT key_id, {day}, 0, sum(count), sum(CASE WHEN verdict = 'valid' THEN count ELSE 0 END) "
        f"FROM key_usage GROUP BY key_id, {day}"
    )
    if server:
        from desktop.core.migrations.pg_0012 import upgrade_postgresql

        upgrade_postgresql(op)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from desktop.core.migrations.pg_0012 import downgrade_postgresql

        downgrade_postgresql(op)
    else:
        op.execute("DROP TRIGGER key_usage_removed")
        op.execute("DROP TRIGGER key_usage_added")
    op.drop_index("ix_key_usage_days_day_count", table_name="key_usage_days")
    op.drop_table("key_usage_days")
    op.drop_table("usage_hours")
