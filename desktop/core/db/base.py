"""The database seam: read()/write() transactions with errors translated, and the operations with a fast path.

One `Database` per open database. The store asks it for connections (`read()`, `write()`) and for the few
operations that a backend may do faster than generic SQLAlchemy Core: the schema revision, a keyset page,
a count, lookup by digest, recording a use, bulk insert, change detection and the file's identity. Nothing here
imports SQLAlchemy: SQLite reads its first page before SQLAlchemy is loaded, and builds its engine on the
first call that needs it (a write, a count, a migration).
"""

from __future__ import annotations

import abc
import contextlib
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from desktop.core.db.paths import Identity
from desktop.core.errors import DomainError
from desktop.core.values import ChangeListener, Cursor, FileChange, Page, Taken

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


#: What verify needs of a key found by its digest: (id, digest, active, expires_at, last_used_at, limited). A
#: plain tuple, not a NamedTuple: building one of those costs a few percent of a whole verify. Every lookup finds
#: the row by equality on the unique digest index (the database compares), so the digest is the one asked for: a
#: backend may hand that back rather than read the column again.
Found = tuple[int, bytes, bool, datetime | None, datetime | None, bool]
#: What check needs: Found and the key's scopes as stored (space-separated, '' for none).
ScopedFound = tuple[Found, str]
#: lookup_taking()'s answer: the key (or None), its scopes (None unless asked for), its limits' Taken (or None).
Looked = tuple[Found | None, str | None, Taken | None]


class NewRow(NamedTuple):
    """One key for bulk insertion, its secret already reduced to digest and hint."""

    digest: bytes
    hint: str
    description: str
    created_at: datetime
    expires_at: datetime | None
    active: bool


#: Rolling up usage rows in a write transaction that keeps every other writer out (SQLite): the rows up to a
#: watermark id are summed into new rows (ids above it), then deleted.
ROLL_UP_MARK = "SELECT coalesce(max(id), 0) FROM key_usage"
#: Only the keys, hours and verdicts with more than one row are rewritten: a row already alone (a seed's history,
#: an hour rolled up before) is left as it is, so a roll-up writes what the flushes since appended, not every row of
#: its hours (at a million keys that was 600,000 rows rewritten, and the write lock held for a minute).
_DUPLICATED = (
    "SELECT key_id, hour, verdict FROM key_usage WHERE hour >= ? AND hour < ? AND id <= ? "
    "GROUP BY key_id, hour, verdict HAVING count(*) > 1"
)
ROLL_UP_INSERT = (
    "INSERT INTO key_usage (key_id, hour, verdict, count) SELECT key_id, hour, verdict, sum(count) FROM key_usage "
    "WHERE hour >= ? AND hour < ? AND id <= ? GROUP BY key_id, hour, verdict HAVING count(*) > 1"
)
#: Parameters: the span and the mark twice.
ROLL_UP_DELETE = (
    f"DELETE FROM key_usage WHERE hour >= ? AND hour < ? AND id <= ? AND (key_id, hour, verdict) IN ({_DUPLICATED})"
)

#: The channel on which PostgreSQL's trigger announces a committed change to the keys (constant payload).
CHANGES_CHANNEL = "apikeys_changes"


