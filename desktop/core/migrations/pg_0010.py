"""Migration 0010 on PostgreSQL: the limits and usage inside SECURITY DEFINER functions (a verifier holds no
privilege on any table), their audit trigger, and `apikeys_verify(key[, scopes[, cost]])` applying them.

Frozen with revision 0010 (a later change to these functions is a later migration). Kept apart from the revision
script only for its length.

- `apikeys_limit_take(key_id, cost)`, internal (EXECUTE for no one): under the key's `key_limits` row lock,
  refill when a new period began, answer `rate_limited` when the rate log's next slot is still inside the
  window, `usage_exceeded` when the credits do not cover the cost (or are 0), else take: the slot gets the time,
  the credits lose `cost`. The server's clock, never the caller's: a caller naming the time could free its slots.
- `apikeys_consume(digest, cost)`: the app's verify, for a key its lookup read as limited.
- `apikeys_count_usage(ids, hours, verdicts, counts)`: the app's usage counts, appended.
- `apikeys_verify_core(key, scopes, cost)`, internal: the whole SQL verify; the three `apikeys_verify`
  overloads call it. It counts its own verify in `key_usage` (one append, no contention on the key's row).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
ACTOR = (
    "left(coalesce(nullif(current_setting('apikeys.actor', true), ''), "
    "session_user || '@' || coalesce(host(inet_client_addr()), 'local')), 512)"
)
#: Public functions, granted to every role that may verify.
PUBLIC_FUNCTIONS = (
    "apikeys_verify(text, text[], integer)",
    "apikeys_consume(bytea, integer)",
    "apikeys_count_usage(integer[], timestamp[], text[], bigint[])",
    "apikeys_roll_up_usage(timestamp, timestamp)",
)
#: The lookup's columns before and after 0010.
_LOOKUP_BEFORE = "id integer, digest bytea, active boolean, expires_at timestamp, last_used_at timestamp, scopes text"
_LOOKUP_NOW = f"{_LOOKUP_BEFORE}, limited boolean"
_LIMIT_ROW = "verdict text, remaining bigint, rate_limit integer, rate_remaining integer, reset timestamp"


def _revision(name: str) -> ModuleType:
    """An earlier revision script as a module (its helpers: the checksum table, the whitespace rule)."""
    path = Path(__file__).resolve().parent / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"apikeys_revision_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _lookup(s: str, columns: str, select: str) -> str:
    return f"""
        CREATE FUNCTION {s}.apikeys_lookup(key_digest bytea) RETURNS TABLE ({columns})
        LANGUAGE plpgsql STABLE {DEFINER} AS $$
        BEGIN
            -- plpgsql, not sql: its plan is kept for the session (verify's cost, `make bench`).
            RETURN QUERY SELECT {select} FROM {s}.api_keys k WHERE k.digest = key_digest;
        END
        $$"""


def _limits_json(row: str) -> str:
    return (
        f"jsonb_build_object('rate_limit', {row}.rate_limit, 'rate_period_s', {row}.rate_period_s, "
        f"'credits', {row}.credits_remaining, 'refill', {row}.refill_amount, 'refill_period', {row}.refill_period)"
    )


def _functions(s: str, utf8: bool) -> dict[str, str]:
    first = _revision("0003_sql_verify")
    crc_table = "{" + ",".join(map(str, first._crc_table())) + "}"
    empty = "NULL::bigint, NULL::integer, NULL::integer, NULL::timestamp"
    return {
        "apikeys_limit_take(integer, integer)": f"""
            CREATE FUNCTION {s}.apikeys_limit_take(kid integer, cost integer) RETURNS TABLE ({_LIMIT_ROW})
            LANGUAGE plpgsql VOLATILE {DEFINER} AS $$
            #variable_conflict use_column
            DECLARE
                now_utc timestamp := {NOW};
                l record;
                slot_at timestamp;
                credits bigint;
                period interval;
                started timestamp;
                v text := 'valid';
                in_window integer;
                oldest timestamp;
                oldest_slot integer;
            BEGIN
                SELECT * INTO l FROM {s}.key_limits WHERE key_id = kid FOR UPDATE;
                IF NOT FOUND THEN
                    RETURN QUERY SELECT 'valid'::text, {empty};
                    RETURN;
                END IF;
                credits := l.credits_remaining;
                IF l.refill_period IS NOT NULL THEN
                    started := date_trunc(l.refill_period, now_utc);
                    IF l.refilled_at IS NULL OR l.refilled_at < started THEN
                        credits := l.refill_amount;
                        UPDATE {s}.key_limits SET credits_remaining = credits, refilled_at = started
                         WHERE key_id = kid;
                    END IF;
                END IF;
                IF l.rate_limit IS NOT NULL THEN
                    period := make_interval(secs => l.rate_period_s);
                    SELECT h.at INTO slot_at FROM {s}.key_rate_hits h WHERE h.key_id = kid AND h.slot = l.rate_next;
                    IF FOUND AND slot_at > now_utc - period THEN
                        RETURN QUERY SELECT 'rate_limited'::text, credits, l.rate_limit, 0, slot_at + period;
                        RETURN;
                    END IF;
                END IF;
                IF credits IS NOT NULL AND (credits <= 0 OR credits < cost) THEN
                    v := 'usage_exceeded';
                ELSE
                    IF credits IS NOT NULL THEN
                        credits := credits - cost;
                    END IF;
                    IF l.rate_limit IS NOT NULL THEN
                        INSERT INTO {s}.key_rate_hits (key_id, slot, at) VALUES (kid, l.rate_next, now_utc)
                            ON CONFLICT (key_id, slot) DO UPDATE SET at = EXCLUDED.at;
                    END IF;
                    UPDATE {s}.key_limits SET credits_remaining = credits,
                           rate_next = CASE WHEN l.rate_limit IS NULL THEN 0 ELSE (l.rate_next + 1) % l.rate_limit END
                     WHERE key_id = kid;
                END IF;
                IF l.rate_limit IS NULL THEN
                    RETURN QUERY SELECT v, credits, NULL::integer, NULL::integer, NULL::timestamp;
                    RETURN;
                END IF;
                -- The oldest verify still in the window, by index: the ones in it run from its slot to the newest.
                SELECT h.slot, h.at INTO oldest_slot, oldest FROM {s}.key_rate_hits h
                 WHERE h.key_id = kid AND h.at > now_utc - period ORDER BY h.at LIMIT 1;
                IF NOT FOUND THEN
                    RETURN QUERY SELECT v, credits, l.rate_limit, l.rate_limit, now_utc + period;
                    RETURN;
                END IF;
                in_window := ((CASE WHEN v = 'valid' THEN l.rate_next ELSE l.rate_next - 1 END) - oldest_slot
                              + 2 * l.rate_limit) % l.rate_limit + 1;
                RETURN QUERY SELECT v, credits, l.rate_limit, greatest(l.rate_limit - in_window, 0), oldest + period;
            END
            $$""",
        "apikeys_consume(bytea, integer)": f"""
            CREATE FUNCTION {s}.apikeys_consume(key_digest bytea, cost integer) RETURNS TABLE ({_LIMIT_ROW})
            LANGUAGE plpgsql VOLATILE {DEFINER} AS $$
            DECLARE
                kid integer;
            BEGIN
                -- Only for the holder of a key (its digest), as apikeys_touch.
                SELECT k.id INTO kid FROM {s}.api_keys k WHERE k.digest = key_digest AND k.limited;
                IF NOT FOUND THEN
                    RETURN QUERY SELECT 'valid'::text, {empty};
                    RETURN;
                END IF;
                RETURN QUERY SELECT * FROM {s}.apikeys_limit_take(kid, greatest(coalesce(cost, 1), 0));
            END
            $$""",
        "apikeys_count_usage(integer[], timestamp[], text[], bigint[])": f"""
            CREATE FUNCTION {s}.apikeys_count_usage(key_ids integer[], hours timestamp[], verdicts text[],
                                                    counts bigint[]) RETURNS void
            LANGUAGE plpgsql VOLATILE {DEFINER} AS $$
            BEGIN
                INSERT INTO {s}.key_usage (key_id, hour, verdict, count)
                SELECT u.k, date_trunc('hour', u.h), u.v, u.c
                  FROM unnest(key_ids, hours, verdicts, counts) AS u(k, h, v, c)
                 WHERE u.c > 0 AND u.h <= {NOW} + interval '1 hour'
                   AND u.v IN ('valid', 'inactive', 'expired', 'forbidden', 'rate_limited', 'usage_exceeded')
                   AND EXISTS (SELECT 1 FROM {s}.api_keys k WHERE k.id = u.k);
            END
            $$""",
        "apikeys_roll_up_usage(timestamp, timestamp)": f"""
            CREATE FUNCTION {s}.apikeys_roll_up_usage(low timestamp, high timestamp) RETURNS void
            LANGUAGE sql VOLATILE {DEFINER} AS $$
                -- The rows of the hours [low, high) become one per key, hour and verdict, in one statement: rows
                -- appended meanwhile by others are not among those it deletes, and stay counted.
                WITH moved AS (
                    DELETE FROM {s}.key_usage u WHERE u.hour >= low AND u.hour < high
                    RETURNING u.key_id, u.hour, u.verdict, u.count
                )
                INSERT INTO {s}.key_usage (key_id, hour, verdict, count)
                SELECT m.key_id, m.hour, m.verdict, sum(m.count) FROM moved m GROUP BY m.key_id, m.hour, m.verdict
            $$""",
        "apikeys_verify_core(text, text[], integer)": f"""
            CREATE FUNCTION {s}.apikeys_verify_core(key text, scopes text[], cost integer)
            RETURNS TABLE (verdict text, key_id integer, {_LIMIT_ROW.removeprefix("verdict text, ")})
            LANGUAGE plpgsql VOLATILE {DEFINER} AS $apikeys$
            #variable_conflict use_column
            DECLARE
                crc_table bigint[];
                alphabet CONSTANT text := '{first.ALPHABET}';
                k text;
                crc bigint := 4294967295;
                rest bigint;
                checksum text := '';
                hit record;
                now_utc timestamp;
                v text;
                t_remaining bigint;
                t_limit integer;
                t_rate_remaining integer;
                t_reset timestamp;
            BEGIN
                IF cost IS NOT NULL AND cost < 0 THEN
                    RAISE EXCEPTION 'cost must be 0 or more, not %', cost USING ERRCODE = 'invalid_parameter_value';
                END IF;
                k := btrim(key, {first._whitespace_literal(utf8)});
                IF k IS NULL OR k !~ '^ak_[0-9A-Za-z]{{38}}$' THEN
                    RETURN QUERY SELECT 'malformed'::text, NULL::integer, {empty};
                    RETURN;
                END IF;
                SELECT a.id, a.active, a.expires_at, a.last_used_at, a.scopes, a.limited INTO hit
                  FROM {s}.api_keys a WHERE a.digest = sha256(convert_to(k, 'UTF8'));
                IF NOT FOUND THEN
                    crc_table := '{crc_table}';
                    FOR i IN 4..35 LOOP
                        crc := (crc >> 8) # crc_table[((crc # ascii(substr(k, i, 1))) & 255) + 1];
                    END LOOP;
                    rest := crc # 4294967295;
                    FOR i IN 1..6 LOOP
                        checksum := substr(alphabet, (rest % 62)::int + 1, 1) || checksum;
                        rest := rest / 62;
                    END LOOP;
                    RETURN QUERY SELECT CASE WHEN checksum <> substr(k, 36, 6) THEN 'malformed' ELSE 'unknown' END,
                                        NULL::integer, {empty};
                    RETURN;
                END IF;
                now_utc := {NOW};
                IF NOT hit.active THEN
                    v := 'inactive';
                ELSIF hit.expires_at IS NOT NULL AND now_utc >= hit.expires_at THEN
                    v := 'expired';
                ELSIF scopes IS NOT NULL AND cardinality(scopes) > 0
                      AND NOT (scopes <@ string_to_array(hit.scopes, ' ')) THEN
                    v := 'forbidden';
                ELSIF hit.limited THEN
                    SELECT x.verdict, x.remaining, x.rate_limit, x.rate_remaining, x.reset
                      INTO v, t_remaining, t_limit, t_rate_remaining, t_reset
                      FROM {s}.apikeys_limit_take(hit.id, coalesce(cost, 1)) x;
                ELSE
                    v := 'valid';
                END IF;
                BEGIN
                    IF v = 'valid' AND (hit.last_used_at IS NULL OR hit.last_used_at <= now_utc - interval '1 minute')
                    THEN
                        -- Bookkeeping: a row another transaction holds is skipped, never waited for.
                        UPDATE {s}.api_keys SET last_used_at = now_utc
                         WHERE id = (SELECT a.id FROM {s}.api_keys a
                                      WHERE a.id = hit.id
                                        AND (a.last_used_at IS NULL OR a.last_used_at <= now_utc - interval '1 minute')
                                        FOR UPDATE SKIP LOCKED);
                    END IF;
                    -- Counted at once, appended: no verify waits for another to count.
                    INSERT INTO {s}.key_usage (key_id, hour, verdict, count)
                         VALUES (hit.id, date_trunc('hour', now_utc), v, 1);
                EXCEPTION WHEN read_only_sql_transaction THEN
                    -- A standby, or the caller's read-only transaction: the verdict stands unrecorded.
                    NULL;
                END;
                RETURN QUERY SELECT v, hit.id, t_remaining, t_limit, t_rate_remaining, t_reset;
            END
            $apikeys$""",
        "apikeys_audit_limits()": f"""
            CREATE FUNCTION {s}.apikeys_audit_limits() RETURNS trigger
            LANGUAGE plpgsql {DEFINER} AS $$
            DECLARE
                kid integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.key_id ELSE NEW.key_id END;
                hint text;
            BEGIN
                SELECT k.hint INTO hint FROM {s}.api_keys k WHERE k.id = kid;
                IF NOT FOUND THEN
                    RETURN NULL;  -- the key itself was deleted: its `deleted` event says it
                END IF;
                INSERT INTO {s}.key_events (at, key_id, masked, action, actor, db_role, details)
                VALUES ({NOW}, kid, 'ak_' || left(hint, 4) || '…' || substr(hint, 5), 'limits-changed', {ACTOR},
                        session_user, jsonb_build_object(
                            'from', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE {_limits_json("OLD")} END,
                            'to', CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE {_limits_json("NEW")} END)::text);
                RETURN NULL;
            END
            $$""",
    }


def _verify_overloads(s: str) -> dict[str, str]:
    """The public SQL verify: each overload is the core's verdict."""
    bodies = {
        "apikeys_verify(text)": ("key text", "key, NULL, 1"),
        "apikeys_verify(text, text[])": ("key text, scopes text[]", "key, scopes, 1"),
        "apikeys_verify(text, text[], integer)": ("key text, scopes text[], cost integer", "key, scopes, cost"),
    }
    return {
        signature: f"""
            CREATE OR REPLACE FUNCTION {s}.apikeys_verify({parameters}) RETURNS text
            LANGUAGE sql VOLATILE {DEFINER} AS $$
                SELECT c.verdict FROM {s}.apikeys_verify_core({arguments}) c
            $$"""
        for signature, (parameters, arguments) in bodies.items()
    }


#: Limit changes are audited; a verify's taking (credits down, the next slot) is not. Credits raised outside a
#: refill, or anything the app marks as a limits change (a balance set lower), is.
_LIMITS_UPDATE_WHEN = (
    "(OLD.rate_limit, OLD.rate_period_s, OLD.refill_amount, OLD.refill_period) IS DISTINCT FROM "
    "(NEW.rate_limit, NEW.rate_period_s, NEW.refill_amount, NEW.refill_period) "
    "OR (OLD.credits_remaining IS NULL) <> (NEW.credits_remaining IS NULL) "
    "OR (NEW.credits_remaining > OLD.credits_remaining AND NEW.refilled_at IS NOT DISTINCT FROM OLD.refilled_at) "
    "OR coalesce(current_setting('apikeys.context', true), '') LIKE '%\"limits-changed\"%'"
)


def _keys_table(op: Any) -> tuple[str, str, str]:
    bind = op.get_bind()
    row = bind.exec_driver_sql(
        "SELECT quote_ident(n.nspname), c.relowner::regrole::text, current_user::regrole::text "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = 'api_keys'::regclass"
    ).one()
    return str(row[0]), str(row[1]), str(row[2])


def _roles_with(op: Any, s: str, signature: str, privilege: str = "EXECUTE") -> list[str]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT DISTINCT a.grantee::regrole::text FROM pg_catalog.pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a "
        f"WHERE p.oid = '{s}.{signature}'::regprocedure AND a.privilege_type = '{privilege}' "
        "AND a.grantee <> 0 AND a.grantee <> p.proowner"
    )
    return [str(r[0]) for r in rows]


