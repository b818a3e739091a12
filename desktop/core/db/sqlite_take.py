"""A limited key's verify on SQLite in one statement, when its answer is `valid` and no one asks what is left.

desktop.core.db.limits.take reads the key's limits, decides, writes the rate log's slot, finds the oldest verify
still in the window (for `ratelimit`) and writes the limits back: six statements between BEGIN IMMEDIATE and
COMMIT, each a round trip through sqlite3. verify() reports only the verdict, so the usual case, a verify the
limits let through, is one INSERT into a TEMP view of each of our connections, whose INSTEAD OF trigger does
one UPDATE of the key's `key_limits` row, one page written (migration 0015):

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

The views, triggers and the table of places are TEMP: they belong to the connection that made them, change
nothing in the file and are seen by no other program or older version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from desktop.core.db import limits

#: The statement: (key id, cost, now, now's whole seconds, now's fraction, the day's, week's and month's start).
TAKE = "INSERT INTO apikeys_take VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
#: The key's pending verifies moved into its ring, as limits.flush does: (key id).
FLUSH = "INSERT INTO apikeys_flush VALUES (?)"

_CAP, _WIDTH = limits.PENDING_CAP, limits.PENDING_WIDTH

_CREATE = (
    "CREATE TEMP VIEW IF NOT EXISTS apikeys_take (key_id, cost, now, now_s, now_fraction, day, week, month) AS "
    "SELECT 0, 0, '', '', '', '', '', '' WHERE 0",
    # One UPDATE of the key's row: the credits taken, and a rate-limited key's verify appended to its pending ones,
    # while fewer than PENDING_CAP wait (and fewer than the rate less one: a rate of 1 never buffers). The slot read
    # holds the N-th most recent verify, the pending ones counted: the ring's (N - b)-th most recent, b pending.
    f"""
    CREATE TEMP TRIGGER IF NOT EXISTS apikeys_take_valid INSTEAD OF INSERT ON apikeys_take BEGIN
        UPDATE key_limits SET
            credits_remaining = credits_remaining - NEW.cost,
            rate_pending = CASE WHEN rate_limit IS NULL THEN rate_pending ELSE rate_pending || NEW.now END
        WHERE key_id = NEW.key_id
            AND (credits_remaining IS NULL OR (credits_remaining > 0 AND credits_remaining >= NEW.cost))
            AND (refill_period IS NULL OR refilled_at >=
                CASE refill_period WHEN 'week' THEN NEW.week WHEN 'month' THEN NEW.month ELSE NEW.day END)
            AND (rate_limit IS NULL OR (length(rate_pending) < {_WIDTH} * min({_CAP}, rate_limit - 1)
                AND NOT EXISTS (
                    SELECT 1 FROM key_rate_hits h WHERE h.key_id = NEW.key_id
                        AND h.slot = (key_limits.rate_next + length(key_limits.rate_pending) / {_WIDTH})
                            % key_limits.rate_limit
                        AND h.at > datetime(NEW.now_s, printf('-%d seconds', key_limits.rate_period_s))
                            || NEW.now_fraction)));
    END
    """,
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

#: The starts of the refill periods `now` falls in, by day (the same all day: computed once a day).
_STARTS: dict[date, tuple[str, str, str]] = {}


def prepare(conn: sqlite3.Connection) -> None:
    """The TEMP view and trigger on this connection (once; cheap to ask again)."""
    for statement in _CREATE:
        conn.execute(statement)


def let_through(conn: sqlite3.Connection, write: Write, key_id: int, cost: int, now: datetime) -> bool:
    """Whether TAKE let the verify through, with `write` (one statement, its own write transaction). When it did
    not, the key's pending verifies (if any: at their most, the usual reason) are moved into its ring in one
    statement, and TAKE tried once more; False: the caller takes the full way."""
    taking = parameters(key_id, cost, now)
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


def parameters(key_id: int, cost: int, now: datetime) -> tuple[object, ...]:
    """TAKE's parameters: times as SQLite holds them here (naive UTC text, microseconds)."""
    if now.tzinfo is not UTC:
        now = now.astimezone(UTC)
    text = now.replace(tzinfo=None).isoformat(" ", "microseconds")
    day = now.date()
    starts = _STARTS.get(day)
    if starts is None:
        midnight = datetime(day.year, day.month, day.day)
        week = midnight - timedelta(days=midnight.weekday())
        month = midnight.replace(day=1)
        starts = (_text(midnight), _text(week), _text(month))
        if len(_STARTS) > 8:
            _STARTS.clear()
        _STARTS[day] = starts
    return (key_id, cost, text, text[:19], text[19:], *starts)


def _text(naive: datetime) -> str:
    return naive.isoformat(" ", "microseconds")
