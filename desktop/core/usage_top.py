"""The keys used most in a window of hours, exactly, without summing every key's counts (KeyStore.top_keys).

At a million keys and a hundred million counted verifies, summing each key's rows of a month is seconds. The
day roll-up (`key_usage_days`, migration 0012) is read as one list per UTC day, busiest first, by index (the
threshold algorithm, Fagin et al.): the keys met near the top of any day are the candidates. Their totals on
the days the window touches (an upper bound, from the roll-up) order them; their exact totals in the window
(whole days from the roll-up, the hours at the window's ends from `key_usage`) are summed, likeliest first, only
while one of them could still reach the top.
A key met in no list has at most, on each day, STRIPES times the last value read from that day's list: when the
last of the top keys is above that sum, no other key can reach it and the answer is exact. Otherwise each list is
read deeper, until it is, or until every list is read to its end. Skewed use (a few keys get most) stops at the
first depth.
The SQL verify's counts not rolled up yet (`key_usage_tail`, migration 0013) are added to their keys' totals, and
those keys are candidates from the start: a key met in no list has no such counts, and the bound above holds.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from desktop.core import usage_rows
from desktop.core.usage_report import KeyUse

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

DAY = timedelta(days=1)
#: How deep each day's list is read first, per stripe (then four times deeper each time).
FIRST_DEPTH = 32
#: Candidate keys summed in one statement.
CHUNK = 500


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def top_keys(conn: Connection, start: datetime, end: datetime, limit: int, stripes: int) -> list[KeyUse]:
    """The `limit` keys with the most verifies in [start, end) (hours, UTC), most first, ties by lower id."""
    if limit <= 0:
        return []
    days = []
    day = _day(start)
    while day < end:
        days.append(day)
        day += DAY
    # The SQL verify's counts not rolled up yet (migration 0013): their keys are candidates from the start.
    tail = usage_rows.tail_totals(conn, start, end)
    exact: dict[int, KeyUse] = {}
    #: Keys met and not summed exactly yet, with their verifies on the days the window touches (at least those in
    #: the window): summed exactly only while one of them could still reach the top.
    upper: dict[int, int] = {}
    # Striped rows (PostgreSQL) weaken the bound by their number: read as much deeper at once.
    depth = FIRST_DEPTH * stripes
    while True:
        # Every day's list in one statement (a round trip each was most of the time).
        bound = 0
        fresh: set[int] = set()
        # Rows of two kinds: a key met in any list (n = -1), or a list's length and its last (lowest) count.
        if conn.dialect.name == "postgresql":  # one list statement run for each day (planned once, not 31 times)
            rows = conn.execute(_busiest_pg(), {"days": [_naive(d) for d in days], "depth": depth})
        else:
            params: dict[str, Any] = {f"d{n}": day for n, day in enumerate(days)}
            rows = conn.execute(_busiest(len(days)), {**params, "depth": depth})
        for key_id, n, length, lowest in rows:
            if int(n) < 0:
                if int(key_id) not in exact and int(key_id) not in upper:
                    fresh.add(int(key_id))
            elif int(length) == depth:
                bound += stripes * max(int(lowest), 0)
        fresh.update(k for k in tail if k not in exact and k not in upper)
        days_of = _day_totals(conn, sorted(fresh), days[0], days[-1] + DAY)
        upper.update((k, days_of.get(k, 0) + tail.get(k, (0, 0))[0]) for k in fresh)
        while upper:
            ranked = sorted((use for use in exact.values() if use.total > 0), key=lambda u: (-u.total, u.key_id))
            likeliest = sorted(upper, key=lambda k: (-upper[k], k))
            if len(ranked) >= limit and ranked[limit - 1].total > upper[likeliest[0]]:
                break  # no key met can reach the top any more
            batch = likeliest[: 2 * limit]
            summed = _totals(conn, batch, start, end)
            for key_id in batch:
                rolled = summed.get(key_id, KeyUse(key_id, 0, 0))
                extra, extra_valid = tail.get(key_id, (0, 0))
                exact[key_id] = KeyUse(key_id, rolled.total + extra, rolled.valid + extra_valid)
            for key_id in batch:
                del upper[key_id]
        ranked = sorted((use for use in exact.values() if use.total > 0), key=lambda u: (-u.total, u.key_id))
        finished = bound == 0 or (len(ranked) >= limit and ranked[limit - 1].total > bound)
        if finished:
            return ranked[:limit]
        depth *= 4


def _day_totals(conn: Connection, key_ids: Sequence[int], first: datetime, end: datetime) -> dict[int, int]:
    """The keys' verifies on the days [first, end) (from the roll-up)."""
    from sqlalchemy import func, select

    from desktop.core.models import KeyUsageDay

    totals: dict[int, int] = {}
    for at in range(0, len(key_ids), CHUNK):
        chunk = list(key_ids[at : at + CHUNK])
        query = (
            select(KeyUsageDay.key_id, func.sum(KeyUsageDay.count))
            .where(KeyUsageDay.key_id.in_(chunk), KeyUsageDay.day >= first, KeyUsageDay.day < end)
            .group_by(KeyUsageDay.key_id)
        )
        totals.update((int(k), int(c or 0)) for k, c in conn.execute(query))
    return totals


