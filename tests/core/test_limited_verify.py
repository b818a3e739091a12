"""Issue 24 item 5: a limited key's verify() on SQLite in one statement, exact as check() is; and the verify path
keeping to one connection when the usage flusher writes beside it."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.core.clock import FixedClock
from desktop.core.store import KeyStore
from desktop.core.values import Limits, Rate, Refill, Verdict
from tests.backends import execute, is_server
from tests.core.rate_window import STEPS, let_pass, rate_model
from tests.helpers import verify_path_statements


def test_a_limited_verify_is_one_statement_after_the_lookup(db_path: Path) -> None:
    """verify() reports only the verdict: a verify the limits let through is one UPDATE of the key's limits (the
    credits taken, its time among the pending ones), not BEGIN, four reads and writes and COMMIT; and no trigger
    (an INSERT into a TEMP view whose trigger did the UPDATE cost a third more of SQLite's work)."""
    with KeyStore.open(str(db_path), create=True) as store:
        created = store.create("limited", rate=Rate(1000, 3600), credits=100)
        assert store.verify(created.key) is Verdict.VALID  # its last use recorded; the connection prepared
        with verify_path_statements(store) as statements:
            assert store.verify(created.key) is Verdict.VALID
        lookup, *take = statements
        assert "FROM api_keys" in lookup
        assert len(take) == 1 and take[0].split()[:2] == ["UPDATE", "key_limits"], take  # a trigger adds lines
        assert store.check(created.key).remaining == 100 - 3
        assert store.check(created.key).ratelimit.remaining == 1000 - 4  # type: ignore[union-attr]


def test_the_usage_flush_never_adds_a_connection_to_the_verify_path(db_path: Path) -> None:
    """The flusher writing while a verify held the verify path's only connection opened a second one there, and
    verifies then looked a key up on one and took its limits on the other (the pool hands them out in turn): each
    write made the other's page cache stale, so every limited verify read the digest index's pages again."""
    with KeyStore.open(str(db_path), create=True) as store:
        created = store.create("limited", credits=100)
        assert store.verify(created.key) is Verdict.VALID  # counted: the flush has something to write
        pool = store.database._idle  # type: ignore[attr-defined]
        held = pool.take()  # a verify in flight on the verify path's connection
        assert held is not None and pool.qsize() == 0
        store.flush_usage()
        pool.give(held)
        assert pool.qsize() == 1
        assert store.verify(created.key) is Verdict.VALID
        assert pool.qsize() == 1


def test_verify_and_check_mixed_stay_exact_as_the_ring_wraps_round(database: str) -> None:
    """verify() leaves `rate_first` where it was (still at or before the oldest verify in the window); a check()
    after a run of them steps it on and still reports exactly what a sliding window says."""
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    clock = FixedClock(start)
    checks = itertools.cycle([False, False, True, False, True, True, False, False, False, True, False])
    with KeyStore.open(database, clock=clock, create=True) as store:
        created = store.create("wrapped", rate=Rate(4, 60), credits=1000)
        hits: list[float] = []
        now = 0.0
        spent = 0
        for step, asks in zip(STEPS * 3, checks, strict=False):
            now += step
            let_pass(database, clock, start, now, step, created.record.id)
            verdict, remaining, reset = rate_model(hits, now, 4, 60)
            spent += verdict == "valid"
            if not asks:
                assert store.verify(created.key).value == verdict, f"at {now} s"
                continue
            result = store.check(created.key)
            assert result.ratelimit is not None
            assert (result.verdict, result.ratelimit.remaining, result.remaining) == (verdict, remaining, 1000 - spent)
            if not is_server(database):
                assert result.ratelimit.reset == start + timedelta(seconds=reset), f"at {now} s"


def test_verify_refills_at_each_period_start_and_runs_out_exactly(db_path: Path) -> None:
    """The one statement lets a verify through only when no refill is due; at a new day, week or month the full
    way refills first. Credits never go below zero, whatever the cost."""
    clock = FixedClock(datetime(2026, 3, 31, 23, 59, tzinfo=UTC))  # a Tuesday, the month's last day
    with KeyStore.open(str(db_path), clock=clock, create=True) as store:
        daily = store.create("daily", refill=Refill(2, "day"))
        weekly = store.create("weekly", refill=Refill(2, "week"))
        monthly = store.create("monthly", refill=Refill(2, "month"))
        everyone = (daily, weekly, monthly)
        for created in everyone:
            assert [store.verify(created.key) for _ in range(3)] == [Verdict.VALID] * 2 + [Verdict.USAGE_EXCEEDED]
        clock.moment = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)  # Wednesday 1 April: a new day and month
        expected = [Verdict.VALID, Verdict.USAGE_EXCEEDED, Verdict.VALID]  # the week began on Monday 30 March
        assert [store.verify(c.key, cost=2) for c in everyone] == expected
        assert [store.limits(c.record.id).credits for c in everyone] == [0, 0, 0]
        clock.moment = datetime(2026, 4, 6, 0, 0, 0, 1, tzinfo=UTC)  # Monday: a new week
        assert store.verify(weekly.key, cost=3) is Verdict.USAGE_EXCEEDED  # refilled to 2: not taken
        assert store.verify(weekly.key) is Verdict.VALID
        assert store.limits(weekly.record.id) == Limits(credits=1, refill=Refill(2, "week"))


