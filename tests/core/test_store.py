"""Each store operation against a real SQLite file and a real PostgreSQL database (the `database` fixture)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.core import keys
from desktop.core.clock import FixedClock
from desktop.core.db import Database
from desktop.core.errors import InvalidDescription, InvalidExpiry, InvalidKeyId, KeyNotFound
from desktop.core.store import TOUCH_INTERVAL, KeyStore
from desktop.core.validation import (
    DESCRIPTION_MAX,
    expiry_date,
    expiry_instant,
    parse_expiry,
    parse_key_id,
    validate_description,
)
from desktop.core.values import NewKey, Verdict
from tests.backends import is_server, read_only
from tests.helpers import Secret

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(database: str) -> Iterator[KeyStore]:
    """On both backends; conftest's `store` (a SQLite file) is what the SQLite-only tests take as sqlite_store."""
    with KeyStore.open(database, create=True) as opened:
        yield opened


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[KeyStore]:
    with KeyStore.open(str(db_path), create=True) as opened:
        yield opened


@pytest.fixture
def clocked(database: str, clock: FixedClock) -> Iterator[KeyStore]:
    with KeyStore.open(database, clock=clock, create=True) as opened:
        yield opened


# -- create --------------------------------------------------------------------


def test_create_returns_a_valid_key_and_stores_only_digest_and_hint(store: KeyStore) -> None:
    created = store.create("  Billing service  ")
    assert keys.is_well_formed(created.key)
    assert created.record.description == "Billing service"
    assert created.record.masked == keys.mask(created.key)
    assert created.record.active and created.record.expires_at is None
    assert created.key not in repr(created)
    assert store.get(created.record.id) == created.record
    assert store.verify(created.key) is Verdict.VALID


def test_create_with_expiry_stores_the_following_local_midnight(store: KeyStore) -> None:
    day = date.today() + timedelta(days=30)
    record = store.create("expiring", day).record
    assert record.expires_at == expiry_instant(day)
    assert record.expires_on == day
    local = record.expires_at.astimezone()
    assert (local.hour, local.minute, local.date()) == (0, 0, day + timedelta(days=1))


def test_expiry_today_is_allowed_and_yesterday_is_not(store: KeyStore) -> None:
    today = date(2030, 5, 5)
    assert store.create("today", date(2030, 5, 5), today=today).record.expires_on == today
    with pytest.raises(InvalidExpiry, match="in the past"):
        store.create("yesterday", date(2030, 5, 4), today=today)
    with pytest.raises(InvalidExpiry, match="or earlier"):
        store.create("far", date(9999, 12, 31), today=today)
    assert store.count() == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "required"),
        ("   \t ", "required"),
        ("x" * (DESCRIPTION_MAX + 1), "limit is 256"),
        ("bad\x00nul", "U\\+0000"),
        ("line\nbreak", "U\\+000A"),
        ("spoof\u202etxt", "U\\+202E"),
    ],
)
def test_bad_descriptions_are_refused_and_nothing_is_stored(store: KeyStore, text: str, message: str) -> None:
    with pytest.raises(InvalidDescription, match=message):
        store.create(text)
    assert store.count() == 0


def test_description_limits_and_unicode_are_kept(store: KeyStore) -> None:
    assert store.create("x" * DESCRIPTION_MAX).record.description == "x" * DESCRIPTION_MAX
    text = "Déploiement 🚀 — 'quotes'; DROP TABLE api_keys; --"
    assert store.create(text).record.description == text
    assert store.count() == 2


@given(st.text(max_size=300))
def test_description_validator_accepts_exactly_the_documented_set(text: str) -> None:
    import unicodedata

    cleaned = text.strip()
    ok = (
        0 < len(cleaned) <= DESCRIPTION_MAX
        and all(unicodedata.category(c) not in ("Cc", "Cs") for c in cleaned)
        and not any(c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c" for c in cleaned)
    )
    if ok:
        assert validate_description(text) == cleaned
    else:
        with pytest.raises(InvalidDescription):
            validate_description(text)


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1.5", "", " ", "99999999999999999999", "٣"])
def test_malformed_ids_are_refused(text: str) -> None:
    with pytest.raises(InvalidKeyId, match="not a key ID"):
        parse_key_id(text)


def test_good_ids_parse() -> None:
    assert parse_key_id("42") == 42
    assert parse_key_id(" 7 ") == 7


@pytest.mark.parametrize("text", ["2030-1-1", "tomorrow", "2030-02-30", "", "20300101"])
def test_malformed_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidExpiry, match="YYYY-MM-DD"):
        parse_expiry(text)


