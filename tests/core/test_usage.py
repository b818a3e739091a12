"""Issue 24 item 3: every verify counted per key, hour and verdict, on every path; a long-lived process writes its
counts in the background, not once per verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.core import keys
from desktop.core.clock import FixedClock
from desktop.core.errors import KeyNotFound
from desktop.core.store import KeyStore
from desktop.core.usage_report import KeyUse, Outcome, UsagePeriod
from desktop.core.values import Rate, UsageCount
from tests.backends import execute, is_server
from tests.helpers import REPO, run_cli


@pytest.fixture
def store(database: str) -> Iterator[KeyStore]:
    with KeyStore.open(database, create=True) as opened:
        yield opened


def totals(counts: list[UsageCount]) -> dict[tuple[int, str], int]:
    summed: dict[tuple[int, str], int] = {}
    for c in counts:
        summed[c.key_id, c.verdict] = summed.get((c.key_id, c.verdict), 0) + c.count
    return summed


def test_every_verdict_of_a_key_is_counted_and_keyless_ones_are_not(store: KeyStore) -> None:
    plain = store.create("plain", scopes=["a"])
    limited = store.create("limited", rate=Rate(1, 3600))
    for _ in range(3):
        store.verify(plain.key)
    store.check(plain.key, ["b"])
    store.check(limited.key)
    store.check(limited.key)
    store.verify(keys.generate())
    store.verify("ak_nonsense")
    store.set_active(plain.record.id, False)
    store.verify(plain.key)
    assert totals(store.usage()) == {
        (plain.record.id, "valid"): 3,
        (plain.record.id, "forbidden"): 1,
        (plain.record.id, "inactive"): 1,
        (limited.record.id, "valid"): 1,
        (limited.record.id, "rate_limited"): 1,
    }
    assert totals(store.usage(limited.record.id)) == {
        (limited.record.id, "valid"): 1,
        (limited.record.id, "rate_limited"): 1,
    }


def test_counts_fall_in_the_hour_of_the_verify(db_path: Path) -> None:
    clock = FixedClock(datetime(2026, 5, 1, 12, 59, 59, tzinfo=UTC))
    with KeyStore.open(str(db_path), clock=clock, create=True) as store:
        created = store.create("hourly")
        store.verify(created.key)
        clock.moment += timedelta(seconds=1)
        store.verify(created.key)
        store.verify(created.key)
        hours = [(c.hour, c.count) for c in store.usage()]
        assert hours == [(datetime(2026, 5, 1, 12, tzinfo=UTC), 1), (datetime(2026, 5, 1, 13, tzinfo=UTC), 2)]
        assert [c.count for c in store.usage(since=datetime(2026, 5, 1, 13, 30, tzinfo=UTC))] == [2]


def test_uses_summed_in_batches_keep_each_in_its_own_hour(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flush sums its uses a batch at a time, in C when a batch lies within one hour; a batch across an hour's end,
    or whose uses came in out of order (threads), still counts each use in its own hour."""
    monkeypatch.setattr("desktop.core.store_usage.SUM_BATCH", 3)
    clock = FixedClock(datetime(2026, 5, 1, 12, 59, 58, tzinfo=UTC))
    with KeyStore.open(str(db_path), clock=clock, create=True) as store:
        plain, other = store.create("plain"), store.create("other")
        store.set_active(other.record.id, False)
        for seconds, key in [(0, plain), (0, other), (0, plain), (3, plain), (1, plain), (4, other), (4, plain)]:
            clock.moment = datetime(2026, 5, 1, 12, 59, 58, tzinfo=UTC) + timedelta(seconds=seconds)
            store.verify(key.key)
        counts = {(c.key_id, c.hour.hour, c.verdict): c.count for c in store.usage()}
    assert counts == {
        (plain.record.id, 12, "valid"): 3,
        (plain.record.id, 13, "valid"): 2,
        (other.record.id, 12, "inactive"): 1,
        (other.record.id, 13, "inactive"): 1,
    }


def test_a_long_lived_process_writes_counts_in_the_background_not_per_verify(store: KeyStore, database: str) -> None:
    created = store.create("busy")
    for _ in range(50):
        store.verify(created.key)
    assert execute(database, "SELECT count(*) FROM key_usage") == [(0,)]  # nothing written per verify
    store.flush_usage()  # what the background thread does every USAGE_FLUSH_S
    assert execute(database, "SELECT count(*), sum(count) FROM key_usage") == [(1, 50)]


