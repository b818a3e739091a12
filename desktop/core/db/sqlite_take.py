"""A limited key's verify on SQLite in one statement, when its answer is `valid` and no one asks what is left.

desktop.core.db.limits.take reads the key's limits, decides, writes the rate log's slot, finds the oldest verify
still in the window (for `ratelimit`) and writes the limits back: six statements between BEGIN IMMEDIATE and
COMMIT, each a round trip through sqlite3. verify() reports only the verdict, so the usual case, a verify the
limits let through, is one INSERT into a TEMP view of each of our connections, whose INSTEAD OF trigger does the
same writes as the valid branch of limits.take:

- a key whose rate is above limits.PENDING_CAP (migration 0015): only its `key_limits` row, one page: the
  credits taken and this verify's time appended to `rate_pending`, while fewer than PENDING_CAP wait there. With
  b pending, the N-th most recent verify is the ring's (N - b)-th most recent, in slot (rate_next + b) % N;
- any other limited key: `key_limits`, the credits taken, the ring's next slot moved on, and `rate_first` moved
  past the slot written when it pointed at it (it stays at or before the oldest verify in the window; check()
  steps it on from there); and `key_rate_hits`: the slot written with this verify's time (two pages);

only when the limits let it through: credits left (more than 0, at least `cost`), no refill due (refilled at or
after the start of its period), and the slot of the N-th most recent verify empty or out of the window (the
sliding window's test: N verifies in the last period). With PENDING_CAP pending it changes nothing: the full
way (limits.take) moves them into the ring first (limits.flush), as many verifies writing one by one would have,
then decides; so does every check() and every change of the rate, and no reader ever sees the pending ones
uncounted. A single statement is its own write transaction (no other process writes between
its reads and its writes; committed before it returns, so no answer before the commit). When it changed nothing,
the caller takes the full way (limits.take), which gives the exact verdict: rate limited, usage exceeded, refill.

The view and trigger are TEMP: they belong to the connection that made them, change nothing in the file and are
seen by no other program or older version.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

from desktop.core.db import limits

#: The statement: (key id, cost, now, now's whole seconds, now's fraction, the day's, week's and month's start).
TAKE = "INSERT INTO apikeys_take VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

_BUFFERED = f"rate_limit > {limits.PENDING_CAP}"  # a key whose let-through verifies wait in `rate_pending`

_CREATE = (
    "CREATE TEMP VIEW IF NOT EXISTS apikeys_take (key_id, cost, now, now_s, now_fraction, day, week, month) AS "
    "SELECT 0, 0, '', '', '', '', '', '' WHERE 0",
    # The slot read in the UPDATE's WHERE holds the N-th most recent verify, the pending ones counted: the ring's
    # (N - b)-th most recent, b verifies pending. A big rate's verify only joins the pending ones (while fewer than
    # PENDING_CAP); a small rate's (never any pending) writes that slot, the one before the moved `rate_next`.
    # changes(): the UPDATE's own count, 1 when the verify was let through.
    f"""
    CREATE TEMP TRIGGER IF NOT EXISTS apikeys_take_valid INSTEAD OF INSERT ON apikeys_take BEGIN
        UPDATE key_limits SET
            credits_remaining = credits_remaining - NEW.cost,
            rate_pending = CASE WHEN {_BUFFERED} THEN rate_pending || NEW.now ELSE rate_pending END,
            rate_next = CASE WHEN rate_limit IS NULL OR {_BUFFERED} THEN rate_next
                ELSE (rate_next + 1) % rate_limit END,
            rate_first = CASE
                WHEN rate_limit IS NULL OR {_BUFFERED} THEN rate_first
                WHEN rate_first = rate_next OR rate_first < 0 OR rate_first >= rate_limit
                    THEN (rate_next + 1) % rate_limit
                ELSE rate_first END
        WHERE key_id = NEW.key_id
            AND (credits_remaining IS NULL OR (credits_remaining > 0 AND credits_remaining >= NEW.cost))
            AND (refill_period IS NULL OR refilled_at >=
                CASE refill_period WHEN 'week' THEN NEW.week WHEN 'month' THEN NEW.month ELSE NEW.day END)
            AND (rate_limit IS NULL OR (length(rate_pending) < {limits.PENDING_CAP * limits.PENDING_WIDTH}
                AND NOT EXISTS (
                    SELECT 1 FROM key_rate_hits h WHERE h.key_id = NEW.key_id
                        AND h.slot = (key_limits.rate_next + length(key_limits.rate_pending) / {limits.PENDING_WIDTH})
                            % key_limits.rate_limit
                        AND h.at > datetime(NEW.now_s, printf('-%d seconds', key_limits.rate_period_s))
                            || NEW.now_fraction)));
        INSERT INTO key_rate_hits (key_id, slot, at)
            SELECT key_id, (rate_next + rate_limit - 1) % rate_limit, NEW.now FROM key_limits
            WHERE changes() = 1 AND key_id = NEW.key_id AND rate_limit IS NOT NULL AND NOT {_BUFFERED}
            ON CONFLICT (key_id, slot) DO UPDATE SET at = excluded.at;
    END
    """,
)

#: The starts of the refill periods `now` falls in, by day (the same all day: computed once a day).
_STARTS: dict[date, tuple[str, str, str]] = {}


def prepare(conn: sqlite3.Connection) -> None:
    """The TEMP view and trigger on this connection (once; cheap to ask again)."""
    for statement in _CREATE:
        conn.execute(statement)


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