def test_expiry_date_round_trips() -> None:
    for day in (date(2030, 1, 1), date(2030, 3, 30), date(2030, 10, 27), date(2030, 12, 31)):
        assert expiry_date(expiry_instant(day)) == day


# -- toggle, delete, get ---------------------------------------------------------


def test_set_active_round_trip(store: KeyStore) -> None:
    created = store.create("toggle me")
    assert store.set_active(created.record.id, False).active is False
    assert store.verify(created.key) is Verdict.INACTIVE
    assert store.set_active(created.record.id, True).active is True
    assert store.verify(created.key) is Verdict.VALID


def test_delete_removes_the_key(store: KeyStore) -> None:
    created = store.create("delete me")
    store.delete(created.record.id)
    assert store.count() == 0
    assert store.verify(created.key) is Verdict.UNKNOWN
    with pytest.raises(KeyNotFound):
        store.get(created.record.id)


def test_operations_on_a_missing_key_raise_key_not_found(store: KeyStore) -> None:
    with pytest.raises(KeyNotFound, match="#99"):
        store.set_active(99, False)
    with pytest.raises(KeyNotFound):
        store.delete(99)
    with pytest.raises(KeyNotFound):
        store.get(99)


def test_deleted_ids_are_never_reused(store: KeyStore) -> None:
    first = store.create("one").record.id
    second = store.create("two").record.id
    store.delete(second)
    assert store.create("three").record.id > second > first


# -- verify ---------------------------------------------------------------------


def test_verify_answers(clocked: KeyStore, clock: FixedClock) -> None:
    today = T0.astimezone().date()
    created = clocked.create("short-lived", today + timedelta(days=1), today=today)
    assert clocked.verify(created.key) is Verdict.VALID
    assert clocked.verify(keys.generate()) is Verdict.UNKNOWN
    assert clocked.verify(created.key[:-1] + ("A" if created.key[-1] != "A" else "B")) is Verdict.MALFORMED
    assert created.record.expires_at is not None
    clock.moment = created.record.expires_at - timedelta(microseconds=1)
    assert clocked.verify(created.key) is Verdict.VALID
    clock.moment = created.record.expires_at
    assert clocked.verify(created.key) is Verdict.EXPIRED


def test_verify_records_last_use_at_most_once_a_minute(clocked: KeyStore, clock: FixedClock) -> None:
    created = clocked.create("busy")
    key_id = created.record.id
    assert clocked.get(key_id).last_used_at is None
    clocked.verify(created.key)
    assert clocked.get(key_id).last_used_at == T0
    clock.moment = T0 + TOUCH_INTERVAL - timedelta(seconds=1)
    clocked.verify(created.key)
    assert clocked.get(key_id).last_used_at == T0
    clock.moment = T0 + TOUCH_INTERVAL
    clocked.verify(created.key)
    assert clocked.get(key_id).last_used_at == T0 + TOUCH_INTERVAL


def test_failed_verifications_do_not_record_use(store: KeyStore) -> None:
    created = store.create("off")
    store.set_active(created.record.id, False)
    store.verify(created.key)
    assert store.get(created.record.id).last_used_at is None


# -- paging ----------------------------------------------------------------------