@functools.cache
def _busiest(days: int) -> Any:
    """The statement reading the first `:depth` keys of each of `days` days' lists (`:d0`, `:d1` …), busiest
    first; made once for each number of days."""
    from sqlalchemy import bindparam, text

    from desktop.core.models import UTCDateTime

    lists = " UNION ALL ".join(
        f"SELECT * FROM (SELECT key_id, count, {n} AS n FROM key_usage_days WHERE day = :d{n} "
        f"ORDER BY count DESC LIMIT :depth) AS l{n}"
        for n in range(days)
    )
    # The keys once each, and each list's length and lowest count: a few hundred rows back, not days × depth.
    statement = (
        f"WITH listed AS ({lists}) "
        "SELECT key_id, -1 AS n, 0 AS length, 0 AS lowest FROM listed GROUP BY key_id "
        "UNION ALL SELECT 0, n, count(*), min(count) FROM listed GROUP BY n"
    )
    return text(statement).bindparams(*(bindparam(f"d{n}", type_=UTCDateTime()) for n in range(days)))


def _naive(moment: datetime) -> datetime:
    from datetime import UTC

    return moment.astimezone(UTC).replace(tzinfo=None)


@functools.cache
def _busiest_pg() -> Any:
    """PostgreSQL: the same rows as _busiest, the days an array (`:days`): the app's connections plan every
    statement anew (plan_cache_mode=force_custom_plan), and a union of 31 lists cost more to plan than to run."""
    from sqlalchemy import text

    return text(
        "WITH listed AS (SELECT l.key_id, l.count, d.n FROM unnest(CAST(:days AS timestamp[])) WITH ORDINALITY "
        "AS d(day, n) CROSS JOIN LATERAL (SELECT key_id, count FROM key_usage_days WHERE day = d.day "
        "ORDER BY count DESC LIMIT :depth) AS l) "
        "SELECT key_id, -1 AS n, 0 AS length, 0 AS lowest FROM listed GROUP BY key_id "
        "UNION ALL SELECT 0, n, count(*), min(count) FROM listed GROUP BY n"
    )


def _totals(conn: Connection, key_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, KeyUse]:
    """The keys' verifies in [start, end): whole days from the roll-up, the hours at either end from key_usage."""
    from sqlalchemy import case, func, select

    from desktop.core.models import KeyUsage, KeyUsageDay

    first_whole = _day(start) if start == _day(start) else _day(start) + DAY
    end_whole = _day(end)
    if first_whole < end_whole:
        hours = [(start, first_whole), (end_whole, end)]
    else:
        first_whole = end_whole = start
        hours = [(start, end)]
    sums: dict[int, list[int]] = {}

    def add(rows: Iterable[Any]) -> None:
        for key_id, total, valid in rows:
            into = sums.setdefault(int(key_id), [0, 0])
            into[0] += int(total or 0)
            into[1] += int(valid or 0)

    for first in range(0, len(key_ids), CHUNK):
        chunk = list(key_ids[first : first + CHUNK])
        parts: list[Any] = []
        if first_whole < end_whole:
            parts.append(
                select(KeyUsageDay.key_id, func.sum(KeyUsageDay.count), func.sum(KeyUsageDay.valid))
                .where(KeyUsageDay.key_id.in_(chunk), KeyUsageDay.day >= first_whole, KeyUsageDay.day < end_whole)
                .group_by(KeyUsageDay.key_id)
            )
        valid = func.sum(case((KeyUsage.verdict == "valid", KeyUsage.count), else_=0))
        parts += [
            select(KeyUsage.key_id, func.sum(KeyUsage.count), valid)
            .where(KeyUsage.key_id.in_(chunk), KeyUsage.hour >= low, KeyUsage.hour < high)
            .group_by(KeyUsage.key_id)
            for low, high in hours
            if low < high
        ]
        for part in parts:  # apart: one union of them was slower on PostgreSQL
            add(conn.execute(part).all())
    return {k: KeyUse(k, total, valid) for k, (total, valid) in sums.items()}
