"""Issue 24: rate limits and credits, exact across processes, on a real SQLite file and a real PostgreSQL server."""

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

from desktop.core.clock import FixedClock
from desktop.core.errors import InvalidInput, KeyNotFound
from desktop.core.limit_input import parse_credits, parse_rate, parse_refill
from desktop.core.store import KeyStore
from desktop.core.values import Limits, Rate, Refill, Verdict
from tests.backends import execute, is_server
from tests.core.rate_window import STEPS, let_pass, rate_model
from tests.helpers import REPO


@pytest.fixture
def store(database: str) -> Iterator[KeyStore]:
    with KeyStore.open(database, create=True) as opened:
        yield opened


def test_a_rate_allows_n_valid_verifies_then_says_when_to_try_again(store: KeyStore) -> None:
    created = store.create("rated", rate=Rate(3, 3600))
    before = datetime.now(UTC)
    results = [store.check(created.key) for _ in range(5)]
    assert [r.verdict for r in results] == ["valid"] * 3 + ["rate_limited"] * 2
    assert [r.ratelimit.remaining for r in results if r.ratelimit] == [2, 1, 0, 0, 0]
    retry = results[-1].retry_at
    assert retry is not None and before + timedelta(hours=1) <= retry <= datetime.now(UTC) + timedelta(hours=1)
    assert results[-1].remaining is None  # no credits
    # verify() answers the same, and a rate-limited verify takes nothing.
    assert store.verify(created.key) is Verdict.RATE_LIMITED


def test_the_window_slides_exactly(db_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    with KeyStore.open(str(db_path), clock=clock, create=True) as store:
        key = store.create("sliding", rate=Rate(2, 60)).key
        assert store.verify(key) is Verdict.VALID  # 12:00:00
        clock.moment += timedelta(seconds=30)
        assert store.verify(key) is Verdict.VALID  # 12:00:30
        clock.moment += timedelta(seconds=29)
        limited = store.check(key)
        assert limited.verdict is Verdict.RATE_LIMITED  # 12:00:59: two in the last minute
        assert limited.retry_at == datetime(2026, 3, 2, 12, 1, tzinfo=UTC)
        clock.moment = datetime(2026, 3, 2, 12, 1, 0, 1, tzinfo=UTC)
        assert store.verify(key) is Verdict.VALID  # the first left the window
        assert store.verify(key) is Verdict.RATE_LIMITED  # 12:00:30 is still in it


def test_credits_are_taken_by_cost_and_run_out(store: KeyStore) -> None:
    created = store.create("credited", credits=10)
    assert store.check(created.key, cost=4).remaining == 6
    assert store.check(created.key, cost=0).remaining == 6
    assert store.check(created.key).remaining == 5
    short = store.check(created.key, cost=6)
    assert (short.verdict, short.remaining) == (Verdict.USAGE_EXCEEDED, 5)  # not taken: it would go below 0
    assert store.check(created.key, cost=5).verdict is Verdict.VALID
    assert store.check(created.key, cost=0).verdict is Verdict.USAGE_EXCEEDED  # at zero, whatever the cost
    assert store.limits(created.record.id) == Limits(credits=0)


def test_checks_before_the_limits_take_nothing(store: KeyStore) -> None:
    created = store.create("scoped", scopes=["a"], credits=1, rate=Rate(1, 3600))
    assert store.check(created.key, ["b"]).verdict is Verdict.FORBIDDEN
    store.set_active(created.record.id, False)
    assert store.check(created.key).verdict is Verdict.INACTIVE
    store.set_active(created.record.id, True)
    assert store.check(created.key, ["a"]).remaining == 0
    # The rate is spent before the credits are looked at: rate_limited comes first.
    assert store.check(created.key).verdict is Verdict.RATE_LIMITED


def test_a_refill_sets_the_balance_at_each_period_start(db_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 4, 9, 0, tzinfo=UTC))  # a Wednesday
    with KeyStore.open(str(db_path), clock=clock, create=True) as store:
        created = store.create("weekly", refill=Refill(3, "week"))
        assert store.limits(created.record.id) == Limits(credits=3, refill=Refill(3, "week"))  # starts full
        assert [store.verify(created.key) for _ in range(4)][-1] is Verdict.USAGE_EXCEEDED
        clock.moment = datetime(2026, 3, 8, 23, 59, tzinfo=UTC)  # Sunday: the same week
        assert store.verify(created.key) is Verdict.USAGE_EXCEEDED
        clock.moment = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)  # Monday midnight UTC
        assert store.check(created.key).remaining == 2


