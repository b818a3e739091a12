"""Rate limits and credits where the app applies them itself (SQLite, and SQLAlchemy's other backends); on
PostgreSQL `apikeys_consume` (its `apikeys_limit_take`: migration 0011) does the same in the server.

The rate is an exact sliding window kept as a ring: a key limited to N verifies per period has N slots
(`key_rate_hits`), written in turn with the time of each valid verify. The slot to write next holds the oldest
of the last N: while that time is still inside the window, N valid verifies already fell in it, and the verify
is `rate_limited` until that time leaves it. One row read and one written per verify, whatever N, and never
more than N in any window (a fixed window lets 2N through around its edge; a token bucket or GCRA lets a burst
on top of the steady rate). What `ratelimit` reports (how many are left, when the oldest leaves the window)
needs the oldest slot still inside the window: `rate_first` points at or before it in ring order and moves on
as the window does, so finding it steps over each slot that left the window once, not over the whole ring each
time (migration 0011: an index on the times cost a verify two more pages written than the slot itself).
Everything runs in the caller's write transaction, which holds the database's (or the key's) lock from its
first read: concurrent processes take one after another.

On SQLite a let-through verify of a rate-limited key writes its time into `rate_pending` on the key's own
`key_limits` row (desktop.core.db.sqlite_take, migration 0015): one page written instead of two. take() first
moves those pending verifies into the ring (flush()) exactly as they would have been written, so everything it
decides and reports is read from a plain ring. PostgreSQL never fills `rate_pending`.

No SQLAlchemy here: the SQLite fast path runs it on a plain sqlite3 connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from desktop.core.db.rows import utc_time
from desktop.core.values import RateLimitState, Taken, Verdict

#: How long a limited key's verify waits for another writer before it fails (closed: DatabaseLocked). A limit
#: the database was too busy to count would be no limit; a service answers 503 "try again" instead.
WAIT_MS = 2000

#: Runs one statement (qmark parameters) and returns its rows.
Execute = Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]]

_UNLIMITED = Taken(Verdict.VALID)

#: The width of one pending verify's time in `rate_pending`: 'YYYY-MM-DD HH:MM:SS.ffffff' (time_text's form).
PENDING_WIDTH = 26
#: How many verifies at most wait in `rate_pending`: 32, or N - 1 for a rate of N below 33 (fewer than N: the
#: ring's slot for the N-th most recent verify is then never one of the pending ones'). 26 bytes of the row each.
PENDING_CAP = 32


def time_text(value: datetime) -> str:
    """How SQLite stores a time here (naive UTC text, as SQLAlchemy writes it). Formatted naive: an aware time's
    isoformat() formats its offset too (three times the work: a limited verify formats one), and isoformat is
    several times faster than strftime for the same text."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def period_start(period: str, now: datetime) -> datetime:
    """The start of the refill period `now` falls in: midnight UTC, Monday's for a week, the 1st's for a month."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


_READ = (
    "SELECT l.rate_limit, l.rate_period_s, l.rate_next, l.rate_first, l.credits_remaining, l.refill_amount, "
    "l.refill_period, l.refilled_at, h.at, l.rate_pending FROM key_limits l "
    "LEFT JOIN key_rate_hits h ON h.key_id = l.key_id AND h.slot = l.rate_next WHERE l.key_id = ?"
)
_FLUSHED = "UPDATE key_limits SET rate_next = ?, rate_first = ?, rate_pending = '' WHERE key_id = ?"
_OVERWRITE = "UPDATE key_rate_hits SET at = ? WHERE key_id = ? AND slot = ?"
_APPEND = "INSERT INTO key_rate_hits (at, key_id, slot) VALUES (?, ?, ?)"
#: The first slot in the window within a range of slots: a seek and a few steps of the primary key.
_OLDEST_IN_RANGE = (
    "SELECT slot, at FROM key_rate_hits WHERE key_id = ? AND slot BETWEEN ? AND ? AND at > ? ORDER BY slot LIMIT 1"
)


def take(execute: Execute, key_id: int, cost: int, now: datetime) -> Taken:
    """Apply the key's limits to one otherwise valid verify, in the caller's write transaction."""
    rows = execute(_READ, (key_id,))
    if rows and rows[0][9]:  # verifies pending (SQLite): into the ring first, then read as it is now
        flush(execute, key_id, rows[0][0], rows[0][2], rows[0][3], rows[0][9])
        rows = execute(_READ, (key_id,))
    if not rows:
        return _UNLIMITED  # limits cleared since the lookup
    rate, period_s, slot, first, credits, refill, refill_period, refilled_at, slot_at, _ = rows[0]
    if refill_period is not None:
        started = period_start(refill_period, now)
        last = utc_time(refilled_at)
        if last is None or last < started:
            credits = refill
            execute(
                "UPDATE key_limits SET credits_remaining = ?, refilled_at = ? WHERE key_id = ?",
                (credits, time_text(started), key_id),
            )
    period = timedelta(seconds=period_s or 0)
    if rate is not None:
        oldest = utc_time(slot_at)
        if oldest is not None and oldest > now - period:
            return Taken(Verdict.RATE_LIMITED, credits, RateLimitState(rate, 0, oldest + period))
    if credits is not None and (credits <= 0 or credits < cost):
        verdict = Verdict.USAGE_EXCEEDED
        newest = (slot - 1) % rate if rate is not None else 0
    else:
        verdict = Verdict.VALID
        if credits is not None:
            credits -= cost
        if rate is None:
            execute("UPDATE key_limits SET credits_remaining = ? WHERE key_id = ?", (credits, key_id))
            return Taken(verdict, credits)
        # The slot read above: overwritten, or written the first time round the ring.
        execute(_OVERWRITE if slot_at is not None else _APPEND, (time_text(now), key_id, slot))
        newest = slot
        if first == slot:  # it held the oldest verify: the oldest is now the next one's
            first = (slot + 1) % rate
    if rate is None:
        return Taken(verdict, credits)
    # The oldest verify still in the window: scanning the ring in slot order from `first` (never after it).
    if not 0 <= first < rate:
        first = (newest + 1) % rate
    # In ring order from `first` to the newest: to the ring's end and on from slot 0 when it wraps round.
    cutoff = time_text(now - period)
    wraps = first > newest
    found = execute(_OLDEST_IN_RANGE, (key_id, first, rate - 1 if wraps else newest, cutoff))
    if not found and wraps:
        found = execute(_OLDEST_IN_RANGE, (key_id, 0, newest, cutoff))
    if verdict is Verdict.VALID:
        execute(
            "UPDATE key_limits SET credits_remaining = ?, rate_next = ?, rate_first = ? WHERE key_id = ?",
            (credits, (slot + 1) % rate, found[0][0] if found else first, key_id),
        )
    if not found:
        return Taken(verdict, credits, RateLimitState(rate, rate, now + period))
    in_window = (newest - found[0][0]) % rate + 1
    first_at = utc_time(found[0][1]) or now
    return Taken(verdict, credits, RateLimitState(rate, max(rate - in_window, 0), first_at + period))


def pending_times(pending: str) -> list[str]:
    """The times in a `rate_pending` text, oldest first."""
    return [pending[i : i + PENDING_WIDTH] for i in range(0, len(pending), PENDING_WIDTH)]


def flush(execute: Execute, key_id: int, rate: int | None, slot: int, first: int, pending: str) -> None:
    """Move the key's pending verifies into its ring, in the caller's write transaction, as the same number of
    verifies let through one by one would have written them (desktop.core.db.sqlite_take's ring branch): each
    into the next slot, `rate_first` moved past a slot written when it pointed at it (or pointed outside the
    ring). `rate_pending` emptied."""
    written: dict[int, str] = {}
    if rate is not None:
        for at in pending_times(pending):
            written[slot] = at
            if first == slot or not 0 <= first < rate:
                first = (slot + 1) % rate
            slot = (slot + 1) % rate
    if written:  # one statement for them all (a later time in the same slot wins: never more than the rate)
        values = ", ".join(["(?, ?, ?)"] * len(written))
        execute(
            f"INSERT INTO key_rate_hits (key_id, slot, at) VALUES {values} "
            "ON CONFLICT (key_id, slot) DO UPDATE SET at = excluded.at",
            [v for s, at in written.items() for v in (key_id, s, at)],
        )
    execute(_FLUSHED, (slot, first, key_id))


def taken(row: Sequence[Any] | None) -> Taken:
    """`apikeys_consume`'s row (verdict, remaining, rate_limit, rate_remaining, reset) as a Taken."""
    if row is None:
        return _UNLIMITED
    verdict, remaining, rate, rate_remaining, reset = row
    state = None if rate is None else RateLimitState(rate, rate_remaining, reset.replace(tzinfo=UTC))
    return Taken(Verdict(verdict), remaining, state)
