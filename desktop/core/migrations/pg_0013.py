"""Migration 0013 on PostgreSQL: `apikeys_verify()` appends its count to `key_usage_tail`, and
`apikeys_roll_up_tail()` moves that tail into `key_usage` in batches (0012's triggers then keep the roll-ups).

Frozen with revision 0013. Kept apart from the revision script only for its length. CREATE OR REPLACE of
`apikeys_verify_core`: it keeps its owner (the tables' owner, SECURITY DEFINER) and its grants (none).
"""

from __future__ import annotations

from typing import Any

from desktop.core.migrations.pg_0010 import DEFINER, _functions, _keys_table, _managers, _roles_with
from desktop.core.migrations.pg_0011 import _utf8, _verify_core

ROLL_UP = "apikeys_roll_up_tail()"
ROLL_UP_USAGE = "apikeys_roll_up_usage(timestamp, timestamp)"

_COUNTED = "INSERT INTO {s}.key_usage (key_id, hour, verdict, count)\n                         VALUES (hit.id,"
_APPENDED = (
    "-- To the tail, without index or trigger (migration 0013); apikeys_roll_up_tail() moves it on.\n"
    "                    INSERT INTO {s}.key_usage_tail (key_id, hour, verdict, count)\n"
    "                         VALUES (hit.id,"
)


def _core(s: str, utf8: bool, *, tail: bool) -> str:
    """0011's SQL verify, counting into the tail (or, to downgrade, into key_usage as it did)."""
    before = _verify_core(s, utf8)
    counted = _COUNTED.format(s=s)
    assert before.count(counted) == 1, "0011's apikeys_verify_core is not as it was"
    return before.replace(counted, _APPENDED.format(s=s)) if tail else before


def _roll_up(s: str) -> str:
    return f"""
        CREATE FUNCTION {s}.apikeys_roll_up_tail() RETURNS bigint
        LANGUAGE sql VOLATILE {DEFINER} AS $$
            -- One statement: rows appended meanwhile are not among those it deletes, and wait for the next call;
            -- a row another call is moving is waited for and then skipped (moved once). The INSERT fires 0012's
            -- statement triggers once for the whole batch.
            WITH moved AS (
                DELETE FROM {s}.key_usage_tail t RETURNING t.key_id, t.hour, t.verdict, t.count
            ), summed AS (
                INSERT INTO {s}.key_usage (key_id, hour, verdict, count)
                SELECT m.key_id, m.hour, m.verdict, sum(m.count) FROM moved m
                 GROUP BY m.key_id, m.hour, m.verdict ORDER BY m.key_id, m.hour, m.verdict
                RETURNING count
            )
            SELECT coalesce(sum(count), 0)::bigint FROM summed
        $$"""


def _roll_up_usage_before(s: str, utf8: bool) -> str:
    """0010's apikeys_roll_up_usage, to put back on downgrade (CREATE OR REPLACE keeps its owner and grants)."""
    return _functions(s, utf8)[ROLL_UP_USAGE].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def _roll_up_usage(s: str) -> str:
    """The hours' rows become one per key, hour and verdict, rewriting only those with more than one row: a row
    already alone (a seed's history, an hour rolled up before) stays as it is, so an hourly roll-up writes what the
    flushes since appended, not every row of its hours (at a million keys, 600,000 rows and a minute of locks)."""
    return f"""
        CREATE OR REPLACE FUNCTION {s}.apikeys_roll_up_usage(low timestamp, high timestamp) RETURNS void
        LANGUAGE sql VOLATILE {DEFINER} AS $$
            -- One statement: rows appended meanwhile are not among those it deletes, and stay counted; a row
            -- another call is moving is waited for and then skipped (moved once).
            WITH duplicated AS (
                SELECT d.key_id, d.hour, d.verdict FROM {s}.key_usage d WHERE d.hour >= low AND d.hour < high
                 GROUP BY d.key_id, d.hour, d.verdict HAVING count(*) > 1
            ), moved AS (
                DELETE FROM {s}.key_usage u USING duplicated d
                 WHERE u.hour >= low AND u.hour < high
                   AND u.key_id = d.key_id AND u.hour = d.hour AND u.verdict = d.verdict
                RETURNING u.key_id, u.hour, u.verdict, u.count
            )
            INSERT INTO {s}.key_usage (key_id, hour, verdict, count)
            SELECT m.key_id, m.hour, m.verdict, sum(m.count) FROM moved m GROUP BY m.key_id, m.hour, m.verdict
        $$"""


def upgrade_postgresql(op: Any) -> None:
    s, owner, me = _keys_table(op)
    if owner != me:
        op.execute(f"ALTER TABLE {s}.key_usage_tail OWNER TO {owner}")
    op.execute(_core(s, _utf8(op), tail=True))
    op.execute(_roll_up(s))
    op.execute(_roll_up_usage(s))
    if owner != me:
        op.execute(f"ALTER FUNCTION {s}.{ROLL_UP} OWNER TO {owner}")
    op.execute(f"REVOKE ALL ON FUNCTION {s}.{ROLL_UP} FROM PUBLIC")
    verifiers = sorted(set(_roles_with(op, s, "apikeys_verify(text)") + _roles_with(op, s, "apikeys_lookup(bytea)")))
    managers = _managers(op, s)
    for role in sorted(set(verifiers + managers)):
        op.execute(f"GRANT EXECUTE ON FUNCTION {s}.{ROLL_UP} TO {role}")
    for role in managers:  # the charts read it; `seed --remove` deletes a demo key's counts
        op.execute(f"GRANT SELECT, DELETE ON TABLE {s}.key_usage_tail TO {role}")


def downgrade_postgresql(op: Any) -> None:
    s, _, _ = _keys_table(op)
    op.execute(_core(s, _utf8(op), tail=False))
    op.execute(_roll_up_usage_before(s, _utf8(op)))
    op.execute(f"SELECT {s}.{ROLL_UP}")  # what the tail holds stays counted
    op.execute(f"DROP FUNCTION {s}.{ROLL_UP}")