def test_limits_are_set_changed_cleared_and_audited(store: KeyStore) -> None:
    key_id = store.create("audited").record.id
    assert store.limits(key_id) == Limits()
    assert store.set_limits(key_id, rate=Rate(100, 60)) == Limits(rate=Rate(100, 60))
    assert store.set_limits(key_id, credits=50, refill=Refill(1000, "month")) == Limits(
        Rate(100, 60), 50, Refill(1000, "month")
    )
    assert store.set_limits(key_id, credits=None) == Limits(rate=Rate(100, 60))  # no balance, no refill
    store.set_limits(key_id, rate=Rate(100, 60))  # unchanged: no event
    assert store.set_limits(key_id, rate=None) == Limits()
    events = [e for e in store.events(key_id=key_id).items if e.action == "limits-changed"]
    assert len(events) == 4
    newest = events[0].details
    assert newest["to"] is None and newest["from"]["rate_limit"] == 100  # type: ignore[index]
    assert events[-1].details["from"] is None
    with pytest.raises(KeyNotFound):
        store.set_limits(key_id + 1000, rate=Rate(1, 1))


def test_a_key_without_limits_writes_nothing_to_verify(db_path: Path) -> None:
    """The unlimited path stays a read: no write (PRAGMA data_version unchanged) once its last use is recent."""
    import sqlite3

    with KeyStore.open(str(db_path), create=True) as store:
        key = store.create("plain").key
        store.verify(key)  # records the first use
        watcher = sqlite3.connect(db_path)
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        for _ in range(20):
            assert store.check(key) == store.check(key)
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
        watcher.close()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("100/1m", Rate(100, 60)),
        ("5/s", Rate(5, 1)),
        (" 7 / 2h ", Rate(7, 7200)),
        ("none", None),
        ("1/1d", Rate(1, 86400)),
    ],
)
def test_rates_as_typed(text: str, expected: Rate | None) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["100", "100/1w", "0/1m", "1/0s", "-1/1m", "100/1.5m", "1000001/1s", "1/400d"])
def test_bad_rates_say_the_form(text: str) -> None:
    with pytest.raises(InvalidInput, match="--rate"):
        parse_rate(text)


def test_credits_and_refills_as_typed() -> None:
    assert parse_credits("10,000") == 10000 and parse_credits("0") == 0 and parse_credits("none") is None
    assert parse_refill("10000/month") == Refill(10000, "month") and parse_refill("5/weekly") == Refill(5, "week")
    for bad in ("-1", "1e3", "lots"):
        with pytest.raises(InvalidInput, match="--credits"):
            parse_credits(bad)
    for bad in ("100", "100/year", "0/day"):
        with pytest.raises(InvalidInput, match="--refill"):
            parse_refill(bad)


# -- exact across processes ---------------------------------------------------------------------------------------

HAMMER = textwrap.dedent(
    """
    import json, sys
    from desktop.core.store import KeyStore
    database, keys, attempts = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    counts = {}
    with KeyStore.open(database) as store:
        for n in range(attempts):
            for key in keys:
                # check() the full way, verify() in one statement when let through (SQLite): both exact.
                verdict = (store.check(key).verdict if n % 2 else store.verify(key)).value
                counts.setdefault(key[-6:], {}).setdefault(verdict, 0)
                counts[key[-6:]][verdict] += 1
    print(json.dumps(counts))
    """
)


