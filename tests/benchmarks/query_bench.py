"""The `query` rows: search, filters and orders at a million keys, and migration 0004's time.

Run on a copy of the benchmark database (20 keys with a rare description are added to it, so a rare term has
something to find); the migration is timed on another copy brought back to revision 0003 by 0004's downgrade.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from desktop.core.query import Filter, Query, Sort
from desktop.core.store import KeyStore
from desktop.core.values import NewKey
from tests.benchmarks.core_bench import interleaved_per_call, median_per_call

PAGE = 25
RARE = "Zanzibar"
COMMON = "Billing"
FRAME_MS = 1000 / 60


#: Each status filter newest first, each order unfiltered, and two combinations.
CASES = (
    *(Query(status=status) for status in (Filter.ACTIVE, Filter.INACTIVE, Filter.EXPIRED, Filter.UNUSED)),
    *(Query(sort=sort) for sort in Sort),
    Query(status=Filter.ACTIVE, sort=Sort.EXPIRES),
    Query(COMMON, sort=Sort.DESCRIPTION),
)


def _name(query: Query) -> str:
    parts = [part for part in ("search" if query.search else "", query.status or "") if part]
    if query.sort is not Sort.CREATED or not parts:
        parts.append(query.sort)
    return f"{'/'.join(parts)}: last page / second"


#: Every row this module reports (the small-size test checks them all).
ROW_NAMES = (
    "search rare term, first page",
    "search common term, first page",
    *(_name(query) for query in CASES),
    "migration 0004",
)


def _copy(database: Path, name: str) -> Path:
    target = database.with_name(name)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    # The source's WAL emptied into it first, so the copy is whole.
    con = sqlite3.connect(database)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    shutil.copyfile(database, target)
    target.chmod(0o600)
    return target


def _scan(con: sqlite3.Connection, term: str) -> object:
    """The floor: what a search costs without an index, a LIKE over every description (a full scan)."""
    return con.execute("SELECT count(*) FROM api_keys WHERE description LIKE ?", (f"%{term}%",)).fetchall()


def query_rows(database: Path, repeats: int) -> list[dict[str, Any]]:
    copy = _copy(database, "keys-query.db")
    rows: list[dict[str, Any]] = []
    with KeyStore.open(str(copy)) as store:
        now = datetime.now(UTC)
        if not list(store.find(Query(RARE), limit=1)):
            store.insert_many([NewKey(f"{RARE} gateway {i}", now - timedelta(days=i * 18)) for i in range(20)])
        con = sqlite3.connect(copy)
        try:
            for label, term in (("rare", RARE), ("common", COMMON)):
                query = Query(term)
                ours, floor = interleaved_per_call(
                    lambda q=query: store.query_page(q, PAGE),  # type: ignore[misc]
                    lambda t=term: _scan(con, t),  # type: ignore[misc]
                    3,
                    repeats,
                )
                rows.append(
                    _row(
                        f"search {label} term, first page",
                        ours,
                        floor,
                        "≤ 0.1×",
                        ours / floor <= 0.1,
                        f"store.query_page(Query({term!r})), newest first, vs raw sqlite3 LIKE '%{term}%' on every row",
                    )
                )
        finally:
            con.close()
        for query in CASES:
            first_s = median_per_call(lambda q=query: store.query_page(q, PAGE), 5, repeats)  # type: ignore[misc]
            # The second and the last page, each as Next reaches it: after the key just before it (read once,
            # in setup). Both are the same statement at a different depth: flat means the same cost.
            head = list(store.find(query, limit=PAGE))
            tail = list(store.find(Query(query.search, query.status, query.sort, not query.reverse), limit=PAGE + 1))
            second, last = query.cursor(head[-1]), query.cursor(tail[-1])
            # Alternated run by run, as every floor is: a busy minute hits both pages alike.
            last_s, second_s = interleaved_per_call(
                lambda q=query, e=last: store.query_page(q, PAGE, after=e),  # type: ignore[misc]
                lambda q=query, e=second: store.query_page(q, PAGE, after=e),  # type: ignore[misc]
                20,  # about 20 ms a run: a sub-millisecond page timed 5 at a time swung by a quarter
                repeats,
            )
            ratio = last_s / second_s
            rows.append(
                _row(
                    _name(query),
                    last_s,
                    second_s,
                    f"≤ 1.2×, < {FRAME_MS:.1f} ms",
                    ratio <= 1.2 and max(first_s, second_s, last_s) * 1000 < FRAME_MS,
                    f"store.query_page: the last page vs the second (first page {first_s * 1000:.2f} ms)",
                    ratio=ratio,
                )
            )
    rows.append(migration_row(database))
    return rows


def migration_row(database: Path) -> dict[str, Any]:
    """Migration 0004 on the whole database, from a copy at 0003 (made by 0004's own downgrade)."""
    from alembic import command
    from alembic.config import Config

    from desktop.core.db import open_database
    from desktop.core.db.migrate import MIGRATIONS_DIR

    copy = _copy(database, "keys-0003.db")
    with KeyStore.open(str(copy)) as store:
        keys = store.count()
        with store.database.write() as conn:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
    start = time.perf_counter()
    open_database(str(copy)).dispose()  # opening migrates
    took = time.perf_counter() - start
    copy.unlink()
    return _row(
        "migration 0004",
        took,
        took,
        "≤ 120 s",
        took <= 120,
        f"open_database() upgrading {keys:,} keys from 0003: 7 sort indexes and the trigram search index",
        unit="s",
        ratio=1.0,
    )


def _row(
    name: str,
    ours_s: float,
    floor_s: float,
    target: str,
    passed: bool,
    note: str,
    *,
    unit: str = "ms",
    ratio: float | None = None,
) -> dict[str, Any]:
    scale = 1000 if unit == "ms" else 1
    return {
        "row": name,
        "ours": ours_s * scale,
        "floor": floor_s * scale,
        "unit": unit,
        "ratio": ours_s / floor_s if ratio is None else ratio,
        "target": target,
        "passed": passed,
        "note": note,
    }
