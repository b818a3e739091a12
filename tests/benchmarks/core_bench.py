"""Core rows of the benchmark: verify, seed and count, each against a floor measured in the same run."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from desktop.core.db.sqlite import sqlite_time_text
from desktop.core.store import KeyStore

REPO = Path(__file__).resolve().parents[2]


def median_per_call(fn: Callable[[], object], calls: int, repeats: int) -> float:
    """Median over `repeats` runs of the mean seconds per call."""
    fn()  # warm caches and statement caches first
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def interleaved_per_call(
    ours: Callable[[], object], floor: Callable[[], object], calls: int, repeats: int
) -> tuple[float, float]:
    """Like median_per_call for both, alternating ours and the floor run by run (a busy machine hits both)."""
    ours()
    floor()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, into in ((ours, samples[0]), (floor, samples[1])):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            into.append((time.perf_counter() - start) / calls)
    return statistics.median(samples[0]), statistics.median(samples[1])


def verify_row(database: Path, repeats: int) -> dict[str, float]:
    """One verify through the public API against raw sqlite3 + hashlib doing the same indexed lookup."""
    with KeyStore.open(str(database), create=True) as store:
        created = store.create("benchmark verify")
        key = created.key
        raw = sqlite3.connect(database)
        try:

            def floor() -> object:
                presented = hashlib.sha256(key.encode()).digest()
                return raw.execute(
                    "SELECT id, active, expires_at, last_used_at FROM api_keys WHERE digest = ?", (presented,)
                ).fetchall()

            ours, base = interleaved_per_call(lambda: store.verify(key), floor, 2000, repeats)
        finally:
            raw.close()
        store.delete(created.record.id)
    return {"ours_s": ours, "floor_s": base, "ratio": ours / base}


def limited_verify_row(database: Path, repeats: int, calls: int = 1000) -> dict[str, float]:
    """verify() of a key with a rate limit and credits against verify() of one without (issue 24: ≤ 4×)."""
    from desktop.core.values import Rate

    with KeyStore.open(str(database), create=True) as store:
        plain = store.create("benchmark verify, no limits")
        # A rate no run reaches (a run is well under a second's 100,000 verifies), and credits for every call.
        limited = store.create("benchmark verify, limited", rate=Rate(100_000, 1), credits=10**12)
        store.verify(plain.key)
        store.verify(limited.key)  # both uses recorded: from now on only the limits write
        ours, base = interleaved_per_call(
            lambda: store.verify(limited.key), lambda: store.verify(plain.key), calls, repeats
        )
        store.delete(plain.record.id)
        store.delete(limited.record.id)
    return {"ours_s": ours, "floor_s": base, "ratio": ours / base}


# Takes and releases a write lock (BEGIN IMMEDIATE ... ROLLBACK) on command, as another program would.
LOCK_HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
for line in sys.stdin:
    con.execute("BEGIN IMMEDIATE" if line.strip() == "lock" else "ROLLBACK")
    print("ok", flush=True)
"""


class LockHolder:
    """Another process that holds the database's write lock while told to."""

    def __init__(self, database: Path) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(database)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _say(self, command: str) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        if self._proc.stdout.readline() != "ok\n":
            raise RuntimeError(f"the lock holder did not {command}")

    def lock(self) -> None:
        self._say("lock")

    def unlock(self) -> None:
        self._say("unlock")

    def close(self) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._proc.stdout.close()


def locked_verify_row(database: Path, repeats: int, calls: int = 2000) -> dict[str, float]:
    """verify() while another process holds the write lock, against verify() with no one writing.

    The locked key's last use stays older than a minute (its record cannot be written), so every call is
    one that wants to record it: the case that used to wait 50 ms each time. Batches alternate, locked then
    free, so a busy moment of the machine hits both.
    """
    with KeyStore.open(str(database)) as store:
        wanting = store.create("benchmark verify under a held write lock")
        free = store.create("benchmark verify, no writer")
        store.verify(free.key)  # its use recorded: from now on no write on its path
        with store.database.write_engine.begin() as conn:  # last used an hour ago: due a new record
            conn.exec_driver_sql(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                (sqlite_time_text(datetime.now(UTC) - timedelta(hours=1)), wanting.record.id),
            )
        holder = LockHolder(database)
        try:
            samples: tuple[list[float], list[float]] = ([], [])
            for attempt in range(repeats + 1):  # the first round warms up, untimed
                holder.lock()
                start = time.perf_counter()
                for _ in range(calls):
                    store.verify(wanting.key)
                locked = (time.perf_counter() - start) / calls
                holder.unlock()
                start = time.perf_counter()
                for _ in range(calls):
                    store.verify(free.key)
                unlocked = (time.perf_counter() - start) / calls
                if attempt:
                    samples[0].append(locked)
                    samples[1].append(unlocked)
        finally:
            holder.close()
        for created in (wanting, free):
            store.delete(created.record.id)
    ours, base = statistics.median(samples[0]), statistics.median(samples[1])
    return {"ours_s": ours, "floor_s": base, "ratio": ours / base}