EXITS_WITHOUT_CLOSING = textwrap.dedent(
    """
    import sys
    from desktop.core.store import KeyStore
    store = KeyStore.open(sys.argv[1])
    for _ in range(7):
        store.verify(sys.argv[2])
    """
)


def test_a_process_that_exits_without_closing_its_store_writes_its_counts(store: KeyStore, database: str) -> None:
    created = store.create("script")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", EXITS_WITHOUT_CLOSING, database, created.key], env=env, timeout=120, check=False
    )
    assert done.returncode == 0
    assert totals(store.usage()) == {(created.record.id, "valid"): 7}


def test_the_sql_verify_counts_at_once(store: KeyStore, database: str) -> None:
    if not is_server(database):
        pytest.skip("apikeys_verify is PostgreSQL's")
    created = store.create("sql", credits=1)
    for _ in range(2):
        execute(database, "SELECT apikeys_verify(:k)", {"k": created.key})
    assert totals(store.usage()) == {(created.record.id, "valid"): 1, (created.record.id, "usage_exceeded"): 1}


def test_the_sql_verifys_tail_shows_in_every_read_before_and_after_its_roll_up(store: KeyStore, database: str) -> None:
    """apikeys_verify() appends to key_usage_tail only (migration 0013: no roll-up work in the call); every usage
    read adds that tail, so its counts show at once, and after a process's flush moved it into key_usage (and the
    roll-ups) the figures are the same and the tail is empty."""
    if not is_server(database):
        pytest.skip("apikeys_verify is PostgreSQL's")
    busy, quiet = store.create("sql busy"), store.create("sql quiet")
    store.set_active(quiet.record.id, False)
    for key, times in ((busy.key, 3), (quiet.key, 2)):
        for _ in range(times):
            execute(database, "SELECT apikeys_verify(:k)", {"k": key})
    assert execute(database, "SELECT count(*), sum(count) FROM key_usage_tail") == [(5, 5)]
    assert execute(database, "SELECT count(*) FROM key_usage") == [(0,)]
    assert execute(database, "SELECT count(*) FROM usage_hours") == [(0,)]

    def figures() -> tuple[object, ...]:
        every = store.usage_series(None, UsagePeriod.MONTH)
        one = store.usage_series(busy.record.id, UsagePeriod.DAY)
        return (
            totals(store.usage()),
            totals(store.usage(quiet.record.id)),
            (every.count(Outcome.VALID), every.count(Outcome.REJECTED)),
            (one.count(Outcome.VALID), one.total),
            store.top_keys(UsagePeriod.WEEK),
        )

    before = figures()
    assert before == (
        {(busy.record.id, "valid"): 3, (quiet.record.id, "inactive"): 2},
        {(quiet.record.id, "inactive"): 2},
        (3, 2),
        (3, 3),
        [KeyUse(busy.record.id, 3, 3), KeyUse(quiet.record.id, 2, 0)],
    )
    other = store.create("counted by the app")
    store.verify(other.key)
    store.flush_usage()  # writes this process's count, then moves the tail into key_usage and the roll-ups
    assert execute(database, "SELECT count(*) FROM key_usage_tail") == [(0,)]
    assert execute(database, "SELECT sum(count) FROM key_usage") == [(6,)]
    assert figures() == (
        {(busy.record.id, "valid"): 3, (quiet.record.id, "inactive"): 2, (other.record.id, "valid"): 1},
        {(quiet.record.id, "inactive"): 2},
        (4, 2),
        (3, 3),
        [KeyUse(busy.record.id, 3, 3), KeyUse(quiet.record.id, 2, 0), KeyUse(other.record.id, 1, 1)],
    )


def test_apikeys_usage_prints_counts(database: str) -> None:
    key = run_cli("create", "--description", "cli", "--database", database).stdout.strip()
    for _ in range(2):
        assert run_cli("verify", "-", "--database", database, stdin=key).returncode == 0
    listed = run_cli("usage", "1", "--json", "--database", database)
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["key_id"], row["verdict"], row["count"]) == (1, "valid", 2)
    assert (
        datetime.fromisoformat(row["hour"])
        <= datetime.now(UTC)
        < datetime.fromisoformat(row["hour"]) + timedelta(hours=1)
    )
    table = run_cli("usage", "--database", database).stdout.splitlines()
    assert table[0].split() == ["HOUR", "(UTC)", "KEY", "VERDICT", "COUNT"] and table[1].split()[-3:] == [
        "1",
        "valid",
        "2",
    ]
    missing = run_cli("usage", "7", "--database", database)
    assert missing.returncode == 1 and "No API key #7" in missing.stderr
    bad = run_cli("usage", "--since", "5w", "--database", database)
    assert bad.returncode == 2 and bad.stderr.startswith("apikeys: --since must") and bad.stderr.count("\n") == 1


