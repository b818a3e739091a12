"""A limited key's verify on SQLite in one statement, when its answer is `valid` and no one asks what is left.

desktop.core.db.limits.take reads the key's limits, decides, writes the rate log's slot, finds the oldest verify
still in the window (for `ratelimit`) and writes the limits back: six statements between BEGIN IMMEDIATE and
COMMIT, each a round trip through sqlite3. verify() reports only the verdict, so the usual case, a verify the
limits let through, is one UPDATE of the key's `key_limits` row (TAKE), one page written (migration 0015), whose
WHERE decides and whose SET writes (an INSERT into a TEMP view whose INSTEAD OF trigger ran the same UPDATE cost a
trigger program's set-up on top, and four more parameters worked out in Python):

- the credits taken;
- for a rate-limited key, this verify's time appended to `rate_pending`, the verifies let through and not yet
  in the ring (the rate log, `key_rate_hits`), while fewer than min(PENDING_CAP, N - 1) wait. With b pending,
  the N-th most recent verify is the ring's (N - b)-th most recent, in slot (rate_next + b) % N;

only when the limits let it through: credits left (more than 0, at least `cost`), no refill due (refilled at or
after the start of its period), and that slot empty or out of the window (the sliding window's test: N verifies
in the last period). A single statement is its own write transaction (no other process writes between its reads
and its writes; committed before it returns, so no answer before the commit). When it changed nothing (the
pending verifies at their most, the usual reason; or rate limited, out of credits, a refill due), FLUSH moves
the pending verifies into the ring, in one statement, as that many verifies writing their slots one by one would
have (limits.flush's way), and TAKE is tried once more (let_through()). When that changes nothing either, the
caller takes the full way (limits.take), which flushes the same way first and gives the exact verdict. So do
every check() and every change of the rate: no reader ever sees the pending verifies uncounted.

FLUSH's view, trigger and table of places are TEMP: they belong to the connection that made them, change nothing
in the file and are seen by no other program or older version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

from desktop.core.db import limits

_CAP, _WIDTH = limits.PENDING_CAP, limits.PENDING_WIDTH

#: The statement: (key id, cost, now). The refill period's start (midnight UTC, Monday's, the 1st's, as
#: limits.period_start) is worked out of `now`'s date only for a key with a refill (SQLite's date functions keep
#: milliseconds: 23:59:59.9995 would be rounded into the next day); the window's start from `now` and the period.
TAKE = f"""
    UPDATE key_limits SET
        credits_remaining = credits_remaining - ?2,
        rate_pending = CASE WHEN rate_limit IS NULL THEN rate_pending ELSE rate_pending || ?3 END
    WHERE key_id = ?1
        AND (credits_remaining IS NULL OR (credits_remaining > 0 AND credits_remaining >= ?2))
        AND (refill_period IS NULL OR refilled_at >= CASE refill_period
                WHEN 'week' THEN date(substr(?3, 1, 10), '-6 days', 'weekday 1')
                WHEN 'month' THEN substr(?3, 1, 8) || '01'
                ELSE substr(?3, 1, 10) END || ' 00:00:00.000000')
        AND (rate_limit IS NULL OR (length(rate_pending) < {_WIDTH} * min({_CAP}, rate_limit - 1)
            AND NOT EXISTS (
                SELECT 1 FROM key_rate_hits h WHERE h.key_id = ?1
                    AND h.slot = (key_limits.rate_next + length(key_limits.rate_pending) / {_WIDTH})
                        % key_limits.rate_limit
                    AND h.at > datetime(substr(?3, 1, 19), printf('-%d seconds', key_limits.rate_period_s))
                        || substr(?3, 20))))
"""
#: The key's pending verifies moved into its ring, as limits.flush does: (key id).
FLUSH = "INSERT INTO apikeys_flush VALUES (?)"

_CREATE = (
    "CREATE TEMP VIEW IF NOT EXISTS apikeys_flush (key_id) AS SELECT 0 WHERE 0",
    # The pending verifies' places, 0 .. PENDING_CAP - 1 (made as a query's result: no rows counted as changed).
    "CREATE TEMP TABLE IF NOT EXISTS apikeys_take_n AS WITH RECURSIVE n (i) AS "
    f"(SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {_CAP - 1}) SELECT i FROM n",
    # Slot after slot from `rate_next`; `rate_first`, when it pointed at one of them (or outside the ring), moved
    # past them all. Only b < N pending (as the verifies leave them): limits.flush does anything else.
    f"""
    CREATE TEMP TRIGGER IF NOT EXISTS apikeys_flush_pending INSTEAD OF INSERT ON apikeys_flush BEGIN
        INSERT INTO key_rate_hits (key_id, slot, at)
            SELECT key_id, (rate_next + n.i) % rate_limit, substr(rate_pending, n.i * {_WIDTH} + 1, {_WIDTH})
            FROM key_limits CROSS JOIN apikeys_take_n n
            WHERE key_id = NEW.key_id AND length(rate_pending) / {_WIDTH} < rate_limit
                AND n.i < length(rate_pending) / {_WIDTH}
            ON CONFLICT (key_id, slot) DO UPDATE SET at = excluded.at;
        UPDATE key_limits SET
            rate_first = CASE WHEN rate_first < 0 OR rate_first >= rate_limit
                    OR (rate_first - rate_next + rate_limit) % rate_limit < length(rate_pending) / {_WIDTH}
                THEN (rate_next + length(rate_pending) / {_WIDTH}) % rate_limit ELSE rate_first END,
            rate_next = (rate_next + length(rate_pending) / {_WIDTH}) % rate_limit,
            rate_pending = ''
        WHERE key_id = NEW.key_id AND rate_pending <> '' AND length(rate_pending) / {_WIDTH} < rate_limit;
    END
    """,
)

#: Runs one statement in a write transaction of its own (desktop.core.db.sqlite's _write_once).
Write = Callable[[sqlite3.Connection, str, tuple[object, ...]], None]


def prepare(conn: sqlite3.Connection) -> None:
    """FLUSH's TEMP view and trigger on this connection (once; cheap to ask again)."""
    for statement in _CREATE:
        conn.execute(statement)


def let_through(conn: sqlite3.Connection, write: Write, key_id: int, cost: int, now: datetime) -> bool:
    """Whether TAKE let the verify through, with `write` (one statement, its own write transaction). When it did
    not, the key's pending verifies (if any: at their most, the usual reason) are moved into its ring in one
    statement, and TAKE tried once more; False: the caller takes the full way."""
    taking = (key_id, cost, limits.time_text(now))
    changes = conn.total_changes
    write(conn, TAKE, taking)
    if conn.total_changes != changes:
        return True
    write(conn, FLUSH, (key_id,))
    if conn.total_changes == changes:
        return False  # nothing pending: rate limited, out of credits or a refill due
    changes = conn.total_changes
    write(conn, TAKE, taking)
    return conn.total_changes != changes