def _managers(op: Any, s: str) -> list[str]:
    rows = op.get_bind().exec_driver_sql(
        "SELECT DISTINCT a.grantee::regrole::text FROM pg_catalog.pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
        f"WHERE c.oid = '{s}.api_keys'::regclass AND a.privilege_type = 'UPDATE' "
        "AND a.grantee <> 0 AND a.grantee <> c.relowner"
    )
    return [str(r[0]) for r in rows]


def _audit_update_excluding(op: Any, s: str, old: str, new: str) -> None:
    """0009's update trigger function with its list of columns it leaves to others changed (`limited`: the
    limits' own trigger says what changed)."""
    definition = (
        op.get_bind().exec_driver_sql(f"SELECT pg_get_functiondef('{s}.apikeys_audit_update()'::regprocedure)").scalar()
    )
    assert old in definition, "0009's apikeys_audit_update() is not as it wrote it"
    op.execute(definition.replace(old, new))


_NOT_OTHERS = "'description', 'scopes', 'active', 'last_used_at')"
_NOT_OTHERS_NOW = "'description', 'scopes', 'active', 'last_used_at', 'limited')"


def _announce(op: Any, s: str, columns: tuple[str, ...]) -> None:
    op.execute(f"DROP TRIGGER apikeys_changed ON {s}.api_keys")
    op.execute(
        f"CREATE TRIGGER apikeys_changed AFTER INSERT OR DELETE OR UPDATE OF {', '.join(columns)} ON {s}.api_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION apikeys_announce_change()"
    )


