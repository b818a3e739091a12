"""SQLite files through plain sqlite3: the fast paths (no SQLAlchemy imported here; errors and pragmas: sqlite_conn).

Opening, the revision check, keyset pages, verification lookups, recording uses and change detection run on
sqlite3 connections of our own; SQLAlchemy's engine (desktop.core.db.sqlite_engine) is built only when the
store first writes or counts, or a migration is due, so the window can show its first page without it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from desktop.core.db import limits, sqlite_conn, sqlite_take
from desktop.core.db.base import Database, Found, NewRow, ScopedFound
from desktop.core.db.idle import POOL_SIZE, IdleConnections
from desktop.core.db.paths import Identity, current_identity
from desktop.core.db.rows import KEY_COLUMNS, cached_lookup_times, key_record
from desktop.core.db.rows import LOOKED_UP as _LOOKED_UP
from desktop.core.db.sqlite_conn import configure, not_ours_or_damaged, translate, translate_any
from desktop.core.errors import (
    DatabaseLocked,
    DatabaseUnavailable,
    DomainError,
    NotADatabase,
)
from desktop.core.values import Cursor, FileChange, Page, Taken, Verdict

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

log = logging.getLogger(__name__)

#: How long a lookup may wait for a lock. In WAL mode readers never wait for a writer; a database that
#: cannot be switched to WAL (read-only) makes them wait for a committing writer, and a service should
#: rather answer "try again" soon than hold its request for the full busy timeout.
LOOKUP_WAIT_MS = 250
#: Recording a use never waits for another writer: it is bookkeeping, and the store retries it later.
TOUCH_WAIT_MS = 0
#: How many WAL pages the pool's writes (limited verifies, last uses, usage counts) let gather before the COMMIT
#: that crosses the line checkpoints them (SQLite's default: 1,000, about 4 MB). A checkpoint copies each page
#: changed since the last once and syncs the file (a millisecond or more), and a limited verify changes the same
#: few pages again and again: ten times fewer checkpoints cost ten times less a verify, for a WAL of up to about
#: 40 MB while verifies go on (reused from its start after each checkpoint; removed on the last close).
CHECKPOINT_PAGES = 10_000

# SQLAlchemy stores DATETIME on SQLite as "YYYY-MM-DD HH:MM:SS.ffffff" text (naive UTC here); the fast paths
# read and write that text directly.


def sqlite_time_text(value: datetime | None) -> str | None:
    return None if value is None else limits.time_text(value)


_INSERT_COLUMNS = NewRow._fields
#: take_verdict()'s answer for a verify the limits let through (verify() reports nothing more).
_LET_THROUGH = Taken(Verdict.VALID)
_OLDER = "(created_at, id) < (?, ?)"
_NEWER = "(created_at, id) > (?, ?)"


class SqliteDatabase(Database):
    """A SQLite file: a small pool of plain sqlite3 connections, and an anchor connection on the very file."""

    # Two columns: the id, active and limited (0 or 1 each) as one number (ids the app makes are far below 2**61),
    # and the expiry, last use (and for check() the scopes) as one text, parsed once per distinct text; not the
    # digest (the row was found by equality on it: the lookup answers with the digest it was given). Each column
    # costs sqlite3 a tenth of the lookup (its description is built anew on every execute), read on every verify.
    # `<> 0`: another program may store any true value in the flags, and it must not reach the id's bits.
    _LOOKUP = (
        "SELECT id * 4 + (active <> 0) + 2 * (limited <> 0),"
        " coalesce(expires_at, '') || '|' || coalesce(last_used_at, '')"
        " FROM api_keys WHERE digest = ?"
    )
    _INSERT = f"INSERT INTO api_keys ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
    _LOOKUP_SCOPED = (
        "SELECT id * 4 + (active <> 0) + 2 * (limited <> 0),"
        " coalesce(expires_at, '') || '|' || coalesce(last_used_at, '') || '|' || scopes"
        " FROM api_keys WHERE digest = ?"
    )
    _TOUCH = "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)"

    def __init__(
        self, target: str, path: Path, identity: Identity, *, url: URL | None = None, location: str | None = None
    ) -> None:
        super().__init__(target, location or str(path))
        #: The file (the seam's `path`, never None here).
        self.file = path
        self.path = path
        self.identity = identity
        #: The SQLAlchemy URL the target was given as; None for a plain path (SQLAlchemy not needed to open it).
        self.url = url
        self._connect_args = _connect_args(path, url)
        self.read_only = "mode=ro" in self._connect_args[0].partition("?")[2].split("&")
        self._idle: IdleConnections[sqlite3.Connection] = IdleConnections(sqlite3.Connection.close)
        #: The usage flusher's connection, apart from the verify path's: taking one of `_idle` while a verify held the
        #: only other made a second there for good, and verifies then looked a key up on one connection and took its
        #: limits on the other (the queue hands them out in turn), each write making the other connection's page
        #: cache stale: every limited verify read the digest index's pages again.
        self._background: IdleConnections[sqlite3.Connection] = IdleConnections(sqlite3.Connection.close, 1)
        #: A connection opened at once on the examined file (not one a pool opens later, by path, perhaps onto a
        #: file that replaced it): it watches PRAGMA data_version and checkpoints the file before letting go.
        self.anchor: sqlite3.Connection | None = None
        self._anchor_lock = threading.Lock()

    # -- SQLAlchemy, for writes, counts and migrations --

    def _create_engines(self) -> tuple[Engine, Engine]:
        from desktop.core.db.sqlite_engine import file_engines

        return file_engines(self.file, self.url)

    def translate(self, err: BaseException) -> DomainError | None:
        return translate_any(err, self.location)

    # -- plain sqlite3 --

    def connect(self, busy_ms: int = LOOKUP_WAIT_MS) -> sqlite3.Connection:
        """A new connection to the file (never creating one: mode=rw or the URL's own mode)."""
        database, uri = self._connect_args
        conn = sqlite3.connect(database, uri=uri, timeout=busy_ms / 1000, check_same_thread=False)
        configure(conn, busy_ms=busy_ms)
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            # The verify path's connections: lookups, last-use records, a limited key's take, usage counts. In WAL
            # mode NORMAL spares each an fsync without risking the file; a commit survives the process being
            # killed, and a power cut may undo the last ones (docs/service.md, "What it costs"). Key changes go
            # through SQLAlchemy's connections, FULL (sqlite_conn.configure).
            conn.execute("PRAGMA synchronous = NORMAL")
            # Checkpointed less often (SQLAlchemy's connections and other programs' as SQLite does by default). Not
            # in a thread of its own: a PASSIVE checkpoint beside continuous verifies never caught up with the WAL,
            # so it never started again from its beginning and grew without end.
            conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        return conn

    @contextlib.contextmanager
    def _pooled(self, busy_ms: int = LOOKUP_WAIT_MS, *, background: bool = False) -> Iterator[sqlite3.Connection]:
        """A kept connection from a small pool (sqlite3 caches its prepared statements), errors translated;
        `background`: the usage flusher's own.

        One per thread would leak a connection for every short-lived thread of a threaded server.
        """
        pool = self._background if background else self._idle
        try:
            conn = pool.take() or self.connect()
            try:
                if busy_ms != LOOKUP_WAIT_MS:
                    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
                try:
                    yield conn
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    if busy_ms != LOOKUP_WAIT_MS:
                        conn.execute(f"PRAGMA busy_timeout = {LOOKUP_WAIT_MS}")
            finally:
                pool.give(conn, reusable=not conn.in_transaction)
        except sqlite3.Error as err:
            raise translate(err, self.location, waited_s=busy_ms / 1000) from None

    def revision(self, known: Sequence[str]) -> str | None:
        with self._pooled(int(sqlite_conn.BUSY_TIMEOUT_S * 1000)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            tables.discard("sqlite_sequence")
            if "alembic_version" not in tables:
                if tables:
                    raise NotADatabase(
                        f"{self.location} is a database, but not an API Key Manager database. "
                        "Choose another file; it was not changed."
                    )
                return None
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        revision = str(rows[0][0]) if rows else None
        # A revision we wrote promises our table; without it every query would fail with "no such table".
        if revision in known and "api_keys" not in tables:
            raise not_ours_or_damaged(self.location)
        return revision

    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page:
        text = sqlite_time_text
        # A page may wait for a writer as long as any read (rollback-journal files; WAL readers never wait).
        with self._pooled(int(sqlite_conn.BUSY_TIMEOUT_S * 1000)) as conn:
            # fetchall() steps each statement to its end; the transaction keeps the three reads consistent.
            conn.execute("BEGIN")
            if before is not None:
                rows = conn.execute(
                    f"SELECT {KEY_COLUMNS} FROM api_keys WHERE {_NEWER} ORDER BY created_at, id LIMIT ?",
                    (text(before.created_at), before.id, size + 1),
                ).fetchall()
                items = tuple(key_record(r) for r in reversed(rows[:size]))
                edge = items[-1].cursor if items else before
                has_older = self._any(conn, _OLDER, edge)
                conn.execute("COMMIT")
                return Page(items, len(rows) > size, has_older)
            where = f"WHERE {_OLDER}" if after is not None else ""
            parameters: tuple[Any, ...] = (text(after.created_at), after.id) if after is not None else ()
            rows = conn.execute(
                f"SELECT {KEY_COLUMNS} FROM api_keys {where} ORDER BY created_at DESC, id DESC LIMIT ?",
                (*parameters, size + 1),
            ).fetchall()
            items = tuple(key_record(r) for r in rows[:size])
            newest = items[0].cursor if items else after
            has_newer = newest is not None and self._any(conn, _NEWER, newest)
            conn.execute("COMMIT")
        return Page(items, has_newer, len(rows) > size)

    @staticmethod
    def _any(conn: sqlite3.Connection, condition: str, cursor: Cursor) -> bool:
        query = f"SELECT EXISTS (SELECT 1 FROM api_keys WHERE {condition})"
        return bool(conn.execute(query, (sqlite_time_text(cursor.created_at), cursor.id)).fetchone()[0])

    def count(self, newer_than: Cursor | None = None) -> int:
        with self._pooled(int(sqlite_conn.BUSY_TIMEOUT_S * 1000)) as conn:
            if newer_than is None:
                return int(conn.execute("SELECT count(*) FROM api_keys").fetchone()[0])
            query = f"SELECT count(*) FROM api_keys WHERE {_NEWER}"
            return int(conn.execute(query, (sqlite_time_text(newer_than.created_at), newer_than.id)).fetchone()[0])

    def lookup(self, digest: bytes) -> Found | None:
        found = self._lookup(self._LOOKUP, digest)
        return found[0] if found is not None else None

    def lookup_scoped(self, digest: bytes) -> ScopedFound | None:
        # As lookup(), with the scopes: check() pays what verify() pays.
        return self._lookup(self._LOOKUP_SCOPED, digest)

    def _lookup(self, query: str, digest: bytes) -> ScopedFound | None:
        # The hot path. The pool's queue used inline (take() and give() cost a Python call each way, a context
        # manager a fifth of the whole call); fetchone(): sqlite3 steps on past the one row and resets the
        # statement, so no read transaction stays open. The digest bound as a bytearray: sqlite3 binds it as it is,
        # where a bytes parameter is first offered to adapters (an AttributeError raised and cleared: 3,000
        # instructions, a twentieth of a check).
        pool = self._idle
        idle = pool.queue
        try:
            try:
                conn = idle.get_nowait()
            except Empty:
                conn = self.connect()
            try:
                row = conn.execute(query, (bytearray(digest),)).fetchone()
            finally:
                if conn.in_transaction or idle.qsize() >= POOL_SIZE:
                    pool.discard(conn)  # never kept in a transaction, nor beyond the pool's size
                else:
                    idle.put(conn)
        except sqlite3.Error as err:  # translated here: a context manager costs a tenth of this call
            raise translate(err, self.location, waited_s=LOOKUP_WAIT_MS / 1000) from None
        if row is None:
            return None
        flags, times = row
        # cached_lookup_times inline: a text parsed before is looked up without a call. scopes is '' for _LOOKUP.
        expires_at, last_used_at, scopes = _LOOKED_UP.get(times) or cached_lookup_times(times)
        return (flags >> 2, digest, (flags & 1) == 1, expires_at, last_used_at, (flags & 2) == 2), scopes

    def touch(self, key_id: int, now: datetime, stale: datetime, digest: bytes) -> None:
        with self._pooled(TOUCH_WAIT_MS) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(self._TOUCH, (sqlite_time_text(now), key_id, sqlite_time_text(stale)))
            conn.execute("COMMIT")

    def take(self, key_id: int, digest: bytes, cost: int, now: datetime) -> Taken:
        # On the lookup's own pool: the connection that just looked the key up (one caller: the same one) writes,
        # and its page cache stays valid; another connection's write would make it read every page again.
        idle = self._idle
        try:
            conn = idle.take() or self.connect()
            try:
                # The write lock for the whole reading and taking: no other process takes between the two.
                _begin_immediate(conn, limits.WAIT_MS)
                taken = limits.take(lambda q, p: conn.execute(q, p).fetchall(), key_id, cost, now)
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                idle.give(conn, reusable=not conn.in_transaction)
        except sqlite3.Error as err:
            raise translate(err, self.location, waited_s=limits.WAIT_MS / 1000) from None
        return taken

    def take_verdict(self, key_id: int, digest: bytes, cost: int, now: datetime) -> Taken:
        # verify()'s take: one statement when the limits let the verify through (desktop.core.db.sqlite_take), on
        # the lookup's connection as take() is; anything else, the full way.
        idle = self._idle
        try:
            conn = idle.take() or self.connect()
            try:
                if sqlite_take.let_through(conn, _write_once, key_id, cost, now):
                    return _LET_THROUGH
            finally:
                idle.give(conn, reusable=not conn.in_transaction)
        except sqlite3.Error as err:
            raise translate(err, self.location, waited_s=limits.WAIT_MS / 1000) from None
        return self.take(key_id, digest, cost, now)

    def add_usage(self, rows: Sequence[tuple[int, datetime, str, int]]) -> None:
        # In the background (or on closing): it may wait for a writer as long as any change does.
        with self._pooled(int(sqlite_conn.BUSY_TIMEOUT_S * 1000), background=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO key_usage (key_id, hour, verdict, count) SELECT ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?)",
                [(k, sqlite_time_text(h), v, c, k) for k, h, v, c in rows],
            )
            conn.execute("COMMIT")

    def add_history(self, rows: Sequence[tuple[int, datetime, str, int]]) -> None:
        from desktop.core.db.bulk_load import load_usage_sqlite

        if rows:
            with self._pooled(int(sqlite_conn.BUSY_TIMEOUT_S * 1000)) as conn:
                load_usage_sqlite(conn, rows, sqlite_time_text)

    def roll_up_usage(self, low: datetime, high: datetime) -> None:
        from desktop.core.db.base import ROLL_UP_DELETE, ROLL_UP_INSERT, ROLL_UP_MARK

        span = (sqlite_time_text(low), sqlite_time_text(high))
        with self._pooled(int(sqlite_conn.BUSY_TIMEOUT_S * 1000), background=True) as conn:
            conn.execute("BEGIN IMMEDIATE")
            mark = conn.execute(ROLL_UP_MARK).fetchone()[0]
            conn.execute(ROLL_UP_INSERT, (*span, mark))
            conn.execute(ROLL_UP_DELETE, (*span, mark, *span, mark))
            conn.execute("COMMIT")

    def insert_keys(self, conn: Connection, rows: Sequence[NewRow]) -> None:
        text = sqlite_time_text
        from desktop.core.db.bulk_load import insert_keys_sqlite

        insert_keys_sqlite(conn, self._INSERT, [(d, h, s, text(c), text(e), a) for d, h, s, c, e, a in rows])

    def data_version(self) -> int | None:
        with self._anchor_lock:
            anchor = self.anchor
            if anchor is None:
                raise DatabaseUnavailable(f"The database {self.location} is closed.")
            try:
                return int(anchor.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as err:
                raise translate(err, self.location) from None

    def file_state(self) -> FileChange:
        now = current_identity(self.file)
        if now is None:
            return FileChange.MISSING
        return FileChange.UNCHANGED if now == self.identity else FileChange.REPLACED

    # -- closing --

    def release(self) -> None:
        """Let go of a file that another took the place of, leaving nothing of it at the path.

        Its -wal and -shm stay at the path (SQLite does not checkpoint a moved file on close) and would be
        read as the new file's own: first copy the WAL into the old file and empty it. DatabaseLocked when
        another program's reads or writes keep the WAL from being emptied; nothing is let go then.
        """
        with self._anchor_lock:
            if self.anchor is not None:
                try:
                    busy = self.anchor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                except sqlite3.Error as err:
                    raise translate(err, self.location, waited_s=LOOKUP_WAIT_MS / 1000) from None
                if busy:
                    raise DatabaseLocked(
                        f"The database {self.location} was replaced while another program was still using the "
                        "old file; close it, and the new file is opened."
                    )
        self.dispose()

    def dispose(self) -> None:
        with self._anchor_lock:
            anchor, self.anchor = self.anchor, None
        if anchor is not None:
            anchor.close()
        self._idle.close_all()
        self._background.close_all()
        super().dispose()


def _begin_immediate(conn: sqlite3.Connection, wait_ms: int) -> None:
    """BEGIN IMMEDIATE, waiting up to `wait_ms` for another writer: the connection's own busy timeout (a lookup's,
    LOOKUP_WAIT_MS) again and again (switching it with PRAGMA busy_timeout each time cost more than a write)."""
    deadline = time.monotonic() + wait_ms / 1000
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as err:
            if err.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise


def _write_once(conn: sqlite3.Connection, statement: str, parameters: tuple[object, ...]) -> None:
    """One statement in a write transaction of its own, waiting for another writer as _begin_immediate does (a
    statement that met a writer changed nothing, so it is run again); the TEMP objects it needs made on first use.
    The usual case, no writer met, reads no clock."""
    try:
        conn.execute(statement, parameters)
        return
    except sqlite3.OperationalError as err:
        failed = err
    deadline = time.monotonic() + (limits.WAIT_MS - LOOKUP_WAIT_MS) / 1000  # a busy first try waited its timeout
    prepared = False
    while True:
        if not prepared and failed.sqlite_errorcode == sqlite3.SQLITE_ERROR and "no such table" in str(failed):
            sqlite_take.prepare(conn)  # a connection's first flush (once: any other error is raised)
            prepared = True
        elif failed.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
            raise failed
        try:
            conn.execute(statement, parameters)
            return
        except sqlite3.OperationalError as err:
            failed = err


def _connect_args(path: Path, url: URL | None) -> tuple[str, bool]:
    """(database, uri) for sqlite3.connect: a `file:` URI that never creates a missing file.

    SQLite would otherwise create a missing file on connect: a pool opening a connection after the file was
    deleted or moved would make an empty database at the path (with the umask's mode) and pick up the old
    file's -wal. Files are created only by desktop.core.db.sqlite_files.create. A URL that asks for a URI
    itself (`?uri=true`, e.g. `mode=ro`) is passed on as SQLAlchemy's dialect would.
    """
    if url is not None and url.query.get("uri") == "true":
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

        args, _ = SQLiteDialect_pysqlite().create_connect_args(url)
        return str(args[0]), True
    return f"file:{quote(str(path))}?mode=rw", True
