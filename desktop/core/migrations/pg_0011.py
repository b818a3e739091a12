"""Migration 0011 on PostgreSQL: `apikeys_limit_take` finds the oldest verify in the window from `rate_first`
(desktop/core/db/limits.py does the same on SQLite), now that no index on the rate log's times exists.

Frozen with revision 0011; the downgrade puts 0010's function back. CREATE OR REPLACE: the function keeps its
owner (the tables' owner, SECURITY DEFINER) and its grants (none: only the other functions call it).
"""

from __future__ import annotations

from typing import Any

from desktop.core.migrations.pg_0010 import _LIMIT_ROW, DEFINER, NOW, _functions, _keys_table

SIGNATURE = "apikeys_limit_take(integer, integer)"
CORE = "apikeys_verify_core(text, text[], integer)"

#: 0010's SQL verify recorded the use in a block with an exception handler (a standby, a read-only transaction):
#: PostgreSQL starts a subtransaction on entering such a block, every call. Now it asks first.
_GUARDED = """                BEGIN
                    IF v = 'valid' AND"""
_ASKED = """                IF NOT current_setting('transaction_read_only')::boolean THEN
                    -- Not a standby, nor the caller's read-only transaction (there the verdict stands unrecorded).
                    IF v = 'valid' AND"""
_HANDLER = """                EXCEPTION WHEN read_only_sql_transaction THEN
                    -- A standby, or the caller's read-only transaction: the verdict stands unrecorded.
                    NULL;
                END;
"""


def _verify_core(s: str, utf8: bool) -> str:
    before = _functions(s, utf8)[CORE]
    assert before.count(_GUARDED) == 1 and before.count(_HANDLER) == 1, "0010's apikeys_verify_core is not as it was"
    after = before.replace(_GUARDED, _ASKED).replace(_HANDLER, "                END IF;\n")
    return after.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def _take(s: str) -> str:
    empty = "NULL::bigint, NULL::integer, NULL::integer, NULL::timestamp"
    return f"""
        CREATE OR REPLACE FUNCTION {s}.apikeys_limit_take(kid integer, cost integer) RETURNS TABLE ({_LIMIT_ROW})
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
            newest integer;
            first integer;
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
                    UPDATE {s}.key_limits SET credits_remaining = credits, refilled_at = started WHERE key_id = kid;
                END IF;
            END IF;
            IF l.rate_limit IS NOT NULL THEN
                period := make_interval(secs => l.rate_period_s);
                SELECT h.at INTO slot_at FROM {s}.key_rate_hits h WHERE h.key_id = kid AND h.slot = l.rate_next;
                IF slot_at > now_utc - period THEN
                    RETURN QUERY SELECT 'rate_limited'::text, credits, l.rate_limit, 0, slot_at + period;
                    RETURN;
                END IF;
            END IF;
            first := l.rate_first;
            IF credits IS NOT NULL AND (credits <= 0 OR credits < cost) THEN
                v := 'usage_exceeded';
                newest := (l.rate_next - 1 + coalesce(l.rate_limit, 1)) % coalesce(l.rate_limit, 1);
            ELSE
                IF credits IS NOT NULL THEN
                    credits := credits - cost;
                END IF;
                IF l.rate_limit IS NULL THEN
                    UPDATE {s}.key_limits SET credits_remaining = credits WHERE key_id = kid;
                    RETURN QUERY SELECT v, credits, NULL::integer, NULL::integer, NULL::timestamp;
                    RETURN;
                END IF;
                INSERT INTO {s}.key_rate_hits (key_id, slot, at) VALUES (kid, l.rate_next, now_utc)
                    ON CONFLICT (key_id, slot) DO UPDATE SET at = EXCLUDED.at;
                newest := l.rate_next;
                IF first = l.rate_next THEN  -- it held the oldest verify: the oldest is now the next one's
                    first := (l.rate_next + 1) % l.rate_limit;
                END IF;
            END IF;
            IF l.rate_limit IS NULL THEN
                RETURN QUERY SELECT v, credits, NULL::integer, NULL::integer, NULL::timestamp;
                RETURN;
            END IF;
            IF first < 0 OR first >= l.rate_limit THEN
                first := (newest + 1) % l.rate_limit;
            END IF;
            -- The oldest verify still in the window: the ring in slot order from `first` (never after it) to the
            -- newest, wrapping round at its end; a seek and a few steps of the primary key.
            SELECT h.slot, h.at INTO oldest_slot, oldest FROM {s}.key_rate_hits h
             WHERE h.key_id = kid AND h.slot BETWEEN first AND CASE WHEN first > newest THEN l.rate_limit - 1
                                                                     ELSE newest END
               AND h.at > now_utc - period ORDER BY h.slot LIMIT 1;
            IF NOT FOUND AND first > newest THEN
                SELECT h.slot, h.at INTO oldest_slot, oldest FROM {s}.key_rate_hits h
                 WHERE h.key_id = kid AND h.slot BETWEEN 0 AND newest AND h.at > now_utc - period
                 ORDER BY h.slot LIMIT 1;
            END IF;
            IF v = 'valid' THEN
                UPDATE {s}.key_limits SET credits_remaining = credits, rate_next = (l.rate_next + 1) % l.rate_limit,
                       rate_first = coalesce(oldest_slot, first)
                 WHERE key_id = kid;
            END IF;
            IF oldest_slot IS NULL THEN
                RETURN QUERY SELECT v, credits, l.rate_limit, l.rate_limit, now_utc + period;
                RETURN;
            END IF;
            RETURN QUERY SELECT v, credits, l.rate_limit,
                                greatest(l.rate_limit - ((newest - oldest_slot + l.rate_limit) % l.rate_limit + 1), 0),
                                oldest + period;
        END
        $$"""


def _utf8(op: Any) -> bool:
    return bool(op.get_bind().exec_driver_sql("SHOW server_encoding").scalar() == "UTF8")


def upgrade_postgresql(op: Any) -> None:
    s, _, _ = _keys_table(op)
    op.execute(_take(s))
    op.execute(_verify_core(s, _utf8(op)))


def downgrade_postgresql(op: Any) -> None:
    s, _, _ = _keys_table(op)
    for signature in (SIGNATURE, CORE):
        op.execute(_functions(s, _utf8(op))[signature].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
