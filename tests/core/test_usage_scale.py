"""Issue 25 item 5: the charts' store calls stay fast at a million keys and a hundred million counted verifies.

Every key's series reads the hourly roll-up and "most used keys" the day roll-up (migration 0012), both kept
exact and at once by triggers on key_usage, whoever writes or removes its rows; top_keys stops reading as soon
as no other key can reach the top. Checked here against summing every row, on both backends.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.core.clock import FixedClock
from desktop.core.store import KeyStore
from desktop.core.usage_report import KeyUse, UsagePeriod, window
from desktop.core.values import NewKey
from tests.backends import execute, is_server
from tests.helpers import sqlite_plan

#: Not at midnight: every window has partial days at its ends.
NOW = datetime(2026, 5, 20, 13, 25, tzinfo=UTC)

Row = tuple[int, datetime, str, int]


@pytest.fixture
def store(database: str) -> Iterator[KeyStore]:
    with KeyStore.open(database, FixedClock(NOW), create=True) as opened:
        yield opened


def _keys(store: KeyStore, count: int) -> list[int]:
    before = store.last_key_id()
    store.insert_many([NewKey(f"k{i}", NOW - timedelta(days=60)) for i in range(count)])
    return store.key_ids_after(before)


def _brute_top(rows: list[Row], period: UsagePeriod, limit: int) -> list[KeyUse]:
    start, end = window(period, NOW)
    total: Counter[int] = Counter()
    valid: Counter[int] = Counter()
    for key_id, hour, verdict, count in rows:
        if start <= hour < end:
            total[key_id] += count
            valid[key_id] += count if verdict == "valid" else 0
    ranked = sorted(total, key=lambda k: (-total[k], k))
    return [KeyUse(k, total[k], valid[k]) for k in ranked[:limit]]


def _rollups_match_rows(database: str) -> None:
    """The roll-ups hold exactly the sums of key_usage's rows."""
    day = "date_trunc('day', hour)" if is_server(database) else "substr(hour, 1, 10)"
    rolled_day = "day" if is_server(database) else "substr(day, 1, 10)"
    hours = "SELECT hour, verdict, sum(count) FROM {} GROUP BY hour, verdict HAVING sum(count) <> 0 ORDER BY 1, 2"
    assert execute(database, hours.format("usage_hours")) == execute(database, hours.format("key_usage"))
    days = "SELECT key_id, {0}, sum(count), sum({1}) FROM {2} GROUP BY key_id, {0} HAVING sum(count) <> 0 ORDER BY 1, 2"
    valid = "CASE WHEN verdict = 'valid' THEN count ELSE 0 END"
    assert execute(database, days.format(rolled_day, "valid", "key_usage_days")) == execute(
        database, days.format(day, valid, "key_usage")
    )


def test_the_roll_ups_are_the_counts_summed_at_once_through_flush_roll_up_and_removal(
    store: KeyStore, database: str
) -> None:
    created = store.create("counted")
    other = store.create("other")
    for _ in range(3):
        store.verify(created.key)
    store.check(created.key, ["missing"])
    store.verify(other.key)
    store.flush_usage()
    store.add_usage_history([(created.record.id, NOW - timedelta(hours=30), "valid", 5)])
    store.add_usage_history([(created.record.id, NOW - timedelta(hours=30), "rate_limited", 2)])
    if is_server(database):  # the SQL verify's own append counts at once too (in the server's hour, not NOW's)
        execute(database, "SELECT apikeys_verify(:k)", {"k": other.key})
        assert sum(u.count for u in store.usage(other.record.id)) == 2  # read with the tail (migration 0013)
        assert store.database.roll_up_tail() == 1  # what a flush does: into key_usage, and so the roll-ups
        assert execute(database, "SELECT sum(count) FROM usage_hours WHERE hour > :t", {"t": NOW}) == [(1,)]
    _rollups_match_rows(database)
    month = store.usage_series(None, UsagePeriod.MONTH)
    assert month.total == 3 + 1 + 1 + 5 + 2
    # The hourly roll-up of the app's rows (a row of sums in, the rows summed out) changes no sum.
    store.database.roll_up_usage(NOW - timedelta(days=3), NOW + timedelta(hours=1))
    _rollups_match_rows(database)
    assert store.usage_series(None, UsagePeriod.MONTH) == month
    assert store.top_keys(UsagePeriod.MONTH)[0] == KeyUse(created.record.id, 11, 8)
    # Removing a key's counts takes them off the roll-ups.
    store.delete_usage([created.record.id])
    _rollups_match_rows(database)
    assert store.usage_series(None, UsagePeriod.MONTH).total == month.total - 11
    assert [u.key_id for u in store.top_keys(UsagePeriod.MONTH)] == [other.record.id]