def upgrade_postgresql(op: Any, announced: tuple[str, ...]) -> None:
    bind = op.get_bind()
    s, owner, me = _keys_table(op)
    utf8 = bind.exec_driver_sql("SHOW server_encoding").scalar() == "UTF8"
    verifiers = _roles_with(op, s, "apikeys_verify(text)") + _roles_with(op, s, "apikeys_lookup(bytea)")
    verifiers = sorted(set(verifiers))
    managers = _managers(op, s)
    for table in ("key_limits", "key_rate_hits", "key_usage"):
        if owner != me:
            op.execute(f"ALTER TABLE {s}.{table} OWNER TO {owner}")
    # The lookup gains `limited`: its columns change, so it is made anew (and granted again).
    op.execute(f"DROP FUNCTION {s}.apikeys_lookup(bytea)")
    functions = {
        "apikeys_lookup(bytea)": _lookup(
            s, _LOOKUP_NOW, "k.id, k.digest, k.active, k.expires_at, k.last_used_at, k.scopes, k.limited"
        ),
        **_functions(s, utf8),
    }
    overloads = _verify_overloads(s)
    new = (*functions, "apikeys_verify(text, text[], integer)")
    for signature, statement in (*functions.items(), *overloads.items()):
        op.execute(statement)
        if signature in new:
            if owner != me:
                op.execute(f"ALTER FUNCTION {s}.{signature} OWNER TO {owner}")
            op.execute(f"REVOKE ALL ON FUNCTION {s}.{signature} FROM PUBLIC")
    for role in verifiers:
        for signature in ("apikeys_lookup(bytea)", *PUBLIC_FUNCTIONS):
            op.execute(f"GRANT EXECUTE ON FUNCTION {s}.{signature} TO {role}")
    for role in managers:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {s}.key_limits, {s}.key_rate_hits TO {role}")
        op.execute(f"GRANT SELECT, DELETE ON TABLE {s}.key_usage TO {role}")
    _audit_update_excluding(op, s, _NOT_OTHERS, _NOT_OTHERS_NOW)
    _announce(op, s, announced)
    op.execute(
        f"CREATE TRIGGER apikeys_audit_limits_insert AFTER INSERT ON {s}.key_limits FOR EACH ROW "
        f"EXECUTE FUNCTION {s}.apikeys_audit_limits()"
    )
    op.execute(
        f"CREATE TRIGGER apikeys_audit_limits_update AFTER UPDATE ON {s}.key_limits FOR EACH ROW "
        f"WHEN ({_LIMITS_UPDATE_WHEN}) EXECUTE FUNCTION {s}.apikeys_audit_limits()"
    )
    op.execute(
        f"CREATE TRIGGER apikeys_audit_limits_delete AFTER DELETE ON {s}.key_limits FOR EACH ROW "
        f"EXECUTE FUNCTION {s}.apikeys_audit_limits()"
    )


