"""Rate limits and credits where the app applies them itself (SQLite, and SQLAlchemy's other backends); on
PostgreSQL `apikeys_consume` (desktop/core/migrations/pg_0010.py) does the same in the server.

The rate is an exact sliding window kept as a ring: a key limited to N verifies per period has N slots
(`key_rate_hits`), written in turn with the time of each valid verify. The slot to write next holds the oldest
of the last N: while that time is still inside the window, N valid verifies already fell in it, and the verify
is `rate_limited` until that time leaves it. One row read and one written per verify, whatever N, and never
more than N in any window (a fixed window lets 2N through around its edge; a token bucket or GCRA lets a burst
on top of the steady rate). Everything runs in the caller's write transaction, which holds the database's (or
the key's) lock from its first read: concurrent processes take one after another.

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


def time_text(value: datetime) -> str:
    """How SQLite stores a time here (naive UTC text, as SQLAlchemy writes it)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def period_start(period: str, now: datetime) -> datetime:
    """The start of the refill period `now` falls in: midnight UTC, Monday's for a week, the 1st's for a month."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def take(execute: Execute, key_id: int, cost: int, now: datetime) -> Taken:
    """Apply the key's limits to one otherwise valid verify, in the caller's write transaction."""
    rows = execute(
        "SELECT rate_limit, rate_period_s, rate_next, credits_remaining, refill_amount, refill_period, refilled_at "
        "FROM key_limits WHERE key_id = ?",
        (key_id,),
    )
    if not rows:
        return _UNLIMITED  # limits cleared since the lookup
    rate, period_s, slot, credits, refill, refill_period, refilled_at = rows[0]
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
    hit: Sequence[Sequence[Any]] = ()
    if rate is not None:
        hit = execute("SELECT at FROM key_rate_hits WHERE key_id = ? AND slot = ?", (key_id, slot))
        oldest = utc_time(hit[0][0]) if hit else None
        if oldest is not None and oldest > now - period:
            return Taken(Verdict.RATE_LIMITED, credits, RateLimitState(rate, 0, oldest + period))
    if credits is not None and (credits <= 0 or credits < cost):
        verdict = Verdict.USAGE_EXCEEDED
    else:
        verdict = Verdict.VALID
        if credits is not None:
            credits -= cost
        if rate is not None:  # the slot read above: overwritten, or written the first time round the ring
            execute(
                "UPDATE key_rate_hits SET at = ? WHERE key_id = ? AND slot = ?"
                if hit
                else "INSERT INTO key_rate_hits (at, key_id, slot) VALUES (?, ?, ?)",
                (time_text(now), key_id, slot),
            )
        next_slot = 0 if rate is None else (slot + 1) % rate
        execute(
            "UPDATE key_limits SET credits_remaining = ?, rate_next = ? WHERE key_id = ?", (credits, next_slot, key_id)
        )
    if rate is None:
        return Taken(verdict, credits)
    # The oldest verify still in the window, by index: the ones in it run from its slot to the newest, in turn.
    oldest_in = execute(
        "SELECT slot, at FROM key_rate_hits WHERE key_id = ? AND at > ? ORDER BY at LIMIT 1",
        (key_id, time_text(now - period)),
    )
    if not oldest_in:
        return Taken(verdict, credits, RateLimitState(rate, rate, now + period))
    newest = (slot if verdict is Verdict.VALID else slot - 1) % rate
    in_window = (newest - oldest_in[0][0]) % rate + 1
    first = utc_time(oldest_in[0][1]) or now
    return Taken(verdict, credits, RateLimitState(rate, max(rate - in_window, 0), first + period))


def taken(row: Sequence[Any] | None) -> Taken:
    """`apikeys_consume`'s row (verdict, remaining, rate_limit, rate_remaining, reset) as a Taken."""
    if row is None:
        return _UNLIMITED
    verdict, remaining, rate, rate_remaining, reset = row
    state = None if rate is None else RateLimitState(rate, rate_remaining, reset.replace(tzinfo=UTC))
    return Taken(Verdict(verdict), remaining, state)