def test_top_keys_is_exact_against_summing_every_row(store: KeyStore) -> None:
    """Skewed use, a flat crowd that forces every day's list to be read deeper, ties, and keys used only just
    inside or just outside each window's ends."""
    rng = random.Random(25)
    ids = _keys(store, 260)
    current = NOW.replace(minute=0)
    rows: list[Row] = []
    for rank, key_id in enumerate(ids[:40]):  # skewed, every few hours over 32 days
        for h in range(0, 32 * 24, rng.choice((1, 3, 7))):
            rows.append(
                (key_id, current - timedelta(hours=h), rng.choice(("valid", "valid", "expired")), 400 // (rank + 1) + 1)
            )
    for key_id in ids[40:240]:  # a flat crowd: the same count, one a day, deeper than the first read of a list
        for d in range(32):
            rows.append((key_id, current - timedelta(days=d, hours=5), "valid", 3))
    edges = ids[240:]
    for period in UsagePeriod:
        start, end = window(period, NOW)
        rows.append((edges[0], start, "valid", 900))  # just inside the start
        rows.append((edges[1], start - timedelta(hours=1), "valid", 5000))  # just outside it
        rows.append((edges[2], end - timedelta(hours=1), "valid", 700))  # the current hour
        rows.append((edges[3], start + timedelta(hours=1), "forbidden", 700))  # ties with edges[2]
    counted: dict[tuple[int, datetime, str], int] = {}
    for key_id, hour, verdict, count in rows:
        counted[key_id, hour, verdict] = counted.get((key_id, hour, verdict), 0) + count
    merged = [(k, h, v, c) for (k, h, v), c in counted.items()]
    for first in range(0, len(merged), 5000):
        store.add_usage_history(merged[first : first + 5000])
    for period in UsagePeriod:
        for limit in (1, 3, 10, 45, 300):
            assert store.top_keys(period, limit) == _brute_top(merged, period, limit), (period, limit)


def test_every_key_s_series_and_top_keys_do_not_read_every_key_s_rows(db_path: Path) -> None:
    """The plans: the all-keys series and "most used keys" never range over key_usage by hour alone (every key's
    rows of the month); they read the roll-ups, and key_usage only by key."""
    from sqlalchemy import event

    with KeyStore.open(str(db_path), FixedClock(NOW), create=True) as store:
        ids = _keys(store, 30)
        store.add_usage_history(
            [(k, NOW - timedelta(hours=h), "valid", 1 + k % 7) for k in ids for h in range(0, 24 * 31, 5)]
        )
        with store.database.read() as conn:
            conn.exec_driver_sql("ANALYZE")
        seen: list[tuple[str, object]] = []

        def record(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                seen.append((statement, parameters))

        event.listen(store.database.engine, "before_cursor_execute", record)
        try:
            for period in UsagePeriod:
                store.usage_series(None, period)
                store.top_keys(period)
                store.usage_series(ids[3], period)
        finally:
            event.remove(store.database.engine, "before_cursor_execute", record)
    plans = [sqlite_plan(db_path, sql, params) for sql, params in seen if "usage" in sql]  # type: ignore[arg-type]
    assert any("usage_hours" in plan for plan in plans) and any("key_usage_days" in plan for plan in plans)
    for plan in plans:
        for step in plan.split(" | "):
            assert not re.search(r"\bSCAN (key_usage|key_usage_days|usage_hours)\b", step), plan
            if re.search(r"\bkey_usage\b(?!_)", step):
                assert re.search(r"INDEX ix_key_usage_key_id_hour \(key_id=\?", step), plan


@pytest.mark.empty_database
def test_migration_0012_sums_what_was_counted_and_downgrades(database: str) -> None:
    from tests.revisions import downgrade_to, upgrade_to

    upgrade_to(database, "0010")
    execute(
        database,
        "INSERT INTO api_keys (digest, hint, description, created_at, active, scopes, limited) "
        "VALUES (:d, 'abcd1234', 'old', :t, :a, '', :f)",
        {"d": b"\x01" * 32, "t": NOW.replace(tzinfo=None) - timedelta(days=9), "a": True, "f": False},
    )
    hour = (NOW - timedelta(hours=2)).replace(minute=0, tzinfo=None)
    for verdict, count in (("valid", 4), ("valid", 3), ("expired", 2)):
        execute(
            database,
            "INSERT INTO key_usage (key_id, hour, verdict, count) VALUES (1, :h, :v, :c)",
            {"h": hour, "v": verdict, "c": count},
        )
    with KeyStore.open(database, FixedClock(NOW)) as store:  # brought to 0012 on opening
        assert store.usage_series(None, UsagePeriod.DAY).total == 9
        assert store.top_keys(UsagePeriod.DAY) == [KeyUse(1, 9, 7)]
    _rollups_match_rows(database)
    downgrade_to(database, "0010")
    tables = "SELECT count(*) FROM {} WHERE {} IN ('usage_hours', 'key_usage_days')"
    if is_server(database):
        assert execute(database, tables.format("pg_tables", "tablename")) == [(0,)]
        functions = "SELECT count(*) FROM pg_proc WHERE proname IN ('apikeys_usage_added', 'apikeys_usage_removed')"
        assert execute(database, functions) == [(0,)]
    else:
        assert execute(database, tables.format("sqlite_master", "name")) == [(0,)]
        assert execute(
            database, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'key_usage_%'"
        ) == [(0,)]
    execute(database, "INSERT INTO key_usage (key_id, hour, verdict, count) VALUES (1, :h, 'valid', 1)", {"h": hour})
    with KeyStore.open(database, FixedClock(NOW)) as store:  # and up again, counting what 0010 added meanwhile
        assert store.usage_series(None, UsagePeriod.DAY).total == 10
    _rollups_match_rows(database)
