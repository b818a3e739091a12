"""Migration 0012 on PostgreSQL: the usage roll-ups kept by statement triggers on `key_usage`.

Frozen with revision 0012. Kept apart from the revision script only for its length.

- `apikeys_usage_added()` / `apikeys_usage_removed()`: AFTER INSERT / AFTER DELETE … FOR EACH STATEMENT, with the
  statement's rows as a transition table: one upsert per hour and verdict (and per key and day) a statement,
  however many rows it wrote (a flush of thousands of counts, `seed`'s batches). SECURITY DEFINER with a pinned
  search_path: the writer may be a verifier inside `apikeys_verify()` or `apikeys_count_usage()` (as the owner
  already), or a manager deleting a demo key's counts (`seed --remove`), who may not write the roll-ups
  themselves. Rows are upserted in key order, so two statements never wait for each other in a cycle.
- Each writer adds to the stripe of its backend (pid modulo STRIPES): concurrent `apikeys_verify()` calls
  rarely wait for one another's row (a verify waits for nobody to count, as 0010 promised).

Managers may read the roll-ups (the charts); verifiers get nothing new.
"""

from __future__ import annotations

from typing import Any

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
#: How many rows concurrent writers spread an hour's (and a key's day's) counts over.
STRIPES = 4
TABLES = ("usage_hours", "key_usage_days")


def _function(s: str, name: str, rows: str, sign: str) -> str:
    stripe = f"pg_backend_pid() % {STRIPES}"
    return f"""
        CREATE FUNCTION {s}.{name}() RETURNS trigger
        LANGUAGE plpgsql {DEFINER} AS $$
        BEGIN
            INSERT INTO {s}.usage_hours AS t (hour, verdict, stripe, count)
            SELECT r.hour, r.verdict, {stripe}, {sign}sum(r.count) FROM {rows} r
             GROUP BY r.hour, r.verdict ORDER BY r.hour, r.verdict
            ON CONFLICT (hour, verdict, stripe) DO UPDATE SET count = t.count + excluded.count;
            INSERT INTO {s}.key_usage_days AS t (key_id, day, stripe, count, valid)
            SELECT r.key_id, date_trunc('day', r.hour), {stripe}, {sign}sum(r.count),
                   {sign}coalesce(sum(r.count) FILTER (WHERE r.verdict = 'valid'), 0)
              FROM {rows} r GROUP BY r.key_id, date_trunc('day', r.hour) ORDER BY 1, 2
            ON CONFLICT (key_id, day, stripe) DO UPDATE
            SET count = t.count + excluded.count, valid = t.valid + excluded.valid;
            RETURN NULL;
        END
        $$"""


def _owners(op: Any) -> tuple[str, str, str]:
    row = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT quote_ident(n.nspname), c.relowner::regrole::text, current_user::regrole::text "
            "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = 'key_usage'::regclass"
        )
        .one()
    )
    return str(row[0]), str(row[1]), str(row[2])


def _managers(op: Any, s: str) -> list[str]:
    """The roles that may delete counts (0010 gave them to managers)."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT DISTINCT a.grantee::regrole::text FROM pg_catalog.pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
        f"WHERE c.oid = '{s}.key_usage'::regclass AND a.privilege_type = 'DELETE' "
        "AND a.grantee <> 0 AND a.grantee <> c.relowner"
    )
    return [str(r[0]) for r in rows]


def upgrade_postgresql(op: Any) -> None:
    s, owner, me = _owners(op)
    for table in TABLES:
        if owner != me:
            op.execute(f"ALTER TABLE {s}.{table} OWNER TO {owner}")
    functions = {
        "apikeys_usage_added": _function(s, "apikeys_usage_added", "added", ""),
        "apikeys_usage_removed": _function(s, "apikeys_usage_removed", "removed", "-"),
    }
    for name, statement in functions.items():
        op.execute(statement)
        if owner != me:
            op.execute(f"ALTER FUNCTION {s}.{name}() OWNER TO {owner}")
        op.execute(f"REVOKE ALL ON FUNCTION {s}.{name}() FROM PUBLIC")
    op.execute(
        f"CREATE TRIGGER apikeys_usage_added AFTER INSERT ON {s}.key_usage REFERENCING NEW TABLE AS added "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.apikeys_usage_added()"
    )
    op.execute(
        f"CREATE TRIGGER apikeys_usage_removed AFTER DELETE ON {s}.key_usage REFERENCING OLD TABLE AS removed "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {s}.apikeys_usage_removed()"
    )
    for role in _managers(op, s):
        op.execute(f"GRANT SELECT ON TABLE {s}.usage_hours, {s}.key_usage_days TO {role}")


def downgrade_postgresql(op: Any) -> None:
    s, _, _ = _owners(op)
    op.execute(f"DROP TRIGGER apikeys_usage_removed ON {s}.key_usage")
    op.execute(f"DROP TRIGGER apikeys_usage_added ON {s}.key_usage")
    op.execute(f"DROP FUNCTION {s}.apikeys_usage_removed()")
    op.execute(f"DROP FUNCTION {s}.apikeys_usage_added()")