def downgrade_postgresql(op: Any, announced: tuple[str, ...]) -> None:
    s, owner, me = _keys_table(op)
    verifiers = _roles_with(op, s, "apikeys_lookup(bytea)")
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER apikeys_audit_limits_{name} ON {s}.key_limits")
    _announce(op, s, announced)
    _audit_update_excluding(op, s, _NOT_OTHERS_NOW, _NOT_OTHERS)
    # The SQL verify as 0003 and 0005 made it (0005 grants the scoped one to whoever may call the plain one).
    plain = _roles_with(op, s, "apikeys_verify(text)")
    for signature in ("apikeys_verify(text, text[], integer)", "apikeys_verify(text, text[])", "apikeys_verify(text)"):
        op.execute(f"DROP FUNCTION {s}.{signature}")
    _revision("0003_sql_verify").upgrade()
    for role in plain:
        op.execute(f"GRANT EXECUTE ON FUNCTION {s}.apikeys_verify(text) TO {role}")
    _revision("0005_lifecycle")._create_scoped_verify()
    for signature in reversed(list(_functions(s, False))):
        op.execute(f"DROP FUNCTION {s}.{signature}")
    op.execute(f"DROP FUNCTION {s}.apikeys_lookup(bytea)")
    op.execute(_lookup(s, _LOOKUP_BEFORE, "k.id, k.digest, k.active, k.expires_at, k.last_used_at, k.scopes"))
    if owner != me:
        op.execute(f"ALTER FUNCTION {s}.apikeys_lookup(bytea) OWNER TO {owner}")
    op.execute(f"REVOKE ALL ON FUNCTION {s}.apikeys_lookup(bytea) FROM PUBLIC")
    for role in verifiers:
        op.execute(f"GRANT EXECUTE ON FUNCTION {s}.apikeys_lookup(bytea) TO {role}")