@pytest.mark.parametrize(
    "period, created, last, first",
    [
        ("day", datetime(2026, 3, 4, 9), datetime(2026, 3, 4, 23, 59, 59, 999999), datetime(2026, 3, 5)),
        ("day", datetime(2028, 2, 29, 1), datetime(2028, 2, 29, 23, 59, 59, 999999), datetime(2028, 3, 1)),
        ("week", datetime(2026, 3, 4, 9), datetime(2026, 3, 8, 23, 59, 59, 999999), datetime(2026, 3, 9)),
        ("week", datetime(2026, 12, 28), datetime(2027, 1, 3, 23, 59, 59, 999999), datetime(2027, 1, 4)),
        ("week", datetime(2026, 3, 9, 0, 0, 0, 1), datetime(2026, 3, 15, 12), datetime(2026, 3, 16, 0, 0, 0, 1)),
        ("month", datetime(2026, 2, 10), datetime(2026, 2, 28, 23, 59, 59, 999999), datetime(2026, 3, 1)),
        ("month", datetime(2026, 12, 1), datetime(2026, 12, 31, 23, 59, 59, 999999), datetime(2027, 1, 1)),
    ],
)
def test_the_one_statement_finds_each_period_start_as_the_full_way_does(
    db_path: Path, period: str, created: datetime, last: datetime, first: datetime
) -> None:
    """The one statement works the refill period's start out of `now` itself (midnight UTC, Monday's, the 1st's):
    up to the period's last microsecond it lets a verify through alone (no refill due); from the next period's
    first it must not, or a verify would take from the old balance instead of the refilled one."""
    clock = FixedClock(created.replace(tzinfo=UTC))
    with KeyStore.open(str(db_path), clock=clock, create=True) as store:
        key = store.create("refilled", refill=Refill(5, period))
        assert [store.verify(key.key) for _ in range(2)] == [Verdict.VALID] * 2
        with verify_path_statements(store) as statements:
            clock.moment = last.replace(tzinfo=UTC)
            assert store.verify(key.key) is Verdict.VALID
            taking = [s.split()[:2] for s in statements if "key_limits" in s]
            assert taking == [["UPDATE", "key_limits"]], statements  # the one statement let it through alone
        assert store.limits(key.record.id).credits == 2
        clock.moment = first.replace(tzinfo=UTC)
        assert store.verify(key.key) is Verdict.VALID
        assert store.limits(key.record.id).credits == 4  # refilled to 5, then one taken


def test_a_limited_verify_of_a_changed_database_still_answers(db_path: Path) -> None:
    """The flush's view, trigger and table of places are the connection's own (TEMP): another program (and an
    older version) sees no change in the file's schema, and a new connection makes its own on its first flush.
    Forty verifies of a big rate fill the pending verifies (32) and flush them into the log through those."""
    flushing = {"apikeys_flush", "apikeys_flush_pending", "apikeys_take_n"}
    with KeyStore.open(str(db_path), create=True) as store:
        created = store.create("limited", credits=43, rate=Rate(1000, 3600))
        assert [store.verify(created.key) for _ in range(40)] == [Verdict.VALID] * 40
        other = sqlite3.connect(db_path)
        names = {n for (n,) in other.execute("SELECT name FROM sqlite_master")}
        (logged,) = other.execute(
            "SELECT count(*) FROM key_rate_hits WHERE key_id = ?", (created.record.id,)
        ).fetchone()
        other.close()
        assert logged >= 32  # flushed: the statement ran
        assert not flushing & names
    with KeyStore.open(str(db_path)) as store:  # new connections
        assert [store.verify(created.key) for _ in range(4)] == [Verdict.VALID] * 3 + [Verdict.USAGE_EXCEEDED]


# -- a big rate's pending verifies (migration 0015) ---------------------------------------------------------------

#: Bursts of verifies at one moment, more than limits.PENDING_CAP (32) at times, and whether a check() follows.
BURSTS = [(1, False), (5, True), (12, False), (33, False), (0, True), (2, False), (40, True), (32, False), (7, True)]


