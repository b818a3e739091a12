"""The `usage` rows (issue 25.5): what a key's details and View ▸ Usage read, at a million keys and a hundred million
counted verifies, on SQLite and on PostgreSQL.

The database is built once with `apikeys seed --count N --usage 100·N` (its own file and server database: the
other rows' database has no usage) and reused. Each row is a store call (median of the repeats) against the raw
SQL of the same aggregation in raw sqlite3 / psycopg on the same database: every key's rows of the period summed
(for the busiest key's chart, its own rows), measured once (seconds at a million keys). The target is a frame
budget and a share of that floor. The note gives the statements the store ran, timed in the raw driver too
(interleaved with ours): what the store adds to its own SQL.
"""

from __future__ import annotations

import functools
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.core.store import KeyStore
from desktop.core.usage_report import UsagePeriod, window
from tests.benchmarks import core_bench

#: Counted verifies per key in the benchmark database (a million keys: a hundred million).
USAGE_PER_KEY = 100
#: The frame budget of a chart's data: read within it, the window paints in the next frame.
BUDGET_MS = 100.0

_PERIODS = {UsagePeriod.MONTH: "30 days", UsagePeriod.WEEK: "7 days", UsagePeriod.DAY: "24 hours"}
#: Every row this module reports on one backend (the small-size test checks them all).
ROW_NAMES = (
    *(f"usage chart, all keys ({w})" for w in _PERIODS.values()),
    "usage chart, busiest key (30 days)",
    *(f"most used keys ({w})" for w in _PERIODS.values()),
)
PG_ROW_NAMES = tuple(f"pg {name}" for name in ROW_NAMES)

Statement = tuple[str, Any]


def _seed(database: str, keys: int) -> None:
    print(
        f"seeding {keys:,} keys and {keys * USAGE_PER_KEY:,} counted verifies into {database} (once; reused)",
        file=sys.stderr,
    )
    command = [sys.executable, "-m", "desktop", "seed", "--count", str(keys), "--usage", str(keys * USAGE_PER_KEY)]
    subprocess.run([*command, "--database", database], check=True, cwd=core_bench.REPO)


def _complete(database: str, keys: int) -> bool:
    try:
        with KeyStore.open(database) as store:
            return store.count() >= keys and store.usage_series(None, UsagePeriod.DAY).total > 0
    except Exception:  # no database yet, or an interrupted build
        return False


def ensure_usage_seeded(database: Path, keys: int) -> None:
    if not _complete(str(database), keys):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        _seed(str(database), keys)