FLOOR_SCHEMA = """
CREATE TABLE api_keys (id INTEGER PRIMARY KEY AUTOINCREMENT, digest BLOB NOT NULL, hint VARCHAR(8) NOT NULL,
  description VARCHAR(256) NOT NULL, created_at DATETIME NOT NULL, expires_at DATETIME,
  active BOOLEAN DEFAULT 1 NOT NULL, last_used_at DATETIME);
CREATE UNIQUE INDEX ix_api_keys_digest ON api_keys (digest);
CREATE INDEX ix_api_keys_created_at_id ON api_keys (created_at, id);
-- migration 0004: the sort indexes and the trigram search index with its triggers
CREATE INDEX ix_api_keys_active_created_at_id ON api_keys (active, created_at, id);
CREATE INDEX ix_api_keys_expires_key ON api_keys (coalesce(expires_at, '9999-12-31 23:59:59.999999'), id DESC);
CREATE INDEX ix_api_keys_active_expires_key
  ON api_keys (active, coalesce(expires_at, '9999-12-31 23:59:59.999999'), id DESC);
CREATE INDEX ix_api_keys_last_used_key ON api_keys (coalesce(last_used_at, '0001-01-01 00:00:00.000000'), id ASC);
CREATE INDEX ix_api_keys_active_last_used_key
  ON api_keys (active, coalesce(last_used_at, '0001-01-01 00:00:00.000000'), id ASC);
CREATE INDEX ix_api_keys_description_key ON api_keys (lower(description), id DESC);
CREATE INDEX ix_api_keys_active_description_key ON api_keys (active, lower(description), id DESC);
CREATE VIRTUAL TABLE api_keys_fts USING fts5(description, content='api_keys', content_rowid='id', tokenize='trigram');
CREATE TRIGGER api_keys_fts_insert AFTER INSERT ON api_keys BEGIN
  INSERT INTO api_keys_fts (rowid, description) VALUES (new.id, new.description); END;
"""


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def seed_floor(path: Path, count: int, batch: int = 10_000) -> float:
    """Keys per second of raw sqlite3 executemany of equally shaped rows (same schema, pragmas, batches)."""
    _fresh(path)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    con.executescript(FLOOR_SCHEMA)
    start = time.perf_counter()
    for first in range(0, count, batch):
        rows = [
            (
                hashlib.sha256(os.urandom(41)).digest(),
                "abcdWXYZ",
                "Billing production key for the web team",
                f"2026-01-01 00:00:{i % 60:02d}.000000",
                None,
                1,
            )
            for i in range(first, min(first + batch, count))
        ]
        con.execute("BEGIN IMMEDIATE")
        con.executemany(
            "INSERT INTO api_keys (digest, hint, description, created_at, expires_at, active) VALUES (?,?,?,?,?,?)",
            rows,
        )
        con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    _fresh(path)
    return count / elapsed


def seed_ours(path: Path, count: int, env: dict[str, str] | None = None) -> float:
    """Keys per second of `apikeys seed` (the whole command, start-up included)."""
    _fresh(path)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "desktop", "seed", "--count", str(count), "--database", str(path)],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    elapsed = time.perf_counter() - start
    _fresh(path)
    return count / elapsed


def seed_row(workdir: Path, count: int, repeats: int) -> dict[str, float]:
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):  # interleaved: a busy moment of the machine hits both
        samples[0].append(seed_ours(workdir / "seed-ours.db", count))
        samples[1].append(seed_floor(workdir / "seed-floor.db", count))
    ours, floor = statistics.median(samples[0]), statistics.median(samples[1])
    return {"ours_keys_per_s": ours, "floor_keys_per_s": floor, "ratio": ours / floor}


def ensure_seeded(database: Path, count: int) -> None:
    """Build the benchmark database with `apikeys seed`, reusing it when it already holds `count` keys."""
    if database.exists():
        with KeyStore.open(str(database), create=True) as store:
            have = store.count()
        if have >= count:
            return
        _fresh(database)
    database.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "desktop", "seed", "--count", str(count), "--database", str(database)],
        check=True,
        cwd=REPO,
    )


def count_row(database: Path, repeats: int) -> dict[str, float]:
    with KeyStore.open(str(database), create=True) as store:
        per_count = median_per_call(store.count, 5, repeats)
    return {"count_s": per_count}


def offset_page_s(database: Path, offset: int, size: int, repeats: int) -> float:
    """The OFFSET query at the same depth, for contrast with keyset paging."""
    con = sqlite3.connect(database)
    try:
        return median_per_call(
            lambda: con.execute(
                "SELECT id, hint, description, created_at, expires_at, active, last_used_at FROM api_keys "
                "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                (size, offset),
            ).fetchall(),
            3,
            repeats,
        )
    finally:
        con.close()


def offset_query_s(database: Path, offset: int, size: int) -> float:
    """One run of the OFFSET query at that depth (after a warm-up on the same connection)."""
    con = sqlite3.connect(database)
    query = (
        "SELECT id, hint, description, created_at, expires_at, active, last_used_at FROM api_keys "
        "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
    )
    try:
        con.execute(query, (size, 0)).fetchall()
        start = time.perf_counter()
        con.execute(query, (size, offset)).fetchall()
        return time.perf_counter() - start
    finally:
        con.close()