# Several processes at full speed for seconds: one after another with the other heavy tests (tests/conftest.py).
@pytest.mark.xdist_group("heavy")
@pytest.mark.timeout(300)
def test_concurrent_processes_never_get_more_valid_than_allowed(store: KeyStore, database: str) -> None:
    rated = store.create("rated", rate=Rate(25, 3600)).key
    credited = store.create("credited", credits=30).key
    both = store.create("both", rate=Rate(40, 3600), credits=17).key
    # Above limits.PENDING_CAP (SQLite: 32 verifies wait in `rate_pending` at most, moved into the ring by the 33rd).
    big = store.create("big rate", rate=Rate(45, 3600)).key
    keys = [rated, credited, both, big]
    workers, attempts = 4, 15  # 60 attempts on each key
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, database, json.dumps(keys), str(attempts)],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(workers)
    ]
    valid = {key[-6:]: 0 for key in keys}
    answered = {key[-6:]: 0 for key in keys}
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0
        for tail, counts in json.loads(out).items():
            valid[tail] += counts.get("valid", 0)
            answered[tail] += sum(counts.values())
    assert answered == {key[-6:]: workers * attempts for key in keys}
    assert valid == {rated[-6:]: 25, credited[-6:]: 30, both[-6:]: 17, big[-6:]: 45}
    logged = execute(database, "SELECT count(*) FROM key_rate_hits")[0][0]
    if is_server(database):
        assert logged == 25 + 17 + 45
    else:  # the rest still pending
        pending = execute(database, "SELECT sum(length(rate_pending)) / 26 FROM key_limits")[0][0]
        assert logged + pending == 25 + 17 + 45


# -- migration 0010 ------------------------------------------------------------------------------------------------


@pytest.mark.empty_database
def test_migration_0010_upgrades_and_downgrades_keeping_the_keys(database: str) -> None:
    from tests.revisions import downgrade_to, upgrade_to

    upgrade_to(database, "0009")
    with KeyStore.open(database) as store:  # brought to 0010 on opening
        plain = store.create("kept").key
        limited = store.create("limited", rate=Rate(1, 3600)).key
        assert store.verify(limited) is Verdict.VALID and store.verify(limited) is Verdict.RATE_LIMITED
    downgrade_to(database, "0009")
    tables = "SELECT count(*) FROM {} WHERE {} IN ('key_limits', 'key_rate_hits', 'key_usage')"
    if is_server(database):
        assert execute(database, tables.format("pg_tables", "tablename")) == [(0,)]
        # 0009's SQL verify and lookup are back, and answer for every key (the limits went with the tables).
        assert execute(database, "SELECT apikeys_verify(:k)", {"k": limited}) == [("valid",)]
        assert execute(database, "SELECT count(*) FROM apikeys_lookup(''::bytea)") == [(0,)]
    else:
        assert execute(database, tables.format("sqlite_master", "name")) == [(0,)]
    assert "limited" not in {c for (c,) in _columns(database)}
    with KeyStore.open(database) as store:  # and up again
        assert store.verify(plain) is Verdict.VALID and store.verify(limited) is Verdict.VALID
        assert store.limits(2) == Limits()


def _columns(database: str) -> list[tuple[str]]:
    if is_server(database):
        return execute(database, "SELECT column_name FROM information_schema.columns WHERE table_name = 'api_keys'")
    return execute(database, "SELECT name FROM pragma_table_info('api_keys')")


def test_a_busy_database_fails_closed_for_a_limited_key_only(db_path: Path) -> None:
    """Another writer holding the lock past the wait: a limited key's verify cannot be counted, so it is not
    answered (DatabaseLocked: a service says 503); a key without limits writes nothing and still answers."""
    import sqlite3

    from desktop.core.errors import DatabaseLocked

    with KeyStore.open(str(db_path), create=True) as store:
        limited = store.create("limited", credits=5).key
        plain = store.create("plain").key
        store.verify(plain)  # its last use recorded: its next verifies write nothing
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(DatabaseLocked):
                store.verify(limited)
            assert store.verify(plain) is Verdict.VALID
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.check(limited).remaining == 4  # nothing was taken by the refused verify


def test_a_new_rate_keeps_counting_the_verifies_already_in_the_window(store: KeyStore) -> None:
    created = store.create("changed", rate=Rate(3, 3600))
    assert [store.verify(created.key) for _ in range(3)] == [Verdict.VALID] * 3
    store.set_limits(created.record.id, rate=Rate(5, 3600))  # two more, not five
    assert [store.verify(created.key) for _ in range(3)] == [Verdict.VALID] * 2 + [Verdict.RATE_LIMITED]
    store.set_limits(created.record.id, rate=Rate(2, 3600))  # lower: already over it
    assert store.verify(created.key) is Verdict.RATE_LIMITED
    store.set_limits(created.record.id, rate=Rate(7, 3600))
    result = store.check(created.key)
    assert result.verdict is Verdict.VALID and result.ratelimit is not None
    # A lowered rate's log holds only its own N latest verifies (here 2 of the 5): raised again, it counts
    # those and this one (docs/service.md says so).
    assert result.ratelimit.remaining == 7 - 3