def _seed_with_ties(store: KeyStore, count: int) -> None:
    # Groups of three share a created_at, so paging must break ties by id.
    rows = [NewKey(f"key {i}", T0 + timedelta(seconds=i // 3)) for i in range(count)]
    store.insert_many(rows)


def _expected_order(store: KeyStore) -> list[int]:
    return [r.id for r in sorted(store.all(), key=lambda r: (r.created_at, r.id), reverse=True)]


def test_all_lists_newest_first_with_ties_by_higher_id(store: KeyStore) -> None:
    _seed_with_ties(store, 10)
    ids = [r.id for r in store.all()]
    assert ids == _expected_order(store)
    assert ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("size", [1, 3, 4, 10])
def test_keyset_paging_walks_every_key_once_both_ways(store: KeyStore, size: int) -> None:
    _seed_with_ties(store, 31)
    expected = _expected_order(store)
    pages = [store.page(size)]
    assert not pages[0].has_newer
    while pages[-1].has_older:
        pages.append(store.page(size, after=pages[-1].items[-1].cursor))
        assert pages[-1].has_newer
    assert len(pages) >= 3
    forward = [r.id for p in pages for r in p.items]
    assert forward == expected
    assert all(len(p.items) == size for p in pages[:-1])
    # And back again from the last page, page by page, to the same pages.
    back = [pages[-1]]
    while back[-1].has_newer:
        back.append(store.page(size, before=back[-1].items[0].cursor))
    assert [[r.id for r in p.items] for p in reversed(back)][1:] == [[r.id for r in p.items] for p in pages][1:]
    assert [r.id for r in back[-1].items] == expected[: len(back[-1].items)]


def test_page_of_an_empty_store(store: KeyStore) -> None:
    page = store.page(25)
    assert page.items == () and not page.has_newer and not page.has_older


def test_count(store: KeyStore) -> None:
    _seed_with_ties(store, 7)
    assert store.count() == 7


def test_data_version_changes_when_another_connection_writes(db_path: Path, sqlite_store: KeyStore) -> None:
    before = sqlite_store.data_version()
    assert sqlite_store.data_version() == before
    with KeyStore.open(str(db_path), create=True) as other:
        other.create("from elsewhere")
    assert sqlite_store.data_version() != before


def test_verify_sees_changes_made_by_another_process_on_its_kept_connection(database: str, store: KeyStore) -> None:
    created = store.create("watched")
    assert store.verify(created.key) is Verdict.VALID
    with KeyStore.open(database, create=True) as other:
        other.set_active(created.record.id, False)
    assert store.verify(created.key) is Verdict.INACTIVE
    with KeyStore.open(database, create=True) as other:
        other.delete(created.record.id)
    assert store.verify(created.key) is Verdict.UNKNOWN


def test_verify_from_many_threads(store: KeyStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    good = [store.create(f"k{i}").key for i in range(5)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(store.verify, good * 20 + [keys.generate()] * 20))
    assert answers == [Verdict.VALID] * 100 + [Verdict.UNKNOWN] * 20


def test_in_memory_database_works(tmp_path: Path) -> None:
    with KeyStore.open("sqlite://", create=True) as memory:
        created = memory.create("in memory")
        assert memory.verify(created.key) is Verdict.VALID


def test_verify_keeps_a_bounded_number_of_connections(store: KeyStore) -> None:
    """A threaded server starts a thread per request: connections must not pile up with them."""
    import os
    import threading

    created = store.create("threads")
    store.verify(created.key)  # a server's pool holds its connection from the first use on
    fds_before = len(os.listdir("/proc/self/fd"))
    answers: list[Verdict] = []
    for _ in range(60):
        thread = threading.Thread(target=lambda: answers.append(store.verify(created.key)))
        thread.start()
        thread.join()
    assert answers == [Verdict.VALID] * 60
    from desktop.core.db.idle import POOL_SIZE

    database = store.database
    kept = database._idle if database.path is not None else database._readers  # type: ignore[attr-defined]
    assert kept.qsize() <= POOL_SIZE
    assert len(os.listdir("/proc/self/fd")) - fds_before <= 2 * POOL_SIZE


class Ticker:
    """An injectable monotonic clock: tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Holds a write lock (BEGIN IMMEDIATE) in another process until its stdin closes.
LOCK_HOLDER = (
    "import sqlite3, sys\n"
    "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "con.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "sys.stdin.read()\n"
    "con.execute('ROLLBACK')\n"
)


@contextlib.contextmanager
def write_lock_in_another_process(path: Path) -> Iterator[None]:
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline() == "locked\n"
        yield
    finally:
        proc.stdin.close()
        code = proc.wait(timeout=60)
        proc.stdout.close()
    assert code == 0


@contextlib.contextmanager
def write_lock_elsewhere(database: str) -> Iterator[None]:
    """SQLite's write lock, or on a server its analogue: a session holding the table against every writer."""
    if not is_server(database):
        with write_lock_in_another_process(Path(database)):
            yield
        return
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database)
    with psycopg.connect(host=url.query["host"], user=url.username, dbname=url.database) as holder:  # type: ignore[arg-type]
        holder.execute("LOCK TABLE api_keys IN EXCLUSIVE MODE")  # readers pass, writers wait
        yield
        holder.rollback()


@pytest.mark.timeout(120)
def test_a_held_write_lock_costs_one_attempt_to_record_use_per_back_off(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: every verify of a key unused for a minute tried to record its use again, waiting each time
    (on PostgreSQL: for ever, behind the lock)."""
    from desktop.core.store import TOUCH_BACKOFF_S

    ticks = Ticker()
    with KeyStore.open(database, create=True, monotonic=ticks) as store:
        created = [store.create(f"service {i}") for i in range(3)]
        attempts: list[int] = []
        backend = type(store.database)
        real_touch = backend.touch

        def counting(self: Database, key_id: int, now: datetime, stale: datetime, digest: bytes) -> None:
            attempts.append(key_id)
            real_touch(self, key_id, now, stale, digest)

        monkeypatch.setattr(backend, "touch", counting)
        with write_lock_elsewhere(database):
            for _ in range(50):
                assert [store.verify(c.key) for c in created] == [Verdict.VALID] * 3
            assert 1 <= len(attempts) <= len(created)
            ticks.now += TOUCH_BACKOFF_S  # the rest is over; the lock is still held: one more try, no more
            assert [store.verify(c.key) for c in created] == [Verdict.VALID] * 3
            assert len(attempts) <= 2 * len(created)
        assert [store.get(c.record.id).last_used_at for c in created] == [None] * 3
        ticks.now += TOUCH_BACKOFF_S  # lock released, rest over: the uses are recorded after all
        assert [store.verify(c.key) for c in created] == [Verdict.VALID] * 3
        assert all(store.get(c.record.id).last_used_at is not None for c in created)


def test_a_read_only_database_warns_once_about_recording_use(
    database: str, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: one warning per verify of every key unused for a minute, flooding a read-only service's stderr."""
    import logging

    from desktop.core.store import TOUCH_BACKOFF_S

    with KeyStore.open(database, create=True) as store:
        created = [Secret(store.create(f"service {i}").key) for i in range(3)]
    ticks = Ticker()
    url = read_only(database)
    with (
        caplog.at_level(logging.DEBUG, logger="desktop.core.store"),
        KeyStore.open(url, clock, monotonic=ticks) as store,
    ):
        for _ in range(5):
            for key in created:
                assert store.verify(key) is Verdict.VALID
            ticks.now += TOUCH_BACKOFF_S  # so every round tries to record again
            clock.moment += TOUCH_INTERVAL
    records = [r for r in caplog.records if "could not record last use" in r.getMessage()]
    assert [r.levelno for r in records].count(logging.WARNING) == 1
    assert len(records) >= 5  # the later failures are still logged, at debug
    assert all(r.levelno == logging.DEBUG for r in records[1:])


# A service on a read-only database; the keys come on stdin (never in argv, where others could read them).
SERVICE = """
import sys
from desktop.core.store import KeyStore
ticks = [0.0]
def monotonic():
    ticks[0] += 10.0  # past every back-off: each verify may try to record its use
    return ticks[0]
keys = sys.stdin.read().split()
with KeyStore.open(sys.argv[1], monotonic=monotonic) as store:
    answers = {str(store.verify(k)) for _ in range(20) for k in keys}
print(sorted(answers))
"""


def test_a_read_only_service_prints_one_warning(database: str) -> None:
    with KeyStore.open(database, create=True) as store:
        created = [Secret(store.create(f"service {i}").key) for i in range(3)]
    url = read_only(database)
    proc = subprocess.run(
        [sys.executable, "-c", SERVICE, url], capture_output=True, text=True, timeout=120, input="\n".join(created)
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "['valid']"
    assert proc.stderr.count("could not record last use") == 1, proc.stderr[-2000:]
    assert not any(key in proc.stderr for key in created)