def test_earlier_hours_are_rolled_up_to_one_row_each_keeping_the_sums(database: str) -> None:
    clock = FixedClock(datetime(2026, 5, 1, 12, 10, tzinfo=UTC))
    with KeyStore.open(database, clock=clock, create=True) as store:
        created = store.create("rolled")
        for _ in range(3):  # three flushes in the hour: three rows (each process's flush appends its own)
            store.verify(created.key)
            store.verify(created.key)
            store.flush_usage()
        assert execute(database, "SELECT count(*), sum(count) FROM key_usage") == [(3, 6)]
        clock.moment = datetime(2026, 5, 1, 13, 5, tzinfo=UTC)
        store.verify(created.key)
        store.flush_usage()  # the first flush of a new hour rolls the earlier ones up
        rows = execute(database, "SELECT hour, count FROM key_usage ORDER BY hour")
        assert [int(r[1]) for r in rows] == [6, 1]
        assert [(c.hour.hour, c.count) for c in store.usage()] == [(12, 6), (13, 1)]


def _usage_rows(database: str) -> list[tuple[int, int, int]]:
    """(row id, key id, count) of every usage row, in id order."""
    rows = execute(database, "SELECT id, key_id, count FROM key_usage ORDER BY id")
    return [(int(r[0]), int(r[1]), int(r[2])) for r in rows]


def test_a_roll_up_rewrites_only_what_has_more_than_one_row(database: str) -> None:
    # At a million keys an hourly roll-up rewrote every row of 48 hours (600,000 of a seed's, already one each),
    # holding the write lock for a minute; a row already alone is now left as it is.
    clock = FixedClock(datetime(2026, 5, 1, 12, 10, tzinfo=UTC))
    with KeyStore.open(database, clock=clock, create=True) as store:
        twice, once = store.create("flushed twice"), store.create("flushed once")
        store.verify(twice.key)
        store.flush_usage()
        store.verify(twice.key)
        store.verify(once.key)
        store.flush_usage()
        before = _usage_rows(database)
        alone = [row for row in before if row[1] == once.record.id]
        assert len(before) == 3 and len(alone) == 1
        counted = [(c.key_id, c.hour, c.verdict, c.count) for c in store.usage()]
        clock.moment = datetime(2026, 5, 1, 13, 5, tzinfo=UTC)
        store.flush_usage()  # nothing new to write: no roll-up either
        assert _usage_rows(database) == before
        store.verify(once.key)
        store.flush_usage()  # the first flush of a new hour rolls the earlier ones up
        after = _usage_rows(database)
        assert alone[0] in after  # the same row, same id: not rewritten
        assert [(k, c) for _, k, c in after if k == twice.record.id] == [(twice.record.id, 2)]
        assert [(c.key_id, c.hour, c.verdict, c.count) for c in store.usage() if c.hour.hour == 12] == counted


def test_a_closing_process_leaves_the_roll_up_to_long_lived_ones(database: str) -> None:
    # `apikeys verify` (one verify, then exit) read 48 hours of every key's counts on its way out.
    clock = FixedClock(datetime(2026, 5, 1, 12, 10, tzinfo=UTC))
    with KeyStore.open(database, clock=clock, create=True) as store:
        created = store.create("verified by a short process")
        store.verify(created.key)
        store.flush_usage()
        store.verify(created.key)
    assert len(_usage_rows(database)) == 2  # two flushes in the hour: two rows
    clock.moment = datetime(2026, 5, 1, 13, 5, tzinfo=UTC)
    with KeyStore.open(database, clock=clock) as short:
        assert short.verify(created.key).value == "valid"
    rows = _usage_rows(database)
    assert len(rows) == 3 and sum(c for _, _, c in rows) == 3  # written, not rolled up
    with KeyStore.open(database, clock=clock) as long_lived:
        long_lived.verify(created.key)
        long_lived.flush_usage()  # what its background thread does every few seconds
    assert sorted(c for _, _, c in _usage_rows(database)) == [1, 1, 2]  # 12:00 rolled up; 13:00's two flushes not