def test_remaining_and_reset_stay_exact_as_the_ring_wraps_round(database: str) -> None:
    """`ratelimit` (how many are left, when the oldest leaves the window) as an exact sliding window says, through
    bursts, pauses and long idles that wrap the rate log round many times (migration 0011 finds the oldest verify
    in the window from `rate_first`, no longer by an index on the times). On PostgreSQL the server's clock
    counts: time passes there by moving the logged verifies back."""
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    clock = FixedClock(start)
    with KeyStore.open(database, clock=clock, create=True) as store:
        created = store.create("wrapped", rate=Rate(4, 60))
        hits: list[float] = []
        now = 0.0
        for step in STEPS * 3:
            now += step
            let_pass(database, clock, start, now, step, created.record.id)
            verdict, remaining, reset = rate_model(hits, now, 4, 60)
            result = store.check(created.key)
            assert result.ratelimit is not None
            assert (result.verdict, result.ratelimit.remaining) == (verdict, remaining), f"at {now} s"
            if not is_server(database):
                assert result.ratelimit.reset == start + timedelta(seconds=reset), f"at {now} s"


def test_a_limited_verify_writes_one_page(db_path: Path) -> None:
    """On SQLite every page a verify writes is copied into the WAL at COMMIT (and again into the file at the
    checkpoint). A limited key's verify writes its limits' row: the credits taken, and a rate-limited key's time
    appended to the row's `rate_pending` (migration 0015); every 33rd (or, for a rate N below 33, every N-th) moves
    the waiting ones into the rate log, a few pages. Before 0015 a rate's verify wrote the row and its rate log's
    slot, two pages; before 0011 an index on the rate log's times cost two or three more: 4.25 a verify."""
    import sqlite3

    clock = FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    with KeyStore.open(str(db_path), create=True, clock=clock) as store:
        rated = store.create("rated and credited", rate=Rate(10_000, 3600), credits=10**9)
        small = store.create("small rate", rate=Rate(8, 1), credits=10**9)
        credited = store.create("credited", credits=10**9)
        for created, most in ((rated, 1.15), (small, 1.35), (credited, 1.05)):
            store.verify(created.key)  # its last use recorded: from now on only the limits write
            checkpoint = sqlite3.connect(db_path)
            page = checkpoint.execute("PRAGMA page_size").fetchone()[0]
            assert checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
            checkpoint.close()
            for _ in range(330):
                clock.moment += timedelta(milliseconds=150)  # never rate limited: under 7 verifies a second
                assert store.verify(created.key) is Verdict.VALID
            frames = (Path(f"{db_path}-wal").stat().st_size - 32) / (page + 24)  # its header, then the frames
            assert 1.0 <= frames / 330 <= most, (created.record.description, frames)


def test_limited_verifies_checkpoint_ten_times_less_often_and_the_wal_stays_bounded(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's automatic checkpoint (every 1,000 WAL pages) ran inside the COMMIT of whichever limited verify
    crossed the line, a millisecond or more every few hundred verifies; the verify path's connections let 10,000
    pages gather. The WAL is still reused from its start after each checkpoint, so it stays bounded."""
    import sqlite3

    from desktop.core.db import sqlite as fast

    def wal_pages() -> float:
        return Path(f"{db_path}-wal").stat().st_size / (int(page) + 24)

    with KeyStore.open(str(db_path), create=True) as store:
        created = store.create("rated and credited", rate=Rate(100_000, 3600), credits=10**9)
        probe = sqlite3.connect(db_path)
        page = probe.execute("PRAGMA page_size").fetchone()[0]
        probe.close()
        for _ in range(1400):  # about 1,600 pages (one a verify, a few more each 33rd): past SQLite's default
            assert store.verify(created.key) is Verdict.VALID
        assert wal_pages() > 1200  # no checkpoint since the first verify: every page still in the WAL
    # A bound as small as SQLite's own keeps the WAL as small (ours is the same mechanism, ten times the size).
    monkeypatch.setattr(fast, "CHECKPOINT_PAGES", 300)
    with KeyStore.open(str(db_path)) as store:
        for _ in range(700):
            assert store.verify(created.key) is Verdict.VALID
        assert wal_pages() < 400