def _caught(store: KeyStore, call: Callable[[], object]) -> list[Statement]:
    """The statements `call` runs, as SQLAlchemy hands them to the driver (the floor runs them again)."""
    from sqlalchemy import event

    seen: list[Statement] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(store.database.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(store.database.engine, "before_cursor_execute", record)
    return seen


def _calls(store: KeyStore) -> list[tuple[str, Callable[[], object], str, int]]:
    """Each row's name, store call, what it calls (for the note) and the key it is about (0: every key)."""
    busiest = store.top_keys(UsagePeriod.MONTH, 1)
    key_id = busiest[0].key_id if busiest else 1
    calls: list[tuple[str, Callable[[], object], str, int]] = []
    for period, words in _PERIODS.items():
        series = f"usage_series(None, {period.name})"
        calls.append((f"usage chart, all keys ({words})", lambda p=period: store.usage_series(None, p), series, 0))  # type: ignore[misc]
    one = f"usage_series(#{key_id}, MONTH)"
    calls.append(
        ("usage chart, busiest key (30 days)", lambda: store.usage_series(key_id, UsagePeriod.MONTH), one, key_id)
    )
    for period, words in _PERIODS.items():
        calls.append((f"most used keys ({words})", lambda p=period: store.top_keys(p), f"top_keys({period.name})", 0))  # type: ignore[misc]
    return calls


#: The raw SQL of each row's aggregation without the roll-ups: every key's rows in the period summed (the busiest
#: key's row: its own, which is what the store reads anyway). `{0}` and `{1}`: the period's bounds; `{2}`: the key.
_NAIVE = {
    "usage chart, all keys": "SELECT hour, verdict, sum(count) FROM key_usage WHERE hour >= {0} AND hour < {1} "
    "GROUP BY hour, verdict",
    "usage chart, busiest key": "SELECT hour, verdict, sum(count) FROM key_usage WHERE key_id = {2} "
    "AND hour >= {0} AND hour < {1} GROUP BY hour, verdict",
    "most used keys": "SELECT key_id, sum(count), sum(CASE WHEN verdict = 'valid' THEN count ELSE 0 END) "
    "FROM key_usage WHERE hour >= {0} AND hour < {1} GROUP BY key_id ORDER BY 2 DESC, key_id LIMIT 10",
}
#: Ours at most this share of the aggregation without roll-ups (the busiest key's chart: this many times its own).
SHARE = 0.1
KEY_RATIO = 2.0


def _rows(
    store: KeyStore,
    run: Callable[[list[Statement]], object],
    naive: Callable[[str, UsagePeriod, int], float],
    prefix: str,
    repeats: int,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    periods = {words: period for period, words in _PERIODS.items()}
    for name, call, what, key_id in _calls(store):
        statements = _caught(store, call)
        ours, same = core_bench.interleaved_per_call(call, lambda s=statements: run(s), 3, repeats)  # type: ignore[misc]
        kind, _, words = name.partition(" (")
        period = periods[words.rstrip(")")]
        if key_id:  # one key's rows: milliseconds, so timed interleaved with ours like every other floor
            own = functools.partial(naive, _NAIVE[kind], period, key_id)
            ours, floor = core_bench.interleaved_per_call(call, own, 3, repeats)
        else:  # seconds at a million keys: once, not interleaved (ours is milliseconds either side of it)
            floor = naive(_NAIVE[kind], period, key_id)
        ratio = ours / floor
        limit = KEY_RATIO if kind == "usage chart, busiest key" else SHARE
        driver = "psycopg" if prefix else "sqlite3"
        rows.append(
            {
                "row": prefix + name,
                "ours": ours * 1000,
                "floor": floor * 1000,
                "unit": "ms",
                "ratio": ratio,
                "target": f"< {BUDGET_MS:g} ms, ≤ {limit:g}×",
                "passed": ratio <= limit and ours * 1000 < BUDGET_MS,
                "note": f"store.{what} vs raw {driver} summing key_usage (once); the {len(statements)} "
                f"statement(s) the store ran, in raw {driver}: {same * 1000:.2f} ms",
            }
        )
    return rows


def _bounds(period: UsagePeriod, server: bool) -> list[str]:
    spec = "seconds" if server else "microseconds"
    return [f"'{m.replace(tzinfo=None).isoformat(sep=' ', timespec=spec)}'" for m in window(period, store_now())]


def _on(con: Any, server: bool) -> tuple[Callable[[list[Statement]], object], Callable[[str, UsagePeriod, int], float]]:
    """On one connection (sqlite3's or psycopg's): the store's statements run as captured, and a naive sum timed."""

    def run(statements: list[Statement]) -> object:
        return [con.execute(sql, params).fetchall() for sql, params in statements]

    def naive(sql: str, period: UsagePeriod, key_id: int) -> float:
        began = time.perf_counter()
        con.execute(sql.format(*_bounds(period, server), key_id)).fetchall()
        return time.perf_counter() - began

    return run, naive


def usage_rows(workdir: Path, keys: int, repeats: int) -> list[dict[str, Any]]:
    """The SQLite rows, on workdir/usage-<keys>.db."""
    database = workdir / f"usage-{keys}.db"
    ensure_usage_seeded(database, keys)
    con = sqlite3.connect(database)
    try:
        run, naive = _on(con, server=False)
        with KeyStore.open(str(database)) as store:
            return _rows(store, run, naive, "", repeats)
    finally:
        con.close()


def pg_usage_rows(folder: Path, keys: int, repeats: int) -> list[dict[str, Any]]:
    """The PostgreSQL rows, on database usage_<keys> of the benchmark's cluster (PgUnavailable without one)."""
    from tests.benchmarks import pg_bench

    with pg_bench.running_cluster(folder) as cluster:
        name = f"usage_{keys}"
        url = cluster.url(name)
        if not pg_bench._has_database(cluster, name) or not _complete(url, keys):
            url = pg_bench._fresh_database(cluster, name)
            _seed(url, keys)
            with pg_bench.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        with pg_bench.connect(url, autocommit=True) as con:
            run, naive = _on(con, server=True)
            with KeyStore.open(url) as store:
                return _rows(store, run, naive, "pg ", repeats)


def store_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