def test_a_period_s_verifies_come_in_bars_by_outcome_for_one_key_or_all(database: str) -> None:
    clock = FixedClock(datetime(2026, 5, 1, 12, 30, tzinfo=UTC))
    with KeyStore.open(database, clock=clock, create=True) as store:
        busy = store.create("busy", scopes=["a"], rate=Rate(2, 3600))
        quiet = store.create("quiet")
        store.verify(quiet.key)
        clock.moment -= timedelta(hours=30)  # yesterday's: in the week, not in the day
        store.verify(quiet.key)
        clock.moment += timedelta(hours=30)
        store.check(busy.key)
        store.check(busy.key, ["b"])
        store.check(busy.key)
        store.check(busy.key)  # the third valid one in the hour: rate limited
        day = store.usage_series(busy.record.id, UsagePeriod.DAY)
        assert (len(day.buckets), day.start, day.end) == (
            24,
            datetime(2026, 4, 30, 13, tzinfo=UTC),
            datetime(2026, 5, 1, 13, tzinfo=UTC),
        )
        last = day.buckets[-1]
        assert [last.count(o) for o in Outcome] == [2, 1, 1, 0]
        assert (day.total, day.count(Outcome.VALID)) == (4, 2)
        assert store.usage_series(quiet.record.id, UsagePeriod.DAY).total == 1
        week = store.usage_series(quiet.record.id, UsagePeriod.WEEK)
        assert (len(week.buckets), week.total, week.count(Outcome.VALID)) == (28, 2, 2)
        every = store.usage_series(None, UsagePeriod.MONTH)
        assert (len(every.buckets), every.total, every.buckets[-1].total) == (30, 6, 5)
        assert store.top_keys(UsagePeriod.DAY) == [KeyUse(busy.record.id, 4, 2), KeyUse(quiet.record.id, 1, 1)]
        assert store.top_keys(UsagePeriod.DAY, limit=1) == [KeyUse(busy.record.id, 4, 2)]
        with pytest.raises(KeyNotFound):
            store.usage_series(10_000, UsagePeriod.DAY)


def test_migration_0013_downgrades_keeping_the_tail_counted_and_upgrades_again(database: str) -> None:
    from tests.revisions import downgrade_to

    with KeyStore.open(database, create=True) as store:
        created = store.create("tail")
    if is_server(database):
        for _ in range(2):
            execute(database, "SELECT apikeys_verify(:k)", {"k": created.key})
    downgrade_to(database, "0012")
    tables = (
        "SELECT count(*) FROM pg_tables WHERE tablename = 'key_usage_tail'"
        if is_server(database)
        else "SELECT count(*) FROM sqlite_master WHERE name = 'key_usage_tail'"
    )
    assert execute(database, tables) == [(0,)]
    if is_server(database):  # the tail moved into key_usage, and 0012's SQL verify counts there again
        assert execute(database, "SELECT sum(count) FROM key_usage") == [(2,)]
        execute(database, "SELECT apikeys_verify(:k)", {"k": created.key})
        assert execute(database, "SELECT sum(count) FROM usage_hours") == [(3,)]
    with KeyStore.open(database) as store:  # brought to 0013 again on opening
        assert store.usage_series(None, UsagePeriod.DAY).total == (3 if is_server(database) else 0)
    assert execute(database, tables) == [(1,)]


#: Calls apikeys_verify() `n` times on one connection, then rolls the tail up `n` times: run by several processes
#: at once, their appends and roll-ups interleave.
SQL_VERIFIES_AND_ROLLS = textwrap.dedent(
    """
    import sys
    from tests.backends import execute
    from desktop.core.store import KeyStore
    database, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with KeyStore.open(database) as store:
        for _ in range(n):
            execute(database, "SELECT apikeys_verify(:k)", {"k": key})
            store.database.roll_up_tail()
    """
)


@pytest.mark.xdist_group("heavy")
@pytest.mark.timeout(300)
def test_concurrent_sql_verifies_and_roll_ups_count_each_verify_once(store: KeyStore, database: str) -> None:
    if not is_server(database):
        pytest.skip("apikeys_verify is PostgreSQL's")
    created = store.create("sql, rolled concurrently")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers, calls = 3, 40
    procs = [
        subprocess.Popen([sys.executable, "-c", SQL_VERIFIES_AND_ROLLS, database, created.key, str(calls)], env=env)
        for _ in range(workers)
    ]
    for proc in procs:
        assert proc.wait(timeout=240) == 0
    assert totals(store.usage()) == {(created.record.id, "valid"): workers * calls}
    store.database.roll_up_tail()
    assert execute(database, "SELECT count(*) FROM key_usage_tail") == [(0,)]
    assert execute(database, "SELECT sum(count) FROM usage_hours") == [(workers * calls,)]
    assert store.top_keys(UsagePeriod.DAY) == [KeyUse(created.record.id, workers * calls, workers * calls)]