def test_a_big_rate_stays_exact_across_its_pending_verifies(database: str) -> None:
    """A rate above limits.PENDING_CAP: on SQLite a let-through verify only appends its time to the key's row, the
    33rd (a full buffer) and every check() move them into the rate log first. Through bursts, pauses and long
    idles, verify() and check() answer exactly as a sliding window (verdict, credits, `ratelimit` remaining and
    reset) and the buffer fills up and is moved into the ring by verify() and by check() alike."""
    from desktop.core.db.limits import PENDING_CAP

    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    clock = FixedClock(start)
    seen: set[int] = set()
    limited = 0
    bursts = itertools.cycle(BURSTS)
    with KeyStore.open(database, clock=clock, create=True) as store:
        created = store.create("big", rate=Rate(100, 60), credits=10**6)
        hits: list[float] = []
        now = 0.0
        spent = 0
        for step in STEPS * 2:
            now += step
            let_pass(database, clock, start, now, step, created.record.id)
            burst, asks = next(bursts)
            for n in range(burst):
                verdict, _, _ = rate_model(hits, now, 100, 60)
                spent += verdict == "valid"
                limited += verdict == "rate_limited"
                assert store.verify(created.key).value == verdict, f"at {now} s, verify {n + 1} of {burst}"
            if not is_server(database):
                seen.add(execute(database, "SELECT length(rate_pending) / 26 FROM key_limits")[0][0])
            if asks:
                verdict, remaining, reset = rate_model(hits, now, 100, 60)
                spent += verdict == "valid"
                result = store.check(created.key)
                assert result.ratelimit is not None
                expected = (verdict, remaining, 10**6 - spent)
                assert (result.verdict, result.ratelimit.remaining, result.remaining) == expected, f"at {now} s"
                if not is_server(database):
                    assert result.ratelimit.reset == start + timedelta(seconds=reset), f"at {now} s"
    if not is_server(database):  # PostgreSQL's functions never buffer
        assert PENDING_CAP in seen and 0 < min(seen - {0}) < PENDING_CAP, seen
    assert 100 < limited < spent, (limited, spent)  # both verdicts, many times


def test_a_new_rate_and_the_window_count_the_pending_verifies(db_path: Path) -> None:
    """Changing the rate renumbers the log with the pending verifies in it (the latest of all); the window's
    'rate limited until' reads the slot of the N-th most recent verify, the pending ones counted."""
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    clock = FixedClock(start)
    database = str(db_path)
    pending = "SELECT length(rate_pending) / 26 FROM key_limits"
    with KeyStore.open(database, clock=clock, create=True) as store:
        created = store.create("big", rate=Rate(40, 3600))
        key_id = created.record.id
        for _ in range(40):  # 32 in the ring (the 33rd moved them there), the 8 latest pending
            clock.moment += timedelta(seconds=1)
            assert store.verify(created.key) is Verdict.VALID
        assert execute(database, pending) == [(8,)]
        # Rate limited until the first verify (12:00:01) leaves the hour.
        assert store.limit_states([key_id])[key_id].blocked_until == start + timedelta(seconds=1, hours=1)
        clock.moment += timedelta(seconds=1)
        assert store.verify(created.key) is Verdict.RATE_LIMITED
        store.set_limits(key_id, rate=Rate(45, 3600))  # five more, not 45
        assert [store.verify(created.key) for _ in range(6)] == [Verdict.VALID] * 5 + [Verdict.RATE_LIMITED]
        clock.moment += timedelta(seconds=20)
        store.set_limits(key_id, rate=Rate(100, 3600))
        assert [store.verify(created.key) for _ in range(20)] == [Verdict.VALID] * 20
        assert execute(database, pending) == [(20,)]
        # Lower: its latest 64 kept, the 20 pending among them (the oldest kept: 12:00:02's); full again.
        store.set_limits(key_id, rate=Rate(64, 3600))
        assert execute(database, pending) == [(0,)]
        assert store.limit_states([key_id])[key_id].blocked_until == start + timedelta(seconds=2, hours=1)
        store.set_limits(key_id, rate=Rate(70, 3600))
        result = store.check(created.key)
        assert result.verdict is Verdict.VALID and result.ratelimit is not None
        assert (result.ratelimit.remaining, result.ratelimit.reset) == (70 - 65, start + timedelta(seconds=2, hours=1))


@pytest.mark.empty_database
def test_migration_0015_downgrades_with_the_pending_verifies_in_the_ring(database: str) -> None:
    """0015 adds `rate_pending`; going back, the verifies waiting there are moved into the rate log first (an
    older version counts them there), and up again nothing is lost either."""
    from tests.revisions import downgrade_to, upgrade_to

    upgrade_to(database, "0014")
    with KeyStore.open(database) as store:  # brought to 0015 on opening
        created = store.create("big", rate=Rate(100, 3600))
        assert [store.verify(created.key) for _ in range(40)] == [Verdict.VALID] * 40  # 32 logged, 8 pending
    downgrade_to(database, "0014")
    columns = (
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'key_limits'"
        if is_server(database)
        else "SELECT name FROM pragma_table_info('key_limits')"
    )
    assert "rate_pending" not in {c for (c,) in execute(database, columns)}
    assert execute(database, "SELECT count(*), max(slot) FROM key_rate_hits") == [(40, 39)]
    assert execute(database, "SELECT rate_next FROM key_limits") == [(40,)]
    with KeyStore.open(database) as store:  # and up again
        result = store.check(created.key)
        assert result.ratelimit is not None and result.ratelimit.remaining == 100 - 41