class Database(abc.ABC):
    """An open database, migrated to the current schema. Thread-safe: connections come from pools."""

    def __init__(self, target: str, location: str) -> None:
        #: What `open_database` was given (a path or URL): reopening the same database passes it again.
        self.target = target
        #: Where the data lives, for people: a file path, or the URL without its password.
        self.location = location
        #: One line to say once on opening (a server connection whose TLS is not verified); None for none.
        self.warning: str | None = None
        self._engines: tuple[Engine, Engine] | None = None
        self._engines_lock = threading.Lock()

    @property
    def reopen_target(self) -> str | None:
        """What to offer for opening this database again later (Open Recent); None when that would mean
        keeping a password (a URL carrying one: people with `.pgpass` or a service file have none in it)."""
        return self.location if self.path is not None else self.target

    # -- SQLAlchemy, built on first use --

    @abc.abstractmethod
    def _create_engines(self) -> tuple[Engine, Engine]:
        """(engine, write_engine): one pool; write_engine's transactions take the write lock at BEGIN."""

    @abc.abstractmethod
    def translate(self, err: BaseException) -> DomainError | None:
        """A driver or SQLAlchemy error as a message a person can act on; None for anything else."""

    def _built(self) -> tuple[Engine, Engine]:
        engines = self._engines
        if engines is None:
            with self._engines_lock:
                if self._engines is None:
                    self._engines = self._create_engines()
                engines = self._engines
        return engines

    @property
    def engine(self) -> Engine:
        return self._built()[0]

    @property
    def write_engine(self) -> Engine:
        return self._built()[1]

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """Database errors raised inside become DomainErrors; everything else passes unchanged."""
        try:
            yield
        except DomainError:
            raise
        except Exception as err:
            mapped = self.translate(err)
            if mapped is None:
                raise
            raise mapped from None

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; errors translated."""
        with self.translated(), self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without an exception; errors translated."""
        with self.translated(), self.write_engine.begin() as conn:
            yield conn

    # -- the operations with a fast path --

    @abc.abstractmethod
    def revision(self, known: Sequence[str]) -> str | None:
        """The schema's revision, None for an empty database; NotADatabase when it holds another's tables.

        `known`: the revisions this program wrote, each of which promises the api_keys table.
        """

    @abc.abstractmethod
    def page(self, size: int, *, after: Cursor | None = None, before: Cursor | None = None) -> Page:
        """One keyset page newest first: the first, the one after `after`, or the one before `before`."""

    @abc.abstractmethod
    def count(self, newer_than: Cursor | None = None) -> int:
        """How many keys there are; with `newer_than`, how many sort before it (its offset)."""

    @abc.abstractmethod
    def lookup(self, digest: bytes) -> Found | None:
        """The key with this digest, read without waiting long for a lock."""

    #: Whether lookup_taking() applies a limited key's limits in the lookup's own round trip (KeyStore.verify then
    #: calls it instead of lookup() and take()).
    takes_on_lookup = False

    def lookup_taking(self, digest: bytes, required: tuple[str, ...] | None, cost: int, now: datetime) -> Looked:
        """lookup() (lookup_scoped() when `required` is not None) and, for a limited key it reads as active, not
        expired at `now` and holding every scope in `required`, its limits applied as take() would: (found, its
        scopes or None, the Taken or None when none was taken). Here nothing is taken: the store calls take()."""
        if required is None:
            return self.lookup(digest), None, None
        scoped = self.lookup_scoped(digest)
        return (None, None, None) if scoped is None else (scoped[0], scoped[1], None)

    def lookup_scoped(self, digest: bytes) -> ScopedFound | None:
        """lookup() with the key's scopes, in the same one query (KeyStore.check). Backends with a fast
        lookup override it the same way."""
        from desktop.core.db import statements as sql

        with self.read() as conn:
            row = conn.execute(sql.LOOKUP_SCOPED, {"digest": digest}).first()
        return None if row is None else ((row[0], row[1], bool(row[2]), row[3], row[4], bool(row[6])), row[5])

    @abc.abstractmethod
    def touch(self, key_id: int, now: datetime, stale: datetime, digest: bytes) -> None:
        """Record a use of the key `key_id` (whose digest is `digest`) unless one newer than `stale` is recorded;
        DatabaseLocked rather than wait for a writer."""

    def take(self, key_id: int, digest: bytes, cost: int, now: datetime) -> Taken:
        """Apply the limits of the key `key_id` (whose digest is `digest`) to one verify that is otherwise valid,
        exactly across processes: its verdict (valid, rate_limited, usage_exceeded) and what is left. Waits for
        another writer at most a short while, then raises DatabaseLocked (fails closed)."""
        from desktop.core.db import limits

        with self.write() as conn:
            return limits.take(lambda q, p: conn.exec_driver_sql(q, p).fetchall(), key_id, cost, now)

    def take_verdict(self, key_id: int, digest: bytes, cost: int, now: datetime) -> Taken:
        """take() for verify(), which reports only the verdict: a backend may leave out what is left (`remaining`,
        `ratelimit`) when the verify is let through (SQLite: one statement, desktop.core.db.sqlite_take)."""
        return self.take(key_id, digest, cost, now)

    def add_usage(self, rows: Sequence[tuple[int, datetime, str, int]]) -> None:
        """Append usage counts: (key id, hour, verdict, count) each; a key deleted meanwhile is left out."""
        from sqlalchemy import insert, select

        from desktop.core.models import ApiKey, KeyUsage

        with self.write() as conn:
            ids = [r[0] for r in rows]
            alive = {k for (k,) in conn.execute(select(ApiKey.id).where(ApiKey.id.in_(ids)))}
            values = [{"key_id": k, "hour": h, "verdict": v, "count": c} for k, h, v, c in rows if k in alive]
            if values:
                conn.execute(insert(KeyUsage), values)

    def add_history(self, rows: Sequence[tuple[int, datetime, str, int]]) -> None:
        """Counts of past hours written at once (`apikeys seed --usage`), a key deleted meanwhile left out: as
        add_usage() here; SQLite and PostgreSQL load in bulk (desktop/core/db/bulk_load.py)."""
        self.add_usage(rows)

    def roll_up_usage(self, low: datetime, high: datetime) -> None:
        """Make the usage rows of the hours [low, high) one per key, hour and verdict (their sums unchanged)."""
        from desktop.core.db.limits import time_text

        span = (time_text(low), time_text(high))
        with self.write() as conn:
            mark = conn.exec_driver_sql(ROLL_UP_MARK).scalar()
            conn.exec_driver_sql(ROLL_UP_INSERT, (*span, mark))
            conn.exec_driver_sql(ROLL_UP_DELETE, (*span, mark, *span, mark))

    def roll_up_tail(self) -> int:
        """Move the counts the SQL verify appended to `key_usage_tail` (migration 0013) into `key_usage`, whose
        triggers bring the roll-ups up to date; how many verifies were moved. Only PostgreSQL's SQL verify appends
        there: elsewhere the tail stays empty and this does nothing."""
        return 0

    @abc.abstractmethod
    def insert_keys(self, conn: Connection, rows: Sequence[NewRow]) -> None:
        """Insert many keys in the caller's write transaction."""

    def data_version(self) -> int | None:
        """A number that changes when another connection or process commits; None when unknown."""
        return None

    def listen(self) -> ChangeListener | None:
        """A new listener for changes committed by anyone (blocking: call it off the GUI thread).

        None when the backend has no notifications (SQLite: watch data_version() instead). Raises
        ServerUnreachable when the server cannot be reached.
        """
        return None

    def lock_schema(self, conn: Connection) -> None:
        """Inside the migration's write transaction, before the revision is read again: keep other
        processes opening the same empty database from migrating at the same moment (SQLite's write
        lock already does)."""
        return None

    #: The database file, and its identity when it was checked just before opening; None when not a file.
    path: Path | None = None
    identity: Identity | None = None

    def file_state(self) -> FileChange:
        """Whether the file at `path` is still the one opened (OSError when it cannot be looked at)."""
        return FileChange.UNCHANGED

    # -- closing --

    def release(self) -> None:
        """Let go of a file another took the place of, leaving nothing of it at the path; then dispose()."""
        self.dispose()

    def dispose(self) -> None:
        with self._engines_lock:
            engines, self._engines = self._engines, None
        if engines is not None:
            engines[0].dispose()
